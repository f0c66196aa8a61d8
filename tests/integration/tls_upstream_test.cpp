// The gateway talking HTTPS to an upstream: the real gateway binary in front of the real
// mock upstream serving TLS, with certificates from a throwaway PKI (support/test_pki.hpp).
// Verification is on, the default; the gateway trusts the test CA through SSL_CERT_FILE,
// which OpenSSL's default verify paths honour.
//
//   - a verified upstream answers chats and streams, and its model list is discovered;
//   - pooled TLS connections are reused instead of handshaking per request;
//   - the host name goes out as SNI;
//   - a certificate for another host, from an untrusted CA or expired is refused, and not
//     one request (nor the provider's API key) reaches that upstream;
//   - APIPROXY_TLS_VERIFY=false accepts the untrusted one: the switch works.
#include <memory>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "assertions.hpp"
#include "data_plane.hpp"
#include "https_connection.hpp"
#include "test_pki.hpp"

namespace it {
namespace {

using dp::chat_body;
using dp::kChatPath;

constexpr const char* kProvider = "tls";
constexpr const char* kKey = "sk-tls-upstream-key-0123";
constexpr const char* kModel = "gpt-4o-mini";
// "provider/model" is routed to that provider whatever discovery found, so a request
// reaches the TLS connect even when the model list could not be fetched.
constexpr const char* kDirect = "tls/gpt-4o-mini";

// One PKI for the program; each test picks its server certificate from it.
TestPki& pki() {
  static TestPki p;
  return p;
}

// An HTTPS mock upstream and the harness's own channel to its control API. The channel's
// handshake is wiped from the stats before any gateway exists, so tls_handshakes and
// last_sni describe the gateway alone.
class TlsMock {
 public:
  explicit TlsMock(const CertFiles& cert)
      : mock_({"--name", kProvider, "--require-key", kKey, "--tls-cert", cert.cert.string(), "--tls-key",
               cert.key.string()}),
        control_(mock_.port()) {
    control("POST", "/__mock/reset");
  }

  std::string base_url(const std::string& host = "localhost") const {
    return "https://" + host + ":" + std::to_string(mock_.port());
  }
  void reset() { control("POST", "/__mock/reset"); }
  rapidjson::Document stats() { return parse_json(control("GET", "/__mock/stats").body); }
  long long handshakes() { return static_cast<long long>(num(stats(), "tls_handshakes")); }
  long long requests() { return static_cast<long long>(num(stats(), "requests")); }
  std::string last_sni() { return str(stats(), "last_sni"); }

 private:
  Response control(std::string_view method, std::string_view target) {
    auto r = control_.request(method, target);
    if (r.status != 200) throw std::runtime_error("mock control " + std::string(target) + " failed: " + r.dump());
    return r;
  }

  MockUpstream mock_;
  HttpsConnection control_;
};

class TlsUpstream : public ::testing::Test {
 protected:
  // A gateway whose only provider is `mock`, reached as `host`, with short upstream
  // timeouts so a refusal cannot be mistaken for a slow answer.
  void start(TlsMock& mock, const EnvMap& extra = {}, const std::string& host = "localhost") {
    EnvMap env = gateway_env({{"SSL_CERT_FILE", pki().ca_cert().string()},
                              {"APIPROXY_UPSTREAM_CONNECT_TIMEOUT_MS", "2000"},
                              {"APIPROXY_UPSTREAM_TIMEOUT_MS", "3000"},
                              {"APIPROXY_UPSTREAM_FIRST_BYTE_TIMEOUT_MS", "3000"}});
    for (const auto& [k, v] : extra) env[k] = v;
    add_provider(env, kProvider, mock.base_url(host), kKey, {{"ADAPTER", "openai"}});
    gateway = std::make_unique<Gateway>(env);
  }

  Response get(const std::string& path) const { return gateway->client().get(path); }
  Response chat(const std::string& model, const std::string& message) const {
    return gateway->client().post(kChatPath, chat_body(model, message));
  }

  // The ids /v1/models lists.
  std::set<std::string> listed_models() const {
    auto r = get("/v1/models");
    if (r.status != 200) return {};
    auto ids = pluck(arr(parse_json(r.body), "data"), "id");
    return {ids.begin(), ids.end()};
  }

  // Discovery fetched the mock's model list over TLS.
  bool discovered() const {
    return eventually([&] { return listed_models().count(kModel) > 0; }, 10s, 50ms);
  }

  // What every bad certificate must get: an OpenAI-style 502/503 whose message says why
  // (TLS), a log line naming the certificate problem, and nothing at the upstream, which
  // never completed a handshake nor saw a request (so no API key or prompt leaked).
  void expect_refused(TlsMock& mock) {
    auto r = chat(kDirect, "a prompt for a verified upstream only");
    ASSERT_TRUE(r.answered()) << r.error;
    EXPECT_TRUE(r.status == 502 || r.status == 503) << r.dump();
    auto d = parse_json(r.body);
    ASSERT_TRUE(d.IsObject() && d.HasMember("error") && d["error"].IsObject()) << r.dump();
    std::string message = str(d["error"], "message");
    EXPECT_FALSE(str(d["error"], "type").empty()) << r.dump();
    EXPECT_TRUE(Contains(message, "TLS")) << r.dump();

    // Only discovery's warning says it: a failed proxied attempt is logged as its access line.
    EXPECT_TRUE(eventually([&] { return Contains(gateway->log(), "certificate verify failed"); }, 5s))
        << "the log should name the certificate problem";
    EXPECT_EQ(listed_models().count(kModel), 0u) << "discovery must not have trusted this upstream either";
    EXPECT_EQ(mock.handshakes(), 0);
    EXPECT_EQ(mock.requests(), 0) << to_string(mock.stats());
  }

  std::unique_ptr<Gateway> gateway;
};

// The content of a streamed chat: its events' deltas joined; `done` says it ended with [DONE].
std::string streamed_content(SseStream& s, bool& done) {
  std::string content;
  auto events = s.rest();
  done = !events.empty() && events.back() == "[DONE]";
  for (size_t i = 0; i + 1 < events.size(); ++i) {
    auto event = parse_json(events[i]);
    const auto& choices = arr(event, "choices");
    if (!choices.Empty() && choices[0].HasMember("delta")) content += str(choices[0]["delta"], "content");
  }
  return content;
}

// ------------------------------------------------------------------ verified upstream ---

TEST_F(TlsUpstream, VerifiedUpstreamAnswersChatsStreamsAndItsModelList) {
  TlsMock mock(pki().good());
  start(mock);
  ASSERT_TRUE(discovered()) << "the mock's models never appeared in /v1/models";
  EXPECT_GE(mock.handshakes(), 1);

  auto r = chat(kModel, "hello over tls");
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_EQ(r.header("x-apiproxy-provider"), kProvider);
  EXPECT_EQ(dp::content_of(r.body), dp::reply_of(kProvider, "hello over tls"));
  // The provider's key travelled inside the verified channel.
  auto last = mock.stats();
  EXPECT_EQ(str(last["last_request"]["headers"], "authorization"), std::string("Bearer ") + kKey);

  SseStream s(gateway->port(), "POST", kChatPath, {}, chat_body(kModel, "stream over tls", R"(,"stream":true)"));
  ASSERT_TRUE(s.read_head()) << "no response head";
  ASSERT_EQ(s.status(), 200) << s.read_body();
  EXPECT_TRUE(Contains(s.header("content-type"), "text/event-stream"));
  bool done = false;
  EXPECT_EQ(streamed_content(s, done), dp::reply_of(kProvider, "stream over tls"));
  EXPECT_TRUE(done) << "the stream did not end with [DONE]: " << s.body();
}

TEST_F(TlsUpstream, PooledTlsConnectionsAreReused) {
  TlsMock mock(pki().good());
  start(mock);
  ASSERT_TRUE(discovered());
  mock.reset();  // discovery's handshake is not the pool's

  constexpr int kRequests = 20;
  for (int i = 0; i < kRequests; ++i) {
    auto r = chat(kModel, "pooled " + std::to_string(i));
    ASSERT_EQ(r.status, 200) << "request " << i << ": " << r.dump();
  }
  EXPECT_EQ(mock.requests(), kRequests);
  // At most one connection per gateway worker (gateway_env runs two), each handshaken once.
  EXPECT_LE(mock.handshakes(), 2) << "TLS connections are not reused";
  EXPECT_GE(mock.handshakes(), 1);
}

// The harness's own channel sends no SNI and its handshake was wiped before the gateway
// started, so the name the mock recorded can only be the gateway's.
TEST_F(TlsUpstream, HostNameIsSentAsSni) {
  TlsMock mock(pki().good());
  start(mock);
  ASSERT_TRUE(discovered());
  auto r = chat(kModel, "which name did you ask for");
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_GE(mock.handshakes(), 1);
  EXPECT_EQ(mock.last_sni(), "localhost");
}

// A provider addressed by IP: the certificate's IP:127.0.0.1 entry is what matches.
TEST_F(TlsUpstream, IpAddressHostIsCheckedAgainstTheIpSan) {
  TlsMock mock(pki().good());
  start(mock, {}, "127.0.0.1");
  ASSERT_TRUE(discovered());
  auto r = chat(kModel, "by address");
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_EQ(dp::content_of(r.body), dp::reply_of(kProvider, "by address"));
}

// RFC 6066 section 3: "Literal IPv4 and IPv6 addresses are not permitted in HostName".
TEST_F(TlsUpstream, IpAddressHostSendsNoSni) {
  TlsMock mock(pki().good());
  start(mock, {}, "127.0.0.1");
  ASSERT_TRUE(discovered());
  auto r = chat(kModel, "by address, no name");
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_GE(mock.handshakes(), 1);
  EXPECT_EQ(mock.last_sni(), "");
}

// -------------------------------------------------------------------------- refusals ---

TEST_F(TlsUpstream, CertificateForAnotherHostIsRefused) {
  TlsMock mock(pki().other_host());
  start(mock);
  expect_refused(mock);
}

TEST_F(TlsUpstream, CertificateFromAnUntrustedCaIsRefused) {
  TlsMock mock(pki().untrusted());
  start(mock);
  expect_refused(mock);
}

TEST_F(TlsUpstream, ExpiredCertificateIsRefused) {
  TlsMock mock(pki().expired());
  start(mock);
  expect_refused(mock);
}

// ------------------------------------------------------------------ verification off ---

TEST_F(TlsUpstream, VerificationOffAcceptsAnUntrustedCertificate) {
  TlsMock mock(pki().untrusted());
  start(mock, {{"APIPROXY_TLS_VERIFY", "false"}});
  EXPECT_TRUE(Contains(gateway->log(), "NOT verified")) << "the gateway should warn that verification is off";
  ASSERT_TRUE(discovered());
  auto r = chat(kModel, "anyone will do");
  ASSERT_EQ(r.status, 200) << r.dump();
  EXPECT_EQ(dp::content_of(r.body), dp::reply_of(kProvider, "anyone will do"));
  EXPECT_GE(mock.handshakes(), 1);
}

}  // namespace
}  // namespace it
