// FlatFields: the flat header store both HTTP parsers keep their heads in.
#include "core/common/flat_fields.hpp"

#include <string>
#include <utility>
#include <vector>

#include <gtest/gtest.h>

namespace apiproxy {
namespace {

std::vector<std::pair<std::string, std::string>> listed(const FlatFields& f) {
  std::vector<std::pair<std::string, std::string>> out;
  for (const auto& field : f) out.emplace_back(field.name, field.value);
  return out;
}

TEST(FlatFields, FindsTheFirstFieldOfANameInAnyCase) {
  FlatFields f;
  f.add("Content-Type", "text/event-stream");
  f.add("X-Twice", "one");
  f.add("x-twice", "two");
  EXPECT_EQ(f["content-type"], "text/event-stream");
  EXPECT_EQ(f["CONTENT-TYPE"], "text/event-stream");
  EXPECT_EQ(f["X-TWICE"], "one");
  EXPECT_EQ(f["Content-Typ"], "");
  EXPECT_EQ(f["Content-Type-X"], "");
}

TEST(FlatFields, TellsAnEmptyValueFromAnAbsentField) {
  FlatFields f;
  f.add("X-Empty", "");
  EXPECT_TRUE(f.has("x-empty"));
  EXPECT_EQ(f["x-empty"], "");
  EXPECT_FALSE(f.has("x-other"));
}

TEST(FlatFields, ListsFieldsInOrderAndKeepsTheirViewsValidAsItGrows) {
  FlatFields f;
  auto target = f.keep("/v1/chat/completions?x=1");
  std::vector<std::pair<std::string, std::string>> expected;
  // Past the first reservation and past the inline entries, so both buffers move.
  for (int i = 0; i < 100; ++i) {
    std::string name = "X-Field-" + std::to_string(i), value(20, static_cast<char>('a' + i % 26));
    f.add(name, value);
    expected.emplace_back(name, value);
  }
  EXPECT_EQ(f.size(), expected.size());
  EXPECT_EQ(listed(f), expected);
  EXPECT_EQ(f.text(target), "/v1/chat/completions?x=1");
  EXPECT_EQ(f["x-field-99"], expected.back().second);
}

TEST(FlatFields, MovedStoreKeepsItsText) {
  FlatFields f;
  auto method = f.keep("POST");
  f.add("Host", "example");
  FlatFields moved = std::move(f);
  EXPECT_EQ(moved.text(method), "POST");
  EXPECT_EQ(moved["host"], "example");
}

}  // namespace
}  // namespace apiproxy
