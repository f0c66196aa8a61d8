// Fuzzes each bundled provider adapter's parse_models (plugins/providers/openai, azure,
// local) the way the gateway calls it: the plugin .so files of this (instrumented) build
// are loaded once by the host's own loader (core/plugins/plugin_registry.hpp), and every
// input is handed to each adapter through the C ABI by ProviderAdapter::parse_models.
//
// Besides the sanitizers, it checks what abi.h promises about the models that come back:
// capabilities from the known list, pricing a JSON object or empty, metadata JSON or
// empty, and (the adapters validate the body's UTF-8) no malformed UTF-8 in any field.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/encodings.h>
#include <rapidjson/stream.h>

#include "core/config/environment.hpp"
#include "core/plugins/plugin_registry.hpp"
#include "core/plugins/provider_adapter.hpp"
#include "core/telemetry/logging.hpp"

namespace {

using namespace apiproxy;

void require(bool ok) {
  if (!ok) __builtin_trap();  // a broken promise: libFuzzer saves the input
}

ProviderConfig provider(const std::string& adapter) {
  ProviderConfig p;
  p.id = "fuzz_" + adapter;
  p.name = "Fuzz " + adapter;
  p.base_url = "http://127.0.0.1:9";
  p.api_key = "fuzz-key";
  p.adapter = adapter;
  return p;
}

// The plugins stay loaded for the life of the process, as in the gateway.
struct Adapters {
  std::shared_ptr<const PluginRegistry> registry;
  std::vector<std::shared_ptr<const ProviderAdapter>> all;
};

const Adapters& adapters() {
  static const Adapters loaded = [] {
    telemetry::configure_logging("off", false);
    Adapters a;
    a.registry = PluginRegistry::load(APIPROXY_FUZZ_PLUGIN_DIR, Environment());
    for (const char* name : {"openai", "azure", "local"}) {
      auto lib = a.registry->provider_plugin(name);
      require(lib != nullptr);  // the build must have produced and accepted the plugin
      auto adapter = ProviderAdapter::create(lib, provider(name));
      require(adapter.ok());
      a.all.push_back(adapter.value());
    }
    return a;
  }();
  return loaded;
}

bool valid_utf8(std::string_view s) {
  rapidjson::StringStream in(s.data());
  const char* end = s.data() + s.size();
  while (in.src_ < end) {
    unsigned ignored;
    if (!rapidjson::UTF8<>::Decode(in, &ignored)) return false;
  }
  return in.src_ == end;  // a sequence cut off at the end reads past it
}

bool is_json(std::string_view text, bool must_be_object) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(text.data(), text.size());
  return !d.HasParseError() && (!must_be_object || d.IsObject());
}

void check_model(const Model& m) {
  require(!m.model_id.empty());
  for (const std::string* s : {&m.model_id, &m.family, &m.display_name})
    require(valid_utf8(*s));
  for (const auto& c : m.capabilities) {
    const auto& known = known_capabilities();
    require(std::find(known.begin(), known.end(), c) != known.end());
  }
  require(m.pricing_json.empty() || is_json(m.pricing_json, /*must_be_object=*/true));
  require(m.metadata_json.empty() || is_json(m.metadata_json, /*must_be_object=*/false));
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  adapters();  // load before fuzzing starts, so the plugins' coverage counters are registered
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view body(reinterpret_cast<const char*>(data), size);
  for (const auto& adapter : adapters().all) {
    auto models = adapter->parse_models(body);
    if (!models) continue;  // refusing a body is fine; what matters is how
    for (const auto& m : *models) check_model(m);
  }
  return 0;
}
