// One pipelined connection to Redis on one io_context, speaking RESP through hiredis's
// reader and command formatter. It connects on first use, authenticates and selects the
// database, times out commands that get no answer, and reconnects by itself on the next
// command after a failure. It never blocks its thread.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>

#include "core/common/result.hpp"
#include "core/store/redis_url.hpp"

struct redisReader;

namespace apiproxy {

struct RedisReply {
  enum class Type { Nil, Integer, String, Status, Array };
  Type type = Type::Nil;
  long long integer = 0;
  std::string str;
  std::vector<RedisReply> elements;
};

// Commands that failed, summed over every RedisConnection of the process (GET /metrics
// shows them as apiproxy_redis_errors_total{kind}).
struct RedisErrorCounts {
  uint64_t unavailable = 0;  // no connection: resolve, connect or AUTH/SELECT failed, or the back-off after that
  uint64_t timeout = 0;      // no answer within the command timeout
  uint64_t connection = 0;   // the connection broke with the command in flight (reset, unreadable reply)
  uint64_t reply = 0;        // Redis answered with an error (NOSCRIPT, which the store handles, excluded)
};

class RedisConnection : public std::enable_shared_from_this<RedisConnection> {
 public:
  using Callback = std::function<void(Result<RedisReply>)>;

  static RedisErrorCounts error_counts();

  RedisConnection(boost::asio::io_context& io, RedisUrl url, std::chrono::milliseconds timeout);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  // Sends one command. An error reply from Redis arrives as an Error too.
  void execute(std::vector<std::string> args, Callback done);

 private:
  using Executor = boost::asio::io_context::executor_type;
  using Socket = boost::asio::basic_stream_socket<boost::asio::ip::tcp, Executor>;
  using Clock = std::chrono::steady_clock;

  struct Pending {
    Callback done;
    Clock::time_point deadline;
  };
  enum class State { Idle, Connecting, Ready };

  void connect();
  void on_connected();
  void write_more();
  void read_more();
  void deliver_replies();
  void arm_timer();
  void fail_all(const std::string& message, bool connect_failure, bool timed_out = false);
  void enqueue(const std::vector<std::string>& args, Callback done, bool front);
  static std::string format(const std::vector<std::string>& args);

  boost::asio::io_context& io_;
  RedisUrl url_;
  std::chrono::milliseconds timeout_;
  Socket socket_;
  boost::asio::ip::basic_resolver<boost::asio::ip::tcp, Executor> resolver_;
  boost::asio::basic_waitable_timer<Clock, boost::asio::wait_traits<Clock>, Executor> timer_;
  State state_ = State::Idle;
  unsigned generation_ = 0;  // bumps on every reset, so stale handlers know to stop
  std::deque<Pending> pending_;  // in the order the commands go on the wire
  std::string outbox_;           // formatted commands not yet handed to the socket
  std::string writing_;          // the bytes of the write in flight
  std::vector<char> read_buffer_;
  redisReader* reader_ = nullptr;
  Clock::time_point timer_armed_for_{};
  Clock::time_point retry_not_before_{};
  std::string last_error_;
};

}  // namespace apiproxy
