// Issue 9: state a client can make the gateway keep. Model names a client invents must not
// grow memory, Redis keys or /metrics series (contract item 9), and everything the gateway
// writes to Redis for traffic expires on its own (10).
// Real gateway, plugins, redis-server and mocks (support/data_plane.hpp).
#include <atomic>
#include <mutex>
#include <set>
#include <sstream>
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

std::vector<std::string> redis_keys(const World& w, const std::string& pattern = "*") {
  std::vector<std::string> out;
  std::istringstream in(w.redis.cli({"--scan", "--pattern", pattern}));
  std::string key;
  while (std::getline(in, key))
    if (!key.empty()) out.push_back(key);
  return out;
}

// Samples in a Prometheus exposition (lines that are not comments).
size_t series_count(const std::string& exposition) {
  size_t n = 0;
  for (const auto& line : lines_of(exposition)) n += line[0] != '#';
  return n;
}

// ------------------------------------------------------- 9: invented model names ---

TEST(AdversarialState, DistinctInventedModelNamesGrowNeitherMemoryNorKeysNorSeries) {
  World world;
  world.start({{"APIPROXY_METRICS_FLUSH_MS", "200"}});
  const pid_t pid = world.gateway->process().pid();
  std::atomic<int> answered{0}, not_found{0}, wrong{0};
  std::mutex mu;
  std::string first_wrong;

  // `count` requests from 4 keep-alive clients, each naming a model no one listed.
  auto invent = [&](int count, const std::string& tag) {
    std::vector<std::thread> threads;
    for (int t = 0; t < 4; ++t)
      threads.emplace_back([&, t] {
        auto conn = std::make_unique<HttpConnection>(world.gateway->port());
        for (int i = t; i < count; i += 4) {
          if (!conn->is_open()) conn = std::make_unique<HttpConnection>(world.gateway->port());
          std::string model = "alpha/" + adv::nonce("inv-" + tag);
          std::string n = adv::nonce("m");
          auto r = conn->request("POST", kChatPath, world.auth({{"Content-Type", "application/json"}}), chat_body(model, n));
          if (r.status == 200 && adv::answer_text(r.body) == reply_of("alpha", n)) {
            ++answered;
          } else if (r.status == 404) {
            ++not_found;
          } else if (++wrong == 1) {
            std::lock_guard lock(mu);
            first_wrong = model + ":\n" + r.dump().substr(0, 1000);
          }
        }
      });
    for (auto& t : threads) t.join();
  };

  invent(500, "warm");  // allocators, pools and caches at their working size
  std::this_thread::sleep_for(700ms);  // a few metric flushes
  const long rss0 = adv::rss_kib(pid);
  const long long keys0 = std::stoll(world.redis.cli({"DBSIZE"}));
  auto m0 = world.get("/metrics");
  ASSERT_EQ(m0.status, 200) << m0.dump();
  const size_t series0 = series_count(m0.body);

  constexpr int kNames = 20000;
  auto started = Clock::now();
  invent(kNames, "many");
  auto took = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
  std::this_thread::sleep_for(700ms);

  ASSERT_TRUE(world.gateway->running()) << "the gateway died";
  EXPECT_EQ(wrong.load(), 0) << "answers that were neither the request's own nor a 404, the first:\n" << first_wrong;
  EXPECT_TRUE(answered.load() == 0 || not_found.load() == 0)
      << "the same kind of name was answered " << answered.load() << " times and 404 " << not_found.load() << " times";
  const long rss1 = adv::rss_kib(pid);
  const long long keys1 = std::stoll(world.redis.cli({"DBSIZE"}));
  auto m1 = world.get("/metrics");
  ASSERT_EQ(m1.status, 200) << m1.dump();
  const size_t series1 = series_count(m1.body);
  std::cerr << "[ invented ] " << kNames << " names in " << took.count() << " ms; RSS " << rss0 / 1024 << " -> "
            << rss1 / 1024 << " MiB; Redis keys " << keys0 << " -> " << keys1 << "; series " << series0 << " -> "
            << series1 << "\n";

  EXPECT_LT(rss1 - rss0, 32 * 1024) << "RSS grew by " << (rss1 - rss0) / 1024 << " MiB over " << kNames << " names";
  EXPECT_LE(keys1 - keys0, 4) << "Redis keys grew with the names";
  auto per_name = redis_keys(world, "*inv-*");
  EXPECT_TRUE(per_name.empty()) << per_name.size() << " keys name an invented model, e.g. " << per_name.front();
  EXPECT_LE(series1, series0 + 8) << "/metrics series grew with the names";
  EXPECT_FALSE(Contains(m1.body, "inv-many")) << "an invented name became a label";
  EXPECT_TRUE(Contains(m1.body, "logical_model=\"(unlisted)\""));
  EXPECT_LT(took, 60s);
}

// ------------------------------------------------------------------- 10: TTLs ---

TEST(AdversarialState, EveryKeyWrittenForTrafficExpires) {
  World world;
  auto models = default_logical_models();
  std::string limited = logical("limited", {physical("alpha", "gpt-4o-mini"), physical("beta", "gpt-4o-mini")});
  for (size_t at = limited.find("\"max_qps\":null"); at != std::string::npos; at = limited.find("\"max_qps\":null"))
    limited.replace(at, 14, "\"max_qps\":500");
  models["limited"] = limited;
  world.start({{"APIPROXY_METRICS_FLUSH_MS", "200"}, {"LLM_PROVIDER_alpha_MAX_QPS", "1000"},
               {"LLM_PROVIDER_beta_MAX_QPS", "1000"}},
              models);

  // Traffic of every kind: pooled and direct models, sessions by header and by body,
  // streams, embeddings, failures and failover, a routing decision with a conversation.
  for (int i = 0; i < 5; ++i) {
    std::string n = adv::nonce("ttl");
    EXPECT_EQ(world.chat("chat-pool", n, {{"X-Session-Id", "ttl-session-" + std::to_string(i)}}).status, 200);
    EXPECT_EQ(world.chat("limited", n, {}, ",\"conversation_id\":\"ttl-conv-" + std::to_string(i) + "\"").status, 200);
    EXPECT_EQ(world.chat("alpha/gpt-4o-mini", n).status, 200);
    EXPECT_EQ(world.chat("only-beta", n).status, 200);
    EXPECT_EQ(world.chat("limited", n, {}, adv::mock_field(R"("on":"alpha","status":500)")).status, 200);
    EXPECT_EQ(world.post("/v1/embeddings", R"({"model":"text-embedding-3-small","input":"ttl"})").status, 200);
    auto s = world.stream(kChatPath, chat_body("chat-pool", n, R"(,"stream":true)"));
    s->read_body();
  }
  world.chat("ghost-pool", "x");
  EXPECT_EQ(world.post("/routing/decide", R"({"logical_model":"chat-pool","conversation_id":"ttl-decide"})").status, 200);
  std::this_thread::sleep_for(1000ms);  // metric flushes (every 200 ms) and weight updates

  auto keys = redis_keys(world);
  std::string listing;
  std::set<std::string> kinds;
  for (const auto& k : keys) {
    long long ttl = std::stoll(world.redis.cli({"TTL", k}));
    listing += k + "  TTL " + std::to_string(ttl) + "\n";
    if (k.rfind("llm:logical:", 0) == 0) continue;  // configuration, written by an operator
    kinds.insert(k.substr(0, k.find(':', k.find(':') + 1)));
    EXPECT_GT(ttl, 0) << k << " never expires";
  }
  std::cerr << "[ keys ] " << keys.size() << " keys:\n" << listing;
  // The test saw the kinds it is about.
  for (const char* kind : {"llm:metrics", "llm:session", "llm:vendor"})
    EXPECT_TRUE(kinds.count(kind)) << "no " << kind << ":* key among:\n" << listing;
}

}  // namespace
}  // namespace it
