#include "session.hpp"

#include "control.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>

#include <array>
#include <cstdio>
#include <ctime>
#include <tuple>

namespace mock {

namespace http = boost::beast::http;

namespace {

constexpr std::uint64_t body_limit = 10 * 1024 * 1024;
constexpr std::uint32_t header_limit = 64 * 1024;
constexpr std::size_t keep_body_capacity = 64 * 1024;  // larger request buffers are freed
constexpr std::size_t chunk_size_digits = 8;            // fixed-width hex chunk size

void append_int(std::string& out, long long v) {
    char buf[24];
    int n = std::snprintf(buf, sizeof buf, "%lld", v);
    out.append(buf, std::size_t(n));
}

}  // namespace

Session::Session(Socket socket, const SessionSettings& settings)
    : socket_(std::move(socket)),
      timer_(socket_.get_executor()),
      settings_(settings),
      state_(*settings.state),
      connection_gauge_(settings.state->open_connections) {}

// ---------------------------------------------------------------------------------------
// Reading

// A parser handles one message; a fresh one per request, handed the previous request's
// body string so its capacity is reused.
void Session::new_parser() {
    std::string recycled;
    if (parser_) {
        recycled = std::move(parser_->get().body());
        recycled.clear();
        if (recycled.capacity() > keep_body_capacity) recycled = std::string();
    }
    parser_.emplace(std::piecewise_construct, std::make_tuple(std::move(recycled)));
    parser_->body_limit(body_limit);
    parser_->header_limit(header_limit);
}

// The header is read first so "Expect: 100-continue" can be honoured (curl sends it for
// large bodies and would otherwise stall a second before sending the body).
void Session::read_request() {
    new_parser();
    http::async_read_header(socket_, buffer_, *parser_,
                            [self = shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
}

void Session::on_header(error_code ec) {
    if (closed_) return;
    if (ec) return on_read_error(ec);
    if (parser_->is_done()) return handle_request();  // no body
    auto expect = parser_->get()[http::field::expect];
    if (!boost::beast::iequals(expect, "100-continue")) return read_body();
    out_.assign("HTTP/1.1 100 Continue\r\n\r\n");
    asio::async_write(socket_, asio::buffer(out_), [self = shared_from_this()](error_code wec, std::size_t) {
        if (self->closed_) return;
        if (wec) return self->close();
        self->read_body();
    });
}

void Session::read_body() {
    http::async_read(socket_, buffer_, *parser_,
                     [self = shared_from_this()](error_code ec, std::size_t) { self->on_read(ec); });
}

void Session::on_read(error_code ec) {
    if (closed_) return;
    if (ec) return on_read_error(ec);
    handle_request();
}

// Clean disconnects close quietly; a malformed request gets an answer, then the
// connection is closed because the byte stream can no longer be trusted.
void Session::on_read_error(error_code ec) {
    if (ec.category() != http::make_error_code(http::error::end_of_stream).category() ||
        ec == http::error::end_of_stream || ec == http::error::partial_message) {
        return close();
    }
    int status = ec == http::error::body_limit ? 413 : ec == http::error::header_limit ? 431 : 400;
    responding_ = true;
    keep_alive_ = false;
    head_only_ = false;
    body_.clear();
    error_body(body_, status, std::string("malformed HTTP request: ") + ec.message());
    begin_head(status, "application/json");
    end_head_fixed();
    write_response();
}

// While the response waits on a timer, keep a read posted so a client that goes away is
// noticed at once: its timers are cancelled and the gauges drop immediately instead of
// at the next write. Bytes that arrive instead (a pipelined request) stay in buffer_.
// Not armed when buffer_ already holds such bytes: the client is evidently pipelining,
// and the next request must be parsed from buffer_ as soon as this response is done.
void Session::watch_peer() {
    if (watching_ || closed_ || buffer_.size() > 0) return;
    watching_ = true;
    socket_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](error_code ec, std::size_t n) {
        self->on_watch(ec, n);
    });
}

void Session::on_watch(error_code ec, std::size_t n) {
    watching_ = false;
    if (closed_) return;
    if (ec) return close();
    buffer_.commit(n);
    // Not re-armed while responding: finish_response() must be free to start the next read.
    if (!responding_) read_request();
}

// ---------------------------------------------------------------------------------------
// Dispatch

void Session::handle_request() {
    Request& req = parser_->get();
    responding_ = true;
    keep_alive_ = req.keep_alive();
    chunked_ = req.version() >= 11;
    head_only_ = req.method() == http::verb::head;
    body_.clear();

    std::string_view target = req.target();
    std::string_view path = target.substr(0, target.find('?'));
    int status = is_control_path(path) ? handle_control(req, path) : handle_api(req);
    if (settings_.verbose) {
        std::fprintf(stderr, "[%s] %.*s %.*s -> %d\n", settings_.name.c_str(), int(req.method_string().size()),
                     req.method_string().data(), int(target.size()), target.data(), status);
    }
}

int Session::handle_control(Request& req, std::string_view path) {
    int status = mock::handle_control(state_, req.method(), path, req.body(), body_);
    begin_head(status, "application/json");
    end_head_fixed();
    write_response();
    return status;
}

namespace {

// 404 for unknown endpoints, 405 for the wrong method.
int route_error(const Route& route, http::verb method) {
    if (route.endpoint == Endpoint::unknown) return 404;
    http::verb expected = route.endpoint == Endpoint::models ? http::verb::get : http::verb::post;
    return method == expected ? 0 : 405;
}

}  // namespace

// The checks run in the order a real provider applies them: routing, auth, request
// validation, then the simulated failures; only then the actual answer.
int Session::handle_api(Request& req) {
    Route route = route_api(req.target());
    Rejection routing;
    if (int s = route_error(route, req.method())) {
        routing = {s, s == 404 ? "Unknown request URL: " + std::string(route.path)
                               : "Method not allowed for " + std::string(route.path)};
    }
    Rejection azure;
    if (route.azure && !route.has_api_version) azure = {400, "Missing required query parameter: api-version", "api-version"};

    bool servable = routing.status == 0 && azure.status == 0;
    Admission a = state_.admit(req, route.path, servable && is_inference(route.endpoint));

    if (routing.status) return reject(routing, a);
    if (!a.authorized) return reject({401, "Incorrect API key provided (mock " + settings_.name + ")"}, a);
    if (azure.status) return reject(azure, a);
    if (a.forced_status) return reject({a.forced_status, "mock forced status " + std::to_string(a.forced_status)}, a, true);
    if (route.endpoint == Endpoint::models) return send_models(route, a);
    return handle_inference(req, route, a);
}

int Session::reject(const Rejection& r, const Admission& a, bool forced) {
    error_body(body_, r.status, r.message, r.param);
    begin_head(r.status, "application/json");
    if (forced && a.retry_after > 0) {
        std::string seconds = std::to_string(a.retry_after);
        add_header("Retry-After", seconds);
    }
    end_head_fixed();
    send_after(a.latency_ms);
    return r.status;
}

int Session::send_models(const Route& route, const Admission& a) {
    auto models = state_.models();
    if (route.azure) models_azure_body(body_, models);
    else models_openai_body(body_, models, settings_.name);
    begin_head(200, "application/json");
    end_head_fixed();
    send_after(a.latency_ms);
    return 200;
}

int Session::handle_inference(Request& req, const Route& route, const Admission& a) {
    ParseFailure failure;
    if (!parse_api_request(req.body(), route.endpoint, api_, failure)) return reject({400, failure.message, failure.param}, a);

    // The model answered is the Azure deployment, else the requested model.
    if (route.azure) model_.assign(route.deployment);
    else if (!api_.model.empty()) model_ = api_.model;
    else model_ = "mock-model";

    if (route.endpoint == Endpoint::embeddings) {
        embeddings_body(body_, api_, model_);
        begin_head(200, "application/json");
        end_head_fixed();
        send_after(a.latency_ms);
        return 200;
    }

    const bool chat = route.endpoint == Endpoint::chat;
    make_id(id_, chat ? "chatcmpl-" : "cmpl-");
    reply_.assign("mock ").append(settings_.name).append(" reply to: ").append(api_.prompt);
    completion_ = Completion{settings_.fingerprint, id_, model_, reply_, static_cast<long long>(std::time(nullptr)),
                             estimate_tokens(api_.prompt_chars), estimate_tokens(reply_.size())};
    if (api_.stream) {
        prepare_stream(a, chat);
        if (a.latency_ms > 0) wait(a.latency_ms, &Session::start_stream);
        else start_stream();
        return 200;
    }
    if (chat) chat_body(body_, completion_);
    else completion_body(body_, completion_);
    begin_head(200, "application/json");
    end_head_fixed();
    send_after(a.latency_ms);
    return 200;
}

// ---------------------------------------------------------------------------------------
// Fixed-length responses. The head is serialised by hand into out_ and written together
// with body_ in one gather write: one syscall per response, no per-field allocations.

void Session::begin_head(int status, std::string_view content_type) {
    out_.assign("HTTP/1.1 ");
    append_int(out_, status);
    out_.push_back(' ');
    auto known = http::int_to_status(unsigned(status));
    out_.append(known == http::status::unknown ? std::string_view("Mock Status") : http::obsolete_reason(known));
    out_.append("\r\n");
    add_header("Content-Type", content_type);
    add_header("X-Mock-Name", settings_.name);
}

void Session::add_header(std::string_view name, std::string_view value) {
    out_.append(name).append(": ").append(value).append("\r\n");
}

void Session::end_head_fixed() {
    out_.append("Content-Length: ");
    append_int(out_, static_cast<long long>(body_.size()));
    out_.append("\r\n");
    if (!keep_alive_) add_header("Connection", "close");
    out_.append("\r\n");
    if (head_only_) body_.clear();
}

void Session::send_after(int delay_ms) {
    if (delay_ms > 0) wait(delay_ms, &Session::write_response);
    else write_response();
}

void Session::write_response() { write_out(&Session::finish_response); }

void Session::finish_response() {
    responding_ = false;
    if (!keep_alive_) return graceful_close();
    // A pending peer watch doubles as the read for the next request (see on_watch).
    if (!watching_) read_request();
}

// ---------------------------------------------------------------------------------------
// SSE streams: head (+ role chunk), then one write per content piece, then the finish,
// optional usage and [DONE] events with the terminating chunk. One write in flight.

void Session::prepare_stream(const Admission& a, bool chat) {
    stream_ = Stream{chat, api_.include_usage, a.chunks, a.chunk_interval_ms, a.reset_after_chunks, 0};
    if (!chunked_) keep_alive_ = false;  // HTTP/1.0: the body ends when the connection does
}

void Session::start_stream() {
    stream_gauge_.emplace(state_.active_streams);
    body_.clear();
    out_.assign("HTTP/1.1 200 OK\r\n");
    add_header("Content-Type", "text/event-stream");
    add_header("Cache-Control", "no-cache");
    add_header("X-Mock-Name", settings_.name);
    if (chunked_) add_header("Transfer-Encoding", "chunked");
    if (!keep_alive_) add_header("Connection", "close");
    out_.append("\r\n");
    if (stream_.chat) {
        auto at = begin_chunk();
        chat_role_event(out_, completion_);
        end_chunk(at);
    }
    write_out(&Session::stream_next);
}

void Session::stream_next() {
    if (stream_.sent >= stream_.chunks) return stream_finish();
    if (stream_.interval_ms > 0) wait(stream_.interval_ms, &Session::stream_piece);
    else stream_piece();
}

void Session::stream_piece() {
    auto piece = reply_piece(reply_, stream_.sent, stream_.chunks);
    out_.clear();
    auto at = begin_chunk();
    if (stream_.chat) chat_delta_event(out_, completion_, piece);
    else completion_text_event(out_, completion_, piece, false);
    end_chunk(at);
    ++stream_.sent;
    write_out(&Session::after_piece);
}

void Session::after_piece() {
    // Simulates a provider dying mid-stream: RST, no finish event, no terminating chunk.
    if (stream_.reset_after > 0 && stream_.sent >= stream_.reset_after) return abort_connection();
    stream_next();
}

void Session::stream_finish() {
    out_.clear();
    auto at = begin_chunk();
    if (stream_.chat) chat_finish_event(out_, completion_);
    else completion_text_event(out_, completion_, {}, true);
    if (stream_.include_usage) usage_event(out_, completion_, stream_.chat);
    done_event(out_);
    end_chunk(at);
    if (chunked_) out_.append("0\r\n\r\n");
    stream_gauge_.reset();
    write_out(&Session::finish_response);
}

// Chunk framing without a second buffer: reserve a fixed-width hex size (leading zeros
// are valid chunk-size syntax), append the payload, then fill the size in.
std::size_t Session::begin_chunk() {
    std::size_t at = out_.size();
    if (chunked_) out_.append(chunk_size_digits, '0').append("\r\n");
    return at;
}

void Session::end_chunk(std::size_t at) {
    if (!chunked_) return;
    std::size_t payload = out_.size() - at - chunk_size_digits - 2;
    if (payload == 0) {  // a zero-size chunk would end the body
        out_.resize(at);
        return;
    }
    char hex[chunk_size_digits + 1];  // a chunk is one or a few events: far below 4 GiB
    std::snprintf(hex, sizeof hex, "%08x", unsigned(payload));
    out_.replace(at, chunk_size_digits, hex, chunk_size_digits);
    out_.append("\r\n");
}

// ---------------------------------------------------------------------------------------
// Plumbing

void Session::wait(int ms, Step next) {
    timer_.expires_after(std::chrono::milliseconds(ms));
    watch_peer();
    timer_.async_wait([self = shared_from_this(), next](error_code ec) {
        if (ec || self->closed_) return;
        (self.get()->*next)();
    });
}

void Session::write_out(Step next) {
    std::array<asio::const_buffer, 2> buffers{asio::buffer(out_), asio::buffer(body_)};
    asio::async_write(socket_, buffers, [self = shared_from_this(), next](error_code ec, std::size_t) {
        if (self->closed_) return;
        if (ec) return self->close();
        (self.get()->*next)();
    });
}

void Session::graceful_close() {
    error_code ec;
    socket_.shutdown(tcp::socket::shutdown_send, ec);
    close();
}

void Session::abort_connection() {
    error_code ec;
    socket_.set_option(asio::socket_base::linger(true, 0), ec);  // close() then sends RST
    close();
}

// Idempotent. Cancels the timer and any pending I/O; their handlers see closed_ and
// return, and the session is freed when the last of them drops its reference.
void Session::close() {
    if (closed_) return;
    closed_ = true;
    stream_gauge_.reset();
    timer_.cancel();
    error_code ec;
    socket_.close(ec);
}

}  // namespace mock
