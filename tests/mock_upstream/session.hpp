// One client connection: reads HTTP/1.1 requests (keep-alive, pipelining tolerated),
// answers the mock API and the control API, and streams SSE responses chunk by chunk.
// Over TLS the same, after the server handshake.
//
// Everything about a connection runs on the io_context that accepted it, so a session
// needs no locking; only MockState is shared between threads.
#pragma once

#include "api_request.hpp"
#include "mock_state.hpp"
#include "net.hpp"
#include "responses.hpp"
#include "routes.hpp"
#include "transport.hpp"

#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>

#include <memory>
#include <optional>
#include <string>

namespace mock {

// Read-only settings shared by all sessions.
struct SessionSettings {
    MockState* state = nullptr;
    std::string name;
    std::string fingerprint;  // "mock-NAME"
    bool verbose = false;
};

class Session : public std::enable_shared_from_this<Session> {
public:
    // `tls` null: plain HTTP; otherwise HTTPS with that context (which outlives the session).
    Session(Socket socket, asio::ssl::context* tls, const SessionSettings& settings);
    void start();

private:
    using Step = void (Session::*)();  // what to do when a write or a wait completes

    struct Rejection {
        Rejection(int s = 0, std::string m = {}, std::string_view p = {})
            : status(s), message(std::move(m)), param(p) {}
        int status;  // 0 = none
        std::string message;
        std::string_view param;
    };

    // Reading.
    void on_handshake(error_code ec);
    void new_parser();
    void read_request();
    void on_header(error_code ec);
    void read_body();
    void on_read(error_code ec);
    void on_read_error(error_code ec);
    void watch_peer();
    void on_watch(error_code ec, std::size_t n);

    // Dispatch; each returns the status it answers with (for --verbose).
    void handle_request();
    int handle_control(Request& req, std::string_view path);
    int handle_api(Request& req);
    int handle_inference(Request& req, const Route& route, const Admission& a);
    int send_models(const Route& route, const Admission& a);
    int reject(const Rejection& r, const Admission& a, bool forced = false);
    void write_error(int status, std::string_view message, std::string_view param = {});
    void compose_answer(Endpoint endpoint);
    void render_body(Endpoint endpoint);

    // Responses with a Content-Length.
    void begin_head(int status, std::string_view content_type);
    void add_header(std::string_view name, std::string_view value);
    void end_head_fixed();
    void send_after(int delay_ms);
    void write_response();
    void finish_response();

    // SSE streams.
    void prepare_stream(const Admission& a, Endpoint endpoint);
    void start_stream();
    void stream_next();
    void stream_piece();
    void after_piece();
    void stream_finish();
    std::size_t begin_chunk();
    void end_chunk(std::size_t at);
    void stream_head();
    void append_opening();
    void append_piece(int i);
    void append_end();

    // Misbehaviour asked for by the request body (misbehaviour.hpp): the answer is rendered
    // whole into raw_, then sent by these steps.
    int misbehave(Endpoint endpoint, int status);
    void mis_after_interim();
    void mis_answer();
    void mis_trickle();
    void mis_trickle_piece();
    void mis_ext_piece();

    // Plumbing.
    void wait(int ms, Step next);
    void write_out(Step next);
    void graceful_close();
    void shutdown_tcp();
    void abort_connection();
    void close();
    bool mark_closed();

    Transport transport_;
    Timer timer_;
    const SessionSettings& settings_;
    MockState& state_;
    Gauge connection_gauge_;

    boost::beast::flat_buffer buffer_;
    std::optional<boost::beast::http::request_parser<boost::beast::http::string_body>> parser_;
    std::string out_;   // response head, or the next stream chunk(s)
    std::string body_;  // fixed-length response body
    ApiRequest api_;
    std::string id_, model_, reply_;  // referenced by completion_ while a stream runs
    std::string item_id_, call_id_, call_item_id_;  // likewise (Messages, Responses)
    Completion completion_;
    bool anthropic_ = false;  // the current request speaks the Anthropic API: so do its errors

    struct Stream {
        Endpoint endpoint = Endpoint::chat;  // chat, completions, messages or responses
        bool include_usage = false;
        int chunks = 0;
        int interval_ms = 0;
        int reset_after = 0;
        int sent = 0;
        int sequence = 0;  // Responses: the next event's sequence_number
    } stream_;
    std::optional<Gauge> stream_gauge_;

    Admission admission_;                  // the current request's, after "mock" overrides
    std::string raw_;                      // a misbehaving answer, head and body
    std::size_t raw_head_ = 0;             // the head's length in raw_
    std::size_t raw_at_ = 0;               // next byte of raw_ to trickle
    long long filler_left_ = 0;            // endless chunk extension bytes still to send
    std::chrono::steady_clock::time_point endless_until_;
    bool answer_started_ = false;          // the answer's first byte has been sent

    bool responding_ = false;  // between a parsed request and the end of its response
    bool watching_ = false;    // a peer-watch read is in flight
    bool closed_ = false;
    bool keep_alive_ = true;
    bool chunked_ = true;      // HTTP/1.1 peer: streams use chunked encoding
    bool head_only_ = false;
};

}  // namespace mock
