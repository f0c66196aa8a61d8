// The Store contract (core/store/store.hpp), run against MemoryStore and against
// RedisStore on a real redis-server this test starts on a free loopback port; plus the
// Redis connection's failure behaviour (refused, restart, timeout, AUTH).
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/store/memory_store.hpp"
#include "core/store/redis_store.hpp"
#include "core/store/redis_url.hpp"
#include "core/store/store.hpp"
#include "tests/unit/support/redis_server.hpp"

namespace apiproxy {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// ---------------------------------------------------------------- helpers ----

// Runs `io` until `done()` or `bound` elapsed; false on timeout.
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

// Starts an asynchronous call and runs `io` until its callback fired. Checks that the
// callback is not invoked before the call returns and is invoked exactly once.
template <class T>
Result<T> await(boost::asio::io_context& io, const std::function<void(Store::Callback<T>)>& start,
                std::chrono::milliseconds bound = 5000ms) {
  auto slot = std::make_shared<std::optional<Result<T>>>();
  auto calls = std::make_shared<int>(0);
  auto returned = std::make_shared<bool>(false);
  auto early = std::make_shared<bool>(false);
  start([slot, calls, returned, early](Result<T> r) {
    if (!*returned) *early = true;
    ++*calls;
    slot->emplace(std::move(r));
  });
  *returned = true;
  EXPECT_FALSE(*early) << "callback invoked before the call returned";
  if (!pump_until(io, [&] { return slot->has_value(); }, bound))
    return Error{"TEST: no callback within " + std::to_string(bound.count()) + " ms (hang)"};
  // Give a duplicate invocation a chance to show up.
  io.poll();
  EXPECT_EQ(*calls, 1) << "callback invoked more than once";
  return std::move(**slot);
}

using test::find_program;
using test::free_port;
using test::raw_exchange;
using test::RedisServer;

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---------------------------------------------------------------- backends ----

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
  // One server for all the contract tests; flushed before each.
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
    auto r = await<RedisReply>(io, [&](auto cb) { s.command({"FLUSHALL"}, cb); });
    ASSERT_TRUE(r.ok()) << r.error();
  }
  static std::shared_ptr<Store> make(boost::asio::io_context& io) {
    return std::make_shared<RedisStore>(io, server().url(), 2000ms);
  }
};

template <class Backend>
class StoreContract : public ::testing::Test {
 protected:
  void SetUp() override {
    if (auto why = Backend::unavailable(); !why.empty()) GTEST_SKIP() << why;
    Backend::reset();
    store_ = Backend::make(io_);
  }

  Result<Store::Value> get(const std::string& key) {
    return await<Store::Value>(io_, [&](auto cb) { store_->get(key, cb); });
  }
  Result<Unit> set(const std::string& key, const std::string& value,
                   std::chrono::seconds ttl = 0s) {
    return await<Unit>(io_, [&](auto cb) { store_->set(key, value, ttl, cb); });
  }
  Result<bool> del(const std::string& key) {
    return await<bool>(io_, [&](auto cb) { store_->del(key, cb); });
  }
  Result<std::vector<Store::Value>> get_many(const std::vector<std::string>& keys) {
    return await<std::vector<Store::Value>>(io_, [&](auto cb) { store_->get_many(keys, cb); });
  }
  Result<std::vector<std::string>> keys(const std::string& prefix) {
    auto r = await<std::vector<std::string>>(io_,
                                             [&](auto cb) { store_->keys_with_prefix(prefix, cb); });
    if (r) std::sort(r->begin(), r->end());
    return r;
  }

  boost::asio::io_context io_;
  std::shared_ptr<Store> store_;
};

using Backends = ::testing::Types<MemoryBackend, RedisBackend>;

class BackendNames {
 public:
  template <class T>
  static std::string GetName(int) {
    return T::kName;
  }
};

TYPED_TEST_SUITE(StoreContract, Backends, BackendNames);

TYPED_TEST(StoreContract, Kind) { EXPECT_EQ(this->store_->kind(), TypeParam::kName); }

TYPED_TEST(StoreContract, Ping) {
  auto r = await<Unit>(this->io_, [&](auto cb) { this->store_->ping(cb); });
  EXPECT_TRUE(r.ok()) << r.error();
}

TYPED_TEST(StoreContract, GetMissingIsNullopt) {
  auto r = this->get("llm:nope");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_FALSE(r->has_value());
}

TYPED_TEST(StoreContract, SetThenGet) {
  ASSERT_TRUE(this->set("llm:logical:gpt-4", R"({"logical_id":"gpt-4"})").ok());
  auto r = this->get("llm:logical:gpt-4");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_TRUE(r->has_value());
  EXPECT_EQ(**r, R"({"logical_id":"gpt-4"})");
}

TYPED_TEST(StoreContract, SetOverwrites) {
  ASSERT_TRUE(this->set("k", "one").ok());
  ASSERT_TRUE(this->set("k", "two").ok());
  auto r = this->get("k");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, std::optional<std::string>("two"));
}

TYPED_TEST(StoreContract, EmptyBinaryAndLargeValues) {
  using namespace std::string_literals;
  ASSERT_TRUE(this->set("empty", "").ok());
  auto e = this->get("empty");
  ASSERT_TRUE(e.ok()) << e.error();
  ASSERT_TRUE(e->has_value());  // an empty value is not a missing key
  EXPECT_EQ(**e, "");

  std::string binary = "a\0b\r\n$-1\r\n*2\xff"s;
  ASSERT_TRUE(this->set("bin", binary).ok());
  auto b = this->get("bin");
  ASSERT_TRUE(b.ok()) << b.error();
  EXPECT_EQ(*b, std::optional<std::string>(binary));

  std::string big(1 << 20, 'x');
  for (size_t i = 0; i < big.size(); i += 997) big[i] = static_cast<char>('a' + i % 26);
  ASSERT_TRUE(this->set("big", big).ok());
  auto g = this->get("big");
  ASSERT_TRUE(g.ok()) << g.error();
  ASSERT_TRUE(g->has_value());
  EXPECT_TRUE(**g == big) << "1 MiB value came back different (size " << (*g)->size() << ")";
}

TYPED_TEST(StoreContract, KeysWithSpecialCharacters) {
  std::string key = "llm:session:conv 1\r\n*?[x]";
  ASSERT_TRUE(this->set(key, "v").ok());
  auto r = this->get(key);
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, std::optional<std::string>("v"));
}

TYPED_TEST(StoreContract, Del) {
  ASSERT_TRUE(this->set("d", "v").ok());
  auto first = this->del("d");
  ASSERT_TRUE(first.ok()) << first.error();
  EXPECT_TRUE(*first);
  auto gone = this->get("d");
  ASSERT_TRUE(gone.ok()) << gone.error();
  EXPECT_FALSE(gone->has_value());
  auto second = this->del("d");
  ASSERT_TRUE(second.ok()) << second.error();
  EXPECT_FALSE(*second);
  auto never = this->del("never-set");
  ASSERT_TRUE(never.ok()) << never.error();
  EXPECT_FALSE(*never);
}

TYPED_TEST(StoreContract, GetMany) {
  ASSERT_TRUE(this->set("m:a", "1").ok());
  ASSERT_TRUE(this->set("m:c", "3").ok());
  auto r = this->get_many({"m:a", "m:b", "m:c", "m:a"});
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->size(), 4u);
  EXPECT_EQ((*r)[0], std::optional<std::string>("1"));
  EXPECT_FALSE((*r)[1].has_value());
  EXPECT_EQ((*r)[2], std::optional<std::string>("3"));
  EXPECT_EQ((*r)[3], std::optional<std::string>("1"));
}

TYPED_TEST(StoreContract, GetManyEmpty) {
  auto r = this->get_many({});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_TRUE(r->empty());
}

TYPED_TEST(StoreContract, KeysWithPrefix) {
  for (const char* k : {"llm:logical:a", "llm:logical:b", "llm:logicalx", "llm:vendor:p:models",
                        "other:llm:logical:c"})
    ASSERT_TRUE(this->set(k, "v").ok());
  auto r = this->keys("llm:logical:");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, (std::vector<std::string>{"llm:logical:a", "llm:logical:b"}));
  auto none = this->keys("nothing:");
  ASSERT_TRUE(none.ok()) << none.error();
  EXPECT_TRUE(none->empty());
  auto all = this->keys("");
  ASSERT_TRUE(all.ok()) << all.error();
  EXPECT_EQ(all->size(), 5u);
}

TYPED_TEST(StoreContract, KeysWithPrefixMatchesGlobCharactersLiterally) {
  for (const char* k : {"g*x:1", "g*x:2", "gAx:3", "g?y:1", "gzy:1", "g[ab]:1", "ga:1", "gb:1",
                        "g\\z:1", "gz:1", "g]:1", "g^:1"})
    ASSERT_TRUE(this->set(k, "v").ok());
  using V = std::vector<std::string>;
  auto star = this->keys("g*x:");
  ASSERT_TRUE(star.ok()) << star.error();
  EXPECT_EQ(*star, (V{"g*x:1", "g*x:2"}));
  auto q = this->keys("g?y:");
  ASSERT_TRUE(q.ok()) << q.error();
  EXPECT_EQ(*q, (V{"g?y:1"}));
  auto br = this->keys("g[ab]:");
  ASSERT_TRUE(br.ok()) << br.error();
  EXPECT_EQ(*br, (V{"g[ab]:1"}));
  auto open = this->keys("g[");
  ASSERT_TRUE(open.ok()) << open.error();
  EXPECT_EQ(*open, (V{"g[ab]:1"}));
  auto bs = this->keys("g\\");
  ASSERT_TRUE(bs.ok()) << bs.error();
  EXPECT_EQ(*bs, (V{"g\\z:1"}));
  auto close = this->keys("g]");
  ASSERT_TRUE(close.ok()) << close.error();
  EXPECT_EQ(*close, (V{"g]:1"}));
  auto caret = this->keys("g^");
  ASSERT_TRUE(caret.ok()) << caret.error();
  EXPECT_EQ(*caret, (V{"g^:1"}));
}

TYPED_TEST(StoreContract, KeysWithPrefixManyKeys) {
  // More keys than one SCAN batch, among others that do not match.
  constexpr int kKeys = 1500;
  int done = 0;
  for (int i = 0; i < kKeys; ++i) {
    this->store_->set("many:" + std::to_string(i), "v", 0s, [&](Result<Unit> r) {
      EXPECT_TRUE(r.ok());
      ++done;
    });
    this->store_->set("other:" + std::to_string(i), "v", 0s, [&](Result<Unit>) { ++done; });
  }
  ASSERT_TRUE(pump_until(this->io_, [&] { return done == 2 * kKeys; }, 10000ms));
  auto r = this->keys("many:");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->size(), static_cast<size_t>(kKeys));
  EXPECT_EQ(std::adjacent_find(r->begin(), r->end()), r->end()) << "duplicate keys";
}

TYPED_TEST(StoreContract, TtlExpires) {
  ASSERT_TRUE(this->set("ttl:short", "v", 1s).ok());
  ASSERT_TRUE(this->set("ttl:forever", "v", 0s).ok());
  auto now = this->get("ttl:short");
  ASSERT_TRUE(now.ok()) << now.error();
  EXPECT_TRUE(now->has_value());
  auto start = Clock::now();
  bool gone = false;
  while (Clock::now() - start < 5s) {
    auto r = this->get("ttl:short");
    ASSERT_TRUE(r.ok()) << r.error();
    if (!r->has_value()) {
      gone = true;
      break;
    }
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(gone) << "a 1 s key still exists after 5 s";
  EXPECT_GE(Clock::now() - start, 500ms) << "expired far too early";
  auto keys = this->keys("ttl:");
  ASSERT_TRUE(keys.ok()) << keys.error();
  EXPECT_EQ(*keys, std::vector<std::string>{"ttl:forever"});
  auto forever = this->get("ttl:forever");
  ASSERT_TRUE(forever.ok()) << forever.error();
  EXPECT_TRUE(forever->has_value());
  auto d = this->del("ttl:short");
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_FALSE(*d);  // an expired key did not exist
}

TYPED_TEST(StoreContract, SetWithoutTtlClearsAnEarlierTtl) {
  ASSERT_TRUE(this->set("ttl:reset", "v1", 1s).ok());
  ASSERT_TRUE(this->set("ttl:reset", "v2", 0s).ok());
  std::this_thread::sleep_for(1500ms);
  auto r = this->get("ttl:reset");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, std::optional<std::string>("v2"));
}

TYPED_TEST(StoreContract, CallbacksNeverRunInsideTheCall) {
  ASSERT_TRUE(this->set("cb", "v").ok());
  int fired = 0;
  auto& s = *this->store_;
  s.get("cb", [&](Result<Store::Value>) { ++fired; });
  EXPECT_EQ(fired, 0);
  s.get_many({"cb", "x"}, [&](Result<std::vector<Store::Value>>) { ++fired; });
  EXPECT_EQ(fired, 0);
  s.get_many({}, [&](Result<std::vector<Store::Value>>) { ++fired; });
  EXPECT_EQ(fired, 0);
  s.set("cb2", "v", 0s, [&](Result<Unit>) { ++fired; });
  EXPECT_EQ(fired, 0);
  s.del("cb2", [&](Result<bool>) { ++fired; });
  EXPECT_EQ(fired, 0);
  s.keys_with_prefix("cb", [&](Result<std::vector<std::string>>) { ++fired; });
  EXPECT_EQ(fired, 0);
  s.ping([&](Result<Unit>) { ++fired; });
  EXPECT_EQ(fired, 0);
  ASSERT_TRUE(pump_until(this->io_, [&] { return fired == 7; }));
  this->io_.poll();
  EXPECT_EQ(fired, 7);
}

TYPED_TEST(StoreContract, ManyCommandsInFlightCompleteInOrder) {
  constexpr int kCount = 1000;
  std::vector<int> order;
  int errors = 0;
  for (int i = 0; i < kCount; ++i)
    this->store_->set("pipe:" + std::to_string(i), "value-" + std::to_string(i), 0s,
                      [&, i](Result<Unit> r) {
                        if (!r) ++errors;
                        order.push_back(i);
                      });
  ASSERT_TRUE(pump_until(this->io_, [&] { return order.size() == kCount; }, 10000ms))
      << order.size() << " of " << kCount << " sets completed";
  EXPECT_EQ(errors, 0);
  for (int i = 0; i < kCount; ++i) ASSERT_EQ(order[i], i) << "sets completed out of order";

  std::vector<std::pair<int, std::string>> got;
  for (int i = 0; i < kCount; ++i)
    this->store_->get("pipe:" + std::to_string(i), [&, i](Result<Store::Value> r) {
      got.emplace_back(i, r && r->has_value() ? **r : std::string("<missing>"));
    });
  ASSERT_TRUE(pump_until(this->io_, [&] { return got.size() == kCount; }, 10000ms));
  for (int i = 0; i < kCount; ++i) {
    ASSERT_EQ(got[i].first, i) << "gets completed out of order";
    ASSERT_EQ(got[i].second, "value-" + std::to_string(i));
  }
}

TYPED_TEST(StoreContract, TwoStoresShareData) {
  // Two stores from the same backend (e.g. two worker threads) see the same data.
  boost::asio::io_context other_io;
  auto other = TypeParam::make(other_io);
  ASSERT_TRUE(this->set("shared", "from-first").ok());
  auto r = await<Store::Value>(other_io, [&](auto cb) { other->get("shared", cb); });
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(*r, std::optional<std::string>("from-first"));
}

TYPED_TEST(StoreContract, CallbackMayIssueTheNextCommand) {
  std::optional<std::string> final_value;
  this->store_->set("chain", "1", 0s, [&](Result<Unit> r) {
    ASSERT_TRUE(r.ok());
    this->store_->get("chain", [&](Result<Store::Value> g) {
      ASSERT_TRUE(g.ok());
      this->store_->set("chain", **g + "2", 0s, [&](Result<Unit>) {
        this->store_->get("chain", [&](Result<Store::Value> h) { final_value = h ? **h : "err"; });
      });
    });
  });
  ASSERT_TRUE(pump_until(this->io_, [&] { return final_value.has_value(); }));
  EXPECT_EQ(*final_value, "12");
}

// ---------------------------------------------------------------- Redis only ----

class RedisFailures : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!RedisServer::available()) GTEST_SKIP() << "redis-server is not installed";
  }
  bool start(std::vector<std::string> extra = {}) {
    bool ok = server_.start(0, std::move(extra));
    if (!ok) ADD_FAILURE() << server_.error();
    return ok;
  }
  Result<RedisReply> cmd(RedisStore& s, std::vector<std::string> args,
                         std::chrono::milliseconds bound = 5000ms) {
    return await<RedisReply>(io_, [&](auto cb) { s.command(args, cb); }, bound);
  }
  Result<Unit> ping(RedisStore& s, std::chrono::milliseconds bound = 5000ms) {
    return await<Unit>(io_, [&](auto cb) { s.ping(cb); }, bound);
  }

  boost::asio::io_context io_;
  RedisServer server_;
};

TEST_F(RedisFailures, ClosedPortFailsFastWithAClearError) {
  int port = free_port();
  RedisUrl url;
  url.host = "127.0.0.1";
  url.port = std::to_string(port);
  RedisStore store(io_, url, 3000ms);
  auto t0 = Clock::now();
  auto r = await<Store::Value>(io_, [&](auto cb) { store.get("k", cb); });
  auto elapsed = Clock::now() - t0;
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(contains(r.error(), "TEST:")) << r.error();
  EXPECT_TRUE(contains(r.error(), "cannot connect")) << r.error();
  EXPECT_TRUE(contains(r.error(), "127.0.0.1:" + std::to_string(port))) << r.error();
  EXPECT_LT(elapsed, 1000ms) << "a refused connection should fail at once, not at the timeout";
  // Further commands during the back-off fail at once too, naming the cause.
  auto again = await<Store::Value>(io_, [&](auto cb) { store.get("k", cb); });
  ASSERT_FALSE(again.ok());
  EXPECT_TRUE(contains(again.error(), "cannot connect")) << again.error();
  // Every verb reports the failure.
  auto s = await<Unit>(io_, [&](auto cb) { store.set("k", "v", 0s, cb); });
  EXPECT_FALSE(s.ok());
  auto k = await<std::vector<std::string>>(io_, [&](auto cb) { store.keys_with_prefix("k", cb); });
  EXPECT_FALSE(k.ok());
  auto d = await<bool>(io_, [&](auto cb) { store.del("k", cb); });
  EXPECT_FALSE(d.ok());
  auto m = await<std::vector<Store::Value>>(io_, [&](auto cb) { store.get_many({"a"}, cb); });
  EXPECT_FALSE(m.ok());
}

TEST_F(RedisFailures, UnresolvableHostFails) {
  RedisUrl url;
  url.host = "no-such-host.invalid";
  url.port = "6379";
  RedisStore store(io_, url, 2000ms);
  auto r = ping(store, 10000ms);
  ASSERT_FALSE(r.ok());
  EXPECT_FALSE(contains(r.error(), "TEST:")) << r.error();
  EXPECT_TRUE(contains(r.error(), "no-such-host.invalid")) << r.error();
}

TEST_F(RedisFailures, StoppedServerGivesErrorsAndRestartedServerWorksAgain) {
  ASSERT_TRUE(start());
  RedisStore store(io_, server_.url(), 1000ms);
  ASSERT_TRUE(await<Unit>(io_, [&](auto cb) { store.set("k", "v", 0s, cb); }).ok());
  int port = server_.port();
  server_.stop();

  auto down = await<Store::Value>(io_, [&](auto cb) { store.get("k", cb); });
  ASSERT_FALSE(down.ok());
  EXPECT_FALSE(contains(down.error(), "TEST:")) << down.error();

  ASSERT_TRUE(server_.start(port)) << server_.error();
  auto deadline = Clock::now() + 5s;
  Result<Store::Value> back = Error{"never tried"};
  while (Clock::now() < deadline) {
    back = await<Store::Value>(io_, [&](auto cb) { store.get("k", cb); });
    if (back.ok()) break;
    std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(back.ok()) << "no reconnect within 5 s: " << back.error();
  EXPECT_FALSE(back->has_value());  // the new server has no data (nothing persisted)
  ASSERT_TRUE(await<Unit>(io_, [&](auto cb) { store.set("k", "v2", 0s, cb); }).ok());
  auto v = await<Store::Value>(io_, [&](auto cb) { store.get("k", cb); });
  ASSERT_TRUE(v.ok()) << v.error();
  EXPECT_EQ(*v, std::optional<std::string>("v2"));
}

TEST_F(RedisFailures, PendingCommandsFailWhenTheServerDies) {
  ASSERT_TRUE(start());
  RedisStore store(io_, server_.url(), 3000ms);
  ASSERT_TRUE(ping(store).ok());
  // A blocked command is pending when the server goes away.
  std::optional<Result<RedisReply>> blocked;
  store.command({"BLPOP", "nolist", "10"}, [&](Result<RedisReply> r) { blocked.emplace(std::move(r)); });
  pump_until(io_, [] { return false; }, 100ms);
  auto t0 = Clock::now();
  server_.stop();
  ASSERT_TRUE(pump_until(io_, [&] { return blocked.has_value(); }, 5000ms));
  EXPECT_FALSE(blocked->ok());
  EXPECT_LT(Clock::now() - t0, 2000ms) << "the loss should be noticed at once, not at the timeout";
}

TEST_F(RedisFailures, CommandTimeoutThenNextCommandWorks) {
  ASSERT_TRUE(start());
  RedisStore store(io_, server_.url(), 200ms);
  ASSERT_TRUE(ping(store).ok());  // connected
  // BLPOP blocks this connection only; the gateway must give up after 200 ms.
  std::optional<Result<RedisReply>> behind;
  auto t0 = Clock::now();
  std::optional<Result<RedisReply>> blocked;
  store.command({"BLPOP", "nolist", "3"}, [&](Result<RedisReply> r) { blocked.emplace(std::move(r)); });
  store.command({"GET", "k"}, [&](Result<RedisReply> r) { behind.emplace(std::move(r)); });
  ASSERT_TRUE(pump_until(io_, [&] { return blocked && behind; }, 5000ms)) << "no timeout (hang)";
  auto elapsed = Clock::now() - t0;
  ASSERT_FALSE(blocked->ok());
  EXPECT_TRUE(contains(blocked->error(), "did not answer within 200 ms")) << blocked->error();
  EXPECT_GE(elapsed, 150ms);
  EXPECT_LT(elapsed, 1500ms);
  EXPECT_FALSE(behind->ok()) << "a command queued behind the timed-out one cannot be answered";
  // The next command gets a fresh connection and works.
  auto next = ping(store);
  EXPECT_TRUE(next.ok()) << next.error();
  auto set = await<Unit>(io_, [&](auto cb) { store.set("after", "ok", 0s, cb); });
  EXPECT_TRUE(set.ok()) << set.error();
}

TEST_F(RedisFailures, DebugSleepTimeoutThenRecovers) {
  ASSERT_TRUE(start({"--enable-debug-command", "yes"}));
  RedisStore store(io_, server_.url(), 200ms);
  ASSERT_TRUE(ping(store).ok());
  auto t0 = Clock::now();
  auto r = cmd(store, {"DEBUG", "SLEEP", "1"});
  if (!r.ok() && contains(r.error(), "not allowed")) GTEST_SKIP() << r.error();
  ASSERT_FALSE(r.ok()) << "DEBUG SLEEP 1 answered within a 200 ms timeout";
  EXPECT_TRUE(contains(r.error(), "did not answer within 200 ms")) << r.error();
  EXPECT_LT(Clock::now() - t0, 900ms);
  // Once the server wakes up, commands work again.
  auto deadline = Clock::now() + 5s;
  Result<Unit> p = Error{"never tried"};
  while (Clock::now() < deadline) {
    p = ping(store);
    if (p.ok()) break;
    std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(p.ok()) << p.error();
}

// The very first command on a fresh connection must time out too.
TEST_F(RedisFailures, TimeoutOnTheFirstCommandOfAConnection) {
  ASSERT_TRUE(start());
  RedisStore store(io_, server_.url(), 200ms);
  auto t0 = Clock::now();
  auto r = cmd(store, {"BLPOP", "nolist", "5"}, 3000ms);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error(), "did not answer within 200 ms")) << r.error();
  EXPECT_LT(Clock::now() - t0, 1500ms);
}

// A listener that accepts connections and never answers (a hung Redis, a wrong service).
class SilentServer {
 public:
  SilentServer() {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
    ::listen(fd_, 16);  // the kernel completes handshakes; nobody ever reads
    socklen_t len = sizeof addr;
    ::getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
    port_ = ntohs(addr.sin_port);
  }
  ~SilentServer() { ::close(fd_); }
  int port() const { return port_; }

 private:
  int fd_ = -1;
  int port_ = 0;
};

TEST_F(RedisFailures, SilentServerTimesOut) {
  SilentServer silent;
  RedisUrl url;
  url.host = "127.0.0.1";
  url.port = std::to_string(silent.port());
  RedisStore store(io_, url, 200ms);
  auto r = ping(store, 3000ms);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error(), "did not answer within 200 ms")) << r.error();
}

TEST_F(RedisFailures, SilentServerTimesOutDuringAuth) {
  SilentServer silent;
  RedisUrl url;
  url.host = "127.0.0.1";
  url.port = std::to_string(silent.port());
  url.password = "secret";
  RedisStore store(io_, url, 200ms);
  auto r = ping(store, 3000ms);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error(), "did not answer within 200 ms")) << r.error();
}

TEST_F(RedisFailures, ErrorReplyArrivesAsError) {
  ASSERT_TRUE(start());
  RedisStore store(io_, server_.url(), 1000ms);
  auto r = cmd(store, {"NOSUCHCOMMAND", "x"});
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error(), "Redis error: ERR")) << r.error();
  // The connection stays usable after an error reply.
  auto p = ping(store);
  EXPECT_TRUE(p.ok()) << p.error();
  auto w = cmd(store, {"INCR", "counter"});
  ASSERT_TRUE(w.ok()) << w.error();
  EXPECT_EQ(w->type, RedisReply::Type::Integer);
  EXPECT_EQ(w->integer, 1);
}

TEST_F(RedisFailures, PasswordAuth) {
  ASSERT_TRUE(start({"--requirepass", "s3cret"}));
  {
    RedisStore good(io_, server_.url("s3cret"), 1000ms);
    auto p = ping(good);
    ASSERT_TRUE(p.ok()) << p.error();
    ASSERT_TRUE(await<Unit>(io_, [&](auto cb) { good.set("k", "v", 0s, cb); }).ok());
  }
  {
    RedisStore wrong(io_, server_.url("wrong"), 1000ms);
    auto p = ping(wrong);
    ASSERT_FALSE(p.ok());
    EXPECT_TRUE(contains(p.error(), "AUTH")) << p.error();
    EXPECT_FALSE(contains(p.error(), "TEST:")) << p.error();
  }
  {
    RedisStore none(io_, server_.url(), 1000ms);
    auto g = await<Store::Value>(io_, [&](auto cb) { none.get("k", cb); });
    ASSERT_FALSE(g.ok());
    EXPECT_TRUE(contains(g.error(), "NOAUTH")) << g.error();
  }
}

TEST_F(RedisFailures, AuthFailureFailsEveryQueuedCommand) {
  ASSERT_TRUE(start({"--requirepass", "s3cret"}));
  RedisStore wrong(io_, server_.url("wrong"), 1000ms);
  int failures = 0, successes = 0;
  for (int i = 0; i < 20; ++i)
    wrong.set("k" + std::to_string(i), "v", 0s, [&](Result<Unit> r) { r ? ++successes : ++failures; });
  ASSERT_TRUE(pump_until(io_, [&] { return failures + successes == 20; }));
  EXPECT_EQ(successes, 0);
  EXPECT_EQ(failures, 20);
}

TEST_F(RedisFailures, AclUserAuth) {
  ASSERT_TRUE(start({"--requirepass", "adminpw"}));
  RedisStore admin(io_, server_.url("adminpw"), 1000ms);
  auto acl = cmd(admin, {"ACL", "SETUSER", "alice", "on", ">p@ss:w/rd", "~*", "+@all"});
  ASSERT_TRUE(acl.ok()) << acl.error();

  // Through REDIS_URL parsing, with the password percent-encoded.
  auto url = parse_redis_url("redis://alice:p%40ss%3Aw%2Frd@127.0.0.1:" +
                             std::to_string(server_.port()) + "/0");
  ASSERT_TRUE(url.ok()) << url.error();
  RedisStore alice(io_, *url, 1000ms);
  // Commands queued before the connection exists go after AUTH, in order.
  std::vector<int> order;
  for (int i = 0; i < 50; ++i)
    alice.set("a" + std::to_string(i), std::to_string(i), 0s, [&, i](Result<Unit> r) {
      EXPECT_TRUE(r.ok()) << r.error();
      order.push_back(i);
    });
  ASSERT_TRUE(pump_until(io_, [&] { return order.size() == 50; }));
  for (int i = 0; i < 50; ++i) EXPECT_EQ(order[i], i);
  auto who = cmd(alice, {"ACL", "WHOAMI"});
  ASSERT_TRUE(who.ok()) << who.error();
  EXPECT_EQ(who->str, "alice");

  RedisStore wrong(io_, server_.url("nope", "alice"), 1000ms);
  auto p = ping(wrong);
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(contains(p.error(), "AUTH")) << p.error();
  EXPECT_FALSE(contains(p.error(), "nope")) << "the error shows the password: " << p.error();
}

TEST_F(RedisFailures, DatabaseSelection) {
  ASSERT_TRUE(start({"--requirepass", "pw"}));
  RedisStore db3(io_, server_.url("pw", "", 3), 1000ms);
  RedisStore db0(io_, server_.url("pw", "", 0), 1000ms);
  ASSERT_TRUE(await<Unit>(io_, [&](auto cb) { db3.set("only-in-3", "v", 0s, cb); }).ok());
  auto in0 = await<Store::Value>(io_, [&](auto cb) { db0.get("only-in-3", cb); });
  ASSERT_TRUE(in0.ok()) << in0.error();
  EXPECT_FALSE(in0->has_value());
  auto in3 = await<Store::Value>(io_, [&](auto cb) { db3.get("only-in-3", cb); });
  ASSERT_TRUE(in3.ok()) << in3.error();
  EXPECT_EQ(*in3, std::optional<std::string>("v"));
}

TEST_F(RedisFailures, BadDatabaseFailsWithSelect) {
  ASSERT_TRUE(start());
  RedisStore store(io_, server_.url("", "", 999), 1000ms);  // default: 16 databases
  auto p = ping(store);
  ASSERT_FALSE(p.ok());
  EXPECT_TRUE(contains(p.error(), "SELECT")) << p.error();
}

}  // namespace
}  // namespace apiproxy
