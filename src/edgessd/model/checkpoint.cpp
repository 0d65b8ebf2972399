#include "edgessd/model/checkpoint.h"

#include <caffe2/serialize/inline_container.h>
#include <caffe2/serialize/read_adapter_interface.h>
#include <torch/torch.h>

#include <cstring>
#include <zlib.h>
#include <map>
#include <set>
#include <sstream>

#include "edgessd/common/error.h"
#include "edgessd/common/files.h"
#include "edgessd/model/pickle.h"

namespace edgessd {
namespace {

class MemoryReadAdapter : public caffe2::serialize::ReadAdapterInterface {
 public:
  MemoryReadAdapter(const void* data, size_t size) : data_(static_cast<const char*>(data)), size_(size) {}
  size_t size() const override { return size_; }
  size_t read(uint64_t pos, void* buf, size_t n, const char*) const override {
    if (pos >= size_) return 0;
    n = std::min<size_t>(n, size_ - pos);
    std::memcpy(buf, data_ + pos, n);
    return n;
  }

 private:
  const char* data_;
  size_t size_;
};

at::ScalarType scalar_type(StorageType type) {
  switch (type) {
    case StorageType::Float: return at::kFloat;
    case StorageType::Double: return at::kDouble;
    case StorageType::Half: return at::kHalf;
    case StorageType::BFloat16: return at::kBFloat16;
    case StorageType::Long: return at::kLong;
    case StorageType::Int: return at::kInt;
    case StorageType::Short: return at::kShort;
    case StorageType::Char: return at::kChar;
    case StorageType::Byte: return at::kByte;
    case StorageType::Bool: return at::kBool;
  }
  return at::kFloat;
}

StorageType storage_type(at::ScalarType type, const std::string& name) {
  switch (type) {
    case at::kFloat: return StorageType::Float;
    case at::kDouble: return StorageType::Double;
    case at::kHalf: return StorageType::Half;
    case at::kBFloat16: return StorageType::BFloat16;
    case at::kLong: return StorageType::Long;
    case at::kInt: return StorageType::Int;
    case at::kShort: return StorageType::Short;
    case at::kChar: return StorageType::Char;
    case at::kByte: return StorageType::Byte;
    case at::kBool: return StorageType::Bool;
    default: throw Error("cannot save tensor '" + name + "' of type " + std::string(c10::toString(type)));
  }
}

// A contiguous copy of the view `record` describes on a storage held in `bytes`. The
// pickle reader already proved the view lies inside the storage's declared size; this
// checks the bytes are really there.
at::Tensor tensor_from_storage(const TensorRecord& record, const void* bytes, size_t byte_count,
                               const std::string& what) {
  const size_t elem = element_size(record.type);
  if (byte_count % elem != 0 || byte_count / elem != static_cast<size_t>(record.storage_numel))
    throw Error(what + ": storage " + record.storage_key + " of '" + record.name + "' holds " +
                std::to_string(byte_count) + " bytes, expected " +
                std::to_string(record.storage_numel * elem));
  auto storage = torch::from_blob(const_cast<void*>(bytes), {record.storage_numel},
                                  torch::TensorOptions().dtype(scalar_type(record.type)));
  return storage.as_strided(record.sizes, record.strides, record.offset).clone(at::MemoryFormat::Contiguous);
}

uint32_t le32(const uint8_t* p) { return p[0] | (p[1] << 8) | (p[2] << 16) | (uint32_t(p[3]) << 24); }
uint16_t le16(const uint8_t* p) { return static_cast<uint16_t>(p[0] | (p[1] << 8)); }

// The CRC-32 of each archive member, from the zip central directory, keyed by the name
// below the archive's top folder ("data.pkl", "data/0", ...). LibTorch's reader does not
// verify checksums, so without this a damaged tensor would load silently; and reading
// the directory first turns a malformed archive into our error before LibTorch (which
// leaks its zip state when its constructor throws) sees it. Zip64 archives (> 4 GiB)
// are left to LibTorch unchecked: the map comes back empty.
std::map<std::string, uint32_t> zip_checksums(const uint8_t* data, size_t size, const std::string& what) {
  std::map<std::string, uint32_t> crcs;
  const Error malformed(what + ": not a readable PyTorch checkpoint (malformed zip archive)");
  if (size < 22) throw malformed;
  size_t eocd = size - 22;
  const size_t lowest = size > 22 + 65535 ? size - 22 - 65535 : 0;
  while (le32(data + eocd) != 0x06054b50) {
    if (eocd == lowest) throw malformed;
    --eocd;
  }
  const uint16_t entries = le16(data + eocd + 10);
  const uint32_t directory = le32(data + eocd + 16);
  if (entries == 0xffff || directory == 0xffffffffu) return crcs;
  if (entries == 0) throw malformed;
  size_t pos = directory;
  for (uint16_t e = 0; e < entries; ++e) {
    if (pos > size || size - pos < 46 || le32(data + pos) != 0x02014b50) throw malformed;
    const uint32_t crc = le32(data + pos + 16);
    const size_t name_len = le16(data + pos + 28), extra_len = le16(data + pos + 30),
                 comment_len = le16(data + pos + 32);
    if (size - pos - 46 < name_len) throw malformed;
    std::string name(reinterpret_cast<const char*>(data + pos + 46), name_len);
    const size_t slash = name.find('/');
    crcs[slash == std::string::npos ? name : name.substr(slash + 1)] = crc;
    pos += 46 + name_len + extra_len + comment_len;
  }
  return crcs;
}

void verify_checksum(const std::map<std::string, uint32_t>& crcs, const std::string& record, const void* bytes,
                     size_t n, const std::string& what) {
  auto it = crcs.find(record);
  if (it == crcs.end()) return;
  uLong crc = crc32(0L, Z_NULL, 0);
  const auto* p = static_cast<const Bytef*>(bytes);
  while (n > 0) {
    const uInt chunk = static_cast<uInt>(std::min<size_t>(n, 1u << 30));
    crc = crc32(crc, p, chunk);
    p += chunk;
    n -= chunk;
  }
  if (static_cast<uint32_t>(crc) != it->second)
    throw Error(what + ": corrupt checkpoint (" + record + " fails its checksum)");
}

StateDict read_zip(const void* data, size_t size, const std::string& what) {
  const auto crcs = zip_checksums(static_cast<const uint8_t*>(data), size, what);
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(
        std::make_shared<MemoryReadAdapter>(data, size));
  } catch (const c10::Error& e) {
    throw Error(what + ": not a readable PyTorch checkpoint (" +
                std::string(e.what_without_backtrace()) + ")");
  }
  try {
    if (!reader->hasRecord("data.pkl")) throw Error(what + ": checkpoint archive has no data.pkl");
    auto [pickle_data, pickle_size] = reader->getRecord("data.pkl");
    verify_checksum(crcs, "data.pkl", pickle_data.get(), pickle_size, what);
    StateDictPickle pickle = parse_state_dict_pickle(static_cast<const uint8_t*>(pickle_data.get()),
                                                     pickle_size, what);
    std::map<std::string, std::pair<at::DataPtr, size_t>> storages;
    StateDict state;
    for (const TensorRecord& record : pickle.tensors) {
      auto it = storages.find(record.storage_key);
      if (it == storages.end()) {
        const std::string name = "data/" + record.storage_key;
        if (!reader->hasRecord(name)) throw Error(what + ": archive lacks " + name + " for '" + record.name + "'");
        auto [bytes, size] = reader->getRecord(name);
        verify_checksum(crcs, name, bytes.get(), size, what);
        it = storages.emplace(record.storage_key, std::make_pair(std::move(bytes), size)).first;
      }
      state.emplace_back(record.name, tensor_from_storage(record, it->second.first.get(),
                                                          it->second.second, what));
    }
    return state;
  } catch (const c10::Error& e) {
    throw Error(what + ": corrupt checkpoint archive (" + std::string(e.what_without_backtrace()) + ")");
  }
}

StateDict read_legacy(const void* data, size_t size, const std::string& what) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  LegacyCheckpoint legacy = parse_legacy_checkpoint(bytes, size, what);
  std::map<std::string, const LegacyStorageSpan*> spans;
  for (const LegacyStorageSpan& span : legacy.storages) spans[span.key] = &span;
  StateDict state;
  for (const TensorRecord& record : legacy.pickle.tensors) {
    auto it = spans.find(record.storage_key);
    if (it == spans.end()) throw Error(what + ": storage of '" + record.name + "' is missing");
    const LegacyStorageSpan& span = *it->second;
    state.emplace_back(record.name, tensor_from_storage(record, bytes + span.offset,
                                                        span.numel * element_size(record.type), what));
  }
  return state;
}

void collect_state(const torch::nn::Module& module, const std::string& prefix, StateDict& out) {
  for (const auto& p : module.named_parameters(/*recurse=*/false)) out.emplace_back(prefix + p.key(), p.value());
  for (const auto& b : module.named_buffers(/*recurse=*/false)) out.emplace_back(prefix + b.key(), b.value());
  for (const auto& child : module.named_children()) collect_state(*child.value(), prefix + child.key() + ".", out);
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

bool covered(const std::string& key, LoadMode mode) {
  switch (mode) {
    case LoadMode::Everything: return true;
    case LoadMode::AllButHeads:
      return !starts_with(key, "classification_headers.") && !starts_with(key, "regression_headers.");
    case LoadMode::BaseNetOnly: return starts_with(key, "base_net.");
  }
  return true;
}

std::string shape_string(at::IntArrayRef sizes) {
  std::ostringstream s;
  s << "[";
  for (size_t i = 0; i < sizes.size(); ++i) s << (i ? "," : "") << sizes[i];
  s << "]";
  return s.str();
}

std::string list(const std::vector<std::string>& items, size_t limit = 8) {
  std::string out;
  for (size_t i = 0; i < items.size() && i < limit; ++i) out += (i ? ", " : "") + items[i];
  if (items.size() > limit) out += ", ... (" + std::to_string(items.size()) + " in all)";
  return out;
}

}  // namespace

StateDict read_state_dict_from_memory(const void* data, size_t size, const std::string& what) {
  const auto* bytes = static_cast<const uint8_t*>(data);
  if (size >= 4 && std::memcmp(bytes, "PK\x03\x04", 4) == 0) return read_zip(data, size, what);
  if (looks_like_legacy_checkpoint(bytes, size)) return read_legacy(data, size, what);
  if (size == 0) throw Error(what + ": empty file");
  throw Error(what + ": not a PyTorch checkpoint (neither a zip archive nor a legacy torch.save file)");
}

StateDict read_state_dict(const std::string& path) {
  const std::string bytes = read_file(path);
  return read_state_dict_from_memory(bytes.data(), bytes.size(), path);
}

std::string state_dict_to_bytes(const StateDict& state) {
  std::vector<TensorRecord> records;
  std::vector<at::Tensor> contiguous;
  for (size_t i = 0; i < state.size(); ++i) {
    const auto& [name, tensor] = state[i];
    at::Tensor t = tensor.detach().to(at::kCPU).contiguous();
    TensorRecord r;
    r.name = name;
    r.type = storage_type(t.scalar_type(), name);
    r.storage_key = std::to_string(i);
    r.storage_numel = t.numel();
    r.sizes = t.sizes().vec();
    r.strides = t.strides().vec();
    records.push_back(r);
    contiguous.push_back(t);
  }
  std::string out;
  caffe2::serialize::PyTorchStreamWriter writer([&](const void* buf, size_t n) -> size_t {
    out.append(static_cast<const char*>(buf), n);
    return n;
  });
  const std::string pickle = write_state_dict_pickle(records);
  writer.writeRecord("data.pkl", pickle.data(), pickle.size());
  for (size_t i = 0; i < records.size(); ++i)
    writer.writeRecord("data/" + records[i].storage_key, contiguous[i].data_ptr(), contiguous[i].nbytes());
  writer.writeEndOfFile();
  return out;
}

void write_state_dict(const std::string& path, const StateDict& state) {
  write_file_atomic(path, state_dict_to_bytes(state));
}

StateDict state_dict_of(const torch::nn::Module& module) {
  StateDict out;
  collect_state(module, "", out);
  return out;
}

namespace {
// " (the file has F classes, the model M)" where a head's class-scoring convolution (any
// net's: the lite nets' are pointwise) has other rows in the file: k x classes rows, k the
// priors a cell its box twin's k x 4 rows tell (6, or 4 on some of vgg16-ssd's maps).
std::string class_count_hint(const std::string& key, const at::Tensor& in_file, const at::Tensor& in_model,
                             const StateDict& model) {
  const char* prefix = "classification_headers.";
  if (!starts_with(key, prefix) || in_file.dim() != 4 || in_model.dim() != 4 || in_file.size(0) == in_model.size(0))
    return "";
  const std::string twin = "regression_headers." + key.substr(std::strlen(prefix));
  for (const auto& [name, t] : model) {
    if (name != twin || t.dim() != 4 || t.size(0) % 4 != 0 || t.size(0) == 0) continue;
    const int64_t per_cell = t.size(0) / 4;
    if (in_file.size(0) % per_cell != 0 || in_model.size(0) % per_cell != 0) return "";
    return " (the file has " + std::to_string(in_file.size(0) / per_cell) + " classes, the model " +
           std::to_string(in_model.size(0) / per_cell) + ")";
  }
  return "";
}
}  // namespace

void load_state_dict(torch::nn::Module& module, const StateDict& state, LoadMode mode,
                     const std::string& what) {
  StateDict target = state_dict_of(module);
  std::map<std::string, const at::Tensor*> source;
  for (const auto& [key, tensor] : state) source[key] = &tensor;
  // A bare MobileNet or VGG file (pytorch-ssd's --base-net) names its layers without "base_net.".
  const bool bare_base = mode == LoadMode::BaseNetOnly && !source.count("base_net.0.0.weight") &&
                         !source.count("base_net.0.weight") && (source.count("0.0.weight") || source.count("0.weight"));

  std::vector<std::string> missing, mismatched, unexpected;
  std::vector<std::pair<at::Tensor, const at::Tensor*>> copies;
  std::set<std::string> used;
  for (auto& [key, tensor] : target) {
    if (!covered(key, mode)) continue;
    const std::string source_key = bare_base ? key.substr(std::strlen("base_net.")) : key;
    auto it = source.find(source_key);
    if (it == source.end()) { missing.push_back(key); continue; }
    used.insert(source_key);
    if (it->second->sizes() != tensor.sizes()) {
      const std::string hint = mismatched.empty() ? class_count_hint(key, *it->second, tensor, target) : "";
      mismatched.push_back(key + " " + shape_string(it->second->sizes()) + " in file, " +
                           shape_string(tensor.sizes()) + " in model" + hint);
      continue;
    }
    copies.emplace_back(tensor, it->second);
  }
  if (mode == LoadMode::Everything) {
    for (const auto& [key, tensor] : state)
      if (!used.count(key)) unexpected.push_back(key);
  }
  if (!missing.empty() || !mismatched.empty() || !unexpected.empty()) {
    std::string message = what + ": does not fit the model;";
    if (!mismatched.empty()) message += " mis-shaped: " + list(mismatched) + ";";
    if (!missing.empty()) message += " missing: " + list(missing) + ";";
    if (!unexpected.empty()) message += " unexpected: " + list(unexpected) + ";";
    message.pop_back();
    throw Error(message);
  }
  torch::NoGradGuard no_grad;
  for (auto& [dst, src] : copies) dst.copy_(*src);
}

}  // namespace edgessd
