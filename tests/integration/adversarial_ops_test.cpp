// Issue 9: attacks on the running service rather than on one request. Connection floods
// and running out of descriptors (contract item 11), Redis credentials in /health and
// readiness during a Redis outage (15), safe listening defaults and the admin token (16).
// Real gateway, plugins, redis-server and mock upstreams; loopback only.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "adversary.hpp"
#include "assertions.hpp"
#include "data_plane.hpp"
#include "json.hpp"
#include "services.hpp"

namespace it {
namespace {

using namespace std::chrono_literals;
using dp::chat_body;
using dp::reply_of;

EnvMap one_provider_env(const MockUpstream& mock, const EnvMap& extra = {}) {
  EnvMap env = gateway_env(extra);
  add_provider(env, "p", mock.base_url(), "sk-ops-key-0123", {{"ADAPTER", "openai"}});
  return env;
}

// ---------------------------------------------------- 11: connection limit, EMFILE ---

TEST(AdversarialOps, OverTheConnectionLimitNewConnectionsAreClosedAtOnce) {
  MockUpstream mock;
  Gateway gw(one_provider_env(mock, {{"APIPROXY_MAX_CONNECTIONS", "8"}}));
  std::vector<std::unique_ptr<HttpConnection>> held;
  for (int i = 0; i < 8; ++i) {
    held.push_back(std::make_unique<HttpConnection>(gw.port()));
    auto r = held.back()->request("GET", "/health");
    ASSERT_EQ(r.status, 200) << "connection " << i << ": " << r.dump();
  }
  auto refused = [&] {
    RawSocket s(gw.port(), 3s);
    auto started = Clock::now();
    s.read_more(3s);  // nothing is sent: only the gateway can end this
    bool ok = s.peer_closed() && !s.timed_out();
    EXPECT_TRUE(ok) << "a connection over the limit was left open (waited " << (s.timed_out() ? "3 s" : "less") << ")";
    if (ok) {
      EXPECT_LT(Clock::now() - started, 1s);
    }
    if (!s.received().empty()) {
      EXPECT_EQ(adv::status_of(s.received()), 503) << s.received();
    }
  };
  for (int i = 0; i < 3; ++i) refused();
  // The 8 admitted ones are still served.
  for (auto& c : held) {
    auto r = c->request("GET", "/health");
    EXPECT_EQ(r.status, 200) << r.dump();
  }
  // Two leave: two new ones get in, and the ninth is refused again.
  held.resize(6);
  for (int i = 0; i < 2; ++i) {
    std::unique_ptr<HttpConnection> c;
    bool in = eventually(
        [&] {
          c = std::make_unique<HttpConnection>(gw.port());
          return c->request("GET", "/health").status == 200;
        },
        3s, 50ms);
    ASSERT_TRUE(in) << "no room after two connections closed";
    held.push_back(std::move(c));
  }
  refused();
  EXPECT_TRUE(gw.running());
}

TEST(AdversarialOps, OutOfDescriptorsTheGatewayDoesNotSpinAndRecovers) {
  if (which("prlimit").empty()) GTEST_SKIP() << "prlimit (util-linux) is not installed";
#ifdef APIPROXY_IT_SANITIZED
  // UBSan's vptr check cannot run in a process that is out of descriptors. When an object's
  // type misses its small cache, the check (GCC 12's libsanitizer) tests that the vtable is
  // readable by write()-ing it into a pipe(); with no descriptor free, pipe() fails with
  // EMFILE and a live object is reported as "does not point to an object of type
  // '_Sp_counted_base'", "invalid vptr", "<memory cannot be printed>" (the same probe), and
  // the process aborts. That is the sanitizer's limit, not the gateway's: with the vptr check
  // off, ASan and the rest of UBSan pass this test; the normal build runs it.
  GTEST_SKIP() << "UBSan's vptr check needs free descriptors (it probes memory with pipe())";
#endif
  MockUpstream mock;
  Gateway gw(one_provider_env(mock));
  const pid_t pid = gw.process().pid();
  ASSERT_EQ(gw.client().get("/health").status, 200);
  // Room for a handful of connections, no more.
  int limit = adv::open_fds(pid) + 6;
  auto set = run_command({"prlimit", "--pid", std::to_string(pid), "--nofile=" + std::to_string(limit) + ":" +
                                                                          std::to_string(limit)},
                         base_env());
  ASSERT_EQ(set.exit_code, 0) << set.err;

  std::vector<std::unique_ptr<RawSocket>> flood;
  for (int i = 0; i < 64; ++i) flood.push_back(std::make_unique<RawSocket>(gw.port(), 2s));
  std::this_thread::sleep_for(500ms);
  // It really is out of descriptors (the flood is larger than the room it has).
  EXPECT_GE(adv::open_fds(pid), limit - 1);
  double cpu0 = adv::cpu_seconds(pid);
  std::this_thread::sleep_for(2s);
  double cpu1 = adv::cpu_seconds(pid);
  ASSERT_TRUE(gw.running()) << "the gateway died out of descriptors";
  EXPECT_LT(cpu1 - cpu0, 0.3) << "the gateway burnt " << cpu1 - cpu0 << " s of CPU in 2 s failing to accept";

  flood.clear();  // every connection goes away
  bool back = eventually([&] { return gw.client(2s).get("/health").status == 200; }, 10s, 100ms);
  EXPECT_TRUE(back) << "the gateway did not serve again once descriptors were free";
  // And it serves a burst that fits.
  for (int i = 0; i < 10; ++i) EXPECT_EQ(gw.client().get("/health").status, 200);
}

// ------------------------------------------------- 15: credentials, readiness ---

TEST(AdversarialOps, HealthNeverShowsRedisCredentialsAndReadinessSurvivesAnOutage) {
  const std::string admin_password = "pw-redis-admin-3e4f5a";
  const std::string user = "gw-acl-user-7a8b9c", password = "pw-acl-user-9c0d1e";
  RedisServer redis(admin_password);
  auto add_user = [&] {
    ASSERT_EQ(redis.cli({"ACL", "SETUSER", user, "on", ">" + password, "~*", "&*", "+@all"}), "OK");
  };
  add_user();
  MockUpstream mock({"--models", "gpt-4o-mini"});
  redis.cli({"SET", "llm:logical:ops-pool", dp::logical("ops-pool", {dp::physical("p", "gpt-4o-mini")})});
  EnvMap env = one_provider_env(mock, {{"REDIS_URL", "redis://" + user + ":" + password + "@127.0.0.1:" +
                                                         std::to_string(redis.port()) + "/0"},
                                       {"REDIS_TIMEOUT_MS", "500"},
                                       {"APIPROXY_CATALOG_REFRESH_SECONDS", "1"}});
  Gateway gw(env);
  auto c = gw.client(8s);
  ASSERT_TRUE(eventually([&] { return Contains(c.get("/v1/models").body, "ops-pool"); }, 10s, 100ms))
      << c.get("/v1/models").dump();
  auto no_secret = [&](const Response& r) {
    for (const auto& s : {user, password, admin_password}) EXPECT_TRUE(LacksSecret(r.dump(), s)) << r.dump();
  };
  auto chat_ok = [&] {
    std::string n = adv::nonce("ops");
    auto r = c.post("/v1/chat/completions", chat_body("ops-pool", n));
    EXPECT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(adv::answer_text(r.body), reply_of("mock", n)) << r.dump();
  };
  chat_ok();
  for (const char* path : {"/health", "/health/live", "/health/ready"}) {
    auto r = c.get(path);
    EXPECT_EQ(r.status, 200) << r.dump();
    no_secret(r);
  }

  redis.stop();
  ASSERT_TRUE(eventually(
      [&] {
        auto h = parse_json(c.get("/health").body);
        return h.IsObject() && h.HasMember("store") && h["store"].IsObject() && h["store"].HasMember("reachable") &&
               h["store"]["reachable"].IsFalse();
      },
      10s, 200ms))
      << c.get("/health").dump();
  for (const char* path : {"/health", "/health/live", "/health/ready"}) {
    auto r = c.get(path);
    no_secret(r);
  }
  // Ready: the data plane still serves from its cached catalog; the outage shows as degraded.
  auto ready = c.get("/health/ready");
  EXPECT_EQ(ready.status, 200) << ready.dump();
  EXPECT_TRUE(Contains(ready.body, "degraded")) << ready.dump();
  chat_ok();

  redis.start();  // same port and password; the ACL user must be made again (nothing persists)
  add_user();
  EXPECT_TRUE(eventually(
      [&] {
        auto h = parse_json(c.get("/health").body);
        return h.IsObject() && h.HasMember("store") && h["store"].IsObject() && h["store"].HasMember("reachable") &&
               h["store"]["reachable"].IsTrue();
      },
      15s, 200ms))
      << c.get("/health").dump();
  EXPECT_EQ(c.get("/health/ready").status, 200);
  chat_ok();
  gw.stop();
  for (const auto& s : {password, admin_password}) EXPECT_TRUE(LacksSecret(gw.log(), s));
}

// ------------------------------------------------------- 16: safe defaults, admin ---

size_t tcp6_listeners(uint16_t port) {
  std::ifstream in("/proc/net/tcp6");
  std::string line;
  std::getline(in, line);
  size_t n = 0;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string slot, local, remote, state;
    f >> slot >> local >> remote >> state;
    auto colon = local.rfind(':');
    if (state == "0A" && colon != std::string::npos && std::strtoul(local.substr(colon + 1).c_str(), nullptr, 16) == port) ++n;
  }
  return n;
}

TEST(AdversarialOps, WithoutATokenOrAHostItListensOnLoopbackOnly) {
  MockUpstream mock;
  EnvMap env = one_provider_env(mock);
  ASSERT_FALSE(env.count("APIPROXY_HOST") || env.count("APIPROXY_AUTH_TOKEN"));
  Gateway gw(env, {"serve", "--port", "0"});
  EXPECT_EQ(gw.host(), "127.0.0.1");
  auto addresses = adv::listening_addresses(gw.port());
  ASSERT_FALSE(addresses.empty() && tcp6_listeners(gw.port()) == 0) << "no listening socket found on " << gw.port();
  for (const auto& a : addresses) EXPECT_EQ(a, "127.0.0.1") << "listening on " << a;
  EXPECT_EQ(tcp6_listeners(gw.port()), 0u) << "listening on an IPv6 address too";
  std::string other = adv::non_loopback_ipv4();
  if (!other.empty()) {
    EXPECT_FALSE(adv::can_connect(other, gw.port())) << "reachable on " << other;
  }
  EXPECT_EQ(gw.client().get("/health").status, 200);
}

TEST(AdversarialOps, WithAHostItListensThere) {
  MockUpstream mock;
  // Another loopback address: nothing leaves the machine, yet it is not 127.0.0.1.
  Gateway gw(one_provider_env(mock, {{"APIPROXY_HOST", "127.0.0.2"}}), {"serve", "--port", "0"});
  EXPECT_EQ(gw.host(), "127.0.0.2");
  auto addresses = adv::listening_addresses(gw.port());
  ASSERT_FALSE(addresses.empty()) << "no listening socket found on " << gw.port();
  for (const auto& a : addresses) EXPECT_EQ(a, "127.0.0.2") << "listening on " << a;
  EXPECT_TRUE(adv::can_connect("127.0.0.2", gw.port()));
  EXPECT_FALSE(adv::can_connect("127.0.0.1", gw.port()));
}

TEST(AdversarialOps, AdminTokenGuardsTheAdministrativeEndpoints) {
  const std::string data = "ops-data-token-1a2b", admin = "ops-admin-token-3c4d";
  MockUpstream mock({"--models", "gpt-4o-mini"});
  Gateway gw(one_provider_env(mock, {{"APIPROXY_AUTH_TOKEN", data}, {"APIPROXY_ADMIN_TOKEN", admin}}));
  auto c = gw.client(8s);
  const std::string model = R"({"upstreams":[{"provider_id":"p","model_id":"gpt-4o-mini","base_weight":1}]})";
  const Headers none, as_data{bearer(data)}, as_admin{bearer(admin)}, wrong{bearer("not-a-token")};

  struct Call {
    std::string method, path, body;
  };
  const std::vector<Call> admin_calls = {{"PUT", "/logical-models/adm", model},
                                         {"DELETE", "/logical-models/adm", ""},
                                         {"POST", "/plugins/reload", ""},
                                         {"DELETE", "/routing/sessions/adm-session", ""}};
  auto send = [&](const Call& call, Headers h) {
    if (!call.body.empty()) h.emplace_back("Content-Type", "application/json");
    return c.request(call.method, call.path, h, call.body);
  };
  for (const auto& call : admin_calls) {
    SCOPED_TRACE(call.method + " " + call.path);
    EXPECT_EQ(send(call, none).status, 401);
    EXPECT_EQ(send(call, wrong).status, 401);
    auto r = send(call, as_data);
    EXPECT_EQ(r.status, 403) << r.dump();
  }
  EXPECT_EQ(c.get("/logical-models/adm", as_data).status, 404) << "the data token stored a model";
  // The admin token, in both credential forms.
  for (const auto& call : admin_calls) {
    SCOPED_TRACE("admin: " + call.method + " " + call.path);
    auto r = send(call, as_admin);
    EXPECT_TRUE(r.status != 401 && r.status != 403 && r.status < 500) << r.dump();
  }
  auto put = send(admin_calls[0], {api_key_header(admin)});
  EXPECT_EQ(put.status, 200) << put.dump();
  // Everything else: the admin token works, and so does the data token.
  for (const Headers& h : {as_admin, as_data}) {
    SCOPED_TRACE(h == as_admin ? "admin token" : "data token");
    EXPECT_EQ(c.get("/providers", h).status, 200);
    EXPECT_EQ(c.get("/logical-models", h).status, 200);
    EXPECT_EQ(c.get("/logical-models/adm", h).status, 200);
    EXPECT_EQ(c.get("/v1/models", h).status, 200);
    EXPECT_EQ(c.get("/metrics", h).status, 200);
    int session = c.get("/routing/sessions/none", h).status;
    EXPECT_TRUE(session != 401 && session != 403) << session;
    EXPECT_EQ(c.post("/routing/decide", R"({"logical_model":"adm"})", h).status, 200);
    std::string n = adv::nonce("adm");
    auto r = c.post("/v1/chat/completions", chat_body("adm", n), h);
    EXPECT_EQ(r.status, 200) << r.dump();
    EXPECT_EQ(adv::answer_text(r.body), reply_of("mock", n));
  }
  EXPECT_EQ(c.get("/providers").status, 401);
  gw.stop();
  for (const auto& s : {data, admin, base64(data), base64(admin)}) EXPECT_TRUE(LacksSecret(gw.log(), s));
}

TEST(AdversarialOps, WithoutAnAdminTokenTheDataTokenStillAdministers) {
  MockUpstream mock({"--models", "gpt-4o-mini"});
  Gateway gw(one_provider_env(mock, {{"APIPROXY_AUTH_TOKEN", "ops-only-token"}}));
  auto r = gw.client().put("/logical-models/adm", R"({"upstreams":[{"provider_id":"p","model_id":"gpt-4o-mini","base_weight":1}]})",
                           {bearer("ops-only-token")});
  EXPECT_EQ(r.status, 200) << r.dump();
  EXPECT_EQ(gw.client().del("/logical-models/adm", {bearer("ops-only-token")}).status, 200);
}

}  // namespace
}  // namespace it
