// JSON for the types in types.hpp. Decoders validate and name the offending field.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/common/result.hpp"
#include "core/model/types.hpp"

namespace apiproxy {

using JsonWriter = rapidjson::Writer<rapidjson::StringBuffer>;

void write_json(JsonWriter& w, const PhysicalModel& m);
void write_json(JsonWriter& w, const LogicalModel& m);
void write_json(JsonWriter& w, const Model& m);
void write_json(JsonWriter& w, const HealthStatus& h);
void write_json(JsonWriter& w, const Session& s);

template <class T>
std::string to_json(const T& value) {
  rapidjson::StringBuffer buf;
  JsonWriter w(buf);
  write_json(w, value);
  return std::string(buf.GetString(), buf.GetSize());
}
std::string to_json(const std::vector<Model>& models);

Result<LogicalModel> logical_model_from_json(std::string_view text);
Result<LogicalModel> logical_model_from_json(const rapidjson::Value& v);
Result<std::vector<Model>> models_from_json(std::string_view text);
// One entry of a model list: our shape, with `id` accepted for `model_id`.
Result<Model> model_from_json(const rapidjson::Value& entry);
Result<Session> session_from_json(std::string_view text);

// A stable content hash (hex) for change detection: FNV-1a 64.
std::string content_hash(std::string_view text);

}  // namespace apiproxy
