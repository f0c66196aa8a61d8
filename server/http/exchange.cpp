#include "server/http/exchange.hpp"

#include <charconv>
#include <cmath>
#include <cstdio>

#include <spdlog/spdlog.h>

#include "core/common/http_head.hpp"
#include "core/telemetry/logging.hpp"
#include "server/http/client_connection.hpp"
#include "server/http/error_body.hpp"

namespace apiproxy {

namespace http = boost::beast::http;

Exchange::Exchange(std::shared_ptr<ClientConnection> session, Request request, std::string request_id,
                   bool keep_alive)
    : session_(std::move(session)),
      request_(std::move(request)),
      request_id_(std::move(request_id)),
      keep_alive_(keep_alive) {
  std::string_view target = request_.target();
  auto q = target.find('?');
  path_ = target.substr(0, q);
  if (q != std::string_view::npos) query_string_ = target.substr(q + 1);
}

Exchange::~Exchange() {
  if (stream_open_ && session_) {
    // The stream never finished (client gone, or dropped): still one access line for it.
    note_flag("stream", true);
    note_flag("incomplete", true);
    complete(status_, stream_bytes_);
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

std::string_view Exchange::header(http::field f) const { return request_[f]; }

void Exchange::respond(http::status status, std::string body, std::string_view content_type) {
  Response res{status, request_.version()};
  res.set(http::field::content_type, content_type);
  res.body() = std::move(body);
  respond(std::move(res));
}

void Exchange::on_client_gone(std::function<void()> f) { session_->on_hangup(std::move(f)); }

void Exchange::respond_error(http::status status, std::string_view message) {
  respond(status, error_body_for(path_, status, message));
}

bool Exchange::access_logging() { return telemetry::access_logger().should_log(spdlog::level::info); }

void Exchange::set_note(std::string_view key, std::string_view value, bool literal) {
  if (!access_logging()) return;
  for (auto& n : notes_) {
    if (n.key == key) {
      n.value = value;
      n.literal = literal;
      return;
    }
  }
  notes_.push_back({std::string(key), std::string(value), literal});
}

void Exchange::note_decimal(std::string_view key, double value) {
  if (!std::isfinite(value) || !access_logging()) return;
  char number[32];
  auto end = std::to_chars(number, number + sizeof number, value).ptr;
  set_note(key, std::string_view(number, static_cast<size_t>(end - number)), true);
}

void Exchange::complete(int status, size_t body_bytes, std::chrono::steady_clock::time_point at) {
  completed_at_ = at;
  log_access(status, body_bytes);
  if (on_complete_) std::exchange(on_complete_, nullptr)();
}

void Exchange::log_access(int status, size_t body_bytes) const {
  spdlog::logger& log = telemetry::access_logger();
  if (!log.should_log(spdlog::level::info)) return;
  auto now = completed_at_.value_or(std::chrono::steady_clock::now());
  double ms = std::chrono::duration<double, std::milli>(now - started_).count();
  std::optional<double> first_byte_ms;
  if (first_byte_at_) first_byte_ms = std::chrono::duration<double, std::milli>(*first_byte_at_ - started_).count();
  char number[32];
  auto fixed = [&](double v) {
    int n = std::snprintf(number, sizeof number, "%.2f", v);
    return std::string_view(number, n > 0 ? static_cast<size_t>(n) : 0);
  };
  std::string line;
  line.reserve(256);
  if (telemetry::json_logs()) {
    // "<msg>\n<object>": the access logger's JSON formatter puts the object under "access".
    line += "access\n{\"request_id\":";
    telemetry::append_json_string(line, request_id_);
    line += ",\"method\":";
    telemetry::append_json_string(line, request_.method_string());
    line += ",\"path\":";
    telemetry::append_json_string(line, path_);
    line += ",\"status\":" + std::to_string(status) + ",\"bytes\":" + std::to_string(body_bytes);
    line += ",\"duration_ms\":";
    line += fixed(ms);
    if (first_byte_ms) {
      line += ",\"first_byte_ms\":";
      line += fixed(*first_byte_ms);
    }
    for (const auto& n : notes_) {
      line += ',';
      telemetry::append_json_string(line, n.key);
      line += ':';
      if (n.literal) line += n.value;
      else telemetry::append_json_string(line, n.value);
    }
    line += '}';
  } else {
    line += "access id=" + request_id_ + " ";
    line += request_.method_string();
    line += ' ';
    line += path_;
    line += " status=" + std::to_string(status) + " bytes=" + std::to_string(body_bytes) + " ms=";
    line += fixed(ms);
    if (first_byte_ms) {
      line += " ttfb_ms=";
      line += fixed(*first_byte_ms);
    }
    for (const auto& n : notes_) line += " " + n.key + "=" + n.value;
  }
  log.info("{}", line);
}

void Exchange::Answer::add(std::string_view name, std::string_view value) {
  if (safe_field_text(name) && safe_field_text(value)) append_field(fields, name, value);
}

void Exchange::respond(Response response) {
  Answer answer{response.result_int(), {}, std::move(response.body())};
  for (const auto& f : response) answer.add(f.name_string(), f.value());
  respond(std::move(answer));
}

void Exchange::respond(Answer answer) {
  if (responded_) return;
  responded_ = true;
  status_ = static_cast<int>(answer.status);
  first_byte_at_ = std::chrono::steady_clock::now();
  complete(status_, answer.body.size(), *first_byte_at_);
  answer.add("X-Request-Id", request_id_);
  size_t length = answer.body.size();
  if (request_.method() == http::verb::head) answer.body.clear();  // the head of the answer a GET would get
  session_->write(std::move(answer), length, request_.version(), keep_alive_);
}

}  // namespace apiproxy

namespace apiproxy {

void Exchange::start_stream(Answer head, std::string_view first, std::function<void(bool)> done) {
  if (responded_) return done(false);
  responded_ = true;
  stream_open_ = true;
  status_ = static_cast<int>(head.status);
  head.add("X-Request-Id", request_id_);
  count_stream_bytes(first);
  session_->write_stream_head(std::move(head), request_.version(), keep_alive_, first, std::move(done));
}

void Exchange::count_stream_bytes(std::string_view data) {
  if (!first_byte_at_ && !data.empty()) first_byte_at_ = std::chrono::steady_clock::now();
  stream_bytes_ += data.size();
}

void Exchange::stream_write(std::string_view data, std::function<void(bool)> done) {
  if (!stream_open_) return done(false);
  count_stream_bytes(data);
  session_->write_chunk(data, std::move(done));
}

void Exchange::end_stream(std::string_view last, std::function<void(bool)> done) {
  if (!stream_open_) return done(false);
  stream_open_ = false;
  count_stream_bytes(last);
  if (!first_byte_at_) first_byte_at_ = std::chrono::steady_clock::now();
  note_flag("stream", true);
  complete(status_, stream_bytes_);
  session_->write_last_chunk(last, keep_alive_, std::move(done));
}

}  // namespace apiproxy
