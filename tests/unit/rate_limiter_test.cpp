// MAX_QPS enforcement (core/ratelimit/): the GCRA arithmetic on an injected clock, then
// RateLimiter on MemoryStore and on RedisStore against a real redis-server this test starts
// on a free loopback port (skipped when redis-server is not installed): bursts, failover
// to the next candidate, several limits per candidate, two "gateway instances" sharing one
// limit through Redis, and the per-instance fallback when Redis is down.
//
// Wall-clock tests assert bounded counts only: at most the burst plus what the rate
// refills during the measured elapsed time, at least the burst.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <functional>
#include <memory>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include "core/ratelimit/gcra.hpp"
#include "core/ratelimit/rate_limiter.hpp"
#include "core/store/memory_store.hpp"
#include "core/store/redis_store.hpp"
#include "core/store/redis_url.hpp"
#include "tests/unit/support/redis_server.hpp"

namespace apiproxy {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using gcra::Micros;

constexpr Micros kSecond = 1000000;
constexpr Micros kT0 = 1000 * kSecond;  // an arbitrary start on the injected clock

// ================================================================ GCRA arithmetic ====

using Candidates = std::vector<std::vector<RateLimit>>;

RateDecision admit(gcra::Table& t, const Candidates& c, Micros now) { return t.admit_first(c, now); }

// How many of `tries` requests at the same instant are admitted.
int burst(gcra::Table& t, const Candidates& c, Micros now, int tries = 100) {
  int n = 0;
  for (int i = 0; i < tries; ++i)
    if (t.admit_first(c, now).admitted) ++n;
  return n;
}

TEST(Gcra, ParamsFromQps) {
  auto p = gcra::params(5);
  EXPECT_EQ(p.interval, 200000);
  EXPECT_EQ(p.window, kSecond);
  p = gcra::params(1);
  EXPECT_EQ(p.interval, kSecond);
  EXPECT_EQ(p.window, kSecond);
  p = gcra::params(0.5);
  EXPECT_EQ(p.interval, 2 * kSecond);
  EXPECT_EQ(p.window, 2 * kSecond);
  p = gcra::params(3);  // 333333.33 rounds down: the burst of 3 survives
  EXPECT_EQ(p.interval, 333333);
  EXPECT_EQ(p.window, kSecond);
  p = gcra::params(1e9);
  EXPECT_EQ(p.interval, 1);
}

TEST(Gcra, BurstOfQpsThenExactRetryAfter) {
  gcra::Table t;
  Candidates c{{{"k", 5}}};
  for (int i = 0; i < 5; ++i) {
    auto d = admit(t, c, kT0);
    ASSERT_TRUE(d.admitted) << "request " << i << " of the burst";
    EXPECT_EQ(*d.admitted, 0u);
  }
  auto d = admit(t, c, kT0);
  EXPECT_FALSE(d.admitted);
  EXPECT_EQ(d.retry_after.count(), 200000);
  // A rejection takes nothing: the wait does not grow.
  EXPECT_EQ(admit(t, c, kT0).retry_after.count(), 200000);
}

TEST(Gcra, RetryAfterIsExact) {
  gcra::Table t;
  Candidates c{{{"k", 4}}};
  EXPECT_EQ(burst(t, c, kT0), 4);
  auto d = admit(t, c, kT0 + 100000);
  ASSERT_FALSE(d.admitted);
  EXPECT_EQ(d.retry_after.count(), 150000);  // one interval (250 ms) after the burst, less 100 ms
  auto at = kT0 + 100000 + d.retry_after.count();
  auto early = admit(t, c, at - 1);
  EXPECT_FALSE(early.admitted);
  EXPECT_EQ(early.retry_after.count(), 1);
  EXPECT_TRUE(admit(t, c, at).admitted);
  EXPECT_FALSE(admit(t, c, at).admitted);
}

TEST(Gcra, SteadyRateAfterTheBurst) {
  gcra::Table t;
  Candidates c{{{"k", 5}}};
  int admitted = 0;
  // A request every 10 ms for 10 s: the burst of 5, then one every 200 ms (at 0.2 .. 9.8 s).
  for (int i = 0; i < 1000; ++i)
    if (admit(t, c, kT0 + i * 10000).admitted) ++admitted;
  EXPECT_EQ(admitted, 5 + 49);
}

TEST(Gcra, LongIdleRefillsOnlyTheBurst) {
  gcra::Table t;
  Candidates c{{{"k", 5}}};
  EXPECT_EQ(burst(t, c, kT0), 5);
  EXPECT_EQ(burst(t, c, kT0 + 3600 * kSecond), 5);  // an hour idle: still one second's worth
}

TEST(Gcra, FractionalQps) {
  gcra::Table t;
  Candidates half{{{"half", 0.5}}};
  EXPECT_EQ(burst(t, half, kT0), 1);  // burst = max(1, qps)
  auto d = admit(t, half, kT0);
  EXPECT_EQ(d.retry_after.count(), 2 * kSecond);
  EXPECT_FALSE(admit(t, half, kT0 + 2 * kSecond - 1).admitted);
  EXPECT_TRUE(admit(t, half, kT0 + 2 * kSecond).admitted);
  EXPECT_FALSE(admit(t, half, kT0 + 2 * kSecond).admitted);

  Candidates two_and_a_half{{{"2.5", 2.5}}};
  EXPECT_EQ(burst(t, two_and_a_half, kT0), 2);
  EXPECT_EQ(admit(t, two_and_a_half, kT0).retry_after.count(), 200000);

  Candidates three{{{"3", 3}}};
  EXPECT_EQ(burst(t, three, kT0), 3);
  // Then one per interval (333333 µs, no drift): 89 more in the next 30 s, a request every ms.
  int n = 0;
  for (Micros us = 1000; us < 30 * kSecond; us += 1000)
    if (admit(t, three, kT0 + us).admitted) ++n;
  EXPECT_EQ(n, 89);
}

TEST(Gcra, AllLimitsOfACandidateMustAdmit) {
  gcra::Table t;
  Candidates both{{{"provider:p", 10}, {"upstream:u", 2}}};
  EXPECT_EQ(burst(t, both, kT0), 2);
  auto d = admit(t, both, kT0);
  EXPECT_FALSE(d.admitted);
  EXPECT_EQ(d.retry_after.count(), 500000);  // the upstream's wait; the provider has room
  // The provider gave exactly two units: eight remain for other upstreams.
  EXPECT_EQ(burst(t, {{{"provider:p", 10}}}, kT0), 8);
  // Now both are full; the wait is the longer of the two.
  EXPECT_EQ(admit(t, both, kT0).retry_after.count(), 500000);
}

TEST(Gcra, FirstCandidateFullSecondAdmittedFirstNotCharged) {
  gcra::Table t;
  Candidates c{{{"a", 1}}, {{"b", 1}}};
  auto d1 = admit(t, c, kT0);
  ASSERT_TRUE(d1.admitted);
  EXPECT_EQ(*d1.admitted, 0u);
  auto d2 = admit(t, c, kT0);
  ASSERT_TRUE(d2.admitted);
  EXPECT_EQ(*d2.admitted, 1u);
  auto d3 = admit(t, c, kT0);
  EXPECT_FALSE(d3.admitted);
  EXPECT_EQ(d3.retry_after.count(), kSecond);
  // "a" was charged once only: it has room again exactly one second later.
  EXPECT_TRUE(admit(t, {{{"a", 1}}}, kT0 + kSecond).admitted);
}

TEST(Gcra, RetryAfterIsTheShortestOverCandidates) {
  gcra::Table t;
  ASSERT_TRUE(admit(t, {{{"a", 1}}}, kT0).admitted);
  ASSERT_TRUE(admit(t, {{{"b", 0.25}}}, kT0).admitted);
  // Candidate 0 waits 4 s (its slower limit), candidate 1 waits 1 s.
  auto d = admit(t, {{{"a", 1}, {"b", 0.25}}, {{"a", 1}}}, kT0);
  EXPECT_FALSE(d.admitted);
  EXPECT_EQ(d.retry_after.count(), kSecond);
  d = admit(t, {{{"a", 1}, {"b", 0.25}}}, kT0);
  EXPECT_EQ(d.retry_after.count(), 4 * kSecond);
}

TEST(Gcra, EmptyCandidateAdmitsAndNoCandidatesAdmitNothing) {
  gcra::Table t;
  EXPECT_FALSE(admit(t, {}, kT0).admitted);
  EXPECT_EQ(admit(t, {}, kT0).retry_after.count(), 0);
  ASSERT_TRUE(admit(t, {{{"a", 1}}}, kT0).admitted);
  auto d = admit(t, {{{"a", 1}}, {}}, kT0);
  ASSERT_TRUE(d.admitted);
  EXPECT_EQ(*d.admitted, 1u);
}

TEST(Gcra, IdleStatesAreDropped) {
  gcra::Table t;
  for (int i = 0; i < 1500; ++i) ASSERT_TRUE(admit(t, {{{"old" + std::to_string(i), 1}}}, kT0).admitted);
  EXPECT_EQ(t.size(), 1500u);  // all still live: nothing dropped
  for (int i = 0; i < 600; ++i)
    ASSERT_TRUE(admit(t, {{{"new" + std::to_string(i), 1}}}, kT0 + 10 * kSecond).admitted);
  EXPECT_LT(t.size(), 700u);
}

// ================================================================ helpers ====

bool pump_until(boost::asio::io_context& io, const std::function<bool()>& done,
                std::chrono::milliseconds bound = 5000ms) {
  auto deadline = Clock::now() + bound;
  while (!done()) {
    if (Clock::now() >= deadline) return false;
    if (io.stopped()) io.restart();
    if (io.run_one_for(10ms) == 0) std::this_thread::sleep_for(1ms);
  }
  return true;
}

// Runs one admission to completion; fails the test when the callback runs inside the
// call, more than once, or not at all.
Admission admit_one(boost::asio::io_context& io, RateLimiter& limiter, Store& store,
                    std::vector<AdmissionCandidate> candidates) {
  auto slot = std::make_shared<std::optional<Admission>>();
  auto calls = std::make_shared<int>(0);
  bool returned = false;
  bool early = false;
  limiter.admit(store, std::move(candidates), [&, slot, calls](Admission a) {
    if (!returned) early = true;
    ++*calls;
    slot->emplace(a);
  });
  returned = true;
  EXPECT_FALSE(early) << "callback invoked inside admit()";
  EXPECT_TRUE(pump_until(io, [&] { return slot->has_value(); })) << "no completion (hang)";
  io.poll();
  EXPECT_EQ(*calls, 1);
  return slot->value_or(Admission{});
}

AdmissionCandidate cand(std::vector<RateLimit> limits) { return AdmissionCandidate{std::move(limits)}; }

// The most a limit can refill in `elapsed` (plus one for clock granularity).
int refill(Clock::duration elapsed, double qps) {
  return static_cast<int>(std::floor(std::chrono::duration<double>(elapsed).count() * qps)) + 1;
}

using test::find_program;
using test::free_port;
using test::raw_exchange;
using test::RedisServer;

Result<RedisReply> redis_command(RedisStore& store, boost::asio::io_context& io,
                                 std::vector<std::string> args) {
  std::optional<Result<RedisReply>> out;
  store.command(std::move(args), [&](Result<RedisReply> r) { out.emplace(std::move(r)); });
  if (!pump_until(io, [&] { return out.has_value(); })) return Error{"TEST: no reply"};
  return std::move(*out);
}

// Captures what spdlog's default logger says while it lives.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out_);
    auto logger = std::make_shared<spdlog::logger>("capture", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  int count(const std::string& needle) const {
    std::string s = out_.str();
    int n = 0;
    for (size_t at = s.find(needle); at != std::string::npos; at = s.find(needle, at + 1)) ++n;
    return n;
  }
  std::string text() const { return out_.str(); }

 private:
  std::ostringstream out_;
  std::shared_ptr<spdlog::logger> previous_;
};

// ================================================================ RateLimiter, any store ====

struct MemoryBackend {
  static constexpr const char* kName = "memory";
  static std::string unavailable() { return ""; }
  static void reset() { data() = std::make_shared<MemoryData>(); }
  static std::shared_ptr<Store> make(boost::asio::io_context& io) {
    return std::make_shared<MemoryStore>(io, data());
  }
  static std::shared_ptr<MemoryData>& data() {
    static std::shared_ptr<MemoryData> d = std::make_shared<MemoryData>();
    return d;
  }
};

struct RedisBackend {
  static constexpr const char* kName = "redis";
  static RedisServer& server() {
    static RedisServer s;
    return s;
  }
  static std::string unavailable() {
    if (!RedisServer::available()) return "redis-server is not installed";
    static bool started = server().start();
    if (!started) return "redis-server did not start: " + server().error();
    return "";
  }
  static void reset() {
    boost::asio::io_context io;
    RedisStore s(io, server().url(), 2000ms);
    auto r = redis_command(s, io, {"FLUSHALL"});
    ASSERT_TRUE(r.ok()) << r.error();
  }
  static std::shared_ptr<Store> make(boost::asio::io_context& io) {
    return std::make_shared<RedisStore>(io, server().url(), 2000ms);
  }
};

template <class Backend>
class LimiterOnStore : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = Backend::unavailable(); !why.empty()) GTEST_SKIP() << why;
    Backend::reset();
    store_ = Backend::make(io_);
  }
  Admission admit(std::vector<AdmissionCandidate> c) { return admit_one(io_, limiter_, *store_, std::move(c)); }

  boost::asio::io_context io_;
  std::shared_ptr<Store> store_;
  RateLimiter limiter_;
};

using Backends = ::testing::Types<MemoryBackend, RedisBackend>;
class BackendNames {
 public:
  template <class T>
  static std::string GetName(int) {
    return T::kName;
  }
};
TYPED_TEST_SUITE(LimiterOnStore, Backends, BackendNames);

TYPED_TEST(LimiterOnStore, BurstOfQpsThenRejectsWithSensibleRetryAfter) {
  auto t0 = Clock::now();
  int admitted = 0;
  for (int i = 0; i < 20; ++i) {
    auto a = this->admit({cand({{"provider:p", 5}})});
    EXPECT_FALSE(a.local_fallback);
    if (a.admitted) {
      EXPECT_EQ(*a.admitted, 0u);
      ++admitted;
    } else {
      EXPECT_GT(a.retry_after, 0ms);
      EXPECT_LE(a.retry_after, 200ms);  // one interval at most
    }
  }
  EXPECT_GE(admitted, 5);
  EXPECT_LE(admitted, 5 + refill(Clock::now() - t0, 5));
}

TYPED_TEST(LimiterOnStore, FirstCandidateAtLimitSecondAdmittedFirstNotCharged) {
  // 0.001 qps: one request per 1000 s, so nothing refills during the test.
  std::vector<AdmissionCandidate> c{cand({{"upstream:m:a:x", 0.001}}), cand({{"upstream:m:b:x", 0.001}})};
  auto a1 = this->admit(c);
  ASSERT_TRUE(a1.admitted);
  EXPECT_EQ(*a1.admitted, 0u);
  auto a2 = this->admit(c);
  ASSERT_TRUE(a2.admitted);
  EXPECT_EQ(*a2.admitted, 1u);
  auto a3 = this->admit(c);
  EXPECT_FALSE(a3.admitted);
  EXPECT_FALSE(a3.local_fallback);
  // Had the second call charged "a" too, its wait would be ~2000 s.
  auto a = this->admit({cand({{"upstream:m:a:x", 0.001}})});
  ASSERT_FALSE(a.admitted);
  EXPECT_LE(a.retry_after, 1000s);
  EXPECT_GT(a.retry_after, 990s);
  EXPECT_LE(a3.retry_after, 1000s);
  EXPECT_GT(a3.retry_after, 990s);
}

TYPED_TEST(LimiterOnStore, ProviderAndUpstreamLimitsMustBothAdmit) {
  auto t0 = Clock::now();
  int through_upstream = 0;
  for (int i = 0; i < 6; ++i) {
    auto a = this->admit({cand({{"provider:p", 10}, {"upstream:m:p:x", 2}})});
    if (a.admitted) ++through_upstream;
    else EXPECT_LE(a.retry_after, 500ms);
  }
  EXPECT_GE(through_upstream, 2);
  EXPECT_LE(through_upstream, 2 + refill(Clock::now() - t0, 2));
  // The provider gave one unit per admitted request and none for the rejected ones.
  int through_provider = 0;
  for (int i = 0; i < 20; ++i)
    if (this->admit({cand({{"provider:p", 10}})}).admitted) ++through_provider;
  EXPECT_GE(through_provider, 10 - through_upstream);
  EXPECT_LE(through_provider, 10 - through_upstream + refill(Clock::now() - t0, 10));
}

TYPED_TEST(LimiterOnStore, NoCandidateAdmittedGivesAPositiveRetryAfter) {
  ASSERT_TRUE(this->admit({cand({{"a", 0.001}})}).admitted);
  ASSERT_TRUE(this->admit({cand({{"b", 0.5}})}).admitted);
  auto a = this->admit({cand({{"a", 0.001}}), cand({{"b", 0.5}})});
  EXPECT_FALSE(a.admitted);
  EXPECT_GT(a.retry_after, 0ms);
  EXPECT_LE(a.retry_after, 2000ms);  // the shorter wait: b's
}

TYPED_TEST(LimiterOnStore, CandidateWithoutLimitsIsAdmittedAndStopsTheSearch) {
  ASSERT_TRUE(this->admit({cand({{"a", 0.001}})}).admitted);
  // A qps of 0 (or negative) means no limit.
  auto a = this->admit({cand({{"a", 0.001}}), cand({{"b", 0}, {"c", -1}}), cand({{"d", 1}})});
  ASSERT_TRUE(a.admitted);
  EXPECT_EQ(*a.admitted, 1u);
  // "d" was never looked at, let alone charged.
  auto d = this->admit({cand({{"d", 0.001}})});
  EXPECT_TRUE(d.admitted);
}

TYPED_TEST(LimiterOnStore, DuplicateKeyCountsOnceAtItsLowestQps) {
  int n = 0;
  for (int i = 0; i < 10; ++i)
    if (this->admit({cand({{"k", 0.001}, {"k", 50}})}).admitted) ++n;
  EXPECT_EQ(n, 1);
}

TYPED_TEST(LimiterOnStore, NoCandidatesAdmitsNothing) {
  auto a = this->admit({});
  EXPECT_FALSE(a.admitted);
  EXPECT_EQ(a.retry_after, 0ms);
  EXPECT_FALSE(a.local_fallback);
}

TYPED_TEST(LimiterOnStore, PipelinedRequestsOnOneConnection) {
  auto t0 = Clock::now();
  int admitted = 0, done = 0;
  for (int i = 0; i < 100; ++i)
    this->limiter_.admit(*this->store_, {cand({{"provider:busy", 20}})}, [&](Admission a) {
      if (a.admitted) ++admitted;
      ++done;
    });
  ASSERT_TRUE(pump_until(this->io_, [&] { return done == 100; }));
  EXPECT_GE(admitted, 20);
  EXPECT_LE(admitted, 20 + refill(Clock::now() - t0, 20));
}

// Two gateway instances: separate stores (Redis: separate connections), separate
// io_contexts on separate threads, separate RateLimiters; one shared limit.
TYPED_TEST(LimiterOnStore, TwoInstancesShareOneLimit) {
  constexpr int kEach = 40;
  constexpr double kQps = 10;
  std::atomic<int> admitted{0};
  std::atomic<int> fallbacks{0};
  std::atomic<int> finished{0};
  auto t0 = Clock::now();
  auto instance = [&] {
    boost::asio::io_context io;
    auto store = TypeParam::make(io);
    RateLimiter limiter;
    int done = 0;
    for (int i = 0; i < kEach; ++i) {
      limiter.admit(*store, {cand({{"provider:shared", kQps}})}, [&](Admission a) {
        if (a.admitted) ++admitted;
        if (a.local_fallback) ++fallbacks;
        ++done;
      });
    }
    if (pump_until(io, [&] { return done == kEach; }, 10000ms)) ++finished;
  };
  std::thread a(instance), b(instance);
  a.join();
  b.join();
  ASSERT_EQ(finished.load(), 2);
  EXPECT_EQ(fallbacks.load(), 0);
  EXPECT_GE(admitted.load(), 10);
  EXPECT_LE(admitted.load(), 10 + refill(Clock::now() - t0, kQps))
      << "the limit held per instance, not across them";
}

// ================================================================ no round trip ====

TEST(RateLimiterNoStoreCall, FirstCandidateWithoutLimitsNeedsNoRedis) {
  // A Redis nobody listens on: any command would fail and force the local fallback.
  boost::asio::io_context io;
  RedisUrl url;
  url.host = "127.0.0.1";
  url.port = std::to_string(free_port());
  RedisStore store(io, url, 500ms);
  RateLimiter limiter;
  LogCapture log;
  for (int i = 0; i < 3; ++i) {
    auto a = admit_one(io, limiter, store, {cand({}), cand({{"p", 1}})});
    ASSERT_TRUE(a.admitted);
    EXPECT_EQ(*a.admitted, 0u);
    EXPECT_FALSE(a.local_fallback);
  }
  auto none = admit_one(io, limiter, store, {});
  EXPECT_FALSE(none.admitted);
  EXPECT_FALSE(none.local_fallback);
  EXPECT_FALSE(limiter.in_outage());
  EXPECT_EQ(log.count("rate limits"), 0) << log.text();
}

// ================================================================ Redis specifics ====

class RedisLimiter : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::available()) GTEST_SKIP() << "redis-server is not installed";
    ASSERT_TRUE(server_.start()) << server_.error();
    store_ = std::make_unique<RedisStore>(io_, server_.url(), 1000ms);
  }
  Admission admit(RateLimiter& limiter, std::vector<AdmissionCandidate> c) {
    return admit_one(io_, limiter, *store_, std::move(c));
  }

  boost::asio::io_context io_;
  RedisServer server_;
  std::unique_ptr<RedisStore> store_;
};

TEST_F(RedisLimiter, StateKeysAreNamedAndExpire) {
  RateLimiter limiter;
  ASSERT_TRUE(admit(limiter, {cand({{"provider:p", 1}, {"upstream:m:p:x", 0.5}})}).admitted);
  auto v = redis_command(*store_, io_, {"GET", "ratelimit:provider:p"});
  ASSERT_TRUE(v.ok()) << v.error();
  ASSERT_EQ(v->type, RedisReply::Type::String);
  EXPECT_EQ(v->str.find_first_not_of("0123456789"), std::string::npos) << v->str;
  auto ttl = redis_command(*store_, io_, {"PTTL", "ratelimit:provider:p"});
  ASSERT_TRUE(ttl.ok()) << ttl.error();
  EXPECT_GT(ttl->integer, 0);
  EXPECT_LE(ttl->integer, 1000 + gcra::kExpirySlackMs);
  auto ttl2 = redis_command(*store_, io_, {"PTTL", "ratelimit:upstream:m:p:x"});
  ASSERT_TRUE(ttl2.ok()) << ttl2.error();
  EXPECT_GT(ttl2->integer, 1000);  // its TAT is 2 s ahead
  EXPECT_LE(ttl2->integer, 2000 + gcra::kExpirySlackMs);
  // A rejected request writes nothing.
  ASSERT_FALSE(admit(limiter, {cand({{"upstream:m:p:x", 0.5}, {"provider:other", 1}})}).admitted);
  auto other = redis_command(*store_, io_, {"EXISTS", "ratelimit:provider:other"});
  ASSERT_TRUE(other.ok()) << other.error();
  EXPECT_EQ(other->integer, 0);
}

TEST_F(RedisLimiter, WorksAfterRedisForgetsTheScript) {
  RateLimiter limiter;
  ASSERT_TRUE(admit(limiter, {cand({{"p", 0.001}})}).admitted);
  ASSERT_TRUE(redis_command(*store_, io_, {"SCRIPT", "FLUSH"}).ok());
  auto a = admit(limiter, {cand({{"p", 0.001}}), cand({{"q", 0.001}})});
  EXPECT_FALSE(a.local_fallback);
  ASSERT_TRUE(a.admitted);
  EXPECT_EQ(*a.admitted, 1u);
  auto b = admit(limiter, {cand({{"p", 0.001}})});
  EXPECT_FALSE(b.local_fallback);
  EXPECT_FALSE(b.admitted);
}

TEST_F(RedisLimiter, WrongTypeKeyFallsBackLocally) {
  ASSERT_TRUE(redis_command(*store_, io_, {"LPUSH", "ratelimit:p", "x"}).ok());
  RateLimiter limiter;
  LogCapture log;
  auto a = admit(limiter, {cand({{"p", 1}})});
  EXPECT_TRUE(a.local_fallback);
  EXPECT_TRUE(a.admitted);
  EXPECT_EQ(log.count("rate limits: the store failed"), 1) << log.text();
}

TEST_F(RedisLimiter, RedisDownFallsBackToLocalLimitsAndLogsOnce) {
  std::atomic<Micros> now{kT0};
  RateLimiter limiter([&] { return now.load(); });
  LogCapture log;
  ASSERT_FALSE(admit(limiter, {cand({{"warm", 1}})}).local_fallback);  // connected and working
  int port = server_.port();
  server_.stop();

  // The local clock stands still: the local buckets give exactly the burst.
  int admitted = 0;
  for (int i = 0; i < 10; ++i) {
    auto a = admit(limiter, {cand({{"provider:p", 3}})});
    EXPECT_TRUE(a.local_fallback);
    if (a.admitted) ++admitted;
    else EXPECT_EQ(a.retry_after, 334ms);  // 333333 µs, rounded up
  }
  EXPECT_EQ(admitted, 3);
  EXPECT_TRUE(limiter.in_outage());
  // Failover between candidates works locally too.
  auto f = admit(limiter, {cand({{"provider:p", 3}}), cand({{"provider:q", 3}})});
  EXPECT_TRUE(f.local_fallback);
  ASSERT_TRUE(f.admitted);
  EXPECT_EQ(*f.admitted, 1u);
  EXPECT_EQ(log.count("rate limits: the store failed"), 1) << log.text();

  // Redis comes back: within a probe interval the limiter uses it again, and says so once.
  ASSERT_TRUE(server_.start(port)) << server_.error();
  auto deadline = Clock::now() + 10s;
  bool back = false;
  while (!back && Clock::now() < deadline) {
    now += 1100 * 1000;  // past the probe interval
    back = !admit(limiter, {cand({{"provider:p", 3}})}).local_fallback;
    if (!back) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(back) << "still on the local fallback 10 s after Redis came back";
  EXPECT_FALSE(limiter.in_outage());
  EXPECT_EQ(log.count("rate limits: the store failed"), 1) << log.text();
  EXPECT_EQ(log.count("rate limits: the store answers again"), 1) << log.text();
}

TEST_F(RedisLimiter, UnreachableFromTheStartStillLimits) {
  server_.stop();
  RateLimiter limiter;
  auto t0 = Clock::now();
  int admitted = 0;
  for (int i = 0; i < 10; ++i) {
    auto a = admit(limiter, {cand({{"provider:p", 2}})});
    EXPECT_TRUE(a.local_fallback);
    if (a.admitted) ++admitted;
    else EXPECT_GT(a.retry_after, 0ms);
  }
  EXPECT_GE(admitted, 2);
  EXPECT_LE(admitted, 2 + refill(Clock::now() - t0, 2));
}

// The local fallback is one table for the whole process: every thread shares it.
TEST(RateLimiterFallback, OneLocalStateForEveryThread) {
  RedisUrl url;
  url.host = "127.0.0.1";
  url.port = std::to_string(free_port());  // nobody listens
  RateLimiter limiter;
  std::atomic<int> admitted{0}, local{0}, finished{0};
  auto t0 = Clock::now();
  auto worker = [&] {
    boost::asio::io_context io;
    RedisStore store(io, url, 500ms);
    int done = 0;
    for (int i = 0; i < 25; ++i)
      limiter.admit(store, {cand({{"provider:p", 10}})}, [&](Admission a) {
        if (a.admitted) ++admitted;
        if (a.local_fallback) ++local;
        ++done;
      });
    if (pump_until(io, [&] { return done == 25; })) ++finished;
  };
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) threads.emplace_back(worker);
  for (auto& t : threads) t.join();
  ASSERT_EQ(finished.load(), 4);
  EXPECT_EQ(local.load(), 100);
  EXPECT_GE(admitted.load(), 10);
  EXPECT_LE(admitted.load(), 10 + refill(Clock::now() - t0, 10));
}

}  // namespace
}  // namespace apiproxy
