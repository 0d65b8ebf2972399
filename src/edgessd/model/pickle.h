#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace edgessd {

// The element types a PyTorch storage can have in a checkpoint.
enum class StorageType { Float, Double, Half, BFloat16, Long, Int, Short, Char, Byte, Bool };

size_t element_size(StorageType type);
const char* storage_class_name(StorageType type);  // "FloatStorage", ...
// The type of torch.<name> (e.g. "FloatStorage"); false for a name that is no storage class.
bool storage_type_named(const std::string& name, StorageType& type);

// One tensor of a pickled state_dict, as torch.save describes it: a view
// (offset, sizes, strides in elements) onto a storage saved under `storage_key`.
struct TensorRecord {
  std::string name;
  StorageType type = StorageType::Float;
  std::string storage_key;
  int64_t storage_numel = 0;
  int64_t offset = 0;
  std::vector<int64_t> sizes;
  std::vector<int64_t> strides;
};

// What a state_dict pickle holds: its tensors in file order. Legacy (pre-1.6, non-zip)
// files also list the storage keys in the order their bytes follow the pickles.
struct StateDictPickle {
  std::vector<TensorRecord> tensors;
};

// Reads the pickle torch.save writes for a state_dict (a dict or OrderedDict of tensors).
// The input is untrusted: only the opcodes and globals a state_dict needs are accepted,
// and every refusal is an Error naming `what` and the byte offset.
StateDictPickle parse_state_dict_pickle(const uint8_t* data, size_t size, const std::string& what);

// A legacy torch.save file: magic number, protocol, sys_info, the state_dict pickle, the
// storage key list, then each storage as an 8-byte element count and its raw bytes.
struct LegacyStorageSpan {
  std::string key;
  size_t offset;  // byte offset of the raw data in the file
  int64_t numel;
};
struct LegacyCheckpoint {
  StateDictPickle pickle;
  std::vector<LegacyStorageSpan> storages;
};
bool looks_like_legacy_checkpoint(const uint8_t* data, size_t size);
LegacyCheckpoint parse_legacy_checkpoint(const uint8_t* data, size_t size, const std::string& what);

// The data.pkl torch.save (protocol 2) writes for an OrderedDict of tensors, each with
// its own storage; Python's torch.load reads it back as the same state_dict.
std::string write_state_dict_pickle(const std::vector<TensorRecord>& tensors);

}  // namespace edgessd
