// One request and the means to answer it, handed to a route handler. A handler may answer
// at once or later (after store or upstream I/O) on the same thread; an exchange dropped
// without an answer answers 500 itself, so a client is never left hanging.
#pragma once

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <functional>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>

#include "core/common/recycling_allocator.hpp"
#include "server/http/http_request.hpp"
#include "server/http/http_router.hpp"

namespace apiproxy {

class ClientConnection;

class Exchange {
 public:
  // Header fields of the Beast messages handlers answer with come from recycled blocks.
  using Fields = boost::beast::http::basic_fields<RecyclingAllocator<char>>;
  using Request = HttpRequest;
  using Response = boost::beast::http::response<boost::beast::http::string_body, Fields>;

  // An answer whose header lines are kept as they will be written ("Name: value\r\n"
  // each), so building one costs appends, not an allocation and a tree insertion per field
  // as a Beast message does. The data plane answers with it, and a stream's head is one
  // (without a body). X-Request-Id, Content-Length, Transfer-Encoding and Connection are the
  // exchange's to add.
  struct Answer {
    unsigned status = 200;
    std::string fields;
    std::string body;
    // Appends one field; a name or value that would break the line (CR, LF, NUL) is dropped.
    void add(std::string_view name, std::string_view value);
  };

  // `keep_alive`: what the request asked for (its parser knows without reading the fields again).
  Exchange(std::shared_ptr<ClientConnection> session, Request request, std::string request_id, bool keep_alive);
  ~Exchange();
  Exchange(const Exchange&) = delete;
  Exchange& operator=(const Exchange&) = delete;

  Request& request() { return request_; }
  std::string_view path() const { return path_; }
  std::optional<std::string> query(std::string_view name) const;
  // A {name} captured by the route ("" when absent).
  const std::string& param(std::string_view name) const;
  void set_params(PathParams params) { params_ = std::move(params); }
  std::string_view header(boost::beast::http::field f) const;
  const std::string& request_id() const { return request_id_; }
  std::chrono::steady_clock::time_point started() const { return started_; }
  // Facts for the access log line written when the answer is complete ("model", "provider",
  // "attempts", ...); a key noted again replaces its value. In JSON logs a number is a JSON
  // number. Never put a secret here.
  // Nothing is kept when the access log is off.
  void note(std::string_view key, std::string_view value) { set_note(key, value, false); }
  void note_number(std::string_view key, long long value) {
    if (access_logging()) set_note(key, std::to_string(value), true);
  }
  // The shortest decimal that reads back as `value`; a value that is not finite (no JSON
  // number spells it) is left out.
  void note_decimal(std::string_view key, double value);
  void note_flag(std::string_view key, bool value) { set_note(key, value ? "true" : "false", true); }
  // The status sent (0 until an answer or a stream head went out).
  int status() const { return status_; }
  // When the first byte of the answer's body went out: the whole answer, or a stream's
  // first piece (its end, if it had none).
  std::optional<std::chrono::steady_clock::time_point> first_byte_at() const { return first_byte_at_; }
  // When the answer was complete: handed whole to the connection, or its stream ended (or
  // was given up). Unset until then.
  std::optional<std::chrono::steady_clock::time_point> completed_at() const { return completed_at_; }
  // Runs once when the answer is complete, before its last bytes are written — so whatever
  // it counts is visible before the client can see the answer. Cleared after it ran; a
  // handler that may die first must reset it (on_complete(nullptr)).
  void on_complete(std::function<void()> f) { on_complete_ = std::move(f); }
  // Runs `f` once if the client hangs up before the answer starts: the handler can stop
  // the work it started for it (an upstream call, say). Replaces an earlier one.
  void on_client_gone(std::function<void()> f);

  void respond(boost::beast::http::status status, std::string body,
               std::string_view content_type = "application/json");
  // Answers with the error shape that suits the path (see api/errors.hpp).
  void respond_error(boost::beast::http::status status, std::string_view message);
  void respond(Response response);
  void respond(Answer answer);
  bool responded() const { return responded_; }

  // A streamed answer: the head (sent chunked) with the first piece if there is one
  // (`first` may be empty), pieces as they come, then the end. Each `done(ok)` runs once
  // the bytes are on their way; ok=false: the client is gone. `first` and `data` must stay
  // valid until their `done` runs.
  void start_stream(Answer head, std::string_view first, std::function<void(bool)> done);
  void stream_write(std::string_view data, std::function<void(bool)> done);
  // `last` (may be empty) goes out with the end, in one write.
  void end_stream(std::string_view last, std::function<void(bool)> done);

 private:
  std::shared_ptr<ClientConnection> session_;
  Request request_;
  // Views into request_'s target, which does not move while the exchange lives.
  std::string_view path_;
  std::string_view query_string_;
  PathParams params_;
  std::string request_id_;
  bool keep_alive_;  // what the request asked for (its Connection field and version)
  std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
  bool responded_ = false;
  bool stream_open_ = false;
  int status_ = 0;
  size_t stream_bytes_ = 0;
  std::optional<std::chrono::steady_clock::time_point> first_byte_at_;
  std::optional<std::chrono::steady_clock::time_point> completed_at_;
  std::function<void()> on_complete_;
  struct Note {
    std::string key, value;
    bool literal = false;  // value is a JSON number or true/false, written unquoted
  };
  std::vector<Note> notes_;

  static bool access_logging();
  void set_note(std::string_view key, std::string_view value, bool literal);
  // completed_at_ (`at`, or now), the access line, on_complete_.
  void complete(int status, size_t body_bytes,
                std::chrono::steady_clock::time_point at = std::chrono::steady_clock::now());
  void log_access(int status, size_t body_bytes) const;
  // A stream's first byte and its byte count.
  void count_stream_bytes(std::string_view data);
};

}  // namespace apiproxy
