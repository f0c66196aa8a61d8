// Issue 9: cross-talk. Many concurrent clients through one gateway to two mock upstreams
// that misbehave per request (1xx interim responses, resets, garbage, oversized headers,
// trickled bodies), some clients hanging up mid-request: every answer a client gets must be
// its own (its nonce, echoed by the mock), the gateway stays up and its memory bounded.
// The traffic mix is support/chaos.hpp; contract items 7 and 8 under concurrency.
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "adversary.hpp"
#include "chaos.hpp"
#include "data_plane.hpp"

namespace it {
namespace {

using namespace dp;
using namespace std::chrono_literals;

TEST(CrossTalk, ConcurrentClientsAndMisbehavingUpstreamsEveryAnswerIsItsOwn) {
  World world;
  world.start();
  const pid_t pid = world.gateway->process().pid();
  {  // the working size: pools, buffers, caches
    chaos::Tally warm;
    chaos::run_clients(world, 8, 5s, 10, {"chat-pool"}, warm);
  }
  const long base = adv::rss_kib(pid);
  chaos::Tally t;
  long peak = 0;
  auto started = Clock::now();
  {
    chaos::RssWatch watch(pid);
    chaos::run_clients(world, 32, 20s, 1000000, {"chat-pool", "chat-pool", "alpha/gpt-4o-mini"}, t);
    peak = watch.peak_kib();
  }
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  std::cerr << "[ cross-talk ] " << took.count() << " ms, RSS " << base / 1024 << " MiB -> peak " << peak / 1024
            << " MiB; " << t.summary() << "\n";

  ASSERT_TRUE(world.gateway->running()) << "the gateway died";
  EXPECT_EQ(t.wrong.load(), 0) << t.summary();
  EXPECT_EQ(t.unexpected.load(), 0) << t.summary();
  EXPECT_GT(t.own.load(), 300) << "too little traffic to mean much: " << t.summary();
  EXPECT_GT(num(world.alpha.stats(), "misbehaved") + num(world.beta.stats(), "misbehaved"), 100);
  EXPECT_LT(peak - base, 64 * 1024) << "RSS grew from " << base / 1024 << " to " << peak / 1024 << " MiB";

  // Afterwards, on every pooled connection, answers are still their own.
  for (int i = 0; i < 30; ++i) {
    std::string n = adv::nonce("calm");
    const char* model = i % 2 ? "chat-pool" : "alpha/gpt-4o-mini";
    auto r = world.chat(model, n);
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(adv::answer_text(r.body), reply_of(r.header("x-apiproxy-provider"), n));
  }
  EXPECT_EQ(world.client().get("/health").status, 200);
}

}  // namespace
}  // namespace it
