// Token and cost accounting over real traffic: the real gateway, plugins, redis-server and
// mocks (support/data_plane.hpp). What the upstream's `usage` said — in a JSON answer, or in
// the usage event of a stream, asked for by the client or by the gateway in its place —
// must reach apiproxy_tokens_total and apiproxy_cost_total exactly, the access log as
// numbers, and the rolling summary of GET /providers/{id}/metrics; a stream whose client did
// not ask for usage must not receive the usage event; and usage an upstream broke must
// neither be counted nor break anything.
#include <cmath>
#include <map>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "assertions.hpp"
#include "data_plane.hpp"

namespace it {
namespace {

using namespace dp;
using namespace std::chrono_literals;

// Prices of alpha, per 1,000 tokens.
constexpr double kCostInput = 0.5;
constexpr double kCostOutput = 1.5;

// A usage the mock reports instead of its own count, and what it costs at alpha's prices.
const char* kFixedUsage = R"({"prompt_tokens":2000,"completion_tokens":1000,"total_tokens":3000})";
constexpr double kFixedCost = 2000 / 1000.0 * kCostInput + 1000 / 1000.0 * kCostOutput;

// The samples of an exposition by their exact series text.
std::map<std::string, double> samples_of(const std::string& text) {
  std::map<std::string, double> out;
  for (const auto& line : lines_of(text)) {
    if (line[0] == '#') continue;
    size_t space = line.rfind(' ');
    if (space != std::string::npos) out[line.substr(0, space)] = std::strtod(line.c_str() + space + 1, nullptr);
  }
  return out;
}

std::string labels(const std::string& logical, const std::string& provider, const std::string& model) {
  return "logical_model=\"" + logical + "\",provider=\"" + provider + "\",model=\"" + model + "\"";
}
std::string tokens(const std::string& direction, const std::string& logical, const std::string& provider = "alpha",
                   const std::string& model = "gpt-4o-mini") {
  return "apiproxy_tokens_total{direction=\"" + direction + "\"," + labels(logical, provider, model) + "}";
}
std::string cost(const std::string& logical, const std::string& provider = "alpha",
                 const std::string& model = "gpt-4o-mini") {
  return "apiproxy_cost_total{" + labels(logical, provider, model) + "}";
}

struct Usage {
  long long prompt = 0, completion = 0, total = 0;
  double cost() const { return prompt / 1000.0 * kCostInput + completion / 1000.0 * kCostOutput; }
};

Usage usage_of(const rapidjson::Value& usage) {
  return {static_cast<long long>(num(usage, "prompt_tokens", 0)),
          static_cast<long long>(num(usage, "completion_tokens", 0)),
          static_cast<long long>(num(usage, "total_tokens", 0))};
}

// A logical model served by alpha alone, so every answer's provider is known.
std::map<std::string, std::string> models() {
  auto m = default_logical_models();
  m["acct"] = logical("acct", {physical("alpha", "gpt-4o-mini")});
  m["acct-beta"] = logical("acct-beta", {physical("beta", "gpt-4o-mini")});
  return m;
}

EnvMap prices(EnvMap extra = {}) {
  extra["LLM_PROVIDER_alpha_COST_INPUT"] = "0.5";
  extra["LLM_PROVIDER_alpha_COST_OUTPUT"] = "1.5";
  return extra;
}

class UsageAccounting : public ::testing::Test {
 protected:
  World world;

  void start(EnvMap extra = {}) { world.start(prices(std::move(extra)), models()); }

  std::map<std::string, double> metrics() const {
    auto r = world.get("/metrics");
    EXPECT_EQ(r.status, 200) << r.dump();
    return samples_of(r.body);
  }

  // The events of a streamed request, read to the end of the body.
  std::vector<std::string> stream_events(const std::string& path, const std::string& body,
                                         const Headers& headers = {}) const {
    auto s = world.stream(path, body, headers);
    EXPECT_TRUE(s->read_head());
    EXPECT_EQ(s->status(), 200) << s->body();
    auto events = s->rest();
    EXPECT_TRUE(s->complete());
    return events;
  }

  // The body alpha received last.
  rapidjson::Document sent_to_alpha() const { return parse_json(str(world.alpha.stats()["last_request"], "body")); }
};

TEST_F(UsageAccounting, AnswersOfEveryEndpointAreCountedAsTheirUsageSays) {
  start();
  Usage chat, embeddings;
  double chat_cost = 0;  // summed request by request, as the gateway adds them
  for (int i = 0; i < 3; ++i) {
    auto r = world.chat("acct", "count my tokens please, number " + std::to_string(i) + std::string(i * 40, 'x'));
    ASSERT_EQ(r.status, 200) << r.dump();
    Usage u = usage_of(parse_json(r.body)["usage"]);
    ASSERT_GT(u.prompt, 0);
    ASSERT_GT(u.completion, 0);
    chat.prompt += u.prompt;
    chat.completion += u.completion;
    chat_cost += u.cost();
  }
  auto completion = world.post("/v1/completions", R"({"model":"acct","prompt":"complete these few words"})");
  ASSERT_EQ(completion.status, 200) << completion.dump();
  Usage c = usage_of(parse_json(completion.body)["usage"]);
  chat.prompt += c.prompt;
  chat.completion += c.completion;
  chat_cost += c.cost();
  auto embed = world.post("/v1/embeddings", R"({"model":"alpha/text-embedding-3-small","input":["one text","two"]})");
  ASSERT_EQ(embed.status, 200) << embed.dump();
  embeddings = usage_of(parse_json(embed.body)["usage"]);
  ASSERT_GT(embeddings.prompt, 0);

  // A model name a client made up is counted, under the shared "(unlisted)" labels.
  auto invented = world.chat("alpha/made-up-model-1", "who am I");
  ASSERT_EQ(invented.status, 200) << invented.dump();
  Usage made_up = usage_of(parse_json(invented.body)["usage"]);

  auto m = metrics();
  EXPECT_EQ(m[tokens("prompt", "(unlisted)", "alpha", "(unlisted)")], made_up.prompt);
  EXPECT_EQ(m[tokens("completion", "(unlisted)", "alpha", "(unlisted)")], made_up.completion);
  EXPECT_EQ(m[tokens("prompt", "acct")], chat.prompt);
  EXPECT_EQ(m[tokens("completion", "acct")], chat.completion);
  EXPECT_DOUBLE_EQ(m[cost("acct")], chat_cost);
  std::string emb_logical = "alpha/text-embedding-3-small";
  EXPECT_EQ(m[tokens("prompt", emb_logical, "alpha", "text-embedding-3-small")], embeddings.prompt);
  EXPECT_EQ(m[tokens("completion", emb_logical, "alpha", "text-embedding-3-small")], 0);
  EXPECT_DOUBLE_EQ(m[cost(emb_logical, "alpha", "text-embedding-3-small")], embeddings.cost());
}

TEST_F(UsageAccounting, AStreamThatDidNotAskGetsNoUsageEventYetIsCounted) {
  start();
  world.alpha.configure(std::string(R"({"usage":)") + kFixedUsage + "}");
  for (const char* path : {kChatPath, "/v1/completions"}) {
    SCOPED_TRACE(path);
    std::string body = std::string(path) == kChatPath ? chat_body("acct", "stream without usage", R"(,"stream":true)")
                                                      : R"({"model":"acct","prompt":"stream it","stream":true})";
    auto events = stream_events(path, body);
    ASSERT_GE(events.size(), 3u);
    EXPECT_EQ(events.back(), "[DONE]");
    for (const auto& e : events) {
      EXPECT_FALSE(Contains(e, "\"usage\":{")) << "the client received a usage event it did not ask for: " << e;
      if (e != "[DONE]") {
        auto d = parse_json(e);
        EXPECT_FALSE(arr(d, "choices").Empty()) << e;
      }
    }
    // The gateway asked alpha for usage in the client's place.
    auto sent = sent_to_alpha();
    ASSERT_TRUE(sent.HasMember("stream_options") && sent["stream_options"].IsObject()) << to_string(sent);
    EXPECT_TRUE(sent["stream_options"]["include_usage"].GetBool());
  }
  auto m = metrics();
  EXPECT_EQ(m[tokens("prompt", "acct")], 2 * 2000);
  EXPECT_EQ(m[tokens("completion", "acct")], 2 * 1000);
  EXPECT_DOUBLE_EQ(m[cost("acct")], 2 * kFixedCost);
}

TEST_F(UsageAccounting, AStreamThatAskedReceivesTheUsageEventUnchanged) {
  start();
  world.alpha.configure(std::string(R"({"usage":)") + kFixedUsage + "}");
  std::string body = chat_body("acct", "stream with usage", R"(,"stream":true,"stream_options":{"include_usage":true})");
  auto events = stream_events(kChatPath, body);
  ASSERT_GE(events.size(), 3u);
  EXPECT_EQ(events.back(), "[DONE]");
  const std::string& usage_event = events[events.size() - 2];
  // The mock's own bytes: an empty choices list, then the usage object as configured.
  EXPECT_TRUE(Contains(usage_event, std::string(R"("choices":[],"usage":)") + kFixedUsage + "}")) << usage_event;
  // The upstream got the client's stream_options as they were.
  auto sent = sent_to_alpha();
  EXPECT_EQ(to_string(sent["stream_options"]), R"({"include_usage":true})");

  // A client that said no gets no usage, and no tokens are counted for it.
  std::string declined =
      chat_body("acct", "no usage", R"(,"stream":true,"stream_options":{"include_usage":false})");
  for (const auto& e : stream_events(kChatPath, declined)) EXPECT_FALSE(Contains(e, "\"usage\":{")) << e;

  auto m = metrics();
  EXPECT_EQ(m[tokens("prompt", "acct")], 2000);
  EXPECT_EQ(m[tokens("completion", "acct")], 1000);
  EXPECT_DOUBLE_EQ(m[cost("acct")], kFixedCost);
}

TEST_F(UsageAccounting, TheAccessLogCarriesTokensAndCostAsNumbers) {
  start({{"LOG_FORMAT", "json"}});
  auto plain = world.chat("acct", "log my tokens", {{"X-Request-Id", "usage-json-1"}});
  ASSERT_EQ(plain.status, 200) << plain.dump();
  Usage u = usage_of(parse_json(plain.body)["usage"]);
  world.alpha.configure(std::string(R"({"usage":)") + kFixedUsage + "}");
  stream_events(kChatPath, chat_body("acct", "log a stream", R"(,"stream":true)"), {{"X-Request-Id", "usage-stream-1"}});
  auto missing = world.chat("no-such-model", "x", {{"X-Request-Id", "usage-404"}});
  ASSERT_EQ(missing.status, 404);
  world.gateway->stop();

  std::map<std::string, rapidjson::Document> access;
  for (const auto& line : lines_of(world.gateway->log())) {
    rapidjson::Document d;
    d.Parse(line.c_str(), line.size());
    if (d.HasParseError() || !d.IsObject() || !d.HasMember("access")) continue;
    std::string id = str(d["access"], "request_id");
    rapidjson::Document a;
    a.CopyFrom(d["access"], a.GetAllocator());
    access[id] = std::move(a);
  }
  ASSERT_TRUE(access.count("usage-json-1")) << world.gateway->log();
  ASSERT_TRUE(access.count("usage-stream-1")) << world.gateway->log();
  const auto& json = access["usage-json-1"];
  ASSERT_TRUE(json.HasMember("prompt_tokens") && json["prompt_tokens"].IsInt64());
  EXPECT_EQ(json["prompt_tokens"].GetInt64(), u.prompt);
  EXPECT_EQ(json["completion_tokens"].GetInt64(), u.completion);
  ASSERT_TRUE(json["cost"].IsNumber());
  EXPECT_DOUBLE_EQ(json["cost"].GetDouble(), u.cost());
  const auto& stream = access["usage-stream-1"];
  EXPECT_EQ(stream["prompt_tokens"].GetInt64(), 2000);
  EXPECT_EQ(stream["completion_tokens"].GetInt64(), 1000);
  EXPECT_DOUBLE_EQ(stream["cost"].GetDouble(), kFixedCost);
  // No answer, no usage.
  ASSERT_TRUE(access.count("usage-404"));
  EXPECT_FALSE(access["usage-404"].HasMember("prompt_tokens"));
  EXPECT_FALSE(access["usage-404"].HasMember("cost"));
}

TEST_F(UsageAccounting, ProviderMetricsShowARollingSummaryPerLogicalModel) {
  start();
  world.alpha.configure(std::string(R"({"usage":)") + kFixedUsage + "}");
  for (int i = 0; i < 2; ++i) ASSERT_EQ(world.chat("acct", "summary " + std::to_string(i)).status, 200);
  stream_events(kChatPath, chat_body("acct", "summary stream", R"(,"stream":true)"));
  // A stream whose client declined usage: answered, without usage.
  stream_events(kChatPath,
                chat_body("acct", "declined", R"(,"stream":true,"stream_options":{"include_usage":false})"));
  ASSERT_EQ(world.chat("acct-beta", "on beta").status, 200);

  auto r = world.get("/providers/alpha/metrics");
  ASSERT_EQ(r.status, 200) << r.dump();
  auto d = parse_json(r.body);
  ASSERT_TRUE(d.HasMember("metrics") && d["metrics"].IsArray()) << r.body;
  ASSERT_TRUE(d.HasMember("usage") && d["usage"].IsObject()) << r.body;
  const auto& usage = d["usage"];
  EXPECT_EQ(str(usage, "scope"), "instance");
  EXPECT_EQ(num(usage, "window_seconds"), 3600);
  const rapidjson::Value* acct = nullptr;
  for (const auto& row : arr(usage, "logical_models").GetArray()) {
    EXPECT_NE(str(row, "logical_model"), "acct-beta") << "beta's model under alpha: " << r.body;
    if (str(row, "logical_model") == "acct") acct = &row;
  }
  ASSERT_TRUE(acct) << r.body;
  for (const char* window : {"since_start", "last_hour"}) {
    SCOPED_TRACE(window);
    const auto& t = (*acct)[window];
    EXPECT_EQ(num(t, "requests"), 3);
    EXPECT_EQ(num(t, "requests_without_usage"), 1);
    EXPECT_EQ(num(t, "prompt_tokens"), 3 * 2000);
    EXPECT_EQ(num(t, "completion_tokens"), 3 * 1000);
    EXPECT_EQ(num(t, "total_tokens"), 3 * 3000);
    EXPECT_DOUBLE_EQ(num(t, "cost"), 3 * kFixedCost);
  }
  // One logical model only, and beta's own summary.
  auto one = parse_json(world.get("/providers/alpha/metrics?logical_model=acct").body);
  EXPECT_EQ(arr(one["usage"], "logical_models").Size(), 1u);
  auto none = parse_json(world.get("/providers/alpha/metrics?logical_model=acct-beta").body);
  EXPECT_EQ(arr(none["usage"], "logical_models").Size(), 0u);
  auto beta = parse_json(world.get("/providers/beta/metrics").body);
  ASSERT_EQ(arr(beta["usage"], "logical_models").Size(), 1u);
  const auto& beta_row = arr(beta["usage"], "logical_models")[0];
  EXPECT_EQ(str(beta_row, "logical_model"), "acct-beta");
  EXPECT_EQ(num(beta_row["since_start"], "requests"), 1);
  EXPECT_EQ(num(beta_row["since_start"], "cost"), 0);  // beta has no prices
}

TEST_F(UsageAccounting, BrokenUsageFromAnUpstreamIsNotCountedAndBreaksNothing) {
  // beta's prices are so large that any token costs more than a double holds.
  start({{"LLM_PROVIDER_beta_COST_INPUT", "1e308"}, {"LLM_PROVIDER_beta_COST_OUTPUT", "1e308"}});
  const std::vector<std::string> broken = {
      R"({"prompt_tokens":-5,"completion_tokens":3,"total_tokens":-2})",
      R"({"prompt_tokens":"12","completion_tokens":"many"})",
      R"({"prompt_tokens":1e30,"completion_tokens":1})",
      R"({"prompt_tokens":99999999999999999999999,"completion_tokens":1})",
      R"({"prompt_tokens":18446744073709551615,"completion_tokens":18446744073709551615})",
      R"({"prompt_tokens":1.5,"completion_tokens":0.25})",
      R"({"prompt_tokens":[1],"completion_tokens":{"n":2}})",
      R"({"note":"no counts at all"})",
  };
  int answered = 0;
  for (const auto& usage : broken) {
    SCOPED_TRACE(usage);
    ASSERT_EQ(world.alpha.configure(R"({"usage":)" + usage + "}").status, 200);
    auto r = world.chat("acct", "broken usage");
    ASSERT_EQ(r.status, 200) << r.dump();
    EXPECT_TRUE(parse_json(r.body).HasMember("usage")) << "the client gets the upstream's body as it came";
    // A stream that did not ask: the broken usage event is still the gateway's, and cut.
    for (const auto& e : stream_events(kChatPath, chat_body("acct", "broken stream", R"(,"stream":true)")))
      EXPECT_FALSE(Contains(e, "\"usage\":{")) << e;
    answered += 2;
  }
  // Valid counts priced beyond any double: tokens are counted, the cost is not.
  ASSERT_EQ(world.beta.configure(R"({"usage":{"prompt_tokens":100000000,"completion_tokens":100000000}})").status, 200);
  ASSERT_EQ(world.chat("acct-beta", "priceless").status, 200);

  auto r = world.get("/metrics");
  ASSERT_EQ(r.status, 200);
  auto m = samples_of(r.body);
  EXPECT_EQ(m[tokens("prompt", "acct")], 0) << r.body;
  EXPECT_EQ(m[tokens("completion", "acct")], 0);
  EXPECT_EQ(m[cost("acct")], 0);
  EXPECT_EQ(m[tokens("prompt", "acct-beta", "beta")], 100000000);
  EXPECT_EQ(m[cost("acct-beta", "beta")], 0);
  for (const auto& line : lines_of(r.body)) {
    if (line.rfind("apiproxy_tokens_total", 0) != 0 && line.rfind("apiproxy_cost_total", 0) != 0) continue;
    EXPECT_FALSE(Contains(line, "NaN") || Contains(line, "Inf")) << line;
  }
  auto summary = parse_json(world.get("/providers/alpha/metrics?logical_model=acct").body);
  ASSERT_EQ(arr(summary["usage"], "logical_models").Size(), 1u);
  const auto& t = arr(summary["usage"], "logical_models")[0]["since_start"];
  EXPECT_EQ(num(t, "requests"), 0);
  EXPECT_EQ(num(t, "requests_without_usage"), answered);
  EXPECT_EQ(num(t, "prompt_tokens"), 0);
  // The gateway is still well.
  EXPECT_EQ(world.get("/health").status, 200);
  ASSERT_EQ(world.alpha.configure(R"({"usage":null})").status, 200);
  EXPECT_EQ(world.chat("acct", "after the storm").status, 200);
}

}  // namespace
}  // namespace it
