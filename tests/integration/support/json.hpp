// RapidJSON conveniences for assertions on response bodies.
#pragma once

#include <stdexcept>
#include <string>
#include <vector>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace it {

// Parses `text`; throws (failing the test with the text) when it is not JSON.
inline rapidjson::Document parse_json(const std::string& text) {
  rapidjson::Document d;
  d.Parse(text.c_str(), text.size());
  if (d.HasParseError())
    throw std::runtime_error(std::string("not JSON (") + rapidjson::GetParseError_En(d.GetParseError()) +
                             "): " + text.substr(0, 2000));
  return d;
}

// v[key] as a string; "" when v is not an object, or the member is absent or not a string.
inline std::string str(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject()) return {};
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsString()) return {};
  return {it->value.GetString(), it->value.GetStringLength()};
}

// v[key] as a number; `fallback` when absent or not a number.
inline double num(const rapidjson::Value& v, const char* key, double fallback = -1) {
  if (!v.IsObject()) return fallback;
  auto it = v.FindMember(key);
  if (it == v.MemberEnd() || !it->value.IsNumber()) return fallback;
  return it->value.GetDouble();
}

inline bool is_null(const rapidjson::Value& v, const char* key) {
  auto it = v.FindMember(key);
  return it != v.MemberEnd() && it->value.IsNull();
}

// The array member `key` (throws when absent or not an array).
inline const rapidjson::Value& arr(const rapidjson::Value& v, const char* key) {
  if (!v.IsObject() || !v.HasMember(key) || !v[key].IsArray())
    throw std::runtime_error(std::string("expected an array member '") + key + "'");
  return v[key];
}

// The strings of the array member `key` of `v`, in order (none when it is absent).
inline std::vector<std::string> strings(const rapidjson::Value& v, const char* key) {
  std::vector<std::string> out;
  if (!v.IsObject() || !v.HasMember(key) || !v[key].IsArray()) return out;
  for (const auto& s : v[key].GetArray())
    if (s.IsString()) out.emplace_back(s.GetString(), s.GetStringLength());
  return out;
}

// The `field` of every object in `array`, in order.
inline std::vector<std::string> pluck(const rapidjson::Value& array, const char* field) {
  std::vector<std::string> out;
  if (!array.IsArray()) return out;
  for (const auto& e : array.GetArray()) out.push_back(str(e, field));
  return out;
}

inline std::string to_string(const rapidjson::Value& v) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  v.Accept(w);
  return {buf.GetString(), buf.GetSize()};
}

}  // namespace it
