// Failover and failure on the data plane: forced 5xx, fail-first, Retry-After cool-downs,
// non-retryable errors, every upstream down, timeouts, broken and abandoned streams, and
// many clients hanging up at once. Real gateway, plugins, redis-server and mocks
// (support/data_plane.hpp); every exchange has a bounded client timeout.
#include <atomic>
#include <cctype>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "assertions.hpp"
#include "data_plane.hpp"

namespace it {
namespace {

using namespace dp;
using namespace std::chrono_literals;

int attempts_of(const Response& r) {
  std::string a = r.header("x-apiproxy-attempts");
  return a.empty() ? 0 : std::stoi(a);
}

// GET /__mock/config → fail_first left.
int fail_first_left(const MockUpstream& m) {
  auto r = HttpClient(m.port()).get("/__mock/config");
  return static_cast<int>(num(parse_json(r.body), "fail_first"));
}

std::string raw_chat_request(const std::string& body) {
  return "POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + base64(kToken) +
         "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
}

class Failover : public ::testing::Test {
 protected:
  World world;
};

TEST_F(Failover, ForcedServerErrorFailsOverForEveryRequestOfABatch) {
  world.start();
  world.alpha.configure(R"({"status":503})");
  int extra_attempts = 0, retried = 0;
  for (int i = 0; i < 30; ++i) {
    std::string msg = "batch " + std::to_string(i);
    auto r = world.chat("chat-pool", msg);
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.header("x-apiproxy-provider"), "beta");
    EXPECT_EQ(content_of(r.body), reply_of("beta", msg));
    int a = attempts_of(r);
    EXPECT_TRUE(a == 1 || a == 2) << r.dump();
    extra_attempts += a - 1;
    retried += a == 2;
  }
  // Every try on alpha failed and was followed by one on beta, which the header counts.
  EXPECT_EQ(world.count("alpha"), extra_attempts);
  EXPECT_EQ(world.count("beta"), 30);
  EXPECT_GE(retried, 1) << "alpha was never tried first in 30 requests";
}

TEST_F(Failover, FailFirstFailuresAreRetriedOnTheOtherUpstream) {
  world.start();
  world.alpha.configure(R"({"fail_first":3})");
  int extra_attempts = 0;
  std::set<std::string> answered_by;
  for (int i = 0; i < 30; ++i) {
    auto r = world.chat("chat-pool", "flaky " + std::to_string(i));
    ASSERT_EQ(r.status, 200) << r.dump();
    answered_by.insert(r.header("x-apiproxy-provider"));
    extra_attempts += attempts_of(r) - 1;
  }
  int consumed = 3 - fail_first_left(world.alpha);
  EXPECT_GE(consumed, 1) << "alpha was never tried";
  EXPECT_EQ(extra_attempts, consumed) << "each transient failure should cost exactly one extra attempt";
  EXPECT_EQ(world.count("alpha") + world.count("beta"), 30 + consumed);
  // Once its failures are used up, alpha answers again (directly: a single candidate).
  world.alpha.configure(R"({"fail_first":0})");
  auto r = world.chat("alpha/gpt-4o-mini", "recovered");
  EXPECT_EQ(r.status, 200) << r.dump();
}

TEST_F(Failover, RetryAfterCoolsTheUpstreamDown) {
  world.start();
  world.alpha.configure(R"({"status":503,"retry_after":30})");
  for (int i = 0; i < 25; ++i) {
    auto r = world.chat("chat-pool", "cool " + std::to_string(i));
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.header("x-apiproxy-provider"), "beta");
  }
  // Tried once; its Retry-After: 30 kept every later request away from it.
  EXPECT_EQ(world.count("alpha"), 1);
  EXPECT_EQ(world.count("beta"), 25);

  // The routing decision agrees: alpha is not a candidate while it cools down.
  auto d = world.post("/routing/decide", R"({"logical_model":"chat-pool"})");
  ASSERT_EQ(d.status, 200) << d.dump();
  auto doc = parse_json(d.body);
  std::vector<std::string> candidates;
  for (const auto& c : arr(doc, "all_candidates").GetArray()) candidates.push_back(str(c["upstream"], "provider_id"));
  EXPECT_EQ(candidates, std::vector<std::string>{"beta"}) << d.body;
  std::string reasoning = str(doc, "reasoning");
  EXPECT_TRUE(Contains(reasoning, "alpha")) << "the reasoning should say why alpha was left out";
  // KNOWN BUG (reported): a cooling-down upstream is reported as "at its QPS limit (0/s)"
  // although alpha has no MAX_QPS; the reason should name the Retry-After cool-down.
  std::string lower = reasoning;
  for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  EXPECT_TRUE(Contains(lower, "retry-after") || Contains(lower, "cool"))
      << "the reason given for leaving alpha out is wrong: " << reasoning;
}

TEST_F(Failover, NonRetryableClientErrorsPassThroughUnchangedWithoutFailover) {
  world.start();
  long long before = 0;
  for (int status : {400, 404, 422}) {
    std::string cfg = "{\"status\":" + std::to_string(status) + "}";
    world.alpha.configure(cfg);
    world.beta.configure(cfg);
    auto r = world.chat("chat-pool", "bad " + std::to_string(status));
    ASSERT_EQ(r.status, status) << r.dump();
    std::string provider = r.header("x-apiproxy-provider");
    ASSERT_TRUE(provider == "alpha" || provider == "beta") << r.dump();
    EXPECT_EQ(r.header("x-apiproxy-attempts"), "1");
    EXPECT_TRUE(Contains(r.header("content-type"), "application/json"));
    // Byte for byte what the mock sent.
    std::string code = status == 400 ? "bad_request" : status == 404 ? "not_found" : "error";
    EXPECT_EQ(r.body, "{\"error\":{\"message\":\"mock forced status " + std::to_string(status) +
                          "\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":\"" + code + "\"}}");
    long long now = world.count("alpha") + world.count("beta");
    EXPECT_EQ(now - before, 1) << "a " << status << " must not be retried elsewhere";
    before = now;
  }
}

TEST_F(Failover, AllUpstreamsDownIs502NamingEachAttempt) {
  uint16_t closed = free_port();
  EnvMap extra = world.env();
  add_provider(extra, "dead", "http://127.0.0.1:" + std::to_string(closed), "sk-dead", {{"ADAPTER", "openai"}});
  auto models = default_logical_models();
  models["dead-pool"] = logical("dead-pool", {physical("alpha", "gpt-4o-mini"), physical("dead", "gpt-4o-mini")});
  world.start(extra, models);
  world.alpha.configure(R"({"status":503})");
  world.beta.configure(R"({"status":502})");

  auto r = world.chat("chat-pool", "nobody home");
  ASSERT_EQ(r.status, 502) << r.dump();
  auto d = parse_json(r.body);
  ASSERT_TRUE(d.HasMember("error") && d["error"].IsObject()) << r.body;
  const auto& e = d["error"];
  EXPECT_EQ(str(e, "type"), "api_error") << r.body;
  EXPECT_EQ(str(e, "code"), "upstream_error") << r.body;
  EXPECT_TRUE(e.HasMember("param")) << r.body;
  std::string msg = str(e, "message");
  EXPECT_TRUE(Contains(msg, "alpha/gpt-4o-mini"));
  EXPECT_TRUE(Contains(msg, "beta/gpt-4o-mini"));
  EXPECT_TRUE(Contains(msg, "503"));
  EXPECT_TRUE(Contains(msg, "502"));
  EXPECT_EQ(world.count("alpha"), 1);
  EXPECT_EQ(world.count("beta"), 1);

  // A refused connection counts as an attempt too, and is named.
  auto dead = world.chat("dead-pool", "refused");
  ASSERT_EQ(dead.status, 502) << dead.dump();
  std::string dmsg = str(parse_json(dead.body)["error"], "message");
  EXPECT_TRUE(Contains(dmsg, "dead/gpt-4o-mini"));
  EXPECT_TRUE(Contains(dmsg, "alpha/gpt-4o-mini"));

  // Repeated requests keep answering promptly (502, or 503 once both are known down).
  for (int i = 0; i < 5; ++i) {
    auto again = world.post(kChatPath, chat_body("chat-pool", "again"), {}, 5s);
    ASSERT_TRUE(again.answered()) << again.error;
    EXPECT_TRUE(again.status == 502 || again.status == 503) << again.dump();
  }
}

TEST_F(Failover, LogicalModelWithoutAConfiguredProviderIs503) {
  world.start();
  auto r = world.post(kChatPath, chat_body("ghost-pool", "anyone?"), {}, 5s);
  ASSERT_EQ(r.status, 503) << r.dump();
  auto d = parse_json(r.body);
  ASSERT_TRUE(d.HasMember("error") && d["error"].IsObject()) << r.body;
  EXPECT_EQ(str(d["error"], "code"), "no_upstream_available") << r.body;
  EXPECT_EQ(str(d["error"], "type"), "api_error") << r.body;
  EXPECT_TRUE(Contains(str(d["error"], "message"), "nowhere")) << "the message should say which provider is missing";
  EXPECT_EQ(world.count("alpha") + world.count("beta"), 0);
}

TEST_F(Failover, MaxAttemptsBoundsTheTries) {
  world.start({{"APIPROXY_MAX_ATTEMPTS", "1"}});
  world.alpha.configure(R"({"status":503})");
  int failed = 0;
  for (int i = 0; i < 20; ++i) {
    auto r = world.chat("chat-pool", "one shot " + std::to_string(i));
    if (r.status == 200) {
      EXPECT_EQ(r.header("x-apiproxy-provider"), "beta");
      EXPECT_EQ(r.header("x-apiproxy-attempts"), "1");
      continue;
    }
    ASSERT_EQ(r.status, 502) << r.dump();
    std::string msg = str(parse_json(r.body)["error"], "message");
    EXPECT_TRUE(Contains(msg, "alpha/gpt-4o-mini"));
    EXPECT_FALSE(Contains(msg, "beta")) << "APIPROXY_MAX_ATTEMPTS=1 allows no second try";
    ++failed;
  }
  EXPECT_EQ(world.count("alpha"), failed);
  EXPECT_EQ(world.count("beta"), 20 - failed);
}

TEST_F(Failover, FirstByteTimeoutFailsOverToAFasterUpstream) {
  world.start({{"APIPROXY_UPSTREAM_FIRST_BYTE_TIMEOUT_MS", "300"}});
  world.alpha.configure(R"({"latency_ms":5000})");
  int retried = 0;
  for (int i = 0; i < 8; ++i) {
    // The client gives up well before alpha would answer: an answer means the gateway did.
    auto r = world.post(kChatPath, chat_body("chat-pool", "hurry " + std::to_string(i)), {}, 3s);
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(r.header("x-apiproxy-provider"), "beta");
    retried += attempts_of(r) == 2;
  }
  EXPECT_EQ(world.count("alpha"), retried);

  world.beta.configure(R"({"latency_ms":5000})");
  auto r = world.post(kChatPath, chat_body("chat-pool", "both slow"), {}, 3s);
  ASSERT_EQ(r.status, 502) << r.dump();
  EXPECT_TRUE(Contains(r.body, "timeout"));
}

TEST_F(Failover, StalledStreamEndsWithAnInBandErrorAfterTheIdleTimeout) {
  world.start({{"APIPROXY_UPSTREAM_IDLE_TIMEOUT_MS", "300"}});
  for (const auto* m : {&world.alpha, &world.beta}) m->configure(R"({"chunks":3,"chunk_interval_ms":4000})");
  auto s = world.stream(kChatPath, chat_body("chat-pool", "stall", R"(,"stream":true)"), {}, 3s);
  ASSERT_TRUE(s->read_head());
  ASSERT_EQ(s->status(), 200);
  std::string provider = s->header("x-apiproxy-provider");
  auto events = s->rest();
  ASSERT_GE(events.size(), 3u) << s->body();
  EXPECT_EQ(str(parse_json(events[0]), "object"), "chat.completion.chunk");  // the role chunk came through
  EXPECT_EQ(events.back(), "[DONE]");
  auto err = parse_json(events[events.size() - 2]);
  ASSERT_TRUE(err.HasMember("error")) << events[events.size() - 2];
  EXPECT_EQ(str(err["error"], "code"), "upstream_stream_error");
  EXPECT_TRUE(Contains(str(err["error"], "message"), "idle"));
  EXPECT_TRUE(s->complete()) << "the chunked body should end properly after the error event";
  // The stalled upstream connection was dropped.
  EXPECT_TRUE(eventually([&] { return num(world.mock(provider).stats(), "active_streams") == 0; }, 3s, 50ms));
}

TEST_F(Failover, StreamCutByTheUpstreamEndsWithAnInBandError) {
  world.start();
  for (const auto* m : {&world.alpha, &world.beta}) m->configure(R"({"chunks":5,"reset_after_chunks":2})");
  auto s = world.stream(kChatPath, chat_body("chat-pool", "cut me off", R"(,"stream":true)"), {}, 5s);
  ASSERT_TRUE(s->read_head());
  ASSERT_EQ(s->status(), 200);
  auto events = s->rest();
  ASSERT_GE(events.size(), 2u) << s->body();
  EXPECT_EQ(events.back(), "[DONE]");
  EXPECT_TRUE(Contains(events[events.size() - 2], "upstream_stream_error"));
  int content_events = 0;
  for (const auto& e : events)
    if (Contains(e, "\"content\":\"") && !Contains(e, "\"content\":\"\"")) ++content_events;
  EXPECT_EQ(content_events, 2) << "the two chunks sent before the reset should reach the client";
  EXPECT_TRUE(s->complete());
  // The gateway carries on.
  for (const auto* m : {&world.alpha, &world.beta}) m->configure(R"({"reset_after_chunks":0})");
  EXPECT_EQ(world.chat("chat-pool", "after").status, 200);
}

TEST_F(Failover, ClientDisconnectMidStreamReleasesTheUpstream) {
  world.start();
  for (const auto* m : {&world.alpha, &world.beta}) m->configure(R"({"chunks":100,"chunk_interval_ms":100})");
  std::map<std::string, double> baseline;
  for (const std::string id : {"alpha", "beta"}) baseline[id] = num(world.mock(id).stats(), "open_connections");

  auto s = world.stream(kChatPath, chat_body("chat-pool", "a long story", R"(,"stream":true)"));
  ASSERT_TRUE(s->read_head());
  ASSERT_EQ(s->status(), 200);
  std::string provider = s->header("x-apiproxy-provider");
  ASSERT_TRUE(provider == "alpha" || provider == "beta") << provider;
  ASSERT_TRUE(s->next_event());  // the role chunk
  ASSERT_TRUE(s->next_event());  // the first content chunk
  const MockUpstream& mock = world.mock(provider);
  auto during = mock.stats();
  EXPECT_EQ(num(during, "active_streams"), 1);
  EXPECT_EQ(num(during, "open_connections"), baseline[provider] + 1);

  s->close();  // the client goes away ~10 s before the stream would end
  EXPECT_TRUE(eventually([&] { return num(mock.stats(), "active_streams") == 0; }, 4s, 50ms))
      << "the upstream stream is still running after the client left: " << to_string(mock.stats());
  EXPECT_TRUE(eventually([&] { return num(mock.stats(), "open_connections") <= baseline[provider]; }, 4s, 50ms))
      << "the gateway kept the upstream connection open: " << to_string(mock.stats());

  // Nothing broke: the next request is served.
  for (const auto* m : {&world.alpha, &world.beta}) m->configure(R"({"chunks":3,"chunk_interval_ms":0})");
  auto r = world.chat("chat-pool", "next one");
  EXPECT_EQ(r.status, 200) << r.dump();
  EXPECT_TRUE(world.gateway->running());
}

TEST_F(Failover, NoResponseReachesTheWrongClient) {
  world.start();
  for (const auto* m : {&world.alpha, &world.beta}) m->configure(R"({"latency_ms":300})");
  constexpr int kClients = 50;
  std::mutex mu;
  std::vector<std::string> problems;
  std::atomic<int> good{0};
  auto problem = [&](std::string what) {
    std::lock_guard lock(mu);
    problems.push_back(std::move(what));
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < kClients; ++i) {
    threads.emplace_back([&, i] {
      if (i % 2 == 0) {
        // Leaves before its (300 ms late) answer: its socket, and the gateway's fd for it,
        // are free for the clients that connect next.
        RawSocket s(world.gateway->port(), 2s);
        s.send(raw_chat_request(chat_body("chat-pool", "leaver-" + std::to_string(i))));
        std::this_thread::sleep_for(std::chrono::milliseconds(10 + (i % 5) * 25));
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds((i % 7) * 25));
      HttpConnection c(world.gateway->port(), 5s);
      for (const char* round : {"a", "b"}) {
        std::string msg = "stayer-" + std::to_string(i) + "-" + round;
        auto r = c.request("POST", kChatPath, {bearer(kToken), {"Content-Type", "application/json"}},
                           chat_body("chat-pool", msg));
        if (r.status != 200) return problem(msg + ": " + r.dump());
        std::string got = content_of(r.body);
        std::string provider = r.header("x-apiproxy-provider");
        if (got != reply_of(provider, msg)) return problem(msg + " got someone else's answer: " + got);
        ++good;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(problems.empty()) << [&] {
    std::string all;
    for (const auto& p : problems) all += p + "\n";
    return all;
  }();
  EXPECT_EQ(good.load(), kClients);  // 25 stayers × 2 requests
  EXPECT_TRUE(world.gateway->running());
}

}  // namespace
}  // namespace it
