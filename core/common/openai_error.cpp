#include "core/common/openai_error.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/common/utf8.hpp"

namespace apiproxy {

namespace openai_error {

using Writer = rapidjson::Writer<rapidjson::StringBuffer>;

// RapidJSON's writer copies bytes as they are; the envelope must be UTF-8 for the client.
void put_utf8(Writer& w, std::string_view s) {
  std::string text = to_valid_utf8(s);
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

void put_utf8_or_null(Writer& w, std::string_view s) {
  if (s.empty()) w.Null();
  else put_utf8(w, s);
}

}  // namespace openai_error

std::string openai_error_envelope(std::string_view message, std::string_view type, std::string_view code,
                                  std::string_view param) {
  using namespace openai_error;
  rapidjson::StringBuffer buffer;
  Writer w(buffer);
  w.StartObject();
  w.Key("error");
  w.StartObject();
  w.Key("message");
  put_utf8(w, message);
  w.Key("type");
  put_utf8(w, type);
  w.Key("param");
  put_utf8_or_null(w, param);
  w.Key("code");
  put_utf8_or_null(w, code);
  w.EndObject();
  w.EndObject();
  return std::string(buffer.GetString(), buffer.GetSize());
}

}  // namespace apiproxy
