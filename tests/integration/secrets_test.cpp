// Secrets never leave the process: with sentinel provider keys, a sentinel Redis password
// and LOG_LEVEL=debug, no response (status line, headers, body) and no log line contains
// any of them, whatever endpoint is called and however the provider fails.
#include <gtest/gtest.h>

#include "assertions.hpp"
#include "json.hpp"
#include "services.hpp"

namespace it {
namespace {

const std::string kOpenAIKey = "sk-SENTINEL-aaaaaaaaaaaaaaaaaaaa";
const std::string kAzureKey = "az-SENTINEL-bbbbbbbbbbbbbbbbbbbb";
const std::string kLocalKey = "lo-SENTINEL-dddddddddddddddddddd";
const std::string kRejectedKey = "sk-SENTINEL-eeeeeeeeeeeeeeeeeeee";
const std::string kDeadKey = "sk-SENTINEL-ffffffffffffffffffff";
const std::string kSkippedKey = "sk-SENTINEL-gggggggggggggggggggg";
const std::string kBadWeightKey = "sk-SENTINEL-hhhhhhhhhhhhhhhhhhhh";
const std::string kShortKey = "SENTINEL-short";  // under 16 characters
const std::string kRedisPassword = "redis-SENTINEL-cccccccccccccccccccc";
const std::string kToken = "token-SENTINEL-iiiiiiiiiiiiiiiiiiii";

std::vector<std::string> secrets() {
  return {kOpenAIKey, kAzureKey, kLocalKey, kRejectedKey, kDeadKey, kSkippedKey, kBadWeightKey,
          kShortKey, kRedisPassword, kToken, base64(kToken)};
}

class Secrets : public ::testing::Test {
 protected:
  void SetUp() override {
    EnvMap env = gateway_env({{"APIPROXY_AUTH_TOKEN", kToken},
                              {"REDIS_URL", redis.url()},
                              {"LOG_LEVEL", "debug"},
                              {"APIPROXY_HEALTH_TIMEOUT_MS", "1000"}});
    add_provider(env, "openai", openai.base_url(), kOpenAIKey, {{"ADAPTER", "openai"}});
    add_provider(env, "azure", azure.base_url(), kAzureKey, {{"ADAPTER", "azure"}, {"MODELS_PATH", "/openai/models"}});
    add_provider(env, "local", local.base_url(), kLocalKey);
    add_provider(env, "short", local.base_url(), kShortKey);
    add_provider(env, "rejected", openai.base_url(), kRejectedKey, {{"ADAPTER", "openai"}});
    add_provider(env, "dead", "http://127.0.0.1:" + std::to_string(free_port()), kDeadKey);
    add_provider(env, "skipped", "", kSkippedKey);
    env.erase("LLM_PROVIDER_skipped_BASE_URL");
    add_provider(env, "badweight", local.base_url(), kBadWeightKey, {{"WEIGHT", "abc"}});
    gateway = std::make_unique<Gateway>(env);
  }

  void check(const Response& r, const std::string& what) {
    ASSERT_TRUE(r.answered()) << what << ": " << r.error;
    for (const auto& s : secrets()) EXPECT_TRUE(LacksSecret(r.dump(), s)) << what;
    ++checked;
  }

  RedisServer redis{kRedisPassword};
  MockUpstream openai{{"--require-key", kOpenAIKey}};
  MockUpstream azure{{"--require-key", kAzureKey}};
  MockUpstream local;
  std::unique_ptr<Gateway> gateway;
  int checked = 0;
};

TEST_F(Secrets, NoResponseAndNoLogLineContainsASecret) {
  auto c = gateway->client(8s);
  const Headers auth{bearer(kToken)};
  const Headers key_auth{api_key_header(kToken)};

  // Discovery has run for everyone before the walk (and logged at debug level).
  ASSERT_TRUE(eventually([&] { return redis.cli({"EXISTS", "llm:vendor:openai:models"}) == "1"; }, 10s));

  for (const char* path : {"/health", "/metrics", "/providers", "/plugins", "/logical-models", "/v1/models"}) {
    check(c.get(path, auth), path);
    check(c.get(path), std::string(path) + " without credentials");
  }
  check(c.get("/providers", key_auth), "/providers with X-API-Key");
  check(c.get("/providers", {bearer("wrong")}), "/providers with a wrong token");
  for (const std::string id : {"openai", "azure", "local", "short", "rejected", "dead", "skipped", "badweight", "nope"}) {
    for (const std::string suffix : {"", "/models", "/health", "/metrics", "/metrics?logical_model=chat"}) {
      std::string path = "/providers/" + id + suffix;
      check(c.get(path, auth), path);
    }
  }
  // The failing ones really failed (otherwise this walk proves less than it claims).
  EXPECT_EQ(str(parse_json(c.get("/providers/rejected/health", auth).body), "status"), "down");
  EXPECT_EQ(str(parse_json(c.get("/providers/dead/health", auth).body), "status"), "down");

  const std::string model = R"({"logical_id":"chat","upstreams":[
      {"provider_id":"openai","model_id":"gpt-4o","base_weight":2},
      {"provider_id":"azure","model_id":"gpt-4o","base_weight":1},
      {"provider_id":"rejected","model_id":"gpt-4o","base_weight":1},
      {"provider_id":"dead","model_id":"gpt-4o","base_weight":1}]})";
  check(c.put("/logical-models/chat", model, auth), "PUT /logical-models/chat");
  check(c.put("/logical-models/bad", R"({"upstreams":[{"provider_id":"skipped","model_id":"m","base_weight":1}]})", auth),
        "PUT with a skipped provider");
  check(c.put("/logical-models/bad", "{oops", auth), "PUT malformed");
  for (const char* path : {"/logical-models", "/logical-models/chat", "/logical-models/chat/upstreams"})
    check(c.get(path, auth), path);
  check(c.post("/routing/decide", R"({"logical_model":"chat","strategy":"cost_first"})", auth), "/routing/decide");
  check(c.get("/routing/sessions/conv_1", auth), "/routing/sessions");
  const std::string chat = R"({"model":"chat","messages":[{"role":"user","content":"hi"}]})";
  check(c.post("/v1/chat/completions", chat, auth), "/v1/chat/completions");
  check(c.post("/v1/chat/completions", R"({"model":"chat","stream":true,"messages":[{"role":"user","content":"hi"}]})", auth),
        "/v1/chat/completions stream");
  check(c.post("/v1/embeddings", R"({"model":"chat","input":"hi"})", auth), "/v1/embeddings");
  check(c.del("/logical-models/chat", auth), "DELETE /logical-models/chat");
  EXPECT_GT(checked, 60);

  EXPECT_EQ(gateway->stop(), 0);
  std::string log = gateway->log();
  EXPECT_TRUE(Contains(log, "debug")) << "LOG_LEVEL=debug had no effect";
  for (const auto& s : secrets()) EXPECT_TRUE(LacksSecret(log, s)) << "in the gateway's log";
}

TEST(SecretsInUrls, CredentialsInABaseUrlAreNotEchoed) {
  // A userinfo password in BASE_URL is refused; the refusal must not repeat the password.
  const std::string password = "url-SENTINEL-jjjjjjjjjjjjjjjjjjjj";
  MockUpstream mock;
  EnvMap env = gateway_env({{"LOG_LEVEL", "debug"}});
  add_provider(env, "withuser", "http://admin:" + password + "@127.0.0.1:" + std::to_string(mock.port()), "sk-x-key");
  Gateway gw(env);
  auto r = gw.client().get("/providers");
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_TRUE(LacksSecret(r.dump(), password));
  EXPECT_TRUE(LacksSecret(gw.client().get("/providers/withuser").dump(), password));
  gw.stop();
  EXPECT_TRUE(LacksSecret(gw.log(), password));
}

TEST(SecretsInUrls, RedisUrlPasswordIsNotEchoedWhenTheUrlIsRefused) {
  const std::string password = "redis-SENTINEL-kkkkkkkkkkkkkkkkkk";
  for (const std::string& url : {"redis://:" + password + "@127.0.0.1:99999/0",
                                "redis://:" + password + "@127.0.0.1:6379/notadb",
                                "rediss://:" + password + "@127.0.0.1:6379/0"}) {
    SCOPED_TRACE(url.substr(0, 10));
    auto r = run_command({gateway_binary(), "serve", "--host", "127.0.0.1", "--port", "0"},
                         gateway_env({{"REDIS_URL", url}}), 15s);
    EXPECT_NE(r.exit_code, 0);
    EXPECT_NE(r.exit_code, -1) << "the gateway started with an invalid REDIS_URL";
    EXPECT_TRUE(Contains(r.err + r.out, "REDIS_URL"));
    EXPECT_TRUE(LacksSecret(r.err + r.out, password));
  }
}

}  // namespace
}  // namespace it
