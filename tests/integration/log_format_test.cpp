// LOG_FORMAT: with `json` every line the gateway writes is one JSON object (time, level,
// logger, msg), the access lines carry their facts as JSON fields, and no secret appears;
// with `text` (the default) the access line carries the same facts as key=value.
// Real gateway, plugins, redis-server and mocks (support/data_plane.hpp).
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "assertions.hpp"
#include "data_plane.hpp"

namespace it {
namespace {

using namespace dp;
using namespace std::chrono_literals;

// Requests of several kinds, so the log has a line for each: answered, streamed, failed
// over, unknown model, a control-plane call and a scrape.
void make_traffic(World& world) {
  auto ok = world.chat("chat-pool", "hello", {{"X-Request-Id", "req-json-1"}});
  ASSERT_EQ(ok.status, 200) << ok.dump();
  auto s = world.stream(kChatPath, chat_body("chat-pool", "a stream", R"(,"stream":true)"),
                        {{"X-Request-Id", "req-stream-1"}});
  ASSERT_TRUE(s->read_head());
  s->read_body();
  ASSERT_TRUE(s->complete());
  auto missing = world.chat("no-such-model", "x");
  ASSERT_EQ(missing.status, 404) << missing.dump();
  ASSERT_EQ(world.get("/providers").status, 200);
  ASSERT_EQ(world.get("/metrics").status, 200);
}

void expect_no_secret(const std::string& log) {
  for (const char* secret : {kAlphaKey, kBetaKey, kAzureKey, kToken}) EXPECT_TRUE(LacksSecret(log, secret));
  EXPECT_TRUE(LacksSecret(log, base64(kToken)));
}

TEST(LogFormat, JsonLinesEveryOneAnObjectWithAccessFields) {
  World world;
  world.start({{"LOG_FORMAT", "json"}});  // start() itself needs the "listening on" line
  make_traffic(world);
  world.gateway->stop();  // every line written and closed
  std::string log = world.gateway->log();
  expect_no_secret(log);

  auto lines = lines_of(log);
  ASSERT_GT(lines.size(), 5u) << log;
  bool listening = false;
  const rapidjson::Value* chat = nullptr;
  const rapidjson::Value* stream = nullptr;
  const rapidjson::Value* not_found = nullptr;
  std::vector<rapidjson::Document> docs;
  docs.reserve(lines.size());
  for (const auto& line : lines) {
    rapidjson::Document d;
    d.Parse(line.c_str(), line.size());
    ASSERT_FALSE(d.HasParseError()) << "not a JSON line: " << line;
    ASSERT_TRUE(d.IsObject()) << line;
    for (const char* key : {"time", "level", "logger", "msg"})
      ASSERT_TRUE(d.HasMember(key) && d[key].IsString()) << key << " missing in: " << line;
    std::string time = d["time"].GetString();
    EXPECT_EQ(time.size(), 24u) << line;  // 2024-05-01T12:00:00.123Z
    EXPECT_EQ(time.back(), 'Z') << line;
    docs.push_back(std::move(d));
  }
  for (const auto& d : docs) {
    std::string msg = d["msg"].GetString();
    if (Contains(msg, "listening on 127.0.0.1:")) listening = true;
    if (std::string(d["logger"].GetString()) != "access") continue;
    EXPECT_EQ(msg, "access");
    ASSERT_TRUE(d.HasMember("access") && d["access"].IsObject()) << "an access line without its fields";
    const auto& a = d["access"];
    std::string id = str(a, "request_id");
    if (id == "req-json-1") chat = &a;
    if (id == "req-stream-1") stream = &a;
    if (str(a, "model") == "no-such-model") not_found = &a;
  }
  EXPECT_TRUE(listening) << log;

  ASSERT_NE(chat, nullptr) << "no access line for the chat completion:\n" << log;
  EXPECT_EQ(str(*chat, "method"), "POST");
  EXPECT_EQ(str(*chat, "path"), kChatPath);
  ASSERT_TRUE((*chat)["status"].IsInt());
  EXPECT_EQ((*chat)["status"].GetInt(), 200);
  EXPECT_EQ(str(*chat, "model"), "chat-pool");
  EXPECT_EQ(str(*chat, "logical_model"), "chat-pool");
  std::string provider = str(*chat, "provider");
  EXPECT_TRUE(provider == "alpha" || provider == "beta") << provider;
  EXPECT_EQ(str(*chat, "upstream_model"), "gpt-4o-mini");
  ASSERT_TRUE(chat->HasMember("attempts") && (*chat)["attempts"].IsInt());
  EXPECT_EQ((*chat)["attempts"].GetInt(), 1);
  for (const char* ms : {"duration_ms", "first_byte_ms"}) {
    ASSERT_TRUE(chat->HasMember(ms) && (*chat)[ms].IsNumber()) << ms;
    EXPECT_GE((*chat)[ms].GetDouble(), 0) << ms;
  }
  EXPECT_LE((*chat)["first_byte_ms"].GetDouble(), (*chat)["duration_ms"].GetDouble());
  ASSERT_TRUE((*chat)["bytes"].IsNumber());
  EXPECT_GT((*chat)["bytes"].GetInt64(), 0);

  ASSERT_NE(stream, nullptr) << "no access line for the stream:\n" << log;
  ASSERT_TRUE(stream->HasMember("stream") && (*stream)["stream"].IsBool());
  EXPECT_TRUE((*stream)["stream"].GetBool());
  EXPECT_EQ((*stream)["status"].GetInt(), 200);
  EXPECT_GT((*stream)["bytes"].GetInt64(), 0) << "the streamed body's size";
  EXPECT_FALSE(str(*stream, "provider").empty());
  EXPECT_TRUE(stream->HasMember("first_byte_ms"));

  ASSERT_NE(not_found, nullptr) << "no access line for the unknown model:\n" << log;
  EXPECT_EQ((*not_found)["status"].GetInt(), 404);
  EXPECT_FALSE(not_found->HasMember("provider"));
}

TEST(LogFormat, TextAccessLinesCarryTheSameFacts) {
  World world;
  world.start();
  make_traffic(world);
  world.gateway->stop();  // every line written and closed
  std::string log = world.gateway->log();
  expect_no_secret(log);
  std::string line;
  for (const auto& l : lines_of(log))
    if (Contains(l, "access id=req-json-1 ")) line = l;
  ASSERT_FALSE(line.empty()) << log;
  EXPECT_EQ(line.find('{'), std::string::npos) << "text mode stays text: " << line;
  for (const char* part : {" info access id=req-json-1 POST /v1/chat/completions status=200 ", " ms=", " ttfb_ms=",
                           " model=chat-pool", " logical_model=chat-pool", " upstream_model=gpt-4o-mini",
                           " attempts=1"})
    EXPECT_TRUE(Contains(line, part));
  EXPECT_TRUE(Contains(line, " provider=alpha") || Contains(line, " provider=beta")) << line;
}

}  // namespace
}  // namespace it
