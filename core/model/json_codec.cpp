#include "core/model/json_codec.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>

#include "core/common/identifiers.hpp"
#include "core/common/json_parse.hpp"

namespace apiproxy {

namespace {

void write_string(JsonWriter& w, const char* key, const std::string& value) {
  w.Key(key);
  w.String(value.data(), static_cast<rapidjson::SizeType>(value.size()));
}

void write_strings(JsonWriter& w, const char* key, const std::vector<std::string>& values) {
  w.Key(key);
  w.StartArray();
  for (const auto& v : values) w.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
  w.EndArray();
}

// Raw JSON text is written as-is only when it parses; otherwise as null.
void write_raw(JsonWriter& w, const char* key, const std::string& json) {
  w.Key(key);
  rapidjson::Document d;
  if (json.empty() || parse_json(d, json)) {
    w.Null();
    return;
  }
  w.RawValue(json.data(), json.size(), d.GetType());
}

// Reads the fields of one JSON object, remembering the first problem with its path.
class FieldReader {
 public:
  FieldReader(const rapidjson::Value& obj, std::string path) : obj_(obj), path_(std::move(path)) {}

  const rapidjson::Value* find(const char* name) const {
    auto it = obj_.FindMember(name);
    if (it == obj_.MemberEnd() || it->value.IsNull()) return nullptr;
    return &it->value;
  }
  void string(const char* name, std::string& out, bool required) {
    const auto* v = find(name);
    if (!v) {
      if (required) fail(name, "is required");
      return;
    }
    if (!v->IsString()) return fail(name, "must be a string");
    out.assign(v->GetString(), v->GetStringLength());
    if (required && out.empty()) fail(name, "must not be empty");
  }
  // An id that names a model or provider: it reaches headers, logs, metric labels and keys.
  void name(const char* name, std::string& out) {
    string(name, out, true);
    if (!out.empty() && !is_valid_model_name(out))
      fail(name, "must be 1 to " + std::to_string(kMaxModelNameBytes) + " printable ASCII characters");
  }
  void optional_string(const char* name, std::optional<std::string>& out) {
    const auto* v = find(name);
    if (!v) return;
    if (!v->IsString()) return fail(name, "must be a string");
    out = std::string(v->GetString(), v->GetStringLength());
  }
  void number(const char* name, double& out, bool positive) {
    const auto* v = find(name);
    if (!v) return;
    if (!v->IsNumber()) return fail(name, "must be a number");
    out = v->GetDouble();
    if (!std::isfinite(out) || out < 0 || (positive && out == 0))
      fail(name, positive ? "must be a number > 0" : "must be a number >= 0");
  }
  void optional_number(const char* name, std::optional<double>& out) {
    if (!find(name)) return;
    double d = 0;
    number(name, d, true);
    out = d;
  }
  void integer(const char* name, int64_t& out) {
    const auto* v = find(name);
    if (!v) return;
    if (!v->IsNumber()) return fail(name, "must be a number");
    if (v->IsInt64()) {
      out = v->GetInt64();
      return;
    }
    double d = v->GetDouble();  // converting a double outside int64's range is undefined
    if (!(d >= -9.2e18 && d <= 9.2e18)) return fail(name, "must be a whole number within 64 bits");
    out = static_cast<int64_t>(d);
  }
  void boolean(const char* name, bool& out) {
    const auto* v = find(name);
    if (!v) return;
    if (!v->IsBool()) return fail(name, "must be true or false");
    out = v->GetBool();
  }
  void strings(const char* name, std::vector<std::string>& out) {
    const auto* v = find(name);
    if (!v) return;
    if (!v->IsArray()) return fail(name, "must be an array of strings");
    for (const auto& e : v->GetArray()) {
      if (!e.IsString()) return fail(name, "must be an array of strings");
      out.emplace_back(e.GetString(), e.GetStringLength());
    }
  }
  void fail(const std::string& name, const std::string& what) {
    if (!error_) error_ = field(name) + " " + what;
  }
  std::string field(const std::string& name) const {
    return path_.empty() ? name : path_ + "." + name;
  }
  const std::optional<std::string>& error() const { return error_; }

 private:
  const rapidjson::Value& obj_;
  std::string path_;
  std::optional<std::string> error_;
};

Result<PhysicalModel> physical_model_from_json(const rapidjson::Value& v, const std::string& path) {
  if (!v.IsObject()) return Error{path + " must be an object"};
  PhysicalModel m;
  FieldReader r(v, path);
  r.name("provider_id", m.provider_id);
  r.name("model_id", m.model_id);
  r.string("endpoint", m.endpoint, false);
  r.number("base_weight", m.base_weight, true);
  r.optional_string("region", m.region);
  r.optional_number("max_qps", m.max_qps);
  r.optional_string("meta_hash", m.meta_hash);
  r.integer("updated_at", m.updated_at);
  if (r.error()) return Error{*r.error()};
  return m;
}

Result<rapidjson::Document> parse(std::string_view text) {
  rapidjson::Document d;
  if (auto why = parse_json(d, text)) return Error{*why};
  return d;
}

}  // namespace

void write_json(JsonWriter& w, const PhysicalModel& m) {
  w.StartObject();
  write_string(w, "provider_id", m.provider_id);
  write_string(w, "model_id", m.model_id);
  write_string(w, "endpoint", m.endpoint);
  w.Key("base_weight");
  w.Double(m.base_weight);
  w.Key("region");
  m.region ? (void)w.String(m.region->data(), static_cast<rapidjson::SizeType>(m.region->size())) : (void)w.Null();
  w.Key("max_qps");
  m.max_qps ? (void)w.Double(*m.max_qps) : (void)w.Null();
  w.Key("meta_hash");
  m.meta_hash ? (void)w.String(m.meta_hash->data(), static_cast<rapidjson::SizeType>(m.meta_hash->size())) : (void)w.Null();
  w.Key("updated_at");
  w.Int64(m.updated_at);
  w.EndObject();
}

void write_json(JsonWriter& w, const LogicalModel& m) {
  w.StartObject();
  write_string(w, "logical_id", m.logical_id);
  write_string(w, "display_name", m.display_name);
  write_string(w, "description", m.description);
  write_strings(w, "capabilities", m.capabilities);
  w.Key("upstreams");
  w.StartArray();
  for (const auto& u : m.upstreams) write_json(w, u);
  w.EndArray();
  w.Key("enabled");
  w.Bool(m.enabled);
  w.Key("updated_at");
  w.Int64(m.updated_at);
  if (m.strategy) write_string(w, "strategy", *m.strategy);
  w.EndObject();
}

void write_json(JsonWriter& w, const Model& m) {
  w.StartObject();
  write_string(w, "model_id", m.model_id);
  write_string(w, "provider_id", m.provider_id);
  write_string(w, "family", m.family);
  write_string(w, "display_name", m.display_name);
  w.Key("context_length");
  m.context_length ? (void)w.Uint64(m.context_length) : (void)w.Null();
  write_strings(w, "capabilities", m.capabilities);
  write_raw(w, "pricing", m.pricing_json);
  write_raw(w, "metadata", m.metadata_json);
  write_string(w, "meta_hash", m.meta_hash);
  w.EndObject();
}

void write_json(JsonWriter& w, const HealthStatus& h) {
  w.StartObject();
  write_string(w, "provider_id", h.provider_id);
  write_string(w, "status", h.status);
  w.Key("timestamp");
  w.Int64(h.timestamp);
  w.Key("response_time_ms");
  w.Double(std::round(h.response_time_ms * 100) / 100);
  w.Key("error_message");
  h.error_message ? (void)w.String(h.error_message->data(), static_cast<rapidjson::SizeType>(h.error_message->size())) : (void)w.Null();
  w.Key("last_successful_check");
  h.last_successful_check ? (void)w.Int64(*h.last_successful_check) : (void)w.Null();
  w.EndObject();
}

void write_json(JsonWriter& w, const Session& s) {
  w.StartObject();
  write_string(w, "conversation_id", s.conversation_id);
  write_string(w, "logical_model", s.logical_model);
  write_string(w, "provider_id", s.provider_id);
  write_string(w, "model_id", s.model_id);
  w.Key("created_at");
  w.Int64(s.created_at);
  w.Key("last_accessed");
  w.Int64(s.last_accessed);
  w.Key("message_count");
  w.Int64(s.message_count);
  w.EndObject();
}

std::string to_json(const std::vector<Model>& models) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  w.StartArray();
  for (const auto& m : models) write_json(w, m);
  w.EndArray();
  return std::string(buf.GetString(), buf.GetSize());
}

Result<LogicalModel> logical_model_from_json(const rapidjson::Value& v) {
  if (!v.IsObject()) return Error{"the logical model must be a JSON object"};
  LogicalModel m;
  FieldReader r(v, "");
  r.name("logical_id", m.logical_id);
  r.string("display_name", m.display_name, false);
  r.string("description", m.description, false);
  r.strings("capabilities", m.capabilities);
  r.boolean("enabled", m.enabled);
  r.integer("updated_at", m.updated_at);
  r.optional_string("strategy", m.strategy);
  if (r.error()) return Error{*r.error()};
  for (const auto& c : m.capabilities) {
    const auto& known = known_capabilities();
    if (std::find(known.begin(), known.end(), c) == known.end())
      return Error{"capabilities contains unknown '" + c +
                   "' (known: chat, completion, embedding, vision, audio, function_calling)"};
  }
  const auto* ups = r.find("upstreams");
  if (!ups) return Error{"upstreams is required"};
  if (!ups->IsArray()) return Error{"upstreams must be an array"};
  for (rapidjson::SizeType i = 0; i < ups->Size(); ++i) {
    auto u = physical_model_from_json((*ups)[i], "upstreams[" + std::to_string(i) + "]");
    if (!u) return Error{u.error()};
    m.upstreams.push_back(std::move(u.value()));
  }
  if (m.display_name.empty()) m.display_name = m.logical_id;
  return m;
}

Result<LogicalModel> logical_model_from_json(std::string_view text) {
  auto d = parse(text);
  if (!d) return Error{d.error()};
  return logical_model_from_json(d.value());
}

Result<std::vector<Model>> models_from_json(std::string_view text) {
  auto d = parse(text);
  if (!d) return Error{d.error()};
  if (!d->IsArray()) return Error{"a model list must be a JSON array"};
  std::vector<Model> out;
  for (const auto& e : d->GetArray()) {
    if (!e.IsObject()) continue;
    auto m = model_from_json(e);
    if (!m) return Error{m.error()};
    out.push_back(std::move(m.value()));
  }
  return out;
}

Result<Model> model_from_json(const rapidjson::Value& e) {
  if (!e.IsObject()) return Error{"a model must be a JSON object"};
  Model m;
  FieldReader r(e, "");
  // `id` is the OpenAI list's name for it, accepted where `model_id` is absent.
  r.string(e.HasMember("model_id") || !e.HasMember("id") ? "model_id" : "id", m.model_id, true);
  r.string("provider_id", m.provider_id, false);
  r.string("family", m.family, false);
  r.string("display_name", m.display_name, false);
  int64_t ctx = 0;
  r.integer("context_length", ctx);
  m.context_length = ctx > 0 ? static_cast<uint64_t>(ctx) : 0;
  r.strings("capabilities", m.capabilities);
  r.string("meta_hash", m.meta_hash, false);
  if (r.error()) return Error{*r.error()};
  auto raw = [](const rapidjson::Value* v) {
    if (!v) return std::string();
    rapidjson::StringBuffer buf;
    JsonWriter w(buf);
    v->Accept(w);
    return std::string(buf.GetString(), buf.GetSize());
  };
  m.pricing_json = raw(r.find("pricing"));
  m.metadata_json = raw(r.find("metadata"));
  return m;
}

Result<Session> session_from_json(std::string_view text) {
  auto d = parse(text);
  if (!d) return Error{d.error()};
  if (!d->IsObject()) return Error{"a session must be a JSON object"};
  Session s;
  FieldReader r(d.value(), "");
  r.string("conversation_id", s.conversation_id, true);
  r.string("logical_model", s.logical_model, true);
  r.string("provider_id", s.provider_id, true);
  r.string("model_id", s.model_id, true);
  r.integer("created_at", s.created_at);
  r.integer("last_accessed", s.last_accessed);
  r.integer("message_count", s.message_count);
  if (r.error()) return Error{*r.error()};
  return s;
}

std::string content_hash(std::string_view text) {
  uint64_t h = 14695981039346656037ULL;
  for (unsigned char c : text) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

}  // namespace apiproxy
