// Untrusted input at the edge: JSON parsing with a depth limit (core/common/json_parse.hpp),
// name and id validation (core/common/identifiers.hpp) and the data plane's reading of a
// client's body (server/api/client_request.hpp).
#include <gtest/gtest.h>

#include <string>

#include <rapidjson/stringbuffer.h>
#include <rapidjson/writer.h>

#include "core/common/identifiers.hpp"
#include "core/common/json_parse.hpp"
#include "server/api/client_request.hpp"

namespace apiproxy {
namespace {

std::string nested(size_t depth, char open = '[', char close = ']') {
  return std::string(depth, open) + std::string(depth, close);
}

TEST(JsonParse, AcceptsNestingUpToTheLimit) {
  rapidjson::Document d;
  EXPECT_EQ(parse_json(d, nested(kMaxJsonDepth)), std::nullopt);
}

TEST(JsonParse, RefusesDeeperNestingWithoutRecursing) {
  rapidjson::Document d;
  auto why = parse_json(d, nested(kMaxJsonDepth + 1));
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("nested deeper than 64"), std::string::npos) << *why;
  // Half a million levels: a recursive parser (or writer) would overflow the stack here.
  std::string deep = std::string(500000, '[');
  EXPECT_TRUE(parse_json(d, deep));
  std::string objects;
  for (int i = 0; i < 200000; ++i) objects += "{\"a\":";
  EXPECT_TRUE(parse_json(d, objects));
}

TEST(JsonParse, RefusesInvalidUtf8AndSaysWhere) {
  rapidjson::Document d;
  auto why = parse_json(d, "{\"a\":\"\xff\"}");
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("offset"), std::string::npos) << *why;
  EXPECT_TRUE(parse_json(d, "{\"a\":"));
  EXPECT_TRUE(parse_json(d, ""));
}

TEST(JsonParse, RefusesNumbersThatOverflowADouble) {
  rapidjson::Document d;
  auto why = parse_json(d, R"({"model":"m","temperature":41e308})");
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("too large"), std::string::npos) << *why;
  EXPECT_TRUE(parse_json(d, "[-41e308]"));
  EXPECT_EQ(parse_json(d, "[1.7976931348623157e308]"), std::nullopt);
}

// Found by fuzz_client_body and fuzz_logical_model_json.
TEST(JsonParse, TextEndingInsideAUtf8SequenceAndLoneSurrogateEscapes) {
  rapidjson::Document d;
  std::string cut = "{\"a\":\"\xF0";
  cut.shrink_to_fit();
  EXPECT_TRUE(parse_json(d, cut));  // no read past the end (ASan)
  auto why = parse_json(d, R"(["gpt-4o\uDE22"])");
  ASSERT_TRUE(why);
  EXPECT_NE(why->find("escape"), std::string::npos) << *why;
  EXPECT_EQ(parse_json(d, R"(["\uD83D\uDE00"])"), std::nullopt);  // a proper pair is fine
}

// Found by fuzz_client_body: RapidJSON stops at a NUL, so the bytes after one were passed
// upstream unchecked (and the gateway's stream_options went in among them).
TEST(JsonParse, RefusesAnythingAfterANulByte) {
  rapidjson::Document d;
  using namespace std::string_literals;
  for (std::string text : {"{\"model\":\"m\"}\0"s, "{\"model\":\"m\"}\0\0{\"x\":1}"s, "{\"model\":\"m\"} \0 "s}) {
    auto why = parse_json(d, text);
    ASSERT_TRUE(why) << text.size();
    EXPECT_NE(why->find("NUL"), std::string::npos) << *why;
    std::vector<JsonMember> members;
    EXPECT_TRUE(scan_members(text, members));
  }
  EXPECT_TRUE(parse_json(d, "\0"s));
  EXPECT_EQ(parse_json(d, "{\"a\":\"\\u0000\"} \n"), std::nullopt);  // an escaped NUL is a character
}

TEST(JsonParse, BuildsTheSameDocumentAsRapidJson) {
  rapidjson::Document d;
  ASSERT_EQ(parse_json(d, R"({"a":[1,-2,3.5,true,null,"x"],"b":{"c":18446744073709551615}})"), std::nullopt);
  rapidjson::StringBuffer out;
  rapidjson::Writer<rapidjson::StringBuffer> w(out);
  d.Accept(w);
  EXPECT_STREQ(out.GetString(), R"({"a":[1,-2,3.5,true,null,"x"],"b":{"c":18446744073709551615}})");
}

TEST(Identifiers, ModelNames) {
  EXPECT_TRUE(is_valid_model_name("gpt-4o-mini"));
  EXPECT_TRUE(is_valid_model_name("openai/gpt 4o"));
  EXPECT_TRUE(is_valid_model_name(std::string(kMaxModelNameBytes, 'a')));
  EXPECT_FALSE(is_valid_model_name(std::string(kMaxModelNameBytes + 1, 'a')));
  EXPECT_FALSE(is_valid_model_name(""));
  EXPECT_FALSE(is_valid_model_name("local/x\r\nSet-Cookie: injected=1"));
  EXPECT_FALSE(is_valid_model_name(std::string("a\0b", 3)));
  EXPECT_FALSE(is_valid_model_name("caf\xc3\xa9"));
  EXPECT_FALSE(is_valid_model_name("tab\there"));
  EXPECT_FALSE(is_valid_model_name("del\x7f"));
}

TEST(Identifiers, SessionIds) {
  EXPECT_TRUE(is_valid_session_id("conv-123_abc:x.y"));
  EXPECT_TRUE(is_valid_session_id(std::string(kMaxSessionIdBytes, 'z')));
  EXPECT_FALSE(is_valid_session_id(std::string(kMaxSessionIdBytes + 1, 'z')));
  EXPECT_FALSE(is_valid_session_id("has space"));
  EXPECT_FALSE(is_valid_session_id("line\nbreak"));
  EXPECT_FALSE(is_valid_session_id(""));
}

// What read_client_request answered: the request, or the problem's code and param.
struct Read {
  std::optional<ProxyRequest> request;
  std::string code, param, message;
};

Read read(std::string body, apx_operation op = APX_OP_CHAT_COMPLETIONS, std::string_view session = "") {
  auto r = read_client_request(std::move(body), op, session);
  Read out;
  if (auto* p = std::get_if<RequestProblem>(&r)) {
    out.code = p->code;
    out.param = p->param;
    out.message = p->message;
  } else {
    out.request.emplace(std::move(std::get<ProxyRequest>(r)));
  }
  return out;
}

TEST(ClientRequest, ReadsWhatTheGatewayNeeds) {
  auto r = read(R"({"model":"gpt-4o","stream":true,"max_tokens":50,"conversation_id":"c1","messages":[]})");
  ASSERT_TRUE(r.request) << r.message;
  EXPECT_EQ(r.request->model, "gpt-4o");
  EXPECT_TRUE(r.request->stream);
  EXPECT_EQ(r.request->max_output_tokens, 50u);
  EXPECT_EQ(r.request->session_id, "c1");
  // What goes upstream: the client's bytes, the model swapped, conversation_id (ours) cut,
  // and — a stream that did not ask for usage — include_usage asked for in its place.
  EXPECT_EQ(r.request->body.for_model("gpt-4o-2024"),
            R"({"model":"gpt-4o-2024","stream":true,"max_tokens":50,"messages":[],)"
            R"("stream_options":{"include_usage":true}})");
  EXPECT_EQ(r.request->stream_usage, StreamUsage::Added);
}

// The upstream body for `body` with the model swapped for `model`.
std::string upstream_body(std::string body, std::string_view model = "m2") {
  auto r = read(std::move(body));
  EXPECT_TRUE(r.request) << r.message;
  return r.request ? r.request->body.for_model(model) : "";
}

TEST(ClientRequest, UpstreamBodyKeepsTheClientsBytes) {
  // Spacing, key order, number spelling and escapes pass through untouched.
  EXPECT_EQ(upstream_body("{ \"messages\" : [ {\"content\":\"caf\\u00e9 1.50e1\"} ],\n \"model\" :\t\"m1\" , \"n\":1.50e1 }"),
            "{ \"messages\" : [ {\"content\":\"caf\\u00e9 1.50e1\"} ],\n \"model\" :\t\"m2\" , \"n\":1.50e1 }");
  // A model whose name needs escaping in JSON.
  EXPECT_EQ(upstream_body(R"({"model":"m1"})", R"(a"b\c)"), R"({"model":"a\"b\\c"})");
  // An escaped model name in the client's body is replaced whole.
  EXPECT_EQ(upstream_body(R"({"model":"m\u0031","x":{"model":"inner"}})"), R"({"model":"m2","x":{"model":"inner"}})");
}

TEST(ClientRequest, ConversationIdIsCutWhereverItIs) {
  EXPECT_EQ(upstream_body(R"({"conversation_id":"c","model":"m1","n":1})"), R"({"model":"m2","n":1})");
  EXPECT_EQ(upstream_body(R"({"model":"m1","conversation_id":"c","n":1})"), R"({"model":"m2","n":1})");
  EXPECT_EQ(upstream_body(R"({"model":"m1","n":1,"conversation_id":"c"})"), R"({"model":"m2","n":1})");
  EXPECT_EQ(upstream_body(R"({ "conversation_id" : null , "model":"m1"})"), R"({ "model":"m2"})");
  // After containers: the cut starts right after the closing bracket.
  EXPECT_EQ(upstream_body(R"({"x":{"a":[1]},"conversation_id":"c","model":"m1"})"), R"({"x":{"a":[1]},"model":"m2"})");
  EXPECT_EQ(upstream_body(R"({"a":[1,{"b":2}] ,"model":"m1", "conversation_id":"c"} )"), R"({"a":[1,{"b":2}] ,"model":"m2"} )");
}

TEST(ClientRequest, HeaderSessionWinsAndEmbeddingsNeverStream) {
  auto r = read(R"({"model":"m","stream":true,"conversation_id":"body"})", APX_OP_EMBEDDINGS, "header");
  ASSERT_TRUE(r.request) << r.message;
  EXPECT_EQ(r.request->session_id, "header");
  EXPECT_FALSE(r.request->stream);
}

TEST(ClientRequest, RefusesBadJson) {
  EXPECT_EQ(read("{").code, "invalid_json");
  EXPECT_EQ(read("[1]").code, "invalid_json");
  EXPECT_EQ(read(std::string(300000, '[')).code, "invalid_json");
  std::string deep = "{\"model\":\"m\",\"x\":" + nested(100) + "}";
  auto r = read(deep);
  EXPECT_EQ(r.code, "invalid_json");
  EXPECT_NE(r.message.find("nested deeper"), std::string::npos) << r.message;
}

TEST(ClientRequest, RefusesBadModels) {
  EXPECT_EQ(read(R"({"messages":[]})").code, "missing_model");
  EXPECT_EQ(read(R"({"model":7})").code, "missing_model");
  EXPECT_EQ(read(R"({"model":""})").code, "missing_model");
  auto crlf = read(R"({"model":"local/x\r\nSet-Cookie: injected=1"})");
  EXPECT_EQ(crlf.code, "invalid_model");
  EXPECT_EQ(crlf.param, "model");
  EXPECT_EQ(read(R"({"model":"local/)" + std::string(70000, 'a') + "\"}").code, "invalid_model");
  EXPECT_EQ(read(R"({"model":"a\u0000b"})").code, "invalid_model");
}

TEST(ClientRequest, RefusesDuplicateKeys) {
  auto r = read(R"({"model":"cheap","messages":[],"model":"expensive"})");
  EXPECT_EQ(r.code, "duplicate_key");
  EXPECT_EQ(r.param, "model");
  // Nested objects are the upstream's business.
  EXPECT_TRUE(read(R"({"model":"m","a":{"k":1},"b":{"k":2}})").request);
}

TEST(ClientRequest, RefusesBadSessionIdsAndTypes) {
  EXPECT_EQ(read(R"({"model":"m","conversation_id":42})").code, "invalid_session_id");
  EXPECT_EQ(read(R"({"model":"m","conversation_id":"a b"})").code, "invalid_session_id");
  EXPECT_EQ(read(R"({"model":"m","conversation_id":")" + std::string(129, 'x') + "\"}").code, "invalid_session_id");
  EXPECT_EQ(read(R"({"model":"m"})", APX_OP_CHAT_COMPLETIONS, std::string(200, 'x')).code, "invalid_session_id");
  EXPECT_TRUE(read(R"({"model":"m","conversation_id":null})").request);
  EXPECT_EQ(read(R"({"model":"m","stream":"yes"})").code, "invalid_type");
}

}  // namespace
}  // namespace apiproxy
