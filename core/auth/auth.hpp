// Client authentication: clients send base64(APIPROXY_AUTH_TOKEN) as a Bearer token or
// in X-API-Key. The token is compared in constant time. An optional admin token
// (APIPROXY_ADMIN_TOKEN), sent the same way, is needed for control-plane writes when set,
// and opens everything else too.
#pragma once

#include <string>
#include <string_view>

namespace apiproxy {

std::string base64_encode(std::string_view data);

enum class Access { None, Client, Admin };

class Authenticator {
 public:
  // An empty token disables authentication; an empty admin token leaves control-plane
  // writes to whoever passes `token`.
  explicit Authenticator(std::string token, std::string admin_token = "");

  bool enabled() const { return !expected_.empty(); }
  bool admin_enabled() const { return !admin_expected_.empty(); }
  // What the credentials open. `authorization` and `api_key_header` are the raw header
  // values (empty when absent).
  Access access(std::string_view authorization, std::string_view api_key_header) const;
  bool allows(std::string_view authorization, std::string_view api_key_header) const {
    return access(authorization, api_key_header) != Access::None;
  }
  // A control-plane write: the admin token when one is set, else what allows() lets in.
  bool allows_admin(Access a) const { return admin_enabled() ? a == Access::Admin : a != Access::None; }

 private:
  static std::string_view bearer(std::string_view authorization);  // "" unless a Bearer token
  static bool matches(std::string_view presented, const std::string& expected);
  std::string expected_;        // base64 of the token: what clients send
  std::string admin_expected_;  // base64 of the admin token
};

}  // namespace apiproxy
