// Gateway-wide settings (APIPROXY_*, REDIS_URL, MODELS_*, LOG_LEVEL, LOG_FORMAT). A value that is set
// but unusable is an error naming the variable: the gateway refuses to start on it rather
// than silently running with something the operator did not ask for.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/common/result.hpp"
#include "core/config/environment.hpp"

namespace apiproxy {

struct Settings {
  // HTTP server
  // Unset: 127.0.0.1 when no APIPROXY_AUTH_TOKEN is set (an open gateway is reachable
  // only from this machine), 0.0.0.0 when one is.
  std::string host;
  uint16_t port = 8000;
  unsigned workers = 0;  // 0: one per core
  size_t max_body_bytes = 10 * 1024 * 1024;
  std::chrono::seconds header_timeout{30};
  std::chrono::seconds idle_timeout{75};
  size_t max_header_bytes = 64 * 1024;  // also bounds chunk extensions and trailers
  size_t max_connections = 10000;       // client connections, whole process

  // Security
  std::string auth_token;   // empty: authentication disabled (warned at start-up)
  std::string admin_token;  // empty: control-plane writes need only auth_token
  // Names API keys in the store (HMAC-SHA256 of each key under it); the same on every
  // instance. The original gateway's default, so that its stored preferences still match.
  std::string secret_key = std::string(kDefaultSecretKey);
  static constexpr std::string_view kDefaultSecretKey = "please-change-me";

  // State
  std::string redis_url;  // empty or memory:// : in-process store
  std::string redis_password;  // secret; REDIS_PASSWORD, used when REDIS_URL carries none
  std::chrono::milliseconds redis_timeout{1000};
  std::chrono::seconds models_cache_ttl{300};
  std::chrono::seconds models_refresh{300};
  std::chrono::seconds catalog_refresh{2};  // how fast hand-written logical models appear

  // Upstreams
  std::chrono::milliseconds upstream_connect_timeout{5000};
  std::chrono::milliseconds upstream_request_timeout{60000};
  std::chrono::milliseconds health_timeout{5000};
  // Data plane: until the response head. A non-streamed answer's head comes only when the
  // whole answer is ready, so unless the variable is set its wait is the total timeout.
  std::chrono::milliseconds upstream_first_byte_timeout{60000};
  bool upstream_first_byte_timeout_set = false;
  std::chrono::milliseconds upstream_idle_timeout{60000};        // between stream pieces
  std::chrono::milliseconds upstream_total_timeout{600000};      // one attempt, head to last byte
  size_t upstream_max_connections = 4096;  // per origin and worker thread
  unsigned max_attempts = 3;
  bool tls_verify = true;

  // Routing
  std::string default_strategy = "balanced";
  std::chrono::seconds stickiness_ttl{7200};
  std::chrono::milliseconds metrics_flush{1000};
  std::string instance_id;  // empty: derived from host name and process id

  // Plugins and logging
  std::string plugin_dir;  // empty: next to the binary, then the install location
  std::string log_level = "info";
  std::string log_format = "text";  // text | json (one JSON object per line)
  // A plugin call slower than this is logged and counted as slow.
  std::chrono::microseconds plugin_slow_call{5000};  // wall time

  // Operations
  std::chrono::seconds shutdown_grace{30};  // SIGTERM: how long in-flight requests may finish

  bool uses_redis() const { return !redis_url.empty() && redis_url != "memory://"; }
};

Result<Settings> load_settings(const Environment& env);

}  // namespace apiproxy
