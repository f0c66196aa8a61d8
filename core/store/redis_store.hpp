// The Store on Redis: one pipelined connection per io_context.
#pragma once

#include <memory>

#include "core/store/redis_connection.hpp"
#include "core/store/store.hpp"

namespace apiproxy {

class RedisStore final : public Store {
 public:
  RedisStore(boost::asio::io_context& io, RedisUrl url, std::chrono::milliseconds timeout);

  std::string_view kind() const override { return "redis"; }
  void get(std::string key, Callback<Value> done) override;
  void get_many(std::vector<std::string> keys, Callback<std::vector<Value>> done) override;
  void set(std::string key, std::string value, std::chrono::seconds ttl,
           Callback<Unit> done) override;
  void del(std::string key, Callback<bool> done) override;
  void keys_with_prefix(std::string prefix, Callback<std::vector<std::string>> done) override;
  void ping(Callback<Unit> done) override;
  void zset_scale(std::string key, std::string member, double factor, double initial, double min,
                  double max, std::chrono::seconds ttl, Callback<double> done) override;
  void zset_members(std::string key,
                    Callback<std::vector<std::pair<std::string, double>>> done) override;
  // One EVALSHA of a Lua script (EVAL when Redis does not have it cached yet).
  void rate_admit(std::vector<std::vector<RateLimit>> candidates,
                  Callback<RateDecision> done) override;

  // Any command, for the parts of the core that need more than the Store verbs.
  void command(std::vector<std::string> args, RedisConnection::Callback done);

 private:
  void scan_from(std::string cursor, std::string pattern, std::vector<std::string> found,
                 Callback<std::vector<std::string>> done);
  std::shared_ptr<RedisConnection> conn_;
  boost::asio::io_context& io_;  // for completions that need no command
};

}  // namespace apiproxy
