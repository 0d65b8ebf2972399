#pragma once
// The restricted unpickler behind pickle.h (not installed): a pickle VM that knows only the
// few globals a state_dict needs (OrderedDict, torch's tensor rebuilders, storage classes)
// and refuses everything else, with limits that keep a hostile file from exhausting
// memory or the C++ stack.
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "edgessd/common/error.h"
#include "edgessd/model/pickle.h"

namespace edgessd::pickle {

// Limits that keep a hostile file from exhausting memory or the C++ stack.
constexpr int kMaxDepth = 64;
constexpr size_t kMaxValues = 4u << 20;
constexpr size_t kMaxDims = 16;

enum class Global { OrderedDict, RebuildTensorV2, RebuildTensor, RebuildParameter,
                    RebuildParameterWithState, Storage };

struct Value;
using ValuePtr = std::shared_ptr<Value>;

struct Value {
  enum class Kind { None, Bool, Int, BigInt, Float, String, Tuple, List, Dict, Global, Storage, Tensor };
  Kind kind = Kind::None;
  int64_t i = 0;
  double f = 0;
  std::string s;                 // String; BigInt as little-endian two's complement bytes
  std::vector<ValuePtr> items;   // Tuple, List; Dict as key, value, key, value...
  Global global = Global::OrderedDict;
  StorageType storage_type = StorageType::Float;
  TensorRecord tensor;           // Storage: key/type/numel; Tensor: the whole view
  int depth = 0;
  // A container put inside another is frozen: later mutation is refused, which rules out
  // reference cycles and keeps `depth` exact.
  bool frozen = false;
};

const char* kind_name(Value::Kind k);

class Unpickler {
 public:
  Unpickler(const uint8_t* data, size_t size, size_t pos, std::string what)
      : data_(data), size_(size), pos_(pos), what_(std::move(what)) {}

  // Runs one pickle up to its STOP opcode and returns the result.
  ValuePtr run();
  size_t position() const { return pos_; }

 private:
  [[noreturn]] void fail(const std::string& message) const {
    throw Error(what_ + ": " + message + " (pickle offset " + std::to_string(op_pos_) + ")");
  }
  void need(size_t n) {
    if (n > size_ - pos_) fail("truncated pickle");
  }
  uint8_t u8() { need(1); return data_[pos_++]; }
  uint64_t le(size_t n) {
    need(n);
    uint64_t v = 0;
    for (size_t k = 0; k < n; ++k) v |= static_cast<uint64_t>(data_[pos_ + k]) << (8 * k);
    pos_ += n;
    return v;
  }
  std::string bytes(uint64_t n) {
    if (n > size_ - pos_) fail("truncated pickle");
    std::string s(reinterpret_cast<const char*>(data_ + pos_), n);
    pos_ += n;
    return s;
  }
  std::string line() {
    const size_t start = pos_;
    while (pos_ < size_ && data_[pos_] != '\n') ++pos_;
    if (pos_ >= size_) fail("truncated pickle");
    std::string s(reinterpret_cast<const char*>(data_ + start), pos_ - start);
    ++pos_;
    return s;
  }

  ValuePtr make(Value::Kind kind) {
    if (++values_ > kMaxValues) fail("too many objects");
    auto v = std::make_shared<Value>();
    v->kind = kind;
    return v;
  }
  ValuePtr make_int(int64_t i) { auto v = make(Value::Kind::Int); v->i = i; return v; }
  void push(ValuePtr v) { stack_.push_back(std::move(v)); }
  ValuePtr pop() {
    if (stack_.size() <= floor()) fail("stack underflow");
    ValuePtr v = std::move(stack_.back());
    stack_.pop_back();
    return v;
  }
  ValuePtr& top() {
    if (stack_.size() <= floor()) fail("stack underflow");
    return stack_.back();
  }
  size_t floor() const { return marks_.empty() ? 0 : marks_.back(); }
  std::vector<ValuePtr> pop_to_mark() {
    if (marks_.empty()) fail("no MARK on the stack");
    const size_t mark = marks_.back();
    marks_.pop_back();
    std::vector<ValuePtr> items(std::make_move_iterator(stack_.begin() + mark),
                                std::make_move_iterator(stack_.end()));
    stack_.resize(mark);
    return items;
  }
  ValuePtr memo_get(uint64_t index) {
    auto it = memo_.find(index);
    if (it == memo_.end()) fail("reference to unknown memo entry " + std::to_string(index));
    return it->second;
  }
  void adopt(Value& parent, const ValuePtr& child) {
    if (child.get() == &parent) fail("object contains itself");
    child->frozen = true;
    parent.depth = std::max(parent.depth, child->depth + 1);
    if (parent.depth > kMaxDepth) fail("objects nested too deeply");
  }
  ValuePtr make_tuple(std::vector<ValuePtr> items) {
    auto t = make(Value::Kind::Tuple);
    for (const ValuePtr& item : items) adopt(*t, item);
    t->items = std::move(items);
    return t;
  }
  Value& mutable_container(Value::Kind kind, const char* op) {
    Value& target = *top();
    if (target.kind != kind) fail(std::string(op) + " on a " + kind_name(target.kind));
    if (target.frozen) fail(std::string(op) + " on an object already inside another");
    return target;
  }
  void set_items(std::vector<ValuePtr> items, Value& dict) {
    if (items.size() % 2 != 0) fail("SETITEMS with an odd number of items");
    for (const ValuePtr& item : items) adopt(dict, item);
    for (ValuePtr& item : items) dict.items.push_back(std::move(item));
  }

  // run()'s opcodes by kind; each returns false for an opcode not its own.
  bool framing_op(uint8_t op);
  bool scalar_op(uint8_t op);
  bool container_op(uint8_t op);
  bool memo_op(uint8_t op);
  bool object_op(uint8_t op);
  ValuePtr global(const std::string& module, const std::string& name);
  ValuePtr persistent_load(const ValuePtr& pid);
  ValuePtr reduce(const ValuePtr& callable, const ValuePtr& args);
  ValuePtr rebuild_tensor(const std::vector<ValuePtr>& args);

  const uint8_t* data_;
  size_t size_;
  size_t pos_;
  size_t op_pos_ = 0;
  std::string what_;
  std::vector<ValuePtr> stack_;
  std::vector<size_t> marks_;
  std::unordered_map<uint64_t, ValuePtr> memo_;
  std::unordered_map<std::string, ValuePtr> storages_;
  size_t values_ = 0;
};

}  // namespace edgessd::pickle
