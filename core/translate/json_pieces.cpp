#include "core/translate/json_pieces.hpp"

namespace apiproxy::translate::json_pieces {

const rapidjson::Value* any_member(const rapidjson::Value& object, const char* name) {
  if (!object.IsObject()) return nullptr;
  auto it = object.FindMember(name);
  return it == object.MemberEnd() ? nullptr : &it->value;
}

const rapidjson::Value* given_member(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* v = any_member(object, name);
  return v && !v->IsNull() ? v : nullptr;
}

const rapidjson::Value* given_string(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* v = any_member(object, name);
  return v && v->IsString() ? v : nullptr;
}

std::string_view string_or_empty(const rapidjson::Value& object, const char* name) {
  const rapidjson::Value* v = given_string(object, name);
  return v ? text_of(*v) : std::string_view();
}

std::string_view text_of(const rapidjson::Value& string) { return {string.GetString(), string.GetStringLength()}; }

void put_string(JsonWriter& w, std::string_view s) { w.String(s.data(), static_cast<rapidjson::SizeType>(s.size())); }

void write_text_part(JsonWriter& w, std::string_view text) {
  w.StartObject();
  w.Key("type");
  w.String("text");
  w.Key("text");
  put_string(w, text);
  w.EndObject();
}

std::string serialized(const rapidjson::Value& value) {
  rapidjson::StringBuffer buffer;
  JsonWriter w(buffer);
  value.Accept(w);
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace apiproxy::translate::json_pieces
