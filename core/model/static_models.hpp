// A provider's fixed model list (LLM_PROVIDER_{id}_STATIC_MODELS_JSON or _STATIC_MODELS_FILE):
// a JSON list whose entries are model ids or objects in the gateway's model shape (`id` or
// `model_id`, and optionally family, display_name, context_length, capabilities, pricing,
// metadata). Unusable entries are skipped with a warning naming the variable and the
// entry's position.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/model/types.hpp"

namespace apiproxy {

struct StaticModels {
  std::vector<Model> models;
  std::vector<std::string> warnings;
  bool valid = false;  // the text is a JSON list (possibly of nothing usable)
};

// `variable`: the full variable name, for the warnings.
StaticModels parse_static_models(std::string_view text, const std::string& provider_id, const std::string& variable);

// What a model list entry gets when its source leaves a field empty: display name and
// family = the id, capability "chat", and the content hash.
void fill_model_defaults(Model& m);

}  // namespace apiproxy
