// provider_anthropic — adapter for the Anthropic Messages API (Claude).
//
// Operations: Messages calls (ABI 1.3) pass through unchanged; chat-completions calls are
// translated to Messages here, and their answers and streams back through the ABI 1.3
// transform hooks; list models and health read the models list. Completions, embeddings and
// Responses: unsupported (the host translates Responses to chat completions for us).
//
// URLs: BASE_URL + MODELS_PATH (as configured; empty: /v1/models, so operators set
// LLM_PROVIDER_{id}_MODELS_PATH=/v1/models when the host's default is /models) and
// BASE_URL + MESSAGES_PATH (setting, default /v1/messages with one /v1 when BASE_URL
// already ends in /v1). Headers: x-api-key (the call's key), anthropic-version (setting
// ANTHROPIC_VERSION, default 2023-06-01). Setting DEFAULT_MAX_TOKENS (default 4096) is the
// max_tokens of a chat request that has none: Anthropic requires one.
#include <apiproxy/provider.hpp>

#include "../common/openai_shape.hpp"
#include "chat_to_messages.hpp"
#include "messages_stream_to_chat.hpp"
#include "messages_to_chat.hpp"

#include <ctime>

namespace anthropic {

namespace adapter_settings {

constexpr std::string_view kDefaultMessagesPath = "/v1/messages";
constexpr std::string_view kDefaultModelsPath = "/v1/models";
constexpr std::string_view kDefaultVersion = "2023-06-01";
constexpr uint64_t kDefaultMaxTokens = 4096;
constexpr uint64_t kMaxDefaultMaxTokens = 1000000;
// Anthropic's ids are short ("claude-sonnet-4-5-20250929"); a longer one is not a model id.
constexpr size_t kMaxModelIdBytes = 256;

[[noreturn]] void refuse(const std::string& provider, const std::string& why) {
  throw apx::InvalidInput("provider '" + provider + "': " + why);
}

bool has_space_or_control(std::string_view s) {
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c <= 0x20 || c == 0x7f) return true;
  }
  return false;
}

// A setting, trimmed; a view into the configuration (Settings::get would return a copy that
// a view must not outlive).
std::string_view setting(const apx::ProviderConfig& config, std::string_view key) {
  return apx::shape::trim(config.settings.find(key).value_or(std::string_view()));
}

// A configured path is joined literally; the default one without doubling a /v1 the base
// URL may end with.
std::string messages_url(const apx::ProviderConfig& config) {
  std::string_view path = setting(config, "MESSAGES_PATH");
  if (path.empty()) return apx::shape::join_api_url(config.base_url, kDefaultMessagesPath);
  if ((path.front() != '/' && !apx::shape::is_absolute_url(path)) || has_space_or_control(path))
    refuse(config.id, "MESSAGES_PATH must be a path starting with '/' or an http(s) URL, without spaces");
  return apx::shape::join_url(config.base_url, path);
}

std::string models_url(const apx::ProviderConfig& config) {
  std::string_view path = apx::shape::trim(config.models_path);
  if (path.empty()) return apx::shape::join_api_url(config.base_url, kDefaultModelsPath);
  return apx::shape::join_url(config.base_url, path);
}

std::string anthropic_version(const apx::ProviderConfig& config) {
  std::string_view version = setting(config, "ANTHROPIC_VERSION");
  if (version.empty()) return std::string(kDefaultVersion);
  for (char c : version)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '-' || c == '.' ||
          c == '_'))
      refuse(config.id, "ANTHROPIC_VERSION may hold only letters, digits, '-', '.' and '_'");
  return std::string(version);
}

uint64_t default_max_tokens(const apx::ProviderConfig& config) {
  std::string_view text = setting(config, "DEFAULT_MAX_TOKENS");
  if (text.empty()) return kDefaultMaxTokens;
  // At most 7 digits: std::stoull cannot overflow.
  uint64_t n = apx::shape::all_digits(text) && text.size() <= 7 ? std::stoull(std::string(text)) : 0;
  if (n == 0 || n > kMaxDefaultMaxTokens)
    refuse(config.id, "DEFAULT_MAX_TOKENS must be a whole number from 1 to " + std::to_string(kMaxDefaultMaxTokens));
  return n;
}

// An id a client could be shown and route by: not too long, no control characters.
bool is_usable_model_id(std::string_view id) {
  if (id.size() > kMaxModelIdBytes) return false;
  for (char ch : id) {
    auto c = static_cast<unsigned char>(ch);
    if (c < 0x20 || c == 0x7f) return false;
  }
  return true;
}

}  // namespace adapter_settings

class AnthropicAdapter final : public apx::TranslatingAdapter {
 public:
  AnthropicAdapter(const apx::Host& host, const apx::ProviderConfig& config)
      : host_(host),
        id_(config.id),
        models_url_(adapter_settings::models_url(config)),
        messages_url_(adapter_settings::messages_url(config)),
        version_(adapter_settings::anthropic_version(config)),
        default_max_tokens_(adapter_settings::default_max_tokens(config)),
        api_key_("x-api-key", "", config.api_key, false) {
    if (apx::shape::trim(config.base_url).empty()) adapter_settings::refuse(id_, "BASE_URL is empty");
    apx::shape::require_header_safe("provider '" + id_ + "': API_KEY", config.api_key);
    if (!api_key_.configured())
      host_.warn("provider '" + id_ + "': API_KEY is empty, requests carry no x-api-key unless a key pool gives one");
    host_.debug("provider '" + id_ + "': anthropic adapter, models at " + apx::shape::redact_url(models_url_) +
                ", messages at " + apx::shape::redact_url(messages_url_));
  }

  void build_request(const apx::UpstreamCall& call, apx::RequestWriter& out) override {
    switch (call.operation) {
      case APX_OP_LIST_MODELS:
      case APX_OP_HEALTH:
        out.method("GET");
        out.url(models_url_);
        if (!call.body.empty()) out.body({});
        common_headers(call, out);
        return;
      case APX_OP_MESSAGES:
        return post_messages(call, out);
      case APX_OP_CHAT_COMPLETIONS:
        if (call.body.empty()) adapter_settings::refuse(id_, "chat completions need a JSON body");
        out.body(chat_to_messages(call.body, MessagesRequestOptions{call.model_id, default_max_tokens_, call.stream}));
        return post_messages(call, out);
      case APX_OP_COMPLETIONS:
      case APX_OP_EMBEDDINGS:
      case APX_OP_RESPONSES:
        break;
    }
    throw apx::Unsupported("operation " + std::to_string(call.operation) +
                           ": the anthropic adapter serves messages and chat completions");
  }

  void parse_models(std::string_view body, apx::ModelWriter& out) override {
    size_t refused = 0;
    apx::shape::for_each_model_entry(body, host_, id_, [&](const rapidjson::Value& entry, std::string_view model_id) {
      if (!adapter_settings::is_usable_model_id(model_id)) {
        ++refused;
        return;
      }
      std::string family = apx::shape::family_from_id(model_id);
      std::string metadata = apx::shape::to_json(entry);
      apx::Model m;
      m.model_id = model_id;
      m.family = family;
      m.display_name = apx::shape::string_member(entry, "display_name");
      m.capabilities = "chat,vision,function_calling";
      m.metadata_json = metadata;
      out.add(m);
    });
    if (refused)
      host_.warn("provider '" + id_ + "': skipped " + std::to_string(refused) +
                 " model ids longer than 256 bytes or with control characters");
  }

  // 529 is Anthropic's "overloaded": another upstream may well answer.
  apx_outcome classify_status(int http_status, std::string_view) override {
    return http_status == 529 ? APX_OUTCOME_RETRYABLE : APX_OUTCOME_HOST_RULE;
  }

  bool transform_answer(const apx::UpstreamCall& call, int http_status, std::string_view body,
                        apx::TransformWriter& out) override {
    if (call.operation != APX_OP_CHAT_COMPLETIONS) return false;  // native Messages: relayed as it is
    if (http_status >= 200 && http_status < 300)
      out.write(messages_answer_to_chat(body, call.model_id, static_cast<int64_t>(std::time(nullptr))));
    else
      out.write(messages_error_to_chat(http_status, body));
    return true;
  }

  std::unique_ptr<apx::StreamTransform> open_stream(const apx::UpstreamCall& call) override {
    if (call.operation != APX_OP_CHAT_COMPLETIONS || !call.stream) return nullptr;
    return std::make_unique<MessagesStreamToChat>(call.model_id, chat_stream_wants_usage(call.body),
                                                  static_cast<int64_t>(std::time(nullptr)));
  }

 private:
  void common_headers(const apx::UpstreamCall& call, apx::RequestWriter& out) const {
    api_key_.write(call, out);
    out.header("anthropic-version", version_);
  }

  void post_messages(const apx::UpstreamCall& call, apx::RequestWriter& out) const {
    if (call.body.empty()) adapter_settings::refuse(id_, "messages need a JSON body");
    out.method("POST");
    out.url(messages_url_);
    common_headers(call, out);
    out.header("content-type", "application/json");
    if (call.stream) out.header("accept", "text/event-stream");
  }

  apx::Host host_;
  std::string id_;
  std::string models_url_, messages_url_, version_;
  uint64_t default_max_tokens_;
  apx::shape::KeyHeader api_key_;
};

}  // namespace anthropic

APIPROXY_EXPORT_PROVIDER(anthropic::AnthropicAdapter, "anthropic", "1.0.0",
                         "Anthropic Messages API (Claude): native Messages, and chat completions translated")
