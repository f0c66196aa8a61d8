// provider_azure — adapter for Azure OpenAI.
//
// URLs (every one carries api-version=API_VERSION, default 2024-10-21):
//   list models / health: BASE_URL + MODELS_PATH (default /openai/models)
//   chat:        BASE_URL/openai/deployments/{deployment}/chat/completions
//   completions: BASE_URL/openai/deployments/{deployment}/completions
//   embeddings:  BASE_URL/openai/deployments/{deployment}/embeddings
// where the deployment is the upstream's model_id. Header: api-key: API_KEY (Azure's key
// authentication; never Authorization). Bodies pass through unchanged.
#include <apiproxy/provider.hpp>

#include "../common/openai_shape.hpp"

namespace {

constexpr std::string_view kDefaultApiVersion = "2024-10-21";

class AzureAdapter final : public apx::ProviderAdapter {
 public:
  AzureAdapter(const apx::Host& host, const apx::ProviderConfig& config)
      : host_(host), id_(config.id), api_key_("api-key", "", config.api_key, false) {
    std::string_view base = apx::shape::trim(config.base_url);
    if (base.empty()) throw apx::InvalidInput("provider '" + id_ + "': BASE_URL is empty");
    apx::shape::require_header_safe("provider '" + id_ + "': API_KEY", config.api_key);
    if (!api_key_.configured())
      host_.warn("provider '" + id_ + "': API_KEY is empty, requests carry no api-key");

    api_version_ = std::string(apx::shape::trim(config.settings.get("API_VERSION")));
    if (api_version_.empty()) api_version_ = std::string(kDefaultApiVersion);

    // A BASE_URL that already ends in /openai does not get a second one.
    models_url_ = apx::shape::with_query_param(
        config.models_path.empty() ? apx::shape::join_api_url(base, "/openai/models", "/openai")
                                   : apx::shape::join_url(base, config.models_path),
        "api-version", api_version_);
    deployments_url_ = apx::shape::join_api_url(base, "/openai/deployments", "/openai");
    query_ = "?api-version=" + apx::shape::url_encode(api_version_);

    host_.debug("provider '" + id_ + "': azure adapter, api-version " + api_version_ +
                ", models at " + apx::shape::redact_url(models_url_) + ", deployments at " +
                apx::shape::redact_url(deployments_url_));
  }

  void build_request(const apx::UpstreamCall& call, apx::RequestWriter& out) override {
    switch (call.operation) {
      case APX_OP_LIST_MODELS:
      case APX_OP_HEALTH:
        out.method("GET");
        out.url(models_url_);
        if (!call.body.empty()) out.body({});
        api_key_.write(call, out);
        return;
      case APX_OP_CHAT_COMPLETIONS:
        return post(call, "/chat/completions", "chat completions", out);
      case APX_OP_COMPLETIONS:
        return post(call, "/completions", "completions", out);
      case APX_OP_EMBEDDINGS:
        return post(call, "/embeddings", "embeddings", out);
      case APX_OP_MESSAGES:   // Azure OpenAI speaks neither: the host translates to chat
      case APX_OP_RESPONSES:  // completions for this adapter
        break;
    }
    throw apx::Unsupported("operation " + std::to_string(call.operation));
  }

  // Azure's model entries: {id, status, capabilities{chat_completion, completion,
  // embeddings, fine_tune, inference}, lifecycle_status, created_at, deprecation{...}}.
  // Capabilities come from those booleans (id inference when absent). A deployments
  // listing ({id: deployment, model: base model}) gets its family from `model`.
  void parse_models(std::string_view body, apx::ModelWriter& out) override {
    apx::shape::for_each_model_entry(
        body, host_, id_, [&](const rapidjson::Value& entry, std::string_view model_id) {
          std::string_view base_model = apx::shape::string_member(entry, "model");
          std::string_view naming = base_model.empty() ? model_id : base_model;
          unsigned caps = apx::shape::declared_capabilities(entry, naming)
                              .value_or(apx::shape::infer_openai_capabilities(naming));
          apx::shape::emit_model(out, entry, model_id, apx::shape::family_from_id(naming),
                                 caps);
        });
  }

  // classify_status: the SDK default (HOST_RULE). Azure's 429 (rate / token quota per
  // deployment) and 5xx are the retryable cases RETRYABLE_STATUS_CODES describes; its
  // 400 content-filter answers must reach the client, which the host rule already does.

 private:
  void post(const apx::UpstreamCall& call, std::string_view suffix, std::string_view what,
            apx::RequestWriter& out) const {
    if (call.model_id.empty())
      throw apx::InvalidInput("provider '" + id_ + "': " + std::string(what) +
                              " needs a deployment name (the upstream's model_id)");
    if (call.body.empty())
      throw apx::InvalidInput("provider '" + id_ + "': " + std::string(what) +
                              " needs a JSON body");
    std::string deployment = apx::shape::url_encode(call.model_id);
    std::string url;
    url.reserve(deployments_url_.size() + 1 + deployment.size() + suffix.size() + query_.size());
    url.append(deployments_url_).append("/").append(deployment).append(suffix).append(query_);
    out.method("POST");
    out.url(url);
    api_key_.write(call, out);
    out.header("Content-Type", "application/json");
    if (call.stream && call.operation != APX_OP_EMBEDDINGS)
      out.header("Accept", "text/event-stream");
  }

  apx::Host host_;
  std::string id_;
  apx::shape::KeyHeader api_key_;
  std::string api_version_;
  std::string models_url_;       // with api-version
  std::string deployments_url_;  // .../openai/deployments
  std::string query_;            // "?api-version=..."
};

}  // namespace

APIPROXY_EXPORT_PROVIDER(AzureAdapter, "azure", "1.0.0",
                         "Azure OpenAI (deployments, api-version, api-key header)")
