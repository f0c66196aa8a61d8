// Upstreams that are down, slow, reject the key or fail: health says so with a reason,
// model listing answers 502 quickly, and nothing hangs.
#include <sys/socket.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>

#include <gtest/gtest.h>

#include "assertions.hpp"
#include "json.hpp"
#include "services.hpp"

namespace it {
namespace {

constexpr const char* kToken = "upstream-failure-token";

// A loopback port with a socket that listens but never accepts nor answers.
class BlackHole {
 public:
  BlackHole() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~BlackHole() { ::close(fd_); }
  uint16_t port() const { return port_; }

 private:
  int fd_;
  uint16_t port_;
};

class UpstreamFailure : public ::testing::Test {
 protected:
  void start(const EnvMap& extra = {}) {
    EnvMap env = gateway_env({{"APIPROXY_AUTH_TOKEN", kToken},
                              {"APIPROXY_HEALTH_TIMEOUT_MS", "500"},
                              {"APIPROXY_UPSTREAM_TIMEOUT_MS", "1500"},
                              {"APIPROXY_UPSTREAM_CONNECT_TIMEOUT_MS", "1000"}});
    for (const auto& [k, v] : extra) env[k] = v;
    gateway = std::make_unique<Gateway>(env);
  }
  Response get(const std::string& path) const { return gateway->client(8s).get(path, {bearer(kToken)}); }

  // GET /providers/{id}/health → status "down" with a reason; returns the reason.
  std::string expect_down(const std::string& id) const {
    auto r = get("/providers/" + id + "/health");
    EXPECT_EQ(r.status, 200) << r.dump();
    if (r.status != 200) return {};
    auto d = parse_json(r.body);
    EXPECT_EQ(str(d, "provider_id"), id);
    EXPECT_EQ(str(d, "status"), "down") << r.body;
    std::string why = str(d, "error_message");
    EXPECT_FALSE(why.empty()) << "no error_message in " << r.body;
    return why;
  }

  // GET /providers/{id}/models → 502 (upstream_error) naming the provider.
  void expect_models_502(const std::string& id, const std::string& message_part = "") const {
    auto r = get("/providers/" + id + "/models");
    ASSERT_TRUE(r.answered()) << r.error;
    EXPECT_EQ(r.status, 502) << r.dump();
    auto d = parse_json(r.body);
    EXPECT_EQ(str(d, "error"), "upstream_error") << r.body;
    EXPECT_TRUE(Contains(str(d, "message"), id));
    if (!message_part.empty()) {
      EXPECT_TRUE(Contains(str(d, "message"), message_part));
    }
  }

  std::unique_ptr<Gateway> gateway;
};

TEST_F(UpstreamFailure, ClosedPortIsDownAndModelsAre502) {
  uint16_t closed = free_port();
  EnvMap env;
  add_provider(env, "dead", "http://127.0.0.1:" + std::to_string(closed), "sk-dead-key", {{"ADAPTER", "openai"}});
  start(env);
  std::string why = expect_down("dead");
  EXPECT_TRUE(Contains(why, "refused")) << why;
  expect_models_502("dead");
  // The failed start-up discovery was logged, and the gateway is fine.
  EXPECT_TRUE(Contains(gateway->log(), "dead"));
  EXPECT_EQ(gateway->client().get("/health").status, 200);
}

TEST_F(UpstreamFailure, SilentUpstreamTimesOutInsteadOfHanging) {
  BlackHole hole;
  EnvMap env;
  add_provider(env, "silent", "http://127.0.0.1:" + std::to_string(hole.port()), "sk-silent-key", {{"ADAPTER", "openai"}});
  start(env);
  auto started = Clock::now();
  expect_down("silent");
  auto r = get("/providers/silent/models");
  ASSERT_TRUE(r.answered()) << "the gateway did not answer within the client timeout: " << r.error;
  EXPECT_TRUE(r.status == 502 || r.status == 504) << r.dump();
  EXPECT_LT(Clock::now() - started, 8s);
}

TEST_F(UpstreamFailure, SlowUpstreamIsDownAfterTheHealthTimeout) {
  MockUpstream slow({"--latency-ms", "5000"});
  EnvMap env;
  add_provider(env, "slow", slow.base_url(), "sk-slow-key");
  start(env);
  auto why = expect_down("slow");
  EXPECT_FALSE(why.empty());
}

TEST_F(UpstreamFailure, RejectedKeyIsDownMentioningTheKey) {
  MockUpstream strict({"--require-key", "sk-the-right-key-000000"});
  EnvMap env;
  add_provider(env, "strict", strict.base_url(), "sk-the-wrong-key-111111", {{"ADAPTER", "openai"}});
  start(env);
  std::string why = expect_down("strict");
  EXPECT_TRUE(Contains(why, "401"));
  EXPECT_TRUE(Contains(why, "key")) << why;
  expect_models_502("strict", "401");
  EXPECT_TRUE(LacksSecret(gateway->log(), "sk-the-wrong-key-111111"));
}

TEST_F(UpstreamFailure, RejectedKeyOnAzureIsDownToo) {
  MockUpstream strict({"--require-key", "azure-right-key-0000000"});
  EnvMap env;
  add_provider(env, "az", strict.base_url(), "azure-wrong-key-1111111",
               {{"ADAPTER", "azure"}, {"MODELS_PATH", "/openai/models"}});
  start(env);
  std::string why = expect_down("az");
  EXPECT_TRUE(Contains(why, "key")) << why;
  expect_models_502("az", "401");
}

TEST_F(UpstreamFailure, ServerErrorsAreDownAndModelsAre502) {
  MockUpstream broken({"--status", "500"});
  EnvMap env;
  add_provider(env, "broken", broken.base_url(), "sk-broken-key");
  start(env);
  EXPECT_TRUE(Contains(expect_down("broken"), "500"));
  expect_models_502("broken", "500");
}

TEST_F(UpstreamFailure, WrongModelsPathIsDownWithAHint) {
  MockUpstream mock;
  EnvMap env;
  add_provider(env, "typo", mock.base_url(), "sk-typo-key", {{"MODELS_PATH", "/v1/modelz"}});
  start(env);
  EXPECT_TRUE(Contains(expect_down("typo"), "404"));
  expect_models_502("typo", "404");
}

TEST_F(UpstreamFailure, RecoveryIsSeenOnTheNextProbe) {
  MockUpstream flaky({"--status", "503"});
  EnvMap env;
  add_provider(env, "flaky", flaky.base_url(), "sk-flaky-key");
  start(env);
  expect_down("flaky");
  flaky.configure(R"({"status":0})");
  auto r = get("/providers/flaky/health");
  ASSERT_EQ(r.status, 200) << r.dump();
  auto d = parse_json(r.body);
  EXPECT_EQ(str(d, "status"), "healthy") << r.body;
  EXPECT_GT(num(d, "last_successful_check"), 1.6e9) << r.body;
  auto models = get("/providers/flaky/models");
  EXPECT_EQ(models.status, 200) << models.dump();
}

TEST_F(UpstreamFailure, LastGoodModelListSurvivesAnUpstreamOutage) {
  MockUpstream mock({"--models", "m-one,m-two"});
  EnvMap env;
  add_provider(env, "p", mock.base_url(), "sk-p-key");
  start(env);
  auto first = get("/providers/p/models");
  ASSERT_EQ(first.status, 200) << first.dump();
  mock.configure(R"({"status":500})");
  auto later = get("/providers/p/models");
  ASSERT_EQ(later.status, 200) << later.dump();
  EXPECT_EQ(pluck(arr(parse_json(later.body), "models"), "model_id"), (std::vector<std::string>{"m-one", "m-two"}));
}

TEST_F(UpstreamFailure, ClientGoneBeforeTheProbeFinishesIsHarmless) {
  MockUpstream slow({"--latency-ms", "300"});
  EnvMap env;
  add_provider(env, "slow", slow.base_url(), "sk-slow-key");
  start(env);
  for (int i = 0; i < 10; ++i) {
    RawSocket s(gateway->port());
    s.send("GET /providers/slow/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + base64(kToken) + "\r\n\r\n");
    RawSocket m(gateway->port());
    m.send("GET /providers/slow/models HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + base64(kToken) + "\r\n\r\n");
  }  // both hang up at once
  std::this_thread::sleep_for(500ms);  // the probes finish and answer into closed sockets
  EXPECT_TRUE(gateway->running());
  auto r = get("/providers/slow/health");
  EXPECT_EQ(r.status, 200) << r.dump();
}

TEST_F(UpstreamFailure, SigtermWithARequestInFlightStopsCleanly) {
  MockUpstream slow({"--latency-ms", "3000"});
  EnvMap env;
  add_provider(env, "slow", slow.base_url(), "sk-slow-key");
  env["APIPROXY_HEALTH_TIMEOUT_MS"] = "5000";
  start(env);
  RawSocket s(gateway->port());
  s.send("GET /providers/slow/health HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + base64(kToken) + "\r\n\r\n");
  std::this_thread::sleep_for(100ms);
  auto started = Clock::now();
  EXPECT_EQ(gateway->stop(), 0);
  EXPECT_LT(Clock::now() - started, 5s);
}

TEST_F(UpstreamFailure, ManyConcurrentProbesOfADeadProviderAllAnswer) {
  uint16_t closed = free_port();
  EnvMap env;
  add_provider(env, "dead", "http://127.0.0.1:" + std::to_string(closed), "sk-dead-key");
  start(env);
  std::vector<std::thread> threads;
  std::atomic<int> answered{0};
  for (int i = 0; i < 16; ++i)
    threads.emplace_back([&, i] {
      auto r = gateway->client(8s).get(i % 2 ? "/providers/dead/health" : "/providers/dead/models", {bearer(kToken)});
      if (r.status == 200 || r.status == 502) ++answered;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(answered.load(), 16);
}

}  // namespace
}  // namespace it
