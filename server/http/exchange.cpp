#include "server/http/exchange.hpp"

#include <spdlog/spdlog.h>

#include "server/api/errors.hpp"
#include "server/http/client_connection.hpp"

namespace apiproxy {

namespace http = boost::beast::http;

Exchange::Exchange(std::shared_ptr<ClientConnection> session, Request request, std::string request_id)
    : session_(std::move(session)), request_(std::move(request)), request_id_(std::move(request_id)) {
  std::string_view target = request_.target();
  auto q = target.find('?');
  path_ = std::string(target.substr(0, q));
  if (q != std::string_view::npos) query_string_ = std::string(target.substr(q + 1));
}

Exchange::~Exchange() {
  if (stream_open_ && session_) {
    session_->abort();  // a half-sent stream cannot be saved
    return;
  }
  if (!responded_ && session_)
    respond_error(http::status::internal_server_error, "the request was dropped without an answer");
}

std::optional<std::string> Exchange::query(std::string_view name) const {
  std::string_view rest = query_string_;
  while (!rest.empty()) {
    auto amp = rest.find('&');
    std::string_view pair = rest.substr(0, amp);
    auto eq = pair.find('=');
    std::string key = percent_decode(pair.substr(0, eq));
    if (key == name) {
      std::string value(eq == std::string_view::npos ? std::string_view() : pair.substr(eq + 1));
      for (auto& c : value)
        if (c == '+') c = ' ';
      return percent_decode(value);
    }
    if (amp == std::string_view::npos) break;
    rest.remove_prefix(amp + 1);
  }
  return std::nullopt;
}

const std::string& Exchange::param(std::string_view name) const {
  static const std::string empty;
  for (const auto& [k, v] : params_)
    if (k == name) return v;
  return empty;
}

std::string_view Exchange::header(http::field f) const {
  auto it = request_.find(f);
  return it == request_.end() ? std::string_view() : std::string_view(it->value());
}

void Exchange::respond(http::status status, std::string body, std::string_view content_type) {
  Response res{status, request_.version()};
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  respond(std::move(res));
}

void Exchange::respond_error(http::status status, std::string_view message) {
  respond(status, error_body_for(path_, status, message));
}

void Exchange::log_access(int status, size_t body_bytes) const {
  if (!spdlog::should_log(spdlog::level::info)) return;
  double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started_).count();
  std::string extra;
  for (const auto& [k, v] : notes_) extra += " " + k + "=" + v;
  spdlog::info("access id={} {} {} status={} bytes={} ms={:.2f}{}", request_id_, request_.method_string(),
               path_, status, body_bytes, ms, extra);
}

void Exchange::respond(Response response) {
  if (responded_) return;
  responded_ = true;
  log_access(response.result_int(), response.body().size());
  response.set("X-Request-Id", request_id_);
  response.keep_alive(request_.keep_alive());
  response.prepare_payload();
  session_->write(std::move(response));
}

}  // namespace apiproxy

namespace apiproxy {

void Exchange::start_stream(StreamHead head, std::function<void(bool)> done) {
  if (responded_) return done(false);
  responded_ = true;
  stream_open_ = true;
  stream_status_ = head.result_int();
  head.set("X-Request-Id", request_id_);
  head.keep_alive(request_.keep_alive());
  head.chunked(true);
  session_->write_stream_head(std::move(head), std::move(done));
}

void Exchange::stream_write(std::string_view data, std::function<void(bool)> done) {
  if (!stream_open_) return done(false);
  session_->write_chunk(data, std::move(done));
}

void Exchange::end_stream(std::function<void(bool)> done) {
  if (!stream_open_) return done(false);
  stream_open_ = false;
  note("stream", "true");
  log_access(stream_status_, 0);
  session_->write_last_chunk(request_.keep_alive(), std::move(done));
}

}  // namespace apiproxy
