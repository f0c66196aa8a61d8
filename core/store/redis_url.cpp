#include "core/store/redis_url.hpp"

#include <cctype>

#include "core/config/values.hpp"

namespace apiproxy {

namespace {

std::string percent_decode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

Error bad(std::string_view why) { return Error{"REDIS_URL is invalid: " + std::string(why)}; }

}  // namespace

std::string RedisUrl::address() const {
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + port;
}

std::string RedisUrl::display() const {
  std::string auth;
  if (!user.empty() || !password.empty()) auth = user + (password.empty() ? "" : ":****") + "@";
  return "redis://" + auth + address() + "/" + std::to_string(db);
}

Result<RedisUrl> parse_redis_url(std::string_view text) {
  RedisUrl url;
  constexpr std::string_view scheme = "redis://";
  if (text.substr(0, 9) == "rediss://")
    return bad("TLS (rediss://) is not supported; use redis:// on a trusted network");
  if (text.substr(0, scheme.size()) != scheme)
    return bad("expected redis://[[user]:password@]host[:port][/db]");
  std::string_view rest = text.substr(scheme.size());
  auto slash = rest.find('/');
  std::string_view authority = rest.substr(0, slash);
  std::string_view path = slash == std::string_view::npos ? "" : rest.substr(slash + 1);
  if (auto q = path.find('?'); q != std::string_view::npos) path = path.substr(0, q);

  if (auto at = authority.rfind('@'); at != std::string_view::npos) {
    std::string_view userinfo = authority.substr(0, at);
    authority = authority.substr(at + 1);
    auto colon = userinfo.find(':');
    if (colon == std::string_view::npos) {
      url.password = percent_decode(userinfo);  // redis://secret@host is a password
    } else {
      url.user = percent_decode(userinfo.substr(0, colon));
      url.password = percent_decode(userinfo.substr(colon + 1));
    }
  }
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return bad("unterminated [ in the host");
    url.host = std::string(authority.substr(1, close - 1));
    if (close + 1 < authority.size()) {
      if (authority[close + 1] != ':') return bad("unexpected text after the host");
      port = authority.substr(close + 2);
    }
  } else {
    auto colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (url.host.find(':') != std::string::npos) return bad("an IPv6 host needs [brackets]");
    if (colon != std::string_view::npos) port = authority.substr(colon + 1);
  }
  if (url.host.empty()) return bad("no host");
  if (!port.empty()) {
    auto p = parse_integer(port);
    if (!p || *p < 1 || *p > 65535) return bad("port must be 1-65535");
    url.port = std::string(port);
  }
  if (!path.empty()) {
    auto db = parse_integer(path);
    if (!db || *db < 0 || *db > 1000000) return bad("database must be a number");
    url.db = static_cast<int>(*db);
  }
  return url;
}

}  // namespace apiproxy
