// JSON for the model types (core/model/json_codec.hpp), compatible with the original
// Python service's Redis data.
#include <gtest/gtest.h>

#include <rapidjson/document.h>

#include <string>

#include "core/model/json_codec.hpp"

namespace apiproxy {
namespace {

bool contains(const std::string& haystack, std::string_view needle) {
  return haystack.find(needle) != std::string::npos;
}

void expect_equal(const PhysicalModel& a, const PhysicalModel& b) {
  EXPECT_EQ(a.provider_id, b.provider_id);
  EXPECT_EQ(a.model_id, b.model_id);
  EXPECT_EQ(a.endpoint, b.endpoint);
  EXPECT_DOUBLE_EQ(a.base_weight, b.base_weight);
  EXPECT_EQ(a.region, b.region);
  EXPECT_EQ(a.max_qps, b.max_qps);
  EXPECT_EQ(a.meta_hash, b.meta_hash);
  EXPECT_EQ(a.updated_at, b.updated_at);
}

void expect_equal(const LogicalModel& a, const LogicalModel& b) {
  EXPECT_EQ(a.logical_id, b.logical_id);
  EXPECT_EQ(a.display_name, b.display_name);
  EXPECT_EQ(a.description, b.description);
  EXPECT_EQ(a.capabilities, b.capabilities);
  EXPECT_EQ(a.enabled, b.enabled);
  EXPECT_EQ(a.updated_at, b.updated_at);
  EXPECT_EQ(a.strategy, b.strategy);
  ASSERT_EQ(a.upstreams.size(), b.upstreams.size());
  for (size_t i = 0; i < a.upstreams.size(); ++i) expect_equal(a.upstreams[i], b.upstreams[i]);
}

LogicalModel sample() {
  LogicalModel m;
  m.logical_id = "gpt-4";
  m.display_name = "GPT-4 (any provider)";
  m.description = "Routes \"gpt-4\" to OpenAI or Azure — 路由";
  m.capabilities = {"chat", "function_calling", "vision"};
  m.enabled = false;
  m.updated_at = 1717171717;
  m.strategy = "latency_first";
  PhysicalModel a;
  a.provider_id = "openai";
  a.model_id = "gpt-4";
  a.endpoint = "https://api.openai.com/v1/chat/completions";
  a.base_weight = 3;
  a.region = "global";
  a.max_qps = 50;
  a.meta_hash = "abc123";
  a.updated_at = 1717170000;
  PhysicalModel b;
  b.provider_id = "azure";
  b.model_id = "gpt4-deployment";
  b.base_weight = 0.25;
  b.updated_at = 1;
  m.upstreams = {a, b};
  return m;
}

TEST(JsonCodec, LogicalModelRoundTrip) {
  LogicalModel m = sample();
  std::string json = to_json(m);
  auto back = logical_model_from_json(json);
  ASSERT_TRUE(back.ok()) << back.error() << "\n" << json;
  expect_equal(*back, m);
  // Encoding again gives the same text.
  EXPECT_EQ(to_json(*back), json);
}

TEST(JsonCodec, LogicalModelJsonShape) {
  std::string json = to_json(sample());
  rapidjson::Document d;
  ASSERT_FALSE(d.Parse(json.c_str()).HasParseError()) << json;
  ASSERT_TRUE(d.IsObject());
  for (const char* k : {"logical_id", "display_name", "description", "capabilities", "upstreams",
                        "enabled", "updated_at", "strategy"})
    EXPECT_TRUE(d.HasMember(k)) << k;
  EXPECT_STREQ(d["logical_id"].GetString(), "gpt-4");
  EXPECT_FALSE(d["enabled"].GetBool());
  EXPECT_EQ(d["updated_at"].GetInt64(), 1717171717);
  const auto& up = d["upstreams"];
  ASSERT_TRUE(up.IsArray());
  ASSERT_EQ(up.Size(), 2u);
  for (const char* k : {"provider_id", "model_id", "endpoint", "base_weight", "region", "max_qps",
                        "meta_hash", "updated_at"})
    EXPECT_TRUE(up[1].HasMember(k)) << k;
  EXPECT_TRUE(up[1]["region"].IsNull());
  EXPECT_TRUE(up[1]["max_qps"].IsNull());
  EXPECT_TRUE(up[1]["meta_hash"].IsNull());
  EXPECT_DOUBLE_EQ(up[0]["base_weight"].GetDouble(), 3.0);
  EXPECT_DOUBLE_EQ(up[0]["max_qps"].GetDouble(), 50.0);
}

TEST(JsonCodec, StrategyOmittedWhenUnset) {
  LogicalModel m = sample();
  m.strategy.reset();
  std::string json = to_json(m);
  EXPECT_FALSE(contains(json, "strategy")) << json;
  auto back = logical_model_from_json(json);
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_FALSE(back->strategy.has_value());
}

TEST(JsonCodec, LogicalModelDefaults) {
  auto m = logical_model_from_json(R"({"logical_id":"m1","upstreams":[]})");
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->logical_id, "m1");
  EXPECT_EQ(m->display_name, "m1");
  EXPECT_EQ(m->description, "");
  EXPECT_TRUE(m->capabilities.empty());
  EXPECT_TRUE(m->upstreams.empty());
  EXPECT_TRUE(m->enabled);
  EXPECT_EQ(m->updated_at, 0);
  EXPECT_FALSE(m->strategy.has_value());

  auto e = logical_model_from_json(R"({"logical_id":"m2","display_name":"","upstreams":[]})");
  ASSERT_TRUE(e.ok()) << e.error();
  EXPECT_EQ(e->display_name, "m2");

  auto u = logical_model_from_json(
      R"({"logical_id":"m3","upstreams":[{"provider_id":"p","model_id":"x"}]})");
  ASSERT_TRUE(u.ok()) << u.error();
  ASSERT_EQ(u->upstreams.size(), 1u);
  EXPECT_DOUBLE_EQ(u->upstreams[0].base_weight, 1.0);
  EXPECT_EQ(u->upstreams[0].endpoint, "");
  EXPECT_FALSE(u->upstreams[0].region.has_value());
  EXPECT_FALSE(u->upstreams[0].max_qps.has_value());
}

struct BadLogical {
  const char* json;
  const char* message;  // a key part of the error
};

class LogicalModelValidation : public ::testing::TestWithParam<BadLogical> {};

TEST_P(LogicalModelValidation, ErrorNamesTheField) {
  auto r = logical_model_from_json(GetParam().json);
  ASSERT_FALSE(r.ok()) << GetParam().json;
  EXPECT_TRUE(contains(r.error(), GetParam().message)) << r.error();
}

INSTANTIATE_TEST_SUITE_P(
    Errors, LogicalModelValidation,
    ::testing::Values(
        BadLogical{R"({"upstreams":[]})", "logical_id is required"},
        BadLogical{R"({"logical_id":null,"upstreams":[]})", "logical_id is required"},
        BadLogical{R"({"logical_id":"","upstreams":[]})", "logical_id must not be empty"},
        BadLogical{R"({"logical_id":5,"upstreams":[]})", "logical_id must be a string"},
        BadLogical{R"({"logical_id":"m"})", "upstreams is required"},
        BadLogical{R"({"logical_id":"m","upstreams":{}})", "upstreams must be an array"},
        BadLogical{R"({"logical_id":"m","upstreams":"openai"})", "upstreams must be an array"},
        BadLogical{R"({"logical_id":"m","upstreams":[{"provider_id":"a","model_id":"x"},
                      {"provider_id":"b","model_id":"y","base_weight":0}]})",
                   "upstreams[1].base_weight must be a number > 0"},
        BadLogical{R"({"logical_id":"m","upstreams":[{"provider_id":"a","model_id":"x"},
                      {"provider_id":"b","model_id":"y","base_weight":-2}]})",
                   "upstreams[1].base_weight must be a number > 0"},
        BadLogical{R"({"logical_id":"m","upstreams":[{"provider_id":"a","model_id":"x","base_weight":"3"}]})",
                   "upstreams[0].base_weight must be a number"},
        BadLogical{R"({"logical_id":"m","upstreams":[{"model_id":"x"}]})",
                   "upstreams[0].provider_id is required"},
        BadLogical{R"({"logical_id":"m","upstreams":[{"provider_id":"a"}]})",
                   "upstreams[0].model_id is required"},
        BadLogical{R"({"logical_id":"m","upstreams":[{"provider_id":"a","model_id":"x","max_qps":0}]})",
                   "upstreams[0].max_qps must be a number > 0"},
        BadLogical{R"({"logical_id":"m","upstreams":[{"provider_id":"a","model_id":"x","region":7}]})",
                   "upstreams[0].region must be a string"},
        BadLogical{R"({"logical_id":"m","upstreams":["openai"]})", "upstreams[0] must be an object"},
        BadLogical{R"({"logical_id":"m","capabilities":["chat","x"],"upstreams":[]})",
                   "capabilities contains unknown 'x'"},
        BadLogical{R"({"logical_id":"m","capabilities":"chat","upstreams":[]})",
                   "capabilities must be an array"},
        BadLogical{R"({"logical_id":"m","capabilities":[1],"upstreams":[]})",
                   "capabilities must be an array of strings"},
        BadLogical{R"({"logical_id":"m","enabled":"yes","upstreams":[]})",
                   "enabled must be true or false"},
        BadLogical{R"({"logical_id":"m","updated_at":"now","upstreams":[]})",
                   "updated_at must be a number"},
        BadLogical{R"({"logical_id":"m","display_name":3,"upstreams":[]})",
                   "display_name must be a string"},
        BadLogical{R"({"logical_id":"m","strategy":1,"upstreams":[]})", "strategy must be a string"},
        BadLogical{R"([1,2])", "must be a JSON object"},
        BadLogical{R"("m")", "must be a JSON object"},
        BadLogical{R"({"logical_id":"m",)", "invalid JSON"},
        BadLogical{"", "invalid JSON"}),
    [](const auto& info) { return "case" + std::to_string(info.index); });

// A LogicalModel as the original Python service stores it: pydantic's model_dump() with
// every field present, optionals as null, floats where Python used time.time().
TEST(JsonCodec, PythonServiceLogicalModelParses) {
  const char* json = R"({
    "logical_id": "gpt-4",
    "display_name": "GPT-4",
    "description": "GPT-4 across providers",
    "capabilities": ["chat", "function_calling"],
    "upstreams": [
      {"provider_id": "openai", "model_id": "gpt-4",
       "endpoint": "https://api.openai.com/v1/chat/completions", "base_weight": 1.0,
       "region": null, "max_qps": null, "meta_hash": null, "updated_at": 1717171717.123456},
      {"provider_id": "azure", "model_id": "gpt-4-deploy",
       "endpoint": "https://r.openai.azure.com/openai/deployments/gpt-4-deploy/chat/completions",
       "base_weight": 2, "region": "us-east", "max_qps": 100, "meta_hash": "9f86d081884c7d65",
       "updated_at": 1717171000}
    ],
    "enabled": true,
    "updated_at": 1717171717.5
  })";
  auto m = logical_model_from_json(json);
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->logical_id, "gpt-4");
  EXPECT_EQ(m->display_name, "GPT-4");
  EXPECT_EQ(m->description, "GPT-4 across providers");
  EXPECT_EQ(m->capabilities, (std::vector<std::string>{"chat", "function_calling"}));
  EXPECT_TRUE(m->enabled);
  EXPECT_EQ(m->updated_at, 1717171717);
  EXPECT_FALSE(m->strategy.has_value());
  ASSERT_EQ(m->upstreams.size(), 2u);
  const auto& a = m->upstreams[0];
  EXPECT_EQ(a.provider_id, "openai");
  EXPECT_EQ(a.endpoint, "https://api.openai.com/v1/chat/completions");
  EXPECT_DOUBLE_EQ(a.base_weight, 1.0);
  EXPECT_FALSE(a.region.has_value());
  EXPECT_FALSE(a.max_qps.has_value());
  EXPECT_FALSE(a.meta_hash.has_value());
  EXPECT_EQ(a.updated_at, 1717171717);
  const auto& b = m->upstreams[1];
  EXPECT_EQ(b.model_id, "gpt-4-deploy");
  EXPECT_DOUBLE_EQ(b.base_weight, 2.0);
  EXPECT_EQ(b.region, "us-east");
  EXPECT_EQ(b.max_qps, 100.0);
  EXPECT_EQ(b.meta_hash, "9f86d081884c7d65");
  EXPECT_EQ(b.updated_at, 1717171000);
}

TEST(JsonCodec, NullOptionalsOnTopLevel) {
  auto m = logical_model_from_json(
      R"({"logical_id":"m","display_name":null,"description":null,"capabilities":null,
          "upstreams":[],"enabled":null,"updated_at":null,"strategy":null})");
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->display_name, "m");
  EXPECT_TRUE(m->enabled);
  EXPECT_FALSE(m->strategy.has_value());
}

TEST(JsonCodec, UnknownFieldsIgnored) {
  auto m = logical_model_from_json(
      R"({"logical_id":"m","upstreams":[{"provider_id":"p","model_id":"x","extra":1}],
          "tags":["a"],"owner":{"x":1}})");
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->upstreams.size(), 1u);
}

TEST(JsonCodec, AllKnownCapabilitiesAccepted) {
  auto m = logical_model_from_json(
      R"({"logical_id":"m","capabilities":["chat","completion","embedding","vision","audio","function_calling"],"upstreams":[]})");
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->capabilities.size(), 6u);
}

TEST(JsonCodec, FromRapidjsonValue) {
  rapidjson::Document d;
  d.Parse(R"({"logical_id":"v","upstreams":[]})");
  auto m = logical_model_from_json(static_cast<const rapidjson::Value&>(d));
  ASSERT_TRUE(m.ok()) << m.error();
  EXPECT_EQ(m->logical_id, "v");
}

TEST(JsonCodec, StringsWithSpecialCharactersRoundTrip) {
  LogicalModel m;
  m.logical_id = "a\"b\\c d/f";
  m.description = std::string("nul\0inside", 10);
  PhysicalModel p;
  p.provider_id = "p";
  p.model_id = "m\"1";
  p.region = "eu\"west";
  p.meta_hash = "h\\1";
  m.upstreams.push_back(p);
  auto back = logical_model_from_json(to_json(m));
  ASSERT_TRUE(back.ok()) << back.error();
  EXPECT_EQ(back->logical_id, m.logical_id);
  EXPECT_EQ(back->description, m.description);
  EXPECT_EQ(back->upstreams[0].model_id, "m\"1");
  EXPECT_EQ(back->upstreams[0].region, "eu\"west");
  EXPECT_EQ(back->upstreams[0].meta_hash, "h\\1");
}

// Ids reach response headers, log lines, metric labels and store keys: a stored logical
// model (written straight into Redis, say) with a control character in one is refused.
TEST(JsonCodec, IdsMustBePrintableNames) {
  for (const char* bad : {R"({"logical_id":"a\r\nSet-Cookie: x=1","upstreams":[]})",
                          R"({"logical_id":"ok","upstreams":[{"provider_id":"p","model_id":"m\r\nX: 1","base_weight":1}]})",
                          R"({"logical_id":"ok","upstreams":[{"provider_id":"p\u0000","model_id":"m","base_weight":1}]})"}) {
    auto m = logical_model_from_json(std::string_view(bad));
    ASSERT_FALSE(m.ok()) << bad;
    EXPECT_NE(m.error().find("printable ASCII"), std::string::npos) << m.error();
  }
  std::string long_id = R"({"logical_id":")" + std::string(257, 'x') + R"(","upstreams":[]})";
  EXPECT_FALSE(logical_model_from_json(std::string_view(long_id)).ok());
}

// ---------------------------------------------------------------- Model lists ----

TEST(JsonCodec, ModelListRoundTrip) {
  Model a;
  a.model_id = "gpt-4o";
  a.provider_id = "openai";
  a.family = "gpt-4o";
  a.display_name = "GPT-4o";
  a.context_length = 128000;
  a.capabilities = {"chat", "vision"};
  a.pricing_json = R"({"input":0.0025,"output":0.01})";
  a.metadata_json = R"({"id":"gpt-4o","object":"model","created":1715367049,"owned_by":"system","nested":{"a":[1,2,null]}})";
  a.meta_hash = content_hash(a.metadata_json);
  Model b;
  b.model_id = "text-embedding-3-small";
  b.provider_id = "openai";
  b.capabilities = {"embedding"};
  std::vector<Model> list{a, b};

  std::string json = to_json(list);
  auto back = models_from_json(json);
  ASSERT_TRUE(back.ok()) << back.error() << "\n" << json;
  ASSERT_EQ(back->size(), 2u);
  const Model& x = (*back)[0];
  EXPECT_EQ(x.model_id, a.model_id);
  EXPECT_EQ(x.provider_id, a.provider_id);
  EXPECT_EQ(x.family, a.family);
  EXPECT_EQ(x.display_name, a.display_name);
  EXPECT_EQ(x.context_length, a.context_length);
  EXPECT_EQ(x.capabilities, a.capabilities);
  EXPECT_EQ(x.pricing_json, a.pricing_json);
  EXPECT_EQ(x.metadata_json, a.metadata_json);
  EXPECT_EQ(x.meta_hash, a.meta_hash);
  const Model& y = (*back)[1];
  EXPECT_EQ(y.model_id, b.model_id);
  EXPECT_EQ(y.context_length, 0u);
  EXPECT_EQ(y.pricing_json, "");
  EXPECT_EQ(y.metadata_json, "");
  EXPECT_EQ(to_json(*back), json);
}

TEST(JsonCodec, ModelJsonShape) {
  Model m;
  m.model_id = "x";
  m.metadata_json = R"({"id":"x"})";
  std::string json = to_json(std::vector<Model>{m});
  rapidjson::Document d;
  ASSERT_FALSE(d.Parse(json.c_str()).HasParseError()) << json;
  ASSERT_TRUE(d.IsArray());
  const auto& o = d[0];
  EXPECT_TRUE(o["context_length"].IsNull());  // 0 = unknown
  EXPECT_TRUE(o["pricing"].IsNull());
  ASSERT_TRUE(o["metadata"].IsObject());  // raw JSON, not a string holding JSON
  EXPECT_STREQ(o["metadata"]["id"].GetString(), "x");
  EXPECT_TRUE(o["capabilities"].IsArray());
}

TEST(JsonCodec, InvalidRawJsonWrittenAsNull) {
  Model m;
  m.model_id = "x";
  m.pricing_json = "{not json";
  std::string json = to_json(std::vector<Model>{m});
  rapidjson::Document d;
  ASSERT_FALSE(d.Parse(json.c_str()).HasParseError()) << json;
  EXPECT_TRUE(d[0]["pricing"].IsNull());
}

TEST(JsonCodec, ModelListErrors) {
  auto notarray = models_from_json(R"({"data":[]})");
  ASSERT_FALSE(notarray.ok());
  EXPECT_TRUE(contains(notarray.error(), "array")) << notarray.error();
  auto noid = models_from_json(R"([{"provider_id":"p"}])");
  ASSERT_FALSE(noid.ok());
  EXPECT_TRUE(contains(noid.error(), "model_id is required")) << noid.error();
  auto bad = models_from_json("[");
  ASSERT_FALSE(bad.ok());
  EXPECT_TRUE(contains(bad.error(), "invalid JSON")) << bad.error();
  auto empty = models_from_json("[]");
  ASSERT_TRUE(empty.ok()) << empty.error();
  EXPECT_TRUE(empty->empty());
}

TEST(JsonCodec, ModelListNullsAndNonObjects) {
  auto r = models_from_json(
      R"([{"model_id":"a","context_length":null,"pricing":null,"metadata":null,"meta_hash":null},
          42, "x",
          {"model_id":"b","context_length":-5}])");
  ASSERT_TRUE(r.ok()) << r.error();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].model_id, "a");
  EXPECT_EQ((*r)[0].context_length, 0u);
  EXPECT_EQ((*r)[0].pricing_json, "");
  EXPECT_EQ((*r)[1].model_id, "b");
  EXPECT_EQ((*r)[1].context_length, 0u);
}

TEST(JsonCodec, HealthStatusShape) {
  HealthStatus h;
  h.provider_id = "openai";
  h.status = "degraded";
  h.timestamp = 1717171717;
  h.response_time_ms = 123.4567;
  h.error_message = "HTTP 503";
  std::string json = to_json(h);
  rapidjson::Document d;
  ASSERT_FALSE(d.Parse(json.c_str()).HasParseError()) << json;
  EXPECT_STREQ(d["provider_id"].GetString(), "openai");
  EXPECT_STREQ(d["status"].GetString(), "degraded");
  EXPECT_EQ(d["timestamp"].GetInt64(), 1717171717);
  EXPECT_DOUBLE_EQ(d["response_time_ms"].GetDouble(), 123.46);
  EXPECT_STREQ(d["error_message"].GetString(), "HTTP 503");
  EXPECT_TRUE(d["last_successful_check"].IsNull());
}

// ---------------------------------------------------------------- content_hash ----

TEST(JsonCodec, ContentHashStable) {
  // FNV-1a 64 reference values.
  EXPECT_EQ(content_hash(""), "cbf29ce484222325");
  EXPECT_EQ(content_hash("a"), "af63dc4c8601ec8c");
  EXPECT_EQ(content_hash("foobar"), "85944171f73967e8");
  EXPECT_EQ(content_hash("hello"), content_hash("hello"));
  EXPECT_NE(content_hash("hello"), content_hash("hellp"));
  EXPECT_EQ(content_hash("x").size(), 16u);
}

}  // namespace
}  // namespace apiproxy
