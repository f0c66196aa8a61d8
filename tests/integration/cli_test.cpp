// The apiproxy command line: encode-token, --version, check-config, logical-model
// (against a real Redis, and seen by a running gateway on the same Redis) and health.
#include <gtest/gtest.h>

#include "assertions.hpp"
#include "json.hpp"
#include "services.hpp"

namespace it {
namespace {

CommandResult apiproxy(std::vector<std::string> args, const EnvMap& extra = {}, std::string stdin_text = "") {
  args.insert(args.begin(), gateway_binary());
  return run_command(args, gateway_env(extra), 10s, std::move(stdin_text));
}

// For failure messages: how the command ended, and what it printed.
std::string describe(const CommandResult& r) {
  std::string how = r.exit_code == -1 ? "HUNG: still running after 10 s and killed\n"
                                      : "exit code " + std::to_string(r.exit_code) + "\n";
  return how + "stdout: " + r.out + "\nstderr: " + r.err;
}

TEST(Cli, EncodeTokenPrintsBase64) {
  auto r = apiproxy({"encode-token", "abc"});
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "YWJj\n");
  auto longer = apiproxy({"encode-token", "my secret token!"});
  EXPECT_EQ(longer.out, base64("my secret token!") + "\n");
  EXPECT_EQ(apiproxy({"encode-token"}).exit_code, 2);
  EXPECT_EQ(apiproxy({"encode-token", "a", "b"}).exit_code, 2);
}

TEST(Cli, VersionAndHelp) {
  auto v = apiproxy({"--version"});
  EXPECT_EQ(v.exit_code, 0) << v.err;
  EXPECT_EQ(v.out.rfind("apiproxy ", 0), 0u) << v.out;
  EXPECT_NE(v.out.find_first_of("0123456789"), std::string::npos) << v.out;
  // The allocator the build chose is the one the process runs on (a linker that dropped
  // jemalloc as unneeded would leave glibc's malloc in place, silently).
  EXPECT_TRUE(Contains(v.out, std::string("\nallocator: ") + APIPROXY_IT_ALLOCATOR)) << v.out;
  auto h = apiproxy({"--help"});
  EXPECT_EQ(h.exit_code, 0);
  for (const char* cmd : {"serve", "encode-token", "check-config", "logical-model"}) EXPECT_TRUE(Contains(h.out, cmd));
  auto bad = apiproxy({"frobnicate"});
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_TRUE(Contains(bad.err, "frobnicate"));
  EXPECT_EQ(apiproxy({"serve", "--port", "notaport"}).exit_code, 2);
}

TEST(Cli, CheckConfigWithUsableProvidersExitsZeroAndRedactsKeys) {
  const std::string key = "sk-SENTINEL-check-config-0000000000";
  EnvMap extra;
  add_provider(extra, "openai", "https://api.openai.com", key, {{"WEIGHT", "3"}, {"REGION", "global"}});
  add_provider(extra, "local", "http://localhost:8080", "not-required");
  add_provider(extra, "broken", "https://example.com", "k", {{"WEIGHT", "abc"}});
  auto r = apiproxy({"check-config"}, extra);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "openai"));
  EXPECT_TRUE(Contains(r.out, "local"));
  EXPECT_TRUE(Contains(r.out, "adapter=openai"));
  EXPECT_TRUE(Contains(r.out, "adapter=local"));
  EXPECT_TRUE(Contains(r.out, "LLM_PROVIDER_broken_WEIGHT"));
  EXPECT_TRUE(Contains(r.out, "****"));
  EXPECT_TRUE(LacksSecret(r.out + r.err, key));
  EXPECT_TRUE(LacksSecret(r.out + r.err, "not-required"));
}

TEST(Cli, CheckConfigShowsAKeyPoolByLabelNeverByKey) {
  const std::string first = "sk-SENTINEL-pool-first-000000001111", second = "sk-SENTINEL-pool-second-00000002222";
  EnvMap extra;
  add_provider(extra, "pooled", "https://api.openai.com", "",
               {{"API_KEYS_JSON", "[{\"key\":\"" + first + "\",\"weight\":3,\"label\":\"team-a\"},{\"key\":\"" +
                                      second + "\",\"max_qps\":5},{\"weight\":1}]"}});
  extra.erase("LLM_PROVIDER_pooled_API_KEY");
  auto r = apiproxy({"check-config"}, extra);
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "keys from LLM_PROVIDER_pooled_API_KEYS_JSON: team-a(weight=3) key2-***2222(weight=1 max_qps=5)"))
      << r.out;
  EXPECT_TRUE(Contains(r.out + r.err, "LLM_PROVIDER_pooled_API_KEYS_JSON entry 3 skipped")) << r.out << r.err;
  EXPECT_TRUE(LacksSecret(r.out + r.err, first));
  EXPECT_TRUE(LacksSecret(r.out + r.err, second));
}

TEST(Cli, CheckConfigWithNoUsableProviderExitsOne) {
  auto r = apiproxy({"check-config"}, {{"LLM_PROVIDERS", "a4f"}, {"LLM_PROVIDER_openai_NAME", "a4f"}});
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out + r.err, "LLM_PROVIDER_a4f_"));
  auto none = apiproxy({"check-config"});
  EXPECT_EQ(none.exit_code, 1) << none.out << none.err;
}

TEST(Cli, CheckConfigWithAnInvalidSettingFails) {
  auto r = apiproxy({"check-config"}, {{"APIPROXY_PORT", "abc"}});
  EXPECT_NE(r.exit_code, 0);
  EXPECT_TRUE(Contains(r.out + r.err, "APIPROXY_PORT"));
}

TEST(Cli, CheckConfigReadsTheEnvFile) {
  TempDir dir;
  auto file = dir.write("prod.env", "LLM_PROVIDERS=fromfile\n"
                                    "LLM_PROVIDER_fromfile_NAME=\"From File\"\n"
                                    "LLM_PROVIDER_fromfile_BASE_URL=https://api.example.com\n"
                                    "LLM_PROVIDER_fromfile_API_KEY=sk-file-key-0123456789abcdef\n");
  auto r = apiproxy({"check-config"}, {{"APIPROXY_ENV_FILE", file.string()}});
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_TRUE(Contains(r.out, "prod.env"));
  EXPECT_TRUE(Contains(r.out, "fromfile"));
  EXPECT_TRUE(LacksSecret(r.out + r.err, "sk-file-key-0123456789abcdef"));
}

constexpr const char* kModel = R"({
  "logical_id": "gpt-4",
  "display_name": "GPT-4",
  "description": "written by the CLI",
  "capabilities": ["chat"],
  "upstreams": [{"provider_id": "openai", "model_id": "gpt-4", "endpoint": "/v1/chat/completions", "base_weight": 1}]
})";

TEST(Cli, LogicalModelPutGetListDeleteAgainstRedis) {
  RedisServer redis;
  EnvMap env{{"REDIS_URL", redis.url()}};
  TempDir dir;
  auto file = dir.write("gpt-4.json", kModel);

  auto put = apiproxy({"logical-model", "put", file.string()}, env);
  ASSERT_EQ(put.exit_code, 0) << describe(put);
  EXPECT_TRUE(Contains(put.out, "llm:logical:gpt-4"));
  // Exactly where the spec says, readable by redis-cli.
  auto stored = parse_json(redis.cli({"GET", "llm:logical:gpt-4"}));
  EXPECT_EQ(str(stored, "logical_id"), "gpt-4");
  EXPECT_EQ(str(stored, "description"), "written by the CLI");
  EXPECT_GT(num(stored, "updated_at"), 1.6e9);

  auto get = apiproxy({"logical-model", "get", "gpt-4"}, env);
  ASSERT_EQ(get.exit_code, 0) << describe(get);
  EXPECT_EQ(str(parse_json(get.out), "logical_id"), "gpt-4");

  ASSERT_EQ(apiproxy({"logical-model", "put", "-"}, env,
                     R"({"logical_id":"from-stdin","upstreams":[]})").exit_code, 0);
  auto list = apiproxy({"logical-model", "list"}, env);
  ASSERT_EQ(list.exit_code, 0) << describe(list);
  EXPECT_TRUE(Contains(list.out, "\"gpt-4\""));
  EXPECT_TRUE(Contains(list.out, "\"from-stdin\""));

  auto del = apiproxy({"logical-model", "delete", "gpt-4"}, env);
  EXPECT_EQ(del.exit_code, 0) << describe(del);
  EXPECT_EQ(redis.cli({"EXISTS", "llm:logical:gpt-4"}), "0");
  auto gone = apiproxy({"logical-model", "get", "gpt-4"}, env);
  EXPECT_EQ(gone.exit_code, 1);
  EXPECT_TRUE(Contains(gone.err, "not found"));
  EXPECT_EQ(apiproxy({"logical-model", "delete", "gpt-4"}, env).exit_code, 1);
}

TEST(Cli, LogicalModelRejectsBadInput) {
  RedisServer redis;
  EnvMap env{{"REDIS_URL", redis.url()}};
  TempDir dir;
  auto bad = apiproxy({"logical-model", "put", dir.write("bad.json", "{not json").string()}, env);
  EXPECT_EQ(bad.exit_code, 1);
  EXPECT_TRUE(Contains(bad.err, "invalid"));
  auto wrong = apiproxy({"logical-model", "put",
                         dir.write("w.json", R"({"logical_id":"x","upstreams":[{"provider_id":"p","model_id":"m","base_weight":"x"}]})").string()},
                        env);
  EXPECT_EQ(wrong.exit_code, 1);
  EXPECT_TRUE(Contains(wrong.err, "upstreams[0].base_weight"));
  auto missing = apiproxy({"logical-model", "put", (dir.path() / "missing.json").string()}, env);
  EXPECT_EQ(missing.exit_code, 1);
  EXPECT_EQ(redis.cli({"DBSIZE"}), "0");
  EXPECT_EQ(apiproxy({"logical-model"}, env).exit_code, 2);
  EXPECT_EQ(apiproxy({"logical-model", "get"}, env).exit_code, 2);
}

TEST(Cli, LogicalModelWithRedisDownFailsPromptly) {
  auto started = Clock::now();
  auto r = apiproxy({"logical-model", "list"},
                    {{"REDIS_URL", "redis://127.0.0.1:" + std::to_string(free_port()) + "/0"}, {"REDIS_TIMEOUT_MS", "500"}});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_FALSE(r.err.empty());
  EXPECT_LT(Clock::now() - started, 15s);
}

TEST(Cli, ModelWrittenByTheCliIsServedByTheGateway) {
  RedisServer redis;
  MockUpstream mock;
  EnvMap env = gateway_env({{"REDIS_URL", redis.url()}, {"APIPROXY_CATALOG_REFRESH_SECONDS", "1"}});
  add_provider(env, "openai", mock.base_url(), "sk-cli-gw-key", {{"ADAPTER", "openai"}});
  Gateway gw(env);
  TempDir dir;
  auto put = apiproxy({"logical-model", "put", dir.write("m.json", kModel).string()}, {{"REDIS_URL", redis.url()}});
  ASSERT_EQ(put.exit_code, 0) << describe(put);
  ASSERT_TRUE(eventually([&] { return gw.client().get("/logical-models/gpt-4").status == 200; }, 10s, 100ms));
  auto ups = gw.client().get("/logical-models/gpt-4/upstreams");
  ASSERT_EQ(ups.status, 200) << ups.dump();
  EXPECT_EQ(pluck(arr(parse_json(ups.body), "upstreams"), "provider_id"), std::vector<std::string>{"openai"});
}

// The container image's HEALTHCHECK: the probe finds the port in the same configuration the
// gateway reads, and fails (exit 1, not a hang) when nothing answers 200.
TEST(Cli, HealthProbesTheRunningGatewayFromItsConfiguration) {
  MockUpstream mock;
  EnvMap env = gateway_env();
  add_provider(env, "openai", mock.base_url(), "sk-health-key", {{"ADAPTER", "openai"}});
  Gateway gw(env);
  std::string port = std::to_string(gw.port());
  auto ok = apiproxy({"health"}, {{"APIPROXY_PORT", port}});
  EXPECT_EQ(ok.exit_code, 0) << describe(ok);
  EXPECT_EQ(ok.out, "http://127.0.0.1:" + port + "/health: 200\n");
  auto by_flag = apiproxy({"health", "--port", port, "--host", "0.0.0.0"});
  EXPECT_EQ(by_flag.exit_code, 0) << describe(by_flag);

  uint16_t nobody = free_port();
  auto refused = apiproxy({"health", "--port", std::to_string(nobody), "--timeout-ms", "2000"});
  EXPECT_EQ(refused.exit_code, 1) << describe(refused);
  EXPECT_NE(refused.err.find("cannot connect"), std::string::npos) << describe(refused);

  EXPECT_EQ(apiproxy({"health", "--port", "70000"}).exit_code, 2);
  EXPECT_EQ(apiproxy({"health", "--bogus"}).exit_code, 2);
}

// /health/ready is 503 while no provider is usable: the probe says so with exit 1.
TEST(Cli, HealthReadyFailsWhileTheGatewayIsNotReady) {
  Gateway gw(gateway_env());
  auto r = apiproxy({"health", "--ready", "--port", std::to_string(gw.port())});
  EXPECT_EQ(r.exit_code, 1) << describe(r);
  EXPECT_EQ(r.out, "http://127.0.0.1:" + std::to_string(gw.port()) + "/health/ready: 503\n");
}

}  // namespace
}  // namespace it
