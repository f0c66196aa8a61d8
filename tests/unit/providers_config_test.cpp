// LLM_PROVIDERS / LLM_PROVIDER_{id}_* as the user's spec (configuration-guide §2) defines
// them: core/config/providers.hpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <string>

#include "core/config/environment.hpp"
#include "core/config/providers.hpp"

namespace apiproxy {
namespace {

// The spec's §2 example, verbatim.
constexpr const char* kSpecExample = R"(# 所有提供商 ID，逗号分隔
LLM_PROVIDERS=openai,azure,local

# OpenAI 提供商
LLM_PROVIDER_openai_NAME=OpenAI
LLM_PROVIDER_openai_BASE_URL=https://api.openai.com
LLM_PROVIDER_openai_API_KEY=sk-your-openai-api-key
LLM_PROVIDER_openai_MODELS_PATH=/v1/models
LLM_PROVIDER_openai_WEIGHT=3
LLM_PROVIDER_openai_REGION=global
LLM_PROVIDER_openai_COST_INPUT=0.003
LLM_PROVIDER_openai_COST_OUTPUT=0.006
LLM_PROVIDER_openai_MAX_QPS=50

# Azure OpenAI 提供商
LLM_PROVIDER_azure_NAME=Azure OpenAI
LLM_PROVIDER_azure_BASE_URL=https://your-resource.openai.azure.com
LLM_PROVIDER_azure_API_KEY=your-azure-api-key
LLM_PROVIDER_azure_MODELS_PATH=/openai/models
LLM_PROVIDER_azure_WEIGHT=2
LLM_PROVIDER_azure_REGION=us-east
LLM_PROVIDER_azure_COST_INPUT=0.0025
LLM_PROVIDER_azure_COST_OUTPUT=0.005
LLM_PROVIDER_azure_MAX_QPS=100

# 本地模型（可选）
LLM_PROVIDER_local_NAME=Local Model
LLM_PROVIDER_local_BASE_URL=http://localhost:8080
LLM_PROVIDER_local_API_KEY=not-required
LLM_PROVIDER_local_MODELS_PATH=/v1/models
LLM_PROVIDER_local_WEIGHT=1
LLM_PROVIDER_local_REGION=local
)";

ProviderSet load(std::string_view text, Environment::Map process = {}) {
  return load_providers(Environment::from_text(text, std::move(process)));
}

std::string describe(const ProviderSet& set) {
  std::string out;
  for (const auto& p : set.providers) out += "ok " + p.id + "\n";
  for (const auto& s : set.skipped) out += "skipped " + s.id + ": " + s.reason + "\n";
  for (const auto& n : set.notes) out += "note: " + n + "\n";
  return out;
}

const ProviderConfig* find(const ProviderSet& set, std::string_view id) {
  for (const auto& p : set.providers)
    if (p.id == id) return &p;
  return nullptr;
}

const SkippedProvider* find_skipped(const ProviderSet& set, std::string_view id) {
  for (const auto& s : set.skipped)
    if (s.id == id) return &s;
  return nullptr;
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// A minimal valid provider `id` plus `extra` lines.
std::string provider(const std::string& id, const std::string& extra = "",
                     const std::string& base_url = "https://api.example.com") {
  return "LLM_PROVIDER_" + id + "_NAME=" + id + " name\n" + "LLM_PROVIDER_" + id +
         "_BASE_URL=" + base_url + "\n" + "LLM_PROVIDER_" + id + "_API_KEY=key-" + id +
         "-1234567890\n" + extra;
}

TEST(ProvidersConfig, SpecExampleParsesEveryField) {
  auto set = load(kSpecExample);
  ASSERT_EQ(set.providers.size(), 3u) << describe(set);
  EXPECT_TRUE(set.skipped.empty()) << describe(set);
  EXPECT_TRUE(set.notes.empty()) << describe(set);
  // LLM_PROVIDERS order is kept.
  EXPECT_EQ(set.providers[0].id, "openai");
  EXPECT_EQ(set.providers[1].id, "azure");
  EXPECT_EQ(set.providers[2].id, "local");

  const auto& o = set.providers[0];
  EXPECT_EQ(o.name, "OpenAI");
  EXPECT_EQ(o.base_url, "https://api.openai.com");
  EXPECT_EQ(o.api_key, "sk-your-openai-api-key");
  EXPECT_EQ(o.models_path, "/v1/models");
  EXPECT_DOUBLE_EQ(o.weight, 3.0);
  EXPECT_EQ(o.region, "global");
  EXPECT_DOUBLE_EQ(o.cost_input, 0.003);
  EXPECT_DOUBLE_EQ(o.cost_output, 0.006);
  EXPECT_DOUBLE_EQ(o.max_qps, 50.0);
  EXPECT_EQ(o.adapter, "openai");
  EXPECT_TRUE(o.adapter_inferred);
  EXPECT_EQ(o.retryable.to_string(), "429,500,502-504");

  const auto& a = set.providers[1];
  EXPECT_EQ(a.name, "Azure OpenAI");
  EXPECT_EQ(a.base_url, "https://your-resource.openai.azure.com");
  EXPECT_EQ(a.api_key, "your-azure-api-key");
  EXPECT_EQ(a.models_path, "/openai/models");
  EXPECT_DOUBLE_EQ(a.weight, 2.0);
  EXPECT_EQ(a.region, "us-east");
  EXPECT_DOUBLE_EQ(a.cost_input, 0.0025);
  EXPECT_DOUBLE_EQ(a.cost_output, 0.005);
  EXPECT_DOUBLE_EQ(a.max_qps, 100.0);
  EXPECT_EQ(a.adapter, "azure");
  EXPECT_TRUE(a.adapter_inferred);

  const auto& l = set.providers[2];
  EXPECT_EQ(l.name, "Local Model");
  EXPECT_EQ(l.base_url, "http://localhost:8080");
  EXPECT_EQ(l.api_key, "not-required");
  EXPECT_EQ(l.models_path, "/v1/models");
  EXPECT_DOUBLE_EQ(l.weight, 1.0);
  EXPECT_EQ(l.region, "local");
  EXPECT_DOUBLE_EQ(l.cost_input, 0.0);
  EXPECT_DOUBLE_EQ(l.cost_output, 0.0);
  EXPECT_DOUBLE_EQ(l.max_qps, 0.0);  // unset: unlimited
  EXPECT_EQ(l.adapter, "local");
}

TEST(ProvidersConfig, SettingsHoldEveryProviderVariable) {
  auto set = load(kSpecExample);
  const auto* o = find(set, "openai");
  ASSERT_NE(o, nullptr) << describe(set);
  std::vector<std::string> keys;
  for (const auto& [k, v] : o->settings) keys.push_back(k);
  std::sort(keys.begin(), keys.end());
  EXPECT_EQ(keys, (std::vector<std::string>{"API_KEY", "BASE_URL", "COST_INPUT", "COST_OUTPUT",
                                            "MAX_QPS", "MODELS_PATH", "NAME", "REGION",
                                            "WEIGHT"}));
  auto value = [&](std::string_view key) {
    for (const auto& [k, v] : o->settings)
      if (k == key) return v;
    return std::string("<unset>");
  };
  EXPECT_EQ(value("WEIGHT"), "3");
  EXPECT_EQ(value("NAME"), "OpenAI");

  // Adapter-specific options pass through too; another provider's do not.
  auto set2 = load(provider("az", "LLM_PROVIDER_az_API_VERSION=2024-02-01\n") + provider("b") +
                   "LLM_PROVIDERS=az,b\n");
  const auto* az = find(set2, "az");
  ASSERT_NE(az, nullptr) << describe(set2);
  bool has_version = false;
  for (const auto& [k, v] : az->settings) {
    if (k == "API_VERSION") has_version = v == "2024-02-01";
    EXPECT_FALSE(contains(v, "key-b-")) << k;
  }
  EXPECT_TRUE(has_version);
  EXPECT_EQ(az->settings.size(), 4u);
}

TEST(ProvidersConfig, DefaultsForOptionalFields) {
  auto set = load(provider("p") + "LLM_PROVIDERS=p\n");
  ASSERT_EQ(set.providers.size(), 1u) << describe(set);
  const auto& p = set.providers[0];
  EXPECT_EQ(p.models_path, "");  // the adapter's default applies
  EXPECT_DOUBLE_EQ(p.weight, 1.0);
  EXPECT_EQ(p.region, "");
  EXPECT_DOUBLE_EQ(p.cost_input, 0.0);
  EXPECT_DOUBLE_EQ(p.cost_output, 0.0);
  EXPECT_DOUBLE_EQ(p.max_qps, 0.0);
  EXPECT_EQ(p.retryable.to_string(), "429,500,502-504");
}

TEST(ProvidersConfig, ListWithSpacesAndEmptyItems) {
  auto set = load(provider("openai") + provider("azure") + "LLM_PROVIDERS= openai , ,azure,\n");
  ASSERT_EQ(set.providers.size(), 2u) << describe(set);
  EXPECT_EQ(set.providers[0].id, "openai");
  EXPECT_EQ(set.providers[1].id, "azure");
  EXPECT_TRUE(set.skipped.empty()) << describe(set);
  EXPECT_TRUE(set.notes.empty()) << describe(set);
}

TEST(ProvidersConfig, ListFromProcessEnvironmentOverridesFile) {
  auto set = load(provider("a") + provider("b") + "LLM_PROVIDERS=a\n", {{"LLM_PROVIDERS", "b"}});
  ASSERT_EQ(set.providers.size(), 1u) << describe(set);
  EXPECT_EQ(set.providers[0].id, "b");
}

TEST(ProvidersConfig, NoProvidersListed) {
  auto set = load("LLM_PROVIDERS=\n");
  EXPECT_TRUE(set.providers.empty());
  EXPECT_TRUE(set.skipped.empty());
  auto set2 = load("");
  EXPECT_TRUE(set2.providers.empty());
  EXPECT_TRUE(set2.skipped.empty());
}

// The spec's warning example: LLM_PROVIDERS=a4f but the variables say `openai`.
TEST(ProvidersConfig, A4fMismatchIsSkippedWithTheExpectedPrefix) {
  auto set = load("LLM_PROVIDERS=a4f\nLLM_PROVIDER_openai_NAME=a4f\n");
  EXPECT_TRUE(set.providers.empty());
  ASSERT_EQ(set.skipped.size(), 1u) << describe(set);
  EXPECT_EQ(set.skipped[0].id, "a4f");
  EXPECT_TRUE(contains(set.skipped[0].reason, "LLM_PROVIDER_a4f_")) << set.skipped[0].reason;
  EXPECT_TRUE(contains(set.skipped[0].reason, "LLM_PROVIDER_a4f_NAME")) << set.skipped[0].reason;
  ASSERT_EQ(set.notes.size(), 1u) << describe(set);
  EXPECT_TRUE(contains(set.notes[0], "LLM_PROVIDER_openai_")) << set.notes[0];
  EXPECT_TRUE(contains(set.notes[0], "not listed in LLM_PROVIDERS")) << set.notes[0];
}

TEST(ProvidersConfig, A4fCorrectPrefixWorks) {
  auto set = load(
      "LLM_PROVIDERS=a4f\nLLM_PROVIDER_a4f_NAME=a4f\nLLM_PROVIDER_a4f_BASE_URL=https://api.a4f.co\n"
      "LLM_PROVIDER_a4f_API_KEY=xxx\n");
  ASSERT_EQ(set.providers.size(), 1u) << describe(set);
  EXPECT_EQ(set.providers[0].base_url, "https://api.a4f.co");
  EXPECT_EQ(set.providers[0].adapter, "openai");
  EXPECT_TRUE(set.notes.empty()) << describe(set);
}

TEST(ProvidersConfig, IdsAreCaseSensitive) {
  auto set = load(provider("OpenAI") + "LLM_PROVIDERS=openai\n");
  EXPECT_TRUE(set.providers.empty());
  const auto* s = find_skipped(set, "openai");
  ASSERT_NE(s, nullptr) << describe(set);
  EXPECT_TRUE(contains(s->reason, "LLM_PROVIDER_openai_")) << s->reason;
  ASSERT_EQ(set.notes.size(), 1u) << describe(set);
  EXPECT_TRUE(contains(set.notes[0], "LLM_PROVIDER_OpenAI_")) << set.notes[0];
}

class MissingRequired : public ::testing::TestWithParam<const char*> {};

TEST_P(MissingRequired, SkippedNamingTheVariable) {
  std::string field = GetParam();
  std::string text = "LLM_PROVIDERS=p,ok\n" + provider("ok");
  for (const char* f : {"NAME", "BASE_URL", "API_KEY"})
    if (field != f) text += std::string("LLM_PROVIDER_p_") + f + "=https://x.example.com\n";
  auto set = load(text);
  ASSERT_EQ(set.providers.size(), 1u) << describe(set);
  EXPECT_EQ(set.providers[0].id, "ok");
  const auto* s = find_skipped(set, "p");
  ASSERT_NE(s, nullptr) << describe(set);
  EXPECT_TRUE(contains(s->reason, "LLM_PROVIDER_p_" + field)) << s->reason;
  EXPECT_TRUE(contains(s->reason, "missing")) << s->reason;

  // Present but blank counts as missing too.
  auto blank = load(text + "LLM_PROVIDER_p_" + field + "=   \n");
  const auto* sb = find_skipped(blank, "p");
  ASSERT_NE(sb, nullptr) << describe(blank);
  EXPECT_TRUE(contains(sb->reason, "LLM_PROVIDER_p_" + field)) << sb->reason;
}

INSTANTIATE_TEST_SUITE_P(Fields, MissingRequired, ::testing::Values("NAME", "BASE_URL", "API_KEY"));

struct BadValue {
  const char* field;
  const char* value;
};

class InvalidOptional : public ::testing::TestWithParam<BadValue> {};

TEST_P(InvalidOptional, SkippedNamingTheFullVariable) {
  auto [field, value] = GetParam();
  auto set = load("LLM_PROVIDERS=p,ok\n" + provider("ok") +
                  provider("p", std::string("LLM_PROVIDER_p_") + field + "=" + value + "\n"));
  ASSERT_EQ(set.providers.size(), 1u) << describe(set);
  EXPECT_EQ(set.providers[0].id, "ok");
  const auto* s = find_skipped(set, "p");
  ASSERT_NE(s, nullptr) << describe(set);
  EXPECT_TRUE(contains(s->reason, std::string("LLM_PROVIDER_p_") + field + "=")) << s->reason;
  EXPECT_TRUE(contains(s->reason, "invalid")) << s->reason;
}

INSTANTIATE_TEST_SUITE_P(
    Values, InvalidOptional,
    ::testing::Values(BadValue{"WEIGHT", "abc"}, BadValue{"WEIGHT", "-1"}, BadValue{"WEIGHT", "0"},
                      BadValue{"WEIGHT", "3x"}, BadValue{"WEIGHT", "nan"},
                      BadValue{"WEIGHT", "inf"}, BadValue{"COST_INPUT", "cheap"},
                      BadValue{"COST_INPUT", "-0.1"}, BadValue{"COST_OUTPUT", "1,5"},
                      BadValue{"COST_OUTPUT", "-2"}, BadValue{"MAX_QPS", "fast"},
                      BadValue{"MAX_QPS", "0"}, BadValue{"MAX_QPS", "-5"},
                      BadValue{"RETRYABLE_STATUS_CODES", "abc"},
                      BadValue{"RETRYABLE_STATUS_CODES", "600"},
                      BadValue{"RETRYABLE_STATUS_CODES", "504-502"},
                      BadValue{"RETRYABLE_STATUS_CODES", "429,x"}),
    [](const auto& info) {
      std::string n = std::string(info.param.field) + "_" + std::to_string(info.index);
      return n;
    });

TEST(ProvidersConfig, ZeroCostsAreAllowed) {
  auto set = load("LLM_PROVIDERS=p\n" +
                  provider("p", "LLM_PROVIDER_p_COST_INPUT=0\nLLM_PROVIDER_p_COST_OUTPUT=0.0\n"));
  ASSERT_EQ(set.providers.size(), 1u) << describe(set);
  EXPECT_DOUBLE_EQ(set.providers[0].cost_input, 0.0);
}

TEST(ProvidersConfig, FractionalWeightAndQps) {
  auto set = load("LLM_PROVIDERS=p\n" +
                  provider("p", "LLM_PROVIDER_p_WEIGHT=0.5\nLLM_PROVIDER_p_MAX_QPS=2.5\n"));
  ASSERT_EQ(set.providers.size(), 1u) << describe(set);
  EXPECT_DOUBLE_EQ(set.providers[0].weight, 0.5);
  EXPECT_DOUBLE_EQ(set.providers[0].max_qps, 2.5);
}

TEST(ProvidersConfig, EmptyOptionalNumberMeansDefault) {
  auto set = load("LLM_PROVIDERS=p\n" + provider("p", "LLM_PROVIDER_p_WEIGHT=\n"));
  ASSERT_EQ(set.providers.size(), 1u) << describe(set);
  EXPECT_DOUBLE_EQ(set.providers[0].weight, 1.0);
}

class InvalidBaseUrl : public ::testing::TestWithParam<const char*> {};

TEST_P(InvalidBaseUrl, Skipped) {
  auto set = load("LLM_PROVIDERS=p\n" + provider("p", "", GetParam()));
  EXPECT_TRUE(set.providers.empty()) << describe(set);
  const auto* s = find_skipped(set, "p");
  ASSERT_NE(s, nullptr) << describe(set);
  EXPECT_TRUE(contains(s->reason, "LLM_PROVIDER_p_BASE_URL=")) << s->reason;
  EXPECT_TRUE(contains(s->reason, "http")) << s->reason;
}

INSTANTIATE_TEST_SUITE_P(Urls, InvalidBaseUrl,
                         ::testing::Values("api.openai.com", "ftp://api.openai.com",
                                           "https://", "https://host:99999",
                                           "https://user:pw@host", "http://host:port"));

TEST(ProvidersConfig, TrailingSlashStrippedFromBaseUrl) {
  auto set = load("LLM_PROVIDERS=p,q\n" + provider("p", "", "https://api.example.com/") +
                  provider("q", "", "https://api.example.com/v1//"));
  ASSERT_EQ(set.providers.size(), 2u) << describe(set);
  EXPECT_EQ(set.providers[0].base_url, "https://api.example.com");
  EXPECT_EQ(set.providers[1].base_url, "https://api.example.com/v1");
}

TEST(ProvidersConfig, ModelsPathGetsLeadingSlash) {
  auto set = load("LLM_PROVIDERS=p\n" + provider("p", "LLM_PROVIDER_p_MODELS_PATH=v1/models\n"));
  ASSERT_EQ(set.providers.size(), 1u) << describe(set);
  EXPECT_EQ(set.providers[0].models_path, "/v1/models");
}

TEST(ProvidersConfig, ValuesAreTrimmed) {
  auto set = load("LLM_PROVIDERS=p\n"
                  "LLM_PROVIDER_p_NAME=\"  Padded  \"\n"
                  "LLM_PROVIDER_p_BASE_URL=\" https://api.example.com \"\n"
                  "LLM_PROVIDER_p_API_KEY=' key '\n"
                  "LLM_PROVIDER_p_WEIGHT=' 2 '\n");
  ASSERT_EQ(set.providers.size(), 1u) << describe(set);
  EXPECT_EQ(set.providers[0].name, "Padded");
  EXPECT_EQ(set.providers[0].base_url, "https://api.example.com");
  EXPECT_EQ(set.providers[0].api_key, "key");
  EXPECT_DOUBLE_EQ(set.providers[0].weight, 2.0);
}

TEST(ProvidersConfig, DuplicateIdsLoadOnceWithANote) {
  auto set = load("LLM_PROVIDERS=p,q,p\n" + provider("p") + provider("q"));
  ASSERT_EQ(set.providers.size(), 2u) << describe(set);
  EXPECT_EQ(set.providers[0].id, "p");
  EXPECT_EQ(set.providers[1].id, "q");
  ASSERT_EQ(set.notes.size(), 1u) << describe(set);
  EXPECT_TRUE(contains(set.notes[0], "'p'")) << set.notes[0];
  EXPECT_TRUE(contains(set.notes[0], "more than once")) << set.notes[0];
}

class BadId : public ::testing::TestWithParam<const char*> {};

TEST_P(BadId, Skipped) {
  std::string id = GetParam();
  auto set = load("LLM_PROVIDERS=" + id + ",ok\n" + provider("ok") + provider(id));
  ASSERT_EQ(set.providers.size(), 1u) << describe(set);
  EXPECT_EQ(set.providers[0].id, "ok");
  const auto* s = find_skipped(set, id);
  ASSERT_NE(s, nullptr) << describe(set);
  EXPECT_TRUE(contains(s->reason, "'" + id + "'")) << s->reason;
  EXPECT_TRUE(contains(s->reason, "letters, digits")) << s->reason;
}

INSTANTIATE_TEST_SUITE_P(Ids, BadId, ::testing::Values("a.b", "a b", "a/b", "a+b", "ü"));

TEST(ProvidersConfig, IdsWithUnderscoreAndDash) {
  auto set = load("LLM_PROVIDERS=my_prov,my-prov2\n" + provider("my_prov") + provider("my-prov2"));
  EXPECT_EQ(set.providers.size(), 2u) << describe(set);
}

// An id that is a prefix of another must not see the other's variables.
TEST(ProvidersConfig, PrefixIdsDoNotMix) {
  auto set = load("LLM_PROVIDERS=a,a_b\n" + provider("a_b"));
  const auto* s = find_skipped(set, "a");
  ASSERT_NE(s, nullptr) << describe(set);
  ASSERT_EQ(set.providers.size(), 1u) << describe(set);
  EXPECT_EQ(set.providers[0].id, "a_b");
}

struct AdapterCase {
  const char* base_url;
  const char* adapter;
};

class AdapterInference : public ::testing::TestWithParam<AdapterCase> {};

TEST_P(AdapterInference, FromBaseUrl) {
  auto set = load("LLM_PROVIDERS=p\n" + provider("p", "", GetParam().base_url));
  ASSERT_EQ(set.providers.size(), 1u) << describe(set);
  EXPECT_EQ(set.providers[0].adapter, GetParam().adapter) << GetParam().base_url;
  EXPECT_TRUE(set.providers[0].adapter_inferred);
}

INSTANTIATE_TEST_SUITE_P(
    Urls, AdapterInference,
    ::testing::Values(AdapterCase{"https://your-resource.openai.azure.com", "azure"},
                      AdapterCase{"https://X.OpenAI.Azure.com/", "azure"},
                      AdapterCase{"https://r.cognitiveservices.azure.com", "azure"},
                      AdapterCase{"http://localhost:8080", "local"},
                      AdapterCase{"http://127.0.0.1:11434", "local"},
                      AdapterCase{"http://127.1.2.3", "local"},
                      AdapterCase{"http://[::1]:8000", "local"},
                      AdapterCase{"https://api.openai.com", "openai"},
                      AdapterCase{"https://api.a4f.co", "openai"},
                      AdapterCase{"https://openai.azure.com.evil.example", "openai"},
                      AdapterCase{"http://192.168.1.10:8080", "openai"},
                      AdapterCase{"http://notlocalhost:8080", "openai"}));

TEST(ProvidersConfig, ExplicitAdapterWins) {
  auto set = load("LLM_PROVIDERS=p,q\n" +
                  provider("p", "LLM_PROVIDER_p_ADAPTER=azure\n", "https://gateway.example.com") +
                  provider("q", "LLM_PROVIDER_q_ADAPTER=my_plugin\n", "http://localhost:1"));
  ASSERT_EQ(set.providers.size(), 2u) << describe(set);
  EXPECT_EQ(set.providers[0].adapter, "azure");
  EXPECT_FALSE(set.providers[0].adapter_inferred);
  EXPECT_EQ(set.providers[1].adapter, "my_plugin");
  EXPECT_FALSE(set.providers[1].adapter_inferred);
}

TEST(ProvidersConfig, RetryableStatusCodes) {
  auto set = load("LLM_PROVIDERS=p\n" +
                  provider("p", "LLM_PROVIDER_p_RETRYABLE_STATUS_CODES=408, 429,500-503\n"));
  ASSERT_EQ(set.providers.size(), 1u) << describe(set);
  const auto& r = set.providers[0].retryable;
  EXPECT_EQ(r.to_string(), "408,429,500-503");
  EXPECT_TRUE(r.contains(408));
  EXPECT_TRUE(r.contains(502));
  EXPECT_FALSE(r.contains(504));
  EXPECT_FALSE(r.contains(404));

  auto spec = load("LLM_PROVIDERS=p\n" +
                   provider("p", "LLM_PROVIDER_p_RETRYABLE_STATUS_CODES=429,500,502-504\n"));
  ASSERT_EQ(spec.providers.size(), 1u) << describe(spec);
  EXPECT_EQ(spec.providers[0].retryable.to_string(), "429,500,502-504");
}

TEST(ProvidersConfig, RedactedApiKey) {
  auto set = load(kSpecExample);
  ASSERT_EQ(set.providers.size(), 3u) << describe(set);
  for (const auto& p : set.providers) {
    std::string r = p.redacted_api_key();
    EXPECT_FALSE(contains(r, p.api_key)) << r;
    // Never more than the last 4 characters of the key.
    size_t visible = 0;
    for (size_t n = 1; n <= std::min(p.api_key.size(), r.size()); ++n)
      if (r.compare(r.size() - n, n, p.api_key, p.api_key.size() - n, n) == 0) visible = n;
    EXPECT_LE(visible, 4u) << r;
  }
  EXPECT_EQ(set.providers[0].redacted_api_key(), "****-key");  // sk-your-openai-api-key
  EXPECT_EQ(redact_secret("not-required"), "****");  // short: nothing shown
  EXPECT_EQ(redact_secret(""), "****");
  EXPECT_EQ(redact_secret("abc"), "****");
  EXPECT_EQ(redact_secret("0123456789abcdef"), "****cdef");
  for (int len = 0; len < 40; ++len) {
    std::string key;
    for (int i = 0; i < len; ++i) key += static_cast<char>('A' + i % 26);
    std::string r = redact_secret(key);
    EXPECT_LE(r.size(), 8u);
    if (len >= 5) {
      EXPECT_FALSE(contains(r, key.substr(0, 5))) << len << " " << r;
      EXPECT_FALSE(contains(r, key.substr(len - 5))) << len << " " << r;
    }
  }
}

}  // namespace
}  // namespace apiproxy

namespace {

TEST(ProviderDisplay, QueryStringOfBaseUrlIsMasked) {
  apiproxy::ProviderConfig p;
  p.base_url = "https://example.com/v1?key=SECRET-in-query";
  EXPECT_EQ(p.display_base_url(), "https://example.com/v1?****");
  p.base_url = "https://example.com/v1";
  EXPECT_EQ(p.display_base_url(), "https://example.com/v1");
}

}  // namespace
