// Issue 9: upstreams that misbehave. The mock upstream does what each request's body asks
// ("mock": {...}, tests/mock_upstream/misbehaviour.hpp), and every chat answer echoes the
// request's last message, so a client can prove an answer is its own:
//   1xx interim responses are skipped and never leak into a pooled connection's next
//   answer (contract item 7); garbage, resets, truncation, oversized headers and bodies fail
//   the attempt: failover, else a 502 in OpenAI's envelope, never a stale answer later (8);
//   an upstream that trickles for ever is cut at APIPROXY_UPSTREAM_TOTAL_TIMEOUT_MS (12);
//   a client that hangs up cancels its upstream call (13).
// Real gateway, plugins, redis-server and mocks (support/data_plane.hpp).
#include <atomic>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "adversary.hpp"
#include "assertions.hpp"
#include "data_plane.hpp"

namespace it {
namespace {

using namespace dp;
using namespace std::chrono_literals;
using adv::mock_field;
using adv::OpenAiError;

// The gateway buffers at most 64 MiB of a non-streamed answer (core/dataplane/proxied_request.cpp).
constexpr long long kTooLarge = 65LL * 1024 * 1024;

// `r` is a 200 from one of `providers` carrying the answer to `nonce`.
::testing::AssertionResult OwnAnswer(const Response& r, const std::string& nonce,
                                     const std::set<std::string>& providers = {"alpha", "beta"}) {
  if (r.status != 200) return ::testing::AssertionFailure() << "not a 200:\n" << r.dump().substr(0, 2000);
  std::string p = r.header("x-apiproxy-provider");
  if (!providers.count(p)) return ::testing::AssertionFailure() << "answered by '" << p << "':\n" << r.dump().substr(0, 2000);
  std::string got = adv::answer_text(r.body);
  if (got != reply_of(p, nonce))
    return ::testing::AssertionFailure() << "not its own answer: expected '" << reply_of(p, nonce) << "', got '" << got
                                         << "'\n" << r.dump().substr(0, 2000);
  return ::testing::AssertionSuccess();
}

// A streamed chat request read to its end on a raw socket: status, provider and the
// concatenated delta contents.
struct StreamResult {
  int status = 0;
  std::string provider, content;
  bool done = false;       // data: [DONE] arrived
  bool error_event = false;  // an event carried an "error" object
  int torn = 0;              // data events that are neither JSON nor [DONE]: a client's SDK chokes on them
  std::string body;
};

StreamResult stream_chat(const World& w, const std::string& model, const std::string& message,
                         const std::string& extra = "", std::chrono::milliseconds timeout = 10s) {
  StreamResult out;
  auto s = w.stream(kChatPath, chat_body(model, message, R"(,"stream":true)" + extra), {}, timeout);
  if (!s->read_head()) return out;
  out.status = s->status();
  out.provider = s->header("x-apiproxy-provider");
  for (auto& e : s->rest()) {
    if (e == "[DONE]") {
      out.done = true;
      continue;
    }
    rapidjson::Document d;
    d.Parse(e.c_str(), e.size());
    if (d.HasParseError() || !d.IsObject()) {
      ++out.torn;
      continue;
    }
    if (d.HasMember("error")) out.error_event = true;
    if (!d.HasMember("choices") || !d["choices"].IsArray() || d["choices"].Empty()) continue;
    const auto& c = d["choices"][0];
    if (c.IsObject() && c.HasMember("delta") && c["delta"].IsObject()) out.content += str(c["delta"], "content");
  }
  out.body = s->body();
  return out;
}

// "tilted-N": alpha first almost always, so a misbehaving alpha is tried, then beta serves.
// One per kind of breakage: routing learns from failures per logical model, and a fresh
// model has not yet learnt to avoid alpha.
std::map<std::string, std::string> logical_models_with_tilted() {
  auto m = default_logical_models();
  for (int i = 0; i < 16; ++i) {
    std::string id = "tilted-" + std::to_string(i);
    m[id] = logical(id, {physical("alpha", "gpt-4o-mini", 20), physical("beta", "gpt-4o-mini", 1)});
  }
  return m;
}

long long stat_of(const MockUpstream& m, const char* key) { return static_cast<long long>(num(m.stats(), key, 0)); }

class AdversarialUpstream : public ::testing::Test {
 protected:
  void start(const EnvMap& extra = {}) { world.start(extra, logical_models_with_tilted()); }
  void TearDown() override {
    if (!world.gateway) return;
    ASSERT_TRUE(world.gateway->running()) << "the gateway died";
    // Whatever happened before, every next answer is its own, on every pooled connection.
    for (int i = 0; i < 12; ++i) {
      std::string n = adv::nonce("after");
      const char* model = i % 3 == 0 ? "alpha/gpt-4o-mini" : i % 3 == 1 ? "beta/gpt-4o-mini" : "chat-pool";
      EXPECT_TRUE(OwnAnswer(world.chat(model, n), n)) << model;
    }
  }
  World world;
};

// ------------------------------------------------------------ 7: interim 1xx ---

TEST_F(AdversarialUpstream, InterimResponsesAreSkippedAndNeverAnswerTheNextRequest) {
  start();
  // One upstream (a direct provider/model), so requests follow each other on its pooled
  // connections: a 1xx taken for the answer would leave the real answer for the next one.
  const char* directives[] = {"", R"("interim":1)", R"("interim":2,"delay_ms":5)", "", R"("interim":3)"};
  int bad = 0;
  for (int i = 0; i < 50 && bad < 5; ++i) {
    std::string n = adv::nonce("interim-seq");
    auto r = world.chat("alpha/gpt-4o-mini", n, {}, mock_field(directives[i % 5]));
    auto ok = OwnAnswer(r, n, {"alpha"});
    EXPECT_TRUE(ok) << "request " << i << " with mock {" << directives[i % 5] << "}";
    bad += !ok;
  }
  EXPECT_GE(stat_of(world.alpha, "misbehaved"), bad == 0 ? 30 : 0);
  // Streams too.
  for (int i = 0; i < 10 && bad < 5; ++i) {
    std::string n = adv::nonce("interim-stream");
    auto s = stream_chat(world, "alpha/gpt-4o-mini", n, mock_field(i % 2 ? R"("interim":2)" : ""));
    EXPECT_EQ(s.status, 200) << s.body;
    EXPECT_EQ(s.content, reply_of("alpha", n)) << s.body;
    EXPECT_TRUE(s.done) << s.body;
    bad += s.content != reply_of("alpha", n);
    std::string m = adv::nonce("interim-after-stream");
    EXPECT_TRUE(OwnAnswer(world.chat("alpha/gpt-4o-mini", m), m, {"alpha"}));
  }
}

TEST_F(AdversarialUpstream, InterimResponsesUnderConcurrencyEveryAnswerIsItsOwn) {
  start();
  std::mutex mu;
  std::vector<std::string> failures;
  std::atomic<int> ok{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 10; ++t)
    threads.emplace_back([&, t] {
      for (int i = 0; i < 5; ++i) {
        std::string n = adv::nonce("interim-conc");
        bool interim = (t + i) % 2 == 0;
        const char* model = t % 2 ? "chat-pool" : "alpha/gpt-4o-mini";
        auto r = world.chat(model, n, {}, mock_field(interim ? R"("interim":2,"delay_ms":20)" : R"("delay_ms":20)"));
        auto res = OwnAnswer(r, n);
        if (res) {
          ++ok;
        } else {
          std::lock_guard lock(mu);
          failures.push_back(std::string(model) + (interim ? " with interim: " : ": ") + res.message());
        }
      }
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 50);
  for (size_t i = 0; i < failures.size() && i < 5; ++i) ADD_FAILURE() << failures[i];
}

// ------------------------------------------------- 8: broken upstream answers ---

struct Breakage {
  std::string name, directive;
};

std::vector<Breakage> breakages() {
  return {
      {"garbage instead of HTTP", R"("garbage":200)"},
      {"garbage after interim responses", R"("interim":1,"garbage":"HTTP/1.1 200 OK\r\nContent-Length: nope\r\n\r\n")"},
      {"reset before answering", R"("reset":0)"},
      {"reset in the head", R"("reset":30)"},
      {"reset in the body", R"("reset":200)"},
      {"closed before answering", R"("close":0)"},
      {"closed in the body (truncated)", R"("close":200)"},
      {"a 70 KB response header", R"("huge_header":70000)"},
      {"a 1 MB response header", R"("huge_header":1048576)"},
      {"an endless chunk extension", R"("endless_chunk_ext":16777216)"},
      {"a body larger than the gateway takes", R"("pad_bytes":)" + std::to_string(kTooLarge)},
  };
}

TEST_F(AdversarialUpstream, BrokenAnswersFailOverToTheOtherUpstream) {
  start();
  int kind = 0;
  for (const auto& b : breakages()) {
    SCOPED_TRACE(b.name);
    const std::string tilted = "tilted-" + std::to_string(kind++);
    long long alpha_before = stat_of(world.alpha, "misbehaved");
    // Until alpha has met the misbehaviour at least once (it is tried first nearly always).
    for (int i = 0; i < 6 && stat_of(world.alpha, "misbehaved") == alpha_before; ++i) {
      std::string n = adv::nonce("failover");
      auto r = world.post(kChatPath, chat_body(tilted, n, mock_field(R"("on":"alpha",)" + b.directive)), {}, 30s);
      EXPECT_TRUE(OwnAnswer(r, n, {"beta"}));
      ASSERT_TRUE(world.gateway->running()) << "the gateway died on " << b.name;
    }
    EXPECT_GT(stat_of(world.alpha, "misbehaved"), alpha_before) << "alpha never got the request";
    // Right after, alpha's pooled connections answer their own requests again.
    for (int i = 0; i < 3; ++i) {
      std::string n = adv::nonce("after-breakage");
      EXPECT_TRUE(OwnAnswer(world.chat("alpha/gpt-4o-mini", n), n, {"alpha"}));
    }
  }
}

TEST_F(AdversarialUpstream, BrokenAnswersWithoutAnotherUpstreamAre502InTheEnvelope) {
  start();
  for (const auto& b : breakages()) {
    SCOPED_TRACE(b.name);
    std::string n = adv::nonce("no-failover");
    auto r = world.post(kChatPath, chat_body("alpha/gpt-4o-mini", n, mock_field(b.directive)), {}, 30s);
    EXPECT_TRUE(OpenAiError(r, 502));
    EXPECT_FALSE(Contains(r.body, n)) << "a piece of the broken answer was passed on";
    ASSERT_TRUE(world.gateway->running()) << "the gateway died on " << b.name;
    std::string m = adv::nonce("after-502");
    EXPECT_TRUE(OwnAnswer(world.chat("alpha/gpt-4o-mini", m), m, {"alpha"}));
  }
}

TEST_F(AdversarialUpstream, BrokenStreamsEndInsteadOfHangingAndNeverLeak) {
  start();
  for (const auto& b : breakages()) {
    // A stream has no size limit: a long one is not a broken one.
    if (b.directive.find("pad_bytes") != std::string::npos) continue;
    SCOPED_TRACE(b.name);
    std::string n = adv::nonce("stream-broken");
    auto s = stream_chat(world, "alpha/gpt-4o-mini", n, mock_field(b.directive), 30s);
    // Either refused before the stream began, or the stream ended with an error event: a
    // stream that began may only carry a prefix of its own answer.
    EXPECT_TRUE(s.status == 502 || (s.status == 200 && s.error_event)) << "status " << s.status << ":\n" << s.body.substr(0, 1000);
    // An upstream event cut in the middle is not passed on: every event relayed parses.
    EXPECT_EQ(s.torn, 0) << "events that are not JSON:\n" << s.body.substr(0, 1000);
    EXPECT_EQ(reply_of("alpha", n).rfind(s.content, 0), 0u) << "not a prefix of its own answer: " << s.content;
    ASSERT_TRUE(world.gateway->running()) << "the gateway died on " << b.name;
    std::string m = adv::nonce("after-stream");
    EXPECT_TRUE(OwnAnswer(world.chat("alpha/gpt-4o-mini", m), m, {"alpha"}));
  }
}

// ------------------------------------------------------------ 12: total deadline ---

TEST_F(AdversarialUpstream, AnUpstreamThatTricklesForEverIsCutAtTheTotalDeadline) {
  start({{"APIPROXY_UPSTREAM_TOTAL_TIMEOUT_MS", "3000"}, {"APIPROXY_UPSTREAM_IDLE_TIMEOUT_MS", "1500"}});
  const std::string trickle = R"("slow_body":{"interval_ms":200,"endless":true})";

  // Not streamed: 504 upstream_timeout (or 502) in the envelope, soon after the deadline.
  auto started = Clock::now();
  auto r = world.post(kChatPath, chat_body("alpha/gpt-4o-mini", "trickle", mock_field(trickle)), {}, 30s);
  auto took = Clock::now() - started;
  ASSERT_TRUE(r.answered()) << "no answer within 30 s: " << r.error;
  if (r.status == 504) {
    EXPECT_TRUE(OpenAiError(r, 504, "upstream_timeout"));
  } else {
    EXPECT_TRUE(OpenAiError(r, 502));
  }
  EXPECT_GE(took, 2500ms);
  EXPECT_LT(took, 10s);

  // Streamed: an SSE error event, then data: [DONE], soon after the deadline. Read raw with
  // an overall deadline: the trickle's keep-alive comments would keep a per-read timeout alive.
  RawSocket s(world.gateway->port(), 30s);
  std::string body = chat_body("alpha/gpt-4o-mini", "trickle stream", R"(,"stream":true)" + mock_field(trickle));
  ASSERT_TRUE(s.send("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " + base64(kToken) +
                     "\r\nContent-Type: application/json\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body));
  started = Clock::now();
  while (Clock::now() - started < 20s && s.received().find("data: [DONE]") == std::string::npos && s.read_more(1s)) {
  }
  took = Clock::now() - started;
  const std::string& got = s.received();
  EXPECT_EQ(adv::status_of(got), 200) << got.substr(0, 500);
  auto done = got.find("data: [DONE]");
  ASSERT_NE(done, std::string::npos) << "the stream did not end within 20 s; so far:\n" << got.substr(0, 1500);
  auto error = got.find("data: {\"error\"");
  EXPECT_LT(error, done) << "no error event before [DONE]:\n" << got.substr(0, 3000);
  EXPECT_LT(took, 10s);
}

// -------------------------------------------------------- 13: client hangs up ---

TEST_F(AdversarialUpstream, AClientThatHangsUpCancelsItsUpstreamCall) {
  start();
  for (int round = 0; round < 3; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    long long seen_before = world.count("alpha");
    long long cancelled_before = stat_of(world.alpha, "peer_closed_waiting");
    {
      RawSocket s(world.gateway->port());
      std::string body = chat_body("alpha/gpt-4o-mini", adv::nonce("hangup"), mock_field(R"("delay_ms":8000)"));
      ASSERT_TRUE(s.send("POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                         base64(kToken) + "\r\nContent-Type: application/json\r\nContent-Length: " +
                         std::to_string(body.size()) + "\r\n\r\n" + body));
      ASSERT_TRUE(eventually([&] { return world.count("alpha") > seen_before; }, 5s, 10ms))
          << "the request never reached the upstream";
    }  // the client hangs up while the upstream is still "thinking"
    auto hung_up = Clock::now();
    bool cancelled = eventually([&] { return stat_of(world.alpha, "peer_closed_waiting") > cancelled_before; }, 3s, 20ms);
    EXPECT_TRUE(cancelled) << "the upstream call went on after its client left";
    if (cancelled) {
      EXPECT_LT(Clock::now() - hung_up, 1500ms);
    }
  }
  EXPECT_TRUE(world.gateway->running());
}

}  // namespace
}  // namespace it
