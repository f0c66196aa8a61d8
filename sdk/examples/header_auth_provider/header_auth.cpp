// header_auth — an example provider adapter for an OpenAI-compatible service that wants its
// key in a header of its own ("X-Api-Key: <key>") instead of "Authorization: Bearer <key>".
//
//   LLM_PROVIDER_acme_ADAPTER=header_auth
//   LLM_PROVIDER_acme_AUTH_HEADER=X-Api-Key     optional; X-Api-Key when absent
//
// URLs: BASE_URL + /v1/chat/completions, /v1/completions, /v1/embeddings (one /v1 when
// BASE_URL already ends in /v1); the model list at BASE_URL + MODELS_PATH, or /v1/models.
//
// An adapter only transforms: the host does the I/O, applies timeouts and retries, and
// relays streams. One adapter object exists per configured provider; its methods may run
// on several threads at once, so everything is computed in the constructor and only read
// afterwards.
#include <apiproxy/provider.hpp>

#include "model_list.hpp"

namespace {

// RFC 9110 token characters: what a header name may contain.
bool is_header_name(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
    if (!ok) return false;
  }
  return true;
}

class HeaderAuthAdapter final : public apx::ProviderAdapter {
 public:
  // `config` is borrowed for this call only (apx::ProviderConfig is already a copy, and
  // these members copy again what they keep). Throwing apx::InvalidInput refuses the
  // provider: the host logs the message and skips it, other providers keep working.
  HeaderAuthAdapter(const apx::Host& host, const apx::ProviderConfig& config)
      : auth_header_(config.settings.get("AUTH_HEADER", "X-Api-Key")), api_key_(config.api_key) {
    const std::string who = "provider '" + config.id + "': ";
    if (!is_header_name(auth_header_))
      throw apx::InvalidInput(who + "AUTH_HEADER is not a valid header name");
    // A CR or LF in the key would let it inject headers. The message names the setting,
    // never the value: it is a secret.
    if (api_key_.find_first_of(std::string_view("\r\n\0", 3)) != std::string::npos)
      throw apx::InvalidInput(who + "API_KEY contains a line break or NUL");

    std::string base = config.base_url;  // the host strips trailing slashes
    std::string api = base.size() >= 3 && base.compare(base.size() - 3, 3, "/v1") == 0
                          ? base
                          : base + "/v1";
    chat_url_ = api + "/chat/completions";
    completions_url_ = api + "/completions";
    embeddings_url_ = api + "/embeddings";
    models_url_ = config.models_path.empty() ? api + "/models" : base + config.models_path;
    host.debug(who + "key sent in " + auth_header_ + ", models at " + models_url_);
  }

  // Called for every upstream request. The host has already set the defaults (method GET,
  // or POST when there is a body; body = the client's JSON with `model` rewritten to the
  // upstream's model id); the adapter adds the URL and headers.
  void build_request(const apx::UpstreamCall& call, apx::RequestWriter& out) override {
    switch (call.operation) {
      case APX_OP_LIST_MODELS:
      case APX_OP_HEALTH:  // a model list that answers is the health check
        out.method("GET");
        out.url(models_url_);
        out.header(auth_header_, call.key_or(api_key_));
        return;
      case APX_OP_CHAT_COMPLETIONS: return post(chat_url_, call, out);
      case APX_OP_COMPLETIONS: return post(completions_url_, call, out);
      case APX_OP_EMBEDDINGS: return post(embeddings_url_, call, out);
      case APX_OP_MESSAGES:   // other client APIs (SDK 1.3): answering Unsupported has the
      case APX_OP_RESPONSES:  // host translate them to chat completions for this adapter
        break;
    }
    // An operation added by a newer host arrives as 0: say so instead of guessing.
    throw apx::Unsupported("operation not supported by header_auth");
  }

  // Called with the body of a successful model-list response. One out.add() per model;
  // fields left empty are filled in by the host (display name = id, capabilities = chat).
  void parse_models(std::string_view body, apx::ModelWriter& out) override {
    example::for_each_model(body, [&](std::string_view id, std::string_view raw_entry) {
      apx::Model m;
      m.model_id = id;
      m.metadata_json = raw_entry;  // kept by the host as the model's `metadata`
      out.add(m);                   // the host copies: `id` may point into a temporary
    });
  }

  // classify_status is not overridden: this service uses ordinary HTTP statuses, so the
  // operator's RETRYABLE_STATUS_CODES decides (APX_OUTCOME_HOST_RULE). Override it for a
  // service that signals "try elsewhere" in its own way, e.g. a 400 meaning "overloaded".

 private:
  void post(const std::string& url, const apx::UpstreamCall& call, apx::RequestWriter& out) const {
    if (call.body.empty()) throw apx::InvalidInput("a JSON body is required");
    out.method("POST");
    out.url(url);
    out.header(auth_header_, call.key_or(api_key_));
    out.header("Content-Type", "application/json");
    if (call.stream) out.header("Accept", "text/event-stream");
  }

  std::string auth_header_, api_key_;  // api_key_ is never logged
  std::string chat_url_, completions_url_, embeddings_url_, models_url_;
};

}  // namespace

// Defines apiproxy_plugin_entry(): providers select this adapter with ADAPTER=header_auth.
APIPROXY_EXPORT_PROVIDER(HeaderAuthAdapter, "header_auth", "1.0.0",
                         "example: OpenAI-compatible API, key in a configurable header "
                         "(AUTH_HEADER, default X-Api-Key)")
