// The gateway on a real Redis: an outage gives prompt 503s and recovery is automatic;
// REDIS_URL with a password (right and wrong), REDIS_PASSWORD, and a database index.
#include <gtest/gtest.h>

#include "assertions.hpp"
#include "json.hpp"
#include "services.hpp"

namespace it {
namespace {

constexpr const char* kToken = "redis-test-token";
constexpr const char* kModel = R"({"upstreams":[{"provider_id":"p","model_id":"m","base_weight":1}]})";

EnvMap env_for(const std::string& redis_url) {
  EnvMap env = gateway_env({{"APIPROXY_AUTH_TOKEN", kToken},
                            {"REDIS_URL", redis_url},
                            {"REDIS_TIMEOUT_MS", "500"},
                            {"APIPROXY_CATALOG_REFRESH_SECONDS", "1"}});
  add_provider(env, "p", "http://127.0.0.1:" + std::to_string(free_port()), "sk-redis-test-key");
  return env;
}

void expect_store_503(const Response& r) {
  ASSERT_TRUE(r.answered()) << "no answer before the client timeout: " << r.error;
  ASSERT_EQ(r.status, 503) << r.dump();
  auto d = parse_json(r.body);
  EXPECT_EQ(str(d, "error"), "service_unavailable") << r.body;
  EXPECT_TRUE(Contains(str(d, "message"), "store")) << r.body;
}

TEST(Redis, OutageGivesPrompt503sAndRecoveryIsAutomatic) {
  RedisServer redis;
  Gateway gw(env_for(redis.url()));
  auto client = gw.client(8s);
  ASSERT_EQ(client.put("/logical-models/before", kModel, {bearer(kToken)}).status, 200);
  ASSERT_EQ(redis.cli({"EXISTS", "llm:logical:before"}), "1");
  auto ok = client.get("/logical-models", {bearer(kToken)});
  ASSERT_EQ(ok.status, 200) << ok.dump();

  redis.stop();

  expect_store_503(client.get("/logical-models", {bearer(kToken)}));
  expect_store_503(client.get("/logical-models/before", {bearer(kToken)}));
  expect_store_503(client.put("/logical-models/during", kModel, {bearer(kToken)}));
  expect_store_503(client.del("/logical-models/before", {bearer(kToken)}));
  // What does not need the store still works.
  auto health = client.get("/health");
  ASSERT_EQ(health.status, 200) << health.dump();
  auto h = parse_json(health.body);
  ASSERT_TRUE(h.HasMember("store") && h["store"].IsObject()) << health.body;
  EXPECT_TRUE(h["store"].HasMember("reachable") && h["store"]["reachable"].IsFalse()) << health.body;
  EXPECT_EQ(client.get("/providers", {bearer(kToken)}).status, 200);
  // Several requests during the outage: each answered, none piles up.
  for (int i = 0; i < 5; ++i) expect_store_503(client.get("/logical-models", {bearer(kToken)}));

  redis.start();  // same port, empty (no persistence)

  bool back = eventually([&] { return client.get("/logical-models", {bearer(kToken)}).status == 200; }, 15s, 100ms);
  ASSERT_TRUE(back) << client.get("/logical-models", {bearer(kToken)}).dump();
  auto put = client.put("/logical-models/after", kModel, {bearer(kToken)});
  EXPECT_EQ(put.status, 200) << put.dump();
  EXPECT_EQ(redis.cli({"EXISTS", "llm:logical:after"}), "1");
  auto hh = parse_json(client.get("/health").body);
  EXPECT_TRUE(hh["store"]["reachable"].IsTrue());
}

TEST(Redis, HungRedisGives503AfterTheTimeoutAndRecovers) {
  RedisServer redis;
  Gateway gw(env_for(redis.url()));
  auto client = gw.client(8s);
  ASSERT_EQ(client.put("/logical-models/m", kModel, {bearer(kToken)}).status, 200);

  redis.pause();  // the connection stays open; nothing is answered
  auto r = client.get("/logical-models/m", {bearer(kToken)});
  expect_store_503(r);
  EXPECT_TRUE(Contains(r.body, "Redis"));  // says which store is in trouble
  expect_store_503(client.get("/logical-models", {bearer(kToken)}));
  EXPECT_EQ(client.get("/health").status, 200);

  redis.resume();
  bool back = eventually([&] { return client.get("/logical-models/m", {bearer(kToken)}).status == 200; }, 15s, 100ms);
  EXPECT_TRUE(back) << client.get("/logical-models/m", {bearer(kToken)}).dump();
}

TEST(Redis, UnreachableAtStartupStillStartsAndAnswers503) {
  uint16_t nothing = free_port();
  Gateway gw(env_for("redis://127.0.0.1:" + std::to_string(nothing) + "/0"));
  expect_store_503(gw.client(8s).get("/logical-models", {bearer(kToken)}));
  EXPECT_EQ(gw.client().get("/health").status, 200);
}

TEST(Redis, PasswordInRedisUrlWorks) {
  RedisServer redis("pw-redis-ok-7f3a9c");
  Gateway gw(env_for(redis.url()));
  auto put = gw.client().put("/logical-models/secure", kModel, {bearer(kToken)});
  ASSERT_EQ(put.status, 200) << put.dump();
  EXPECT_EQ(redis.cli({"EXISTS", "llm:logical:secure"}), "1");
  auto list = gw.client().get("/logical-models", {bearer(kToken)});
  ASSERT_EQ(list.status, 200) << list.dump();
  EXPECT_EQ(pluck(arr(parse_json(list.body), "models"), "logical_id"), std::vector<std::string>{"secure"});
  EXPECT_TRUE(LacksSecret(gw.log(), "pw-redis-ok-7f3a9c"));
}

TEST(Redis, WrongPasswordGives503NamingAuthButNeverThePassword) {
  RedisServer redis("pw-redis-right-1b2c3d");
  const std::string wrong = "pw-redis-WRONG-9z8y7x";
  Gateway gw(env_for("redis://:" + wrong + "@127.0.0.1:" + std::to_string(redis.port()) + "/0"));
  auto r = gw.client(8s).get("/logical-models", {bearer(kToken)});
  expect_store_503(r);
  std::string message = str(parse_json(r.body), "message");
  std::string upper = message;
  for (auto& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  EXPECT_TRUE(Contains(upper, "AUTH")) << message;
  auto health = gw.client().get("/health");
  ASSERT_EQ(health.status, 200) << health.dump();
  auto h = parse_json(health.body);
  EXPECT_TRUE(h["store"]["reachable"].IsFalse()) << health.body;
  gw.stop();
  for (const std::string& secret : {wrong, std::string("pw-redis-right-1b2c3d")}) {
    EXPECT_TRUE(LacksSecret(r.dump() + health.dump(), secret));
    EXPECT_TRUE(LacksSecret(gw.log(), secret));
  }
}

TEST(Redis, MissingPasswordGives503NamingAuth) {
  RedisServer redis("pw-redis-required-4e5f");
  Gateway gw(env_for("redis://127.0.0.1:" + std::to_string(redis.port()) + "/0"));
  auto r = gw.client(8s).get("/logical-models", {bearer(kToken)});
  expect_store_503(r);
  EXPECT_TRUE(Contains(r.body, "AUTH")) << r.body;
}

// docker-compose.yml's flow: Redis requires REDIS_PASSWORD, REDIS_URL is the guide's,
// without a password; the gateway sends REDIS_PASSWORD itself.
TEST(Redis, RedisPasswordIsSentWhenTheUrlHasNone) {
  RedisServer redis("pw-redis-env-5a6b7c");
  EnvMap env = env_for("redis://127.0.0.1:" + std::to_string(redis.port()) + "/0");
  env["REDIS_PASSWORD"] = "pw-redis-env-5a6b7c";
  Gateway gw(env);
  auto put = gw.client().put("/logical-models/via-env", kModel, {bearer(kToken)});
  ASSERT_EQ(put.status, 200) << put.dump();
  EXPECT_EQ(redis.cli({"EXISTS", "llm:logical:via-env"}), "1");
  gw.stop();
  EXPECT_TRUE(LacksSecret(gw.log(), "pw-redis-env-5a6b7c"));
}

// The template's REDIS_PASSWORD with a local Redis that has no password: used as is.
TEST(Redis, RedisPasswordIsNotNeededByARedisWithoutOne) {
  RedisServer redis;
  EnvMap env = env_for(redis.url());
  env["REDIS_PASSWORD"] = "pw-redis-unneeded-8d9e";
  Gateway gw(env);
  auto put = gw.client().put("/logical-models/no-password", kModel, {bearer(kToken)});
  ASSERT_EQ(put.status, 200) << put.dump();
  EXPECT_EQ(redis.cli({"EXISTS", "llm:logical:no-password"}), "1");
  gw.stop();
  EXPECT_TRUE(LacksSecret(gw.log(), "pw-redis-unneeded-8d9e"));
}

TEST(Redis, WrongRedisPasswordGives503AndAPasswordInTheUrlWins) {
  RedisServer redis("pw-redis-real-0f1e");
  EnvMap env = env_for("redis://127.0.0.1:" + std::to_string(redis.port()) + "/0");
  env["REDIS_PASSWORD"] = "pw-redis-WRONG-2d3c";
  {
    Gateway gw(env);
    auto r = gw.client(8s).get("/logical-models", {bearer(kToken)});
    expect_store_503(r);
    EXPECT_TRUE(Contains(r.body, "AUTH")) << r.body;
    gw.stop();
    EXPECT_TRUE(LacksSecret(r.dump() + gw.log(), "pw-redis-WRONG-2d3c"));
  }
  env["REDIS_URL"] = redis.url();  // carries the right password
  Gateway gw(env);
  EXPECT_EQ(gw.client().get("/logical-models", {bearer(kToken)}).status, 200);
}

TEST(Redis, DatabaseIndexInRedisUrlIsUsed) {
  RedisServer redis;
  Gateway gw(env_for(redis.url(3)));
  ASSERT_EQ(gw.client().put("/logical-models/in-db3", kModel, {bearer(kToken)}).status, 200);
  EXPECT_EQ(redis.cli({"-n", "3", "EXISTS", "llm:logical:in-db3"}), "1");
  EXPECT_EQ(redis.cli({"-n", "0", "EXISTS", "llm:logical:in-db3"}), "0");
}

TEST(Redis, InvalidStoredLogicalModelIsReportedNotFatal) {
  RedisServer redis;
  Gateway gw(env_for(redis.url()));
  redis.cli({"SET", "llm:logical:broken", "{this is not json"});
  redis.cli({"SET", "llm:logical:good", R"({"logical_id":"good","upstreams":[]})"});
  auto list = gw.client().get("/logical-models", {bearer(kToken)});
  ASSERT_EQ(list.status, 200) << list.dump();
  auto d = parse_json(list.body);
  EXPECT_EQ(pluck(arr(d, "models"), "logical_id"), std::vector<std::string>{"good"});
  EXPECT_TRUE(Contains(list.body, "broken")) << "the unreadable entry should be pointed out";
  auto one = gw.client().get("/logical-models/broken", {bearer(kToken)});
  EXPECT_EQ(one.status, 500) << one.dump();
  EXPECT_TRUE(gw.running());
}

TEST(Redis, ManyModelsAreListed) {
  RedisServer redis;
  Gateway gw(env_for(redis.url()));
  std::vector<std::string> mset{"MSET"};
  for (int i = 0; i < 150; ++i) {
    mset.push_back("llm:logical:m" + std::to_string(i));
    mset.push_back(R"({"logical_id":"m)" + std::to_string(i) + R"(","upstreams":[]})");
  }
  ASSERT_EQ(redis.cli(mset), "OK");
  auto list = gw.client().get("/logical-models", {bearer(kToken)});
  ASSERT_EQ(list.status, 200) << list.dump();
  EXPECT_EQ(num(parse_json(list.body), "total"), 150);
}

}  // namespace
}  // namespace it
