// Method + path routing (server/http/http_router.hpp).
#include <gtest/gtest.h>

#include <string>

#include "server/http/http_router.hpp"

namespace apiproxy {
namespace {

using boost::beast::http::verb;

// Handlers are told apart by the route index they record when invoked.
class RouterTest : public ::testing::Test {
 protected:
  void add(verb method, std::string_view pattern) {
    int id = next_++;
    router_.add(method, pattern, [this, id](const std::shared_ptr<Exchange>&) { called_ = id; });
  }
  // Which route `match` picked (-1: none).
  int route_of(const RouteMatch& m) {
    if (!m.handler) return -1;
    called_ = -1;
    (*m.handler)(nullptr);
    return called_;
  }
  std::string param(const RouteMatch& m, std::string_view name) {
    for (const auto& [k, v] : m.params)
      if (k == name) return v;
    return "<missing>";
  }

  HttpRouter router_;
  int next_ = 0;
  int called_ = -1;
};

TEST_F(RouterTest, LiteralMatch) {
  add(verb::get, "/health");                // 0
  add(verb::get, "/v1/models");             // 1
  add(verb::post, "/v1/chat/completions");  // 2
  auto m = router_.match(verb::get, "/v1/models");
  EXPECT_EQ(route_of(m), 1);
  EXPECT_TRUE(m.params.empty());
  EXPECT_EQ(route_of(router_.match(verb::get, "/health")), 0);
  EXPECT_EQ(route_of(router_.match(verb::post, "/v1/chat/completions")), 2);
}

TEST_F(RouterTest, LiteralsAreCaseSensitive) {
  add(verb::get, "/v1/models");
  auto m = router_.match(verb::get, "/V1/Models");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_FALSE(m.path_known);
}

TEST_F(RouterTest, ParamCapture) {
  add(verb::get, "/providers/{id}/models");  // 0
  add(verb::get, "/logical-models/{logical_id}/upstreams");  // 1
  auto m = router_.match(verb::get, "/providers/openai/models");
  EXPECT_EQ(route_of(m), 0);
  ASSERT_EQ(m.params.size(), 1u);
  EXPECT_EQ(m.params[0].first, "id");
  EXPECT_EQ(m.params[0].second, "openai");
  auto l = router_.match(verb::get, "/logical-models/gpt-4/upstreams");
  EXPECT_EQ(route_of(l), 1);
  EXPECT_EQ(param(l, "logical_id"), "gpt-4");
}

TEST_F(RouterTest, SeveralParams) {
  add(verb::get, "/metrics/{logical}/{provider}");
  auto m = router_.match(verb::get, "/metrics/gpt-4/azure");
  ASSERT_NE(m.handler, nullptr);
  ASSERT_EQ(m.params.size(), 2u);
  EXPECT_EQ(m.params[0], (std::pair<std::string, std::string>{"logical", "gpt-4"}));
  EXPECT_EQ(m.params[1], (std::pair<std::string, std::string>{"provider", "azure"}));
}

TEST_F(RouterTest, ParamsArePercentDecoded) {
  add(verb::get, "/logical-models/{id}");
  auto m = router_.match(verb::get, "/logical-models/gpt%2D4%20turbo%2Fx");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(param(m, "id"), "gpt-4 turbo/x");
  auto plus = router_.match(verb::get, "/logical-models/a+b");
  EXPECT_EQ(param(plus, "id"), "a+b");  // '+' is not a space in a path
  auto lower = router_.match(verb::get, "/logical-models/%e4%bd%a0");
  EXPECT_EQ(param(lower, "id"), "\xe4\xbd\xa0");
  auto bad = router_.match(verb::get, "/logical-models/100%25%zz%4");
  EXPECT_EQ(param(bad, "id"), "100%%zz%4");  // malformed escapes stay as they are
}

TEST_F(RouterTest, ParamMatchesOneSegmentOnly) {
  add(verb::get, "/providers/{id}");
  EXPECT_EQ(router_.match(verb::get, "/providers/a/b").handler, nullptr);
  EXPECT_EQ(router_.match(verb::get, "/providers").handler, nullptr);
  // An encoded slash stays inside the one segment.
  auto m = router_.match(verb::get, "/providers/a%2Fb");
  ASSERT_NE(m.handler, nullptr);
  EXPECT_EQ(param(m, "id"), "a/b");
}

TEST_F(RouterTest, MethodNotAllowedListsAllowedMethods) {
  add(verb::get, "/logical-models/{id}");
  add(verb::put, "/logical-models/{id}");
  add(verb::delete_, "/logical-models/{id}");
  add(verb::get, "/other");
  auto m = router_.match(verb::post, "/logical-models/x");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_TRUE(m.path_known);
  EXPECT_EQ(m.allowed, "GET, PUT, DELETE");
  EXPECT_TRUE(m.params.empty());
}

TEST_F(RouterTest, NoMatchIsNot405) {
  add(verb::get, "/health");
  auto m = router_.match(verb::get, "/nope");
  EXPECT_EQ(m.handler, nullptr);
  EXPECT_FALSE(m.path_known);
  EXPECT_EQ(m.allowed, "");
  auto root = router_.match(verb::get, "/");
  EXPECT_EQ(root.handler, nullptr);
  EXPECT_FALSE(root.path_known);
}

TEST_F(RouterTest, MatchingMethodAfterOthersStillMatches) {
  add(verb::post, "/x");  // 0
  add(verb::get, "/x");   // 1
  auto m = router_.match(verb::get, "/x");
  EXPECT_EQ(route_of(m), 1);
}

// Documented behaviour: empty segments are dropped, so a trailing slash, a double slash
// and a missing leading slash all reach the same route as the canonical path.
TEST_F(RouterTest, TrailingAndDoubleSlashesAreIgnored) {
  add(verb::get, "/v1/models");  // 0
  EXPECT_EQ(route_of(router_.match(verb::get, "/v1/models/")), 0);
  EXPECT_EQ(route_of(router_.match(verb::get, "//v1//models")), 0);
  EXPECT_EQ(route_of(router_.match(verb::get, "v1/models")), 0);
  add(verb::get, "/providers/{id}");  // 1
  auto m = router_.match(verb::get, "/providers//openai/");
  EXPECT_EQ(route_of(m), 1);
  EXPECT_EQ(param(m, "id"), "openai");
}

TEST_F(RouterTest, RootRoute) {
  add(verb::get, "/");
  EXPECT_NE(router_.match(verb::get, "/").handler, nullptr);
  EXPECT_NE(router_.match(verb::get, "").handler, nullptr);
  EXPECT_EQ(router_.match(verb::get, "/x").handler, nullptr);
}

// Registration order decides between a literal and a capture that both fit.
TEST_F(RouterTest, FirstRegisteredWins) {
  add(verb::get, "/providers/health");  // 0
  add(verb::get, "/providers/{id}");    // 1
  EXPECT_EQ(route_of(router_.match(verb::get, "/providers/health")), 0);
  EXPECT_EQ(route_of(router_.match(verb::get, "/providers/openai")), 1);
}

TEST_F(RouterTest, LiteralSegmentsAreNotDecoded) {
  add(verb::get, "/v1/models");
  EXPECT_EQ(router_.match(verb::get, "/v1/mod%65ls").handler, nullptr);
}

TEST_F(RouterTest, BracesOnlyCaptureWholeSegments) {
  add(verb::get, "/a/{}");      // "{}" is a literal (no name)
  add(verb::get, "/b/x{id}");   // a literal too
  EXPECT_NE(router_.match(verb::get, "/a/{}").handler, nullptr);
  EXPECT_EQ(router_.match(verb::get, "/a/z").handler, nullptr);
  EXPECT_NE(router_.match(verb::get, "/b/x{id}").handler, nullptr);
  EXPECT_EQ(router_.match(verb::get, "/b/xz").handler, nullptr);
}

TEST(SplitPath, Segments) {
  using V = std::vector<std::string_view>;
  EXPECT_EQ(split_path("/a/b/c"), (V{"a", "b", "c"}));
  EXPECT_EQ(split_path("a/b"), (V{"a", "b"}));
  EXPECT_EQ(split_path("/a//b/"), (V{"a", "b"}));
  EXPECT_EQ(split_path("/"), V{});
  EXPECT_EQ(split_path(""), V{});
  EXPECT_EQ(split_path("///"), V{});
  EXPECT_EQ(split_path("/a%2Fb"), (V{"a%2Fb"}));
  EXPECT_EQ(split_path("/x?q=1/2"), (V{"x?q=1", "2"}));  // the caller strips the query
}

TEST(PercentDecode, Forms) {
  EXPECT_EQ(percent_decode("a%20b"), "a b");
  EXPECT_EQ(percent_decode("%41%42%43"), "ABC");
  EXPECT_EQ(percent_decode("a+b"), "a+b");
  EXPECT_EQ(percent_decode("%"), "%");
  EXPECT_EQ(percent_decode("%4"), "%4");
  EXPECT_EQ(percent_decode("%zz"), "%zz");
  EXPECT_EQ(percent_decode("%%41"), "%A");
  EXPECT_EQ(percent_decode("x%41"), "xA");
  EXPECT_EQ(percent_decode(""), "");
  EXPECT_EQ(percent_decode("%ff"), "\xff");
}

}  // namespace
}  // namespace apiproxy
