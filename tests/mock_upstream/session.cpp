#include "session.hpp"

#include "anthropic_responses.hpp"
#include "control.hpp"
#include "openai_responses_api.hpp"

#include <boost/asio/write.hpp>
#include <boost/beast/core/string.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/status.hpp>

#include <algorithm>
#include <array>
#include <chrono>
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

Session::Session(Socket socket, asio::ssl::context* tls, const SessionSettings& settings)
    : transport_(std::move(socket), tls),
      timer_(transport_.get_executor()),
      settings_(settings),
      state_(*settings.state),
      connection_gauge_(settings.state->open_connections) {}

void Session::start() {
    if (!transport_.tls()) return read_request();
    transport_.async_handshake([self = shared_from_this()](error_code ec) { self->on_handshake(ec); });
}

// ---------------------------------------------------------------------------------------
// Reading

// A failed handshake (the client refused our certificate, or spoke plain HTTP) just ends
// the connection: there is no channel left to answer on.
void Session::on_handshake(error_code ec) {
    if (closed_) return;
    if (ec) return close();
    state_.record_tls_handshake(transport_.server_name());
    read_request();
}

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
    http::async_read_header(transport_, buffer_, *parser_,
                            [self = shared_from_this()](error_code ec, std::size_t) { self->on_header(ec); });
}

void Session::on_header(error_code ec) {
    if (closed_) return;
    if (ec) return on_read_error(ec);
    if (parser_->is_done()) return handle_request();  // no body
    auto expect = parser_->get()[http::field::expect];
    if (!boost::beast::iequals(expect, "100-continue")) return read_body();
    out_.assign("HTTP/1.1 100 Continue\r\n\r\n");
    asio::async_write(transport_, asio::buffer(out_), [self = shared_from_this()](error_code wec, std::size_t) {
        if (self->closed_) return;
        if (wec) return self->close();
        self->read_body();
    });
}

void Session::read_body() {
    http::async_read(transport_, buffer_, *parser_,
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
    transport_.async_read_some(buffer_.prepare(4096), [self = shared_from_this()](error_code ec, std::size_t n) {
        self->on_watch(ec, n);
    });
}

void Session::on_watch(error_code ec, std::size_t n) {
    watching_ = false;
    if (closed_) return;
    if (ec) {
        // The peer went away while we were still working on its request.
        if (responding_) (answer_started_ ? state_.peer_closed_answering : state_.peer_closed_waiting).fetch_add(1);
        return close();
    }
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
    answer_started_ = false;
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
    // The Anthropic API: Messages, and the model list when asked with its version header.
    const bool versioned = req.find("anthropic-version") != req.end();
    const bool anthropic_models = route.endpoint == Endpoint::models && !route.azure && versioned;
    anthropic_ = route.endpoint == Endpoint::messages || anthropic_models;
    Rejection missing;  // a required parameter outside the body
    if (route.azure && !route.has_api_version)
        missing = {400, "Missing required query parameter: api-version", "api-version"};
    if (route.endpoint == Endpoint::messages && !versioned) missing = {400, "anthropic-version: header is required"};

    bool servable = routing.status == 0 && missing.status == 0 && is_inference(route.endpoint);
    Admission a = state_.admit(req, Arrival{route.path, route.endpoint, servable, anthropic_});

    if (routing.status) return reject(routing, a);
    if (!a.authorized) {
        const std::string who = " (mock " + settings_.name + ")";
        return reject({401, anthropic_ ? "invalid x-api-key" + who : "Incorrect API key provided" + who}, a);
    }
    if (missing.status) return reject(missing, a);
    if (a.forced_status) return reject({a.forced_status, "mock forced status " + std::to_string(a.forced_status)}, a, true);
    if (route.endpoint == Endpoint::models) return send_models(route, a);
    return handle_inference(req, route, a);
}

int Session::reject(const Rejection& r, const Admission& a, bool forced) {
    write_error(r.status, r.message, r.param);
    begin_head(r.status, "application/json");
    if (forced && a.retry_after > 0) {
        std::string seconds = std::to_string(a.retry_after);
        add_header("Retry-After", seconds);
    }
    end_head_fixed();
    send_after(a.latency_ms);
    return r.status;
}

// The error body in the envelope of the API the request speaks.
void Session::write_error(int status, std::string_view message, std::string_view param) {
    if (anthropic_) anthropic_error_body(body_, status, message);
    else error_body(body_, status, message, param);
}

int Session::send_models(const Route& route, const Admission& a) {
    auto models = state_.models();
    if (route.azure) models_azure_body(body_, models);
    else if (anthropic_) anthropic_models_body(body_, models);
    else models_openai_body(body_, models, settings_.name);
    begin_head(200, "application/json");
    end_head_fixed();
    send_after(a.latency_ms);
    return 200;
}

int Session::handle_inference(Request& req, const Route& route, const Admission& admitted) {
    ParseFailure failure;
    if (!parse_api_request(req.body(), route.endpoint, api_, failure)) return reject({400, failure.message, failure.param}, admitted);

    // The body's "mock" object, when it is meant for this mock, overrides the configured
    // delay and stream shape, and may ask for worse (see misbehaviour.hpp).
    admission_ = admitted;
    const Admission& a = admission_;
    const Misbehaviour& m = api_.mock;
    const bool misbehaving = m.applies_to(settings_.name);
    if (misbehaving) {
        state_.misbehaved.fetch_add(1, std::memory_order_relaxed);
        if (m.delay_ms >= 0) admission_.latency_ms = m.delay_ms;
        if (m.chunks >= 0) admission_.chunks = m.chunks;
        if (m.chunk_interval_ms >= 0) admission_.chunk_interval_ms = m.chunk_interval_ms;
    }

    // The model answered is the Azure deployment, else the requested model.
    if (route.azure) model_.assign(route.deployment);
    else if (!api_.model.empty()) model_ = api_.model;
    else model_ = "mock-model";

    if (route.endpoint == Endpoint::embeddings) {
        embeddings_body(body_, api_, model_, a.usage);
        begin_head(200, "application/json");
        end_head_fixed();
        send_after(a.latency_ms);
        return 200;
    }

    const Endpoint endpoint = route.endpoint;
    compose_answer(endpoint);
    if (misbehaving && m.needs_raw_writer()) return misbehave(endpoint, m.status ? m.status : 200);
    if (api_.stream) {
        prepare_stream(a, endpoint);
        if (a.latency_ms > 0) wait(a.latency_ms, &Session::start_stream);
        else start_stream();
        return 200;
    }
    render_body(endpoint);
    begin_head(200, "application/json");
    end_head_fixed();
    send_after(a.latency_ms);
    return 200;
}

namespace {

const char* answer_id_prefix(Endpoint endpoint) {
    switch (endpoint) {
        case Endpoint::chat: return "chatcmpl-";
        case Endpoint::messages: return "msg_";
        case Endpoint::responses: return "resp_";
        default: return "cmpl-";
    }
}

}  // namespace

// The answer's text and ids into completion_. The reply echoes the prompt, as it always
// has for chat; a Messages or Responses answer may instead call the tool offered (see
// wants_tool_call) or report the tool result it was handed.
void Session::compose_answer(Endpoint endpoint) {
    const bool newer_api = endpoint == Endpoint::messages || endpoint == Endpoint::responses;
    const bool calls_tool = newer_api && wants_tool_call(api_);
    make_id(id_, answer_id_prefix(endpoint));
    if (api_.tool_result) reply_.assign("The tool said: ").append(api_.prompt);
    else if (calls_tool) reply_.assign("Let me check.");
    else reply_.assign("mock ").append(settings_.name).append(" reply to: ").append(api_.prompt);
    completion_ = Completion{.fingerprint = settings_.fingerprint,
                             .id = id_,
                             .model = model_,
                             .reply = reply_,
                             .created = static_cast<long long>(std::time(nullptr)),
                             .prompt_tokens = estimate_tokens(api_.prompt_chars),
                             .completion_tokens = estimate_tokens(reply_.size()),
                             .usage = admission_.usage};
    const bool responses = endpoint == Endpoint::responses;
    if (responses) {
        make_id(item_id_, "msg_");
        completion_.item_id = item_id_;
        if (api_.has_instructions) completion_.instructions = &api_.instructions;
    }
    if (!calls_tool) return;
    make_id(call_id_, responses ? "call_" : "toolu_");
    completion_.tool_name = api_.tool_name;
    completion_.tool_call_id = call_id_;
    if (!responses) return;
    make_id(call_item_id_, "fc_");
    completion_.tool_item_id = call_item_id_;
}

// A whole (not streamed) answer into body_.
void Session::render_body(Endpoint endpoint) {
    switch (endpoint) {
        case Endpoint::chat: return chat_body(body_, completion_);
        case Endpoint::messages: return messages_body(body_, completion_);
        case Endpoint::responses: return response_body(body_, completion_);
        default: return completion_body(body_, completion_);
    }
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

void Session::write_response() {
    answer_started_ = true;
    write_out(&Session::finish_response);
}

void Session::finish_response() {
    responding_ = false;
    if (out_.capacity() > keep_body_capacity) std::string().swap(out_);  // after a huge misbehaving answer
    if (!keep_alive_) return graceful_close();
    // A pending peer watch doubles as the read for the next request (see on_watch).
    if (!watching_) read_request();
}

// ---------------------------------------------------------------------------------------
// SSE streams: head (+ role chunk), then one write per content piece, then the finish,
// optional usage and [DONE] events with the terminating chunk. One write in flight.

void Session::prepare_stream(const Admission& a, Endpoint endpoint) {
    stream_ = Stream{endpoint, api_.include_usage, a.chunks, a.chunk_interval_ms, a.reset_after_chunks, 0, 0};
    if (!chunked_) keep_alive_ = false;  // HTTP/1.0: the body ends when the connection does
}

// The stream's status line and headers into out_, without the blank line that ends them.
void Session::stream_head() {
    out_.assign("HTTP/1.1 200 OK\r\n");
    add_header("Content-Type", "text/event-stream");
    add_header("Cache-Control", "no-cache");
    add_header("X-Mock-Name", settings_.name);
    if (chunked_) add_header("Transfer-Encoding", "chunked");
    if (!keep_alive_) add_header("Connection", "close");
}

// The pieces of a stream, each framed and appended to out_: the opening events (chat: the
// role chunk; Messages: message_start, ping, the text block's start; Responses: created,
// in_progress, the message item and its text part; completions: none), content piece `i`
// of stream_.chunks, and the end (the API's closing events, then the last chunk).
void Session::append_opening() {
    auto at = begin_chunk();
    switch (stream_.endpoint) {
        case Endpoint::chat: chat_role_event(out_, completion_); break;
        case Endpoint::messages: messages_opening_events(out_, completion_); break;
        case Endpoint::responses: response_opening_events(out_, completion_, stream_.sequence); break;
        default: break;
    }
    end_chunk(at);  // drops the chunk when nothing was written
}

void Session::append_piece(int i) {
    auto piece = reply_piece(reply_, i, stream_.chunks);
    auto at = begin_chunk();
    switch (stream_.endpoint) {
        case Endpoint::chat: chat_delta_event(out_, completion_, piece); break;
        case Endpoint::messages: messages_text_event(out_, piece); break;
        case Endpoint::responses: response_text_event(out_, completion_, piece, stream_.sequence); break;
        default: completion_text_event(out_, completion_, piece, false); break;
    }
    end_chunk(at);
}

void Session::append_end() {
    const bool chat = stream_.endpoint == Endpoint::chat;
    auto at = begin_chunk();
    switch (stream_.endpoint) {
        case Endpoint::messages: messages_closing_events(out_, completion_); break;
        case Endpoint::responses: response_closing_events(out_, completion_, stream_.sequence); break;
        default:  // the OpenAI chat and completions streams: finish, optional usage, [DONE]
            if (chat) chat_finish_event(out_, completion_);
            else completion_text_event(out_, completion_, {}, true);
            if (stream_.include_usage) usage_event(out_, completion_, chat);
            done_event(out_);
    }
    end_chunk(at);
    if (chunked_) out_.append("0\r\n\r\n");
}

void Session::start_stream() {
    answer_started_ = true;
    stream_gauge_.emplace(state_.active_streams);
    body_.clear();
    stream_head();
    out_.append("\r\n");
    append_opening();
    write_out(&Session::stream_next);
}

void Session::stream_next() {
    if (stream_.sent >= stream_.chunks) return stream_finish();
    if (stream_.interval_ms > 0) wait(stream_.interval_ms, &Session::stream_piece);
    else stream_piece();
}

void Session::stream_piece() {
    out_.clear();
    append_piece(stream_.sent++);
    write_out(&Session::after_piece);
}

void Session::after_piece() {
    // Simulates a provider dying mid-stream: RST, no finish event, no terminating chunk.
    if (stream_.reset_after > 0 && stream_.sent >= stream_.reset_after) return abort_connection();
    stream_next();
}

void Session::stream_finish() {
    out_.clear();
    append_end();
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
// Misbehaviour (misbehaviour.hpp). The whole answer is rendered into raw_ first; then the
// steps send interim responses, wait, and send the answer as asked: whole, cut short,
// trickled, replaced by garbage, or followed by an endless chunk extension.

int Session::misbehave(Endpoint endpoint, int status) {
    const Misbehaviour& m = api_.mock;
    const bool endless = m.endless_chunk_ext > 0 || (m.slow && m.slow_endless);
    const bool stream = api_.stream && status == 200;
    if (endless) keep_alive_ = false;  // the body ends when the connection does
    if (raw_.capacity() > keep_body_capacity) std::string().swap(raw_);
    body_.clear();
    if (stream) {
        prepare_stream(admission_, endpoint);
        stream_head();
    } else {
        if (status != 200) write_error(status, "mock forced status " + std::to_string(status));
        else render_body(endpoint);
        if (m.pad_bytes > 0 && !body_.empty() && body_.back() == '}') {
            body_.pop_back();
            body_.append(",\"mock_padding\":\"").append(std::size_t(m.pad_bytes), 'p').append("\"}");
        }
        begin_head(status, "application/json");
    }
    if (m.huge_header > 0) out_.append("X-Mock-Huge: ").append(std::size_t(m.huge_header), 'h').append("\r\n");
    if (endless) {
        if (!stream) {
            add_header("Transfer-Encoding", "chunked");
            add_header("Connection", "close");
        }
        out_.append("\r\n");
        body_.clear();
    } else if (stream) {
        out_.append("\r\n");
        if (m.pad_bytes > 0) {
            auto at = begin_chunk();
            out_.append(": ").append(std::size_t(m.pad_bytes), 'p').append("\n\n");
            end_chunk(at);
        }
        append_opening();
        for (int i = 0; i < stream_.chunks; ++i) append_piece(i);
        append_end();
    } else {
        end_head_fixed();
    }
    raw_ = std::move(out_);
    raw_head_ = raw_.find("\r\n\r\n") + 4;  // the first blank line: a huge header holds none
    raw_.append(body_);
    if (m.endless_chunk_ext > 0) raw_.append("1;mock-ext=");
    body_.clear();
    out_.clear();
    for (int i = 0; i < m.interim; ++i) {
        if (i % 2 == 0) out_.append("HTTP/1.1 100 Continue\r\n\r\n");
        else out_.append("HTTP/1.1 103 Early Hints\r\nLink: </mock.css>; rel=preload; as=style\r\n\r\n");
    }
    if (!out_.empty()) write_out(&Session::mis_after_interim);
    else mis_after_interim();
    return status;
}

void Session::mis_after_interim() {
    if (admission_.latency_ms > 0) wait(admission_.latency_ms, &Session::mis_answer);
    else mis_answer();
}

void Session::mis_answer() {
    const Misbehaviour& m = api_.mock;
    answer_started_ = true;
    if (!m.garbage.empty()) {
        out_.assign(m.garbage);
        return write_out(&Session::graceful_close);
    }
    if (m.reset_after >= 0 || m.close_after >= 0) {
        bool rst = m.reset_after >= 0;
        auto n = std::size_t(rst ? m.reset_after : m.close_after);
        Step cut = rst ? &Session::abort_connection : &Session::graceful_close;
        if (n == 0) return (this->*cut)();
        out_.assign(raw_, 0, n);
        return write_out(cut);
    }
    if (m.endless_chunk_ext > 0) {
        filler_left_ = m.endless_chunk_ext;
        out_.assign(raw_);
        return write_out(&Session::mis_ext_piece);
    }
    if (m.slow) {
        out_.assign(raw_, 0, raw_head_);
        raw_at_ = raw_head_;
        endless_until_ = std::chrono::steady_clock::now() + std::chrono::milliseconds(kEndlessSlowBodyMs);
        return write_out(&Session::mis_trickle);
    }
    out_.swap(raw_);  // the answer, whole
    write_out(&Session::finish_response);
}

void Session::mis_trickle() {
    const Misbehaviour& m = api_.mock;
    if (m.slow_endless ? std::chrono::steady_clock::now() >= endless_until_ : raw_at_ >= raw_.size()) {
        if (m.slow_endless) return graceful_close();
        return finish_response();
    }
    wait(m.slow_interval_ms, &Session::mis_trickle_piece);
}

void Session::mis_trickle_piece() {
    const Misbehaviour& m = api_.mock;
    out_.clear();
    if (!m.slow_endless) {
        out_.assign(raw_, raw_at_, std::size_t(m.slow_bytes));
        raw_at_ += out_.size();
    } else if (api_.stream) {
        // A keep-alive comment: valid SSE that carries nothing.
        constexpr std::string_view comment = ": mock trickle\n\n";
        char size[16];
        int n = std::snprintf(size, sizeof size, "%zx\r\n", comment.size());
        out_.append(size, std::size_t(n)).append(comment).append("\r\n");
    } else {
        // JSON allows any amount of whitespace before the value.
        char size[16];
        int n = std::snprintf(size, sizeof size, "%x\r\n", unsigned(m.slow_bytes));
        out_.append(size, std::size_t(n)).append(std::size_t(m.slow_bytes), ' ').append("\r\n");
    }
    write_out(&Session::mis_trickle);
}

void Session::mis_ext_piece() {
    if (filler_left_ <= 0) return graceful_close();
    auto n = std::min<long long>(filler_left_, 64 * 1024);
    filler_left_ -= n;
    out_.assign(std::size_t(n), 'x');
    write_out(&Session::mis_ext_piece);
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
    asio::async_write(transport_, buffers, [self = shared_from_this(), next](error_code ec, std::size_t) {
        if (self->closed_) return;
        if (ec) return self->close();
        (self.get()->*next)();
    });
}

// A clean end: over TLS close_notify first, so the peer can tell it from a truncation.
// The session counts as closed from here on: a request arriving meanwhile is not read.
void Session::graceful_close() {
    if (!mark_closed()) return;
    if (!transport_.tls()) return shutdown_tcp();
    transport_.async_close_notify([self = shared_from_this()](error_code) { self->shutdown_tcp(); });
}

void Session::shutdown_tcp() {
    error_code ec;
    transport_.socket().shutdown(tcp::socket::shutdown_send, ec);
    transport_.socket().close(ec);
}

void Session::abort_connection() {
    error_code ec;
    transport_.socket().set_option(asio::socket_base::linger(true, 0), ec);  // close() then sends RST
    close();
}

// Idempotent. Cancels the timer and any pending I/O; their handlers see closed_ and
// return, and the session is freed when the last of them drops its reference.
void Session::close() {
    if (!mark_closed()) return;
    error_code ec;
    transport_.socket().close(ec);
}

// False when already closed.
bool Session::mark_closed() {
    if (closed_) return false;
    closed_ = true;
    stream_gauge_.reset();
    timer_.cancel();
    return true;
}

}  // namespace mock
