#include "core/auth/auth.hpp"

#include <openssl/crypto.h>

#include "core/common/text.hpp"

namespace apiproxy {

std::string base64_encode(std::string_view data) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  out.reserve((data.size() + 2) / 3 * 4);
  size_t i = 0;
  for (; i + 2 < data.size(); i += 3) {
    uint32_t n = (uint8_t(data[i]) << 16) | (uint8_t(data[i + 1]) << 8) | uint8_t(data[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  if (size_t rest = data.size() - i; rest > 0) {
    uint32_t n = uint8_t(data[i]) << 16;
    if (rest == 2) n |= uint8_t(data[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += rest == 2 ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

namespace {


}  // namespace

Authenticator::Authenticator(std::string token, std::string admin_token)
    : expected_(token.empty() ? std::string() : base64_encode(token)),
      admin_expected_(admin_token.empty() ? std::string() : base64_encode(admin_token)) {}

std::string_view Authenticator::bearer(std::string_view authorization) {
  authorization = trim_space(authorization);
  if (authorization.size() > 7 && iequals(authorization.substr(0, 7), "bearer "))
    return trim_space(authorization.substr(7));
  return {};
}

Access Authenticator::access(std::string_view authorization, std::string_view api_key_header) const {
  Access best = enabled() ? Access::None : Access::Client;
  for (std::string_view token : {bearer(authorization), trim_space(api_key_header)}) {
    if (token.empty()) continue;
    if (admin_enabled() && matches(token, admin_expected_)) return Access::Admin;
    if (enabled() && matches(token, expected_)) best = Access::Client;
  }
  return best;
}

bool Authenticator::matches(std::string_view presented, const std::string& expected) {
  // Only equal lengths are compared, and always in full, so the time taken does not
  // reveal how much of the token matched.
  if (presented.size() != expected.size()) return false;
  return CRYPTO_memcmp(presented.data(), expected.data(), expected.size()) == 0;
}

}  // namespace apiproxy
