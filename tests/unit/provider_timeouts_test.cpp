// Per-provider timeouts (LLM_PROVIDER_{id}_*_TIMEOUT_SECONDS) and the timeouts one attempt
// gets (attempt_timeouts, core/dataplane/data_plane.hpp); static model lists read from the
// provider's variables (core/model/static_models.hpp).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>

#include "core/config/environment.hpp"
#include "core/config/providers.hpp"
#include "core/config/settings.hpp"
#include "core/dataplane/data_plane.hpp"

namespace apiproxy {
namespace {

using namespace std::chrono_literals;

ProviderSet load(const std::string& extra) {
  return load_providers(Environment::from_text(
      "LLM_PROVIDERS=p\nLLM_PROVIDER_p_NAME=P\nLLM_PROVIDER_p_BASE_URL=https://p.example\n"
      "LLM_PROVIDER_p_API_KEY=k\n" + extra, {}));
}

DataPlaneLimits defaults() {
  auto settings = load_settings(Environment::from_text("", {}));
  DataPlaneLimits limits;
  limits.timeouts = {0ms, settings->upstream_first_byte_timeout, settings->upstream_idle_timeout,
                     settings->upstream_total_timeout};
  limits.first_byte_set = settings->upstream_first_byte_timeout_set;
  return limits;
}

TEST(ProviderTimeouts, ByDefaultANonStreamedCallWaitsTheTotalTenMinutes) {
  auto set = load("");
  ASSERT_EQ(set.providers.size(), 1u);
  auto whole = attempt_timeouts(defaults(), set.providers[0], /*stream=*/false);
  EXPECT_EQ(whole.total, 600000ms);
  EXPECT_EQ(whole.first_byte, 600000ms) << "a 90 s reasoning answer must not be cut at 60 s";
  auto streamed = attempt_timeouts(defaults(), set.providers[0], /*stream=*/true);
  EXPECT_EQ(streamed.first_byte, 60000ms);
  EXPECT_EQ(streamed.idle, 60000ms);
  EXPECT_EQ(streamed.connect, 0ms) << "0: the pool's APIPROXY_UPSTREAM_CONNECT_TIMEOUT_MS";
}

TEST(ProviderTimeouts, AnExplicitGlobalFirstByteTimeoutHoldsForEveryCall) {
  auto settings = load_settings(Environment::from_text("APIPROXY_UPSTREAM_FIRST_BYTE_TIMEOUT_MS=300\n", {}));
  ASSERT_TRUE(settings);
  EXPECT_TRUE(settings->upstream_first_byte_timeout_set);
  DataPlaneLimits limits = defaults();
  limits.timeouts.first_byte = settings->upstream_first_byte_timeout;
  limits.first_byte_set = true;
  EXPECT_EQ(attempt_timeouts(limits, load("").providers[0], false).first_byte, 300ms);
}

TEST(ProviderTimeouts, TheProvidersOwnValuesWin) {
  auto set = load("LLM_PROVIDER_p_TIMEOUT_SECONDS=900\nLLM_PROVIDER_p_CONNECT_TIMEOUT_SECONDS=2.5\n"
                  "LLM_PROVIDER_p_STREAM_IDLE_TIMEOUT_SECONDS=120\n");
  ASSERT_EQ(set.providers.size(), 1u);
  const auto& p = set.providers[0];
  auto whole = attempt_timeouts(defaults(), p, false);
  EXPECT_EQ(whole.total, 900000ms);
  EXPECT_EQ(whole.first_byte, 900000ms);
  EXPECT_EQ(whole.connect, 2500ms);
  EXPECT_EQ(whole.idle, 120000ms);
  auto first_byte = load("LLM_PROVIDER_p_FIRST_BYTE_TIMEOUT_SECONDS=30\n");
  EXPECT_EQ(attempt_timeouts(defaults(), first_byte.providers[0], false).first_byte, 30000ms);
  EXPECT_EQ(attempt_timeouts(defaults(), first_byte.providers[0], true).first_byte, 30000ms);
}

TEST(ProviderTimeouts, UnusableValuesSkipTheProviderNamingTheVariable) {
  for (const char* bad : {"0", "-1", "abc", "86401"}) {
    auto set = load(std::string("LLM_PROVIDER_p_TIMEOUT_SECONDS=") + bad + "\n");
    ASSERT_EQ(set.skipped.size(), 1u) << bad;
    EXPECT_NE(set.skipped[0].reason.find("LLM_PROVIDER_p_TIMEOUT_SECONDS"), std::string::npos) << set.skipped[0].reason;
  }
}

TEST(StaticModels, IdsAndObjectsInTheModelShape) {
  auto set = load(R"(LLM_PROVIDER_p_STATIC_MODELS_JSON=["relay-a", {"id":"relay-b","context_length":32768,"capabilities":["chat","vision"],"pricing":{"input":1}}, {"model_id":"relay-c","display_name":"C"}]
)");
  ASSERT_EQ(set.providers.size(), 1u);
  const auto& p = set.providers[0];
  EXPECT_EQ(p.static_models_source, "LLM_PROVIDER_p_STATIC_MODELS_JSON");
  ASSERT_EQ(p.static_models.size(), 3u);
  EXPECT_EQ(p.static_models[0].model_id, "relay-a");
  EXPECT_EQ(p.static_models[0].display_name, "relay-a");
  EXPECT_EQ(p.static_models[0].capabilities, std::vector<std::string>{"chat"});
  EXPECT_EQ(p.static_models[0].provider_id, "p");
  EXPECT_EQ(p.static_models[1].context_length, 32768u);
  EXPECT_EQ(p.static_models[1].capabilities, (std::vector<std::string>{"chat", "vision"}));
  EXPECT_EQ(p.static_models[1].pricing_json, R"({"input":1})");
  EXPECT_EQ(p.static_models[2].model_id, "relay-c");
  EXPECT_EQ(p.static_models[2].display_name, "C");
  EXPECT_FALSE(p.static_models[2].meta_hash.empty());
}

TEST(StaticModels, InvalidEntriesAreSkippedWithTheirPosition) {
  auto set = load(R"(LLM_PROVIDER_p_STATIC_MODELS_JSON=["ok", 7, {"name":"no id"}, "", "has space ok", {"id":"x","context_length":"big"}]
)");
  ASSERT_EQ(set.providers.size(), 1u);
  EXPECT_EQ(set.providers[0].static_models.size(), 2u);
  std::string notes;
  for (const auto& n : set.notes) notes += n + "\n";
  for (int n : {2, 3, 4, 6})
    EXPECT_NE(notes.find("LLM_PROVIDER_p_STATIC_MODELS_JSON entry " + std::to_string(n) + " skipped"), std::string::npos)
        << n << "\n" << notes;
}

TEST(StaticModels, NotAListIsAWarningAndTheProviderStays) {
  auto set = load("LLM_PROVIDER_p_STATIC_MODELS_JSON={\"id\":\"x\"}\n");
  ASSERT_EQ(set.providers.size(), 1u);
  EXPECT_TRUE(set.providers[0].static_models_source.empty());
  ASSERT_FALSE(set.notes.empty());
}

TEST(StaticModels, FromAFile) {
  std::string path = ::testing::TempDir() + "/static-models.json";
  std::ofstream(path) << R"(["file-model-1", {"id":"file-model-2"}])";
  auto set = load("LLM_PROVIDER_p_STATIC_MODELS_FILE=" + path + "\n");
  ASSERT_EQ(set.providers.size(), 1u);
  EXPECT_EQ(set.providers[0].static_models.size(), 2u);
  EXPECT_EQ(set.providers[0].static_models_source, "LLM_PROVIDER_p_STATIC_MODELS_FILE");
  std::remove(path.c_str());
  auto missing = load("LLM_PROVIDER_p_STATIC_MODELS_FILE=/nonexistent/models.json\n");
  ASSERT_EQ(missing.providers.size(), 1u);
  EXPECT_TRUE(missing.providers[0].static_models_source.empty());
  ASSERT_EQ(missing.notes.size(), 1u);
  EXPECT_NE(missing.notes[0].find("cannot be read"), std::string::npos) << missing.notes[0];
}

}  // namespace
}  // namespace apiproxy
