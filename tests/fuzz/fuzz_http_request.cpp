// Fuzzes the gateway's HTTP request path in process: the input is the byte stream a client
// sends on one connection — any number of pipelined requests, chunked bodies with
// extensions and trailers, Expect: 100-continue — and it goes through everything a real
// connection goes through: a loopback TCP socket, ClientConnection's read path (Beast's
// parser and the server limits), the router, and the handlers of every route.
//
// The gateway is built once, as `apiproxy serve` builds it (build_gateway_state with the
// in-process store, the plugins of this build, one provider whose BASE_URL is a closed
// loopback port so upstream calls fail at once), with one Worker whose routes are
// registered as server/app/gateway.cpp registers them. Per input: connect, write the
// input, half-close, run the worker's loop until the gateway closes the connection (or
// 500 ms pass), then make sure the server side of the connection is gone before the next
// input.
//
// Besides the sanitizers it checks the bytes that come back: a sequence of well-formed
// HTTP/1.1 responses as a client reads them (no body after HEAD), complete when the gateway
// closed cleanly, and every JSON answer valid JSON (UTF-8 included).
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <limits>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/string_body.hpp>
#include <rapidjson/document.h>

#include "core/model/json_codec.hpp"
#include "core/store/keys.hpp"
#include "core/telemetry/logging.hpp"
#include "server/api/control_plane.hpp"
#include "server/api/metrics_api.hpp"
#include "server/api/openai_api.hpp"
#include "server/api/routing_api.hpp"
#include "server/app/gateway_state.hpp"
#include "server/app/gateway.hpp"
#include "server/app/worker.hpp"
#include "server/http/client_connection.hpp"
#include "tests/fuzz/support/loopback.hpp"
#include "tests/fuzz/support/run_loop.hpp"
#include "tests/fuzz/support/skip_checks.hpp"

namespace {

using namespace apiproxy;
namespace asio = boost::asio;
namespace http = boost::beast::http;
using tcp = asio::ip::tcp;
using Socket = tcp::socket::rebind_executor<asio::io_context::executor_type>::other;
using namespace std::chrono_literals;

// How long one input may keep the gateway busy, and how long its connection may take to
// go away once the client has gone.
constexpr auto kInputBound = 500ms;
constexpr auto kCleanupBound = 2000ms;

// The configuration, as a .env file would give it. The limits are scaled down to fuzzer
// input sizes (a few KiB), so that the body, header and chunk-extension limits are reached.
Environment gateway_environment() {
  return Environment({}, {
      {"LOG_LEVEL", "off"},
      {"APIPROXY_PLUGIN_DIR", APIPROXY_FUZZ_PLUGIN_DIR},
      {"APIPROXY_MAX_BODY_BYTES", "2048"},
      {"APIPROXY_MAX_HEADER_BYTES", "2048"},
      {"APIPROXY_UPSTREAM_CONNECT_TIMEOUT_MS", "200"},
      {"LLM_PROVIDERS", "fuzz"},
      {"LLM_PROVIDER_fuzz_NAME", "Fuzz"},
      {"LLM_PROVIDER_fuzz_BASE_URL", "http://127.0.0.1:9"},  // discard port: refused at once
      {"LLM_PROVIDER_fuzz_API_KEY", "fuzz-key"},
      {"LLM_PROVIDER_fuzz_ADAPTER", "openai"},
  });
}

// A logical model the seeds name, routed to the one provider.
LogicalModel fuzz_model() {
  LogicalModel m;
  m.logical_id = "fuzz-model";
  m.capabilities = {"chat", "completion", "embedding"};
  PhysicalModel up;
  up.provider_id = "fuzz";
  up.model_id = "gpt-4o-mini";
  m.upstreams.push_back(up);
  return m;
}

class Gateway {
 public:
  Gateway() {
    telemetry::configure_logging("off", false);
    auto built = build_gateway_state(gateway_environment());
    if (!built) {
      std::fprintf(stderr, "fuzz_http_request: cannot build the gateway: %s\n", built.error().c_str());
      std::abort();
    }
    state_ = std::move(built.value());
    worker_ = std::make_unique<Worker>(*state_);
    add_control_plane_routes(*worker_);
    add_routing_routes(*worker_);
    add_openai_routes(*worker_);
    add_metrics_routes(*worker_);
    limits_ = server_limits(state_->settings);
    connection_limit_ = std::make_shared<ConnectionLimit>(limits_.max_connections);
  }

  asio::io_context& io() { return worker_->io; }

  // Serves a connection accepted on the worker's loop, as HttpServer's acceptor does.
  std::weak_ptr<ClientConnection> serve(Socket socket) {
    auto slot = connection_limit_->try_take();
    if (!slot) std::abort();  // one connection at a time: the limit cannot be reached
    auto connection = std::make_shared<ClientConnection>(std::move(socket), worker_->router, limits_,
                                                         worker_->connections, std::move(*slot));
    connection->start();
    return connection;
  }

  // A fresh in-process store holding just the one logical model, so what an input does
  // depends on that input alone (not on models or sessions earlier inputs wrote).
  void reset_state() {
    auto factory = make_store_factory(state_->settings);
    worker_->store = factory.value()(worker_->io);
    worker_->data_plane = std::make_unique<DataPlane>(state_->data_plane(), worker_->store, *worker_->pool);
    auto snapshot = state_->catalog.snapshot();
    for (const auto& [id, model] : *snapshot) state_->catalog.erase(id);
    LogicalModel m = fuzz_model();
    state_->catalog.put(m);
    worker_->store->set(keys::logical_model(m.logical_id), to_json(m), 0s, [](Result<Unit>) {});
    fuzz::drain_ready(worker_->io);
  }

 private:
  std::unique_ptr<GatewayState> state_;
  std::unique_ptr<Worker> worker_;
  ServerLimits limits_;
  std::shared_ptr<ConnectionLimit> connection_limit_;
};

Gateway& gateway() {
  static Gateway g;
  return g;
}

// The client side of one connection: writes the input, half-closes, and reads whatever
// comes back until the gateway closes.
class Client {
 public:
  explicit Client(asio::io_context& io) : socket_(io.get_executor()) {}

  // Asynchronously: a blocking connect() can fail with EINTR when libFuzzer's timeout
  // alarm (SIGALRM) arrives during it.
  void connect(const tcp::endpoint& to, std::function<void(const boost::system::error_code&)> done) {
    socket_.async_connect(to, std::move(done));
  }

  // `bytes` must stay valid until idle().
  void send(std::string_view bytes) {
    ++pending_;
    asio::async_write(socket_, asio::buffer(bytes.data(), bytes.size()),
                      [this](const boost::system::error_code&, size_t) {
                        --pending_;
                        boost::system::error_code ignored;
                        socket_.shutdown(tcp::socket::shutdown_send, ignored);
                      });
    read_more();
  }

  void close() {
    boost::system::error_code ignored;
    socket_.close(ignored);
  }

  bool closed_by_peer() const { return finished_; }
  // The gateway closed with a FIN after its last answer (not a reset, which may discard
  // answers in flight): what was received is everything it sent.
  bool clean_end() const { return finished_ && end_ == asio::error::eof; }
  bool idle() const { return pending_ == 0; }
  const std::string& received() const { return received_; }

 private:
  void read_more() {
    ++pending_;
    socket_.async_read_some(asio::buffer(chunk_), [this](const boost::system::error_code& ec, size_t n) {
      --pending_;
      received_.append(chunk_.data(), n);
      if (ec) {
        finished_ = true;
        end_ = ec;
        return;
      }
      read_more();
    });
  }

  Socket socket_;
  std::array<char, 8192> chunk_;
  std::string received_;
  int pending_ = 0;
  bool finished_ = false;
  boost::system::error_code end_;
};

[[noreturn]] void finding(const char* what) {
  std::fprintf(stderr, "fuzz_http_request: %s\n", what);
  __builtin_trap();
}

// The same, showing what the gateway wrote (escaped, the first 4 KiB) to explain it.
[[noreturn]] void finding(const char* what, std::string_view received) {
  std::string shown;
  for (unsigned char c : received.substr(0, 4096)) {
    if (c == '\n' || (c >= 0x20 && c < 0x7F && c != '\\')) {
      shown += static_cast<char>(c);
    } else {
      char escaped[8];
      std::snprintf(escaped, sizeof escaped, "\\x%02x", c);
      shown += escaped;
    }
  }
  std::fprintf(stderr, "fuzz_http_request: the gateway wrote:\n%s\n", shown.c_str());
  finding(what);
}

// Checks that FUZZ_SKIP_CHECKS may switch off (support/skip_checks.hpp): "non_utf8" (JSON
// answers must still be JSON) and "head_body" (a body after HEAD).
bool valid_json(std::string_view text) {
  rapidjson::Document d;
  if (fuzz::check_skipped("non_utf8"))
    d.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  else
    d.Parse<rapidjson::kParseValidateEncodingFlag | rapidjson::kParseIterativeFlag>(text.data(), text.size());
  return !d.HasParseError();
}

// Feeds `bytes` to `parser` until its message is complete. Returns how many bytes that
// took, or nullopt when the bytes end first (`complete`: they are all the peer sent, so a
// body that ends with the connection ends there). Sets `malformed` on a parse error.
template <class Parser>
std::optional<size_t> parse_one(Parser& parser, std::string_view bytes, bool complete, bool& malformed) {
  parser.eager(true);
  parser.header_limit(std::numeric_limits<std::uint32_t>::max());
  // A body cannot be larger than the bytes there are; a larger Content-Length means the
  // message is cut short (and must not make the parser reserve that much).
  parser.body_limit(bytes.size());
  size_t used = 0;
  while (!parser.is_done()) {
    boost::system::error_code ec;
    size_t n = parser.put(asio::buffer(bytes.data() + used, bytes.size() - used), ec);
    used += n;
    if (ec == http::error::body_limit) return std::nullopt;
    if (n == 0 && (!ec || ec == http::error::need_more)) {
      if (!complete) return std::nullopt;
      parser.put_eof(ec);
      if (ec) return std::nullopt;
      break;
    }
    if (ec && ec != http::error::need_more) {
      malformed = true;
      return std::nullopt;
    }
  }
  return used;
}

// The methods of the requests in the input, in order, as far as they can be read (Beast
// reads them as the gateway does; a request whose head arrived counts).
std::vector<http::verb> request_methods(std::string_view bytes) {
  std::vector<http::verb> methods;
  for (;;) {
    http::request_parser<http::string_body> parser;
    bool malformed = false;
    auto used = parse_one(parser, bytes, /*complete=*/true, malformed);
    if (parser.is_header_done()) methods.push_back(parser.get().method());
    if (!used || *used == 0) return methods;
    bytes.remove_prefix(*used);
  }
}

// Everything the gateway wrote must be HTTP/1.1 responses, one after another, read as a
// client reads them: an answer to HEAD has no body (RFC 9110 9.3.2), so one that carries a
// body shows up as a malformed next response. `complete`: the gateway closed cleanly, so
// its last answer must be whole.
void check_responses(std::string_view received, bool complete, const std::vector<http::verb>& requests) {
  std::string_view bytes = received;
  size_t answered = 0;
  while (!bytes.empty()) {
    http::response_parser<http::string_body> parser;
    bool head = answered < requests.size() && requests[answered] == http::verb::head &&
                !fuzz::check_skipped("head_body");
    parser.skip(head);
    bool malformed = false;
    auto used = parse_one(parser, bytes, complete, malformed);
    if (malformed) finding("the gateway wrote a malformed HTTP response (or a body after HEAD)", received);
    if (!used) {
      if (complete) finding("the gateway's last answer is incomplete", received);
      return;  // cut short by the client's end: nothing more to check
    }
    const auto& res = parser.get();
    std::string_view type = res[http::field::content_type];
    if (res.result_int() >= 200 && type.substr(0, 16) == "application/json" && !head && !valid_json(res.body()))
      finding("a JSON answer is not valid JSON (or not UTF-8)", received);
    if (res.result_int() >= 200) ++answered;  // 100 Continue comes before the answer
    if (res.result_int() >= 200 && !res.keep_alive()) return;  // a client reads no further
    bytes.remove_prefix(*used);
  }
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  gateway();  // loads the plugins before fuzzing starts, so their coverage is registered
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  Gateway& g = gateway();
  asio::io_context& io = g.io();
  g.reset_state();

  // A listener of this input's own (support/loopback.hpp says why).
  asio::basic_socket_acceptor<tcp, asio::io_context::executor_type> acceptor(
      io.get_executor(), tcp::endpoint(fuzz::next_loopback_address(2), 0));
  Client client(io);
  Socket accepted(io.get_executor());
  boost::system::error_code connect_error, accept_error;
  int steps = 2;
  client.connect(acceptor.local_endpoint(), [&](const boost::system::error_code& ec) {
    connect_error = ec;
    --steps;
  });
  acceptor.async_accept(accepted, [&](const boost::system::error_code& ec) {
    accept_error = ec;
    --steps;
  });
  if (!fuzz::run_until(io, [&] { return steps == 0; }, kCleanupBound) || connect_error || accept_error) {
    std::fprintf(stderr, "fuzz_http_request: cannot connect over loopback: %s / %s\n",
                 connect_error.message().c_str(), accept_error.message().c_str());
    std::abort();  // the machine, not the gateway
  }
  acceptor.close();
  std::weak_ptr<ClientConnection> served = g.serve(std::move(accepted));
  client.send(std::string_view(reinterpret_cast<const char*>(data), size));
  fuzz::run_until(io, [&] { return client.closed_by_peer(); }, kInputBound);

  // Whatever is still open goes now: the client, then the server side of the connection
  // (a handler still working holds it), and every handler that was waiting on them.
  client.close();
  if (auto connection = served.lock()) connection->abort();
  bool gone = fuzz::run_until(io, [&] { return served.expired() && client.idle(); }, kCleanupBound);
  fuzz::drain_ready(io);
  if (!gone) finding("the server side of a connection outlived its client by 2 s");

  check_responses(client.received(), client.clean_end(),
                  request_methods(std::string_view(reinterpret_cast<const char*>(data), size)));
  return 0;
}
