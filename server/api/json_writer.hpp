// A RapidJSON writer that produces a std::string: the one way handlers build JSON.
#pragma once

#include <string>
#include <string_view>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

namespace apiproxy {

class JsonOut {
 public:
  rapidjson::Writer<rapidjson::StringBuffer>& w() { return writer_; }
  JsonOut& key(std::string_view k) {
    writer_.Key(k.data(), static_cast<rapidjson::SizeType>(k.size()));
    return *this;
  }
  JsonOut& str(std::string_view v) {
    writer_.String(v.data(), static_cast<rapidjson::SizeType>(v.size()));
    return *this;
  }
  JsonOut& field(std::string_view k, std::string_view v) { return key(k).str(v); }
  JsonOut& field(std::string_view k, const char* v) { return key(k).str(v); }
  JsonOut& field(std::string_view k, const std::string& v) { return key(k).str(v); }
  JsonOut& field(std::string_view k, double v) {
    key(k);
    writer_.Double(v);
    return *this;
  }
  JsonOut& field(std::string_view k, int64_t v) {
    key(k);
    writer_.Int64(v);
    return *this;
  }
  JsonOut& field(std::string_view k, size_t v) {
    key(k);
    writer_.Uint64(v);
    return *this;
  }
  JsonOut& field(std::string_view k, bool v) {
    key(k);
    writer_.Bool(v);
    return *this;
  }
  template <class Strings>
  JsonOut& string_list(std::string_view k, const Strings& values) {
    key(k).w().StartArray();
    for (const auto& v : values) str(v);
    writer_.EndArray();
    return *this;
  }
  JsonOut& null_field(std::string_view k) {
    key(k);
    writer_.Null();
    return *this;
  }
  // Already-serialised JSON (e.g. a stored document).
  JsonOut& raw(std::string_view json, rapidjson::Type type = rapidjson::kObjectType) {
    writer_.RawValue(json.data(), json.size(), type);
    return *this;
  }
  std::string take() { return std::string(buf_.GetString(), buf_.GetSize()); }

 private:
  rapidjson::StringBuffer buf_;
  rapidjson::Writer<rapidjson::StringBuffer> writer_{buf_};
};

}  // namespace apiproxy
