// Provider key pools: reading API_KEY / API_KEYS / API_KEYS_JSON (core/config/api_keys.hpp)
// and choosing among the keys (core/providers/key_pool.hpp), against the in-process store.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>

#include <map>
#include <random>
#include <string>

#include "core/config/api_keys.hpp"
#include "core/config/environment.hpp"
#include "core/providers/key_pool.hpp"
#include "core/store/memory_store.hpp"

namespace apiproxy {
namespace {

using namespace std::chrono_literals;

const std::string kPrefix = "LLM_PROVIDER_p_";

ApiKeyPool read(std::optional<std::string> key, std::optional<std::string> keys, std::optional<std::string> json) {
  return read_api_keys(kPrefix, {std::move(key), std::move(keys), std::move(json)});
}

std::string all_warnings(const ApiKeyPool& pool) {
  std::string out;
  for (const auto& w : pool.warnings) out += w + "\n";
  return out;
}

TEST(ApiKeys, SingleKeyIsAPoolOfOne) {
  auto pool = read("sk-single", std::nullopt, std::nullopt);
  ASSERT_EQ(pool.keys.size(), 1u);
  EXPECT_EQ(pool.keys[0].key, "sk-single");
  EXPECT_EQ(pool.keys[0].label, "key1");
  EXPECT_EQ(pool.source, "API_KEY");
  EXPECT_TRUE(pool.warnings.empty());
}

TEST(ApiKeys, CommaListGetsNumberedLabels) {
  auto pool = read(std::nullopt, " k-one , k-two,,k-three ", std::nullopt);
  ASSERT_EQ(pool.keys.size(), 3u);
  EXPECT_EQ(pool.keys[1].key, "k-two");
  EXPECT_EQ(pool.keys[0].label, "key1");
  EXPECT_EQ(pool.keys[2].label, "key3");
  EXPECT_EQ(pool.source, "API_KEYS");
}

TEST(ApiKeys, JsonEntriesWithWeightsLimitsAndLabels) {
  auto pool = read(std::nullopt, std::nullopt,
                   R"([{"key":"sk-aaaaaaaaaaaaaaaa1234","weight":2,"max_qps":5,"label":"team-a"},
                       {"key":"sk-bbbbbbbbbbbbbbbb5678"}, "sk-short"])");
  ASSERT_EQ(pool.keys.size(), 3u) << all_warnings(pool);
  EXPECT_EQ(pool.keys[0].label, "team-a");
  EXPECT_DOUBLE_EQ(pool.keys[0].weight, 2);
  EXPECT_DOUBLE_EQ(pool.keys[0].max_qps, 5);
  // The default label shows the last four characters only of a key long enough to spare them.
  EXPECT_EQ(pool.keys[1].label, "key2-***5678");
  EXPECT_DOUBLE_EQ(pool.keys[1].weight, 1);
  EXPECT_DOUBLE_EQ(pool.keys[1].max_qps, 0);
  EXPECT_EQ(pool.keys[2].label, "key3");
  EXPECT_EQ(pool.source, "API_KEYS_JSON");
}

TEST(ApiKeys, InvalidJsonEntriesAreSkippedNamingTheIndexNeverTheKey) {
  auto pool = read(std::nullopt, std::nullopt,
                   R"([{"key":"sk-good-0001"}, {"key":"sk-secret-weight","weight":0},
                       {"key":"sk-secret-qps","max_qps":"fast"}, {"nokey":1}, 42,
                       {"key":"sk-secret-label","label":"has space"}, {"key":"sk-good-0001"},
                       {"key":"sk-ctl\nkey"}, {"key":"sk-label-leak","label":"sk-label-leak"}])");
  ASSERT_EQ(pool.keys.size(), 1u) << all_warnings(pool);
  std::string w = all_warnings(pool);
  for (int n : {2, 3, 4, 5, 6, 7, 8, 9})
    EXPECT_NE(w.find("LLM_PROVIDER_p_API_KEYS_JSON entry " + std::to_string(n) + " skipped"), std::string::npos)
        << n << "\n" << w;
  for (const char* secret : {"sk-good-0001", "sk-secret", "sk-ctl", "sk-label-leak"})
    EXPECT_EQ(w.find(secret), std::string::npos) << secret << " leaked into:\n" << w;
}

TEST(ApiKeys, JsonThatIsNotAListFallsBackToTheNextVariable) {
  auto pool = read("sk-fallback", std::nullopt, R"({"key":"sk-x"})");
  ASSERT_EQ(pool.keys.size(), 1u);
  EXPECT_EQ(pool.keys[0].key, "sk-fallback");
  EXPECT_EQ(pool.source, "API_KEY");
  EXPECT_NE(all_warnings(pool).find("API_KEYS_JSON is not a JSON list"), std::string::npos);
}

TEST(ApiKeys, TheFirstUsableVariableWinsAndTheOthersAreNamedAsIgnored) {
  auto pool = read("sk-single", "k1,k2", R"(["j1"])");
  ASSERT_EQ(pool.keys.size(), 1u);
  EXPECT_EQ(pool.keys[0].key, "j1");
  std::string w = all_warnings(pool);
  EXPECT_NE(w.find("LLM_PROVIDER_p_API_KEYS is ignored"), std::string::npos) << w;
  EXPECT_NE(w.find("LLM_PROVIDER_p_API_KEY is ignored"), std::string::npos) << w;
}

TEST(ApiKeys, DuplicateLabelsAreMadeUnique) {
  auto pool = read(std::nullopt, std::nullopt, R"([{"key":"a1","label":"x"},{"key":"a2","label":"x"}])");
  ASSERT_EQ(pool.keys.size(), 2u);
  EXPECT_NE(pool.keys[0].label, pool.keys[1].label);
}

TEST(ApiKeys, NothingUsableIsAnEmptyPool) {
  EXPECT_TRUE(read(std::nullopt, std::nullopt, std::nullopt).keys.empty());
  EXPECT_TRUE(read("  ", " , ", "[]").keys.empty());
  EXPECT_TRUE(read("bad\rkey", std::nullopt, std::nullopt).keys.empty());
}

TEST(ApiKeys, ProviderWithOnlyAPoolIsUsable) {
  auto set = load_providers(Environment::from_text(
      "LLM_PROVIDERS=p,q\n"
      "LLM_PROVIDER_p_NAME=P\nLLM_PROVIDER_p_BASE_URL=https://p.example\nLLM_PROVIDER_p_API_KEYS=k1,k2\n"
      "LLM_PROVIDER_q_NAME=Q\nLLM_PROVIDER_q_BASE_URL=https://q.example\nLLM_PROVIDER_q_API_KEYS_JSON=[1]\n",
      {}));
  ASSERT_EQ(set.providers.size(), 1u);
  EXPECT_EQ(set.providers[0].keys.size(), 2u);
  EXPECT_EQ(set.providers[0].api_key, "k1");
  ASSERT_EQ(set.skipped.size(), 1u);
  EXPECT_NE(set.skipped[0].reason.find("LLM_PROVIDER_q_API_KEYS_JSON"), std::string::npos) << set.skipped[0].reason;
  bool noted = false;
  for (const auto& n : set.notes) noted |= n.find("LLM_PROVIDER_q_API_KEYS_JSON entry 1 skipped") != std::string::npos;
  EXPECT_TRUE(noted);
}

TEST(KeyMember, IsHexHmacSha256OfProviderAndKey) {
  // python3: hmac.new(b"test-secret", b"openai:sk-live-0123456789abcdef", hashlib.sha256).hexdigest()
  EXPECT_EQ(key_member("test-secret", "openai", "sk-live-0123456789abcdef"),
            "d6319862d120fac631f025605f45f9f4bbeb158f97d02fa728e9d7be5a3c041a");
  EXPECT_NE(key_member("other-secret", "openai", "sk-live-0123456789abcdef"),
            key_member("test-secret", "openai", "sk-live-0123456789abcdef"));
}

class KeyPoolTest : public ::testing::Test {
 protected:
  boost::asio::io_context io;
  std::shared_ptr<Store> store = std::make_shared<MemoryStore>(io, std::make_shared<MemoryData>());
  std::mt19937_64 rng{42};
  KeyPool::Clock::time_point now = KeyPool::Clock::now();

  static std::vector<ApiKeyConfig> keys(std::vector<double> weights) {
    std::vector<ApiKeyConfig> out;
    for (size_t i = 0; i < weights.size(); ++i)
      out.push_back({"sk-" + std::to_string(i), "key" + std::to_string(i + 1), weights[i], 0});
    return out;
  }
  std::vector<uint16_t> order(const KeyPool& pool, std::vector<uint16_t> tried = {}) {
    std::vector<uint16_t> out;
    pool.order(rng, now, tried, out);
    return out;
  }
};

TEST_F(KeyPoolTest, FirstChoiceFollowsTheWeights) {
  KeyPool pool("p", keys({1, 3}), "s");
  int heavy = 0;
  for (int i = 0; i < 4000; ++i) heavy += order(pool).front() == 1;
  EXPECT_NEAR(heavy / 4000.0, 0.75, 0.04);
}

TEST_F(KeyPoolTest, SuccessesDoNotPullHealthyKeysAwayFromTheirWeights) {
  KeyPool pool("p", keys({1, 1}), "s");
  for (int i = 0; i < 30; ++i) pool.record(0, KeyOutcome::Success, 0ms, now, *store);
  EXPECT_GT(pool.view(now)[0].preference, 9.0);
  int first = 0;
  for (int i = 0; i < 4000; ++i) first += order(pool).front() == 0;
  EXPECT_NEAR(first / 4000.0, 0.5, 0.04);
  // The credit absorbs a 429 (10 × 0.7 is still above 1); a key below 1 loses share.
  pool.record(0, KeyOutcome::RateLimited, 0ms, now, *store);
  pool.record(1, KeyOutcome::RateLimited, 0ms, now, *store);
  now += 61s;
  first = 0;
  for (int i = 0; i < 4000; ++i) first += order(pool).front() == 0;
  EXPECT_NEAR(first / 4000.0, 1 / 1.7, 0.04);
}

TEST_F(KeyPoolTest, OrderListsEveryUsableKeyOnceAndSkipsTriedOnes) {
  KeyPool pool("p", keys({1, 1, 1}), "s");
  auto all = order(pool);
  ASSERT_EQ(all.size(), 3u);
  std::sort(all.begin(), all.end());
  EXPECT_EQ(all, (std::vector<uint16_t>{0, 1, 2}));
  EXPECT_EQ(order(pool, {0, 2}), (std::vector<uint16_t>{1}));
}

TEST_F(KeyPoolTest, AuthFailureBacksOffAtLeastThirtySeconds) {
  KeyPool pool("p", keys({1, 1}), "s");
  pool.record(0, KeyOutcome::AuthFailure, 0ms, now, *store);
  EXPECT_EQ(order(pool), (std::vector<uint16_t>{1}));
  now += 29s;
  EXPECT_EQ(order(pool), (std::vector<uint16_t>{1}));
  now += 2s;
  EXPECT_EQ(order(pool).size(), 2u);
  auto view = pool.view(now);
  EXPECT_EQ(view[0].auth_failures, 1u);
  EXPECT_LT(view[0].preference, 1.0);
}

TEST_F(KeyPoolTest, RateLimitHonoursRetryAfterElseDoublesFromOneSecond) {
  KeyPool pool("p", keys({1, 1}), "s");
  pool.record(0, KeyOutcome::RateLimited, 5000ms, now, *store);
  EXPECT_NEAR(pool.view(now)[0].backoff_seconds, 5.0, 0.01);
  pool.record(1, KeyOutcome::RateLimited, 0ms, now, *store);
  EXPECT_NEAR(pool.view(now)[1].backoff_seconds, 1.0, 0.01);
  pool.record(1, KeyOutcome::RateLimited, 0ms, now, *store);
  EXPECT_NEAR(pool.view(now)[1].backoff_seconds, 2.0, 0.01);
  for (int i = 0; i < 10; ++i) pool.record(1, KeyOutcome::RateLimited, 0ms, now, *store);
  EXPECT_NEAR(pool.view(now)[1].backoff_seconds, 60.0, 0.01);
  pool.record(1, KeyOutcome::Success, 0ms, now, *store);
  EXPECT_EQ(pool.view(now)[1].backoff_seconds, 0.0);
  pool.record(1, KeyOutcome::RateLimited, 0ms, now, *store);
  EXPECT_NEAR(pool.view(now)[1].backoff_seconds, 1.0, 0.01) << "a success starts the doubling over";
}

TEST_F(KeyPoolTest, ASingleKeyNeverBacksOff) {
  KeyPool pool("p", keys({1}), "s");
  pool.record(0, KeyOutcome::AuthFailure, 0ms, now, *store);
  pool.record(0, KeyOutcome::RateLimited, 10000ms, now, *store);
  EXPECT_EQ(order(pool), (std::vector<uint16_t>{0}));
  EXPECT_EQ(pool.view(now)[0].auth_failures, 1u);
}

TEST_F(KeyPoolTest, PreferencesAreStoredUnderHmacMembersAndSharedWithOtherPools) {
  KeyPool pool("p", keys({1, 1}), "s");
  pool.record(0, KeyOutcome::AuthFailure, 0ms, now, *store);
  pool.record(1, KeyOutcome::Success, 0ms, now, *store);
  io.run();
  io.restart();
  std::vector<std::pair<std::string, double>> members;
  store->zset_members("provider:p:key_scores", [&](auto r) { members = r.value(); });
  io.run();
  io.restart();
  ASSERT_EQ(members.size(), 2u);
  std::map<std::string, double> by(members.begin(), members.end());
  EXPECT_NEAR(by.at(key_member("s", "p", "sk-0")), 0.2, 1e-9);
  EXPECT_NEAR(by.at(key_member("s", "p", "sk-1")), 1.1, 1e-9);
  // Another instance (another pool on the same store) learns them on its next refresh.
  KeyPool other("p", keys({1, 1}), "s");
  other.refresh(*store, now);
  io.run();
  EXPECT_NEAR(other.view(now)[0].preference, 0.2, 1e-9);
  EXPECT_NEAR(other.view(now)[1].preference, 1.1, 1e-9);
}

}  // namespace
}  // namespace apiproxy
