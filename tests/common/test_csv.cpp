#include <gtest/gtest.h>

#include "edgessd/common/csv.h"
#include "edgessd/common/error.h"

using namespace edgessd;

namespace {

std::string error_of(const std::string& text) {
  try {
    CsvTable table(text, "t.csv");
  } catch (const Error& e) {
    return e.what();
  }
  return "(no error)";
}

}  // namespace

TEST(CsvTable, QuotedFieldsLineEndsAndLineNumbers) {
  const CsvTable t("\xEF\xBB\xBFImageID,Name\r\n"
                   "a,\"x, y\"\r\n"
                   "\n"
                   "b,\"two\nlines \"\"quoted\"\"\"\n"
                   "c,\n",
                   "t.csv");
  ASSERT_EQ(t.header(), (std::vector<std::string>{"ImageID", "Name"}));
  ASSERT_EQ(t.rows(), 3u);
  EXPECT_EQ(t.row(0)[1], "x, y");
  EXPECT_EQ(t.row(1)[1], "two\nlines \"quoted\"");
  EXPECT_EQ(t.row(2)[1], "");
  EXPECT_EQ(t.line_of(0), 2u);
  EXPECT_EQ(t.line_of(1), 4u);
  EXPECT_EQ(t.line_of(2), 6u);  // the quoted line end counts
  EXPECT_EQ(t.column("Name"), 1u);
}

TEST(CsvTable, ErrorsNameFileAndLine) {
  EXPECT_EQ(error_of("a,b\n1,2\n3\n"), "t.csv:3: 1 fields, the header has 2");
  EXPECT_EQ(error_of("a,b\n1,\"2\n"), "t.csv:2: unterminated quoted field");
  EXPECT_EQ(error_of(""), "t.csv: empty CSV file");
  EXPECT_EQ(error_of("\xEF\xBB\xBF"), "t.csv: empty CSV file");
  const CsvTable t("a,b\n1,2", "t.csv");  // no final line end
  EXPECT_EQ(t.rows(), 1u);
  EXPECT_THROW(t.column("c"), Error);
}

TEST(CsvRecord, SplitsAndReportsAnOpenQuote) {
  std::vector<std::string> fields;
  EXPECT_TRUE(split_csv_record("/m/01,\"Vehicle registration plate\",,\"a \"\"b\"\"\"", fields));
  EXPECT_EQ(fields, (std::vector<std::string>{"/m/01", "Vehicle registration plate", "", "a \"b\""}));
  EXPECT_FALSE(split_csv_record("x,\"open", fields));
  EXPECT_EQ(strip_bom("\xEF\xBB\xBFx"), "x");
  EXPECT_EQ(strip_bom("x"), "x");
}
