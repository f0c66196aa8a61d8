#include "core/model/static_models.hpp"

#include <rapidjson/document.h>

#include "core/common/identifiers.hpp"
#include "core/common/json_parse.hpp"
#include "core/model/json_codec.hpp"

namespace apiproxy {

namespace {

constexpr size_t kMaxStaticModels = 10000;

}  // namespace

void fill_model_defaults(Model& m) {
  if (m.display_name.empty()) m.display_name = m.model_id;
  if (m.family.empty()) m.family = m.model_id;
  if (m.capabilities.empty()) m.capabilities.push_back("chat");
  m.meta_hash = content_hash(m.metadata_json.empty() ? m.model_id : m.metadata_json);
}

StaticModels parse_static_models(std::string_view text, const std::string& provider_id, const std::string& variable) {
  StaticModels out;
  rapidjson::Document doc;
  if (parse_json(doc, text) || !doc.IsArray()) {
    out.warnings.push_back(variable + " is not a JSON list (expected [\"model-id\", {\"id\": \"...\"}, ...]); ignored");
    return out;
  }
  out.valid = true;
  size_t n = 0;
  for (const auto& entry : doc.GetArray()) {
    ++n;
    auto skip = [&](const std::string& why) {
      out.warnings.push_back(variable + " entry " + std::to_string(n) + " skipped: " + why);
    };
    Model m;
    if (entry.IsString()) {
      m.model_id.assign(entry.GetString(), entry.GetStringLength());
    } else if (entry.IsObject()) {
      auto parsed = model_from_json(entry);
      if (!parsed) {
        skip(parsed.error());
        continue;
      }
      m = std::move(parsed.value());
    } else {
      skip("expected a model id or an object with \"id\"");
      continue;
    }
    if (!is_valid_model_name(m.model_id)) {
      skip("the id must be 1 to " + std::to_string(kMaxModelNameBytes) + " printable ASCII characters");
      continue;
    }
    if (out.models.size() >= kMaxStaticModels) {
      skip("at most " + std::to_string(kMaxStaticModels) + " models per provider");
      continue;
    }
    m.provider_id = provider_id;
    fill_model_defaults(m);
    out.models.push_back(std::move(m));
  }
  return out;
}

}  // namespace apiproxy
