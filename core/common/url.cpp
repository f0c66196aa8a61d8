#include "core/common/url.hpp"

#include <algorithm>

#include <boost/asio/ip/address.hpp>
#include <cctype>

namespace apiproxy {

namespace {

bool valid_port(std::string_view p) {
  if (p.empty() || p.size() > 5) return false;
  if (!std::all_of(p.begin(), p.end(), [](unsigned char c) { return std::isdigit(c); }))
    return false;
  int n = std::stoi(std::string(p));
  return n > 0 && n <= 65535;
}

std::string lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

std::string host_header_of(const Url& url) {
  std::string h = url.host.find(':') != std::string::npos ? "[" + url.host + "]" : url.host;
  bool default_port = (url.tls() && url.port == "443") || (!url.tls() && url.port == "80");
  return default_port ? h : h + ":" + url.port;
}

}  // namespace

std::optional<Url> parse_url(std::string_view text) {
  Url url;
  auto sep = text.find("://");
  if (sep == std::string_view::npos) return std::nullopt;
  url.scheme = lower(text.substr(0, sep));
  if (url.scheme != "http" && url.scheme != "https") return std::nullopt;
  std::string_view rest = text.substr(sep + 3);
  auto path_start = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, path_start);
  std::string_view target =
      path_start == std::string_view::npos ? std::string_view() : rest.substr(path_start);
  if (authority.find('@') != std::string_view::npos) return std::nullopt;  // no userinfo
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    url.host = std::string(authority.substr(1, close - 1));
    std::string_view after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':') return std::nullopt;
      port = after.substr(1);
      if (!valid_port(port)) return std::nullopt;
    }
  } else {
    auto colon = authority.rfind(':');
    url.host = std::string(authority.substr(0, colon));
    if (url.host.find(':') != std::string::npos) return std::nullopt;  // IPv6 needs [brackets]
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (!valid_port(port)) return std::nullopt;
    }
  }
  if (url.host.empty()) return std::nullopt;
  url.host = lower(url.host);
  url.port = port.empty() ? (url.tls() ? "443" : "80") : std::string(port);
  auto hash = target.find('#');
  if (hash != std::string_view::npos) target = target.substr(0, hash);
  url.target = target.empty() ? "/" : std::string(target);
  if (url.target.front() == '?') url.target = "/" + url.target;
  url.host_header_ = host_header_of(url);
  url.origin_ = url.scheme + "://" + url.host_header_;
  return url;
}

bool is_loopback_host(std::string_view host) {
  std::string h = lower(host);
  if (h == "localhost" || (h.size() > 10 && h.substr(h.size() - 10) == ".localhost")) return true;
  boost::system::error_code ec;
  auto addr = boost::asio::ip::make_address(h, ec);  // names like 127.example.com are not addresses
  return !ec && addr.is_loopback();
}

}  // namespace apiproxy
