#include "edgessd/model/pickle.h"

#include <cstring>
#include <unordered_map>

#include "edgessd/common/error.h"
#include "edgessd/model/internal/unpickler.h"

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

bool storage_type_named(const std::string& name, StorageType& type) {
  for (const StorageName& s : kStorageNames)
    if (name == s.name) {
      type = s.type;
      return true;
    }
  return false;
}

namespace {

using pickle::Unpickler;
using pickle::Value;
using pickle::ValuePtr;
using pickle::kind_name;

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
