// REDIS_URL: redis://[[user]:password@]host[:port][/db]
#pragma once

#include <string>
#include <string_view>

#include "core/common/result.hpp"

namespace apiproxy {

struct RedisUrl {
  std::string host = "127.0.0.1";
  std::string port = "6379";
  std::string user;      // ACL user; empty: the default user
  std::string password;  // secret
  int db = 0;
  // The password came from REDIS_PASSWORD, not the URL: it is offered, and a Redis that has
  // no password (AUTH answered "no password is set") is used without one.
  bool password_if_required = false;

  // host:port, no credentials: safe in answers and errors that clients may see.
  std::string address() const;
  // redis://user:****@host:port/db: for the operator (start-up log, check-config).
  std::string display() const;
};

Result<RedisUrl> parse_redis_url(std::string_view text);

}  // namespace apiproxy
