// Error bodies. The control plane answers {"error":"not_found","message":..,"code":404};
// the OpenAI-compatible data plane (/v1/...) answers OpenAI's envelope
// {"error":{"message":..,"type":..,"param":..,"code":..}} so SDKs surface the message.
//
// Here in the HTTP layer because the layer itself answers errors (malformed requests,
// limits, unknown routes, exchanges dropped without an answer) in the shape that suits the
// path; server/api uses the same functions (server/api/errors.hpp forwards here).
#pragma once

#include <string>
#include <string_view>

#include <boost/beast/http/status.hpp>

namespace apiproxy {

std::string control_error_body(boost::beast::http::status status, std::string_view message,
                               std::string_view details_json = {});
std::string openai_error_body(std::string_view message, std::string_view type,
                              std::string_view code, std::string_view param = {});
// The right shape for `path`: OpenAI's under /v1/, the control plane's elsewhere.
std::string error_body_for(std::string_view path, boost::beast::http::status status,
                           std::string_view message);
// "not_found", "bad_request", ... for a status.
std::string error_name(boost::beast::http::status status);

}  // namespace apiproxy
