// Drop-in plugin reload, from outside: POST /plugins/reload and SIGHUP rescan the gateway's
// plugin directory (a private copy per test, support/operations.hpp). New files become
// available, removed ones stop taking new requests, changed ones are replaced, a changed
// file that fails to load leaves the previous version serving, and a request in flight
// finishes on the plugin version it started with. Real gateway, real plugins and test
// fixtures, redis-server and mock upstreams (support/data_plane.hpp).
#include <algorithm>
#include <csignal>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "assertions.hpp"
#include "data_plane.hpp"
#include "operations.hpp"

namespace it {
namespace {

using namespace dp;
using namespace std::chrono_literals;
using ops::PluginDir;

class PluginReload : public ::testing::Test {
 protected:
  // The bundled plugins plus `fixtures` (files of test-plugins/broken), then the data-plane
  // world of support/data_plane.hpp on that directory.
  void start(const std::vector<std::string>& fixtures = {},
             std::map<std::string, std::string> logical_models = default_logical_models()) {
    plugins.add_bundled();
    for (const auto& f : fixtures) plugins.add_fixture(f);
    world.start({{"APIPROXY_PLUGIN_DIR", plugins.path()}}, logical_models);
  }

  Response reload() const { return world.post("/plugins/reload", ""); }
  // POST /plugins/reload, which must answer 200; its JSON.
  rapidjson::Document reload_ok() const {
    auto r = reload();
    EXPECT_EQ(r.status, 200) << r.dump();
    EXPECT_TRUE(Contains(r.header("content-type"), "application/json"));
    return parse_json(r.body);
  }
  rapidjson::Document plugin_list() const {
    auto r = world.get("/plugins");
    EXPECT_EQ(r.status, 200) << r.dump();
    return parse_json(r.body);
  }
  double generation() const { return num(plugin_list(), "generation"); }
  // name -> kind of every plugin GET /plugins lists.
  std::map<std::string, std::string> loaded() const {
    std::map<std::string, std::string> out;
    auto d = plugin_list();
    for (const auto& p : arr(d, "plugins").GetArray()) out[str(p, "name")] = str(p, "kind");
    return out;
  }
  Response decide(const std::string& strategy, const std::string& model = "chat-pool") const {
    return world.post("/routing/decide", "{\"logical_model\":" + quote(model) + ",\"strategy\":" + quote(strategy) + "}");
  }
  // The gateway's own path for a file of the plugin directory, as reloads report it.
  std::string path_of(const std::string& name) const { return plugins.file(name).string(); }

  // A decision with `strategy` that fixture_good (every candidate scored 1.0) made.
  void expect_fixture_good_decides() const {
    auto r = decide("fixture_good");
    ASSERT_EQ(r.status, 200) << r.dump();
    auto d = parse_json(r.body);
    EXPECT_EQ(str(d, "strategy_used"), "fixture_good");
    std::string chosen = str(d["selected_upstream"], "provider_id");
    EXPECT_TRUE(chosen == "alpha" || chosen == "beta") << r.body;
    const auto& all = arr(d, "all_candidates");
    ASSERT_EQ(all.Size(), 2u) << r.body;
    for (const auto& c : all.GetArray()) EXPECT_EQ(num(c, "score"), 1.0) << r.body;
  }

  PluginDir plugins;
  World world;
};

const std::vector<std::string> kBundledFiles = {"provider_anthropic.so",  "provider_azure.so",
                                                "provider_local.so",      "provider_openai.so",
                                                "strategy_balanced.so",
                                                "strategy_cost_first.so", "strategy_latency_first.so",
                                                "strategy_reliability_first.so"};

// ------------------------------------------------------------------------ adding ---

TEST_F(PluginReload, ReloadEndpointAddsADroppedInStrategy) {
  start();
  const double g0 = generation();
  EXPECT_GE(g0, 1);
  EXPECT_FALSE(loaded().count("fixture_good"));
  auto before = decide("fixture_good");
  ASSERT_EQ(before.status, 400) << before.dump();
  EXPECT_TRUE(Contains(str(parse_json(before.body), "message"), "unknown strategy 'fixture_good'"));

  plugins.add_fixture("good_strategy.so");
  auto r = reload_ok();
  EXPECT_EQ(num(r, "generation"), g0 + 1);
  EXPECT_EQ(strings(r, "added"), std::vector<std::string>{path_of("good_strategy.so")}) << to_string(r);
  std::vector<std::string> unchanged;
  for (const auto& f : kBundledFiles) unchanged.push_back(path_of(f));
  EXPECT_EQ(strings(r, "unchanged"), unchanged) << to_string(r);
  for (const char* k : {"replaced", "removed", "kept_previous"}) EXPECT_TRUE(strings(r, k).empty()) << k << ": " << to_string(r);
  EXPECT_TRUE(arr(r, "rejected").Empty()) << to_string(r);

  // GET /plugins shows it, in the new generation.
  auto list = plugin_list();
  EXPECT_EQ(num(list, "generation"), g0 + 1);
  EXPECT_EQ(str(list, "plugin_dir"), plugins.path());
  bool listed = false;
  for (const auto& p : arr(list, "plugins").GetArray()) {
    if (str(p, "name") != "fixture_good") continue;
    listed = true;
    EXPECT_EQ(str(p, "kind"), "strategy");
    EXPECT_EQ(str(p, "file"), path_of("good_strategy.so"));
  }
  EXPECT_TRUE(listed) << to_string(list);
  auto health = world.client().get("/health");
  ASSERT_EQ(health.status, 200) << health.dump();
  EXPECT_EQ(num(parse_json(health.body)["plugins"], "generation"), g0 + 1) << health.body;
  EXPECT_EQ(num(parse_json(health.body)["plugins"], "strategies"), 5) << health.body;

  // It routes: /routing/decide and a logical model whose own strategy it is.
  expect_fixture_good_decides();
  auto put = world.client().put("/logical-models/good-pool",
                                logical("good-pool", {physical("alpha", "gpt-4o-mini"), physical("beta", "gpt-4o-mini")},
                                        R"(,"strategy":"fixture_good")"),
                                {bearer(kToken)});
  ASSERT_EQ(put.status, 200) << put.dump();
  Response chat;
  ASSERT_TRUE(eventually([&] { return (chat = world.chat("good-pool", "through a new strategy")).status == 200; }, 5s, 50ms))
      << chat.dump();
  EXPECT_EQ(content_of(chat.body), reply_of(chat.header("x-apiproxy-provider"), "through a new strategy"));

  // The log says what changed.
  EXPECT_TRUE(Contains(world.gateway->log(), "loaded strategy 'fixture_good'"));
  EXPECT_TRUE(Contains(world.gateway->log(),
                       "1 added, 0 replaced, 0 removed, " + std::to_string(kBundledFiles.size()) + " unchanged"));

  // A reload with nothing changed is a new generation with everything unchanged.
  auto again = reload_ok();
  EXPECT_EQ(num(again, "generation"), g0 + 2);
  EXPECT_TRUE(strings(again, "added").empty()) << to_string(again);
  EXPECT_EQ(strings(again, "unchanged").size(), kBundledFiles.size() + 1) << to_string(again);
  expect_fixture_good_decides();
}

TEST_F(PluginReload, SighupReloadsTheDirectoryToo) {
  start();
  const double g0 = generation();
  plugins.add_fixture("good_strategy.so");
  world.gateway->process().signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return loaded().count("fixture_good") == 1; }, 10s, 50ms))
      << "fixture_good never appeared after SIGHUP:\n" << world.get("/plugins").dump();
  EXPECT_EQ(generation(), g0 + 1);
  EXPECT_TRUE(Contains(world.gateway->log(), "SIGHUP received: reloading plugins"));
  expect_fixture_good_decides();

  // And away again, the same way.
  plugins.remove("good_strategy.so");
  world.gateway->process().signal(SIGHUP);
  ASSERT_TRUE(eventually([&] { return loaded().count("fixture_good") == 0; }, 10s, 50ms))
      << world.get("/plugins").dump();
  EXPECT_EQ(generation(), g0 + 2);
  EXPECT_EQ(decide("fixture_good").status, 400);
  ASSERT_TRUE(world.gateway->running());
  EXPECT_EQ(world.chat("chat-pool", "still serving").status, 200);
}

// ----------------------------------------------------------------------- removing ---

TEST_F(PluginReload, RemovedStrategyIsUnknownAfterTheReload) {
  auto models = default_logical_models();
  models["good-pool"] = logical("good-pool", {physical("alpha", "gpt-4o-mini"), physical("beta", "gpt-4o-mini")},
                                R"(,"strategy":"fixture_good")");
  start({"good_strategy.so"}, models);
  expect_fixture_good_decides();
  auto chat = world.chat("good-pool", "before removal");
  ASSERT_EQ(chat.status, 200) << chat.dump();

  plugins.remove("good_strategy.so");
  auto r = reload_ok();
  EXPECT_EQ(strings(r, "removed"), std::vector<std::string>{path_of("good_strategy.so")}) << to_string(r);
  EXPECT_TRUE(strings(r, "added").empty()) << to_string(r);
  EXPECT_EQ(strings(r, "unchanged").size(), kBundledFiles.size()) << to_string(r);
  EXPECT_FALSE(loaded().count("fixture_good"));
  EXPECT_TRUE(Contains(world.gateway->log(), "plugin 'fixture_good' (" + path_of("good_strategy.so") + ") is gone"));

  // /routing/decide: 400, naming the strategy and the ones that are left.
  auto d = decide("fixture_good");
  ASSERT_EQ(d.status, 400) << d.dump();
  auto body = parse_json(d.body);
  EXPECT_EQ(str(body, "error"), "bad_request");
  EXPECT_TRUE(Contains(str(body, "message"), "unknown strategy 'fixture_good'"));
  EXPECT_TRUE(Contains(str(body, "message"), "balanced"));
  // The logical model that names it: not the client's fault, so a 503 in OpenAI's envelope.
  auto orphan = world.chat("good-pool", "after removal");
  ASSERT_EQ(orphan.status, 503) << orphan.dump();
  auto e = parse_json(orphan.body);
  ASSERT_TRUE(e.HasMember("error") && e["error"].IsObject()) << orphan.body;
  EXPECT_EQ(str(e["error"], "code"), "strategy_unavailable");
  EXPECT_TRUE(Contains(str(e["error"], "message"), "fixture_good"));
  // Everything else is untouched.
  EXPECT_EQ(world.chat("chat-pool", "others unaffected").status, 200);
}

// ---------------------------------------------------------------------- replacing ---

TEST_F(PluginReload, BrokenFileOverALoadedStrategyLeavesThePreviousVersionServing) {
  start({"good_strategy.so"});
  const pid_t pid = world.gateway->process().pid();
  const int copy_mappings = ops::mapped_plugin_copies(pid, "good_strategy.so");
  ASSERT_GT(copy_mappings, 0) << "the gateway should run the plugin from its private copy";
  expect_fixture_good_decides();

  // A text file written over the loaded plugin, in place: the running copy is private, so
  // it keeps working even before anyone reloads.
  plugins.overwrite_in_place("good_strategy.so", ops::fixture_plugin_dir() / "not_a_library.so");
  expect_fixture_good_decides();

  const double g0 = generation();
  auto r = reload_ok();
  EXPECT_EQ(num(r, "generation"), g0 + 1);
  EXPECT_EQ(strings(r, "kept_previous"), std::vector<std::string>{path_of("good_strategy.so")}) << to_string(r);
  for (const char* k : {"added", "replaced", "removed"}) EXPECT_TRUE(strings(r, k).empty()) << k << ": " << to_string(r);
  const auto& rejected = arr(r, "rejected");
  ASSERT_EQ(rejected.Size(), 1u) << to_string(r);
  EXPECT_EQ(str(rejected[0], "file"), path_of("good_strategy.so"));
  std::string reason = str(rejected[0], "reason");
  EXPECT_TRUE(Contains(reason, "cannot be loaded"));
  EXPECT_TRUE(Contains(reason, "previous version keeps serving"));
  // GET /plugins: still loaded, and the refusal listed.
  auto list = plugin_list();
  EXPECT_TRUE(loaded().count("fixture_good")) << to_string(list);
  ASSERT_EQ(arr(list, "rejected").Size(), 1u) << to_string(list);
  EXPECT_TRUE(Contains(str(arr(list, "rejected")[0], "reason"), "previous version keeps serving"));
  expect_fixture_good_decides();
  EXPECT_TRUE(Contains(world.gateway->log(), "0 removed, " + std::to_string(kBundledFiles.size()) +
                                                      " unchanged, 1 kept at their previous version"));

  // A plugin of an ABI this gateway does not speak, the same way.
  plugins.overwrite_in_place("good_strategy.so", ops::fixture_plugin_dir() / "abi_major_mismatch.so");
  r = reload_ok();
  EXPECT_EQ(strings(r, "kept_previous"), std::vector<std::string>{path_of("good_strategy.so")}) << to_string(r);
  ASSERT_EQ(arr(r, "rejected").Size(), 1u) << to_string(r);
  EXPECT_TRUE(Contains(str(arr(r, "rejected")[0], "reason"), "plugin ABI"));
  EXPECT_TRUE(Contains(str(arr(r, "rejected")[0], "reason"), "previous version keeps serving"));
  expect_fixture_good_decides();

  // The original bytes back: the version that kept serving is the same, so it is unchanged.
  plugins.overwrite_in_place("good_strategy.so", ops::fixture_plugin_dir() / "good_strategy.so");
  r = reload_ok();
  EXPECT_TRUE(strings(r, "kept_previous").empty()) << to_string(r);
  EXPECT_TRUE(arr(r, "rejected").Empty()) << to_string(r);
  auto unchanged = strings(r, "unchanged");
  EXPECT_EQ(std::count(unchanged.begin(), unchanged.end(), path_of("good_strategy.so")), 1) << to_string(r);
  EXPECT_TRUE(arr(plugin_list(), "rejected").Empty());

  // A real change: replaced; the new copy is loaded and the old one unloaded once no
  // request holds it.
  plugins.change_content("good_strategy.so");
  r = reload_ok();
  EXPECT_EQ(strings(r, "replaced"), std::vector<std::string>{path_of("good_strategy.so")}) << to_string(r);
  EXPECT_TRUE(arr(r, "rejected").Empty()) << to_string(r);
  expect_fixture_good_decides();
  EXPECT_TRUE(eventually([&] { return ops::mapped_plugin_copies(pid, "good_strategy.so") == copy_mappings; }, 5s, 50ms))
      << "mappings of good_strategy.so: " << ops::mapped_plugin_copies(pid, "good_strategy.so") << ", one copy has "
      << copy_mappings;
  ASSERT_TRUE(world.gateway->running());
}

// ---------------------------------------------------------------------------- auth ---

TEST_F(PluginReload, ReloadNeedsTheToken) {
  start();
  const double g0 = generation();
  plugins.add_fixture("good_strategy.so");
  auto none = world.client().post("/plugins/reload", "");
  EXPECT_EQ(none.status, 401) << none.dump();
  EXPECT_EQ(str(parse_json(none.body), "error"), "unauthorized") << none.body;
  auto wrong = world.client().post("/plugins/reload", "", {bearer("not-the-token")});
  EXPECT_EQ(wrong.status, 401) << wrong.dump();
  EXPECT_EQ(world.client().get("/plugins").status, 401);
  // Nothing was reloaded.
  EXPECT_EQ(generation(), g0);
  EXPECT_FALSE(loaded().count("fixture_good"));
  EXPECT_FALSE(Contains(world.gateway->log(), "reloading plugins"));
  // With the token (either header) it is.
  auto ok = world.client().post("/plugins/reload", "", {api_key_header(kToken)});
  ASSERT_EQ(ok.status, 200) << ok.dump();
  EXPECT_TRUE(loaded().count("fixture_good"));
}

// ------------------------------------------------------------------- empty to full ---

TEST_F(PluginReload, AGatewayStartedWithoutPluginsBecomesReadyWhenAReloadBringsThem) {
  for (const auto& [id, json] : default_logical_models()) world.redis.cli({"SET", "llm:logical:" + id, json});
  EnvMap env = world.env();
  env["APIPROXY_PLUGIN_DIR"] = plugins.path();  // empty for now
  world.gateway = std::make_unique<Gateway>(env);

  auto ready = world.client().get("/health/ready");
  ASSERT_EQ(ready.status, 503) << ready.dump();
  auto reasons = strings(parse_json(ready.body), "reasons");
  EXPECT_EQ(std::set<std::string>(reasons.begin(), reasons.end()),
            (std::set<std::string>{"no usable provider", "no strategy loaded"}))
      << ready.body;
  EXPECT_EQ(world.client().get("/health/live").status, 200);
  auto refused = world.chat("chat-pool", "nothing loaded");
  EXPECT_TRUE(refused.status == 404 || refused.status == 503) << refused.dump();

  plugins.add_bundled();
  auto r = reload_ok();
  EXPECT_EQ(strings(r, "added").size(), kBundledFiles.size()) << to_string(r);
  auto now_ready = world.client().get("/health/ready");
  ASSERT_EQ(now_ready.status, 200) << now_ready.dump();
  EXPECT_TRUE(strings(parse_json(now_ready.body), "reasons").empty()) << now_ready.body;
  // The providers got their adapters with the reload; the data plane works.
  Response chat;
  ASSERT_TRUE(eventually([&] { return (chat = world.chat("chat-pool", "after the reload")).status == 200; }, 5s, 50ms))
      << chat.dump();
  EXPECT_EQ(content_of(chat.body), reply_of(chat.header("x-apiproxy-provider"), "after the reload"));
}

// ----------------------------------------------------------------------- in flight ---

constexpr int kChunks = 10;
const std::string kLongMessage = "a streamed answer that stays in flight across a plugin reload";

class PluginReloadInFlight : public PluginReload {
 protected:
  void SetUp() override {
    start();
    // Every stream takes about 10 × 200 ms.
    for (const auto* m : {&world.alpha, &world.beta})
      m->configure("{\"chunks\":" + std::to_string(kChunks) + ",\"chunk_interval_ms\":200}");
    pid = world.gateway->process().pid();
  }

  // A stream of chat-pool, its head and first event read.
  std::unique_ptr<SseStream> open_stream(std::vector<std::string>& first) {
    return ops::in_flight(world.stream(kChatPath, chat_body("chat-pool", kLongMessage, R"(,"stream":true)")), first);
  }

  static void expect_whole(const ops::StreamSummary& s) {
    EXPECT_EQ(s.status, 200) << s.dump();
    EXPECT_TRUE(s.done()) << s.dump();
    EXPECT_TRUE(s.complete) << s.dump();
    EXPECT_EQ(s.content_events, kChunks) << s.dump();
    EXPECT_EQ(s.content, reply_of(s.provider, kLongMessage)) << s.dump();
  }

  pid_t pid = -1;
};

TEST_F(PluginReloadInFlight, StreamFinishesOnTheAdapterThatWasRemovedUnderIt) {
  const int copy_mappings = ops::mapped_plugin_copies(pid, ops::kOpenAiAdapter);
  ASSERT_GT(copy_mappings, 0);
  std::vector<std::string> first;
  auto s = open_stream(first);
  ASSERT_FALSE(first.empty());

  plugins.remove(ops::kOpenAiAdapter);
  auto r = reload_ok();
  EXPECT_EQ(strings(r, "removed"), std::vector<std::string>{path_of(ops::kOpenAiAdapter)}) << to_string(r);
  // The reload came while the stream was still running, and the old adapter's code is still
  // mapped for it.
  ASSERT_FALSE(s->complete()) << "the stream ended before the reload: the test proves nothing";
  EXPECT_EQ(ops::mapped_plugin_copies(pid, ops::kOpenAiAdapter), copy_mappings);

  // New requests no longer reach the openai-adapter providers (alpha, beta): a clean error.
  auto pooled = world.chat("chat-pool", "after the adapter left");
  ASSERT_EQ(pooled.status, 503) << pooled.dump();
  auto e = parse_json(pooled.body);
  ASSERT_TRUE(e.HasMember("error") && e["error"].IsObject()) << pooled.body;
  EXPECT_EQ(str(e["error"], "code"), "no_upstream_available");
  EXPECT_TRUE(Contains(str(e["error"], "message"), "no upstream of 'chat-pool' is available"));
  auto direct = world.chat("alpha/gpt-4o-mini", "direct");
  EXPECT_EQ(direct.status, 404) << direct.dump();
  EXPECT_EQ(str(parse_json(direct.body)["error"], "code"), "model_not_found") << direct.body;
  // /providers says why alpha is out.
  auto providers = world.get("/providers");
  ASSERT_EQ(providers.status, 200) << providers.dump();
  std::map<std::string, std::string> skipped;
  auto listed = parse_json(providers.body);  // a named document: a range-for would not keep a temporary alive
  for (const auto& sk : arr(listed, "skipped").GetArray()) skipped[str(sk, "id")] = str(sk, "reason");
  ASSERT_TRUE(skipped.count("alpha")) << providers.body;
  EXPECT_TRUE(Contains(skipped["alpha"], "LLM_PROVIDER_alpha_ADAPTER='openai'"));
  EXPECT_TRUE(Contains(skipped["alpha"], "no loaded provider adapter"));
  // The Azure provider, whose adapter stayed, still answers.
  auto az = world.chat("az-gpt4", "azure still here");
  EXPECT_EQ(az.status, 200) << az.dump();

  // The stream in flight ends whole, on the old adapter.
  auto summary = ops::finish_stream(*s, first);
  expect_whole(summary);
  EXPECT_TRUE(summary.provider == "alpha" || summary.provider == "beta") << summary.dump();
  // Its last user gone, the old adapter is unloaded.
  EXPECT_TRUE(eventually([&] { return ops::mapped_plugin_copies(pid, ops::kOpenAiAdapter) == 0; }, 5s, 50ms))
      << "provider_openai.so is still mapped " << ops::mapped_plugin_copies(pid, ops::kOpenAiAdapter) << " times";
  ASSERT_TRUE(world.gateway->running());
  EXPECT_EQ(world.client().get("/health").status, 200);

  // Putting it back brings alpha and beta back.
  plugins.add_bundled(ops::kOpenAiAdapter);
  r = reload_ok();
  EXPECT_EQ(strings(r, "added"), std::vector<std::string>{path_of(ops::kOpenAiAdapter)}) << to_string(r);
  world.alpha.configure(R"({"chunks":3,"chunk_interval_ms":0})");
  world.beta.configure(R"({"chunks":3,"chunk_interval_ms":0})");
  auto back = world.chat("chat-pool", "adapter is back");
  ASSERT_EQ(back.status, 200) << back.dump();
  EXPECT_EQ(content_of(back.body), reply_of(back.header("x-apiproxy-provider"), "adapter is back"));
}

TEST_F(PluginReloadInFlight, StreamsOnTheOldAndTheNewVersionOfAReplacedAdapterBothFinish) {
  const int copy_mappings = ops::mapped_plugin_copies(pid, ops::kOpenAiAdapter);
  ASSERT_GT(copy_mappings, 0);
  std::vector<std::string> first_old, first_new;
  auto on_old = open_stream(first_old);

  plugins.change_content(ops::kOpenAiAdapter);
  auto r = reload_ok();
  EXPECT_EQ(strings(r, "replaced"), std::vector<std::string>{path_of(ops::kOpenAiAdapter)}) << to_string(r);
  ASSERT_FALSE(on_old->complete()) << "the stream ended before the reload: the test proves nothing";
  // Both versions are loaded now: the old one for the stream in flight.
  EXPECT_EQ(ops::mapped_plugin_copies(pid, ops::kOpenAiAdapter), 2 * copy_mappings);

  auto on_new = open_stream(first_new);
  auto old_summary = ops::finish_stream(*on_old, first_old);
  auto new_summary = ops::finish_stream(*on_new, first_new);
  expect_whole(old_summary);
  expect_whole(new_summary);
  // With no request left on it, the old version goes; the new one stays.
  EXPECT_TRUE(eventually([&] { return ops::mapped_plugin_copies(pid, ops::kOpenAiAdapter) == copy_mappings; }, 5s, 50ms))
      << "provider_openai.so mappings: " << ops::mapped_plugin_copies(pid, ops::kOpenAiAdapter);
  ASSERT_TRUE(world.gateway->running());
}

}  // namespace
}  // namespace it
