#include "core/config/providers.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <optional>
#include <set>

#include "core/common/file_read.hpp"
#include "core/common/url.hpp"
#include "core/config/api_keys.hpp"
#include "core/model/static_models.hpp"

namespace apiproxy {

namespace {

std::string trim_copy(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return std::string(s);
}

bool valid_id(std::string_view id) {
  return !id.empty() && std::all_of(id.begin(), id.end(), [](unsigned char c) {
    return std::isalnum(c) || c == '_' || c == '-';
  });
}

std::vector<std::string> split_ids(const std::string& list) {
  std::vector<std::string> ids;
  size_t start = 0;
  while (start <= list.size()) {
    size_t comma = list.find(',', start);
    if (comma == std::string::npos) comma = list.size();
    std::string id = trim_copy(std::string_view(list).substr(start, comma - start));
    if (!id.empty()) ids.push_back(id);
    start = comma + 1;
  }
  return ids;
}

std::string infer_adapter(const Url& url) {
  auto ends_with = [](const std::string& s, std::string_view suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  if (ends_with(url.host, ".openai.azure.com") || ends_with(url.host, ".cognitiveservices.azure.com"))
    return "azure";
  if (is_loopback_host(url.host)) return "local";
  return "openai";
}

// A URL as it may appear in a message: any user:password@ part masked.
std::string without_userinfo(const std::string& url) {
  auto scheme = url.find("://");
  size_t start = scheme == std::string::npos ? 0 : scheme + 3;
  auto at = url.find('@', start);
  auto slash = url.find('/', start);
  if (at == std::string::npos || (slash != std::string::npos && at > slash)) return url;
  return url.substr(0, start) + "****@" + url.substr(at + 1);
}

// A model-list file is at most this large.
constexpr size_t kMaxStaticModelsFileBytes = 16 << 20;

// Reads one provider; returns the reason it is unusable, if it is.
class ProviderReader {
 public:
  ProviderReader(std::string id, std::vector<std::pair<std::string, std::string>> vars)
      : vars_(std::move(vars)) {
    cfg_.id = std::move(id);
    prefix_ = "LLM_PROVIDER_" + cfg_.id + "_";
  }

  std::optional<std::string> read() {
    cfg_.settings = vars_;
    if (auto r = required("NAME", cfg_.name)) return r;
    if (auto r = required("BASE_URL", cfg_.base_url)) return r;
    if (auto r = read_keys()) return r;
    while (!cfg_.base_url.empty() && cfg_.base_url.back() == '/') cfg_.base_url.pop_back();
    auto url = parse_url(cfg_.base_url);
    if (!url) return invalid("BASE_URL", without_userinfo(cfg_.base_url), "an http:// or https:// URL without user:password@");
    cfg_.models_path = optional_text("MODELS_PATH");
    if (!cfg_.models_path.empty() && cfg_.models_path.front() != '/')
      cfg_.models_path = "/" + cfg_.models_path;
    cfg_.region = optional_text("REGION");
    read_static_models();
    if (auto r = number("WEIGHT", cfg_.weight, 1.0, /*allow_zero=*/false)) return r;
    if (auto r = number("COST_INPUT", cfg_.cost_input, 0.0, true)) return r;
    if (auto r = number("COST_OUTPUT", cfg_.cost_output, 0.0, true)) return r;
    if (auto r = number("MAX_QPS", cfg_.max_qps, 0.0, false)) return r;
    for (auto [key, out] : {std::pair{"TIMEOUT_SECONDS", &cfg_.total_timeout},
                            std::pair{"CONNECT_TIMEOUT_SECONDS", &cfg_.connect_timeout},
                            std::pair{"FIRST_BYTE_TIMEOUT_SECONDS", &cfg_.first_byte_timeout},
                            std::pair{"STREAM_IDLE_TIMEOUT_SECONDS", &cfg_.idle_timeout}})
      if (auto r = seconds(key, *out)) return r;
    if (auto codes = find("RETRYABLE_STATUS_CODES"); codes && !trim_copy(*codes).empty()) {
      auto parsed = StatusCodeSet::parse(*codes);
      if (!parsed) return invalid("RETRYABLE_STATUS_CODES", *codes, "codes like 429,500,502-504");
      cfg_.retryable = *parsed;
    }
    cfg_.adapter = optional_text("ADAPTER");
    if (cfg_.adapter.empty()) {
      cfg_.adapter = infer_adapter(*url);
      cfg_.adapter_inferred = true;
    }
    return std::nullopt;
  }

  ProviderConfig take() { return std::move(cfg_); }
  const std::vector<std::string>& warnings() const { return warnings_; }

 private:
  ProviderConfig cfg_;
  std::string prefix_;
  std::vector<std::pair<std::string, std::string>> vars_;
  std::vector<std::string> warnings_;

  std::optional<std::string> read_keys() {
    ApiKeyPool pool = read_api_keys(prefix_, {find("API_KEY"), find("API_KEYS"), find("API_KEYS_JSON")});
    warnings_.insert(warnings_.end(), pool.warnings.begin(), pool.warnings.end());
    if (pool.keys.empty())
      return prefix_ + "API_KEY is missing or empty (required: set " + prefix_ + "API_KEY, " + prefix_ +
             "API_KEYS or " + prefix_ + "API_KEYS_JSON)";
    cfg_.keys = std::move(pool.keys);
    cfg_.keys_source = std::move(pool.source);
    cfg_.api_key = cfg_.keys.front().key;
    return std::nullopt;
  }

  void read_static_models() {
    std::string text = optional_text("STATIC_MODELS_JSON");
    std::string source = "STATIC_MODELS_JSON";
    if (text.empty()) {
      std::string path = optional_text("STATIC_MODELS_FILE");
      if (path.empty()) return;
      source = "STATIC_MODELS_FILE";
      auto contents = read_whole_file(path, kMaxStaticModelsFileBytes);
      if (!contents) {
        warnings_.push_back(prefix_ + source + "='" + path + "' " + contents.error());
        return;
      }
      text = std::move(contents.value());
    }
    StaticModels parsed = parse_static_models(text, cfg_.id, prefix_ + source);
    warnings_.insert(warnings_.end(), parsed.warnings.begin(), parsed.warnings.end());
    if (!parsed.valid) return;
    cfg_.static_models = std::move(parsed.models);
    cfg_.static_models_source = prefix_ + source;
  }

  std::optional<std::string> find(std::string_view key) const {
    for (const auto& [k, v] : vars_)
      if (k == key) return v;
    return std::nullopt;
  }
  std::string optional_text(std::string_view key) const {
    return trim_copy(find(key).value_or(""));
  }
  std::optional<std::string> required(std::string_view key, std::string& out) const {
    out = optional_text(key);
    if (out.empty()) return prefix_ + std::string(key) + " is missing or empty (required)";
    return std::nullopt;
  }
  std::optional<std::string> invalid(std::string_view key, std::string_view value,
                                     std::string_view expected) const {
    return prefix_ + std::string(key) + "='" + std::string(value) + "' is invalid: expected " +
           std::string(expected);
  }
  // Optional duration in seconds (fractions allowed), > 0 and at most a day; unset: 0.
  std::optional<std::string> seconds(std::string_view key, std::chrono::milliseconds& out) const {
    double s = 0;
    if (auto r = number(key, s, 0.0, false)) return r;
    if (s > 86400) return invalid(key, optional_text(key), "a number of seconds > 0 and at most 86400");
    out = std::chrono::milliseconds(static_cast<long long>(std::ceil(s * 1000)));
    return std::nullopt;
  }
  // Optional number: absent or empty gives `fallback`; otherwise it must be > 0 (or >= 0).
  std::optional<std::string> number(std::string_view key, double& out, double fallback,
                                    bool allow_zero) const {
    std::string text = optional_text(key);
    if (text.empty()) {
      out = fallback;
      return std::nullopt;
    }
    auto d = parse_double(text);
    if (!d || *d < 0 || (!allow_zero && *d == 0))
      return invalid(key, text, allow_zero ? "a number >= 0" : "a number > 0");
    out = *d;
    return std::nullopt;
  }
};

}  // namespace

std::string redact_secret(const std::string& secret) {
  if (secret.size() < 16) return "****";
  return "****" + secret.substr(secret.size() - 4);
}

std::string ProviderConfig::redacted_api_key() const { return redact_secret(api_key); }

std::string ProviderConfig::display_base_url() const {
  auto q = base_url.find('?');
  return q == std::string::npos ? base_url : base_url.substr(0, q) + "?****";
}

ProviderSet load_providers(const Environment& env) {
  ProviderSet out;
  std::set<std::string> listed;
  for (const std::string& id : split_ids(env.get_or("LLM_PROVIDERS", ""))) {
    if (!listed.insert(id).second) {
      out.notes.push_back("provider id '" + id + "' appears more than once in LLM_PROVIDERS");
      continue;
    }
    if (!valid_id(id)) {
      out.skipped.push_back({id, "provider id '" + id +
                                     "' in LLM_PROVIDERS may only contain letters, digits, _ and -"});
      continue;
    }
    std::string prefix = "LLM_PROVIDER_" + id + "_";
    auto vars = env.with_prefix(prefix);
    if (vars.empty()) {
      out.skipped.push_back(
          {id, "provider '" + id + "' is listed in LLM_PROVIDERS but no " + prefix +
                   "* variables are set (expected " + prefix + "NAME, " + prefix + "BASE_URL, " +
                   prefix + "API_KEY); ids are case-sensitive and must match the prefix exactly"});
      continue;
    }
    ProviderReader reader(id, std::move(vars));
    auto reason = reader.read();
    out.notes.insert(out.notes.end(), reader.warnings().begin(), reader.warnings().end());
    if (reason) {
      out.skipped.push_back({id, *reason});
      continue;
    }
    out.providers.push_back(reader.take());
  }
  // Variables for ids that LLM_PROVIDERS does not list: most often a typo in one of them.
  std::set<std::string> strays;
  for (const auto& [rest, value] : env.with_prefix("LLM_PROVIDER_")) {
    (void)value;
    for (const char* field : {"_NAME", "_BASE_URL", "_API_KEY", "_API_KEYS", "_API_KEYS_JSON"}) {
      std::string_view f(field);
      if (rest.size() > f.size() && rest.compare(rest.size() - f.size(), f.size(), f) == 0) {
        std::string id = rest.substr(0, rest.size() - f.size());
        if (!listed.count(id)) strays.insert(id);
      }
    }
  }
  for (const auto& id : strays)
    out.notes.push_back("LLM_PROVIDER_" + id + "_* variables are set but '" + id +
                        "' is not listed in LLM_PROVIDERS, so they are ignored");
  return out;
}

}  // namespace apiproxy
