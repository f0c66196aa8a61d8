// provider_local — adapter for local OpenAI-compatible servers: llama.cpp server, vLLM,
// Ollama (/v1), LM Studio and the like.
//
// Same URLs as the openai adapter. Authorization: Bearer API_KEY, except when the key is
// empty or "not-required" (any case), as the configuration guide's example sets it.
// Model lists: only `data` is read (llama.cpp also returns an Ollama-style `models`
// array, ignored); context length from `meta.n_ctx_train` (llama.cpp) or `max_model_len`
// (vLLM).
#include <apiproxy/provider.hpp>

#include "../common/openai_shape.hpp"

namespace {

// What a local model can do when the server does not say. These servers expose both
// /v1/chat/completions and /v1/completions for every generative model they load, and in
// local model names "instruct" means chat-tuned (Meta-Llama-3-8B-Instruct), not the
// OpenAI completion-only sense, so the OpenAI id rules do not apply.
unsigned infer_local_capabilities(std::string_view id) {
  std::string s = apx::shape::lower(id);
  auto has = [&](std::string_view needle) { return s.find(needle) != std::string::npos; };
  if (has("embed") || has("bge-") || has("e5-")) return apx::shape::kEmbedding;
  unsigned caps = apx::shape::kChat | apx::shape::kCompletion;
  if (has("vision") || has("llava") || has("-vl")) caps |= apx::shape::kVision;
  return caps;
}

class LocalAdapter final : public apx::ProviderAdapter {
 public:
  LocalAdapter(const apx::Host& host, const apx::ProviderConfig& config)
      : host_(host), id_(config.id), endpoints_(config.base_url, config.models_path),
        messages_(apx::shape::native_api_url(config.settings, config.base_url, "MESSAGES_PATH", "")),
        responses_(apx::shape::native_api_url(config.settings, config.base_url, "RESPONSES_PATH", "")),
        authorization_("Authorization", "Bearer ", config.api_key, true) {
    if (apx::shape::trim(config.base_url).empty())
      throw apx::InvalidInput("provider '" + id_ + "': BASE_URL is empty");
    if (authorization_.configured())
      apx::shape::require_header_safe("provider '" + id_ + "': API_KEY", config.api_key);
    host_.debug("provider '" + id_ + "': local adapter, models at " +
                apx::shape::redact_url(endpoints_.models) +
                (!authorization_.configured() ? ", no authentication" : ", bearer authentication"));
  }

  void build_request(const apx::UpstreamCall& call, apx::RequestWriter& out) override {
    switch (call.operation) {
      case APX_OP_LIST_MODELS:
      case APX_OP_HEALTH:
        out.method("GET");
        out.url(endpoints_.models);
        if (!call.body.empty()) out.body({});
        authorization_.write(call, out);
        return;
      case APX_OP_CHAT_COMPLETIONS:
        return post(call, endpoints_.chat, "chat completions", out);
      case APX_OP_COMPLETIONS:
        return post(call, endpoints_.completions, "completions", out);
      case APX_OP_EMBEDDINGS:
        return post(call, endpoints_.embeddings, "embeddings", out);
      case APX_OP_MESSAGES:  // natively only when configured; else the host translates
        if (messages_.empty()) break;
        return post(call, messages_, "messages", out);
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
                              .value_or(infer_local_capabilities(model_id));
          apx::shape::emit_model(out, entry, model_id, apx::shape::family_from_id(model_id),
                                 caps);
        });
  }

  // classify_status: the SDK default (HOST_RULE); local servers use ordinary HTTP
  // statuses (llama.cpp answers 503 while loading a model, which the host rule retries).

 private:
  void post(const apx::UpstreamCall& call, const std::string& url, std::string_view what,
            apx::RequestWriter& out) const {
    if (call.body.empty())
      throw apx::InvalidInput("provider '" + id_ + "': " + std::string(what) +
                              " needs a JSON body");
    out.method("POST");
    out.url(url);
    authorization_.write(call, out);
    out.header("Content-Type", "application/json");
    if (call.stream && call.operation != APX_OP_EMBEDDINGS)
      out.header("Accept", "text/event-stream");
  }

  apx::Host host_;
  std::string id_;
  apx::shape::OpenAIEndpoints endpoints_;
  std::string messages_, responses_;  // MESSAGES_PATH / RESPONSES_PATH URLs, or empty
  apx::shape::KeyHeader authorization_;
};

}  // namespace

APIPROXY_EXPORT_PROVIDER(LocalAdapter, "local", "1.0.0",
                         "local OpenAI-compatible servers: llama.cpp, vLLM, Ollama "
                         "(optional Bearer auth)")
