// Token and cost accounting, piece by piece: asking a stream's upstream for usage by editing
// the client's bytes (core/dataplane/usage_request.hpp through server/api/client_request),
// reading a usage object an upstream may have broken (usage_parse.hpp), reading and cutting
// the usage event of a stream however its bytes were split (usage_tap.hpp after the
// SseFramer), pricing (usage_accounting.hpp), and the counters and rolling summary that
// hold the results (core/telemetry).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>
#include <vector>

#include <rapidjson/document.h>

#include "core/dataplane/sse_framer.hpp"
#include "core/dataplane/usage_accounting.hpp"
#include "core/dataplane/usage_parse.hpp"
#include "core/dataplane/usage_tap.hpp"
#include "core/telemetry/counter.hpp"
#include "core/telemetry/exposition.hpp"
#include "core/telemetry/usage_summary.hpp"
#include "server/api/client_request.hpp"

namespace apiproxy {
namespace {

using telemetry::TokenUsage;

// ---------------------------------------------------------------------------------------
// Asking for usage: the upstream body of a client's request

struct Upstream {
  std::string body;  // what goes upstream, with the model swapped for "m2"
  StreamUsage usage = StreamUsage::Declined;
};

Upstream upstream_of(std::string client_body, apx_operation op = APX_OP_CHAT_COMPLETIONS) {
  auto read = read_client_request(std::move(client_body), op, ClientRequestContext());
  auto* request = std::get_if<ProxyRequest>(&read);
  if (!request) {
    ADD_FAILURE() << "refused: " << std::get<RequestProblem>(read).message;
    return {};
  }
  return {request->body.for_model("m2"), request->stream_usage};
}

// The body parses, and its stream_options.include_usage is true.
void expect_asks_for_usage(const std::string& body) {
  rapidjson::Document d;
  d.Parse(body.c_str(), body.size());
  ASSERT_FALSE(d.HasParseError()) << body;
  ASSERT_TRUE(d.HasMember("stream_options") && d["stream_options"].IsObject()) << body;
  const auto& options = d["stream_options"];
  ASSERT_TRUE(options.HasMember("include_usage") && options["include_usage"].IsTrue()) << body;
}

TEST(UsageRequest, AStreamWithoutStreamOptionsGetsThemAfterItsLastMember) {
  auto up = upstream_of(R"({"model":"m1","stream":true,"messages":[]})");
  EXPECT_EQ(up.usage, StreamUsage::Added);
  EXPECT_EQ(up.body, R"({"model":"m2","stream":true,"messages":[],"stream_options":{"include_usage":true}})");
  expect_asks_for_usage(up.body);
  // Blanks around the closing brace are kept where they were.
  auto spaced = upstream_of("{ \"stream\" : true , \"model\":\"m1\" }\n");
  EXPECT_EQ(spaced.body, "{ \"stream\" : true , \"model\":\"m2\" ,\"stream_options\":{\"include_usage\":true}}\n");
  expect_asks_for_usage(spaced.body);
}

TEST(UsageRequest, TheEditSitsWithTheConversationIdCutWhereverThatIs) {
  for (const char* client : {R"({"conversation_id":"c","model":"m1","stream":true})",
                             R"({"model":"m1","conversation_id":"c","stream":true})",
                             R"({"model":"m1","stream":true,"conversation_id":"c"})",
                             R"({"stream":true,"model":"m1","conversation_id":"c"})"}) {
    auto up = upstream_of(client);
    SCOPED_TRACE(client);
    EXPECT_EQ(up.usage, StreamUsage::Added);
    expect_asks_for_usage(up.body);
    EXPECT_EQ(up.body.find("conversation_id"), std::string::npos) << up.body;
    EXPECT_NE(up.body.find(R"("model":"m2")"), std::string::npos) << up.body;
  }
  EXPECT_EQ(upstream_of(R"({"model":"m1","stream":true,"conversation_id":"c"})").body,
            R"({"model":"m2","stream":true,"stream_options":{"include_usage":true}})");
}

TEST(UsageRequest, StreamOptionsWithoutIncludeUsageGetIt) {
  auto empty = upstream_of(R"({"model":"m1","stream":true,"stream_options":{}})");
  EXPECT_EQ(empty.usage, StreamUsage::Added);
  EXPECT_EQ(empty.body, R"({"model":"m2","stream":true,"stream_options":{"include_usage":true}})");
  auto other = upstream_of(R"({"stream_options": { "x" : [1] },"model":"m1","stream":true})");
  EXPECT_EQ(other.usage, StreamUsage::Added);
  EXPECT_EQ(other.body, R"({"stream_options": {"include_usage":true, "x" : [1] },"model":"m2","stream":true})");
  expect_asks_for_usage(other.body);
  auto null = upstream_of(R"({"model":"m1","stream":true,"stream_options":null})");
  EXPECT_EQ(null.usage, StreamUsage::Added);
  EXPECT_EQ(null.body, R"({"model":"m2","stream":true,"stream_options":{"include_usage":true}})");
}

TEST(UsageRequest, WhatTheClientSaidItselfIsLeftAlone) {
  const std::string asked = R"({"model":"m1","stream":true,"stream_options":{"include_usage":true}})";
  auto a = upstream_of(asked);
  EXPECT_EQ(a.usage, StreamUsage::Asked);
  EXPECT_EQ(a.body, R"({"model":"m2","stream":true,"stream_options":{"include_usage":true}})");
  auto declined = upstream_of(R"({"model":"m1","stream":true,"stream_options":{"include_usage":false}})");
  EXPECT_EQ(declined.usage, StreamUsage::Declined);
  EXPECT_EQ(declined.body, R"({"model":"m2","stream":true,"stream_options":{"include_usage":false}})");
  auto odd = upstream_of(R"({"model":"m1","stream":true,"stream_options":"yes"})");
  EXPECT_EQ(odd.usage, StreamUsage::Declined);
  EXPECT_EQ(odd.body, R"({"model":"m2","stream":true,"stream_options":"yes"})");
}

TEST(UsageRequest, OnlyStreamsAreEdited) {
  for (const char* client : {R"({"model":"m1"})", R"({"model":"m1","stream":false})", R"({"model":"m1","stream":null})"}) {
    auto up = upstream_of(client);
    EXPECT_EQ(up.body.find("stream_options"), std::string::npos) << up.body;
  }
  // Embeddings never stream, whatever the body says.
  auto embeddings = upstream_of(R"({"model":"m1","stream":true,"input":"x"})", APX_OP_EMBEDDINGS);
  EXPECT_EQ(embeddings.body, R"({"model":"m2","stream":true,"input":"x"})");
}

TEST(RequestBody, EditsInAnyOrderLandInTextOrderAroundTheModel) {
  std::string text = R"({"a":1,"model":"m1","b":2})";
  RequestBody body(text, Span{15, 19});
  body.edit({Span{25, 25}, ",\"z\":0"});
  body.edit({Span{1, 7}, ""});
  EXPECT_EQ(body.for_model("x"), R"({"model":"x","b":2,"z":0})");
}

// ---------------------------------------------------------------------------------------
// Reading a usage object

TEST(UsageParse, ReadsTheCountsOfAnAnswer) {
  auto u = find_usage(R"({"id":"x","choices":[{"message":{"content":"hi"}}],)"
                      R"("usage":{"prompt_tokens":12,"completion_tokens":5,"total_tokens":17,)"
                      R"("prompt_tokens_details":{"cached_tokens":0}}})");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->prompt_tokens, 12u);
  EXPECT_EQ(u->completion_tokens, 5u);
  EXPECT_EQ(u->total_tokens, 17u);
  // Embeddings: no completion_tokens. Without total_tokens: the sum.
  auto e = find_usage(R"({"data":[],"usage":{"prompt_tokens":8,"total_tokens":8}})");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->completion_tokens, 0u);
  EXPECT_EQ(e->total_tokens, 8u);
  auto sum = find_usage(R"({"usage" : {"prompt_tokens":3, "completion_tokens":4}})");
  ASSERT_TRUE(sum);
  EXPECT_EQ(sum->total_tokens, 7u);
}

TEST(UsageParse, TheLastUsageObjectCountsAndNullsArePassedOver) {
  auto u = find_usage(R"({"usage":{"prompt_tokens":1},"x":{"usage":null}})");
  ASSERT_TRUE(u);
  EXPECT_EQ(u->prompt_tokens, 1u);
  // Quotes inside a string are escaped, so text that merely mentions usage is no key, and a
  // brace inside a string does not end the object.
  auto quoted = find_usage(R"({"usage":{"prompt_tokens":2,"note":"}{"},"c":"say \"usage\": {\"prompt_tokens\":9}"})");
  ASSERT_TRUE(quoted);
  EXPECT_EQ(quoted->prompt_tokens, 2u);
  EXPECT_FALSE(find_usage(R"({"choices":[]})"));
  EXPECT_FALSE(find_usage(R"({"usage":null})"));
  EXPECT_FALSE(find_usage(""));
}

TEST(UsageParse, BrokenOrAbsurdCountsAreNotTaken) {
  for (const char* usage : {
           R"({"prompt_tokens":-5,"completion_tokens":3})",
           R"({"prompt_tokens":"12","completion_tokens":3})",
           R"({"prompt_tokens":1.5,"completion_tokens":3})",
           R"({"prompt_tokens":1e30,"completion_tokens":3})",
           R"({"prompt_tokens":99999999999999999999999,"completion_tokens":3})",
           R"({"prompt_tokens":18446744073709551615,"completion_tokens":3})",
           R"({"prompt_tokens":100000001,"completion_tokens":0})",
           R"({"prompt_tokens":1,"completion_tokens":2,"total_tokens":-3})",
           R"({"prompt_tokens":true})",
           R"({"prompt_tokens":[1]})",
           R"({"total_tokens":5})",
           R"({})",
           R"({"prompt_tokens":1,)",
           R"({"prompt_tokens":1e999})",
       }) {
    std::string body = std::string(R"({"x":1,"usage":)") + usage + "}";
    EXPECT_FALSE(find_usage(body)) << body;
  }
  // At the limit it is still taken.
  auto max = find_usage(R"({"usage":{"prompt_tokens":100000000,"completion_tokens":100000000}})");
  ASSERT_TRUE(max);
  EXPECT_EQ(max->total_tokens, 200000000u);
  // An object that runs on and on is not read, and nothing reads past the text's end.
  std::string endless = R"({"usage":{"prompt_tokens":1,"pad":")" + std::string(20000, 'p') + "\"}}";
  EXPECT_FALSE(find_usage(endless));
  EXPECT_FALSE(find_usage(R"({"usage":{"prompt_tokens":1)"));
  EXPECT_FALSE(find_usage(R"("usage":)"));
  EXPECT_FALSE(find_usage(R"("usage")"));
}

// ---------------------------------------------------------------------------------------
// A stream's usage event

const std::string kChunk = R"(data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"hi"}}],"usage":null})"
                           "\n\n";
const std::string kFinish = R"(data: {"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":null})"
                            "\n\n";
const std::string kUsage = R"(data: {"id":"c1","object":"chat.completion.chunk","choices":[],"usage":{"prompt_tokens":21,"completion_tokens":7,"total_tokens":28}})"
                           "\n\n";
const std::string kDone = "data: [DONE]\n\n";

// What a client receives of `stream` when it arrives in `pieces` (split at the offsets
// given), through the framer and the tap as the data plane relays it.
std::string relay(UsageTap& tap, const std::string& stream, const std::vector<size_t>& splits) {
  SseFramer framer;
  std::string out;
  size_t from = 0;
  std::vector<size_t> ends = splits;
  ends.push_back(stream.size());
  for (size_t end : ends) {
    auto events = framer.next(std::string_view(stream).substr(from, end - from));
    EXPECT_TRUE(events);
    if (events) out += tap.pass(*events);
    from = end;
  }
  out += tap.pass(framer.finish());
  return out;
}

TEST(UsageTap, ThePiecesOfAStreamWithoutUsagePassUntouched) {
  UsageTap tap(true);
  std::string piece = kChunk + kFinish + kDone;
  EXPECT_EQ(tap.pass(piece).data(), piece.data());  // the same bytes, not a copy
  EXPECT_FALSE(tap.usage());
}

TEST(UsageTap, CutsTheUsageEventTheGatewayAskedForAndReadsIt) {
  std::string stream = kChunk + kChunk + kFinish + kUsage + kDone;
  UsageTap tap(true);
  EXPECT_EQ(relay(tap, stream, {}), kChunk + kChunk + kFinish + kDone);
  ASSERT_TRUE(tap.usage());
  EXPECT_EQ(tap.usage()->prompt_tokens, 21u);
  EXPECT_EQ(tap.usage()->completion_tokens, 7u);
  EXPECT_EQ(tap.usage()->total_tokens, 28u);
}

TEST(UsageTap, PassesTheUsageEventTheClientAskedFor) {
  std::string stream = kChunk + kFinish + kUsage + kDone;
  UsageTap tap(false);
  EXPECT_EQ(relay(tap, stream, {}), stream);
  ASSERT_TRUE(tap.usage());
  EXPECT_EQ(tap.usage()->prompt_tokens, 21u);
}

TEST(UsageTap, EverySplitOfTheStreamGivesTheSameResult) {
  std::string stream = kChunk + kFinish + kUsage + kDone;
  std::string expected = kChunk + kFinish + kDone;
  for (size_t a = 1; a < stream.size(); ++a) {
    for (size_t b : {a, a + 1, a + 7, a + 61}) {
      if (b >= stream.size()) continue;
      std::vector<size_t> splits{a};
      if (b > a) splits.push_back(b);
      UsageTap tap(true);
      ASSERT_EQ(relay(tap, stream, splits), expected) << "split at " << a << ", " << b;
      ASSERT_TRUE(tap.usage()) << "split at " << a << ", " << b;
      ASSERT_EQ(tap.usage()->completion_tokens, 7u);
    }
  }
  // Byte by byte.
  std::vector<size_t> every;
  for (size_t i = 1; i < stream.size(); ++i) every.push_back(i);
  UsageTap tap(true);
  EXPECT_EQ(relay(tap, stream, every), expected);
  EXPECT_TRUE(tap.usage());
}

TEST(UsageTap, CrLfEventsAndAStreamEndingWithoutItsBlankLine) {
  auto crlf = [](std::string s) {
    std::string out;
    for (char c : s) out += c == '\n' ? std::string("\r\n") : std::string(1, c);
    return out;
  };
  std::string stream = crlf(kChunk + kUsage + kDone);
  UsageTap tap(true);
  EXPECT_EQ(relay(tap, stream, {stream.size() / 2}), crlf(kChunk + kDone));
  EXPECT_TRUE(tap.usage());
  // The usage event is the last and unterminated: the framer ends it, the tap cuts it.
  std::string cut_short = kChunk + kUsage.substr(0, kUsage.size() - 2);
  UsageTap last(true);
  EXPECT_EQ(relay(last, cut_short, {}), kChunk);
  EXPECT_TRUE(last.usage());
}

TEST(UsageTap, UsageRidingOnAContentChunkIsReadButNeverCut) {
  std::string with_content =
      R"(data: {"choices":[{"delta":{"content":"x"}}],"usage":{"prompt_tokens":3,"completion_tokens":1}})"
      "\n\n";
  UsageTap tap(true);
  std::string stream = with_content + kDone;
  EXPECT_EQ(relay(tap, stream, {}), stream);
  ASSERT_TRUE(tap.usage());
  EXPECT_EQ(tap.usage()->prompt_tokens, 3u);
}

TEST(UsageTap, ABrokenUsageEventIsStillCutButRecordsNothing) {
  std::string broken = R"(data: {"choices":[],"usage":{"prompt_tokens":-1,"completion_tokens":"many"}})"
                       "\n\n";
  UsageTap tap(true);
  EXPECT_EQ(relay(tap, kChunk + broken + kDone, {}), kChunk + kDone);
  EXPECT_FALSE(tap.usage());
}

TEST(UsageTap, SeveralUsageEventsInOnePiece) {
  // A piece may hold several events with usage (an upstream that reports it repeatedly):
  // each is cut, the last one's counts are kept.
  std::string second = R"(data: {"choices":[],"usage":{"prompt_tokens":30,"completion_tokens":9}})"
                       "\n\n";
  UsageTap tap(true);
  EXPECT_EQ(std::string(tap.pass(kChunk + kUsage + kChunk + second + kDone)), kChunk + kChunk + kDone);
  ASSERT_TRUE(tap.usage());
  EXPECT_EQ(tap.usage()->prompt_tokens, 30u);
}

TEST(UsageTap, EventBoundaries) {
  EXPECT_EQ(end_of_event("data: a\n\ndata: b\n\n", 0), 9u);
  EXPECT_EQ(end_of_event("data: a\n\ndata: b\n\n", 9), 18u);
  EXPECT_EQ(end_of_event("data: a\r\n\r\nx", 0), 11u);
  EXPECT_EQ(end_of_event("data: a\r\rx", 0), 9u);
  EXPECT_EQ(end_of_event("data: a\nid: 1\n\n", 0), 15u);
  EXPECT_EQ(end_of_event("data: a", 0), 7u);
  EXPECT_TRUE(has_no_choices(R"({"choices" : [ ] ,"usage":{}})"));
  EXPECT_FALSE(has_no_choices(R"({"choices":[{}],"usage":{}})"));
  EXPECT_FALSE(has_no_choices(R"({"usage":{}})"));
}

// ---------------------------------------------------------------------------------------
// Prices, counters, summary

TEST(UsageCost, PerThousandTokensAndNeverNotFinite) {
  TokenUsage u{1500, 500, 2000};
  EXPECT_DOUBLE_EQ(usage_cost(u, 0.002, 0.006), 1.5 * 0.002 + 0.5 * 0.006);
  EXPECT_EQ(usage_cost(u, 0, 0), 0.0);
  EXPECT_EQ(usage_cost(u, std::numeric_limits<double>::max(), 1), 0.0);  // would be infinite
  TokenUsage huge{telemetry::kMaxTokensPerRequest, telemetry::kMaxTokensPerRequest, 0};
  EXPECT_DOUBLE_EQ(usage_cost(huge, 1, 1), 200000.0);
}

TEST(AmountCounter, AddsOnlyFinitePositiveAmounts) {
  telemetry::AmountCounter c;
  c.add(0.25);
  c.add(std::nan(""));
  c.add(std::numeric_limits<double>::infinity());
  c.add(-1);
  c.add(0.5);
  EXPECT_DOUBLE_EQ(c.value(), 0.75);
}

TEST(TokenCounters, OneSeriesPerDirectionWithDirectionFirst) {
  telemetry::TokenCounterFamily f("apiproxy_tokens_total", "Tokens.", {"logical_model", "provider", "model"});
  auto& t = f.with({"chat", "alpha", "gpt"});
  t.prompt.inc(12);
  t.completion.inc(5);
  telemetry::TextWriter out;
  write(out, f);
  EXPECT_EQ(out.text(),
            "# HELP apiproxy_tokens_total Tokens.\n# TYPE apiproxy_tokens_total counter\n"
            "apiproxy_tokens_total{direction=\"prompt\",logical_model=\"chat\",provider=\"alpha\",model=\"gpt\"} 12\n"
            "apiproxy_tokens_total{direction=\"completion\",logical_model=\"chat\",provider=\"alpha\",model=\"gpt\"} 5\n");
}

TEST(TokenCounters, TheFamilyStaysBounded) {
  telemetry::TokenCounterFamily f("t_total", "T.", {"logical_model", "provider", "model"},
                                  [] { return std::make_unique<telemetry::TokenCounters>(); }, 2);
  for (int i = 0; i < 10; ++i) f.with({"m" + std::to_string(i), "p", "x"}).prompt.inc();
  EXPECT_EQ(f.series(), 3u);  // two, then the overflow series
}

using Clock = telemetry::UsageSummary::Clock;

TEST(UsageSummary, TotalsSinceStartAndOverTheLastHour) {
  telemetry::UsageSummary s;
  Clock::time_point t0{std::chrono::hours(1000)};
  TokenUsage a{10, 5, 15};
  TokenUsage b{100, 50, 150};
  s.record("chat", "alpha", &a, 0.5, t0);
  s.record("chat", "alpha", nullptr, 0, t0);
  s.record("chat", "alpha", &b, 1.0, t0 + std::chrono::minutes(30));
  s.record("chat", "beta", &a, std::nan(""), t0);
  s.record("other", "alpha", &a, 0, t0);

  auto rows = s.rows("alpha", t0 + std::chrono::minutes(30));
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].logical_model, "chat");
  EXPECT_EQ(rows[0].since_start.requests, 2u);
  EXPECT_EQ(rows[0].since_start.requests_without_usage, 1u);
  EXPECT_EQ(rows[0].since_start.prompt_tokens, 110u);
  EXPECT_EQ(rows[0].since_start.completion_tokens, 55u);
  EXPECT_EQ(rows[0].since_start.total_tokens, 165u);
  EXPECT_DOUBLE_EQ(rows[0].since_start.cost, 1.5);
  EXPECT_EQ(rows[0].last_hour.requests, 2u);
  EXPECT_EQ(rows[1].logical_model, "other");

  // An hour after the first requests only the later one is recent; totals keep everything.
  auto later = s.rows("alpha", t0 + std::chrono::minutes(60));
  EXPECT_EQ(later[0].last_hour.requests, 1u);
  EXPECT_EQ(later[0].last_hour.requests_without_usage, 0u);
  EXPECT_EQ(later[0].last_hour.prompt_tokens, 100u);
  EXPECT_DOUBLE_EQ(later[0].last_hour.cost, 1.0);
  EXPECT_EQ(later[0].since_start.prompt_tokens, 110u);
  auto much_later = s.rows("alpha", t0 + std::chrono::hours(5));
  EXPECT_EQ(much_later[0].last_hour.requests, 0u);
  EXPECT_EQ(much_later[0].since_start.requests, 2u);

  // A bucket reused an hour later starts from zero.
  s.record("chat", "alpha", &a, 0, t0 + std::chrono::minutes(60));
  auto reused = s.rows("alpha", t0 + std::chrono::minutes(60));
  EXPECT_EQ(reused[0].last_hour.requests, 2u);  // the 30-minute one and this one
  EXPECT_EQ(reused[0].last_hour.prompt_tokens, 110u);

  // Every provider's rows, and NaN costs never reach a total.
  auto all = s.rows("", t0);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].provider, "beta");
  EXPECT_EQ(all[2].since_start.cost, 0.0);
}

TEST(UsageSummary, KeepsAtMostItsPairsAndSumsTheRestUnderOverflow) {
  telemetry::UsageSummary s(3);
  TokenUsage u{1, 1, 2};
  for (int i = 0; i < 50; ++i) s.record("model-" + std::to_string(i), "alpha", &u, 0);
  auto rows = s.rows("alpha");
  ASSERT_EQ(rows.size(), 4u);  // three pairs, then one overflow row for the provider
  uint64_t requests = 0;
  for (const auto& r : rows) requests += r.since_start.requests;
  EXPECT_EQ(requests, 50u);
  EXPECT_EQ(rows.back().logical_model, "model-2");
  bool overflow = false;
  for (const auto& r : rows) overflow |= r.logical_model == "_overflow_";
  EXPECT_TRUE(overflow);
}

}  // namespace
}  // namespace apiproxy
