// The quick pass of scan_members (core/common/json_fast_scan.hpp): it must take the JSON
// that clients and upstreams usually send (or it buys nothing), answer exactly what the
// RapidJSON path answers when it does, and leave everything doubtful to that path.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "core/common/json_fast_scan.hpp"

namespace apiproxy {
namespace {

void expect_same_members(const std::vector<JsonMember>& a, const std::vector<JsonMember>& b) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE(a[i].key);
    EXPECT_EQ(a[i].key, b[i].key);
    EXPECT_EQ(a[i].kind, b[i].kind);
    EXPECT_EQ(a[i].value.begin, b[i].value.begin);
    EXPECT_EQ(a[i].value.end, b[i].value.end);
    EXPECT_EQ(a[i].member.begin, b[i].member.begin);
    EXPECT_EQ(a[i].member.end, b[i].member.end);
    EXPECT_EQ(a[i].boolean, b[i].boolean);
    EXPECT_EQ(a[i].uint, b[i].uint);
    EXPECT_EQ(a[i].string, b[i].string);
  }
}

// Taken by the quick pass, with the members the exact path lists.
void expect_fast(const std::string& text) {
  SCOPED_TRACE(text);
  std::vector<JsonMember> fast, exact;
  ASSERT_TRUE(fast_scan_members(text, fast));
  ASSERT_EQ(exact_scan_members(text, exact), std::nullopt);
  expect_same_members(fast, exact);
}

// Left to the exact path.
void expect_undecided(const std::string& text) {
  std::vector<JsonMember> members;
  EXPECT_FALSE(fast_scan_members(text, members)) << text;
}

TEST(JsonFastScan, TakesUsualRequestsAndAnswers) {
  expect_fast(R"({"model":"bench","messages":[{"role":"user","content":"benchmark me"}]})");
  expect_fast(R"({"model":"gpt-4o","stream":true,"temperature":0.7,"max_tokens":256,"stop":null,)"
              R"("messages":[{"role":"system","content":"be brief"},{"role":"user","content":[{"type":"text","text":"hi"}]}]})");
  expect_fast(R"({"prompt_tokens":3,"completion_tokens":8,"total_tokens":11,"prompt_tokens_details":{"cached_tokens":0}})");
  expect_fast(" \t\r\n{ \"a\" :\n 1 , \"b\" : [ ] , \"c\" : { } , \"d\":false }\n ");
  expect_fast("{}");
}

TEST(JsonFastScan, DecodesEscapesLikeRapidJson) {
  expect_fast(R"({"mod\u0065l":"a\"b\\c\/d\b\f\n\r\t","k":"\u4f60\u597d \ud83d\ude00","z":"\u0000"})");
  expect_fast("{\"utf8\":\"\xe4\xbd\xa0\xe5\xa5\xbd \xf0\x9f\x98\x80 \xed\x9f\xbf\"}");
}

TEST(JsonFastScan, RecordsNumbersLikeRapidJson) {
  expect_fast(R"({"a":0,"b":-0,"c":-7,"d":1.50,"e":18446744073709551615,"f":18446744073709551616,"g":-0.0})");
  std::vector<JsonMember> m;
  ASSERT_TRUE(fast_scan_members(R"({"n":-0,"big":18446744073709551616,"max":18446744073709551615})", m));
  EXPECT_EQ(m[0].uint, 0u);
  EXPECT_EQ(m[1].uint, std::nullopt);
  EXPECT_EQ(m[2].uint, UINT64_MAX);
}

TEST(JsonFastScan, LeavesTheDoubtfulToRapidJson) {
  for (const char* text : {
           "", "[]", "\"x\"", "1", "{", "{\"a\":1", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "{\"a\":01}",
           "{\"a\":1.}", "{\"a\":.5}", "{\"a\":1e5}", "{\"a\":-}", "{\"a\":tru}", "{\"a\":nul}",
           "{\"a\":NaN}", "{\"a\":[1,]}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":\"\\udc00\"}",
           "{\"a\":\"\\ud800\"}", "{\"a\":\"\\ud800\\u0041\"}", "{\"a\":\"tab\there\"}",
           "{\"a\":\"\xc0\xaf\"}", "{\"a\":\"\xed\xa0\x80\"}", "{\"a\":\"\xff\"}", "{} x", "{}{}",
       })
    expect_undecided(text);
  expect_undecided(std::string("{}\0", 3));
  expect_undecided(std::string("{\"a\":\"\0\"}", 9));
  expect_undecided("{\"a\":" + std::string(kMaxFastScanDigits + 1, '9') + "}");
}

TEST(JsonFastScan, LeavesDeepNestingToRapidJson) {
  auto nested = [](unsigned depth) {
    std::string s = "{\"a\":";
    for (unsigned i = 1; i < depth; ++i) s += "[";
    s += "1";
    for (unsigned i = 1; i < depth; ++i) s += "]";
    return s + "}";
  };
  expect_fast(nested(kMaxJsonDepth));
  expect_undecided(nested(kMaxJsonDepth + 1));
}

TEST(JsonFastScan, ScanMembersGivesTheSameAnswerEitherWay) {
  std::vector<JsonMember> members;
  auto why = scan_members("{\"a\":1e999}", members);
  ASSERT_TRUE(why);
  std::vector<JsonMember> exact;
  EXPECT_EQ(why, exact_scan_members("{\"a\":1e999}", exact));
  ASSERT_EQ(scan_members(R"({"a":1e2,"b":"x"})", members), std::nullopt);  // undecided, then accepted
  ASSERT_EQ(members.size(), 2u);
  EXPECT_EQ(members[1].string, "x");
}

}  // namespace
}  // namespace apiproxy
