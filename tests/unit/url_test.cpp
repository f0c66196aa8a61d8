// http(s) URLs (core/common/url.hpp) and REDIS_URL (core/store/redis_url.hpp).
#include <gtest/gtest.h>

#include <string>

#include "core/common/url.hpp"
#include "core/store/redis_url.hpp"

namespace apiproxy {
namespace {

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

// ---------------------------------------------------------------- parse_url ----

TEST(ParseUrl, HttpsDefaultPort) {
  auto u = parse_url("https://api.openai.com");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "api.openai.com");
  EXPECT_EQ(u->port, "443");
  EXPECT_EQ(u->target, "/");
  EXPECT_TRUE(u->tls());
  EXPECT_EQ(u->host_header(), "api.openai.com");
  EXPECT_EQ(u->origin(), "https://api.openai.com");
}

TEST(ParseUrl, HttpDefaultPort) {
  auto u = parse_url("http://example.com/");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->scheme, "http");
  EXPECT_EQ(u->port, "80");
  EXPECT_EQ(u->target, "/");
  EXPECT_FALSE(u->tls());
  EXPECT_EQ(u->host_header(), "example.com");
  EXPECT_EQ(u->origin(), "http://example.com");
}

TEST(ParseUrl, ExplicitPorts) {
  auto u = parse_url("http://localhost:8080");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->host, "localhost");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->host_header(), "localhost:8080");
  EXPECT_EQ(u->origin(), "http://localhost:8080");

  // A default port written out is the same origin as the implicit one.
  auto d = parse_url("https://h.example:443/x");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->port, "443");
  EXPECT_EQ(d->host_header(), "h.example");
  EXPECT_EQ(d->origin(), "https://h.example");

  // ...but 80 on https (and 443 on http) is not a default.
  auto x = parse_url("https://h.example:80");
  ASSERT_TRUE(x.has_value());
  EXPECT_EQ(x->host_header(), "h.example:80");
  auto y = parse_url("http://h.example:443");
  ASSERT_TRUE(y.has_value());
  EXPECT_EQ(y->host_header(), "h.example:443");

  auto max = parse_url("http://h:65535");
  ASSERT_TRUE(max.has_value());
  EXPECT_EQ(max->port, "65535");
  auto one = parse_url("http://h:1");
  ASSERT_TRUE(one.has_value());
  EXPECT_EQ(one->port, "1");
}

TEST(ParseUrl, SchemeAndHostAreCaseInsensitive) {
  auto u = parse_url("HTTPS://API.Example.COM/V1/Models");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "api.example.com");
  EXPECT_EQ(u->target, "/V1/Models");  // the path keeps its case
}

TEST(ParseUrl, Ipv6Literals) {
  auto u = parse_url("http://[::1]:8080/v1");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->host, "::1");
  EXPECT_EQ(u->port, "8080");
  EXPECT_EQ(u->target, "/v1");
  EXPECT_EQ(u->host_header(), "[::1]:8080");
  EXPECT_EQ(u->origin(), "http://[::1]:8080");

  auto d = parse_url("https://[2001:db8::1]");
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->host, "2001:db8::1");
  EXPECT_EQ(d->port, "443");
  EXPECT_EQ(d->host_header(), "[2001:db8::1]");
  EXPECT_EQ(d->origin(), "https://[2001:db8::1]");
}

TEST(ParseUrl, PathsAndQueries) {
  auto u = parse_url("https://h.example/openai/deployments/gpt4/chat/completions?api-version=2024-02-01");
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->host, "h.example");
  EXPECT_EQ(u->target, "/openai/deployments/gpt4/chat/completions?api-version=2024-02-01");

  auto q = parse_url("http://h.example?x=1");
  ASSERT_TRUE(q.has_value());
  EXPECT_EQ(q->host, "h.example");
  EXPECT_EQ(q->target, "/?x=1");

  auto qp = parse_url("http://h.example:81?x=1");
  ASSERT_TRUE(qp.has_value());
  EXPECT_EQ(qp->port, "81");
  EXPECT_EQ(qp->target, "/?x=1");

  auto f = parse_url("http://h.example/a#frag");
  ASSERT_TRUE(f.has_value());
  EXPECT_EQ(f->target, "/a");  // fragments never go on the wire

  auto fonly = parse_url("http://h.example#frag");
  ASSERT_TRUE(fonly.has_value());
  EXPECT_EQ(fonly->host, "h.example");
  EXPECT_EQ(fonly->target, "/");
}

class InvalidUrl : public ::testing::TestWithParam<const char*> {};

TEST_P(InvalidUrl, Rejected) {
  auto u = parse_url(GetParam());
  EXPECT_FALSE(u.has_value()) << GetParam() << " parsed as host='" << (u ? u->host : "")
                              << "' port='" << (u ? u->port : "") << "'";
}

INSTANTIATE_TEST_SUITE_P(
    Forms, InvalidUrl,
    ::testing::Values("", "api.openai.com", "//api.openai.com", "ftp://example.com",
                      "ws://example.com", "http:/example.com", "http://", "http:///path",
                      "http://:8080", "http://host:", "http://host:0", "http://host:65536",
                      "http://host:99999", "http://host:-1", "http://host:8o", "http://host:123456",
                      "http://user@host", "http://user:pw@host/", "https://a:b@c:1/",
                      "http://[::1", "http://[::1]x", "http://[::1]:", "http://[]:80"));

// An unbracketed IPv6 literal is ambiguous (where does the host end?) and must not parse
// as some other host and port.
TEST(ParseUrl, UnbracketedIpv6Rejected) {
  auto u = parse_url("http://::1/");
  EXPECT_FALSE(u.has_value()) << "parsed as host='" << u->host << "' port='" << u->port << "'";
  auto v = parse_url("http://2001:db8::1/");
  EXPECT_FALSE(v.has_value()) << "parsed as host='" << v->host << "' port='" << v->port << "'";
}

// ---------------------------------------------------------------- is_loopback_host ----

TEST(IsLoopbackHost, Loopback) {
  for (const char* h : {"localhost", "LOCALHOST", "Localhost", "127.0.0.1", "127.0.0.53",
                        "127.1.2.3", "127.255.255.255", "::1", "api.localhost"})
    EXPECT_TRUE(is_loopback_host(h)) << h;
}

TEST(IsLoopbackHost, NotLoopback) {
  for (const char* h : {"", "example.com", "10.0.0.1", "192.168.1.1", "0.0.0.0", "128.0.0.1",
                        "1.127.0.0", "localhost.example.com", "notlocalhost", "::2", "[::1]x",
                        "api.openai.com"})
    EXPECT_FALSE(is_loopback_host(h)) << h;
}

// "127.0.0.0/8" is a set of addresses, not names that happen to start with "127.".
TEST(IsLoopbackHost, HostnamesStartingWith127AreNotLoopback) {
  for (const char* h : {"127.example.com", "127.0.0.1.nip.io", "127.evil"})
    EXPECT_FALSE(is_loopback_host(h)) << h;
}

// ---------------------------------------------------------------- REDIS_URL ----

TEST(RedisUrl, SpecLocalForm) {
  auto r = parse_redis_url("redis://localhost:6379/0");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->host, "localhost");
  EXPECT_EQ(r->port, "6379");
  EXPECT_EQ(r->db, 0);
  EXPECT_EQ(r->user, "");
  EXPECT_EQ(r->password, "");
  EXPECT_EQ(r->display(), "redis://localhost:6379/0");
}

TEST(RedisUrl, SpecComposeForm) {
  auto r = parse_redis_url("redis://redis:6379/0");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->host, "redis");
  EXPECT_EQ(r->port, "6379");
  EXPECT_EQ(r->db, 0);
  EXPECT_EQ(r->display(), "redis://redis:6379/0");
}

TEST(RedisUrl, Defaults) {
  auto r = parse_redis_url("redis://cache.internal");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->host, "cache.internal");
  EXPECT_EQ(r->port, "6379");
  EXPECT_EQ(r->db, 0);
  auto s = parse_redis_url("redis://cache.internal/");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->db, 0);
}

TEST(RedisUrl, PasswordOnlyWithColon) {
  auto r = parse_redis_url("redis://:pass@host");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->user, "");
  EXPECT_EQ(r->password, "pass");
  EXPECT_EQ(r->host, "host");
  EXPECT_EQ(r->port, "6379");
  EXPECT_FALSE(contains(r->display(), "pass")) << r->display();
  EXPECT_EQ(r->display(), "redis://:****@host:6379/0");
}

TEST(RedisUrl, UserPasswordPortDb) {
  auto r = parse_redis_url("redis://user:pass@host:1234/3");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->user, "user");
  EXPECT_EQ(r->password, "pass");
  EXPECT_EQ(r->host, "host");
  EXPECT_EQ(r->port, "1234");
  EXPECT_EQ(r->db, 3);
  EXPECT_EQ(r->display(), "redis://user:****@host:1234/3");
}

TEST(RedisUrl, PercentEncodedPassword) {
  auto r = parse_redis_url("redis://app:p%40ss%3Aw%2Frd%25@host:6380/1");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->user, "app");
  EXPECT_EQ(r->password, "p@ss:w/rd%");
  EXPECT_EQ(r->host, "host");
  EXPECT_EQ(r->port, "6380");
  EXPECT_EQ(r->db, 1);
  EXPECT_FALSE(contains(r->display(), "p@ss")) << r->display();
  EXPECT_FALSE(contains(r->display(), "%40")) << r->display();
}

TEST(RedisUrl, UnencodedAtInPassword) {
  auto r = parse_redis_url("redis://:p@ss@host");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->password, "p@ss");
  EXPECT_EQ(r->host, "host");
}

TEST(RedisUrl, BareSecretIsAPassword) {
  auto r = parse_redis_url("redis://secret@host");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->user, "");
  EXPECT_EQ(r->password, "secret");
  EXPECT_FALSE(contains(r->display(), "secret")) << r->display();
}

TEST(RedisUrl, Ipv6) {
  auto r = parse_redis_url("redis://[::1]:6380/2");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->host, "::1");
  EXPECT_EQ(r->port, "6380");
  EXPECT_EQ(r->db, 2);
  EXPECT_EQ(r->display(), "redis://[::1]:6380/2");
  auto d = parse_redis_url("redis://:pw@[fe80::1]");
  ASSERT_TRUE(d.ok()) << d.error();
  EXPECT_EQ(d->host, "fe80::1");
  EXPECT_EQ(d->port, "6379");
  EXPECT_EQ(d->password, "pw");
}

TEST(RedisUrl, QueryIgnored) {
  auto r = parse_redis_url("redis://host:6379/4?timeout=5");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->db, 4);
}

struct BadRedis {
  const char* url;
  const char* why;  // a key part of the message
};

class InvalidRedisUrl : public ::testing::TestWithParam<BadRedis> {};

TEST_P(InvalidRedisUrl, ErrorExplains) {
  auto r = parse_redis_url(GetParam().url);
  ASSERT_FALSE(r.ok()) << GetParam().url << " parsed as " << r->display();
  EXPECT_TRUE(contains(r.error(), "REDIS_URL")) << r.error();
  EXPECT_TRUE(contains(r.error(), GetParam().why)) << r.error();
}

INSTANTIATE_TEST_SUITE_P(
    Forms, InvalidRedisUrl,
    ::testing::Values(BadRedis{"rediss://host:6379", "rediss"},
                      BadRedis{"http://host:6379", "redis://"},
                      BadRedis{"localhost:6379", "redis://"},
                      BadRedis{"", "redis://"},
                      BadRedis{"redis://host:abc", "port"},
                      BadRedis{"redis://host:0", "port"},
                      BadRedis{"redis://host:70000", "port"},
                      BadRedis{"redis://host/abc", "database"},
                      BadRedis{"redis://host/-1", "database"},
                      BadRedis{"redis://host/1x", "database"},
                      BadRedis{"redis://", "host"},
                      BadRedis{"redis://:6379", "host"},
                      BadRedis{"redis://:pw@/0", "host"},
                      BadRedis{"redis://[::1", "["},
                      BadRedis{"redis://[::1]x", "after"}),
    [](const auto& info) { return "case" + std::to_string(info.index); });

TEST(RedisUrl, DisplayNeverContainsPassword) {
  for (const char* url : {"redis://:hunter2@h", "redis://u:hunter2@h:1/2", "redis://hunter2@h",
                          "redis://u:hunter2@[::1]:7000"}) {
    auto r = parse_redis_url(url);
    ASSERT_TRUE(r.ok()) << url << ": " << r.error();
    EXPECT_EQ(r->password, "hunter2") << url;
    EXPECT_FALSE(contains(r->display(), "hunter2")) << r->display();
    EXPECT_TRUE(contains(r->display(), "****")) << r->display();
  }
}

}  // namespace
}  // namespace apiproxy
