// plugins/providers/common/openai_shape.hpp — helpers shared by the bundled provider
// adapters (openai, azure, local) for OpenAI-shaped HTTP APIs.
//
// Header-only; depends on the plugin SDK and RapidJSON only (never on core/ or server/).
// Everything here is free of mutable shared state, so adapters may call it from several
// threads at once.
#ifndef APIPROXY_PLUGINS_PROVIDERS_OPENAI_SHAPE_HPP
#define APIPROXY_PLUGINS_PROVIDERS_OPENAI_SHAPE_HPP

#include <apiproxy/provider.hpp>

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include <cmath>
#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

namespace apx::shape {

// ------------------------------------------------------------------- text helpers ----

inline char ascii_lower(char c) noexcept {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}
inline std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = ascii_lower(c);
  return out;
}
inline bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (ascii_lower(a[i]) != ascii_lower(b[i])) return false;
  return true;
}
inline bool istarts_with(std::string_view s, std::string_view prefix) noexcept {
  return s.size() >= prefix.size() && iequals(s.substr(0, prefix.size()), prefix);
}
inline bool iends_with(std::string_view s, std::string_view suffix) noexcept {
  return s.size() >= suffix.size() && iequals(s.substr(s.size() - suffix.size()), suffix);
}
inline std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}
inline bool all_digits(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (c < '0' || c > '9') return false;
  return true;
}
inline int two_digits(std::string_view s) noexcept { return (s[0] - '0') * 10 + (s[1] - '0'); }

// Refuses configuration values that would corrupt an HTTP header (CR, LF, NUL). The
// message names the setting, never the value: it may be a secret.
inline void require_header_safe(std::string_view what, std::string_view value) {
  for (char c : value)
    if (c == '\r' || c == '\n' || c == '\0')
      throw InvalidInput(std::string(what) + " contains a line break or NUL character");
}

// ------------------------------------------------------------------------- URLs ----

// A key-carrying header ("Authorization: Bearer <key>", Azure's "api-key: <key>") for each
// call: with the key the host picked from the provider's pool (ABI 1.2), else the
// configured one. The configured key's value is built once; a key that means "none"
// (empty; for local servers also "not-required") sends no header.
class KeyHeader {
 public:
  KeyHeader(std::string name, std::string_view value_prefix, std::string_view configured_key,
            bool not_required_means_none)
      : name_(std::move(name)), prefix_(value_prefix), configured_(trim(configured_key)),
        none_word_(not_required_means_none) {
    if (!means_none(configured_)) value_ = prefix_ + configured_;
  }
  bool configured() const { return !value_.empty(); }
  void write(const UpstreamCall& call, RequestWriter& out) const {
    std::string_view key = trim(call.key_or(configured_));
    if (key == configured_) {
      if (!value_.empty()) out.header(name_, value_);
    } else if (!means_none(key)) {
      out.header(name_, prefix_ + std::string(key));
    }
  }

 private:
  bool means_none(std::string_view key) const { return key.empty() || (none_word_ && iequals(key, "not-required")); }
  std::string name_, prefix_, configured_, value_;  // value_: never logged
  bool none_word_;
};

inline std::string_view strip_trailing_slashes(std::string_view s) noexcept {
  while (!s.empty() && s.back() == '/') s.remove_suffix(1);
  return s;
}

inline bool is_absolute_url(std::string_view s) noexcept {
  return istarts_with(s, "http://") || istarts_with(s, "https://");
}

// `base + path` as written, with exactly one '/' between them. A path that is itself an
// absolute URL is used as it is.
inline std::string join_url(std::string_view base, std::string_view path) {
  if (is_absolute_url(path)) return std::string(path);
  base = strip_trailing_slashes(base);
  while (!path.empty() && path.front() == '/') path.remove_prefix(1);
  std::string out;
  out.reserve(base.size() + 1 + path.size());
  out.append(base);
  if (!path.empty()) {
    out.push_back('/');
    out.append(path);
  }
  return out;
}

// Like join_url, but when `base` already ends with `segment` (e.g. "/v1": a base URL of
// "https://api.openai.com/v1") and `path` starts with it ("/v1/chat/completions"), the
// segment appears only once in the result. Used for the paths the adapter itself chooses.
inline std::string join_api_url(std::string_view base, std::string_view path,
                                std::string_view segment = "/v1") {
  std::string_view b = strip_trailing_slashes(base);
  if (!segment.empty() && iends_with(b, segment) && path.size() >= segment.size() &&
      path.substr(0, segment.size()) == segment &&
      (path.size() == segment.size() || path[segment.size()] == '/'))
    path.remove_prefix(segment.size());
  return join_url(b, path);
}

// Percent-encodes everything outside RFC 3986's unreserved set: for one path segment or
// one query value.
inline std::string url_encode(std::string_view s) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
        c == '-' || c == '.' || c == '_' || c == '~') {
      out.push_back(ch);
    } else {
      out.push_back('%');
      out.push_back(hex[c >> 4]);
      out.push_back(hex[c & 0xF]);
    }
  }
  return out;
}

// Appends `key=value` (value percent-encoded) with '?' or '&' as needed, unless the query
// already carries `key`.
inline std::string with_query_param(std::string url, std::string_view key,
                                    std::string_view value) {
  auto hash = url.find('#');
  std::string fragment;
  if (hash != std::string::npos) {
    fragment = url.substr(hash);
    url.resize(hash);
  }
  auto q = url.find('?');
  if (q != std::string::npos) {
    std::string_view query = std::string_view(url).substr(q + 1);
    size_t pos = 0;
    while (pos <= query.size()) {
      size_t amp = query.find('&', pos);
      std::string_view item = query.substr(pos, amp == std::string_view::npos ? amp : amp - pos);
      std::string_view name = item.substr(0, item.find('='));
      if (name == key) return url + fragment;
      if (amp == std::string_view::npos) break;
      pos = amp + 1;
    }
  }
  if (q == std::string::npos)
    url.push_back('?');
  else if (url.back() != '?' && url.back() != '&')
    url.push_back('&');
  url.append(key);
  url.push_back('=');
  url.append(url_encode(value));
  return url + fragment;
}

// A URL fit for a log line: user-info ("user:pass@") and the query string removed.
inline std::string redact_url(std::string_view url) {
  std::string_view rest = url;
  std::string out;
  auto scheme = rest.find("://");
  if (scheme != std::string_view::npos) {
    out.append(rest.substr(0, scheme + 3));
    rest.remove_prefix(scheme + 3);
  }
  auto auth_end = rest.find_first_of("/?#");
  auto at = rest.substr(0, auth_end).rfind('@');
  if (at != std::string_view::npos) {
    out.append("***@");
    rest.remove_prefix(at + 1);
  }
  auto query = rest.find_first_of("?#");
  out.append(rest.substr(0, query));
  if (query != std::string_view::npos) out.append("?...");
  return out;
}

// URLs of an OpenAI-shaped API. An empty `models_path` means the adapter default
// (`default_models_path`, joined with the /v1 de-duplication); a path the user configured
// is joined literally (BASE_URL + MODELS_PATH), only without a doubled '/'.
struct OpenAIEndpoints {
  std::string models, chat, completions, embeddings;

  OpenAIEndpoints(std::string_view base, std::string_view models_path,
                  std::string_view default_models_path = "/v1/models")
      : models(models_path.empty() ? join_api_url(base, default_models_path)
                                   : join_url(base, models_path)),
        chat(join_api_url(base, "/v1/chat/completions")),
        completions(join_api_url(base, "/v1/completions")),
        embeddings(join_api_url(base, "/v1/embeddings")) {}
};

// The URL of a client API the provider also serves natively (ABI 1.3 operations:
// Anthropic Messages, OpenAI Responses), from the setting `key` — a path under BASE_URL, or
// "off" — else `fallback` ("" = not served). Empty when not served: the adapter then
// answers Unsupported and the host translates the request to chat completions.
inline std::string native_api_url(const Settings& settings, std::string_view base, std::string_view key,
                                  std::string_view fallback) {
  std::string path(trim(settings.get(key, fallback)));
  if (path.empty() || iequals(path, "off")) return {};
  return join_api_url(base, path);
}

// ------------------------------------------------------------- model families ----

namespace detail {

inline bool is_quantisation_tag(std::string_view tok) {
  std::string t = lower(tok);
  if (t == "f16" || t == "f32" || t == "fp16" || t == "fp32" || t == "bf16" || t == "fp8" ||
      t == "int4" || t == "int8" || t == "awq" || t == "gptq" || t == "gguf" || t == "ggml")
    return true;
  // Q4_0, Q4_K_M, Q8_0, IQ2_XS, ...
  std::string_view v = t;
  if (!v.empty() && v.front() == 'i') v.remove_prefix(1);
  if (v.size() < 2 || v.front() != 'q' || v[1] < '0' || v[1] > '9') return false;
  for (char c : v.substr(1))
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || c == '_')) return false;
  return true;
}

// MMDD ("0613", "1106") or YYMM ("2407", Mistral's style).
inline bool is_short_date(std::string_view tok) {
  if (tok.size() != 4 || !all_digits(tok)) return false;
  int a = two_digits(tok.substr(0, 2)), b = two_digits(tok.substr(2, 2));
  bool mmdd = a >= 1 && a <= 12 && b >= 1 && b <= 31;
  bool yymm = a >= 20 && a <= 39 && b >= 1 && b <= 12;
  return mmdd || yymm;
}

inline bool is_yyyymmdd(std::string_view tok) {
  if (tok.size() != 8 || !all_digits(tok) || tok.substr(0, 2) != "20") return false;
  int m = two_digits(tok.substr(4, 2)), d = two_digits(tok.substr(6, 2));
  return m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

// "v2", "v0.2", "V1.5"
inline bool is_version_tag(std::string_view tok) {
  if (tok.size() < 2 || (tok[0] != 'v' && tok[0] != 'V')) return false;
  bool digit = false;
  for (char c : tok.substr(1)) {
    if (c >= '0' && c <= '9')
      digit = true;
    else if (c != '.')
      return false;
  }
  return digit;
}

}  // namespace detail

// The model family an id belongs to: the id without date, version, release-channel and
// quantisation suffixes, organisation prefix, file path and extension, or Ollama tag.
//   gpt-4o-mini-2024-07-18 -> gpt-4o-mini      gpt-3.5-turbo-0125 -> gpt-3.5-turbo
//   gpt-4-1106-preview     -> gpt-4            chatgpt-4o-latest  -> chatgpt-4o
//   text-embedding-ada-002 -> text-embedding-ada
//   ft:gpt-4o-mini-2024-07-18:acme::abc123 -> gpt-4o-mini
//   meta-llama/Meta-Llama-3.1-8B-Instruct  -> Meta-Llama-3.1-8B-Instruct
//   /models/Meta-Llama-3-8B-Instruct-Q4_K_M.gguf -> Meta-Llama-3-8B-Instruct
//   llama3.1:8b -> llama3.1                    mistral-7b-instruct-v0.2 -> mistral-7b-instruct
// Never returns an empty string for a non-empty id.
inline std::string family_from_id(std::string_view id) {
  std::string_view s = trim(id);
  if (istarts_with(s, "ft:")) {  // OpenAI fine-tune: ft:BASE:org:name:job
    s.remove_prefix(3);
    s = s.substr(0, s.find(':'));
  } else {
    auto slash = s.find_last_of("/\\");  // org/name (Hugging Face) or a file path
    if (slash != std::string_view::npos) s.remove_prefix(slash + 1);
    auto colon = s.find(':');  // Ollama tag: name:tag
    if (colon != std::string_view::npos && colon > 0) s = s.substr(0, colon);
  }
  for (std::string_view ext : {".gguf", ".ggml", ".bin", ".safetensors"})
    if (iends_with(s, ext)) {
      s.remove_suffix(ext.size());
      break;
    }

  auto count_tokens = [](std::string_view v) {
    size_t n = 1;
    for (char c : v) n += (c == '-');
    return n;
  };
  for (;;) {
    auto dot = s.rfind('.');
    auto dash = s.rfind('-');
    // "name.Q4_K_M" (after the last '-')
    if (dot != std::string_view::npos && (dash == std::string_view::npos || dot > dash) &&
        dot > 0 && detail::is_quantisation_tag(s.substr(dot + 1))) {
      s = s.substr(0, dot);
      continue;
    }
    if (dash == std::string_view::npos || dash == 0) break;
    std::string_view tok = s.substr(dash + 1);
    std::string_view head = s.substr(0, dash);
    // YYYY-MM-DD spans three tokens.
    if (tok.size() == 2 && all_digits(tok)) {
      auto d2 = head.rfind('-');
      if (d2 != std::string_view::npos && d2 > 0) {
        std::string_view mm = head.substr(d2 + 1);
        std::string_view head2 = head.substr(0, d2);
        auto d3 = head2.rfind('-');
        if (mm.size() == 2 && all_digits(mm) && d3 != std::string_view::npos && d3 > 0) {
          std::string_view yyyy = head2.substr(d3 + 1);
          if (yyyy.size() == 4 && all_digits(yyyy) && yyyy.substr(0, 2) == "20") {
            s = head2.substr(0, d3);
            continue;
          }
        }
      }
      break;
    }
    bool strip = detail::is_yyyymmdd(tok) || detail::is_short_date(tok) ||
                 (tok.size() == 3 && all_digits(tok) && tok[0] == '0') ||  // -001, -002
                 iequals(tok, "latest") || iequals(tok, "preview") ||
                 detail::is_quantisation_tag(tok) ||
                 // "-v0.2" is a release of "mistral-7b-instruct", but "deepseek-v3" names
                 // a model: strip a version only after at least two other tokens.
                 (detail::is_version_tag(tok) && count_tokens(head) >= 2);
    if (!strip) break;
    s = head;
  }
  if (s.empty()) return std::string(trim(id));
  return std::string(s);
}

// ------------------------------------------------------------- capabilities ----

enum Capability : unsigned {
  kChat = 1u << 0,
  kCompletion = 1u << 1,
  kEmbedding = 1u << 2,
  kVision = 1u << 3,
  kAudio = 1u << 4,
  kFunctionCalling = 1u << 5,
};

// Comma-separated, in the gateway's canonical order.
inline std::string capabilities_string(unsigned mask) {
  static constexpr std::pair<unsigned, const char*> names[] = {
      {kChat, "chat"},     {kCompletion, "completion"}, {kEmbedding, "embedding"},
      {kVision, "vision"}, {kAudio, "audio"},           {kFunctionCalling, "function_calling"}};
  std::string out;
  for (const auto& [bit, name] : names)
    if (mask & bit) {
      if (!out.empty()) out.push_back(',');
      out.append(name);
    }
  return out;
}

// Capabilities of an OpenAI / Azure OpenAI model guessed from its id, for upstreams that
// do not say:
//   embedding models (…embed…)                           -> embedding
//   whisper / tts                                        -> audio
//   dall-e, moderation (no operation the gateway serves) -> none
//   gpt-4o, gpt-4-turbo, …vision…                        -> chat,vision,function_calling
//   …instruct…, davinci, babbage                          -> completion
//   anything else                                        -> chat,function_calling
inline unsigned infer_openai_capabilities(std::string_view id) {
  std::string s = lower(id);
  auto has = [&](std::string_view needle) { return s.find(needle) != std::string::npos; };
  if (has("embed")) return kEmbedding;
  if (has("whisper") || s.rfind("tts", 0) == 0 || has("-tts")) return kAudio;
  if (has("dall-e") || has("moderation")) return 0;
  if (has("gpt-4o") || has("gpt-4-turbo") || has("vision")) return kChat | kVision | kFunctionCalling;
  if (has("instruct") || has("davinci") || has("babbage")) return kCompletion;
  return kChat | kFunctionCalling;
}

// Capabilities the upstream itself declares in an entry, if it does:
//  * an object of booleans (Azure OpenAI): chat_completion, completion, embeddings;
//    a chat model also gets the vision / audio / function_calling its id suggests, which
//    Azure does not report;
//  * an array of names: chat, completion(s), embedding(s), vision, audio,
//    function_calling (or tools).
// std::nullopt when the entry says nothing usable.
inline std::optional<unsigned> declared_capabilities(const rapidjson::Value& entry,
                                                     std::string_view id) {
  auto it = entry.FindMember("capabilities");
  if (it == entry.MemberEnd()) return std::nullopt;
  const rapidjson::Value& caps = it->value;
  if (caps.IsObject()) {
    unsigned mask = 0;
    bool said = false;
    auto flag = [&](const char* key, unsigned bit) {
      auto f = caps.FindMember(key);
      if (f == caps.MemberEnd() || !f->value.IsBool()) return;
      said = true;
      if (f->value.GetBool()) mask |= bit;
    };
    flag("chat_completion", kChat);
    flag("completion", kCompletion);
    flag("embeddings", kEmbedding);
    if (!said) return std::nullopt;
    if (mask & kChat) mask |= infer_openai_capabilities(id) & (kVision | kAudio | kFunctionCalling);
    return mask;
  }
  if (caps.IsArray()) {
    unsigned mask = 0;
    for (const auto& v : caps.GetArray()) {
      if (!v.IsString()) continue;
      std::string name = lower(std::string_view(v.GetString(), v.GetStringLength()));
      if (name == "chat" || name == "chat_completion") mask |= kChat;
      else if (name == "completion" || name == "completions") mask |= kCompletion;
      else if (name == "embedding" || name == "embeddings") mask |= kEmbedding;
      else if (name == "vision") mask |= kVision;
      else if (name == "audio") mask |= kAudio;
      else if (name == "function_calling" || name == "tools") mask |= kFunctionCalling;
    }
    if (mask == 0) return std::nullopt;
    return mask;
  }
  return std::nullopt;
}

// --------------------------------------------------------------- model lists ----

inline std::string_view string_view_of(const rapidjson::Value& v) noexcept {
  return std::string_view(v.GetString(), v.GetStringLength());
}

// A string member, or empty.
inline std::string_view string_member(const rapidjson::Value& obj, const char* key) noexcept {
  if (!obj.IsObject()) return {};
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsString()) return {};
  return string_view_of(it->value);
}

// A positive integral number member, or 0.
inline uint64_t positive_member(const rapidjson::Value& obj, const char* key) noexcept {
  if (!obj.IsObject()) return 0;
  auto it = obj.FindMember(key);
  if (it == obj.MemberEnd() || !it->value.IsNumber()) return 0;
  const auto& v = it->value;
  if (v.IsUint64()) return v.GetUint64();
  if (v.IsDouble()) {
    double d = v.GetDouble();
    if (std::isfinite(d) && d >= 1 && d < 9.0e15) return static_cast<uint64_t>(d);
  }
  return 0;
}

// Context window of an entry when the upstream reports one: `context_length`,
// `context_window`, `max_model_len` (vLLM), `meta.n_ctx_train` (llama.cpp server).
inline uint64_t context_length_of(const rapidjson::Value& entry) noexcept {
  for (const char* key : {"context_length", "context_window", "max_model_len"})
    if (uint64_t n = positive_member(entry, key)) return n;
  auto meta = entry.FindMember("meta");
  if (meta != entry.MemberEnd()) return positive_member(meta->value, "n_ctx_train");
  return 0;
}

// True when `json` nests arrays/objects more than `limit` deep (a cheap scan that skips
// string contents). Checked before parsing: re-serialising an entry recurses, so a
// pathological body must not reach it.
inline bool nests_deeper_than(std::string_view json, size_t limit) noexcept {
  size_t depth = 0;
  bool in_string = false, escaped = false;
  for (char c : json) {
    if (in_string) {
      if (escaped)
        escaped = false;
      else if (c == '\\')
        escaped = true;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit) return true;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return false;
}

inline constexpr size_t kMaxJsonDepth = 128;

// True when `s` holds a UTF-16 surrogate encoded as if it were a character (ED A0..BF xx):
// never valid UTF-8, where ED is always followed by 80..9F.
inline bool has_encoded_surrogate(std::string_view s) noexcept {
  for (size_t i = 0; i + 1 < s.size(); ++i)
    if (static_cast<unsigned char>(s[i]) == 0xED && static_cast<unsigned char>(s[i + 1]) >= 0xA0) return true;
  return false;
}

// True when `v` holds something RapidJSON 1.1 accepts while parsing but cannot hand on
// intact:
//  * a number too large for a double ("41e308": a short exponent, but one digit too many),
//    read as infinity instead of failing; its Writer then refuses that value and stops,
//    leaving the text cut short;
//  * an escaped lone low surrogate ("\uDC00"), decoded into bytes that are not UTF-8 even
//    when the parse validates UTF-8 (that checks the raw input, not what escapes decode to).
// Recursive: call it only on documents nests_deeper_than() let pass.
inline bool has_unwritable_value(const rapidjson::Value& v) noexcept {
  if (v.IsDouble()) return !std::isfinite(v.GetDouble());
  if (v.IsString()) return has_encoded_surrogate(std::string_view(v.GetString(), v.GetStringLength()));
  if (v.IsArray()) {
    for (const auto& element : v.GetArray())
      if (has_unwritable_value(element)) return true;
  } else if (v.IsObject()) {
    for (const auto& member : v.GetObject())
      if (has_unwritable_value(member.name) || has_unwritable_value(member.value)) return true;
  }
  return false;
}

inline std::string to_json(const rapidjson::Value& v) {
  rapidjson::StringBuffer buffer;
  rapidjson::Writer<rapidjson::StringBuffer> writer(buffer);
  v.Accept(writer);
  return std::string(buffer.GetString(), buffer.GetSize());
}

// Parses an OpenAI-shaped list-models body, `{"data":[{"id":...}, ...]}`, and calls
// fn(entry, id) for each object entry with a non-empty string `id` (the first of any
// duplicates). Other top-level members (llama.cpp's `models`) are ignored. Throws
// InvalidInput when the body is not JSON or has no `data` array; the message never
// quotes the body.
template <class Fn>
void for_each_model_entry(std::string_view body, const Host& host, std::string_view provider,
                          Fn&& fn) {
  auto fail = [&](std::string_view why) {
    throw InvalidInput("provider '" + std::string(provider) + "': list-models response " +
                       std::string(why));
  };
  if (trim(body).empty()) fail("is empty");
  // RapidJSON would stop at a NUL and take what came before it; valid JSON has none.
  if (body.find('\0') != std::string_view::npos) fail("is not valid JSON (a NUL byte)");
  if (nests_deeper_than(body, kMaxJsonDepth))
    fail("nests deeper than " + std::to_string(kMaxJsonDepth) + " levels");
  rapidjson::Document doc;
  // Iterative: deeply nested garbage cannot exhaust the stack. Validated UTF-8: nothing
  // malformed is handed on to the host.
  doc.Parse<rapidjson::kParseIterativeFlag | rapidjson::kParseValidateEncodingFlag>(
      body.data(), body.size());
  if (doc.HasParseError())
    fail("is not valid JSON (offset " + std::to_string(doc.GetErrorOffset()) + ": " +
         rapidjson::GetParseError_En(doc.GetParseError()) + ")");
  // Read through a const reference: const member iterators (rapidjson 1.1's non-const
  // ones have an ambiguous operator== under C++20).
  const rapidjson::Value& root = doc;
  // Every entry is handed on, written back as its metadata (emit_model): refuse what
  // cannot be.
  if (has_unwritable_value(root)) fail("has a number too large for a double or an unpaired UTF-16 surrogate");
  if (!root.IsObject()) fail("is not a JSON object");
  auto data = root.FindMember("data");
  if (data == root.MemberEnd() || !data->value.IsArray()) fail("has no \"data\" array");

  std::unordered_set<std::string_view> seen;
  size_t skipped = 0, duplicates = 0;
  for (const auto& entry : data->value.GetArray()) {
    std::string_view id = entry.IsObject() ? string_member(entry, "id") : std::string_view();
    if (id.empty()) {
      ++skipped;
      continue;
    }
    if (!seen.insert(id).second) {
      ++duplicates;
      continue;
    }
    fn(entry, id);
  }
  if (skipped)
    host.debug("provider '" + std::string(provider) + "': skipped " + std::to_string(skipped) +
               " model entries without a string id");
  if (duplicates)
    host.debug("provider '" + std::string(provider) + "': skipped " +
               std::to_string(duplicates) + " duplicate model ids");
}

// Reports one model: display name from `name`, pricing from `pricing` (when an object),
// context length as context_length_of, metadata = the raw entry.
inline void emit_model(ModelWriter& out, const rapidjson::Value& entry, std::string_view id,
                       std::string_view family, unsigned capabilities) {
  std::string caps = capabilities_string(capabilities);
  std::string metadata = to_json(entry);
  std::string pricing;
  auto p = entry.FindMember("pricing");
  if (p != entry.MemberEnd() && p->value.IsObject()) pricing = to_json(p->value);
  Model m;
  m.model_id = id;
  m.family = family;
  m.display_name = string_member(entry, "name");
  m.context_length = context_length_of(entry);
  m.capabilities = caps;
  m.pricing_json = pricing;
  m.metadata_json = metadata;
  out.add(m);
}

}  // namespace apx::shape

#endif  // APIPROXY_PLUGINS_PROVIDERS_OPENAI_SHAPE_HPP
