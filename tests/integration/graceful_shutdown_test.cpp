// Graceful shutdown and readiness, from outside. SIGTERM: the gateway stops accepting,
// closes idle keep-alive connections, lets the requests and streams in flight finish (up
// to APIPROXY_SHUTDOWN_GRACE_SECONDS), publishes its metrics one last time and exits 0; a
// second signal stops it at once. GET /health/ready answers 503 with its reasons while the
// instance should get no traffic (an unreachable store only degrades it). Real gateway and plugins, redis-server and mock upstreams
// (support/data_plane.hpp); every wait is bounded.
#include <csignal>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "assertions.hpp"
#include "data_plane.hpp"
#include "operations.hpp"

namespace it {
namespace {

using namespace dp;
using namespace std::chrono_literals;

// A connection to the gateway can no longer be made.
bool refuses_connections(uint16_t port) {
  RawSocket probe(port, 1s);
  return probe.peer_closed();  // set when connect() failed
}

// The HTTP status of a raw response ("HTTP/1.1 503 ..."), 0 when there is none.
int raw_status(const std::string& raw) {
  return raw.rfind("HTTP/1.1 ", 0) == 0 && raw.size() >= 12 ? std::stoi(raw.substr(9, 3)) : 0;
}

// Sum of total_requests_1m over the given providers of `logical` in Redis (what the
// gateway last published).
double published_requests(const RedisServer& redis, const std::string& logical, const std::vector<std::string>& providers) {
  double total = 0;
  for (const auto& p : providers) {
    std::string doc = redis.cli({"GET", "llm:metrics:" + logical + ":" + p});
    if (doc.empty()) continue;
    double n = num(parse_json(doc), "total_requests_1m", 0);
    total += n > 0 ? n : 0;
  }
  return total;
}

class GracefulShutdown : public ::testing::Test {
 protected:
  // The data-plane world with both pool upstreams streaming `chunks` pieces `interval_ms`
  // apart.
  void start(int chunks, int interval_ms, EnvMap extra = {}) {
    world.start(extra);
    for (const auto* m : {&world.alpha, &world.beta})
      m->configure("{\"chunks\":" + std::to_string(chunks) + ",\"chunk_interval_ms\":" + std::to_string(interval_ms) + "}");
  }
  // A chat-pool stream whose head and first event have arrived (so it is in flight).
  std::unique_ptr<SseStream> open_stream(const std::string& message, std::vector<std::string>& first) {
    return ops::in_flight(world.stream(kChatPath, chat_body("chat-pool", message, R"(,"stream":true)"), {}, 10s),
                          first);
  }
  Process& gateway() { return world.gateway->process(); }
  std::string log() const { return world.gateway->log(); }

  World world;
};

// ----------------------------------------------------------------------- the drain ---

TEST_F(GracefulShutdown, StreamsInFlightFinishWhileNewConnectionsAreRefusedThenTheProcessExitsZero) {
  constexpr int kStreams = 5, kChunks = 8;
  // Metrics are published at start and then only when the process ends.
  start(kChunks, 250, {{"APIPROXY_METRICS_FLUSH_MS", "600000"}});
  const uint16_t port = world.gateway->port();

  // A keep-alive connection that is in the middle of sending its next request when the
  // signal comes: not idle, so the drain lets it finish, and it sees the drain's readiness.
  RawSocket pending(port, 10s);
  ASSERT_TRUE(pending.send("GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  std::string first_answer = pending.read_until("\"degraded\":[]}");
  ASSERT_EQ(raw_status(first_answer), 200) << first_answer;
  EXPECT_TRUE(Contains(first_answer, R"({"ready":true,"reasons":[],"degraded":[]})"));

  std::vector<std::unique_ptr<SseStream>> streams;
  std::vector<std::vector<std::string>> firsts(kStreams);
  for (int i = 0; i < kStreams; ++i) streams.push_back(open_stream("drain me " + std::to_string(i), firsts[i]));
  ASSERT_TRUE(pending.send("GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n"));  // the head is not finished
  std::this_thread::sleep_for(200ms);  // (ordering only) let the gateway read those bytes

  gateway().signal(SIGTERM);
  ASSERT_TRUE(eventually([&] { return refuses_connections(port); }, 3s, 10ms))
      << "new connections are still accepted after SIGTERM";
  // That was the drain, not the end: the process and the streams are still going.
  ASSERT_TRUE(world.gateway->running()) << "the gateway exited with streams in flight";
  for (auto& s : streams) ASSERT_FALSE(s->complete()) << "a stream had ended before the refusal was seen";
  auto refused = world.client(2s).get("/health");
  EXPECT_FALSE(refused.answered()) << refused.dump();

  // The connection that was mid-request gets its answer: not ready, shutting down, and the
  // connection is closed after it.
  ASSERT_TRUE(pending.send("\r\n"));
  std::string drained = pending.read_all();
  std::string answer = drained.substr(first_answer.size());
  EXPECT_EQ(raw_status(answer), 503) << answer;
  EXPECT_TRUE(Contains(answer, R"("ready":false)"));
  EXPECT_TRUE(Contains(answer, "shutting down"));
  EXPECT_TRUE(Contains(answer, "Connection: close"));
  EXPECT_TRUE(pending.peer_closed());

  // Every stream ends whole.
  std::set<std::string> providers;
  for (int i = 0; i < kStreams; ++i) {
    auto summary = ops::finish_stream(*streams[i], firsts[i]);
    EXPECT_EQ(summary.status, 200) << i << ": " << summary.dump();
    EXPECT_TRUE(summary.done()) << i << ": " << summary.dump();
    EXPECT_TRUE(summary.complete) << i << ": " << summary.dump();
    EXPECT_EQ(summary.content_events, kChunks) << i << ": " << summary.dump();
    EXPECT_EQ(summary.content, reply_of(summary.provider, "drain me " + std::to_string(i))) << summary.dump();
    providers.insert(summary.provider);
  }

  // Then the process exits by itself, with 0, well within the 30 s grace.
  auto code = gateway().wait_exit(10s);
  ASSERT_TRUE(code) << "the gateway did not exit after its streams finished";
  EXPECT_EQ(*code, 0);
  std::string text = log();
  EXPECT_TRUE(Contains(text, "signal 15 received: no new connections"));
  EXPECT_TRUE(Contains(text, "every request finished"));
  EXPECT_TRUE(Contains(text, "metrics flushed; stopping"));
  EXPECT_FALSE(Contains(text, "are cut"));
  // The last flush published the streams it served.
  EXPECT_EQ(published_requests(world.redis, "chat-pool", {"alpha", "beta"}), kStreams)
      << world.redis.cli({"GET", "llm:metrics:chat-pool:alpha"}) << "\n" << world.redis.cli({"GET", "llm:metrics:chat-pool:beta"});
}

TEST_F(GracefulShutdown, GracePeriodOverCutsWhatIsStillRunning) {
  // A stream of 40 × 250 ms = 10 s against a grace of 1 s.
  start(40, 250, {{"APIPROXY_SHUTDOWN_GRACE_SECONDS", "1"}});
  std::vector<std::string> first;
  auto s = open_stream("too long to wait for", first);
  ASSERT_FALSE(first.empty());

  gateway().signal(SIGTERM);
  auto code = gateway().wait_exit(8s);
  ASSERT_TRUE(code) << "the gateway was still running 8 s after SIGTERM with a 1 s grace";
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(Contains(log(), "grace period over: 1 connection(s) still open are cut"));
  EXPECT_TRUE(Contains(log(), "metrics flushed; stopping"));
  // The client saw its stream end early, without [DONE].
  auto summary = ops::finish_stream(*s, first);
  EXPECT_FALSE(summary.done()) << summary.dump();
  EXPECT_FALSE(summary.complete) << summary.dump();
  EXPECT_LT(summary.content_events, 40) << summary.dump();
}

TEST_F(GracefulShutdown, ASecondSignalStopsAtOnce) {
  start(40, 250);  // a 10 s stream; the grace is the default 30 s
  std::vector<std::string> first;
  auto s = open_stream("interrupted", first);
  gateway().signal(SIGTERM);
  ASSERT_TRUE(gateway().wait_for_line(true, "signal 15 received", 5s)) << log();
  ASSERT_TRUE(world.gateway->running()) << "the first signal should wait for the stream";
  gateway().signal(SIGTERM);
  auto code = gateway().wait_exit(5s);
  ASSERT_TRUE(code) << "still running 5 s after the second SIGTERM";
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(Contains(log(), "signal 15 received again: stopping now, 1 connection(s) cut"));
  auto summary = ops::finish_stream(*s, first);
  EXPECT_FALSE(summary.done()) << summary.dump();
}

TEST_F(GracefulShutdown, SigintDrainsLikeSigterm) {
  start(4, 100);
  std::vector<std::string> first;
  auto s = open_stream("interrupt politely", first);
  gateway().signal(SIGINT);
  auto summary = ops::finish_stream(*s, first);
  EXPECT_TRUE(summary.done()) << summary.dump();
  EXPECT_EQ(summary.content_events, 4) << summary.dump();
  auto code = gateway().wait_exit(10s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
  EXPECT_TRUE(Contains(log(), "signal 2 received: no new connections"));
}

TEST_F(GracefulShutdown, AnIdleGatewayClosesItsKeepAliveConnectionsAndExitsPromptly) {
  start(3, 0);
  // An idle keep-alive connection: one request answered, the connection left open.
  RawSocket idle(world.gateway->port(), 5s);
  ASSERT_TRUE(idle.send("GET /health/ready HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
  std::string answered = idle.read_until("\"degraded\":[]}");
  ASSERT_EQ(raw_status(answered), 200) << answered;
  ASSERT_FALSE(idle.peer_closed());

  gateway().signal(SIGTERM);
  // With the default 30 s grace, only closing the idle connection at once lets it exit now.
  auto code = gateway().wait_exit(5s);
  ASSERT_TRUE(code) << "an idle gateway was still running 5 s after SIGTERM";
  EXPECT_EQ(*code, 0);
  EXPECT_FALSE(idle.read_more(2s));
  EXPECT_TRUE(idle.peer_closed()) << "the idle keep-alive connection was not closed";
  EXPECT_EQ(idle.received(), answered) << "nothing more should have come on the idle connection";
  EXPECT_TRUE(Contains(log(), "every request finished"));
  EXPECT_TRUE(Contains(log(), "stopped"));
}

// --------------------------------------------------------------------- readiness ---

// A Redis outage degrades the instance but does not take it out of rotation: the data
// plane keeps serving from its cached catalog, and a blip must not empty a load balancer.
TEST(Readiness, AStoreOutageIsDegradedNotUnready) {
  RedisServer redis;
  MockUpstream alpha{{"--name", "alpha"}};
  EnvMap env = gateway_env({{"APIPROXY_AUTH_TOKEN", kToken}, {"REDIS_URL", redis.url()}});
  add_provider(env, "alpha", alpha.base_url(), "sk-alpha-0123456789", {{"ADAPTER", "openai"}});
  Gateway gw(env);
  auto c = gw.client(5s);

  auto ready = c.get("/health/ready");  // open: no token
  ASSERT_EQ(ready.status, 200) << ready.dump();
  EXPECT_EQ(ready.body, R"({"ready":true,"reasons":[],"degraded":[]})");
  auto live = c.get("/health/live");
  ASSERT_EQ(live.status, 200) << live.dump();
  auto health = c.get("/health");
  ASSERT_EQ(health.status, 200);
  EXPECT_EQ(str(parse_json(live.body), "status"), "ok");
  EXPECT_EQ(str(parse_json(live.body), "status"), str(parse_json(health.body), "status"));

  redis.stop();
  Response r;
  ASSERT_TRUE(eventually([&] {
    r = c.get("/health/ready");
    return Contains(r.body, "store unreachable");
  }, 10s, 100ms)) << r.dump();
  EXPECT_EQ(r.status, 200) << r.dump();
  EXPECT_TRUE(Contains(r.body, R"("ready":true,"reasons":[])")) << r.body;
  auto degraded = strings(parse_json(r.body), "degraded");
  ASSERT_EQ(degraded.size(), 1u) << r.body;
  EXPECT_EQ(degraded[0].rfind("store unreachable", 0), 0u) << r.body;
  EXPECT_EQ(c.get("/health/live").status, 200);

  redis.start();
  ASSERT_TRUE(eventually([&] { return (r = c.get("/health/ready")).body.find("unreachable") == std::string::npos; },
                         15s, 100ms)) << r.dump();
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"ready":true,"reasons":[],"degraded":[]})");
}

TEST(Readiness, AStoreThatIsNeverThereIsDegradedFromTheStart) {
  MockUpstream alpha{{"--name", "alpha"}};
  EnvMap env = gateway_env({{"APIPROXY_AUTH_TOKEN", kToken},
                            {"REDIS_URL", "redis://127.0.0.1:" + std::to_string(free_port()) + "/0"}});
  add_provider(env, "alpha", alpha.base_url(), "sk-alpha-0123456789", {{"ADAPTER", "openai"}});
  Gateway gw(env);
  auto r = gw.client(5s).get("/health/ready");
  ASSERT_EQ(r.status, 200) << r.dump();
  auto degraded = strings(parse_json(r.body), "degraded");
  ASSERT_EQ(degraded.size(), 1u) << r.body;
  EXPECT_EQ(degraded[0].rfind("store unreachable", 0), 0u) << r.body;
  EXPECT_EQ(gw.client(5s).get("/health/live").status, 200);
  // It still shuts down cleanly.
  gw.process().signal(SIGTERM);
  auto code = gw.process().wait_exit(10s);
  ASSERT_TRUE(code);
  EXPECT_EQ(*code, 0);
}

}  // namespace
}  // namespace it
