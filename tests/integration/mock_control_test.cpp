// The mock upstream's own control API, where the benchmarks depend on it: error_rate (a
// share of inference requests fails at random) is honoured, shown, validated and reset.
// No gateway here: the mock is talked to directly, on one kept-alive connection.
#include <string>

#include <gtest/gtest.h>

#include "json.hpp"
#include "services.hpp"

namespace it {
namespace {

constexpr const char* kChat = R"({"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]})";

double error_rate_of(const MockUpstream& m) {
  auto r = HttpClient(m.port()).get("/__mock/config");
  EXPECT_EQ(r.status, 200) << r.dump();
  return num(parse_json(r.body), "error_rate");
}

TEST(MockControl, ErrorRateFailsRoughlyThatShareOfInferenceRequests) {
  MockUpstream mock;
  EXPECT_EQ(error_rate_of(mock), 0.0);
  mock.configure(R"({"error_rate":0.3})");
  EXPECT_DOUBLE_EQ(error_rate_of(mock), 0.3);

  HttpConnection conn(mock.port());
  const int n = 400;
  int failed = 0, ok = 0;
  for (int i = 0; i < n; ++i) {
    auto r = conn.request("POST", "/v1/chat/completions", {{"Content-Type", "application/json"}}, kChat);
    ASSERT_TRUE(r.status == 200 || r.status == 503) << r.dump();
    (r.status == 503 ? failed : ok) += 1;
  }
  // Binomial(400, 0.3): mean 120, sd ~9.2; 80..160 is more than 4 sd either side.
  EXPECT_GE(failed, n * 0.2) << failed << " of " << n << " failed";
  EXPECT_LE(failed, n * 0.4) << failed << " of " << n << " failed";

  // The model list is not an inference request: never failed by the draw.
  for (int i = 0; i < 20; ++i) EXPECT_EQ(conn.request("GET", "/v1/models").status, 200);

  // A configured status is the status of the failures (every request fails then).
  mock.configure(R"({"error_rate":0.5,"status":429})");
  EXPECT_EQ(conn.request("POST", "/v1/chat/completions", {}, kChat).status, 429);

  // 1 fails everything, 0 nothing; reset clears the rate.
  mock.configure(R"({"error_rate":1,"status":0})");
  for (int i = 0; i < 20; ++i) EXPECT_EQ(conn.request("POST", "/v1/chat/completions", {}, kChat).status, 503);
  mock.configure(R"({"error_rate":0})");
  for (int i = 0; i < 20; ++i) EXPECT_EQ(conn.request("POST", "/v1/chat/completions", {}, kChat).status, 200);
  mock.configure(R"({"error_rate":1})");
  mock.reset();
  EXPECT_EQ(error_rate_of(mock), 0.0);
  EXPECT_EQ(conn.request("POST", "/v1/chat/completions", {}, kChat).status, 200);
}

TEST(MockControl, BadErrorRatesAreRefusedAndChangeNothing) {
  MockUpstream mock;
  mock.configure(R"({"error_rate":0.25})");
  for (const char* bad : {R"({"error_rate":-0.1})", R"({"error_rate":1.5})", R"({"error_rate":"0.3"})",
                          R"({"error_rate":null})", R"({"error_rate":true})", R"({"error_rate":[0.3]})",
                          R"({"latency_ms":7,"error_rate":2})"}) {
    auto r = HttpClient(mock.port()).post("/__mock/config", bad);
    EXPECT_EQ(r.status, 400) << bad << "\n" << r.dump();
    EXPECT_NE(r.body.find("error_rate"), std::string::npos) << r.body;
  }
  // All-or-nothing: nothing of a refused patch was applied.
  auto cfg = parse_json(HttpClient(mock.port()).get("/__mock/config").body);
  EXPECT_DOUBLE_EQ(num(cfg, "error_rate"), 0.25);
  EXPECT_EQ(num(cfg, "latency_ms"), 0);
}

}  // namespace
}  // namespace it
