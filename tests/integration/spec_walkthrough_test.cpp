// The user's spec (spec/configuration-guide.zh.md) §2–§4, step by step: the §2 .env block
// as written (only the BASE_URLs point at three mocks), a real Redis, and every curl of §3
// and §4 with the same method, path and headers.
#include <set>

#include <gtest/gtest.h>

#include "assertions.hpp"
#include "json.hpp"
#include "services.hpp"

namespace it {
namespace {

constexpr const char* kToken = "spec-walkthrough-token";

// §2 verbatim, with {OPENAI}, {AZURE}, {LOCAL} for the BASE_URLs. The spec's hosts
// (api.openai.com, *.openai.azure.com, localhost:8080) are replaced by loopback mocks, so
// the adapter the spec's hosts would infer is named explicitly for the first two.
constexpr const char* kSpecEnv = R"(# 所有提供商 ID，逗号分隔
LLM_PROVIDERS=openai,azure,local

# OpenAI 提供商
LLM_PROVIDER_openai_NAME=OpenAI
LLM_PROVIDER_openai_BASE_URL={OPENAI}
LLM_PROVIDER_openai_API_KEY=sk-your-openai-api-key
LLM_PROVIDER_openai_MODELS_PATH=/v1/models
LLM_PROVIDER_openai_WEIGHT=3
LLM_PROVIDER_openai_REGION=global
LLM_PROVIDER_openai_COST_INPUT=0.003
LLM_PROVIDER_openai_COST_OUTPUT=0.006
LLM_PROVIDER_openai_MAX_QPS=50

# Azure OpenAI 提供商
LLM_PROVIDER_azure_NAME=Azure OpenAI
LLM_PROVIDER_azure_BASE_URL={AZURE}
LLM_PROVIDER_azure_API_KEY=your-azure-api-key
LLM_PROVIDER_azure_MODELS_PATH=/openai/models
LLM_PROVIDER_azure_WEIGHT=2
LLM_PROVIDER_azure_REGION=us-east
LLM_PROVIDER_azure_COST_INPUT=0.0025
LLM_PROVIDER_azure_COST_OUTPUT=0.005
LLM_PROVIDER_azure_MAX_QPS=100

# 本地模型（可选）
LLM_PROVIDER_local_NAME=Local Model
LLM_PROVIDER_local_BASE_URL={LOCAL}
LLM_PROVIDER_local_API_KEY=not-required
LLM_PROVIDER_local_MODELS_PATH=/v1/models
LLM_PROVIDER_local_WEIGHT=1
LLM_PROVIDER_local_REGION=local

# Not in the spec's block: the mocks listen on 127.0.0.1, which alone would infer 'local'.
LLM_PROVIDER_openai_ADAPTER=openai
LLM_PROVIDER_azure_ADAPTER=azure
)";

// A LogicalModel as the original service's model_dump() writes it, for `redis-cli SET`.
constexpr const char* kGpt4 = R"({"logical_id": "gpt-4", "display_name": "GPT-4", "description": "GPT-4 across OpenAI and Azure", "capabilities": ["chat", "function_calling"], "upstreams": [{"provider_id": "openai", "model_id": "gpt-4", "endpoint": "/v1/chat/completions", "base_weight": 3.0, "region": "global", "max_qps": 50, "meta_hash": null, "updated_at": 1700000000}, {"provider_id": "azure", "model_id": "gpt-4", "endpoint": "/openai/deployments/gpt-4/chat/completions", "base_weight": 2.0, "region": "us-east", "max_qps": null, "meta_hash": null, "updated_at": 1700000000}], "enabled": true, "updated_at": 1700000000})";

void replace(std::string& s, const std::string& what, const std::string& with) {
  s.replace(s.find(what), what.size(), with);
}

class SpecWalkthrough : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string text = kSpecEnv;
    replace(text, "{OPENAI}", openai.base_url());
    replace(text, "{AZURE}", azure.base_url());
    replace(text, "{LOCAL}", local.base_url());
    // The §1 settings (REDIS_URL, the auth token) come from the same .env file.
    text += "REDIS_URL=" + redis.url() + "\nAPIPROXY_AUTH_TOKEN=" + kToken + "\n";
    EnvMap env = gateway_env();
    env["APIPROXY_ENV_FILE"] = dir.write(".env", text).string();
    gateway = std::make_unique<Gateway>(env);
  }

  // curl -X GET "http://localhost:8000{path}" -H "Authorization: Bearer <base64(token)>"
  Response curl_get(const std::string& path) const {
    return gateway->client().get(path, {{"User-Agent", "curl/7.88.1"}, {"Accept", "*/*"}, bearer(kToken)});
  }

  RedisServer redis;
  MockUpstream openai{{"--name", "openai", "--models", "gpt-4,gpt-4o-mini", "--require-key",
                       "sk-your-openai-api-key"}};
  MockUpstream azure{{"--name", "azure", "--models", "gpt-4,gpt-35-turbo", "--require-key",
                      "your-azure-api-key"}};
  MockUpstream local{{"--name", "local", "--models", "llama-3-8b-instruct"}};
  TempDir dir;
  std::unique_ptr<Gateway> gateway;
};

TEST_F(SpecWalkthrough, ProvidersListsEveryConfiguredIdWithTheSpecValues) {
  auto r = curl_get("/providers");
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_TRUE(Contains(r.header("content-type"), "application/json"));
  auto d = parse_json(r.body);
  const auto& providers = arr(d, "providers");
  auto ids = pluck(providers, "id");
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), (std::set<std::string>{"openai", "azure", "local"}));
  EXPECT_EQ(num(d, "total"), 3);
  for (const auto& p : providers.GetArray()) {
    std::string id = str(p, "id");
    if (id == "openai") {
      EXPECT_EQ(str(p, "name"), "OpenAI");
      EXPECT_EQ(num(p, "weight"), 3);
      EXPECT_EQ(str(p, "region"), "global");
      EXPECT_DOUBLE_EQ(num(p, "cost_input"), 0.003);
      EXPECT_DOUBLE_EQ(num(p, "cost_output"), 0.006);
      EXPECT_EQ(num(p, "max_qps"), 50);
      EXPECT_EQ(str(p, "adapter"), "openai");
    } else if (id == "azure") {
      EXPECT_EQ(str(p, "name"), "Azure OpenAI");
      EXPECT_EQ(num(p, "weight"), 2);
      EXPECT_EQ(str(p, "region"), "us-east");
      EXPECT_DOUBLE_EQ(num(p, "cost_input"), 0.0025);
      EXPECT_DOUBLE_EQ(num(p, "cost_output"), 0.005);
      EXPECT_EQ(num(p, "max_qps"), 100);
      EXPECT_EQ(str(p, "adapter"), "azure");
    } else if (id == "local") {
      EXPECT_EQ(str(p, "name"), "Local Model");
      EXPECT_EQ(num(p, "weight"), 1);
      EXPECT_EQ(str(p, "region"), "local");
      EXPECT_EQ(str(p, "adapter"), "local");
    }
  }
  for (const char* key : {"sk-your-openai-api-key", "your-azure-api-key", "not-required"})
    EXPECT_TRUE(LacksSecret(r.dump(), key));
}

TEST_F(SpecWalkthrough, StartupDiscoveryWritesEveryVendorModelListToRedis) {
  for (const std::string id : {"openai", "azure", "local"}) {
    std::string key = "llm:vendor:" + id + ":models";
    ASSERT_TRUE(eventually([&] { return redis.cli({"EXISTS", key}) == "1"; }, 10s))
        << key << " never appeared in Redis";
    auto models = parse_json(redis.cli({"GET", key}));
    ASSERT_TRUE(models.IsArray()) << key;
    for (const auto& m : models.GetArray()) EXPECT_EQ(str(m, "provider_id"), id);
    // MODELS_CACHE_TTL: the cached list expires (300 s by default).
    long ttl = std::stol(redis.cli({"TTL", key}));
    EXPECT_GT(ttl, 0) << key;
    EXPECT_LE(ttl, 300) << key;
  }
  auto ids = [&](const std::string& id) {
    auto v = pluck(parse_json(redis.cli({"GET", "llm:vendor:" + id + ":models"})), "model_id");
    return std::set<std::string>(v.begin(), v.end());
  };
  EXPECT_EQ(ids("openai"), (std::set<std::string>{"gpt-4", "gpt-4o-mini"}));
  EXPECT_EQ(ids("azure"), (std::set<std::string>{"gpt-4", "gpt-35-turbo"}));
  EXPECT_EQ(ids("local"), (std::set<std::string>{"llama-3-8b-instruct"}));
}

TEST_F(SpecWalkthrough, ProviderModelsListsTheUpstreamModelsAndCachesThemInRedis) {
  const std::string key = "llm:vendor:openai:models";
  ASSERT_TRUE(eventually([&] { return redis.cli({"EXISTS", key}) == "1"; }, 10s));
  // Fetched again from the upstream (not from the start-up cache) and written back.
  redis.cli({"DEL", key});
  ASSERT_EQ(redis.cli({"EXISTS", key}), "0");

  auto r = curl_get("/providers/openai/models");
  ASSERT_EQ(r.status, 200) << r.dump();
  auto d = parse_json(r.body);
  auto ids = pluck(arr(d, "models"), "model_id");
  EXPECT_EQ(std::set<std::string>(ids.begin(), ids.end()), (std::set<std::string>{"gpt-4", "gpt-4o-mini"}));
  EXPECT_EQ(num(d, "total"), 2);
  for (const auto& m : arr(d, "models").GetArray()) EXPECT_EQ(str(m, "provider_id"), "openai");

  ASSERT_EQ(redis.cli({"EXISTS", key}), "1") << "the model list was not cached in Redis";
  auto cached = pluck(parse_json(redis.cli({"GET", key})), "model_id");
  EXPECT_EQ(std::set<std::string>(cached.begin(), cached.end()), (std::set<std::string>{"gpt-4", "gpt-4o-mini"}));

  // The mock saw the configured key, in OpenAI's header.
  auto stats = openai.stats();
  const auto& last = stats["last_request"];
  EXPECT_EQ(str(last, "target"), "/v1/models");
  EXPECT_EQ(str(last["headers"], "authorization"), "Bearer sk-your-openai-api-key");

  // A second call is served (from the cache or the upstream) with the same list.
  auto again = curl_get("/providers/openai/models");
  ASSERT_EQ(again.status, 200) << again.dump();
  EXPECT_EQ(num(parse_json(again.body), "total"), 2);
  EXPECT_TRUE(LacksSecret(r.dump() + again.dump(), "sk-your-openai-api-key"));
}

TEST_F(SpecWalkthrough, AzureAndLocalModelsComeThroughTheirAdapters) {
  for (const std::string id : {"azure", "local"}) redis.cli({"DEL", "llm:vendor:" + id + ":models"});
  auto az = curl_get("/providers/azure/models");
  ASSERT_EQ(az.status, 200) << az.dump();
  auto az_ids = pluck(arr(parse_json(az.body), "models"), "model_id");
  EXPECT_EQ(std::set<std::string>(az_ids.begin(), az_ids.end()), (std::set<std::string>{"gpt-4", "gpt-35-turbo"}));
  auto stats = azure.stats();
  const auto& last = stats["last_request"];
  EXPECT_TRUE(Contains(str(last, "target"), "/openai/models?api-version="));
  EXPECT_EQ(str(last["headers"], "api-key"), "your-azure-api-key");
  EXPECT_EQ(str(last["headers"], "authorization"), "") << "Azure takes the key in api-key only";

  auto lo = curl_get("/providers/local/models");
  ASSERT_EQ(lo.status, 200) << lo.dump();
  EXPECT_EQ(pluck(arr(parse_json(lo.body), "models"), "model_id"), std::vector<std::string>{"llama-3-8b-instruct"});
  for (const std::string id : {"azure", "local"})
    EXPECT_EQ(redis.cli({"EXISTS", "llm:vendor:" + id + ":models"}), "1") << id;
}

TEST_F(SpecWalkthrough, ProviderHealthIsHealthy) {
  auto r = curl_get("/providers/openai/health");
  ASSERT_EQ(r.status, 200) << r.dump();
  auto d = parse_json(r.body);
  EXPECT_EQ(str(d, "provider_id"), "openai");
  EXPECT_EQ(str(d, "status"), "healthy") << r.body;
  EXPECT_TRUE(is_null(d, "error_message")) << r.body;
  EXPECT_GE(num(d, "response_time_ms"), 0);
  EXPECT_GT(num(d, "timestamp"), 1.6e9);
  for (const std::string id : {"azure", "local"}) {
    auto h = curl_get("/providers/" + id + "/health");
    ASSERT_EQ(h.status, 200) << h.dump();
    EXPECT_EQ(str(parse_json(h.body), "status"), "healthy") << h.body;
  }
}

TEST_F(SpecWalkthrough, HandWrittenLogicalModelShowsUpInEveryLogicalModelEndpoint) {
  // §4: "用 redis-cli 手工 SET llm:logical:gpt-4 '...json...'"
  ASSERT_EQ(redis.cli({"SET", "llm:logical:gpt-4", kGpt4}), "OK");

  // 列出所有逻辑模型
  bool listed = eventually(
      [&] {
        auto r = curl_get("/logical-models");
        return r.status == 200 && Contains(r.body, "\"gpt-4\"");
      },
      10s, 100ms);
  auto list = curl_get("/logical-models");
  ASSERT_TRUE(listed) << list.dump();
  auto d = parse_json(list.body);
  EXPECT_EQ(pluck(arr(d, "models"), "logical_id"), std::vector<std::string>{"gpt-4"});
  EXPECT_EQ(num(d, "total"), 1);

  // 查看某个逻辑模型
  auto one = curl_get("/logical-models/gpt-4");
  ASSERT_EQ(one.status, 200) << one.dump();
  auto m = parse_json(one.body);
  EXPECT_EQ(str(m, "logical_id"), "gpt-4");
  EXPECT_EQ(str(m, "display_name"), "GPT-4");
  EXPECT_EQ(str(m, "description"), "GPT-4 across OpenAI and Azure");
  EXPECT_EQ(pluck(arr(m, "upstreams"), "provider_id"), (std::vector<std::string>{"openai", "azure"}));
  ASSERT_TRUE(m.HasMember("enabled") && m["enabled"].IsBool());
  EXPECT_TRUE(m["enabled"].GetBool());
  ASSERT_TRUE(m.HasMember("capabilities") && m["capabilities"].IsArray());
  EXPECT_EQ(m["capabilities"].Size(), 2u);

  // 查看逻辑模型的上游列表
  auto ups = curl_get("/logical-models/gpt-4/upstreams");
  ASSERT_EQ(ups.status, 200) << ups.dump();
  auto u = parse_json(ups.body);
  const auto& upstreams = arr(u, "upstreams");
  EXPECT_EQ(pluck(upstreams, "provider_id"), (std::vector<std::string>{"openai", "azure"}));
  EXPECT_EQ(pluck(upstreams, "model_id"), (std::vector<std::string>{"gpt-4", "gpt-4"}));
  ASSERT_EQ(upstreams.Size(), 2u);
  EXPECT_EQ(num(upstreams[0], "base_weight"), 3);
  EXPECT_EQ(str(upstreams[0], "region"), "global");
  EXPECT_EQ(num(upstreams[0], "max_qps"), 50);
  EXPECT_EQ(str(upstreams[1], "endpoint"), "/openai/deployments/gpt-4/chat/completions");
}

TEST_F(SpecWalkthrough, LogicalModelDeletedByHandDisappears) {
  ASSERT_EQ(redis.cli({"SET", "llm:logical:gpt-4", kGpt4}), "OK");
  ASSERT_TRUE(eventually([&] { return curl_get("/logical-models/gpt-4").status == 200; }, 10s, 100ms));
  ASSERT_EQ(redis.cli({"DEL", "llm:logical:gpt-4"}), "1");
  ASSERT_TRUE(eventually([&] { return curl_get("/logical-models/gpt-4").status == 404; }, 10s, 100ms));
  auto list = curl_get("/logical-models");
  ASSERT_EQ(list.status, 200) << list.dump();
  EXPECT_EQ(num(parse_json(list.body), "total"), 0);
}

}  // namespace
}  // namespace it
