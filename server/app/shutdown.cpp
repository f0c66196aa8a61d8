#include "server/app/shutdown.hpp"

#include <boost/asio/post.hpp>
#include <spdlog/spdlog.h>

#include "server/app/gateway_state.hpp"

namespace apiproxy {

namespace asio = boost::asio;

namespace {
// How often the drain looks at the connection counts; short enough that a quiet gateway
// exits at once, long enough to cost nothing.
constexpr auto kPollEvery = std::chrono::milliseconds(20);
}  // namespace

Shutdown::Shutdown(GatewayState& state, asio::io_context& background_io, HttpServer& server,
                   std::vector<std::unique_ptr<Worker>>& workers, BackgroundTasks& background,
                   std::chrono::seconds grace, std::function<void()> stop_all)
    : state_(state),
      server_(server),
      workers_(workers),
      background_(background),
      grace_(grace),
      stop_all_(std::move(stop_all)),
      poll_timer_(background_io) {}

void Shutdown::begin(int signal) {
  if (started_) {
    spdlog::warn("signal {} received again: stopping now, {} connection(s) cut", signal, open_connections());
    return stop_all_();
  }
  started_ = true;
  state_.draining = true;  // /health/ready answers 503 from now on
  spdlog::info("signal {} received: no new connections; letting {} open connection(s) finish "
               "(up to {} s, APIPROXY_SHUTDOWN_GRACE_SECONDS)", signal, open_connections(), grace_.count());
  server_.stop_accepting();
  for (auto& w : workers_) asio::post(w->io, [&c = w->connections] { c.drain(); });
  deadline_ = std::chrono::steady_clock::now() + grace_;
  wait_for_connections();
}

size_t Shutdown::open_connections() const {
  size_t n = 0;
  for (const auto& w : workers_) n += w->connections.open();
  return n;
}

void Shutdown::wait_for_connections() {
  size_t open = open_connections();
  if (open == 0) {
    spdlog::info("every request finished");
    return finish();
  }
  if (std::chrono::steady_clock::now() >= deadline_) {
    spdlog::warn("grace period over: {} connection(s) still open are cut", open);
    return finish();
  }
  poll_timer_.expires_after(kPollEvery);
  poll_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) wait_for_connections();
  });
}

void Shutdown::finish() {
  if (std::exchange(finishing_, true)) return;
  background_.finish([this] {
    spdlog::info("metrics flushed; stopping");
    stop_all_();
  });
}

}  // namespace apiproxy
