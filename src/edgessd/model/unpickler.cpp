#include "edgessd/model/internal/unpickler.h"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <cstring>
#include <limits>

namespace edgessd::pickle {

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
    const bool found = module == "torch" && storage_type_named(name, g->storage_type);
    if (found) g->global = Global::Storage;
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
    if (op == '.') {  // STOP
      if (!marks_.empty()) fail("STOP inside a MARK");
      ValuePtr result = pop();
      if (!stack_.empty()) fail("STOP with objects left on the stack");
      return result;
    }
    if (framing_op(op) || scalar_op(op) || container_op(op) || memo_op(op) || object_op(op)) continue;
    char hex[8];
    std::snprintf(hex, sizeof hex, "0x%02x", op);
    fail(std::string("unsupported pickle opcode ") + hex);
  }
}

bool Unpickler::framing_op(uint8_t op) {
  switch (op) {
    case 0x80: {  // PROTO
      const uint8_t proto = u8();
      if (proto > 5) fail("unsupported pickle protocol " + std::to_string(proto));
      return true;
    }
    case 0x95: le(8); return true;                            // FRAME
    case '(': marks_.push_back(stack_.size()); return true;  // MARK
    default: return false;
  }
}

// None, booleans, integers, floats and strings.
bool Unpickler::scalar_op(uint8_t op) {
  switch (op) {
    case 'N': push(make(Value::Kind::None)); return true;
    case 0x88: case 0x89: { auto v = make(Value::Kind::Bool); v->i = op == 0x88; push(v); return true; }
    case 'K': push(make_int(u8())); return true;                                      // BININT1
    case 'M': push(make_int(static_cast<int64_t>(le(2)))); return true;               // BININT2
    case 'J': push(make_int(static_cast<int32_t>(static_cast<uint32_t>(le(4))))); return true;
    case 0x8a: case 0x8b: {                                                           // LONG1, LONG4
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
      return true;
    }
    case 'G': {  // BINFLOAT, big-endian
      need(8);
      uint64_t bits = 0;
      for (int k = 0; k < 8; ++k) bits = (bits << 8) | data_[pos_ + k];
      pos_ += 8;
      auto v = make(Value::Kind::Float);
      std::memcpy(&v->f, &bits, 8);
      push(v);
      return true;
    }
    case 'X': case 0x8c: case 0x8d: case 'U': case 'T': {  // unicode and byte strings
      const uint64_t n = op == 'X' ? le(4) : op == 0x8d ? le(8) : op == 'T' ? static_cast<uint32_t>(le(4)) : u8();
      auto v = make(Value::Kind::String);
      v->s = bytes(n);
      push(v);
      return true;
    }
    default: return false;
  }
}

// Tuples, lists and dicts, and filling them.
bool Unpickler::container_op(uint8_t op) {
  switch (op) {
    case ')': push(make_tuple({})); return true;
    case 0x85: case 0x86: case 0x87: {  // TUPLE1..3
      const size_t n = op - 0x84;
      if (stack_.size() < floor() + n) fail("stack underflow");
      std::vector<ValuePtr> items(stack_.end() - n, stack_.end());
      stack_.resize(stack_.size() - n);
      push(make_tuple(std::move(items)));
      return true;
    }
    case 't': push(make_tuple(pop_to_mark())); return true;
    case ']': push(make(Value::Kind::List)); return true;
    case '}': push(make(Value::Kind::Dict)); return true;
    case 'a': {  // APPEND
      ValuePtr item = pop();
      Value& list = mutable_container(Value::Kind::List, "APPEND");
      adopt(list, item);
      list.items.push_back(std::move(item));
      return true;
    }
    case 'e': {  // APPENDS
      std::vector<ValuePtr> items = pop_to_mark();
      Value& list = mutable_container(Value::Kind::List, "APPENDS");
      for (const ValuePtr& item : items) adopt(list, item);
      for (ValuePtr& item : items) list.items.push_back(std::move(item));
      return true;
    }
    case 's': {  // SETITEM
      ValuePtr value = pop();
      ValuePtr key = pop();
      set_items({std::move(key), std::move(value)}, mutable_container(Value::Kind::Dict, "SETITEM"));
      return true;
    }
    case 'u': {  // SETITEMS: the items first, then the dict under them
      std::vector<ValuePtr> items = pop_to_mark();
      set_items(std::move(items), mutable_container(Value::Kind::Dict, "SETITEMS"));
      return true;
    }
    default: return false;
  }
}

bool Unpickler::memo_op(uint8_t op) {
  switch (op) {
    case 'q': memo_[u8()] = top(); return true;           // BINPUT
    case 'r': memo_[le(4)] = top(); return true;          // LONG_BINPUT
    case 0x94: memo_[memo_.size()] = top(); return true;  // MEMOIZE
    case 'h': push(memo_get(u8())); return true;          // BINGET
    case 'j': push(memo_get(le(4))); return true;         // LONG_BINGET
    default: return false;
  }
}

// Globals, persistent ids (storages), REDUCE and BUILD: where objects are made.
bool Unpickler::object_op(uint8_t op) {
  switch (op) {
    case 'c': {  // GLOBAL
      std::string module = line();
      std::string name = line();
      push(global(module, name));
      return true;
    }
    case 0x93: {  // STACK_GLOBAL
      ValuePtr name = pop();
      ValuePtr module = pop();
      if (name->kind != Value::Kind::String || module->kind != Value::Kind::String) fail("STACK_GLOBAL without strings");
      push(global(module->s, name->s));
      return true;
    }
    case 'Q': push(persistent_load(pop())); return true;  // BINPERSID
    case 'R': {                                           // REDUCE
      ValuePtr args = pop();
      ValuePtr callable = pop();
      push(reduce(callable, args));
      return true;
    }
    case 'b': {  // BUILD
      ValuePtr state = pop();
      // An OrderedDict's instance state (state_dict()._metadata) carries only module
      // versions, which loading does not need.
      if (top()->kind != Value::Kind::Dict) fail("BUILD on a " + std::string(kind_name(top()->kind)));
      return true;
    }
    default: return false;
  }
}

}  // namespace edgessd::pickle
