// apiproxy/plugin.hpp — header-only C++ helpers shared by strategy.hpp and provider.hpp.
//
// They wrap the C ABI of abi.h so that a plugin author writes ordinary C++. Everything
// here compiles as C++17 and is inline: the SDK ships no library.
#ifndef APIPROXY_PLUGIN_HPP
#define APIPROXY_PLUGIN_HPP

#include <apiproxy/abi.h>

#include <cerrno>
#include <cstdlib>
#include <exception>
#include <new>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace apx {

inline std::string_view view(apx_str s) noexcept {
  return s.ptr ? std::string_view(s.ptr, s.len) : std::string_view();
}
inline apx_str str(std::string_view s) noexcept { return apx_str{s.data(), s.size()}; }

// Throw from a plugin method: the export glue turns it into APX_ERR_INVALID.
struct InvalidInput : std::runtime_error {
  using std::runtime_error::runtime_error;
};
// Throw from a plugin method: the export glue turns it into APX_ERR_UNSUPPORTED.
struct Unsupported : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The host's logger. Copyable, cheap; valid as long as the plugin object lives.
class Host {
 public:
  explicit Host(const apx_host* host = nullptr) noexcept : host_(host) {}
  void log(apx_log_level level, std::string_view message) const noexcept {
    if (host_ && host_->log) host_->log(host_->ctx, level, str(message));
  }
  void debug(std::string_view m) const noexcept { log(APX_LOG_DEBUG, m); }
  void info(std::string_view m) const noexcept { log(APX_LOG_INFO, m); }
  void warn(std::string_view m) const noexcept { log(APX_LOG_WARN, m); }
  void error(std::string_view m) const noexcept { log(APX_LOG_ERROR, m); }

 private:
  const apx_host* host_;
};

// Owned copy of key/value configuration, with typed look-ups.
class Settings {
 public:
  Settings() = default;
  Settings(const apx_kv* kv, size_t n) {
    for (size_t i = 0; i < n; ++i)
      entries_.emplace_back(std::string(view(kv[i].key)), std::string(view(kv[i].value)));
  }

  std::optional<std::string_view> find(std::string_view key) const noexcept {
    for (const auto& [k, v] : entries_)
      if (k == key) return std::string_view(v);
    return std::nullopt;
  }
  std::string get(std::string_view key, std::string_view fallback = {}) const {
    return std::string(find(key).value_or(fallback));
  }
  // A number, or `fallback` when the key is absent. A present but malformed value
  // throws InvalidInput naming the key, so the host can refuse the configuration.
  double get_double(std::string_view key, double fallback) const {
    auto v = find(key);
    if (!v) return fallback;
    std::string text(*v);
    char* end = nullptr;
    errno = 0;
    double d = std::strtod(text.c_str(), &end);
    if (text.empty() || end != text.c_str() + text.size() || errno == ERANGE)
      throw InvalidInput("setting " + std::string(key) + " is not a number: '" + text + "'");
    return d;
  }
  const std::vector<std::pair<std::string, std::string>>& entries() const noexcept {
    return entries_;
  }

 private:
  std::vector<std::pair<std::string, std::string>> entries_;
};

namespace detail {

// Runs `fn`, mapping every exception to a status so none crosses the C boundary.
template <class Fn>
apx_status guarded(const Host& host, Fn&& fn) noexcept {
  try {
    return fn();
  } catch (const InvalidInput& e) {
    host.warn(e.what());
    return APX_ERR_INVALID;
  } catch (const Unsupported&) {
    return APX_ERR_UNSUPPORTED;
  } catch (const std::exception& e) {
    host.error(e.what());
    return APX_ERR_INTERNAL;
  } catch (...) {
    host.error("unknown exception");
    return APX_ERR_INTERNAL;
  }
}

inline apx_plugin_descriptor make_descriptor(apx_plugin_kind kind, const char* name,
                                             const char* version, const char* description,
                                             const void* vtable) noexcept {
  apx_plugin_descriptor d{};
  d.struct_size = sizeof(apx_plugin_descriptor);
  d.abi_major = APX_ABI_MAJOR;
  d.abi_minor = APX_ABI_MINOR;
  d.kind = static_cast<uint32_t>(kind);
  d.name = str(name);
  d.version = str(version);
  d.description = str(description);
  d.vtable = vtable;
  return d;
}

// Objects handed to the host carry the Host next to the user's object, so that the
// glue can log exceptions from calls that do not receive the host.
template <class T>
struct Boxed {
  Host host;
  T object;
};

}  // namespace detail
}  // namespace apx

#endif  // APIPROXY_PLUGIN_HPP
