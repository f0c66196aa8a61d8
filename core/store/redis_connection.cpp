#include "core/store/redis_connection.hpp"

#include <hiredis/hiredis.h>

#include <atomic>

#include <boost/asio/connect.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>

namespace apiproxy {

namespace asio = boost::asio;

namespace {

// After a failed connect, commands fail at once for this long instead of each waiting
// for its own connect attempt: an outage answers fast, and recovery still comes quickly.
constexpr std::chrono::milliseconds kReconnectBackoff{500};

// Redis 6+ and Redis 5 word the answer to AUTH on a server without a password differently.
bool redis_has_no_password(const std::string& error) {
  return error.find("without any password configured") != std::string::npos ||
         error.find("no password is set") != std::string::npos;
}

// Process-wide: relaxed atomics, touched only when a command fails.
struct ErrorCounters {
  std::atomic<uint64_t> unavailable{0}, timeout{0}, connection{0}, reply{0};
};
ErrorCounters& counters() {
  static ErrorCounters c;
  return c;
}
void count(std::atomic<uint64_t>& c, uint64_t n = 1) { c.fetch_add(n, std::memory_order_relaxed); }

RedisReply convert(const redisReply* r) {
  RedisReply out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::Integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS:
      out.type = r->type == REDIS_REPLY_STRING ? RedisReply::Type::String : RedisReply::Type::Status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::Array;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(convert(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::Nil;
  }
  return out;
}

}  // namespace

RedisErrorCounts RedisConnection::error_counts() {
  auto& c = counters();
  return {c.unavailable.load(std::memory_order_relaxed), c.timeout.load(std::memory_order_relaxed),
          c.connection.load(std::memory_order_relaxed), c.reply.load(std::memory_order_relaxed)};
}

RedisConnection::RedisConnection(asio::io_context& io, RedisUrl url,
                                 std::chrono::milliseconds timeout)
    : io_(io),
      url_(std::move(url)),
      timeout_(timeout),
      socket_(io.get_executor()),
      resolver_(io.get_executor()),
      timer_(io.get_executor()),
      read_buffer_(16 * 1024) {}

RedisConnection::~RedisConnection() {
  if (reader_) redisReaderFree(reader_);
}

std::string RedisConnection::format(const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  char* cmd = nullptr;
  int len = redisFormatCommandArgv(&cmd, static_cast<int>(args.size()), argv.data(), lens.data());
  std::string out = len > 0 ? std::string(cmd, static_cast<size_t>(len)) : std::string();
  redisFreeCommand(cmd);
  return out;
}

void RedisConnection::enqueue(const std::vector<std::string>& args, Callback done, bool front) {
  Pending p{std::move(done), Clock::now() + timeout_};
  if (front) {
    outbox_.insert(0, format(args));
    pending_.push_front(std::move(p));
  } else {
    outbox_ += format(args);
    pending_.push_back(std::move(p));
  }
}

void RedisConnection::execute(std::vector<std::string> args, Callback done) {
  if (state_ == State::Idle && Clock::now() < retry_not_before_) {
    count(counters().unavailable);
    asio::post(io_, [done = std::move(done), msg = last_error_] {
      done(Error{"Redis is unavailable: " + msg});
    });
    return;
  }
  enqueue(args, std::move(done), /*front=*/false);
  // Connect first: it starts a new generation, and the timer must belong to it.
  if (state_ == State::Idle) connect();
  else if (state_ == State::Ready) write_more();
  arm_timer();
}

void RedisConnection::connect() {
  state_ = State::Connecting;
  unsigned gen = ++generation_;
  auto self = shared_from_this();
  resolver_.async_resolve(
      url_.host, url_.port,
      [this, self, gen](const boost::system::error_code& ec, auto results) {
        if (gen != generation_) return;
        if (ec) return fail_all("cannot resolve " + url_.host + ": " + ec.message(), true);
        asio::async_connect(socket_, results,
                            [this, self, gen](const boost::system::error_code& ec, auto) {
                              if (gen != generation_) return;
                              if (ec)
                                return fail_all("cannot connect to Redis at " + url_.address() + ": " +
                                                    ec.message(),
                                                true);
                              on_connected();
                            });
      });
}

void RedisConnection::on_connected() {
  boost::system::error_code ignored;
  socket_.set_option(asio::ip::tcp::no_delay(true), ignored);
  if (reader_) redisReaderFree(reader_);
  reader_ = redisReaderCreate();
  state_ = State::Ready;
  // Handshake commands go first on the wire, ahead of everything queued while connecting.
  auto handshake_failed = [this](const char* what) {
    return [this, what](Result<RedisReply> r) {
      if (!r) fail_all(std::string(what) + " failed: " + r.error(), true);
    };
  };
  if (url_.db != 0) enqueue({"SELECT", std::to_string(url_.db)}, handshake_failed("SELECT"), true);
  if (!url_.password.empty()) {
    std::vector<std::string> auth{"AUTH"};
    if (!url_.user.empty()) auth.push_back(url_.user);
    auth.push_back(url_.password);
    auto auth_failed = handshake_failed("AUTH");
    if (!url_.password_if_required) {
      enqueue(auth, std::move(auth_failed), true);
    } else {
      enqueue(auth, [auth_failed = std::move(auth_failed)](Result<RedisReply> r) {
        if (!r && redis_has_no_password(r.error())) return;  // REDIS_PASSWORD was not needed
        auth_failed(std::move(r));
      }, true);
    }
  }
  read_more();
  write_more();
  arm_timer();  // the handshake now heads the queue
}

void RedisConnection::write_more() {
  if (!writing_.empty() || outbox_.empty() || state_ != State::Ready) return;
  writing_.swap(outbox_);
  unsigned gen = generation_;
  asio::async_write(socket_, asio::buffer(writing_),
                    [this, self = shared_from_this(), gen](const boost::system::error_code& ec,
                                                           size_t) {
                      if (gen != generation_) return;
                      writing_.clear();
                      if (ec) return fail_all("write to Redis failed: " + ec.message(), false);
                      write_more();
                    });
}

void RedisConnection::read_more() {
  unsigned gen = generation_;
  socket_.async_read_some(
      asio::buffer(read_buffer_),
      [this, self = shared_from_this(), gen](const boost::system::error_code& ec, size_t n) {
        if (gen != generation_) return;
        if (ec) return fail_all("connection to Redis lost: " + ec.message(), false);
        if (redisReaderFeed(reader_, read_buffer_.data(), n) != REDIS_OK)
          return fail_all("unreadable reply from Redis", false);
        deliver_replies();
        if (gen == generation_) read_more();
      });
}

void RedisConnection::deliver_replies() {
  unsigned gen = generation_;
  for (;;) {
    void* raw = nullptr;
    if (redisReaderGetReply(reader_, &raw) != REDIS_OK)
      return fail_all(std::string("protocol error from Redis: ") + reader_->errstr, false);
    if (!raw) break;
    std::unique_ptr<redisReply, void (*)(void*)> reply(static_cast<redisReply*>(raw),
                                                      freeReplyObject);
    if (pending_.empty()) return fail_all("Redis sent a reply nobody asked for", false);
    Callback done = std::move(pending_.front().done);
    pending_.pop_front();
    if (reply->type == REDIS_REPLY_ERROR) {
      std::string_view text(reply->str, reply->len);
      if (text.substr(0, 8) != "NOSCRIPT") count(counters().reply);
      done(Error{"Redis error: " + std::string(text)});
    }
    else
      done(convert(reply.get()));
    if (gen != generation_) return;  // a callback (the handshake) reset the connection
  }
  arm_timer();
}

void RedisConnection::arm_timer() {
  if (pending_.empty()) {
    timer_.cancel();
    timer_armed_for_ = {};
    return;
  }
  if (timer_armed_for_ == pending_.front().deadline) return;
  timer_armed_for_ = pending_.front().deadline;
  timer_.expires_at(timer_armed_for_);
  unsigned gen = generation_;
  timer_.async_wait([this, self = shared_from_this(), gen](const boost::system::error_code& ec) {
    if (ec || gen != generation_) return;
    timer_armed_for_ = {};
    if (pending_.empty()) return;
    if (pending_.front().deadline > Clock::now()) return arm_timer();  // the head moved on
    fail_all("Redis did not answer within " + std::to_string(timeout_.count()) + " ms",
             state_ == State::Connecting, /*timed_out=*/true);
  });
}

void RedisConnection::fail_all(const std::string& message, bool connect_failure, bool timed_out) {
  ++generation_;
  state_ = State::Idle;
  boost::system::error_code ignored;
  socket_.close(ignored);
  resolver_.cancel();
  timer_.cancel();
  timer_armed_for_ = {};
  outbox_.clear();
  writing_.clear();
  last_error_ = message;
  if (connect_failure) retry_not_before_ = Clock::now() + kReconnectBackoff;
  std::deque<Pending> failed;
  failed.swap(pending_);
  auto& c = counters();
  count(timed_out ? c.timeout : connect_failure ? c.unavailable : c.connection, failed.size());
  for (auto& p : failed) p.done(Error{message});
}

}  // namespace apiproxy
