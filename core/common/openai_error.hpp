// OpenAI's error envelope, {"error":{"message":..,"type":..,"param":..,"code":..}}: what the
// official SDKs read an error from. Written by the HTTP layer for the gateway's own refusals on
// /v1/... and by the Responses translation for an upstream's errors.
#pragma once

#include <string>
#include <string_view>

namespace apiproxy {

// The envelope's JSON text; `code` and `param` are null when empty. Bytes that are not UTF-8
// are replaced (a message may quote what a client or an upstream sent).
std::string openai_error_envelope(std::string_view message, std::string_view type, std::string_view code = {},
                                  std::string_view param = {});

}  // namespace apiproxy
