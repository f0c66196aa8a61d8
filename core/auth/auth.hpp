// Client authentication: clients send base64(APIPROXY_AUTH_TOKEN) as a Bearer token or
// in X-API-Key. The token is compared in constant time.
#pragma once

#include <string>
#include <string_view>

namespace apiproxy {

std::string base64_encode(std::string_view data);

class Authenticator {
 public:
  // An empty token disables authentication.
  explicit Authenticator(std::string token);

  bool enabled() const { return !expected_.empty(); }
  // `authorization` and `api_key_header` are the raw header values (empty when absent).
  bool allows(std::string_view authorization, std::string_view api_key_header) const;

 private:
  bool matches(std::string_view presented) const;
  std::string expected_;  // base64 of the token: what clients send
};

}  // namespace apiproxy
