// GET /metrics over real traffic: the real gateway, plugins, redis-server and mocks
// (support/data_plane.hpp). Requests of every kind — answered, streamed, failed over,
// rate limited (MAX_QPS), unknown model, every upstream failing — then one scrape whose
// series must match what the clients saw, and whose text `promtool check metrics` accepts
// without a single lint message.
#include <cstdlib>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "assertions.hpp"
#include "data_plane.hpp"

namespace it {
namespace {

using namespace dp;
using namespace std::chrono_literals;

// The samples of an exposition, by their exact series text: name{label="v",...}.
std::map<std::string, double> samples_of(const std::string& text) {
  std::map<std::string, double> out;
  for (const auto& line : lines_of(text)) {
    if (line[0] == '#') continue;
    size_t space = line.rfind(' ');
    if (space == std::string::npos) continue;
    out[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  return out;
}

class Metrics {
 public:
  explicit Metrics(const std::string& text) : text_(text), samples_(samples_of(text)) {}
  // The value of one series; 0 when absent (as Prometheus reads a counter never incremented).
  double operator()(const std::string& series) const {
    auto it = samples_.find(series);
    return it == samples_.end() ? 0 : it->second;
  }
  bool has(const std::string& series) const { return samples_.count(series) > 0; }
  // The sum over every series whose text starts with `prefix`.
  double sum(const std::string& prefix) const {
    double s = 0;
    for (const auto& [k, v] : samples_)
      if (k.rfind(prefix, 0) == 0) s += v;
    return s;
  }
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::map<std::string, double> samples_;
};

int attempts_of(const Response& r) {
  std::string a = r.header("x-apiproxy-attempts");
  return a.empty() ? 0 : std::stoi(a);
}

std::string requests(const std::string& route, const std::string& logical, const std::string& provider, int status) {
  return "apiproxy_requests_total{route=\"" + route + "\",logical_model=\"" + logical + "\",provider=\"" + provider +
         "\",status=\"" + std::to_string(status) + "\"}";
}

std::string pair_labels(const std::string& logical, const std::string& provider) {
  return "{logical_model=\"" + logical + "\",provider=\"" + provider + "\"}";
}

// A logical model on alpha whose only upstream admits one request per 10 s (burst 1), so
// the second request in a row is refused with 429 whatever the machine's speed.
std::string limited_pool() {
  return "{\"logical_id\":\"limited-pool\",\"display_name\":\"limited\",\"description\":\"\",\"capabilities\":[\"chat\"],"
         "\"upstreams\":[{\"provider_id\":\"alpha\",\"model_id\":\"gpt-4o-mini\",\"endpoint\":\"/v1/chat/completions\","
         "\"base_weight\":1,\"max_qps\":0.1,\"updated_at\":1700000000}],\"enabled\":true,\"updated_at\":1700000000}";
}

class MetricsEndpoint : public ::testing::Test {
 protected:
  World world;

  void start() {
    auto models = default_logical_models();
    models["limited-pool"] = limited_pool();
    world.start({}, models);
  }

  Response scrape() const { return world.get("/metrics"); }
  Metrics metrics() const {
    auto r = scrape();
    EXPECT_EQ(r.status, 200) << r.dump();
    return Metrics(r.body);
  }
};

TEST_F(MetricsEndpoint, SeriesMatchTheTrafficAndPromtoolAcceptsTheText) {
  start();
  const std::string chat = kChatPath;
  std::map<std::string, int> answered_by;  // chat-pool 200s by provider

  // Plain answers.
  for (int i = 0; i < 3; ++i) {
    auto r = world.chat("chat-pool", "hello " + std::to_string(i));
    ASSERT_EQ(r.status, 200) << r.dump();
    ASSERT_EQ(attempts_of(r), 1);
    ++answered_by[r.header("x-apiproxy-provider")];
  }
  // One stream, read to its end.
  {
    auto s = world.stream(kChatPath, chat_body("chat-pool", "stream please", R"(,"stream":true)"));
    ASSERT_TRUE(s->read_head());
    ASSERT_EQ(s->status(), 200) << s->body();
    ++answered_by[s->header("x-apiproxy-provider")];
    s->read_body();
    ASSERT_TRUE(s->complete());
  }
  // Failover: alpha answers 503 until beta has taken at least one request over from it.
  world.alpha.configure(R"({"status":503})");
  int failovers = 0;
  for (int i = 0; i < 30 && failovers == 0; ++i) {
    auto r = world.chat("chat-pool", "failover " + std::to_string(i));
    ASSERT_EQ(r.status, 200) << r.dump();
    ASSERT_EQ(r.header("x-apiproxy-provider"), "beta");
    failovers += attempts_of(r) - 1;
    ++answered_by["beta"];
  }
  ASSERT_GE(failovers, 1) << "alpha was never tried first in 30 requests";
  // Every upstream failing: alpha directly, still 503 → 502 with no provider.
  auto failed = world.chat("alpha/gpt-4o-mini", "nobody home");
  ASSERT_EQ(failed.status, 502) << failed.dump();
  world.alpha.configure(R"({"status":0})");
  // MAX_QPS: the first request passes, the second is refused.
  auto first = world.chat("limited-pool", "one");
  ASSERT_EQ(first.status, 200) << first.dump();
  auto second = world.chat("limited-pool", "two");
  ASSERT_EQ(second.status, 429) << second.dump();
  // A model nobody serves.
  auto unknown = world.chat("no-such-model", "x");
  ASSERT_EQ(unknown.status, 404) << unknown.dump();

  auto r = scrape();
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_EQ(r.header("content-type"), "text/plain; version=0.0.4; charset=utf-8");
  Metrics m(r.body);
  SCOPED_TRACE(r.body);

  // apiproxy_requests_total, by the provider each answer named.
  int chat_pool_total = 0;
  for (const auto& [provider, n] : answered_by) {
    EXPECT_EQ(m(requests(chat, "chat-pool", provider, 200)), n) << provider;
    chat_pool_total += n;
  }
  EXPECT_EQ(m.sum("apiproxy_requests_total{route=\"/v1/chat/completions\",logical_model=\"chat-pool\""), chat_pool_total);
  EXPECT_EQ(m(requests(chat, "alpha/gpt-4o-mini", "none", 502)), 1);
  EXPECT_EQ(m(requests(chat, "limited-pool", "alpha", 200)), 1);
  EXPECT_EQ(m(requests(chat, "limited-pool", "none", 429)), 1);
  EXPECT_EQ(m(requests(chat, "none", "none", 404)), 1);
  EXPECT_EQ(m.sum("apiproxy_requests_total{"), chat_pool_total + 4);

  // Attempts and failovers agree with X-APIProxy-Attempts and with what the mocks saw.
  EXPECT_EQ(m("apiproxy_upstream_attempts_total{logical_model=\"chat-pool\",provider=\"alpha\",outcome=\"retryable_status\"}"),
            failovers);
  EXPECT_EQ(m("apiproxy_failovers_total{logical_model=\"chat-pool\"}"), failovers);
  EXPECT_EQ(m.sum("apiproxy_upstream_attempts_total{logical_model=\"chat-pool\",provider=\"beta\",outcome=\"success\"}") +
                m.sum("apiproxy_upstream_attempts_total{logical_model=\"chat-pool\",provider=\"alpha\",outcome=\"success\"}"),
            chat_pool_total);
  EXPECT_EQ(m("apiproxy_upstream_attempts_total{logical_model=\"alpha/gpt-4o-mini\",provider=\"alpha\",outcome=\"retryable_status\"}"),
            1);
  EXPECT_EQ(m.sum("apiproxy_upstream_attempts_total{"), world.count("alpha") + world.count("beta"));
  EXPECT_EQ(m("apiproxy_rate_limited_requests_total{logical_model=\"limited-pool\"}"), 1);

  // Histograms: one observation per request, cumulative buckets ending at _count.
  for (const char* h : {"apiproxy_request_duration_seconds", "apiproxy_first_byte_seconds"}) {
    std::string base = h;
    double count = 0;
    for (const auto& [provider, n] : answered_by) {
      std::string labels = pair_labels("chat-pool", provider);
      EXPECT_EQ(m(base + "_count" + labels), n) << base << " " << provider;
      std::string inf = "{logical_model=\"chat-pool\",provider=\"" + provider + "\",le=\"+Inf\"}";
      EXPECT_EQ(m(base + "_bucket" + inf), n) << base << " " << provider;
      EXPECT_GT(m(base + "_sum" + labels), 0) << base << " " << provider;
      count += m(base + "_count" + labels);
    }
    EXPECT_EQ(count, chat_pool_total) << base;
    EXPECT_EQ(m(base + "_count" + pair_labels("none", "none")), 1) << base << ": the 404";
  }

  // Gauges and the rest.
  EXPECT_EQ(m("apiproxy_in_flight_streams"), 0);
  EXPECT_TRUE(m.has("apiproxy_in_flight_requests"));
  EXPECT_EQ(m("apiproxy_build_info{version=\"0.1.0\"}"), 1);
  EXPECT_GT(m("apiproxy_process_start_time_seconds"), 1.7e9);
  EXPECT_EQ(m("apiproxy_store_reachable{store=\"redis\"}"), 1);
  EXPECT_TRUE(m.has("apiproxy_redis_errors_total{kind=\"timeout\"}"));
  EXPECT_EQ(m("apiproxy_upstream_healthy" + pair_labels("chat-pool", "beta")), 1);
  EXPECT_TRUE(m.has("apiproxy_upstream_in_flight" + pair_labels("limited-pool", "alpha")));
  EXPECT_TRUE(Contains(r.body, "# TYPE apiproxy_plugin_faults_total counter\n"));

  // The live text passes Prometheus's own parser and linter. scripts/install-deps.sh
  // installs promtool, so its absence fails rather than skips.
  ASSERT_FALSE(which("promtool").empty()) << "promtool is not installed (Debian package prometheus)";
  auto check = run_command({which("promtool"), "check", "metrics"}, base_env(), 20s, r.body);
  EXPECT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_EQ(check.out + check.err, "") << "promtool lint problems";
}

TEST_F(MetricsEndpoint, InFlightGaugesCountAnOpenStream) {
  start();
  for (const auto* mock : {&world.alpha, &world.beta}) mock->configure(R"({"chunks":3,"chunk_interval_ms":300})");
  auto s = world.stream(kChatPath, chat_body("chat-pool", "slow stream", R"(,"stream":true)"));
  ASSERT_TRUE(s->read_head());
  ASSERT_EQ(s->status(), 200);
  ASSERT_TRUE(s->next_event()) << "no first event";
  ASSERT_FALSE(s->complete()) << "the stream ended before the scrape";
  Metrics during = metrics();
  EXPECT_EQ(during("apiproxy_in_flight_streams"), 1) << during.text();
  EXPECT_EQ(during("apiproxy_in_flight_requests"), 1) << during.text();
  s->read_body();
  ASSERT_TRUE(s->complete());
  // The gauges come down once the gateway has finished the request on its side.
  std::string last;
  EXPECT_TRUE(eventually(
      [&] {
        Metrics after = metrics();
        last = after.text();
        return after("apiproxy_in_flight_streams") == 0 && after("apiproxy_in_flight_requests") == 0;
      },
      10s))
      << last;
}

TEST_F(MetricsEndpoint, NeedsTheTokenLikeTheControlPlane) {
  start();
  auto anonymous = world.client().get("/metrics");
  EXPECT_EQ(anonymous.status, 401) << anonymous.dump();
  auto wrong = world.client().get("/metrics", {bearer("not-the-token")});
  EXPECT_EQ(wrong.status, 401) << wrong.dump();
  auto ok = world.client().get("/metrics", {api_key_header(kToken)});
  EXPECT_EQ(ok.status, 200) << ok.dump();
}

TEST(MetricsWithoutToken, IsOpenWhenNoTokenIsSet) {
  MockUpstream mock({"--name", "solo"});
  EnvMap env = gateway_env();
  add_provider(env, "solo", mock.base_url(), "sk-solo-0000", {{"ADAPTER", "openai"}});
  Gateway gw(env);
  auto r = gw.client().get("/metrics");
  ASSERT_EQ(r.status, 200) << r.dump();
  Metrics m(r.body);
  EXPECT_EQ(m("apiproxy_store_reachable{store=\"memory\"}"), 1) << r.body;
  EXPECT_EQ(m.sum("apiproxy_requests_total{"), 0) << r.body;
}

}  // namespace
}  // namespace it
