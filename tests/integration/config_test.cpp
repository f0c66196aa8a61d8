// Configuration problems an operator runs into: the spec's a4f example, providers with a
// missing or invalid field, the .env file (quotes, comments, export, ${VAR}), the process
// environment overriding it, and invalid global settings.
#include <gtest/gtest.h>

#include "assertions.hpp"
#include "json.hpp"
#include "services.hpp"

namespace it {
namespace {

constexpr const char* kToken = "config-test-token";

std::string warning_line_with(const std::string& log, const std::string& needle) {
  std::istringstream lines(log);
  std::string line;
  while (std::getline(lines, line))
    if (line.find(needle) != std::string::npos && line.find("warn") != std::string::npos) return line;
  return {};
}

TEST(Config, SpecA4fMismatchStartsWithNoProvidersAndNamesThePrefix) {
  // spec §2: "如果写成 LLM_PROVIDERS=a4f / LLM_PROVIDER_openai_NAME=a4f 则 a4f … 被跳过"
  Gateway gw(gateway_env({{"APIPROXY_AUTH_TOKEN", kToken},
                          {"LLM_PROVIDERS", "a4f"},
                          {"LLM_PROVIDER_openai_NAME", "a4f"}}));
  auto r = gw.client().get("/providers", {bearer(kToken)});
  ASSERT_EQ(r.status, 200) << r.dump();
  auto d = parse_json(r.body);
  EXPECT_EQ(arr(d, "providers").Size(), 0u);
  EXPECT_EQ(num(d, "total"), 0);
  EXPECT_FALSE(warning_line_with(gw.log(), "LLM_PROVIDER_a4f_").empty())
      << "no warning naming LLM_PROVIDER_a4f_ in:\n" << gw.log();
  // The stray LLM_PROVIDER_openai_* variable is pointed out too.
  EXPECT_FALSE(warning_line_with(gw.log(), "LLM_PROVIDER_openai_").empty()) << gw.log();

  auto health = gw.client().get("/health");
  ASSERT_EQ(health.status, 200) << health.dump();
  EXPECT_EQ(num(parse_json(health.body), "providers"), 0);
  EXPECT_EQ(gw.client().get("/providers/a4f", {bearer(kToken)}).status, 404);
}

TEST(Config, ProvidersWithAMissingOrInvalidFieldAreSkippedWithAWarning) {
  MockUpstream mock;
  EnvMap env = gateway_env({{"APIPROXY_AUTH_TOKEN", kToken}});
  add_provider(env, "good", mock.base_url(), "sk-good-key");
  add_provider(env, "nokey", mock.base_url(), "");
  env.erase("LLM_PROVIDER_nokey_API_KEY");
  add_provider(env, "badweight", mock.base_url(), "sk-key", {{"WEIGHT", "abc"}});
  add_provider(env, "badurl", "ftp://example.com", "sk-key");
  add_provider(env, "badcodes", mock.base_url(), "sk-key", {{"RETRYABLE_STATUS_CODES", "429,five"}});
  Gateway gw(env);

  auto r = gw.client().get("/providers", {bearer(kToken)});
  ASSERT_EQ(r.status, 200) << r.dump();
  auto d = parse_json(r.body);
  EXPECT_EQ(pluck(arr(d, "providers"), "id"), std::vector<std::string>{"good"});
  std::string skipped = to_string(arr(d, "skipped"));
  for (const char* var : {"LLM_PROVIDER_nokey_API_KEY", "LLM_PROVIDER_badweight_WEIGHT",
                          "LLM_PROVIDER_badurl_BASE_URL", "LLM_PROVIDER_badcodes_RETRYABLE_STATUS_CODES"}) {
    EXPECT_TRUE(Contains(skipped, var));
    EXPECT_FALSE(warning_line_with(gw.log(), var).empty()) << "no warning naming " << var << " in:\n" << gw.log();
  }

  auto models = gw.client().get("/providers/good/models", {bearer(kToken)});
  EXPECT_EQ(models.status, 200) << models.dump();
  auto nokey = gw.client().get("/providers/nokey", {bearer(kToken)});
  EXPECT_EQ(nokey.status, 404) << nokey.dump();
  EXPECT_TRUE(Contains(nokey.body, "skipped"));
}

TEST(Config, ProviderListToleratesSpacesAndDuplicates) {
  MockUpstream mock;
  EnvMap env = gateway_env({{"LLM_PROVIDERS", " one , two,one,, "}});
  for (const std::string id : {"one", "two"}) {
    env["LLM_PROVIDER_" + id + "_NAME"] = id;
    env["LLM_PROVIDER_" + id + "_BASE_URL"] = mock.base_url() + "/";  // a trailing slash too
    env["LLM_PROVIDER_" + id + "_API_KEY"] = "k";
  }
  env["LLM_PROVIDER_two_MODELS_PATH"] = "v1/models";  // no leading slash
  Gateway gw(env);
  auto r = gw.client().get("/providers");
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_EQ(pluck(arr(parse_json(r.body), "providers"), "id"), (std::vector<std::string>{"one", "two"}));
  EXPECT_TRUE(Contains(gw.log(), "more than once"));
  EXPECT_EQ(gw.client().get("/providers/one/models").status, 200);
  EXPECT_EQ(gw.client().get("/providers/two/models").status, 200);
}

TEST(Config, DotenvFileWithQuotesCommentsExportAndExpansion) {
  MockUpstream mock({"--require-key", "sk-from-file-0123456789abcdef"});
  TempDir dir;
  auto file = dir.write(".env", "# APIProxy test configuration\n"
                                "\n"
                                "export LLM_PROVIDERS=filep\n"
                                "APIPROXY_AUTH_TOKEN='" + std::string(kToken) + "'\n"
                                "LLM_PROVIDER_filep_NAME=\"File Provider\"   # a trailing comment\n"
                                "LLM_PROVIDER_filep_BASE_URL='" + mock.base_url() + "'\n"
                                "MOCK_KEY=sk-from-file-0123456789abcdef\n"
                                "LLM_PROVIDER_filep_API_KEY=${MOCK_KEY}\n"
                                "   LLM_PROVIDER_filep_WEIGHT=2.5 # weight\n"
                                "LLM_PROVIDER_filep_REGION=eu-west\n"
                                "LLM_PROVIDER_filep_MODELS_PATH=\"/v1/models\"\n");
  EnvMap env = gateway_env({{"APIPROXY_ENV_FILE", file.string()}});
  Gateway gw(env);

  auto r = gw.client().get("/providers/filep", {bearer(kToken)});
  ASSERT_EQ(r.status, 200) << r.dump();
  auto p = parse_json(r.body);
  EXPECT_EQ(str(p, "name"), "File Provider");
  EXPECT_EQ(str(p, "base_url"), mock.base_url());
  EXPECT_EQ(num(p, "weight"), 2.5);
  EXPECT_EQ(str(p, "region"), "eu-west");
  EXPECT_EQ(str(p, "models_path"), "/v1/models");
  // ${MOCK_KEY} expanded: the mock accepts only that key.
  auto models = gw.client().get("/providers/filep/models", {bearer(kToken)});
  EXPECT_EQ(models.status, 200) << models.dump();
  EXPECT_TRUE(LacksSecret(r.dump() + models.dump(), "sk-from-file-0123456789abcdef"));
}

TEST(Config, ProcessEnvironmentOverridesTheFile) {
  MockUpstream mock({"--require-key", "sk-process-secret-0123456789"});
  TempDir dir;
  auto file = dir.write(".env", "LLM_PROVIDERS=filep\n"
                                "APIPROXY_AUTH_TOKEN=file-token\n"
                                "LLM_PROVIDER_filep_NAME=From File\n"
                                "LLM_PROVIDER_filep_BASE_URL=" + mock.base_url() + "\n"
                                "LLM_PROVIDER_filep_API_KEY=${SECRET_FROM_PROCESS}\n"
                                "LLM_PROVIDER_filep_REGION=eu-west\n");
  Gateway gw(gateway_env({{"APIPROXY_ENV_FILE", file.string()},
                          {"APIPROXY_AUTH_TOKEN", kToken},
                          {"LLM_PROVIDER_filep_NAME", "From Process"},
                          {"SECRET_FROM_PROCESS", "sk-process-secret-0123456789"}}));
  EXPECT_EQ(gw.client().get("/providers", {bearer("file-token")}).status, 401);
  auto r = gw.client().get("/providers/filep", {bearer(kToken)});
  ASSERT_EQ(r.status, 200) << r.dump();
  auto p = parse_json(r.body);
  EXPECT_EQ(str(p, "name"), "From Process");
  EXPECT_EQ(str(p, "region"), "eu-west");
  // ${SECRET_FROM_PROCESS} in the file is looked up in the process environment.
  auto models = gw.client().get("/providers/filep/models", {bearer(kToken)});
  EXPECT_EQ(models.status, 200) << models.dump();
}

TEST(Config, NamedEnvFileThatIsMissingOnlyWarns) {
  Gateway gw(gateway_env({{"APIPROXY_ENV_FILE", (scratch_dir() / "no-such.env").string()}}));
  EXPECT_EQ(gw.client().get("/health").status, 200);
  EXPECT_FALSE(warning_line_with(gw.log(), "no-such.env").empty()) << gw.log();
}

TEST(Config, MalformedEnvFileLinesAreReportedWithTheirLineNumber) {
  MockUpstream mock;
  TempDir dir;
  auto file = dir.write(".env", "LLM_PROVIDERS=p\n"
                                "this line has no equals sign\n"
                                "LLM_PROVIDER_p_NAME=P\n"
                                "LLM_PROVIDER_p_BASE_URL=" + mock.base_url() + "\n"
                                "LLM_PROVIDER_p_API_KEY=k\n"
                                "BROKEN='unterminated\n");
  Gateway gw(gateway_env({{"APIPROXY_ENV_FILE", file.string()}}));
  EXPECT_FALSE(warning_line_with(gw.log(), ".env:2").empty()) << gw.log();
  EXPECT_FALSE(warning_line_with(gw.log(), ".env:6").empty()) << gw.log();
  auto r = gw.client().get("/providers");
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_EQ(pluck(arr(parse_json(r.body), "providers"), "id"), std::vector<std::string>{"p"});
}

struct BadSetting {
  const char* name;
  const char* value;
};

class InvalidGlobalSetting : public ::testing::TestWithParam<BadSetting> {};

TEST_P(InvalidGlobalSetting, GatewayExitsNonZeroNamingTheVariable) {
  const auto& bad = GetParam();
  EnvMap env = gateway_env({{bad.name, bad.value}});
  Process gw({gateway_binary(), "serve", "--host", "127.0.0.1", "--port", "0"}, env);
  auto code = gw.wait_exit(15s);
  ASSERT_TRUE(code.has_value()) << bad.name << "=" << bad.value << " did not stop the gateway:\n" << gw.err();
  EXPECT_NE(*code, 0);
  EXPECT_LT(*code, 128) << "the gateway died from a signal";
  EXPECT_TRUE(Contains(gw.err() + gw.out(), bad.name));
}

INSTANTIATE_TEST_SUITE_P(Config, InvalidGlobalSetting,
                         ::testing::Values(BadSetting{"APIPROXY_PORT", "abc"},
                                           BadSetting{"APIPROXY_PORT", "70000"},
                                           BadSetting{"APIPROXY_WORKERS", "-1"},
                                           BadSetting{"APIPROXY_MAX_BODY_BYTES", "12"},
                                           BadSetting{"REDIS_TIMEOUT_MS", "fast"},
                                           BadSetting{"LOG_LEVEL", "loud"},
                                           BadSetting{"REDIS_URL", "http://127.0.0.1:6379"},
                                           BadSetting{"APIPROXY_TLS_VERIFY", "maybe"}),
                         [](const auto& info) {
                           return std::string(info.param.name) + "_" + std::to_string(info.index);
                         });

TEST(Config, PortFromTheEnvironmentIsUsedWhenNoFlagIsGiven) {
  uint16_t port = free_port();
  Process gw({gateway_binary()}, gateway_env({{"APIPROXY_HOST", "127.0.0.1"}, {"APIPROXY_PORT", std::to_string(port)}}));
  auto line = gw.wait_for_line(true, "listening on", 15s);
  ASSERT_TRUE(line) << gw.err();
  EXPECT_TRUE(Contains(*line, "127.0.0.1:" + std::to_string(port)));
  EXPECT_EQ(HttpClient(port).get("/health").status, 200);
  EXPECT_EQ(gw.stop(), 0) << "SIGTERM should stop the gateway cleanly";
}

}  // namespace
}  // namespace it
