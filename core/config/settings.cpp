#include "core/config/settings.hpp"

#include <cctype>
#include <optional>

#include "core/config/values.hpp"

namespace apiproxy {

namespace {

// Reads one optional variable into `out`; remembers the first error.
class SettingsReader {
 public:
  explicit SettingsReader(const Environment& env) : env_(env) {}

  void text(const char* name, std::string& out) {
    if (auto v = value(name)) out = *v;
  }
  template <class Int>
  void integer(const char* name, Int& out, long long min, long long max) {
    auto v = value(name);
    if (!v) return;
    auto n = parse_integer(*v);
    if (!n || *n < min || *n > max)
      return fail(name, *v, "a whole number from " + std::to_string(min) + " to " + std::to_string(max));
    out = static_cast<Int>(*n);
  }
  template <class Duration>
  void duration(const char* name, Duration& out, long long min, long long max) {
    long long n = out.count();
    integer(name, n, min, max);
    out = Duration(n);
  }
  void boolean(const char* name, bool& out) {
    auto v = value(name);
    if (!v) return;
    auto b = parse_bool(*v);
    if (!b) return fail(name, *v, "true or false");
    out = *b;
  }
  void one_of(const char* name, std::string& out, std::initializer_list<const char*> allowed) {
    auto v = value(name);
    if (!v) return;
    for (auto& c : *v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string list;
    for (const char* a : allowed) {
      if (*v == a) {
        out = *v;
        return;
      }
      list += (list.empty() ? "" : ", ") + std::string(a);
    }
    fail(name, *v, "one of " + list);
  }

  const std::optional<std::string>& error() const { return error_; }

 private:
  const Environment& env_;
  std::optional<std::string> error_;

  std::optional<std::string> value(const char* name) const {
    auto v = env_.get(name);
    if (!v || v->empty()) return std::nullopt;
    return v;
  }
  void fail(const char* name, const std::string& value, const std::string& expected) {
    if (!error_) error_ = std::string(name) + "='" + value + "' is invalid: expected " + expected;
  }
};

}  // namespace

Result<Settings> load_settings(const Environment& env) {
  Settings s;
  SettingsReader r(env);
  r.text("APIPROXY_HOST", s.host);
  r.integer("APIPROXY_PORT", s.port, 0, 65535);
  r.integer("APIPROXY_WORKERS", s.workers, 0, 256);
  r.integer("APIPROXY_MAX_BODY_BYTES", s.max_body_bytes, 1024, 1LL << 32);
  r.duration("APIPROXY_HEADER_TIMEOUT_SECONDS", s.header_timeout, 1, 3600);
  r.duration("APIPROXY_IDLE_TIMEOUT_SECONDS", s.idle_timeout, 1, 86400);
  r.integer("APIPROXY_MAX_HEADER_BYTES", s.max_header_bytes, 1024, 16 * 1024 * 1024);
  r.integer("APIPROXY_MAX_CONNECTIONS", s.max_connections, 1, 10000000);
  r.text("APIPROXY_AUTH_TOKEN", s.auth_token);
  r.text("APIPROXY_ADMIN_TOKEN", s.admin_token);
  r.text("SECRET_KEY", s.secret_key);
  r.text("REDIS_URL", s.redis_url);
  r.text("REDIS_PASSWORD", s.redis_password);
  r.duration("REDIS_TIMEOUT_MS", s.redis_timeout, 10, 60000);
  r.duration("MODELS_CACHE_TTL", s.models_cache_ttl, 1, 30 * 86400);
  r.duration("MODELS_REFRESH_SECONDS", s.models_refresh, 1, 30 * 86400);
  r.duration("APIPROXY_CATALOG_REFRESH_SECONDS", s.catalog_refresh, 1, 3600);
  r.duration("APIPROXY_UPSTREAM_CONNECT_TIMEOUT_MS", s.upstream_connect_timeout, 10, 600000);
  r.duration("APIPROXY_UPSTREAM_TIMEOUT_MS", s.upstream_request_timeout, 10, 3600000);
  r.duration("APIPROXY_HEALTH_TIMEOUT_MS", s.health_timeout, 10, 600000);
  r.duration("APIPROXY_UPSTREAM_FIRST_BYTE_TIMEOUT_MS", s.upstream_first_byte_timeout, 10, 3600000);
  s.upstream_first_byte_timeout_set = env.get("APIPROXY_UPSTREAM_FIRST_BYTE_TIMEOUT_MS").value_or("") != "";
  r.duration("APIPROXY_UPSTREAM_IDLE_TIMEOUT_MS", s.upstream_idle_timeout, 10, 3600000);
  r.duration("APIPROXY_UPSTREAM_TOTAL_TIMEOUT_MS", s.upstream_total_timeout, 10, 24 * 3600000LL);
  r.integer("APIPROXY_UPSTREAM_MAX_CONNECTIONS", s.upstream_max_connections, 1, 100000);
  r.integer("APIPROXY_MAX_ATTEMPTS", s.max_attempts, 1, 10);
  r.boolean("APIPROXY_TLS_VERIFY", s.tls_verify);
  r.text("APIPROXY_DEFAULT_STRATEGY", s.default_strategy);
  r.duration("APIPROXY_STICKINESS_TTL", s.stickiness_ttl, 1, 30 * 86400);
  r.duration("APIPROXY_METRICS_FLUSH_MS", s.metrics_flush, 50, 600000);
  r.text("APIPROXY_INSTANCE_ID", s.instance_id);
  r.text("APIPROXY_PLUGIN_DIR", s.plugin_dir);
  r.one_of("LOG_LEVEL", s.log_level, {"trace", "debug", "info", "warn", "warning", "error", "critical", "off"});
  if (s.log_level == "warning") s.log_level = "warn";
  r.one_of("LOG_FORMAT", s.log_format, {"text", "json"});
  r.duration("APIPROXY_PLUGIN_SLOW_CALL_US", s.plugin_slow_call, 1, 60000000);
  r.duration("APIPROXY_SHUTDOWN_GRACE_SECONDS", s.shutdown_grace, 0, 3600);
  if (r.error()) return Error{*r.error()};
  if (s.host.empty()) s.host = s.auth_token.empty() ? "127.0.0.1" : "0.0.0.0";
  return s;
}

}  // namespace apiproxy
