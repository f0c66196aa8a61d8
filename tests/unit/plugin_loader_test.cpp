// The plugin host's loader (core/plugins/plugin_registry.hpp) against deliberately broken
// plugins (tests/fixtures/broken_plugins) and the real plugin directory.
//
// The fixtures must be built first: `cmake --build <dir> --target apiproxy_test_fixtures`
// (and the provider plugins for the real-directory test).
#include <gtest/gtest.h>

#include <unistd.h>

#include <algorithm>
#include <cmath>
#include <cstddef>
#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "core/config/environment.hpp"
#include "core/plugins/plugin_faults.hpp"
#include "core/plugins/plugin_registry.hpp"
#include "core/plugins/provider_adapter.hpp"

namespace apiproxy {
namespace {

namespace fs = std::filesystem;

const std::string kBrokenDir = APIPROXY_TEST_BROKEN_PLUGIN_DIR;
const std::string kPluginDir = APIPROXY_TEST_PLUGIN_DIR;

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// Loaded once for the whole suite: loading is what is under test, and dlopen'ing the same
// libraries again would only return the same handles.
class BrokenPlugins : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    if (!fs::exists(fs::path(kBrokenDir) / "good_strategy.so")) return;
    registry_ = PluginRegistry::load(kBrokenDir, Environment::from_text(""));
    for (const auto& r : registry_->rejected())
      reasons_[fs::path(r.file).filename().string()] = r.reason;
  }
  static void TearDownTestSuite() {
    registry_.reset();
    reasons_.clear();
  }
  void SetUp() override {
    if (!registry_)
      GTEST_SKIP() << "fixtures not built in " << kBrokenDir
                   << " (cmake --build <dir> --target apiproxy_test_fixtures)";
  }

  // The reason `file` was refused; fails the test when it was not.
  static std::string reason(const std::string& file) {
    auto it = reasons_.find(file);
    if (it == reasons_.end()) {
      ADD_FAILURE() << file << " was not rejected";
      return "";
    }
    return it->second;
  }

  static std::shared_ptr<const PluginRegistry> registry_;
  static std::map<std::string, std::string> reasons_;
};

std::shared_ptr<const PluginRegistry> BrokenPlugins::registry_;
std::map<std::string, std::string> BrokenPlugins::reasons_;

TEST_F(BrokenPlugins, ExactlyTheBrokenOnesAreRejected) {
  std::vector<std::string> rejected;
  for (const auto& [file, why] : reasons_) rejected.push_back(file);
  EXPECT_EQ(rejected, (std::vector<std::string>{
                          "abi_major_mismatch.so", "abi_minor_newer.so", "create_fails.so",
                          "create_throws.so", "descriptor_too_small.so", "empty_name.so",
                          "entry_returns_null.so", "entry_throws.so", "no_entry_symbol.so",
                          "not_a_library.so", "null_vtable.so", "unknown_kind.so",
                          "vtable_too_small.so"}));
  EXPECT_EQ(registry_->strategy_names(),
            (std::vector<std::string>{"fixture_abi_1_0", "fixture_good", "fixture_score_error",
                                      "fixture_score_garbage", "fixture_score_overrun",
                                      "fixture_score_throws"}));
  EXPECT_EQ(registry_->provider_names(), (std::vector<std::string>{"fixture_abi_1_1"}));
  EXPECT_EQ(registry_->dir(), kBrokenDir);
}

TEST_F(BrokenPlugins, RejectedFilesAreFullPathsInTheDirectory) {
  for (const auto& r : registry_->rejected()) {
    EXPECT_EQ(fs::path(r.file).parent_path(), fs::path(kBrokenDir)) << r.file;
    EXPECT_FALSE(r.reason.empty()) << r.file;
  }
}

TEST_F(BrokenPlugins, NoEntrySymbol) {
  auto r = reason("no_entry_symbol.so");
  EXPECT_TRUE(contains(r, "apiproxy_plugin_entry")) << r;
  EXPECT_TRUE(contains(r, "no ")) << r;
}

TEST_F(BrokenPlugins, EntryReturnsNull) {
  auto r = reason("entry_returns_null.so");
  EXPECT_TRUE(contains(r, "no descriptor")) << r;
}

TEST_F(BrokenPlugins, EntryThrows) {
  auto r = reason("entry_throws.so");
  EXPECT_TRUE(contains(r, "apiproxy_plugin_entry")) << r;
  EXPECT_TRUE(contains(r, "exception")) << r;
}

TEST_F(BrokenPlugins, AbiMajorMismatchNamesBothVersions) {
  auto r = reason("abi_major_mismatch.so");
  std::string found = std::to_string(APX_ABI_MAJOR + 1) + "." + std::to_string(APX_ABI_MINOR);
  std::string expected = std::to_string(APX_ABI_MAJOR) + "." + std::to_string(APX_ABI_MINOR);
  EXPECT_TRUE(contains(r, "ABI " + found)) << r;
  EXPECT_TRUE(contains(r, expected)) << r;
}

TEST_F(BrokenPlugins, AbiMinorNewerNamesBothVersions) {
  auto r = reason("abi_minor_newer.so");
  std::string found = std::to_string(APX_ABI_MAJOR) + "." + std::to_string(APX_ABI_MINOR + 1);
  std::string expected = std::to_string(APX_ABI_MAJOR) + "." + std::to_string(APX_ABI_MINOR);
  EXPECT_TRUE(contains(r, "ABI " + found)) << r;
  EXPECT_TRUE(contains(r, expected)) << r;
}

TEST_F(BrokenPlugins, UnknownKind) {
  auto r = reason("unknown_kind.so");
  EXPECT_TRUE(contains(r, "kind 99")) << r;
}

TEST_F(BrokenPlugins, NullVtable) {
  auto r = reason("null_vtable.so");
  EXPECT_TRUE(contains(r, "vtable")) << r;
}

TEST_F(BrokenPlugins, VtableTooSmall) {
  auto r = reason("vtable_too_small.so");
  EXPECT_TRUE(contains(r, "vtable is " + std::to_string(offsetof(apx_strategy_vtable, destroy)) +
                              " bytes"))
      << r;
  EXPECT_TRUE(contains(r, "at least " + std::to_string(sizeof(apx_strategy_vtable)))) << r;
}

TEST_F(BrokenPlugins, DescriptorTooSmall) {
  auto r = reason("descriptor_too_small.so");
  EXPECT_TRUE(contains(r, "descriptor is " +
                              std::to_string(offsetof(apx_plugin_descriptor, vtable)) + " bytes"))
      << r;
  EXPECT_TRUE(contains(r, "at least " + std::to_string(sizeof(apx_plugin_descriptor)))) << r;
}

TEST_F(BrokenPlugins, EmptyName) {
  auto r = reason("empty_name.so");
  EXPECT_TRUE(contains(r, "name ''")) << r;
}

TEST_F(BrokenPlugins, CreateFails) {
  auto r = reason("create_fails.so");
  EXPECT_TRUE(contains(r, "fixture_create_fails")) << r;
  EXPECT_TRUE(contains(r, "APX_ERR_INVALID")) << r;
  EXPECT_EQ(registry_->strategy("fixture_create_fails"), nullptr);
}

TEST_F(BrokenPlugins, CreateThrows) {
  auto r = reason("create_throws.so");
  EXPECT_TRUE(contains(r, "fixture_create_throws")) << r;
  EXPECT_TRUE(contains(r, "APX_ERR_INTERNAL")) << r;
  EXPECT_EQ(registry_->strategy("fixture_create_throws"), nullptr);
}

TEST_F(BrokenPlugins, NotALibrary) {
  auto r = reason("not_a_library.so");
  EXPECT_TRUE(contains(r, "cannot be loaded")) << r;
}

// Scoring helper: n candidates with distinct provider ids.
struct Candidates {
  explicit Candidates(size_t n) : storage(n), ptrs(n) {
    for (size_t i = 0; i < n; ++i) {
      ids.push_back("p" + std::to_string(i));
    }
    for (size_t i = 0; i < n; ++i) {
      apx_candidate& c = storage[i];
      c = apx_candidate{};
      c.struct_size = sizeof(apx_candidate);
      c.provider_id = apx_str{ids[i].data(), ids[i].size()};
      c.model_id = apx_str{"m", 1};
      c.base_weight = 1.0;
      c.dynamic_weight = 1.0;
      c.status = APX_HEALTH_HEALTHY;
      ptrs[i] = &storage[i];
    }
  }
  std::vector<std::string> ids;
  std::vector<apx_candidate> storage;
  std::vector<const apx_candidate*> ptrs;
};

apx_route_ctx route_ctx() {
  apx_route_ctx ctx{};
  ctx.struct_size = sizeof(apx_route_ctx);
  ctx.logical_model = apx_str{"gpt-4", 5};
  ctx.strategy = apx_str{"fixture_good", 12};
  return ctx;
}

TEST_F(BrokenPlugins, GoodStrategyLoadsAndScores) {
  auto s = registry_->strategy("fixture_good");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->name(), "fixture_good");
  EXPECT_EQ(s->info().kind, "strategy");
  EXPECT_EQ(s->info().version, "1.0.0");
  EXPECT_EQ(s->info().abi_major, static_cast<uint32_t>(APX_ABI_MAJOR));
  EXPECT_EQ(fs::path(s->info().file).filename(), "good_strategy.so");
  Candidates c(3);
  std::vector<double> scores(3, -7.0);
  auto ctx = route_ctx();
  auto st = s->score(ctx, c.ptrs.data(), 3, scores.data());
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_EQ(scores, (std::vector<double>{1.0, 1.0, 1.0}));
  // Zero candidates is fine too.
  EXPECT_TRUE(s->score(ctx, nullptr, 0, nullptr).ok());
}

TEST_F(BrokenPlugins, APluginBuiltForAnOlderMinorLoadsAndScoresUnchanged) {
  // Built against SDK 1.0: the host passes its larger (1.1) candidates, the plugin reads
  // the 1.0 fields it knows.
  auto s = registry_->strategy("fixture_abi_1_0");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->info().abi_major, 1u);
  EXPECT_EQ(s->info().abi_minor, 0u);
  Candidates c(2);
  c.storage[0].latency_ewma_ms = 1;
  c.storage[1].latency_ewma_ms = 3;
  c.storage[1].recent_latency_ms = 1000;  // a 1.1 field, which it does not know
  std::vector<double> scores(2, -7.0);
  auto ctx = route_ctx();
  ASSERT_TRUE(s->score(ctx, c.ptrs.data(), 2, scores.data()).ok());
  EXPECT_EQ(scores, (std::vector<double>{0.5, 0.25}));
}

TEST_F(BrokenPlugins, AProviderBuiltBeforeKeyPoolsGetsOneObjectPerKey) {
  // Built against SDK 1.1: it cannot take a key per call, so each key of the pool gets its
  // own object, created with that key; a call with key i goes to object i.
  auto plugin = registry_->provider_plugin("fixture_abi_1_1");
  ASSERT_NE(plugin, nullptr);
  EXPECT_EQ(plugin->info().abi_minor, 1u);
  ProviderConfig cfg;
  cfg.id = "old";
  cfg.name = "old";
  cfg.base_url = "http://127.0.0.1:9";
  cfg.keys = {{"sk-first", "key1", 1, 0}, {"sk-second", "key2", 1, 0}, {"sk-third", "key3", 1, 0}};
  cfg.api_key = cfg.keys[0].key;
  auto adapter = ProviderAdapter::create(plugin, cfg);
  ASSERT_TRUE(adapter) << adapter.error();
  for (size_t key : {2u, 0u, 1u}) {
    UpstreamCall call{APX_OP_CHAT_COMPLETIONS, "m", {}, false, key};
    auto req = adapter.value()->build_request(call, "{}");
    ASSERT_TRUE(req) << req.error();
    ASSERT_EQ(req->headers.size(), 1u);
    EXPECT_EQ(req->headers[0].second, "Bearer " + cfg.keys[key].key);
  }
}

TEST_F(BrokenPlugins, AProviderBuiltBeforeAbi13IsNeverAskedForTheNewOperationsNorReadPastItsVtable) {
  // Built against SDK 1.1: its vtable ends at `destroy`, and its build_request would shape
  // any operation it is given. The host must translate Messages and Responses for it
  // (answering "unsupported" without calling it) and find no transform hooks.
  auto plugin = registry_->provider_plugin("fixture_abi_1_1");
  ASSERT_NE(plugin, nullptr);
  ProviderConfig cfg;
  cfg.id = "old";
  cfg.name = "old";
  cfg.base_url = "http://127.0.0.1:9";
  cfg.api_key = "sk-old";
  auto adapter = ProviderAdapter::create(plugin, cfg);
  ASSERT_TRUE(adapter) << adapter.error();
  const ProviderAdapter& a = *adapter.value();
  for (apx_operation op : {APX_OP_MESSAGES, APX_OP_RESPONSES}) {
    bool unsupported = false;
    auto req = a.build_request(UpstreamCall{op, "m", {}, false, 0}, "{}", &unsupported);
    EXPECT_FALSE(req);
    EXPECT_TRUE(unsupported) << op;
  }
  bool unsupported = true;
  EXPECT_TRUE(a.build_request(UpstreamCall{APX_OP_CHAT_COMPLETIONS, "m", {}, false, 0}, "{}", &unsupported));
  EXPECT_FALSE(unsupported);
  EXPECT_FALSE(a.transforms_answers());
  EXPECT_EQ(a.open_stream(UpstreamCall{APX_OP_CHAT_COMPLETIONS, "m", "{}", true, 0}), nullptr);
  auto answer = a.transform_answer(UpstreamCall{APX_OP_CHAT_COMPLETIONS, "m", "{}", false, 0}, 200, "{}");
  ASSERT_TRUE(answer);
  EXPECT_FALSE(answer.value().has_value());  // relayed as it came
}

TEST_F(BrokenPlugins, ListedInPlugins) {
  auto infos = registry_->plugins();
  ASSERT_EQ(infos.size(), 7u);
  bool good = false;
  for (const auto& i : infos) good |= i.name == "fixture_good" && i.kind == "strategy";
  EXPECT_TRUE(good);
}

TEST_F(BrokenPlugins, ScoreThrowsLoadsButScoringFails) {
  auto s = registry_->strategy("fixture_score_throws");
  ASSERT_NE(s, nullptr);
  Candidates c(2);
  std::vector<double> scores(2, 0.0);
  auto ctx = route_ctx();
  auto st = s->score(ctx, c.ptrs.data(), 2, scores.data());
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(contains(st.error(), "fixture_score_throws")) << st.error();
  EXPECT_TRUE(contains(st.error(), "APX_ERR_INTERNAL")) << st.error();
  // And again: the object is still usable (nothing was torn down by the failure).
  EXPECT_FALSE(s->score(ctx, c.ptrs.data(), 2, scores.data()).ok());
}

TEST_F(BrokenPlugins, ScoreGarbageLoadsAndReturnsItsRawScores) {
  auto s = registry_->strategy("fixture_score_garbage");
  ASSERT_NE(s, nullptr);
  Candidates c(3);
  std::vector<double> scores(3, 0.0);
  auto ctx = route_ctx();
  auto st = s->score(ctx, c.ptrs.data(), 3, scores.data());
  // StrategyPlugin reports what the plugin wrote; sanitising is the router's job.
  ASSERT_TRUE(st.ok()) << st.error();
  EXPECT_TRUE(std::isnan(scores[0]));
  EXPECT_EQ(scores[1], -1.0);
  EXPECT_TRUE(std::isinf(scores[2]));
}

// ---------------------------------------------------------------- other directories ----

TEST(PluginLoader, MissingDirectoryGivesEmptyRegistry) {
  auto reg = PluginRegistry::load("/nonexistent/apiproxy/plugins", Environment{});
  ASSERT_NE(reg, nullptr);
  EXPECT_TRUE(reg->strategy_names().empty());
  EXPECT_TRUE(reg->provider_names().empty());
  EXPECT_TRUE(reg->rejected().empty());
  EXPECT_TRUE(reg->plugins().empty());
  EXPECT_EQ(reg->strategy("fixture_good"), nullptr);
  EXPECT_EQ(reg->provider_plugin("openai"), nullptr);
}

class TempDir {
 public:
  TempDir() {
    path_ = fs::temp_directory_path() /
            ("apiproxy-plugin-test-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++));
    fs::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path_, ec);
  }
  const fs::path& path() const { return path_; }

 private:
  static inline int counter_ = 0;
  fs::path path_;
};

TEST(PluginLoader, EmptyDirectory) {
  TempDir dir;
  auto reg = PluginRegistry::load(dir.path().string(), Environment{});
  EXPECT_TRUE(reg->plugins().empty());
  EXPECT_TRUE(reg->rejected().empty());
}

TEST(PluginLoader, OnlySoFilesAreConsidered) {
  fs::path good = fs::path(kBrokenDir) / "good_strategy.so";
  if (!fs::exists(good)) GTEST_SKIP() << "fixtures not built";
  TempDir dir;
  fs::copy_file(good, dir.path() / "good.so.disabled");
  fs::copy_file(good, dir.path() / "good.txt");
  fs::create_directory(dir.path() / "sub.so");  // a directory named *.so
  auto reg = PluginRegistry::load(dir.path().string(), Environment{});
  EXPECT_TRUE(reg->strategy_names().empty());
  EXPECT_TRUE(reg->rejected().size() <= 1u);  // the directory, if anything
  for (const auto& r : reg->rejected()) EXPECT_TRUE(contains(r.file, "sub.so")) << r.file;
}

TEST(PluginLoader, DuplicateNameRejectedSecondOneNamed) {
  fs::path good = fs::path(kBrokenDir) / "good_strategy.so";
  if (!fs::exists(good)) GTEST_SKIP() << "fixtures not built";
  TempDir dir;
  // Copies (not links): separate files, so the dynamic loader opens them separately.
  fs::copy_file(good, dir.path() / "a_first.so");
  fs::copy_file(good, dir.path() / "b_second.so");
  auto reg = PluginRegistry::load(dir.path().string(), Environment{});
  EXPECT_EQ(reg->strategy_names(), std::vector<std::string>{"fixture_good"});
  ASSERT_EQ(reg->rejected().size(), 1u);
  EXPECT_EQ(fs::path(reg->rejected()[0].file).filename(), "b_second.so");
  EXPECT_TRUE(contains(reg->rejected()[0].reason, "fixture_good")) << reg->rejected()[0].reason;
  EXPECT_TRUE(contains(reg->rejected()[0].reason, "already loaded")) << reg->rejected()[0].reason;
  auto s = reg->strategy("fixture_good");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(fs::path(s->info().file).filename(), "a_first.so");
}

TEST(PluginLoader, StrategyOutlivesRegistry) {
  fs::path good = fs::path(kBrokenDir) / "good_strategy.so";
  if (!fs::exists(good)) GTEST_SKIP() << "fixtures not built";
  std::shared_ptr<const StrategyPlugin> s;
  {
    TempDir dir;
    fs::copy_file(good, dir.path() / "g.so");
    s = PluginRegistry::load(dir.path().string(), Environment{})->strategy("fixture_good");
  }
  ASSERT_NE(s, nullptr);
  Candidates c(2);
  std::vector<double> scores(2, 0.0);
  auto ctx = route_ctx();
  ASSERT_TRUE(s->score(ctx, c.ptrs.data(), 2, scores.data()).ok());
  EXPECT_EQ(scores, (std::vector<double>{1.0, 1.0}));
}

TEST(PluginLoader, RealPluginDirectoryHasTheProviderAdapters) {
  for (const char* f : {"provider_openai.so", "provider_azure.so", "provider_local.so", "provider_anthropic.so"})
    if (!fs::exists(fs::path(kPluginDir) / f))
      GTEST_SKIP() << f << " not built in " << kPluginDir;
  auto reg = PluginRegistry::load(kPluginDir, Environment::from_text(""));
  for (const char* name : {"openai", "azure", "local", "anthropic"}) {
    auto p = reg->provider_plugin(name);
    ASSERT_NE(p, nullptr) << name;
    EXPECT_EQ(p->info().kind, "provider");
    EXPECT_EQ(p->info().name, name);
    EXPECT_FALSE(p->info().version.empty());
  }
  for (const auto& r : reg->rejected()) ADD_FAILURE() << r.file << ": " << r.reason;
  auto names = reg->provider_names();
  EXPECT_NE(std::find(names.begin(), names.end(), "openai"), names.end());
}

TEST(PluginLoader, ResolveDirPrefersConfigured) {
  EXPECT_EQ(PluginRegistry::resolve_dir("/some/where"), "/some/where");
  EXPECT_FALSE(PluginRegistry::resolve_dir("").empty());
}

// ------------------------------------------------------------ faults and reloads ----

// The fixtures' strategies loaded with their own fault counters, so counts start at zero.
struct CountedPlugins {
  PluginCallPolicy policy;
  std::shared_ptr<const PluginRegistry> reg;
  explicit CountedPlugins(std::chrono::microseconds slow = std::chrono::seconds(10)) {
    policy.slow_call = slow;
    reg = PluginRegistry::load(kBrokenDir, Environment::from_text(""), policy);
  }
  uint64_t faults(std::string_view plugin, std::string_view kind) const {
    for (const auto& f : policy.faults->snapshot())
      if (f.plugin == plugin && f.kind == kind) return f.count;
    return 0;
  }
  Status score(const char* strategy, size_t n = 3) const {
    auto s = reg->strategy(strategy);
    EXPECT_NE(s, nullptr) << strategy;
    if (!s) return Error{"not loaded"};
    Candidates c(n);
    std::vector<double> scores(n, 0.0);
    auto ctx = route_ctx();
    return s->score(ctx, c.ptrs.data(), n, scores.data());
  }
};

TEST(PluginFaults, ThrowingErroringAndOverrunningStrategiesAreCountedByKind) {
  if (!fs::exists(fs::path(kBrokenDir) / "score_overrun.so")) GTEST_SKIP() << "fixtures not built";
  CountedPlugins p;
  for (int i = 0; i < 3; ++i) {
    EXPECT_FALSE(p.score("fixture_score_throws").ok());
    EXPECT_FALSE(p.score("fixture_score_error").ok());
    auto overrun = p.score("fixture_score_overrun");
    ASSERT_FALSE(overrun.ok());
    EXPECT_TRUE(contains(overrun.error(), "wrote past its 3 scores")) << overrun.error();
  }
  EXPECT_TRUE(p.score("fixture_good").ok());
  // The C++ SDK turns the exception into APX_ERR_INTERNAL inside the plugin.
  EXPECT_EQ(p.faults("fixture_score_throws", plugin_fault::kError), 3u);
  EXPECT_EQ(p.faults("fixture_score_error", plugin_fault::kError), 3u);
  EXPECT_EQ(p.faults("fixture_score_overrun", plugin_fault::kOverrun), 3u);
  EXPECT_EQ(p.faults("fixture_good", plugin_fault::kThrew), 0u);
  EXPECT_EQ(p.faults("fixture_good", plugin_fault::kError), 0u);
}

TEST(PluginFaults, ACallSlowerThanThePolicyIsCountedButItsAnswerUsed) {
  if (!fs::exists(fs::path(kBrokenDir) / "good_strategy.so")) GTEST_SKIP() << "fixtures not built";
  CountedPlugins p(std::chrono::microseconds(0));  // every call is "slow"
  EXPECT_EQ(p.faults("fixture_good", plugin_fault::kSlow), 0u);  // create is not timed
  EXPECT_TRUE(p.score("fixture_good").ok());
  EXPECT_EQ(p.faults("fixture_good", plugin_fault::kSlow), 1u);
}

TEST(PluginFaults, LoggingThinsOutToPowersOfTwo) {
  std::vector<uint64_t> logged;
  for (uint64_t n = 1; n <= 20; ++n)
    if (PluginFaults::worth_logging(n)) logged.push_back(n);
  EXPECT_EQ(logged, (std::vector<uint64_t>{1, 2, 4, 8, 16}));
}

// A plugin directory of the test's own, reloaded as an operator would change it.
class Reload : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!fs::exists(fs::path(kBrokenDir) / "good_strategy.so")) GTEST_SKIP() << "fixtures not built";
  }
  void put(const std::string& fixture, const std::string& as) {
    // Written beside and renamed into place, as docs/plugins.md tells operators to.
    fs::copy_file(fs::path(kBrokenDir) / fixture, dir.path() / (as + ".tmp"), fs::copy_options::overwrite_existing);
    fs::rename(dir.path() / (as + ".tmp"), dir.path() / as);
  }
  std::shared_ptr<const PluginRegistry> load(const PluginRegistry* previous = nullptr) {
    return PluginRegistry::load(dir.path().string(), Environment{}, {}, previous);
  }
  static std::vector<std::string> names(const std::vector<std::string>& files) {
    std::vector<std::string> out;
    for (const auto& f : files) out.push_back(fs::path(f).filename().string());
    return out;
  }
  TempDir dir;
};

TEST_F(Reload, UnchangedFilesKeepTheirLoadedObjects) {
  put("good_strategy.so", "good.so");
  auto first = load();
  auto second = load(first.get());
  EXPECT_EQ(second->strategy("fixture_good"), first->strategy("fixture_good"));  // the same object
  EXPECT_EQ(names(second->changes().unchanged), std::vector<std::string>{"good.so"});
  EXPECT_TRUE(second->changes().added.empty());
  EXPECT_TRUE(second->changes().replaced.empty());
}

TEST_F(Reload, NewFilesAreAddedAndRemovedOnesStopServing) {
  put("good_strategy.so", "good.so");
  auto first = load();
  put("score_garbage.so", "garbage.so");
  fs::remove(dir.path() / "good.so");
  auto second = load(first.get());
  EXPECT_EQ(second->strategy_names(), std::vector<std::string>{"fixture_score_garbage"});
  EXPECT_EQ(names(second->changes().added), std::vector<std::string>{"garbage.so"});
  EXPECT_EQ(names(second->changes().removed), std::vector<std::string>{"good.so"});
  // A request still holding the removed strategy finishes on it.
  auto held = first->strategy("fixture_good");
  first.reset();
  Candidates c(2);
  std::vector<double> scores(2, 0.0);
  auto ctx = route_ctx();
  ASSERT_TRUE(held->score(ctx, c.ptrs.data(), 2, scores.data()).ok());
  EXPECT_EQ(scores, (std::vector<double>{1.0, 1.0}));
}

TEST_F(Reload, AChangedFileIsReplacedAndTheOldVersionServesWhoeverHoldsIt) {
  put("good_strategy.so", "s.so");
  auto first = load();
  auto old = first->strategy("fixture_good");
  put("score_garbage.so", "s.so");  // same file name, other content
  auto second = load(first.get());
  EXPECT_EQ(names(second->changes().replaced), std::vector<std::string>{"s.so"});
  EXPECT_EQ(second->strategy_names(), std::vector<std::string>{"fixture_score_garbage"});
  Candidates c(2);
  std::vector<double> scores(2, 0.0);
  auto ctx = route_ctx();
  ASSERT_TRUE(old->score(ctx, c.ptrs.data(), 2, scores.data()).ok());
  EXPECT_EQ(scores, (std::vector<double>{1.0, 1.0}));  // still the good strategy's code
}

TEST_F(Reload, OverwritingALoadedFileInPlaceDoesNotTouchTheRunningCopy) {
  put("good_strategy.so", "s.so");
  auto reg = load();
  {
    // Truncate and rewrite the very file that was loaded (no rename).
    std::ofstream out(dir.path() / "s.so", std::ios::binary | std::ios::trunc);
    out << "not a library any more";
  }
  Candidates c(2);
  std::vector<double> scores(2, 0.0);
  auto ctx = route_ctx();
  ASSERT_TRUE(reg->strategy("fixture_good")->score(ctx, c.ptrs.data(), 2, scores.data()).ok());
  EXPECT_EQ(scores, (std::vector<double>{1.0, 1.0}));
}

TEST_F(Reload, AChangedFileThatFailsToLoadLeavesThePreviousVersionServing) {
  put("good_strategy.so", "s.so");
  auto first = load();
  put("not_a_library.so", "s.so");
  auto second = load(first.get());
  EXPECT_EQ(second->strategy("fixture_good"), first->strategy("fixture_good"));
  EXPECT_EQ(names(second->changes().kept_previous), std::vector<std::string>{"s.so"});
  ASSERT_EQ(second->rejected().size(), 1u);
  EXPECT_TRUE(contains(second->rejected()[0].reason, "previous version keeps serving"))
      << second->rejected()[0].reason;
  // Put back on disk: the next reload finds the version that is serving.
  put("good_strategy.so", "s.so");
  auto third = load(second.get());
  EXPECT_TRUE(third->rejected().empty());
  EXPECT_EQ(names(third->changes().unchanged), std::vector<std::string>{"s.so"});
}

TEST_F(Reload, ABrokenNewFileIsRefusedAndNothingElseChanges) {
  put("good_strategy.so", "good.so");
  auto first = load();
  put("abi_major_mismatch.so", "bad.so");
  auto second = load(first.get());
  EXPECT_EQ(second->strategy_names(), std::vector<std::string>{"fixture_good"});
  ASSERT_EQ(second->rejected().size(), 1u);
  EXPECT_TRUE(contains(second->rejected()[0].reason, "ABI")) << second->rejected()[0].reason;
  EXPECT_TRUE(second->changes().added.empty());
}

TEST_F(Reload, LoaderErrorsNameTheRealReasonNotThePrivateCopy) {
  put("not_a_library.so", "x.so");
  auto reg = load();
  ASSERT_EQ(reg->rejected().size(), 1u);
  const std::string& why = reg->rejected()[0].reason;
  EXPECT_TRUE(contains(why, "cannot be loaded")) << why;
  EXPECT_FALSE(contains(why, "/proc/self/fd")) << why;
  EXPECT_FALSE(contains(why, "Bad file descriptor")) << why;
}

}  // namespace
}  // namespace apiproxy
