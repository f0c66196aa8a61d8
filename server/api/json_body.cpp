#include "server/api/json_body.hpp"

#include "core/common/json_parse.hpp"

namespace apiproxy {

JsonBody::JsonBody(const std::string& text) {
  if (auto why = parse_json(doc_, text)) fail("request body is not valid JSON: " + *why);
  else if (!doc_.IsObject()) fail("request body must be a JSON object");
}

void JsonBody::require(bool ok, const std::string& message) {
  if (!ok) fail(message);
}

void JsonBody::fail(const std::string& message) {
  if (!error_) error_ = message;
}

const rapidjson::Value* JsonBody::find(const char* name) const {
  if (!doc_.IsObject()) return nullptr;
  auto it = doc_.FindMember(name);
  if (it == doc_.MemberEnd() || it->value.IsNull()) return nullptr;
  return &it->value;
}

void JsonBody::string(const char* name, std::string& out, bool required) {
  const auto* v = find(name);
  if (!v) {
    if (required && !error_) fail(std::string("field '") + name + "' is required");
    return;
  }
  if (!v->IsString()) return fail(std::string("field '") + name + "' must be a string");
  out.assign(v->GetString(), v->GetStringLength());
  if (required && out.empty()) fail(std::string("field '") + name + "' must not be empty");
}

void JsonBody::string_list(const char* name, std::vector<std::string>& out) {
  const auto* v = find(name);
  if (!v) return;
  if (!v->IsArray()) return fail(std::string("field '") + name + "' must be an array of strings");
  for (const auto& e : v->GetArray()) {
    if (!e.IsString()) return fail(std::string("field '") + name + "' must be an array of strings");
    out.emplace_back(e.GetString(), e.GetStringLength());
  }
}

void JsonBody::boolean(const char* name, bool& out) {
  const auto* v = find(name);
  if (!v) return;
  if (!v->IsBool()) return fail(std::string("field '") + name + "' must be true or false");
  out = v->GetBool();
}

}  // namespace apiproxy
