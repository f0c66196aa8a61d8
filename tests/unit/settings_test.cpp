// Gateway settings (core/config/settings.hpp) and the strict value parsers (values.hpp).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <string>

#include "core/config/environment.hpp"
#include "core/config/settings.hpp"
#include "core/config/values.hpp"

namespace apiproxy {
namespace {

using namespace std::chrono_literals;

Result<Settings> settings_from(std::string_view text, Environment::Map process = {}) {
  return load_settings(Environment::from_text(text, std::move(process)));
}

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(Settings, Defaults) {
  auto r = settings_from("");
  ASSERT_TRUE(r.ok()) << r.error();
  const Settings& s = *r;
  EXPECT_EQ(s.host, "127.0.0.1");  // no token: reachable from this machine only
  EXPECT_EQ(s.port, 8000);
  EXPECT_EQ(s.workers, 0u);
  EXPECT_EQ(s.max_body_bytes, 10u * 1024 * 1024);
  EXPECT_EQ(s.header_timeout, 30s);
  EXPECT_EQ(s.idle_timeout, 75s);
  EXPECT_EQ(s.auth_token, "");
  EXPECT_EQ(s.redis_url, "");
  EXPECT_FALSE(s.uses_redis());
  EXPECT_EQ(s.redis_timeout, 1000ms);
  EXPECT_EQ(s.models_cache_ttl, 300s);
  EXPECT_EQ(s.models_refresh, 300s);
  EXPECT_EQ(s.catalog_refresh, 2s);
  EXPECT_EQ(s.upstream_connect_timeout, 5000ms);
  EXPECT_EQ(s.upstream_request_timeout, 60000ms);
  EXPECT_EQ(s.health_timeout, 5000ms);
  EXPECT_TRUE(s.tls_verify);
  EXPECT_EQ(s.plugin_dir, "");
  EXPECT_EQ(s.log_level, "info");
}

TEST(Settings, EveryVariableParsed) {
  auto r = settings_from(R"(
APIPROXY_HOST=127.0.0.1
APIPROXY_PORT=9090
APIPROXY_WORKERS=4
APIPROXY_MAX_BODY_BYTES=2048
APIPROXY_HEADER_TIMEOUT_SECONDS=5
APIPROXY_IDLE_TIMEOUT_SECONDS=600
APIPROXY_AUTH_TOKEN=s3cret
REDIS_URL=redis://localhost:6379/0
REDIS_TIMEOUT_MS=250
MODELS_CACHE_TTL=60
MODELS_REFRESH_SECONDS=120
APIPROXY_CATALOG_REFRESH_SECONDS=7
APIPROXY_UPSTREAM_CONNECT_TIMEOUT_MS=1500
APIPROXY_UPSTREAM_TIMEOUT_MS=90000
APIPROXY_HEALTH_TIMEOUT_MS=3000
APIPROXY_TLS_VERIFY=false
APIPROXY_PLUGIN_DIR=/opt/apiproxy/plugins
LOG_LEVEL=debug
)");
  ASSERT_TRUE(r.ok()) << r.error();
  const Settings& s = *r;
  EXPECT_EQ(s.host, "127.0.0.1");
  EXPECT_EQ(s.port, 9090);
  EXPECT_EQ(s.workers, 4u);
  EXPECT_EQ(s.max_body_bytes, 2048u);
  EXPECT_EQ(s.header_timeout, 5s);
  EXPECT_EQ(s.idle_timeout, 600s);
  EXPECT_EQ(s.auth_token, "s3cret");
  EXPECT_EQ(s.redis_url, "redis://localhost:6379/0");
  EXPECT_TRUE(s.uses_redis());
  EXPECT_EQ(s.redis_timeout, 250ms);
  EXPECT_EQ(s.models_cache_ttl, 60s);
  EXPECT_EQ(s.models_refresh, 120s);
  EXPECT_EQ(s.catalog_refresh, 7s);
  EXPECT_EQ(s.upstream_connect_timeout, 1500ms);
  EXPECT_EQ(s.upstream_request_timeout, 90000ms);
  EXPECT_EQ(s.health_timeout, 3000ms);
  EXPECT_FALSE(s.tls_verify);
  EXPECT_EQ(s.plugin_dir, "/opt/apiproxy/plugins");
  EXPECT_EQ(s.log_level, "debug");
}

TEST(Settings, ProcessEnvironmentOverridesFile) {
  auto r = settings_from("APIPROXY_PORT=9000\n", {{"APIPROXY_PORT", "9001"}});
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->port, 9001);
}

TEST(Settings, EmptyValueMeansDefault) {
  auto r = settings_from("APIPROXY_PORT=\nLOG_LEVEL=\nAPIPROXY_TLS_VERIFY=\n");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->port, 8000);
  EXPECT_EQ(r->log_level, "info");
  EXPECT_TRUE(r->tls_verify);
}

TEST(Settings, MemoryRedisUrlIsNotRedis) {
  auto r = settings_from("REDIS_URL=memory://\n");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_FALSE(r->uses_redis());
}

TEST(Settings, SpecRedisUrls) {
  for (const char* url : {"redis://redis:6379/0", "redis://localhost:6379/0"}) {
    auto r = settings_from(std::string("REDIS_URL=") + url + "\n");
    ASSERT_TRUE(r.ok()) << r.error();
    EXPECT_EQ(r->redis_url, url);
    EXPECT_TRUE(r->uses_redis());
  }
}

struct Invalid {
  const char* line;
  const char* variable;
  const char* value;
};

class InvalidSetting : public ::testing::TestWithParam<Invalid> {};

TEST_P(InvalidSetting, ErrorNamesTheVariable) {
  auto r = settings_from(std::string(GetParam().line) + "\n");
  ASSERT_FALSE(r.ok()) << GetParam().line;
  EXPECT_TRUE(contains(r.error(), std::string(GetParam().variable) + "='" + GetParam().value + "'"))
      << r.error();
  EXPECT_TRUE(contains(r.error(), "invalid")) << r.error();
}

INSTANTIATE_TEST_SUITE_P(
    Values, InvalidSetting,
    ::testing::Values(Invalid{"APIPROXY_PORT=abc", "APIPROXY_PORT", "abc"},
                      Invalid{"APIPROXY_PORT=70000", "APIPROXY_PORT", "70000"},
                      Invalid{"APIPROXY_PORT=-1", "APIPROXY_PORT", "-1"},
                      Invalid{"APIPROXY_PORT=80x", "APIPROXY_PORT", "80x"},
                      Invalid{"APIPROXY_PORT=8000.5", "APIPROXY_PORT", "8000.5"},
                      Invalid{"APIPROXY_WORKERS=1000", "APIPROXY_WORKERS", "1000"},
                      Invalid{"APIPROXY_MAX_BODY_BYTES=10", "APIPROXY_MAX_BODY_BYTES", "10"},
                      Invalid{"APIPROXY_HEADER_TIMEOUT_SECONDS=0", "APIPROXY_HEADER_TIMEOUT_SECONDS", "0"},
                      Invalid{"REDIS_TIMEOUT_MS=fast", "REDIS_TIMEOUT_MS", "fast"},
                      Invalid{"MODELS_CACHE_TTL=5m", "MODELS_CACHE_TTL", "5m"},
                      Invalid{"APIPROXY_TLS_VERIFY=maybe", "APIPROXY_TLS_VERIFY", "maybe"},
                      Invalid{"LOG_LEVEL=loud", "LOG_LEVEL", "loud"}),
    [](const auto& info) { return "case" + std::to_string(info.index); });

TEST(Settings, PortRangeMessageSaysWhatIsExpected) {
  auto r = settings_from("APIPROXY_PORT=70000\n");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error(), "65535")) << r.error();
}

TEST(Settings, LogLevelMessageListsChoices) {
  auto r = settings_from("LOG_LEVEL=loud\n");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error(), "debug")) << r.error();
  EXPECT_TRUE(contains(r.error(), "info")) << r.error();
}

TEST(Settings, FirstErrorIsReported) {
  auto r = settings_from("APIPROXY_PORT=abc\nLOG_LEVEL=loud\n");
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(contains(r.error(), "APIPROXY_PORT")) << r.error();
}

TEST(Settings, LogLevelCaseInsensitiveAndWarningAlias) {
  auto r = settings_from("LOG_LEVEL=INFO\n");
  ASSERT_TRUE(r.ok()) << r.error();
  EXPECT_EQ(r->log_level, "info");
  auto w = settings_from("LOG_LEVEL=Warning\n");
  ASSERT_TRUE(w.ok()) << w.error();
  EXPECT_EQ(w->log_level, "warn");
  for (const char* l : {"trace", "debug", "warn", "error", "critical", "off"}) {
    auto x = settings_from(std::string("LOG_LEVEL=") + l + "\n");
    ASSERT_TRUE(x.ok()) << x.error();
    EXPECT_EQ(x->log_level, l);
  }
}

TEST(Settings, TlsVerifyForms) {
  for (const char* t : {"true", "TRUE", "1", "yes", "on", " On "}) {
    auto r = settings_from(std::string("APIPROXY_TLS_VERIFY='") + t + "'\n");
    ASSERT_TRUE(r.ok()) << t << ": " << r.error();
    EXPECT_TRUE(r->tls_verify) << t;
  }
  for (const char* f : {"false", "False", "0", "no", "off"}) {
    auto r = settings_from(std::string("APIPROXY_TLS_VERIFY=") + f + "\n");
    ASSERT_TRUE(r.ok()) << f << ": " << r.error();
    EXPECT_FALSE(r->tls_verify) << f;
  }
}

TEST(Settings, PortBoundaries) {
  auto lo = settings_from("APIPROXY_PORT=0\n");
  ASSERT_TRUE(lo.ok()) << lo.error();
  EXPECT_EQ(lo->port, 0);
  auto hi = settings_from("APIPROXY_PORT=65535\n");
  ASSERT_TRUE(hi.ok()) << hi.error();
  EXPECT_EQ(hi->port, 65535);
  EXPECT_FALSE(settings_from("APIPROXY_PORT=65536\n").ok());
}

// ---------------------------------------------------------------- StatusCodeSet ----

TEST(StatusCodeSet, DefaultRetryable) {
  auto d = StatusCodeSet::default_retryable();
  EXPECT_EQ(d.to_string(), "429,500,502-504");
  for (int s : {429, 500, 502, 503, 504}) EXPECT_TRUE(d.contains(s)) << s;
  for (int s : {200, 400, 401, 404, 428, 430, 501, 505}) EXPECT_FALSE(d.contains(s)) << s;
}

TEST(StatusCodeSet, ParseContainsAndRoundTrip) {
  auto s = StatusCodeSet::parse("429,500,502-504");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->to_string(), "429,500,502-504");
  auto again = StatusCodeSet::parse(s->to_string());
  ASSERT_TRUE(again.has_value());
  EXPECT_EQ(again->to_string(), s->to_string());
}

TEST(StatusCodeSet, NormalisesOrderOverlapsAndAdjacency) {
  auto s = StatusCodeSet::parse(" 504 , 500-502,503, 429,501 ");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->to_string(), "429,500-504");
  auto single_range = StatusCodeSet::parse("500-500");
  ASSERT_TRUE(single_range.has_value());
  EXPECT_EQ(single_range->to_string(), "500");
  auto edges = StatusCodeSet::parse("100,599");
  ASSERT_TRUE(edges.has_value());
  EXPECT_EQ(edges->to_string(), "100,599");
  EXPECT_TRUE(edges->contains(100));
  EXPECT_TRUE(edges->contains(599));
  auto all = StatusCodeSet::parse("100-599");
  ASSERT_TRUE(all.has_value());
  EXPECT_EQ(all->to_string(), "100-599");
}

TEST(StatusCodeSet, EmptyItemsIgnored) {
  auto s = StatusCodeSet::parse(",429,,500,");
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(s->to_string(), "429,500");
}

TEST(StatusCodeSet, ContainsOutOfRangeIsFalse) {
  auto s = StatusCodeSet::parse("100-599");
  ASSERT_TRUE(s.has_value());
  EXPECT_FALSE(s->contains(99));
  EXPECT_FALSE(s->contains(600));
  EXPECT_FALSE(s->contains(-1));
  EXPECT_FALSE(s->contains(0));
  EXPECT_FALSE(s->contains(100000));
}

class InvalidCodes : public ::testing::TestWithParam<const char*> {};

TEST_P(InvalidCodes, Rejected) { EXPECT_FALSE(StatusCodeSet::parse(GetParam()).has_value()) << GetParam(); }

INSTANTIATE_TEST_SUITE_P(Forms, InvalidCodes,
                         ::testing::Values("abc", "600", "99", "0", "-1", "504-502", "", " ", ",",
                                           ", ,", "500-", "-500", "500-504-510", "429;500",
                                           "42 9", "429x", "5e2", "500-600", "1000"));

// ---------------------------------------------------------------- strict parsers ----

TEST(Settings, ListenAddressDefaultsToLoopbackWithoutAToken) {
  EXPECT_EQ(settings_from("")->host, "127.0.0.1");
  EXPECT_EQ(settings_from("APIPROXY_AUTH_TOKEN=t")->host, "0.0.0.0");
  EXPECT_EQ(settings_from("APIPROXY_HOST=0.0.0.0")->host, "0.0.0.0");  // explicit wins
  EXPECT_EQ(settings_from("APIPROXY_AUTH_TOKEN=t\nAPIPROXY_HOST=127.0.0.2")->host, "127.0.0.2");
}

TEST(Settings, HardeningLimits) {
  auto d = settings_from("");
  EXPECT_EQ(d->max_header_bytes, 64u * 1024);
  EXPECT_EQ(d->max_connections, 10000u);
  EXPECT_EQ(d->upstream_total_timeout, 600000ms);
  EXPECT_EQ(d->admin_token, "");
  auto s = settings_from(
      "APIPROXY_MAX_HEADER_BYTES=8192\nAPIPROXY_MAX_CONNECTIONS=5\nAPIPROXY_UPSTREAM_TOTAL_TIMEOUT_MS=1500\n"
      "APIPROXY_ADMIN_TOKEN=root");
  ASSERT_TRUE(s.ok()) << s.error();
  EXPECT_EQ(s->max_header_bytes, 8192u);
  EXPECT_EQ(s->max_connections, 5u);
  EXPECT_EQ(s->upstream_total_timeout, 1500ms);
  EXPECT_EQ(s->admin_token, "root");
  for (const char* bad : {"APIPROXY_MAX_CONNECTIONS=0", "APIPROXY_MAX_HEADER_BYTES=10",
                          "APIPROXY_UPSTREAM_TOTAL_TIMEOUT_MS=soon"}) {
    auto r = settings_from(bad);
    ASSERT_FALSE(r.ok()) << bad;
    EXPECT_TRUE(contains(r.error(), std::string(bad).substr(0, std::string(bad).find('=')))) << r.error();
  }
}

TEST(ParseDouble, Accepts) {
  EXPECT_EQ(parse_double("3"), 3.0);
  EXPECT_EQ(parse_double("0.003"), 0.003);
  EXPECT_EQ(parse_double("-2.5"), -2.5);
  EXPECT_EQ(parse_double("1e3"), 1000.0);
  EXPECT_EQ(parse_double("  7.5  "), 7.5);
  EXPECT_EQ(parse_double(".5"), 0.5);
  EXPECT_EQ(parse_double("0"), 0.0);
}

TEST(ParseDouble, RejectsGarbageAndNonFinite) {
  for (const char* t : {"", " ", "abc", "3x", "3.0.0", "1,5", "nan", "NaN", "-nan", "inf", "-inf",
                        "Infinity", "1e999", "--1", "3 4"})
    EXPECT_FALSE(parse_double(t).has_value()) << "'" << t << "'";
}

TEST(ParseInteger, AcceptsAndRejects) {
  EXPECT_EQ(parse_integer("42"), 42);
  EXPECT_EQ(parse_integer("-7"), -7);
  EXPECT_EQ(parse_integer(" 8000 "), 8000);
  EXPECT_EQ(parse_integer("0"), 0);
  EXPECT_EQ(parse_integer("9223372036854775807"), std::numeric_limits<long long>::max());
  for (const char* t : {"", " ", "abc", "12a", "1.5", "1e3", "0x10", "9223372036854775808",
                        "--1", "1 2"})
    EXPECT_FALSE(parse_integer(t).has_value()) << "'" << t << "'";
}

TEST(ParseBool, AcceptsAndRejects) {
  for (const char* t : {"1", "true", "TRUE", "True", "yes", "YES", "on", "ON", " true "})
    EXPECT_EQ(parse_bool(t), true) << t;
  for (const char* f : {"0", "false", "FALSE", "no", "No", "off", "OFF"})
    EXPECT_EQ(parse_bool(f), false) << f;
  for (const char* bad : {"", "maybe", "2", "-1", "tru", "yes!", "y", "n", "truefalse"})
    EXPECT_FALSE(parse_bool(bad).has_value()) << "'" << bad << "'";
}

}  // namespace
}  // namespace apiproxy
