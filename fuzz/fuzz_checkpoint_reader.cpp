// Fuzz target for the .pth reader: any byte string must give a state_dict or an
// edgessd::Error, never a crash, a hang or an out-of-bounds access.
#include <cstddef>
#include <cstdint>

#include "edgessd/common/error.h"
#include "edgessd/model/checkpoint.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  try {
    edgessd::read_state_dict_from_memory(data, size, "fuzz input");
  } catch (const edgessd::Error&) {
  }
  return 0;
}
