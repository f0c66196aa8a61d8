// Bad input never crashes the gateway: malformed JSON, wrong types, unknown ids and methods,
// oversized bodies, garbage and truncated bytes on the socket. Also the logical-model
// PUT/GET/DELETE cycle, Expect: 100-continue and keep-alive.
#include <atomic>
#include <thread>

#include <gtest/gtest.h>

#include "assertions.hpp"
#include "json.hpp"
#include "services.hpp"

namespace it {
namespace {

constexpr const char* kToken = "bad-input-token";

constexpr const char* kValidModel = R"({
  "logical_id": "team-chat",
  "display_name": "Team chat",
  "description": "for tests",
  "capabilities": ["chat"],
  "upstreams": [{"provider_id": "openai", "model_id": "gpt-4o", "endpoint": "/v1/chat/completions",
                 "base_weight": 1.5, "region": "global"}],
  "enabled": true
})";

class BadInput : public ::testing::Test {
 protected:
  void SetUp() override {
    EnvMap env = gateway_env({{"APIPROXY_AUTH_TOKEN", kToken}, {"APIPROXY_MAX_BODY_BYTES", "4096"}});
    add_provider(env, "openai", mock.base_url(), "sk-bad-input-key", {{"ADAPTER", "openai"}});
    gateway = std::make_unique<Gateway>(env);
  }
  void TearDown() override {
    // Whatever a test sent, the gateway is still there and still answers.
    EXPECT_TRUE(gateway->running()) << "the gateway died";
    auto h = gateway->client().get("/health");
    EXPECT_EQ(h.status, 200) << h.dump();
  }

  Response put_model(const std::string& id, const std::string& body) const {
    return gateway->client().put("/logical-models/" + id, body, {bearer(kToken)});
  }
  Response get(const std::string& path) const { return gateway->client().get(path, {bearer(kToken)}); }

  static void expect_control_error(const Response& r, int status, const std::string& error,
                                   const std::string& message_part = "") {
    ASSERT_EQ(r.status, status) << r.dump();
    EXPECT_TRUE(Contains(r.header("content-type"), "application/json"));
    auto d = parse_json(r.body);
    EXPECT_EQ(str(d, "error"), error) << r.body;
    EXPECT_EQ(num(d, "code"), status) << r.body;
    if (!message_part.empty()) {
      EXPECT_TRUE(Contains(str(d, "message"), message_part));
    }
  }

  MockUpstream mock;
  std::unique_ptr<Gateway> gateway;
};

TEST_F(BadInput, MalformedJsonIs400) {
  for (const char* body : {"{not json", "", "{\"logical_id\": \"x\",}", "nul", "\xff\xfe{}"}) {
    SCOPED_TRACE(body);
    expect_control_error(put_model("x", body), 400, "bad_request", "JSON");
  }
}

TEST_F(BadInput, NonObjectDocumentsAre400) {
  for (const char* body : {"[]", "42", "\"a string\"", "null", "true"}) {
    SCOPED_TRACE(body);
    expect_control_error(put_model("x", body), 400, "bad_request");
  }
}

struct WrongType {
  const char* body;
  const char* field;  // the message must name it
};

TEST_F(BadInput, WrongTypesAre400NamingTheField) {
  const WrongType cases[] = {
      {R"({"upstreams":[{"provider_id":"openai","model_id":"m","base_weight":"heavy"}]})", "upstreams[0].base_weight"},
      {R"({"upstreams":[{"provider_id":"openai","model_id":"m","base_weight":0}]})", "upstreams[0].base_weight"},
      {R"({"upstreams":[{"provider_id":"openai","model_id":"m","base_weight":-2}]})", "upstreams[0].base_weight"},
      {R"({"upstreams":[{"provider_id":"openai","model_id":"m","base_weight":1},{"provider_id":"openai","base_weight":1}]})", "upstreams[1].model_id"},
      {R"({"upstreams":[{"provider_id":7,"model_id":"m","base_weight":1}]})", "upstreams[0].provider_id"},
      {R"({"upstreams":[{"provider_id":"openai","model_id":"m","base_weight":1,"region":5}]})", "upstreams[0].region"},
      {R"({"upstreams":[{"provider_id":"openai","model_id":"m","base_weight":1,"max_qps":"many"}]})", "upstreams[0].max_qps"},
      {R"({"upstreams":["openai"]})", "upstreams[0]"},
      {R"({"upstreams":{"provider_id":"openai"}})", "upstreams"},
      {R"({"display_name":"x"})", "upstreams"},
      {R"({"enabled":"yes","upstreams":[]})", "enabled"},
      {R"({"capabilities":"chat","upstreams":[]})", "capabilities"},
      {R"({"capabilities":["chat","telepathy"],"upstreams":[]})", "telepathy"},
      {R"({"display_name":12,"upstreams":[]})", "display_name"},
      {R"({"logical_id":["x"],"upstreams":[]})", "logical_id"},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(c.body);
    expect_control_error(put_model("x", c.body), 400, "bad_request", c.field);
  }
  // Nothing was stored along the way.
  EXPECT_EQ(get("/logical-models/x").status, 404);
}

TEST_F(BadInput, UnknownProviderInUpstreamsIs400) {
  auto r = put_model("x", R"({"upstreams":[{"provider_id":"openai","model_id":"m","base_weight":1},
                                         {"provider_id":"nosuch","model_id":"m","base_weight":1}]})");
  expect_control_error(r, 400, "bad_request", "upstreams[1].provider_id");
  EXPECT_TRUE(Contains(r.body, "nosuch"));
  EXPECT_EQ(get("/logical-models/x").status, 404);
}

TEST_F(BadInput, LogicalIdThatContradictsThePathIs400) {
  expect_control_error(put_model("other-id", kValidModel), 400, "bad_request", "team-chat");
}

TEST_F(BadInput, OversizedBodyIs413) {
  std::string big = R"({"description":")" + std::string(8192, 'a') + R"(","upstreams":[]})";
  auto r = put_model("x", big);
  expect_control_error(r, 413, "payload_too_large");
  // Just under the limit is fine (valid JSON, so the model is stored).
  std::string fits = R"({"description":")" + std::string(3000, 'a') + R"(","upstreams":[]})";
  EXPECT_EQ(put_model("fits", fits).status, 200);
}

TEST_F(BadInput, OversizedChunkedBodyIs413) {
  RawSocket s(gateway->port());
  std::string head = "PUT /logical-models/x HTTP/1.1\r\nHost: t\r\nAuthorization: Bearer " + base64(kToken) +
                     "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
  s.send(head);
  std::string chunk(2048, 'a');
  for (int i = 0; i < 4 && s.send("800\r\n" + chunk + "\r\n"); ++i) {
  }
  s.send("0\r\n\r\n");
  std::string got = s.read_until("\r\n\r\n");
  EXPECT_TRUE(Contains(got, "HTTP/1.1 413")) << got;
}

TEST_F(BadInput, UnknownIdsAre404) {
  expect_control_error(get("/logical-models/nope"), 404, "not_found", "nope");
  expect_control_error(get("/logical-models/nope/upstreams"), 404, "not_found");
  expect_control_error(gateway->client().del("/logical-models/nope", {bearer(kToken)}), 404, "not_found");
  expect_control_error(get("/providers/nope"), 404, "not_found", "nope");
  expect_control_error(get("/providers/nope/models"), 404, "not_found");
  expect_control_error(get("/providers/nope/health"), 404, "not_found");
  expect_control_error(get("/providers/nope/metrics"), 404, "not_found");
  expect_control_error(get("/no/such/route"), 404, "not_found");
  expect_control_error(get("/providers/openai/models/extra"), 404, "not_found");
}

TEST_F(BadInput, WrongMethodIs405WithAllow) {
  auto r = gateway->client().post("/providers", "{}", {bearer(kToken)});
  expect_control_error(r, 405, "method_not_allowed");
  EXPECT_EQ(r.header("allow"), "GET");
  auto h = gateway->client().del("/health");
  expect_control_error(h, 405, "method_not_allowed");
  auto p = gateway->client().request("PATCH", "/logical-models/x", {bearer(kToken)}, "{}");
  expect_control_error(p, 405, "method_not_allowed");
  for (const char* m : {"GET", "PUT", "DELETE"}) EXPECT_TRUE(Contains(p.header("allow"), m));
  // An unknown method token is not a crash either.
  auto odd = gateway->client().request("BREW", "/providers", {bearer(kToken)});
  EXPECT_TRUE(odd.status == 405 || odd.status == 400 || odd.status == 501) << odd.dump();
}

TEST_F(BadInput, GarbageAndTruncatedRequestsAre400OrClosed) {
  const std::string cases[] = {
      std::string("\x00\x01\x02garbage\r\n\r\n", 14),
      "GARBAGE\r\n\r\n",
      "GET /health HTTP/9.9\r\nHost: x\r\n\r\n",
      "GET /health HTTP/1.1\r\nHost x\r\nno colon here\r\n\r\n",
      "GET /health HTTP/1.1\r\nHost: x\r\n",  // truncated header, then half-close
      "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n",
      "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 7\r\n\r\n",
      "PUT /logical-models/x HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{\"trunc",
      "PUT /logical-models/x HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n",
      "GET /" + std::string(20000, 'a') + " HTTP/1.1\r\nHost: x\r\n\r\n",
      "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(70000, 'b') + "\r\n\r\n",
      "",  // connect and close
  };
  for (const auto& bytes : cases) {
    SCOPED_TRACE(bytes.substr(0, 60));
    std::string got = send_raw(gateway->port(), bytes, /*half_close=*/true, 5s);
    bool closed_silently = got.empty();
    bool rejected = got.rfind("HTTP/1.1 4", 0) == 0;
    EXPECT_TRUE(closed_silently || rejected) << "unexpected answer:\n" << got.substr(0, 500);
    EXPECT_TRUE(gateway->running());
  }
  auto h = gateway->client().get("/health");
  EXPECT_EQ(h.status, 200) << h.dump();
}

TEST_F(BadInput, ClientThatVanishesMidRequestDoesNotHurt) {
  for (int i = 0; i < 20; ++i) {
    RawSocket s(gateway->port());
    s.send("PUT /logical-models/x HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\nAuthorization: Bearer " +
           base64(kToken) + "\r\n\r\n{\"upstreams\":");
  }  // each socket closes here
  EXPECT_EQ(gateway->client().get("/health").status, 200);
}

TEST_F(BadInput, Expect100ContinueWorks) {
  std::string body = kValidModel;
  RawSocket s(gateway->port());
  ASSERT_TRUE(s.send("PUT /logical-models/team-chat HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                     base64(kToken) + "\r\nContent-Type: application/json\r\nContent-Length: " +
                     std::to_string(body.size()) + "\r\nExpect: 100-continue\r\n\r\n"));
  std::string interim = s.read_until("\r\n\r\n");
  ASSERT_TRUE(Contains(interim, "HTTP/1.1 100 Continue")) << interim;
  ASSERT_TRUE(s.send(body));
  std::string all = s.read_until("\"logical_id\"");
  EXPECT_TRUE(Contains(all, "HTTP/1.1 200")) << all;
  EXPECT_EQ(get("/logical-models/team-chat").status, 200);
}

TEST_F(BadInput, Expect100ContinueWithTooLargeBodyIs413WithoutContinue) {
  RawSocket s(gateway->port());
  ASSERT_TRUE(s.send("PUT /logical-models/x HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                     base64(kToken) + "\r\nContent-Length: 1000000\r\nExpect: 100-continue\r\n\r\n"));
  std::string got = s.read_until("\r\n\r\n");
  EXPECT_TRUE(Contains(got, "HTTP/1.1 413")) << got;
  EXPECT_FALSE(Contains(got, "100 Continue")) << got;
}

TEST_F(BadInput, PutGetDeleteGetOfALogicalModel) {
  auto put = put_model("team-chat", kValidModel);
  ASSERT_EQ(put.status, 200) << put.dump();
  auto stored = parse_json(put.body);
  EXPECT_EQ(str(stored, "logical_id"), "team-chat");
  EXPECT_GT(num(stored, "updated_at"), 1.6e9) << "PUT sets updated_at";

  auto got = get("/logical-models/team-chat");
  ASSERT_EQ(got.status, 200) << got.dump();
  auto m = parse_json(got.body);
  EXPECT_EQ(str(m, "display_name"), "Team chat");
  EXPECT_EQ(pluck(arr(m, "upstreams"), "model_id"), std::vector<std::string>{"gpt-4o"});
  EXPECT_EQ(num(arr(m, "upstreams")[0], "base_weight"), 1.5);

  auto list = get("/logical-models");
  ASSERT_EQ(list.status, 200) << list.dump();
  EXPECT_EQ(pluck(arr(parse_json(list.body), "models"), "logical_id"), std::vector<std::string>{"team-chat"});

  auto ups = get("/logical-models/team-chat/upstreams");
  ASSERT_EQ(ups.status, 200) << ups.dump();
  EXPECT_EQ(pluck(arr(parse_json(ups.body), "upstreams"), "provider_id"), std::vector<std::string>{"openai"});

  // PUT again replaces it.
  std::string changed = kValidModel;
  changed.replace(changed.find("Team chat"), 9, "Renamed");
  ASSERT_EQ(put_model("team-chat", changed).status, 200);
  EXPECT_EQ(str(parse_json(get("/logical-models/team-chat").body), "display_name"), "Renamed");

  auto del = gateway->client().del("/logical-models/team-chat", {bearer(kToken)});
  ASSERT_EQ(del.status, 200) << del.dump();
  auto after = get("/logical-models/team-chat");
  EXPECT_EQ(after.status, 404) << after.dump();
  EXPECT_EQ(num(parse_json(get("/logical-models").body), "total"), 0);
  EXPECT_EQ(gateway->client().del("/logical-models/team-chat", {bearer(kToken)}).status, 404);
}

TEST_F(BadInput, LogicalIdFromThePathWhenTheBodyOmitsIt) {
  auto r = put_model("from-path", R"({"upstreams":[{"provider_id":"openai","model_id":"m","base_weight":1}]})");
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_EQ(str(parse_json(r.body), "logical_id"), "from-path");
  EXPECT_EQ(get("/logical-models/from-path").status, 200);
}

TEST_F(BadInput, KeepAliveServesTwoRequestsOnOneConnection) {
  HttpConnection c(gateway->port());
  ASSERT_TRUE(c.is_open());
  uint16_t socket_port = c.local_port();
  auto first = c.request("GET", "/providers", {bearer(kToken)});
  ASSERT_EQ(first.status, 200) << first.dump();
  EXPECT_NE(first.header("connection"), "close");
  ASSERT_TRUE(c.is_open()) << "the gateway closed a keep-alive connection";
  auto second = c.request("GET", "/health");
  ASSERT_EQ(second.status, 200) << second.dump();
  EXPECT_EQ(c.local_port(), socket_port);
  // A PUT with a body and a 404 on the same connection, then one more request.
  EXPECT_EQ(c.request("PUT", "/logical-models/k", {bearer(kToken), {"Content-Type", "application/json"}},
                      R"({"upstreams":[]})").status, 200);
  EXPECT_EQ(c.request("GET", "/logical-models/missing", {bearer(kToken)}).status, 404);
  auto last = c.request("GET", "/logical-models/k", {bearer(kToken)});
  EXPECT_EQ(last.status, 200) << last.dump();
  EXPECT_EQ(c.local_port(), socket_port);
}

TEST_F(BadInput, Http10RequestIsAnsweredAndClosed) {
  RawSocket s(gateway->port());
  ASSERT_TRUE(s.send("GET /health HTTP/1.0\r\n\r\n"));
  std::string got = s.read_all();
  EXPECT_EQ(got.rfind("HTTP/1.0 200", 0), 0u) << got;
  EXPECT_TRUE(s.peer_closed()) << "an HTTP/1.0 request without keep-alive must end the connection";
  EXPECT_FALSE(s.timed_out());
}

TEST_F(BadInput, QueryStringsAndTrailingSlashesAreTolerated) {
  EXPECT_EQ(get("/providers?verbose=1").status, 200);
  EXPECT_EQ(get("/providers/").status, 200);
  EXPECT_EQ(get("/providers/openai?x=y").status, 200);
  EXPECT_EQ(gateway->client().get("/health?probe=lb").status, 200);
}

TEST_F(BadInput, PercentEncodedIdsAreDecoded) {
  ASSERT_EQ(put_model("team%2Dchat", kValidModel).status, 200);
  EXPECT_EQ(get("/logical-models/team-chat").status, 200);
  // Odd but legal ids survive the round trip.
  auto odd = put_model("a%20b", R"({"upstreams":[]})");
  ASSERT_EQ(odd.status, 200) << odd.dump();
  EXPECT_EQ(str(parse_json(odd.body), "logical_id"), "a b");
  EXPECT_EQ(str(parse_json(get("/logical-models/a%20b").body), "logical_id"), "a b");
  // A malformed escape is not a crash.
  auto bad = get("/logical-models/%zz%");
  EXPECT_TRUE(bad.status == 404 || bad.status == 400) << bad.dump();
}

TEST_F(BadInput, ManyParallelConnectionsAreAllServed) {
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 8; ++t)
    threads.emplace_back([&] {
      HttpConnection c(gateway->port());
      for (int i = 0; i < 25; ++i)
        if (c.request("GET", "/providers", {bearer(kToken)}).status == 200) ++ok;
    });
  for (auto& t : threads) t.join();
  EXPECT_EQ(ok.load(), 200);
}

TEST_F(BadInput, PipelinedRequestsAreAnsweredInOrder) {
  RawSocket s(gateway->port());
  std::string one = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";
  std::string two = "GET /providers HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + base64(kToken) + "\r\n\r\n";
  std::string three = "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
  ASSERT_TRUE(s.send(one + two + three));
  std::string got = s.read_all();
  auto a = got.find("HTTP/1.1 200"), b = got.find("HTTP/1.1 200", a + 1), c = got.find("HTTP/1.1 404");
  EXPECT_NE(a, std::string::npos) << got;
  EXPECT_NE(b, std::string::npos) << got;
  EXPECT_NE(c, std::string::npos) << got;
  EXPECT_LT(b, c) << got;
  EXPECT_TRUE(s.peer_closed()) << "Connection: close was not honoured";
}

}  // namespace
}  // namespace it
