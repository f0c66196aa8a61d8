// Absolute http(s) URLs as the upstream client needs them.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace apiproxy {

struct Url {
  std::string scheme;  // "http" or "https"
  std::string host;    // without brackets for IPv6 literals
  std::string port;    // always set: explicit, or 80 / 443
  std::string target;  // path + query, at least "/"

  bool tls() const { return scheme == "https"; }
  // "host:port" as the Host header wants it (port omitted when default).
  const std::string& host_header() const { return host_header_; }
  // scheme://host:port — the key of a connection pool.
  const std::string& origin() const { return origin_; }

 private:
  // Both made once by parse_url: every upstream request needs them.
  friend std::optional<Url> parse_url(std::string_view text);
  std::string host_header_;
  std::string origin_;
};

// nullopt unless `text` is http:// or https:// with a host and a valid port.
std::optional<Url> parse_url(std::string_view text);

// True for localhost, 127.0.0.0/8 and ::1.
bool is_loopback_host(std::string_view host);

}  // namespace apiproxy
