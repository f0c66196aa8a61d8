#include "core/store/redis_store.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

namespace apiproxy {

namespace {

using Type = RedisReply::Type;

Store::Value as_value(const RedisReply& r) {
  if (r.type == Type::String || r.type == Type::Status) return r.str;
  return std::nullopt;
}

// SCAN MATCH treats *?[]\ specially; a prefix must match them literally.
std::string glob_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '*' || c == '?' || c == '[' || c == ']' || c == '\\') out += '\\';
    out += c;
  }
  return out;
}

// Scale-and-clamp in one step on the server, so concurrent instances never lose a nudge.
constexpr const char* kScaleScript = R"lua(
local current = tonumber(redis.call('ZSCORE', KEYS[1], ARGV[1])) or tonumber(ARGV[3])
local v = current * tonumber(ARGV[2])
v = math.max(tonumber(ARGV[4]), math.min(tonumber(ARGV[5]), v))
redis.call('ZADD', KEYS[1], v, ARGV[1])
return tostring(v)
)lua";

std::string number(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

}  // namespace

RedisStore::RedisStore(boost::asio::io_context& io, RedisUrl url, std::chrono::milliseconds timeout)
    : conn_(std::make_shared<RedisConnection>(io, std::move(url), timeout)) {}

void RedisStore::command(std::vector<std::string> args, RedisConnection::Callback done) {
  conn_->execute(std::move(args), std::move(done));
}

void RedisStore::get(std::string key, Callback<Value> done) {
  command({"GET", std::move(key)}, [done = std::move(done)](Result<RedisReply> r) {
    if (!r) return done(Error{r.error()});
    done(as_value(*r));
  });
}

void RedisStore::get_many(std::vector<std::string> keys, Callback<std::vector<Value>> done) {
  if (keys.empty()) {
    // Keep the promise of never completing inside the call.
    command({"PING"}, [done = std::move(done)](Result<RedisReply>) { done(std::vector<Value>{}); });
    return;
  }
  keys.insert(keys.begin(), "MGET");
  command(std::move(keys), [done = std::move(done)](Result<RedisReply> r) {
    if (!r) return done(Error{r.error()});
    std::vector<Value> out;
    for (const auto& e : r->elements) out.push_back(as_value(e));
    done(std::move(out));
  });
}

void RedisStore::set(std::string key, std::string value, std::chrono::seconds ttl,
                     Callback<Unit> done) {
  std::vector<std::string> args{"SET", std::move(key), std::move(value)};
  if (ttl.count() > 0) {
    args.push_back("EX");
    args.push_back(std::to_string(ttl.count()));
  }
  command(std::move(args), [done = std::move(done)](Result<RedisReply> r) {
    if (!r) return done(Error{r.error()});
    done(Unit{});
  });
}

void RedisStore::del(std::string key, Callback<bool> done) {
  command({"DEL", std::move(key)}, [done = std::move(done)](Result<RedisReply> r) {
    if (!r) return done(Error{r.error()});
    done(r->integer > 0);
  });
}

void RedisStore::keys_with_prefix(std::string prefix, Callback<std::vector<std::string>> done) {
  scan_from("0", glob_escape(prefix) + "*", {}, std::move(done));
}

void RedisStore::scan_from(std::string cursor, std::string pattern, std::vector<std::string> found,
                           Callback<std::vector<std::string>> done) {
  command({"SCAN", cursor, "MATCH", pattern, "COUNT", "500"},
          [this, pattern, found = std::move(found), done = std::move(done)](
              Result<RedisReply> r) mutable {
            if (!r) return done(Error{r.error()});
            if (r->elements.size() != 2) return done(Error{"unexpected SCAN reply from Redis"});
            for (const auto& k : r->elements[1].elements) found.push_back(k.str);
            const std::string& next = r->elements[0].str;
            if (next == "0") {
              // SCAN may return a key twice while the keyspace changes.
              std::sort(found.begin(), found.end());
              found.erase(std::unique(found.begin(), found.end()), found.end());
              return done(std::move(found));
            }
            scan_from(next, std::move(pattern), std::move(found), std::move(done));
          });
}

void RedisStore::ping(Callback<Unit> done) {
  command({"PING"}, [done = std::move(done)](Result<RedisReply> r) {
    if (!r) return done(Error{r.error()});
    done(Unit{});
  });
}

}  // namespace apiproxy

namespace apiproxy {

void RedisStore::zset_scale(std::string key, std::string member, double factor, double initial,
                            double min, double max, Callback<double> done) {
  command({"EVAL", kScaleScript, "1", std::move(key), std::move(member), number(factor),
           number(initial), number(min), number(max)},
          [done = std::move(done)](Result<RedisReply> r) {
            if (!r) return done(Error{r.error()});
            done(std::strtod(r->str.c_str(), nullptr));
          });
}

void RedisStore::zset_members(std::string key,
                              Callback<std::vector<std::pair<std::string, double>>> done) {
  command({"ZRANGE", std::move(key), "0", "-1", "WITHSCORES"},
          [done = std::move(done)](Result<RedisReply> r) {
            if (!r) return done(Error{r.error()});
            std::vector<std::pair<std::string, double>> out;
            for (size_t i = 0; i + 1 < r->elements.size(); i += 2)
              out.emplace_back(r->elements[i].str, std::strtod(r->elements[i + 1].str.c_str(), nullptr));
            done(std::move(out));
          });
}

}  // namespace apiproxy
