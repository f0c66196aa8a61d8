#include "core/config/api_keys.hpp"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

#include <rapidjson/document.h>

#include "core/common/json_parse.hpp"

namespace apiproxy {

namespace {

constexpr size_t kMaxKeyBytes = 4096;
constexpr size_t kMaxLabelBytes = 64;
constexpr size_t kMaxKeysPerProvider = 256;

std::string_view trimmed(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

// Labels reach JSON answers, logs and metric labels: a short, plain set of characters.
bool is_valid_label(std::string_view label) {
  return !label.empty() && label.size() <= kMaxLabelBytes &&
         std::all_of(label.begin(), label.end(), [](unsigned char c) {
           return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == ':' || c == '@' || c == '*';
         });
}

// key{n}, with the key's last four characters when the key is long enough that they give
// nothing useful away (the redaction rule of redact_secret).
std::string default_label(size_t n, const std::string& key, bool with_tail) {
  std::string label = "key" + std::to_string(n);
  if (with_tail && key.size() >= 16) {
    std::string tail = key.substr(key.size() - 4);
    if (is_valid_label(tail)) label += "-***" + tail;
  }
  return label;
}

class PoolBuilder {
 public:
  PoolBuilder(const std::string& prefix, std::string source, ApiKeyPool& out)
      : prefix_(prefix), source_(std::move(source)), out_(out) {}

  void skip(size_t n, const std::string& why) {
    out_.warnings.push_back(prefix_ + source_ + " entry " + std::to_string(n) + " skipped: " + why);
  }

  void add(size_t n, ApiKeyConfig key) {
    if (!is_header_safe_key(key.key))
      return skip(n, key.key.empty() ? "the key is empty"
                                     : "the key has control characters, surrounding spaces or is over 4 KiB");
    if (!seen_.insert(key.key).second) return skip(n, "the same key appears earlier in the list");
    if (keys_.size() >= kMaxKeysPerProvider)
      return skip(n, "at most " + std::to_string(kMaxKeysPerProvider) + " keys per provider");
    if (!labels_.insert(key.label).second) {
      std::string unique = key.label + "-" + std::to_string(n);
      out_.warnings.push_back(prefix_ + source_ + " entry " + std::to_string(n) + ": label '" + key.label +
                              "' is already used; it is shown as '" + unique + "'");
      key.label = unique;
      labels_.insert(key.label);
    }
    keys_.push_back(std::move(key));
  }

  // Moves the keys into the pool; false when there are none.
  bool commit() {
    if (keys_.empty()) return false;
    out_.keys = std::move(keys_);
    out_.source = source_;
    return true;
  }

 private:
  const std::string& prefix_;
  std::string source_;
  ApiKeyPool& out_;
  std::vector<ApiKeyConfig> keys_;
  std::set<std::string> seen_, labels_;
};

std::optional<double> positive_number(const rapidjson::Value& v) {
  if (!v.IsNumber()) return std::nullopt;
  double d = v.GetDouble();
  if (!std::isfinite(d) || d <= 0) return std::nullopt;
  return d;
}

// One object entry of API_KEYS_JSON; returns why it is unusable, if it is.
std::optional<std::string> read_entry(const rapidjson::Value& e, size_t n, ApiKeyConfig& out) {
  auto key = e.FindMember("key");
  if (key == e.MemberEnd() || !key->value.IsString()) return std::string("\"key\" must be a string");
  out.key = std::string(key->value.GetString(), key->value.GetStringLength());
  if (auto w = e.FindMember("weight"); w != e.MemberEnd() && !w->value.IsNull()) {
    auto d = positive_number(w->value);
    if (!d) return std::string("\"weight\" must be a number > 0");
    out.weight = *d;
  }
  if (auto q = e.FindMember("max_qps"); q != e.MemberEnd() && !q->value.IsNull()) {
    auto d = positive_number(q->value);
    if (!d) return std::string("\"max_qps\" must be a number > 0");
    out.max_qps = *d;
  }
  out.label = default_label(n, out.key, true);
  if (auto l = e.FindMember("label"); l != e.MemberEnd() && !l->value.IsNull()) {
    std::string_view label = l->value.IsString() ? std::string_view(l->value.GetString(), l->value.GetStringLength())
                                                 : std::string_view();
    if (!is_valid_label(label))
      return std::string("\"label\" must be 1 to 64 letters, digits or - _ . : @ *");
    if (!out.key.empty() && label.find(out.key) != std::string_view::npos)
      return std::string("\"label\" must not contain the key");
    out.label = std::string(label);
  }
  return std::nullopt;
}

void read_json(const std::string& prefix, const std::string& text, ApiKeyPool& out) {
  PoolBuilder pool(prefix, "API_KEYS_JSON", out);
  rapidjson::Document doc;
  if (parse_json(doc, text) || !doc.IsArray()) {
    out.warnings.push_back(prefix + "API_KEYS_JSON is not a JSON list (expected [{\"key\": \"...\"}, ...]); ignored");
    return;
  }
  size_t n = 0;
  for (const auto& e : doc.GetArray()) {
    ++n;
    ApiKeyConfig key;
    if (e.IsString()) {
      key.key = std::string(e.GetString(), e.GetStringLength());
      key.label = default_label(n, key.key, true);
    } else if (e.IsObject()) {
      if (auto why = read_entry(e, n, key)) {
        pool.skip(n, *why);
        continue;
      }
    } else {
      pool.skip(n, "expected an object with \"key\" or a string");
      continue;
    }
    pool.add(n, std::move(key));
  }
  pool.commit();
}

void read_list(const std::string& prefix, const std::string& text, ApiKeyPool& out) {
  PoolBuilder pool(prefix, "API_KEYS", out);
  size_t n = 0, start = 0;
  while (start <= text.size()) {
    size_t comma = std::min(text.find(',', start), text.size());
    std::string_view item = trimmed(std::string_view(text).substr(start, comma - start));
    start = comma + 1;
    if (item.empty()) continue;
    ++n;
    ApiKeyConfig key;
    key.key = std::string(item);
    key.label = default_label(n, key.key, false);
    pool.add(n, std::move(key));
  }
  pool.commit();
}

bool blank(const std::optional<std::string>& v) { return !v || trimmed(*v).empty(); }

}  // namespace

bool is_header_safe_key(std::string_view key) {
  if (key.empty() || key.size() > kMaxKeyBytes) return false;
  if (key.front() == ' ' || key.back() == ' ' || key.front() == '\t' || key.back() == '\t') return false;
  return std::none_of(key.begin(), key.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; });
}

ApiKeyPool read_api_keys(const std::string& prefix, const ApiKeyVariables& vars) {
  ApiKeyPool out;
  if (!blank(vars.api_keys_json)) read_json(prefix, *vars.api_keys_json, out);
  if (out.keys.empty() && !blank(vars.api_keys)) read_list(prefix, *vars.api_keys, out);
  if (out.keys.empty() && !blank(vars.api_key)) {
    PoolBuilder pool(prefix, "API_KEY", out);
    pool.add(1, ApiKeyConfig{std::string(trimmed(*vars.api_key)), "key1", 1.0, 0.0});
    if (!pool.commit()) out.warnings.back() = prefix + "API_KEY is unusable: it has control characters or is over 4 KiB";
  }
  // The variables after the one the pool came from are not read: say so, since the
  // operator set them.
  const std::pair<const char*, const std::optional<std::string>*> order[] = {
      {"API_KEYS_JSON", &vars.api_keys_json}, {"API_KEYS", &vars.api_keys}, {"API_KEY", &vars.api_key}};
  bool after_source = false;
  for (const auto& [name, value] : order) {
    if (after_source && !blank(*value))
      out.warnings.push_back(prefix + name + " is ignored: the keys come from " + prefix + out.source);
    if (out.source == name) after_source = true;
  }
  return out;
}

}  // namespace apiproxy
