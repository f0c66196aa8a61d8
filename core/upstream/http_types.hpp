// Requests the gateway sends upstream and what comes back, independent of transport.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace apiproxy {

using Headers = std::vector<std::pair<std::string, std::string>>;

struct UpstreamRequest {
  std::string method = "GET";
  std::string url;  // absolute http(s) URL
  Headers headers;
  std::string body;
};

struct UpstreamResponse {
  int status = 0;
  Headers headers;
  std::string body;
  std::chrono::milliseconds elapsed{0};

  // First header with this name (case-insensitive), or empty.
  std::string header(std::string_view name) const;
};

}  // namespace apiproxy
