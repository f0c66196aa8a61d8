// The client-facing HTTP server under hostile input: the real HttpServer, ClientConnection and
// Exchange on a real event loop (run as the gateway runs it), driven with raw bytes over
// loopback.
#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>

#include "server/app/worker.hpp"
#include "server/http/exchange.hpp"
#include "server/http/http_server.hpp"
#include "support/loopback.hpp"

namespace apiproxy {
namespace {

namespace asio = boost::asio;
namespace http = boost::beast::http;
using namespace std::chrono_literals;

class HttpServerTest : public ::testing::Test {
 protected:
  void start(ServerLimits limits = {}) {
    router_.add(http::verb::get, "/ok", [](const std::shared_ptr<Exchange>& ex) {
      ex->respond(http::status::ok, "{\"ok\":true}");
    });
    router_.add(http::verb::post, "/echo", [](const std::shared_ptr<Exchange>& ex) {
      ex->respond(http::status::ok, ex->request().body(), "text/plain");
    });
    router_.add(http::verb::get, "/item/{id}", [](const std::shared_ptr<Exchange>& ex) {
      ex->respond(http::status::ok, ex->param("id"), "text/plain");
    });
    // An async continuation that throws, as a bug in any handler might.
    router_.add(http::verb::get, "/throw-later", [this](const std::shared_ptr<Exchange>& ex) {
      asio::post(io_, [ex] { throw std::runtime_error("a bug in a continuation"); });
    });
    // Answers after 2.5 s.
    router_.add(http::verb::get, "/slow", [this](const std::shared_ptr<Exchange>& ex) {
      auto timer = std::make_shared<asio::steady_timer>(io_, 2500ms);
      timer->async_wait([ex, timer](const boost::system::error_code&) { ex->respond(http::status::ok, "{}"); });
    });
    // Holds the request until the client hangs up.
    router_.add(http::verb::get, "/wait", [this](const std::shared_ptr<Exchange>& ex) {
      ex->on_client_gone([this, ex] {
        hangups_++;
        ex->respond(http::status::ok, "");
      });
    });
    server_ = std::make_unique<HttpServer>(limits);
    auto port = server_->listen({{&io_, &router_, &connections_}}, "127.0.0.1", 0);
    ASSERT_TRUE(port) << port.error();
    port_ = *port;
    thread_ = std::thread([this] { run_until_stopped(io_, "test"); });
  }
  void TearDown() override {
    if (server_) server_->stop_accepting();
    io_.stop();
    if (thread_.joinable()) thread_.join();
  }

  asio::io_context io_{1};
  HttpRouter router_;
  ConnectionSet connections_;
  std::unique_ptr<HttpServer> server_;
  uint16_t port_ = 0;
  std::thread thread_;
  std::atomic<int> hangups_{0};
};

TEST_F(HttpServerTest, AnExceptionInAContinuationAnswers500AndTheServerGoesOn) {
  start();
  std::string answer = loopback::round_trip(port_, "GET /throw-later HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 500", 0), 0u) << answer;
  for (int i = 0; i < 3; ++i) {
    std::string ok = loopback::round_trip(port_, "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(ok.rfind("HTTP/1.1 200", 0), 0u) << ok;
  }
}

TEST_F(HttpServerTest, TransferEncodingMustEndInChunked) {
  start();
  for (const char* te : {"gzip", "chunked, gzip", "identity"}) {
    std::string answer = loopback::round_trip(
        port_, std::string("POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: ") + te + "\r\n\r\nabc");
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << te << ": " << answer;
    EXPECT_NE(answer.find("Transfer-Encoding"), std::string::npos) << answer;
  }
  std::string both = loopback::round_trip(
      port_, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(both.rfind("HTTP/1.1 400", 0), 0u) << both;
  std::string good = loopback::round_trip(
      port_, "POST /echo HTTP/1.1\r\nHost: x\r\nConnection: close\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\n\r\n");
  EXPECT_EQ(good.rfind("HTTP/1.1 200", 0), 0u) << good;
  EXPECT_NE(good.find("\r\n\r\nabc"), std::string::npos) << good;
}

// An endless chunk extension (or trailer) used to grow the connection's buffer without bound.
TEST_F(HttpServerTest, EndlessChunkExtensionIsCutOffAtTheHeaderLimit) {
  ServerLimits limits;
  limits.max_header_bytes = 16 * 1024;
  start(limits);
  for (std::string_view where : {"extension", "trailer"}) {
    int fd = loopback::connect_to(port_);
    std::string head = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n";
    head += where == "extension" ? "3;ext=" : "3\r\nabc\r\n0\r\nX-Trailer: ";
    ASSERT_TRUE(loopback::send_all(fd, head));
    std::string filler(64 * 1024, 'a');
    size_t sent = 0;
    while (sent < 64 * 1024 * 1024 && loopback::send_all(fd, filler)) sent += filler.size();
    std::string answer = loopback::read_until(fd, 5s);
    ::close(fd);
    EXPECT_LT(sent, 8u * 1024 * 1024) << where << ": the server kept reading";
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << where << ": " << answer;
  }
}

TEST_F(HttpServerTest, OversizedHeadersGet431) {
  ServerLimits limits;
  limits.max_header_bytes = 4096;
  start(limits);
  std::string answer = loopback::round_trip(
      port_, "GET /ok HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(8192, 'b') + "\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 431", 0), 0u) << answer;
}

TEST_F(HttpServerTest, ConnectionsOverTheLimitAreClosedAtOnceAndSlotsComeBack) {
  ServerLimits limits;
  limits.max_connections = 2;
  start(limits);
  int a = loopback::connect_to(port_), b = loopback::connect_to(port_);
  std::this_thread::sleep_for(100ms);  // both accepted
  int c = loopback::connect_to(port_);
  EXPECT_TRUE(loopback::closed_by_peer(c, 2s));
  ::close(c);
  // The two admitted connections are served.
  ASSERT_TRUE(loopback::send_all(a, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(loopback::read_until(a, 2s, "}").rfind("HTTP/1.1 200", 0), 0u);
  ::close(a);
  ::close(b);
  std::this_thread::sleep_for(200ms);  // their slots are given back
  std::string ok = loopback::round_trip(port_, "GET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(ok.rfind("HTTP/1.1 200", 0), 0u) << ok;
}

// Client deadlines are checked on the worker's tick, not by a timer per read: each kind
// still closes the connection, and none cuts a request while its handler works.
TEST_F(HttpServerTest, AHeaderOrBodyThatStopsArrivingIsCutAtTheHeaderTimeout) {
  ServerLimits limits;
  limits.header_timeout = 1s;
  start(limits);
  for (std::string_view partial : {"GET /ok HTTP/1.1\r\nHost: x\r\n",  // no blank line
                                   "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 10\r\n\r\nabc"}) {
    int fd = loopback::connect_to(port_);
    ASSERT_TRUE(loopback::send_all(fd, partial));
    EXPECT_FALSE(loopback::closed_by_peer(fd, 600ms)) << partial;
    EXPECT_TRUE(loopback::closed_by_peer(fd, 3s)) << partial;
    ::close(fd);
  }
}

TEST_F(HttpServerTest, AnIdleKeptAliveConnectionIsClosedAtTheIdleTimeout) {
  ServerLimits limits;
  limits.idle_timeout = 1s;
  start(limits);
  int fd = loopback::connect_to(port_);
  ASSERT_TRUE(loopback::send_all(fd, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(loopback::read_until(fd, 2s, "}").rfind("HTTP/1.1 200", 0), 0u);
  // Used again before the timeout: served, and the timeout starts over.
  std::this_thread::sleep_for(500ms);
  ASSERT_TRUE(loopback::send_all(fd, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(loopback::read_until(fd, 2s, "}").rfind("HTTP/1.1 200", 0), 0u);
  EXPECT_FALSE(loopback::closed_by_peer(fd, 600ms));
  EXPECT_TRUE(loopback::closed_by_peer(fd, 3s));
  ::close(fd);
}

TEST_F(HttpServerTest, AHandlerThatTakesLongerThanTheTimeoutsIsNotCut) {
  ServerLimits limits;
  limits.header_timeout = 1s;
  limits.idle_timeout = 1s;
  start(limits);
  int fd = loopback::connect_to(port_);
  ASSERT_TRUE(loopback::send_all(fd, "GET /slow HTTP/1.1\r\nHost: x\r\n\r\n"));
  EXPECT_EQ(loopback::read_until(fd, 5s, "}").rfind("HTTP/1.1 200", 0), 0u);
  ::close(fd);
}

TEST_F(HttpServerTest, AHandlerLearnsThatItsClientHungUp) {
  start();
  int fd = loopback::connect_to(port_);
  ASSERT_TRUE(loopback::send_all(fd, "GET /wait HTTP/1.1\r\nHost: x\r\n\r\n"));
  std::this_thread::sleep_for(100ms);
  EXPECT_EQ(hangups_.load(), 0);
  ::close(fd);
  for (int i = 0; i < 50 && hangups_.load() == 0; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_EQ(hangups_.load(), 1);
}

TEST_F(HttpServerTest, PipelinedRequestIsNotMistakenForAHangup) {
  start();
  int fd = loopback::connect_to(port_);
  ASSERT_TRUE(loopback::send_all(fd, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\nGET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string both = loopback::read_until(fd, 3s);
  ::close(fd);
  size_t first = both.find("HTTP/1.1 200");
  ASSERT_NE(first, std::string::npos) << both;
  EXPECT_NE(both.find("HTTP/1.1 200", first + 1), std::string::npos) << both;
}

TEST_F(HttpServerTest, PathParametersAreValidatedBeforeHandlers) {
  start();
  std::string ok = loopback::round_trip(port_, "GET /item/abc-1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(ok.find("\r\n\r\nabc-1"), std::string::npos) << ok;
  for (const char* bad : {"a%0D%0ASet-Cookie:%20x", "%00", "caf%C3%A9"}) {
    std::string answer = loopback::round_trip(
        port_, std::string("GET /item/") + bad + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    EXPECT_EQ(answer.rfind("HTTP/1.1 400", 0), 0u) << bad << ": " << answer;
    EXPECT_EQ(answer.find("Set-Cookie"), std::string::npos) << answer;
  }
  std::string long_id = loopback::round_trip(
      port_, "GET /item/" + std::string(300, 'x') + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(long_id.rfind("HTTP/1.1 400", 0), 0u) << long_id;
}

TEST_F(HttpServerTest, AnswersToHeadCarryNoBody) {
  start();
  int fd = loopback::connect_to(port_);
  ASSERT_TRUE(loopback::send_all(fd, "HEAD /ok HTTP/1.1\r\nHost: x\r\n\r\nGET /ok HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  std::string both = loopback::read_until(fd, 3s);
  ::close(fd);
  // The HEAD answer (405 here: no HEAD route) ends at its blank line; the next answer follows.
  auto first_end = both.find("\r\n\r\n");
  ASSERT_NE(first_end, std::string::npos) << both;
  EXPECT_EQ(both.compare(first_end + 4, 8, "HTTP/1.1"), 0) << both;
  EXPECT_NE(both.find("{\"ok\":true}"), std::string::npos) << both;
}

TEST_F(HttpServerTest, ErrorAnswersAreUtf8WhateverThePath) {
  start();
  std::string answer = loopback::round_trip(port_, "GET /caf\xff\xfe HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  auto body = answer.substr(answer.find("\r\n\r\n") + 4);
  EXPECT_EQ(body.find('\xff'), std::string::npos) << answer;
  EXPECT_NE(body.find("\xEF\xBF\xBD"), std::string::npos) << answer;  // U+FFFD instead
}

TEST_F(HttpServerTest, ForgedRequestIdsAreReplaced) {
  start();
  std::string answer = loopback::round_trip(
      port_, "GET /ok HTTP/1.1\r\nHost: x\r\nX-Request-Id: " + std::string(200, 'r') + "\r\nConnection: close\r\n\r\n");
  auto at = answer.find("X-Request-Id: ");
  ASSERT_NE(at, std::string::npos) << answer;
  EXPECT_EQ(answer.substr(at + 14, 32).find('r'), std::string::npos) << answer;
}

}  // namespace
}  // namespace apiproxy
