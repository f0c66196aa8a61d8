#include "server/http/error_body.hpp"

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/common/openai_error.hpp"
#include "core/common/utf8.hpp"
#include "core/translate/anthropic_messages.hpp"

namespace apiproxy {

namespace http = boost::beast::http;

namespace {

void put(rapidjson::Writer<rapidjson::StringBuffer>& w, std::string_view s) {
  std::string text = to_valid_utf8(s);  // messages may quote what a client sent
  w.String(text.data(), static_cast<rapidjson::SizeType>(text.size()));
}

std::string openai_type(http::status status) {
  switch (status) {
    case http::status::unauthorized: return "authentication_error";
    case http::status::forbidden: return "permission_error";
    case http::status::not_found: return "invalid_request_error";
    case http::status::too_many_requests: return "rate_limit_error";
    default: return static_cast<int>(status) >= 500 ? "api_error" : "invalid_request_error";
  }
}

}  // namespace

std::string error_name(http::status status) {
  switch (status) {
    case http::status::bad_request: return "bad_request";
    case http::status::unauthorized: return "unauthorized";
    case http::status::forbidden: return "forbidden";
    case http::status::not_found: return "not_found";
    case http::status::method_not_allowed: return "method_not_allowed";
    case http::status::payload_too_large: return "payload_too_large";
    case http::status::request_header_fields_too_large: return "headers_too_large";
    case http::status::too_many_requests: return "rate_limited";
    case http::status::bad_gateway: return "upstream_error";
    case http::status::service_unavailable: return "service_unavailable";
    case http::status::gateway_timeout: return "upstream_timeout";
    default: return static_cast<int>(status) >= 500 ? "internal_error" : "error";
  }
}

std::string control_error_body(http::status status, std::string_view message,
                               std::string_view details_json) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.StartObject();
  w.Key("error");
  put(w, error_name(status));
  w.Key("message");
  put(w, message);
  w.Key("code");
  w.Int(static_cast<int>(status));
  if (!details_json.empty()) {
    w.Key("details");
    w.RawValue(details_json.data(), details_json.size(), rapidjson::kObjectType);
  }
  w.EndObject();
  return buf.GetString();
}

std::string openai_error_body(std::string_view message, std::string_view type,
                              std::string_view code, std::string_view param) {
  return openai_error_envelope(message, type, code, param);
}

std::string error_body_for(std::string_view path, http::status status, std::string_view message) {
  // Anthropic's SDKs read their own error shape.
  if (path == "/v1/messages") return translate::anthropic_error_body(static_cast<int>(status), to_valid_utf8(message));
  if (path.substr(0, 4) == "/v1/" || path == "/v1")
    return openai_error_body(message, openai_type(status), error_name(status));
  return control_error_body(status, message);
}

}  // namespace apiproxy
