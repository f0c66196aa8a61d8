#include "core/plugins/plugin_registry.hpp"

#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <cstddef>

#include <boost/dll/runtime_symbol_info.hpp>
#include <boost/filesystem.hpp>
#include <spdlog/spdlog.h>

namespace apiproxy {

namespace fs = boost::filesystem;

namespace {

// The smallest structs a plugin of ABI major 1 may hand us: everything in minor 0.
constexpr size_t kMinDescriptorSize = offsetof(apx_plugin_descriptor, vtable) + sizeof(void*);
constexpr size_t kMinStrategyVtableSize = offsetof(apx_strategy_vtable, destroy) + sizeof(void*);
constexpr size_t kMinProviderVtableSize = offsetof(apx_provider_vtable, destroy) + sizeof(void*);

bool valid_plugin_name(std::string_view name) {
  return !name.empty() && name.size() <= 64 &&
         std::all_of(name.begin(), name.end(), [](unsigned char c) {
           return std::islower(c) || std::isdigit(c) || c == '_' || c == '-';
         });
}

std::string upper(std::string s) {
  for (auto& c : s) c = static_cast<char>(c == '-' ? '_' : std::toupper(static_cast<unsigned char>(c)));
  return s;
}

// Boost.DLL reports only "bad file descriptor" and clears dlerror(); the operator needs the
// loader's own reason (a missing symbol, a wrong architecture), so ask dlopen once more.
// The private copy's /proc/self/fd/N name means nothing to the reader: it is cut.
std::string load_error(const std::string& load_path) {
  void* h = ::dlopen(load_path.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (h) {
    ::dlclose(h);
    return "the dynamic loader refused it";
  }
  const char* err = ::dlerror();
  std::string text = err ? err : "the dynamic loader refused it";
  if (text.rfind(load_path + ": ", 0) == 0) text.erase(0, load_path.size() + 2);
  return text;
}

std::string version_text(uint32_t major, uint32_t minor) {
  return std::to_string(major) + "." + std::to_string(minor);
}

// Checks the vtable of `kind` for size and required functions; empty string when fine.
std::string vtable_problem(const apx_plugin_descriptor& d) {
  if (!d.vtable) return "the descriptor has no vtable";
  if (d.kind == APX_KIND_STRATEGY) {
    const auto* vt = static_cast<const apx_strategy_vtable*>(d.vtable);
    if (vt->struct_size < kMinStrategyVtableSize)
      return "strategy vtable is " + std::to_string(vt->struct_size) + " bytes, expected at least " +
             std::to_string(kMinStrategyVtableSize);
    if (!vt->create || !vt->score || !vt->destroy) return "strategy vtable has a null function";
    return {};
  }
  const auto* vt = static_cast<const apx_provider_vtable*>(d.vtable);
  if (vt->struct_size < kMinProviderVtableSize)
    return "provider vtable is " + std::to_string(vt->struct_size) + " bytes, expected at least " +
           std::to_string(kMinProviderVtableSize);
  if (!vt->create || !vt->build_request || !vt->parse_models || !vt->destroy)
    return "provider vtable has a null required function";
  return {};
}

}  // namespace

std::string PluginRegistry::resolve_dir(const std::string& configured) {
  if (!configured.empty()) return configured;
  boost::system::error_code ec;
  fs::path exe_dir = boost::dll::program_location(ec).parent_path();
  if (!ec) {
    for (const char* rel : {"../plugins", "../lib/apiproxy/plugins"}) {
      fs::path p = exe_dir / rel;
      if (fs::is_directory(p, ec)) return fs::canonical(p, ec).string();
    }
  }
  return APIPROXY_INSTALLED_PLUGIN_DIR;
}

std::shared_ptr<const PluginRegistry> PluginRegistry::load(const std::string& dir,
                                                           const Environment& env,
                                                           PluginCallPolicy policy,
                                                           const PluginRegistry* previous) {
  auto reg = std::make_shared<PluginRegistry>();
  reg->dir_ = dir;
  boost::system::error_code ec;
  if (!fs::is_directory(dir, ec)) {
    spdlog::error("plugin directory '{}' does not exist: no strategies or provider adapters "
                  "are available (set APIPROXY_PLUGIN_DIR)", dir);
    if (previous) reg->note_removed(*previous);
    return reg;
  }
  std::vector<std::string> files;
  for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec))
    if (it->path().extension() == ".so") files.push_back(it->path().string());
  std::sort(files.begin(), files.end());
  ReloadSummary& changes = reg->changes_;
  for (const auto& f : files) {
    const Loaded* old = previous ? previous->loaded_from(f) : nullptr;
    auto copy = PrivateCopy::of(f);
    std::string refused;
    if (!copy) {
      refused = copy.error();
    } else if (old && old->library().content_hash() == copy->content_hash()) {
      refused = reg->accept(f, *old);
      if (refused.empty()) {
        changes.unchanged.push_back(f);
        continue;
      }
    } else {
      refused = reg->load_file(f, std::move(copy.value()), env, policy);
      if (refused.empty()) {
        if (previous) (old ? changes.replaced : changes.added).push_back(f);
        continue;
      }
    }
    if (old && reg->accept(f, *old).empty()) {
      reg->reject(f, refused + "; the previous version keeps serving");
      changes.kept_previous.push_back(f);
    } else {
      reg->reject(f, refused);
    }
  }
  if (previous) reg->note_removed(*previous);
  spdlog::info("plugins from {}: {} strategies, {} provider adapters, {} refused", dir,
               reg->strategies_.size(), reg->providers_.size(), reg->rejected_.size());
  return reg;
}

const PluginLibrary& PluginRegistry::Loaded::library() const {
  return strategy ? strategy->library() : *provider;
}

const PluginRegistry::Loaded* PluginRegistry::loaded_from(const std::string& path) const {
  auto it = by_file_.find(path);
  return it == by_file_.end() ? nullptr : &it->second;
}

void PluginRegistry::note_removed(const PluginRegistry& previous) {
  for (const auto& [file, loaded] : previous.by_file_) {
    if (by_file_.count(file)) continue;
    changes_.removed.push_back(file);
    spdlog::info("plugin '{}' ({}) is gone: new requests no longer use it", loaded.library().info().name, file);
  }
}

void PluginRegistry::reject(const std::string& path, const std::string& reason) {
  spdlog::error("plugin {} refused: {}", path, reason);
  rejected_.push_back({path, reason});
}

std::string PluginRegistry::accept(const std::string& path, Loaded loaded) {
  const PluginInfo& info = loaded.library().info();
  if (loaded.strategy ? strategies_.count(info.name) : providers_.count(info.name))
    return std::string("a ") + (loaded.strategy ? "strategy" : "provider adapter") + " named '" +
           info.name + "' is already loaded";
  if (loaded.strategy)
    strategies_.emplace(info.name, loaded.strategy);
  else
    providers_.emplace(info.name, loaded.provider);
  by_file_.emplace(path, std::move(loaded));
  return {};
}

std::string PluginRegistry::load_file(const std::string& path, PrivateCopy copy,
                                      const Environment& env, const PluginCallPolicy& policy) {
  boost::dll::shared_library lib;
  boost::system::error_code ec;
  lib.load(copy.load_path(), boost::dll::load_mode::rtld_local | boost::dll::load_mode::rtld_now, ec);
  if (ec) return "cannot be loaded: " + load_error(copy.load_path());
  if (!lib.has(APX_ENTRY_SYMBOL))
    return std::string("has no ") + APX_ENTRY_SYMBOL + " symbol (not an APIProxy plugin)";
  const apx_plugin_descriptor* d = nullptr;
  try {
    d = lib.get<const apx_plugin_descriptor*()>(APX_ENTRY_SYMBOL)();
  } catch (...) {
    return std::string(APX_ENTRY_SYMBOL) + " threw an exception";
  }
  if (!d) return std::string(APX_ENTRY_SYMBOL) + " returned no descriptor";
  if (d->struct_size < kMinDescriptorSize)
    return "descriptor is " + std::to_string(d->struct_size) + " bytes, expected at least " +
           std::to_string(kMinDescriptorSize);
  if (d->abi_major != APX_ABI_MAJOR || d->abi_minor > APX_ABI_MINOR)
    return "built for plugin ABI " + version_text(d->abi_major, d->abi_minor) +
           ", this gateway supports ABI " + version_text(APX_ABI_MAJOR, 0) + " to " +
           version_text(APX_ABI_MAJOR, APX_ABI_MINOR);
  if (d->kind != APX_KIND_STRATEGY && d->kind != APX_KIND_PROVIDER)
    return "unknown plugin kind " + std::to_string(d->kind) + " (expected 1 = strategy or 2 = provider)";
  std::string name(to_view(d->name));
  if (!valid_plugin_name(name)) return "invalid plugin name '" + name + "' (expected [a-z0-9_-], 1-64 characters)";
  if (auto problem = vtable_problem(*d); !problem.empty()) return problem;

  bool strategy = d->kind == APX_KIND_STRATEGY;
  if (strategy ? strategies_.count(name) : providers_.count(name))
    return std::string("a ") + (strategy ? "strategy" : "provider adapter") + " named '" + name +
           "' is already loaded";

  PluginInfo info{name, std::string(to_view(d->version)), std::string(to_view(d->description)),
                  strategy ? "strategy" : "provider", path, d->abi_major, d->abi_minor};
  auto library = std::make_shared<const PluginLibrary>(std::move(copy), std::move(lib), d, info, policy);
  Loaded loaded;
  if (strategy) {
    auto config = env.with_prefix("APIPROXY_STRATEGY_" + upper(name) + "_");
    auto created = StrategyPlugin::create(std::move(library), config);
    if (!created) return "strategy '" + name + "' could not start: " + created.error();
    loaded.strategy = std::move(created.value());
  } else {
    loaded.provider = std::move(library);
  }
  accept(path, std::move(loaded));
  spdlog::info("loaded {} '{}' {} from {}", strategy ? "strategy" : "provider adapter", name, info.version, path);
  return {};
}

std::vector<PluginInfo> PluginRegistry::plugins() const {
  std::vector<PluginInfo> out;
  for (const auto& [name, s] : strategies_) out.push_back(s->info());
  for (const auto& [name, p] : providers_) out.push_back(p->info());
  return out;
}

std::shared_ptr<const StrategyPlugin> PluginRegistry::strategy(std::string_view name) const {
  auto it = strategies_.find(name);
  return it == strategies_.end() ? nullptr : it->second;
}

std::shared_ptr<const PluginLibrary> PluginRegistry::provider_plugin(std::string_view name) const {
  auto it = providers_.find(name);
  return it == providers_.end() ? nullptr : it->second;
}

std::vector<std::string> PluginRegistry::strategy_names() const {
  std::vector<std::string> out;
  for (const auto& [name, s] : strategies_) out.push_back(name);
  return out;
}

std::vector<std::string> PluginRegistry::provider_names() const {
  std::vector<std::string> out;
  for (const auto& [name, p] : providers_) out.push_back(name);
  return out;
}

}  // namespace apiproxy
