// A data-plane world for the /v1 tests: a private redis-server, three mock upstreams and a
// gateway routing to them.
//
//   alpha  adapter openai  models gpt-4o-mini, shared-model, only-alpha, text-embedding-3-small
//   beta   adapter openai  models gpt-4o-mini, shared-model, only-beta, text-embedding-3-small
//   az     adapter azure   models (deployments) az-gpt4
//
// Logical models written to Redis before the gateway starts (unless a test passes its own):
//   chat-pool   alpha/gpt-4o-mini + beta/gpt-4o-mini (equal weights)
//   ghost-pool  nowhere/gpt-4o-mini (a provider that is not configured)
//
// start() returns once /v1/models shows the logical models and every provider's discovered
// list, so a test can route to discovered models at once.
#pragma once

#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <gtest/gtest.h>
#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "json.hpp"
#include "services.hpp"
#include "sse.hpp"

namespace it::dp {

inline constexpr const char* kToken = "data-plane-token";
inline constexpr const char* kAlphaKey = "sk-alpha-key-0123456789";
inline constexpr const char* kBetaKey = "sk-beta-key-9876543210";
inline constexpr const char* kAzureKey = "azure-key-abcdef012345";

// `s` as a JSON string literal.
inline std::string quote(std::string_view s) {
  rapidjson::StringBuffer buf;
  rapidjson::Writer<rapidjson::StringBuffer> w(buf);
  w.String(s.data(), static_cast<rapidjson::SizeType>(s.size()));
  return {buf.GetString(), buf.GetSize()};
}

// {"model":M,"messages":[{"role":"user","content":MESSAGE}]EXTRA}; `extra` starts with a comma.
inline std::string chat_body(std::string_view model, std::string_view message, std::string_view extra = "") {
  return "{\"model\":" + quote(model) + ",\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},"
         "{\"role\":\"user\",\"content\":" + quote(message) + "}]" + std::string(extra) + "}";
}

// A PhysicalModel as the original service writes it.
inline std::string physical(std::string_view provider, std::string_view model, double weight = 1.0,
                            std::string_view region = "") {
  std::string w = std::to_string(weight);
  return "{\"provider_id\":" + quote(provider) + ",\"model_id\":" + quote(model) +
         ",\"endpoint\":\"/v1/chat/completions\",\"base_weight\":" + w +
         ",\"region\":" + (region.empty() ? std::string("null") : quote(region)) +
         ",\"max_qps\":null,\"meta_hash\":null,\"updated_at\":1700000000}";
}

// A LogicalModel with `upstreams` (PhysicalModel JSON objects).
inline std::string logical(std::string_view id, const std::vector<std::string>& upstreams,
                           std::string_view extra = "") {
  std::string ups;
  for (const auto& u : upstreams) ups += (ups.empty() ? "" : ",") + u;
  return "{\"logical_id\":" + quote(id) + ",\"display_name\":" + quote(id) +
         ",\"description\":\"data plane test\",\"capabilities\":[\"chat\",\"completion\"],\"upstreams\":[" + ups +
         "],\"enabled\":true,\"updated_at\":1700000000" + std::string(extra) + "}";
}

inline std::map<std::string, std::string> default_logical_models() {
  return {{"chat-pool", logical("chat-pool", {physical("alpha", "gpt-4o-mini"), physical("beta", "gpt-4o-mini")})},
          {"ghost-pool", logical("ghost-pool", {physical("nowhere", "gpt-4o-mini")})}};
}

// by_path[path] of a mock's /__mock/stats (0 when absent).
inline long long path_count(const rapidjson::Document& stats, const std::string& path) {
  if (!stats.IsObject() || !stats.HasMember("by_path") || !stats["by_path"].IsObject()) return 0;
  const auto& by = stats["by_path"];
  auto it = by.FindMember(path.c_str());
  return it == by.MemberEnd() || !it->value.IsNumber() ? 0 : it->value.GetInt64();
}

inline constexpr const char* kChatPath = "/v1/chat/completions";

class World {
 public:
  RedisServer redis;
  MockUpstream alpha{{"--name", "alpha", "--models", "gpt-4o-mini,shared-model,only-alpha,text-embedding-3-small",
                      "--require-key", kAlphaKey}};
  MockUpstream beta{{"--name", "beta", "--models", "gpt-4o-mini,shared-model,only-beta,text-embedding-3-small",
                     "--require-key", kBetaKey}};
  MockUpstream az{{"--name", "az", "--models", "az-gpt4", "--require-key", kAzureKey}};
  std::unique_ptr<Gateway> gateway;

  // The gateway's environment before start(): the three providers, Redis, the token and
  // short background intervals. A test may edit it (or pass `extra` to start()).
  EnvMap env() const {
    EnvMap env = gateway_env({{"APIPROXY_AUTH_TOKEN", kToken},
                              {"REDIS_URL", redis.url()},
                              {"APIPROXY_METRICS_FLUSH_MS", "200"},
                              {"APIPROXY_CATALOG_REFRESH_SECONDS", "1"},
                              {"APIPROXY_MAX_BODY_BYTES", "262144"},
                              {"APIPROXY_UPSTREAM_CONNECT_TIMEOUT_MS", "2000"}});
    add_provider(env, "alpha", alpha.base_url(), kAlphaKey, {{"ADAPTER", "openai"}});
    add_provider(env, "beta", beta.base_url(), kBetaKey, {{"ADAPTER", "openai"}});
    add_provider(env, "az", az.base_url(), kAzureKey, {{"ADAPTER", "azure"}, {"MODELS_PATH", "/openai/models"}});
    return env;
  }

  // Writes the logical models into Redis, starts the gateway and waits until it serves them
  // and every provider's discovered models.
  void start(const EnvMap& extra = {}, const std::map<std::string, std::string>& logical_models = default_logical_models(),
             std::set<std::string> expect_models = {"only-alpha", "only-beta", "az-gpt4"}) {
    for (const auto& [id, json] : logical_models) redis.cli({"SET", "llm:logical:" + id, json});
    EnvMap e = env();
    for (const auto& [k, v] : extra) e[k] = v;
    gateway = std::make_unique<Gateway>(e);
    for (const auto& [id, json] : logical_models) expect_models.insert(id);
    std::string last;
    bool ready = eventually(
        [&] {
          auto r = get("/v1/models");
          last = r.dump();
          if (r.status != 200) return false;
          auto ids = pluck(arr(parse_json(r.body), "data"), "id");
          std::set<std::string> have(ids.begin(), ids.end());
          for (const auto& m : expect_models)
            if (!have.count(m)) return false;
          return true;
        },
        std::chrono::seconds(10), std::chrono::milliseconds(50));
    if (!ready) throw std::runtime_error("the gateway never listed every model; last /v1/models:\n" + last);
  }

  Headers auth(Headers more = {}) const {
    more.push_back(bearer(kToken));
    return more;
  }
  HttpClient client(std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    return gateway->client(timeout);
  }
  Response get(const std::string& path, const Headers& headers = {}) const {
    return client().get(path, auth(headers));
  }
  Response post(const std::string& path, const std::string& body, const Headers& headers = {},
                std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    return client(timeout).post(path, body, auth(headers));
  }
  Response chat(const std::string& model, const std::string& message, const Headers& headers = {},
                const std::string& extra = "") const {
    return post(kChatPath, chat_body(model, message, extra), headers);
  }
  // A streamed request on a raw socket, read incrementally.
  std::unique_ptr<SseStream> stream(const std::string& path, const std::string& body, const Headers& headers = {},
                                    std::chrono::milliseconds timeout = std::chrono::seconds(10)) const {
    return std::make_unique<SseStream>(gateway->port(), "POST", path, auth(headers), body, timeout);
  }

  const MockUpstream& mock(const std::string& id) const {
    if (id == "alpha") return alpha;
    if (id == "beta") return beta;
    if (id == "az") return az;
    throw std::runtime_error("no mock named '" + id + "'");
  }
  // Inference requests a mock has seen on `path` (default: chat completions).
  long long count(const std::string& id, const std::string& path = kChatPath) const {
    return path_count(mock(id).stats(), path);
  }
};

// The reply text a mock sends for `message`.
inline std::string reply_of(const std::string& provider, const std::string& message) {
  return "mock " + provider + " reply to: " + message;
}

// choices[0].message.content of a chat completion ("" when absent).
inline std::string content_of(const std::string& body) {
  auto d = parse_json(body);
  if (!d.IsObject() || !d.HasMember("choices") || !d["choices"].IsArray() || d["choices"].Empty()) return {};
  const auto& c = d["choices"][0];
  if (!c.IsObject() || !c.HasMember("message")) return {};
  return str(c["message"], "content");
}

}  // namespace it::dp
