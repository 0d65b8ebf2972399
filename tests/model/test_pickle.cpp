// The pickle codec on hand-made byte strings: what a state_dict needs is read, anything
// else is refused with an Error (never a crash).
#include "edgessd/common/error.h"
#include "edgessd/model/pickle.h"
#include "support/test_support.h"

using namespace edgessd;

namespace {
StateDictPickle parse(const std::string& bytes) {
  return parse_state_dict_pickle(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size(), "test.pkl");
}
std::string error_of(const std::string& bytes) {
  try {
    parse(bytes);
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}
TensorRecord record(const std::string& name, std::vector<int64_t> sizes, std::string key) {
  TensorRecord r;
  r.name = name;
  r.storage_key = std::move(key);
  r.sizes = sizes;
  int64_t stride = 1;
  r.strides.assign(sizes.size(), 0);
  for (size_t d = sizes.size(); d-- > 0;) { r.strides[d] = stride; stride *= sizes[d]; }
  r.storage_numel = stride;
  return r;
}
}  // namespace

TEST(Pickle, WrittenStateDictReadsBack) {
  std::vector<TensorRecord> records = {record("a.weight", {2, 3}, "0"), record("b", {}, "1"),
                                       record("c.num_batches_tracked", {}, "2")};
  records[2].type = StorageType::Long;
  records[1].offset = 0;
  StateDictPickle back = parse(write_state_dict_pickle(records));
  ASSERT_EQ(back.tensors.size(), 3u);
  EXPECT_EQ(back.tensors[0].name, "a.weight");
  EXPECT_EQ(back.tensors[0].sizes, (std::vector<int64_t>{2, 3}));
  EXPECT_EQ(back.tensors[0].strides, (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(back.tensors[1].sizes.size(), 0u);
  EXPECT_EQ(back.tensors[2].type, StorageType::Long);
  EXPECT_EQ(back.tensors[2].storage_key, "2");
}

TEST(Pickle, RefusesForeignGlobals) {
  // GLOBAL os.system, the classic pickle exploit
  const std::string bytes = std::string("\x80\x02") + "cos\nsystem\n" + "X\x02\x00\x00\x00ls\x85R.";
  EXPECT_NE(error_of(bytes).find("refused pickle global os.system"), std::string::npos) << error_of(bytes);
}

TEST(Pickle, RefusesPickledModules) {
  const std::string bytes = std::string("\x80\x02") + "cvision.ssd.ssd\nSSD\n)R.";
  EXPECT_NE(error_of(bytes).find("not a state_dict"), std::string::npos) << error_of(bytes);
}

TEST(Pickle, RefusesUnknownOpcodesTruncationAndUnderflow) {
  EXPECT_NE(error_of(std::string("\x80\x02\xff", 3)).find("unsupported pickle opcode 0xff"), std::string::npos);
  EXPECT_NE(error_of(std::string("\x80\x02X\x10\x00\x00\x00" "ab", 9)).find("truncated"), std::string::npos);
  EXPECT_NE(error_of(std::string("\x80\x02R", 3)).find("underflow"), std::string::npos);
  EXPECT_NE(error_of(std::string("\x80\x02h\x05", 4)).find("unknown memo"), std::string::npos);
  EXPECT_NE(error_of("").find("truncated"), std::string::npos);
}

TEST(Pickle, RefusesNonDictAndNonTensorValues) {
  EXPECT_NE(error_of(std::string("\x80\x02]q\x00.", 6)).find("not a state_dict (the pickle holds a list)"),
            std::string::npos);
  // {'a': 1}
  EXPECT_NE(error_of(std::string("\x80\x02}X\x01\x00\x00\x00" "aK\x01s.", 13)).find("entry 'a' is a int"),
            std::string::npos);
}

TEST(Pickle, RefusesViewsPastTheirStorage) {
  TensorRecord r = record("w", {4, 4}, "0");
  r.storage_numel = 15;  // one element short
  EXPECT_NE(error_of(write_state_dict_pickle({r})).find("past the end of storage"), std::string::npos);
  r.storage_numel = 16;
  r.offset = 1;
  EXPECT_NE(error_of(write_state_dict_pickle({r})).find("past the end of storage"), std::string::npos);
}

TEST(Pickle, RefusesCyclesAndDeepNesting) {
  // a list appended into itself
  EXPECT_NE(error_of(std::string("\x80\x02]q\x00h\x00" "a.", 8)).find("contains itself"), std::string::npos);
  std::string deep = "\x80\x02";
  for (int i = 0; i < 100; ++i) deep += "]";
  for (int i = 0; i < 99; ++i) deep += "a";
  deep += ".";
  EXPECT_NE(error_of(deep).find("nested too deeply"), std::string::npos) << error_of(deep);
}
