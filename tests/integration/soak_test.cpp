// Issue 9: a short soak (ctest label `soak`, about two minutes). Concurrent clients for a
// fixed time against mock upstreams that misbehave at random (support/chaos.hpp), while the
// test's own redis-server is stopped and started again once: no crash, no answer that is
// not its own, bounded memory, and full recovery once Redis is back (requests succeed,
// /health shows the store reachable, store-backed endpoints work).
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "adversary.hpp"
#include "chaos.hpp"
#include "data_plane.hpp"

namespace it {
namespace {

using namespace dp;
using namespace std::chrono_literals;

bool store_reachable(const World& w) {
  auto r = w.client(3s).get("/health");
  if (r.status != 200) return false;
  auto h = parse_json(r.body);
  return h.IsObject() && h.HasMember("store") && h["store"].IsObject() && h["store"].HasMember("reachable") &&
         h["store"]["reachable"].IsTrue();
}

TEST(Soak, MisbehavingUpstreamsAndARedisRestartForTwoMinutes) {
  World world;
  world.start({{"REDIS_TIMEOUT_MS", "500"}});
  const pid_t pid = world.gateway->process().pid();
  const std::vector<std::string> models = {"chat-pool", "chat-pool", "alpha/gpt-4o-mini"};
  {
    chaos::Tally warm;
    chaos::run_clients(world, 8, 8s, 40, models, warm);
  }
  const long base = adv::rss_kib(pid);
  chaos::RssWatch watch(pid);

  chaos::Tally before, during, after;
  chaos::run_clients(world, 12, 40s, 100000, models, before);
  std::cerr << "[ soak ] before the Redis restart: " << before.summary() << "\n";

  // Clients keep going while Redis goes away for a while and comes back empty; the operator
  // then restores the logical models (Redis here keeps nothing on disk).
  std::thread clients([&] { chaos::run_clients(world, 12, 25s, 100000, models, during); });
  std::this_thread::sleep_for(3s);
  world.redis.stop();
  std::this_thread::sleep_for(8s);
  world.redis.start();
  for (const auto& [id, json] : default_logical_models()) world.redis.cli({"SET", "llm:logical:" + id, json});
  clients.join();
  std::cerr << "[ soak ] around the Redis restart: " << during.summary() << "\n";
  ASSERT_TRUE(world.gateway->running()) << "the gateway died around the Redis restart";
  EXPECT_TRUE(eventually([&] { return store_reachable(world); }, 15s, 200ms)) << world.client().get("/health").dump();

  chaos::run_clients(world, 12, 40s, 100000, models, after);
  std::cerr << "[ soak ] after the Redis restart: " << after.summary() << "\n";
  const long end = adv::rss_kib(pid);
  std::cerr << "[ soak ] RSS " << base / 1024 << " MiB at the start, peak " << watch.peak_kib() / 1024 << " MiB, "
            << end / 1024 << " MiB at the end\n";

  ASSERT_TRUE(world.gateway->running()) << "the gateway died";
  for (auto* t : {&before, &during, &after}) EXPECT_EQ(t->wrong.load(), 0) << t->summary();
  EXPECT_EQ(before.unexpected.load(), 0) << before.summary();
  EXPECT_EQ(after.unexpected.load(), 0) << after.summary();
  EXPECT_GT(after.own.load(), 200) << after.summary();
  EXPECT_LT(watch.peak_kib() - base, 96 * 1024) << "RSS peaked " << (watch.peak_kib() - base) / 1024 << " MiB above the start";
  EXPECT_LT(end - base, 64 * 1024) << "RSS ended " << (end - base) / 1024 << " MiB above the start";

  // Recovered: the store answers, and what depends on it works again.
  EXPECT_TRUE(store_reachable(world));
  EXPECT_EQ(world.client().get("/health/ready").status, 200);
  auto list = world.get("/logical-models");
  EXPECT_EQ(list.status, 200) << list.dump();
  for (int i = 0; i < 10; ++i) {
    std::string n = adv::nonce("soak-after");
    auto r = world.chat("chat-pool", n, {{"X-Session-Id", "soak-session"}});
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(adv::answer_text(r.body), reply_of(r.header("x-apiproxy-provider"), n));
  }
  EXPECT_EQ(world.redis.cli({"EXISTS", "llm:session:soak-session"}), "1") << "sessions are stored again";
}

}  // namespace
}  // namespace it
