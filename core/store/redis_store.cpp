#include "core/store/redis_store.hpp"

#include <algorithm>
#include <cstdio>
#include <cstdlib>

#include <boost/asio/post.hpp>
#include <openssl/evp.h>

#include "core/common/text.hpp"
#include "core/store/gcra.hpp"

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
redis.call('EXPIRE', KEYS[1], ARGV[6])
return tostring(v)
)lua";

std::string number(double d) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.17g", d);
  return buf;
}

}  // namespace

RedisStore::RedisStore(boost::asio::io_context& io, RedisUrl url, std::chrono::milliseconds timeout)
    : conn_(std::make_shared<RedisConnection>(io, std::move(url), timeout)), io_(io) {}

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
                            double min, double max, std::chrono::seconds ttl, Callback<double> done) {
  command({"EVAL", kScaleScript, "1", std::move(key), std::move(member), number(factor),
           number(initial), number(min), number(max), std::to_string(std::max<long long>(1, ttl.count()))},
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

// ------------------------------------------------------------------ rate limits ----

namespace apiproxy {

namespace {

// Store::rate_admit in one atomic step on the server, on the server's clock (TIME), so
// every instance sees one state whatever its own clock says. Mirrors gcra::check and
// gcra::Table::admit_first line for line; the rate arithmetic (interval, window) arrives
// precomputed by gcra::params. Whole microseconds throughout: Lua numbers are doubles,
// exact for integers below 2^53 (today's epoch microseconds are ~2^51).
//
// KEYS: every candidate's limit states, candidate after candidate.
// ARGV[1]: the number of candidates n; ARGV[2 .. n+1]: how many limits each has; then,
// per key in KEYS order, its interval and window.
// Returns {the admitted candidate's index from 0, or -1; the shortest wait in microseconds}.
const std::string& rate_script() {
  static const std::string script = R"lua(
pcall(redis.replicate_commands)
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local n = tonumber(ARGV[1])
local k = 0
local best = -1
for c = 1, n do
  local m = tonumber(ARGV[1 + c])
  local ok = true
  local wait = 0
  local new_tats = {}
  for i = 1, m do
    local interval = tonumber(ARGV[n + 2 * (k + i)])
    local window = tonumber(ARGV[n + 2 * (k + i) + 1])
    local tat = tonumber(redis.call('GET', KEYS[k + i])) or 0
    if tat < now then tat = now end
    local new_tat = tat + interval
    local allow_at = new_tat - window
    if allow_at > now then
      ok = false
      if allow_at - now > wait then wait = allow_at - now end
    end
    new_tats[i] = new_tat
  end
  if ok then
    for i = 1, m do
      local ttl_ms = math.ceil((new_tats[i] - now) / 1000) + )lua" +
                                     std::to_string(gcra::kExpirySlackMs) + R"lua(
      redis.call('SET', KEYS[k + i], string.format('%.0f', new_tats[i]), 'PX', string.format('%.0f', ttl_ms))
    end
    return {c - 1, 0}
  end
  if best < 0 or wait < best then best = wait end
  k = k + m
end
return {-1, best}
)lua";
  return script;
}

// The script's SHA-1 in hex, as EVALSHA names it.
const std::string& rate_script_sha() {
  static const std::string sha = [] {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    const std::string& s = rate_script();
    EVP_Digest(s.data(), s.size(), md, &len, EVP_sha1(), nullptr);
    return to_hex(md, len);
  }();
  return sha;
}

Result<RateDecision> parse_rate_reply(const RedisReply& r, size_t candidates) {
  if (r.type != RedisReply::Type::Array || r.elements.size() != 2 ||
      r.elements[0].type != RedisReply::Type::Integer ||
      r.elements[1].type != RedisReply::Type::Integer)
    return Error{"unexpected reply from Redis to the rate-limit script"};
  RateDecision d;
  long long index = r.elements[0].integer;
  if (index >= 0) {
    if (static_cast<unsigned long long>(index) >= candidates)
      return Error{"the rate-limit script admitted a candidate that does not exist"};
    d.admitted = static_cast<size_t>(index);
  } else {
    d.retry_after = std::chrono::microseconds(std::max(0LL, r.elements[1].integer));
  }
  return d;
}

}  // namespace

void RedisStore::rate_admit(std::vector<std::vector<RateLimit>> candidates,
                            Callback<RateDecision> done) {
  if (candidates.empty()) {
    boost::asio::post(io_, [done = std::move(done)] { done(RateDecision{}); });
    return;
  }
  std::vector<std::string> args{"EVALSHA", rate_script_sha(), "0"};
  size_t nkeys = 0;
  for (const auto& c : candidates)
    for (const auto& l : c) {
      args.push_back(gcra::redis_key(l.key));
      ++nkeys;
    }
  args[2] = std::to_string(nkeys);
  args.push_back(std::to_string(candidates.size()));
  for (const auto& c : candidates) args.push_back(std::to_string(c.size()));
  for (const auto& c : candidates)
    for (const auto& l : c) {
      auto p = gcra::params(l.qps);
      args.push_back(std::to_string(p.interval));
      args.push_back(std::to_string(p.window));
    }
  size_t n = candidates.size();
  auto finish = [n, done = std::move(done)](Result<RedisReply> r) {
    if (!r) return done(Error{r.error()});
    done(parse_rate_reply(*r, n));
  };
  // Redis forgets scripts on restart (and SCRIPT FLUSH): then send the body once.
  auto evalsha = args;
  conn_->execute(std::move(evalsha), [conn = conn_, args = std::move(args),
                                      finish = std::move(finish)](Result<RedisReply> r) mutable {
    if (!r && r.error().find("NOSCRIPT") != std::string::npos) {
      args[0] = "EVAL";
      args[1] = rate_script();
      return conn->execute(std::move(args), std::move(finish));
    }
    finish(std::move(r));
  });
}

}  // namespace apiproxy
