#include "edgessd/model/pickle.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <limits>
#include <memory>
#include <unordered_map>

#include "edgessd/common/error.h"

namespace edgessd {

size_t element_size(StorageType type) {
  switch (type) {
    case StorageType::Double: case StorageType::Long: return 8;
    case StorageType::Float: case StorageType::Int: return 4;
    case StorageType::Half: case StorageType::BFloat16: case StorageType::Short: return 2;
    case StorageType::Char: case StorageType::Byte: case StorageType::Bool: return 1;
  }
  return 1;
}

namespace {

struct StorageName {
  const char* name;
  StorageType type;
};
constexpr StorageName kStorageNames[] = {
    {"FloatStorage", StorageType::Float},       {"DoubleStorage", StorageType::Double},
    {"HalfStorage", StorageType::Half},         {"BFloat16Storage", StorageType::BFloat16},
    {"LongStorage", StorageType::Long},         {"IntStorage", StorageType::Int},
    {"ShortStorage", StorageType::Short},       {"CharStorage", StorageType::Char},
    {"ByteStorage", StorageType::Byte},         {"BoolStorage", StorageType::Bool},
};

}  // namespace

const char* storage_class_name(StorageType type) {
  for (const StorageName& s : kStorageNames)
    if (s.type == type) return s.name;
  return "FloatStorage";
}

namespace {

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

const char* kind_name(Value::Kind k) {
  switch (k) {
    case Value::Kind::None: return "None";
    case Value::Kind::Bool: return "bool";
    case Value::Kind::Int: case Value::Kind::BigInt: return "int";
    case Value::Kind::Float: return "float";
    case Value::Kind::String: return "str";
    case Value::Kind::Tuple: return "tuple";
    case Value::Kind::List: return "list";
    case Value::Kind::Dict: return "dict";
    case Value::Kind::Global: return "class";
    case Value::Kind::Storage: return "storage";
    case Value::Kind::Tensor: return "tensor";
  }
  return "?";
}

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

ValuePtr Unpickler::global(const std::string& module, const std::string& name) {
  auto g = make(Value::Kind::Global);
  if (module == "collections" && name == "OrderedDict") {
    g->global = Global::OrderedDict;
  } else if (module == "torch._utils" && name == "_rebuild_tensor_v2") {
    g->global = Global::RebuildTensorV2;
  } else if (module == "torch._utils" && name == "_rebuild_tensor") {
    g->global = Global::RebuildTensor;
  } else if (module == "torch._utils" && name == "_rebuild_parameter") {
    g->global = Global::RebuildParameter;
  } else if (module == "torch._utils" && name == "_rebuild_parameter_with_state") {
    g->global = Global::RebuildParameterWithState;
  } else {
    bool found = false;
    if (module == "torch") {
      for (const StorageName& s : kStorageNames) {
        if (name == s.name) { g->global = Global::Storage; g->storage_type = s.type; found = true; }
      }
    }
    if (!found) {
      std::string hint;
      if (module.rfind("torch.nn", 0) == 0 || module.rfind("vision", 0) == 0 || module == "__main__")
        hint = "; the file holds a pickled Python object, not a state_dict (save net.state_dict())";
      fail("refused pickle global " + module + "." + name + hint);
    }
  }
  return g;
}

ValuePtr Unpickler::persistent_load(const ValuePtr& pid) {
  // ('storage', <StorageClass>, key, location, numel) and, in legacy files, a sixth
  // element for storage views, which state_dicts do not use.
  if (pid->kind != Value::Kind::Tuple || (pid->items.size() != 5 && pid->items.size() != 6))
    fail("persistent id is not a storage tuple");
  const auto& it = pid->items;
  if (it[0]->kind != Value::Kind::String || it[0]->s != "storage") fail("persistent id is not a storage");
  if (it[1]->kind != Value::Kind::Global || it[1]->global != Global::Storage)
    fail("persistent id names no storage type");
  if (it[2]->kind != Value::Kind::String) fail("storage key is not a string");
  if (it[3]->kind != Value::Kind::String) fail("storage location is not a string");
  if (it[4]->kind != Value::Kind::Int || it[4]->i < 0) fail("storage size is not a count");
  if (it.size() == 6 && it[5]->kind != Value::Kind::None) fail("storage views are not supported");
  const std::string& key = it[2]->s;
  if (key.empty() || key.size() > 64) fail("bad storage key");
  for (char c : key)
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '-') fail("bad storage key");
  const StorageType type = it[1]->storage_type;
  const int64_t numel = it[4]->i;
  if (static_cast<uint64_t>(numel) > (std::numeric_limits<uint64_t>::max() >> 4))
    fail("storage too large");
  auto existing = storages_.find(key);
  if (existing != storages_.end()) {
    if (existing->second->tensor.type != type || existing->second->tensor.storage_numel != numel)
      fail("storage " + key + " described twice with different types or sizes");
    return existing->second;
  }
  auto storage = make(Value::Kind::Storage);
  storage->tensor.type = type;
  storage->tensor.storage_key = key;
  storage->tensor.storage_numel = numel;
  storages_[key] = storage;
  return storage;
}

ValuePtr Unpickler::rebuild_tensor(const std::vector<ValuePtr>& args) {
  const Value& storage = *args[0];
  if (storage.kind != Value::Kind::Storage) fail("tensor without a storage");
  if (args[1]->kind != Value::Kind::Int) fail("tensor offset is not an int");
  if (args[2]->kind != Value::Kind::Tuple || args[3]->kind != Value::Kind::Tuple)
    fail("tensor size or stride is not a tuple");
  const auto& sizes = args[2]->items;
  const auto& strides = args[3]->items;
  if (sizes.size() != strides.size() || sizes.size() > kMaxDims) fail("bad tensor shape");
  auto t = make(Value::Kind::Tensor);
  t->tensor = storage.tensor;
  t->tensor.offset = args[1]->i;
  if (t->tensor.offset < 0) fail("negative tensor offset");
  // The last element a view touches must lie inside its storage; checked with
  // overflow-safe arithmetic since every number here comes from the file.
  uint64_t last = static_cast<uint64_t>(t->tensor.offset);
  bool empty = false;
  for (size_t d = 0; d < sizes.size(); ++d) {
    if (sizes[d]->kind != Value::Kind::Int || strides[d]->kind != Value::Kind::Int)
      fail("tensor size or stride is not an int");
    const int64_t size = sizes[d]->i, stride = strides[d]->i;
    if (size < 0 || stride < 0 || size > (int64_t{1} << 40) || stride > (int64_t{1} << 40))
      fail("bad tensor size or stride");
    if (size == 0) empty = true;
    else last += static_cast<uint64_t>(size - 1) * static_cast<uint64_t>(stride);
    if (last > (uint64_t{1} << 62)) fail("tensor view too large");
    t->tensor.sizes.push_back(size);
    t->tensor.strides.push_back(stride);
  }
  if (!empty && last >= static_cast<uint64_t>(storage.tensor.storage_numel))
    fail("tensor view reaches past the end of storage " + storage.tensor.storage_key);
  return t;
}

ValuePtr Unpickler::reduce(const ValuePtr& callable, const ValuePtr& args) {
  if (callable->kind != Value::Kind::Global) fail("REDUCE on a " + std::string(kind_name(callable->kind)));
  if (args->kind != Value::Kind::Tuple) fail("REDUCE arguments are not a tuple");
  const auto& a = args->items;
  switch (callable->global) {
    case Global::OrderedDict:
      if (!a.empty()) fail("OrderedDict with constructor arguments");
      return make(Value::Kind::Dict);
    case Global::RebuildTensorV2:
      if (a.size() != 6 && a.size() != 7) fail("_rebuild_tensor_v2 with wrong arguments");
      return rebuild_tensor(a);
    case Global::RebuildTensor:
      if (a.size() != 4) fail("_rebuild_tensor with wrong arguments");
      return rebuild_tensor(a);
    case Global::RebuildParameter:
    case Global::RebuildParameterWithState:
      if (a.size() < 3 || a.size() > 4 || a[0]->kind != Value::Kind::Tensor)
        fail("_rebuild_parameter with wrong arguments");
      return a[0];
    case Global::Storage:
      break;
  }
  fail("storage classes cannot be called");
}

ValuePtr Unpickler::run() {
  while (true) {
    op_pos_ = pos_;
    const uint8_t op = u8();
    switch (op) {
      case 0x80: {  // PROTO
        const uint8_t proto = u8();
        if (proto > 5) fail("unsupported pickle protocol " + std::to_string(proto));
        break;
      }
      case 0x95: le(8); break;                                   // FRAME
      case '(': marks_.push_back(stack_.size()); break;         // MARK
      case '.': {                                                // STOP
        if (!marks_.empty()) fail("STOP inside a MARK");
        ValuePtr result = pop();
        if (!stack_.empty()) fail("STOP with objects left on the stack");
        return result;
      }
      case 'N': push(make(Value::Kind::None)); break;
      case 0x88: case 0x89: { auto v = make(Value::Kind::Bool); v->i = op == 0x88; push(v); break; }
      case 'K': push(make_int(u8())); break;                                      // BININT1
      case 'M': push(make_int(static_cast<int64_t>(le(2)))); break;               // BININT2
      case 'J': push(make_int(static_cast<int32_t>(static_cast<uint32_t>(le(4))))); break;
      case 0x8a: case 0x8b: {                                                     // LONG1, LONG4
        const uint64_t n = op == 0x8a ? u8() : le(4);
        if (n <= 8) {
          uint64_t v = le(n);
          if (n > 0 && n < 8 && (v >> (8 * n - 1)) & 1) v |= ~uint64_t{0} << (8 * n);  // sign
          push(make_int(static_cast<int64_t>(v)));
        } else {
          if (n > 64) fail("integer too long");
          auto v = make(Value::Kind::BigInt);
          v->s = bytes(n);
          push(v);
        }
        break;
      }
      case 'G': {  // BINFLOAT, big-endian
        need(8);
        uint64_t bits = 0;
        for (int k = 0; k < 8; ++k) bits = (bits << 8) | data_[pos_ + k];
        pos_ += 8;
        auto v = make(Value::Kind::Float);
        std::memcpy(&v->f, &bits, 8);
        push(v);
        break;
      }
      case 'X': case 0x8c: case 0x8d: case 'U': case 'T': {  // unicode and byte strings
        uint64_t n;
        if (op == 'X') n = le(4);
        else if (op == 0x8d) n = le(8);
        else if (op == 'T') n = static_cast<uint32_t>(le(4));
        else n = u8();
        auto v = make(Value::Kind::String);
        v->s = bytes(n);
        push(v);
        break;
      }
      case ')': push(make_tuple({})); break;
      case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
        const size_t n = op - 0x84;
        if (stack_.size() < floor() + n) fail("stack underflow");
        std::vector<ValuePtr> items(stack_.end() - n, stack_.end());
        stack_.resize(stack_.size() - n);
        push(make_tuple(std::move(items)));
        break;
      }
      case 't': push(make_tuple(pop_to_mark())); break;
      case ']': push(make(Value::Kind::List)); break;
      case '}': push(make(Value::Kind::Dict)); break;
      case 'a': {  // APPEND
        ValuePtr item = pop();
        Value& list = mutable_container(Value::Kind::List, "APPEND");
        adopt(list, item);
        list.items.push_back(std::move(item));
        break;
      }
      case 'e': {  // APPENDS
        std::vector<ValuePtr> items = pop_to_mark();
        Value& list = mutable_container(Value::Kind::List, "APPENDS");
        for (const ValuePtr& item : items) adopt(list, item);
        for (ValuePtr& item : items) list.items.push_back(std::move(item));
        break;
      }
      case 's': {  // SETITEM
        ValuePtr value = pop();
        ValuePtr key = pop();
        set_items({std::move(key), std::move(value)}, mutable_container(Value::Kind::Dict, "SETITEM"));
        break;
      }
      case 'u': {  // SETITEMS
        std::vector<ValuePtr> items = pop_to_mark();
        set_items(std::move(items), mutable_container(Value::Kind::Dict, "SETITEMS"));
        break;
      }
      case 'q': memo_[u8()] = top(); break;                    // BINPUT
      case 'r': memo_[le(4)] = top(); break;                   // LONG_BINPUT
      case 0x94: memo_[memo_.size()] = top(); break;           // MEMOIZE
      case 'h': push(memo_get(u8())); break;                   // BINGET
      case 'j': push(memo_get(le(4))); break;                  // LONG_BINGET
      case 'c': {                                              // GLOBAL
        std::string module = line();
        std::string name = line();
        push(global(module, name));
        break;
      }
      case 0x93: {                                             // STACK_GLOBAL
        ValuePtr name = pop();
        ValuePtr module = pop();
        if (name->kind != Value::Kind::String || module->kind != Value::Kind::String)
          fail("STACK_GLOBAL without strings");
        push(global(module->s, name->s));
        break;
      }
      case 'Q': push(persistent_load(pop())); break;           // BINPERSID
      case 'R': {                                              // REDUCE
        ValuePtr args = pop();
        ValuePtr callable = pop();
        push(reduce(callable, args));
        break;
      }
      case 'b': {                                              // BUILD
        ValuePtr state = pop();
        // An OrderedDict's instance state (state_dict()._metadata) carries only module
        // versions, which loading does not need.
        if (top()->kind != Value::Kind::Dict) fail("BUILD on a " + std::string(kind_name(top()->kind)));
        break;
      }
      default: {
        char hex[8];
        std::snprintf(hex, sizeof hex, "0x%02x", op);
        fail(std::string("unsupported pickle opcode ") + hex);
      }
    }
  }
}

StateDictPickle to_state_dict(const ValuePtr& root, const std::string& what) {
  if (root->kind != Value::Kind::Dict)
    throw Error(what + ": not a state_dict (the pickle holds a " + kind_name(root->kind) + ")");
  StateDictPickle result;
  std::unordered_map<std::string, size_t> seen;
  for (size_t k = 0; k + 1 < root->items.size(); k += 2) {
    const Value& key = *root->items[k];
    const Value& value = *root->items[k + 1];
    if (key.kind != Value::Kind::String)
      throw Error(what + ": not a state_dict (a key is a " + kind_name(key.kind) + ")");
    if (value.kind != Value::Kind::Tensor) {
      std::string hint = value.kind == Value::Kind::Dict
                             ? "; a training checkpoint? pass the file of net.state_dict()" : "";
      throw Error(what + ": not a state_dict (entry '" + key.s + "' is a " + kind_name(value.kind) + ")" + hint);
    }
    if (!seen.emplace(key.s, k).second) throw Error(what + ": duplicate state_dict key '" + key.s + "'");
    TensorRecord record = value.tensor;
    record.name = key.s;
    result.tensors.push_back(std::move(record));
  }
  return result;
}

}  // namespace

StateDictPickle parse_state_dict_pickle(const uint8_t* data, size_t size, const std::string& what) {
  Unpickler unpickler(data, size, 0, what);
  return to_state_dict(unpickler.run(), what);
}

bool looks_like_legacy_checkpoint(const uint8_t* data, size_t size) {
  // A pickle (PROTO 2) whose first object is the magic number 0x1950a86a20f9469cfc6c.
  static const uint8_t kStart[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                   0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
  return size >= sizeof kStart && std::memcmp(data, kStart, sizeof kStart) == 0;
}

LegacyCheckpoint parse_legacy_checkpoint(const uint8_t* data, size_t size, const std::string& what) {
  if (!looks_like_legacy_checkpoint(data, size)) throw Error(what + ": not a PyTorch checkpoint");
  size_t pos = 0;
  auto next = [&]() {
    Unpickler unpickler(data, size, pos, what);
    ValuePtr v = unpickler.run();
    pos = unpickler.position();
    return v;
  };
  next();  // the magic number, checked above
  ValuePtr protocol = next();
  if (protocol->kind != Value::Kind::Int || protocol->i != 1001)
    throw Error(what + ": unsupported legacy checkpoint protocol");
  ValuePtr sys_info = next();
  if (sys_info->kind != Value::Kind::Dict) throw Error(what + ": bad legacy checkpoint header");
  for (size_t k = 0; k + 1 < sys_info->items.size(); k += 2) {
    const Value& key = *sys_info->items[k];
    const Value& value = *sys_info->items[k + 1];
    if (key.kind == Value::Kind::String && key.s == "little_endian" &&
        value.kind == Value::Kind::Bool && value.i == 0)
      throw Error(what + ": big-endian checkpoints are not supported");
  }
  LegacyCheckpoint result;
  result.pickle = to_state_dict(next(), what);
  ValuePtr keys = next();
  if (keys->kind != Value::Kind::List) throw Error(what + ": bad legacy storage list");
  std::unordered_map<std::string, std::pair<StorageType, int64_t>> expected;
  for (const TensorRecord& t : result.pickle.tensors)
    expected[t.storage_key] = {t.type, t.storage_numel};
  for (const ValuePtr& key : keys->items) {
    if (key->kind != Value::Kind::String) throw Error(what + ": bad legacy storage list");
    auto it = expected.find(key->s);
    if (size - pos < 8) throw Error(what + ": truncated (storage " + key->s + ")");
    uint64_t numel = 0;
    for (int k = 0; k < 8; ++k) numel |= static_cast<uint64_t>(data[pos + k]) << (8 * k);
    pos += 8;
    const size_t elem = it != expected.end() ? element_size(it->second.first) : 0;
    if (it == expected.end() || numel != static_cast<uint64_t>(it->second.second))
      throw Error(what + ": storage " + key->s + " does not match its description");
    if (numel > (size - pos) / elem) throw Error(what + ": truncated (storage " + key->s + ")");
    result.storages.push_back({key->s, pos, static_cast<int64_t>(numel)});
    pos += numel * elem;
  }
  return result;
}

namespace {

class Pickler {
 public:
  void op(uint8_t o) { out_.push_back(static_cast<char>(o)); }
  void raw(const void* p, size_t n) { out_.append(static_cast<const char*>(p), n); }
  void le(uint64_t v, size_t n) {
    for (size_t k = 0; k < n; ++k) out_.push_back(static_cast<char>((v >> (8 * k)) & 0xff));
  }
  // BINUNICODE: protocol 2 has no shorter string opcode.
  void str(const std::string& s) {
    op('X');
    le(s.size(), 4);
    raw(s.data(), s.size());
  }
  void integer(int64_t v) {
    if (v >= 0 && v < 256) { op('K'); le(v, 1); }
    else if (v >= 0 && v < 65536) { op('M'); le(v, 2); }
    else if (v >= INT32_MIN && v <= INT32_MAX) { op('J'); le(static_cast<uint32_t>(v), 4); }
    else { op(0x8a); le(8, 1); le(static_cast<uint64_t>(v), 8); }
  }
  void global(const char* module, const char* name) {
    op('c');
    raw(module, std::strlen(module)); op('\n');
    raw(name, std::strlen(name)); op('\n');
  }
  void int_tuple(const std::vector<int64_t>& values) {
    op('(');
    for (int64_t v : values) integer(v);
    op('t');
  }
  std::string take() { return std::move(out_); }

 private:
  std::string out_;
};

}  // namespace

std::string write_state_dict_pickle(const std::vector<TensorRecord>& tensors) {
  Pickler p;
  p.op(0x80); p.le(2, 1);  // PROTO 2, as torch.save's default
  p.global("collections", "OrderedDict");
  p.op(')'); p.op('R');
  p.op('(');
  for (const TensorRecord& t : tensors) {
    p.str(t.name);
    p.global("torch._utils", "_rebuild_tensor_v2");
    p.op('(');
    p.op('(');
    p.str("storage");
    p.global("torch", storage_class_name(t.type));
    p.str(t.storage_key);
    p.str("cpu");
    p.integer(t.storage_numel);
    p.op('t');
    p.op('Q');  // BINPERSID
    p.integer(t.offset);
    p.int_tuple(t.sizes);
    p.int_tuple(t.strides);
    p.op(0x89);  // requires_grad=False
    p.global("collections", "OrderedDict");
    p.op(')'); p.op('R');  // backward hooks
    p.op('t');
    p.op('R');
  }
  p.op('u');
  p.op('.');
  return p.take();
}

}  // namespace edgessd
