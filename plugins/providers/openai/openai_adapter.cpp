// provider_openai — adapter for the OpenAI API.
//
// URLs: list models / health = BASE_URL + MODELS_PATH (default /v1/models); chat,
// completions and embeddings under /v1/ (one /v1 when BASE_URL already ends in /v1).
// Headers: Authorization: Bearer API_KEY; optional settings ORGANIZATION and PROJECT
// become OpenAI-Organization / OpenAI-Project. Bodies pass through unchanged.
// Other client APIs (ABI 1.3): Responses natively at RESPONSES_PATH (default
// /v1/responses, "off" to have the gateway translate to chat completions instead);
// Anthropic Messages natively only when MESSAGES_PATH is set (a relay that serves both;
// the key then also goes in x-api-key), else translated.
#include <apiproxy/provider.hpp>

#include "../common/openai_shape.hpp"

namespace {

class OpenAIAdapter final : public apx::ProviderAdapter {
 public:
  OpenAIAdapter(const apx::Host& host, const apx::ProviderConfig& config)
      : host_(host),
        id_(config.id),
        endpoints_(config.base_url, config.models_path),
        organization_(apx::shape::trim(config.settings.get("ORGANIZATION"))),
        project_(apx::shape::trim(config.settings.get("PROJECT"))),
        messages_(apx::shape::native_api_url(config.settings, config.base_url, "MESSAGES_PATH", "")),
        responses_(apx::shape::native_api_url(config.settings, config.base_url, "RESPONSES_PATH", "/v1/responses")),
        api_key_(config.api_key),
        authorization_("Authorization", "Bearer ", config.api_key, false) {
    if (apx::shape::trim(config.base_url).empty())
      throw apx::InvalidInput("provider '" + id_ + "': BASE_URL is empty");
    apx::shape::require_header_safe("provider '" + id_ + "': API_KEY", config.api_key);
    apx::shape::require_header_safe("provider '" + id_ + "': ORGANIZATION", organization_);
    apx::shape::require_header_safe("provider '" + id_ + "': PROJECT", project_);
    if (!authorization_.configured())
      host_.warn("provider '" + id_ + "': API_KEY is empty, requests carry no Authorization");
    host_.debug("provider '" + id_ + "': openai adapter, models at " +
                apx::shape::redact_url(endpoints_.models) + ", API at " +
                apx::shape::redact_url(endpoints_.chat));
  }

  void build_request(const apx::UpstreamCall& call, apx::RequestWriter& out) override {
    switch (call.operation) {
      case APX_OP_LIST_MODELS:
      case APX_OP_HEALTH:
        out.method("GET");
        out.url(endpoints_.models);
        if (!call.body.empty()) out.body({});
        common_headers(call, out);
        return;
      case APX_OP_CHAT_COMPLETIONS:
        return post(call, endpoints_.chat, "chat completions", out);
      case APX_OP_COMPLETIONS:
        return post(call, endpoints_.completions, "completions", out);
      case APX_OP_EMBEDDINGS:
        return post(call, endpoints_.embeddings, "embeddings", out);
      case APX_OP_MESSAGES:
        if (messages_.empty()) break;  // the host translates to chat completions
        post(call, messages_, "messages", out);
        out.header("x-api-key", std::string(apx::shape::trim(call.key_or(api_key_))));
        return;
      case APX_OP_RESPONSES:
        if (responses_.empty()) break;
        return post(call, responses_, "responses", out);
    }
    throw apx::Unsupported("operation " + std::to_string(call.operation));
  }

  void parse_models(std::string_view body, apx::ModelWriter& out) override {
    apx::shape::for_each_model_entry(
        body, host_, id_, [&](const rapidjson::Value& entry, std::string_view model_id) {
          unsigned caps = apx::shape::declared_capabilities(entry, model_id)
                              .value_or(apx::shape::infer_openai_capabilities(model_id));
          apx::shape::emit_model(out, entry, model_id, apx::shape::family_from_id(model_id),
                                 caps);
        });
  }

  // classify_status: the SDK default (HOST_RULE). OpenAI's statuses mean what
  // RETRYABLE_STATUS_CODES expects (429 rate limit / quota, 5xx transient), so the host
  // rule is the right one.

 private:
  void common_headers(const apx::UpstreamCall& call, apx::RequestWriter& out) const {
    authorization_.write(call, out);
    if (!organization_.empty()) out.header("OpenAI-Organization", organization_);
    if (!project_.empty()) out.header("OpenAI-Project", project_);
  }

  void post(const apx::UpstreamCall& call, const std::string& url, std::string_view what,
            apx::RequestWriter& out) const {
    if (call.body.empty())
      throw apx::InvalidInput("provider '" + id_ + "': " + std::string(what) +
                              " needs a JSON body");
    out.method("POST");
    out.url(url);
    common_headers(call, out);
    out.header("Content-Type", "application/json");
    if (call.stream && call.operation != APX_OP_EMBEDDINGS)
      out.header("Accept", "text/event-stream");
  }

  apx::Host host_;
  std::string id_;
  apx::shape::OpenAIEndpoints endpoints_;
  std::string organization_, project_;
  std::string messages_, responses_;  // native Messages / Responses URLs, or empty
  std::string api_key_;               // never logged
  apx::shape::KeyHeader authorization_;
};

}  // namespace

APIPROXY_EXPORT_PROVIDER(OpenAIAdapter, "openai", "1.0.0",
                         "OpenAI API (Bearer auth, /v1 endpoints, OpenAI-Organization/Project)")
