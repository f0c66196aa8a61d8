// Per-provider options against the real gateway and the project's mock upstream: static
// model lists (used instead of MODELS_PATH, or as its fallback) and per-provider timeouts.
#include <chrono>
#include <fstream>
#include <set>
#include <string>

#include <gtest/gtest.h>

#include "assertions.hpp"
#include "data_plane.hpp"

namespace it {
namespace {

using namespace dp;
using namespace std::chrono_literals;

std::set<std::string> model_ids(const Gateway& gw) {
  auto r = gw.client().get("/v1/models", {bearer(kToken)});
  auto ids = pluck(arr(parse_json(r.body), "data"), "id");
  return {ids.begin(), ids.end()};
}

class ProviderOptions : public ::testing::Test {
 protected:
  MockUpstream relay{{"--name", "relay", "--models", "gpt-4o-mini"}};
  std::unique_ptr<Gateway> gateway;

  void start(const EnvMap& provider_vars) {
    EnvMap env = gateway_env({{"APIPROXY_AUTH_TOKEN", kToken}});
    add_provider(env, "relay", relay.base_url(), "sk-relay-key", provider_vars);
    gateway = std::make_unique<Gateway>(env);
  }
};

TEST_F(ProviderOptions, AStaticListIsServedWithoutAskingTheModelsEndpoint) {
  start({{"STATIC_MODELS_JSON", R"(["static-alpha", {"id":"static-beta","context_length":8192}])"}});
  ASSERT_TRUE(eventually([&] { return model_ids(*gateway).count("relay/static-beta") || model_ids(*gateway).count("static-beta"); }, 10s, 50ms))
      << gateway->client().get("/v1/models", {bearer(kToken)}).dump();
  auto listed = gateway->client().get("/providers/relay/models", {bearer(kToken)});
  ASSERT_EQ(listed.status, 200) << listed.dump();
  EXPECT_TRUE(Contains(listed.body, "static-alpha")) << listed.body;
  EXPECT_TRUE(Contains(listed.body, "8192")) << listed.body;
  // By name, as provider/model: the request reaches the relay with that model id.
  auto r = gateway->client().post(kChatPath, chat_body("relay/static-alpha", "hello"), {bearer(kToken)});
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_TRUE(Contains(str(relay.stats()["last_request"], "body"), "\"static-alpha\""));
  EXPECT_EQ(path_count(relay.stats(), "/v1/models"), 0) << "MODELS_PATH must not be called";
}

TEST_F(ProviderOptions, AStaticListIsTheFallbackWhenModelsPathFails) {
  start({{"MODELS_PATH", "/no/such/list"}, {"STATIC_MODELS_JSON", R"(["fallback-model"])"}});
  ASSERT_TRUE(eventually([&] {
    auto r = gateway->client().get("/providers/relay/models", {bearer(kToken)});
    return r.status == 200 && Contains(r.body, "fallback-model");
  }, 10s, 50ms));
  EXPECT_GE(path_count(relay.stats(), "/no/such/list"), 1);
  EXPECT_TRUE(Contains(gateway->log(), "using its 1 static models"));
}

TEST_F(ProviderOptions, AnOriginalEnvFileWithAKeyPoolAndStaticModelsWorksUnchanged) {
  // Written as for the Python gateway: JSON values with spaces, quoted and unquoted, string
  // entries in the key list, no API_KEY.
  TempDir dir;
  std::string env_file = (dir.path() / ".env").string();
  std::ofstream(env_file) << "LLM_PROVIDERS=relay\n"
                             "LLM_PROVIDER_relay_NAME=Relay\n"
                             "LLM_PROVIDER_relay_BASE_URL=" << relay.base_url() << "\n"
                             "LLM_PROVIDER_relay_API_KEYS_JSON=[{\"key\": \"sk-file-pool-one-0000\", \"weight\": 2, \"label\": \"one\"}, \"sk-file-pool-two-0000\"]\n"
                             "LLM_PROVIDER_relay_STATIC_MODELS_JSON='[{\"id\": \"file-static\", \"context_length\": 4096}]'\n"
                             "SECRET_KEY=file-secret\n"
                             "APIPROXY_AUTH_TOKEN=" << kToken << "\n";
  EnvMap env = base_env();
  env["APIPROXY_ENV_FILE"] = env_file;
  Gateway gw(env);
  ASSERT_TRUE(eventually([&] { return model_ids(gw).count("relay/file-static") || model_ids(gw).count("file-static"); }, 10s, 50ms))
      << gw.client().get("/v1/models", {bearer(kToken)}).dump();
  for (int i = 0; i < 20; ++i) {
    auto r = gw.client().post(kChatPath, chat_body("relay/file-static", "from the file " + std::to_string(i)), {bearer(kToken)});
    ASSERT_EQ(r.status, 200) << r.dump();
  }
  auto stats = relay.stats();  // by_key points into it
  auto by_key = stats["by_key"].GetObject();
  long long one = by_key.HasMember("sk-file-pool-one-0000") ? by_key["sk-file-pool-one-0000"].GetInt64() : 0;
  long long two = by_key.HasMember("sk-file-pool-two-0000") ? by_key["sk-file-pool-two-0000"].GetInt64() : 0;
  EXPECT_EQ(one + two, 20);
  EXPECT_GT(one, 0);
  EXPECT_GT(two, 0);
  EXPECT_EQ(path_count(relay.stats(), "/v1/models"), 0);
}

TEST_F(ProviderOptions, TheProvidersTotalTimeoutBoundsANonStreamedAnswer) {
  // A slow non-streamed answer (the head comes with the whole answer) gets the provider's
  // whole TIMEOUT_SECONDS, not a first-byte limit.
  start({{"TIMEOUT_SECONDS", "4"}});
  relay.configure(R"({"latency_ms":1500})");
  ASSERT_TRUE(eventually([&] { return model_ids(*gateway).count("relay/gpt-4o-mini") > 0 || model_ids(*gateway).count("gpt-4o-mini") > 0; }, 10s, 50ms));
  auto ok = gateway->client(10s).post(kChatPath, chat_body("relay/gpt-4o-mini", "slow but fine"), {bearer(kToken)});
  EXPECT_EQ(ok.status, 200) << ok.dump();
  relay.configure(R"({"latency_ms":6000})");
  auto began = std::chrono::steady_clock::now();
  auto cut = gateway->client(15s).post(kChatPath, chat_body("relay/gpt-4o-mini", "too slow"), {bearer(kToken)});
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - began).count();
  EXPECT_EQ(cut.status, 502) << cut.dump();
  EXPECT_TRUE(Contains(cut.body, "4000 ms")) << cut.body;
  EXPECT_LT(waited, 5.9) << "cut at the provider's 4 s, not at the mock's 6 s";
}

}  // namespace
}  // namespace it
