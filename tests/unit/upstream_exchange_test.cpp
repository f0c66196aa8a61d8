// The data plane's upstream client against a broken upstream: interim 1xx answers, bytes
// past the end of a response, unsolicited bytes on an idle pooled connection, endless
// headers, a body that trickles forever. The rule under test: an answer reaches only the
// request it belongs to, and no upstream can grow memory without bound.
#include <gtest/gtest.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>

#include "core/upstream/connection_pool.hpp"
#include "core/upstream/tls_context.hpp"
#include "core/upstream/sse_events.hpp"
#include "core/upstream/upstream_exchange.hpp"
#include "support/loopback.hpp"

namespace apiproxy {
namespace {

using namespace std::chrono_literals;

// What one exchange ended with: the status and whole body, or the error.
struct Outcome {
  int status = 0;
  std::string body;
  std::string error;
};

std::string origin_of(uint16_t port) { return "http://127.0.0.1:" + std::to_string(port); }

// A chat completion with the two-byte body "{}" that the scripted servers below expect.
UpstreamRequest chat_request(uint16_t port) {
  UpstreamRequest req;
  req.method = "POST";
  req.url = origin_of(port) + "/v1/chat/completions";
  req.body = "{}";
  return req;
}

class UpstreamExchangeTest : public ::testing::Test {
 protected:
  Outcome call(uint16_t port, ExchangeTimeouts timeouts = {}) {
    Outcome out;
    bool finished = false;
    UpstreamExchange::start(pool_, chat_request(port), timeouts, [&](Result<std::shared_ptr<UpstreamExchange>> up) {
      if (!up) {
        out.error = up.error();
        finished = true;
        return;
      }
      out.status = (*up)->status();
      (*up)->read_all(1 << 20, [&out, &finished](Result<std::string> body) {
        if (body) out.body = *body;
        else out.error = body.error();
        finished = true;
      });
    });
    io_.restart();
    auto deadline = std::chrono::steady_clock::now() + 10s;
    while (!finished && std::chrono::steady_clock::now() < deadline) io_.run_one_for(100ms);
    io_.poll();  // the exchange's last handlers: its connection goes back to the pool
    return out;
  }

  boost::asio::io_context io_;
  ConnectionPool pool_{io_, make_tls_context(false), PoolOptions{}};
};

// Answers each request on a connection with `answers[i]`, in order, keeping the connection;
// counts the requests it has read whole in `*received` when given.
std::function<void(int)> answer_in_turn(std::vector<std::string> answers, std::atomic<int>* received = nullptr) {
  auto next = std::make_shared<size_t>(0);
  return [answers, next, received](int fd) {
    for (;;) {
      std::string head = loopback::read_head(fd);
      if (head.empty()) return;
      char body[2];
      ::recv(fd, body, 2, MSG_WAITALL);  // "{}"
      if (received) ++*received;
      loopback::send_all(fd, answers[(*next)++ % answers.size()]);
    }
  };
}

std::string ok(std::string_view body) {
  return "HTTP/1.1 200 OK\r\nContent-Length: " + std::to_string(body.size()) + "\r\n\r\n" + std::string(body);
}

TEST_F(UpstreamExchangeTest, InterimResponsesAreSkippedAndNeverLeakIntoTheNextRequest) {
  loopback::ScriptedServer up(answer_in_turn({
      "HTTP/1.1 103 Early Hints\r\nLink: </x>; rel=preload\r\n\r\nHTTP/1.1 100 Continue\r\n\r\n" + ok("first"),
      ok("second"),
      "HTTP/1.1 103 Early Hints\r\n\r\n" + ok("third"),
  }));
  for (const char* expected : {"first", "second", "third"}) {
    Outcome o = call(up.port());
    EXPECT_EQ(o.error, "");
    EXPECT_EQ(o.status, 200);
    EXPECT_EQ(o.body, expected);
  }
  EXPECT_EQ(up.connections(), 1);  // the pooled connection carried all three
}

TEST_F(UpstreamExchangeTest, EndlessInterimResponsesFailTheCall) {
  std::string many;
  for (int i = 0; i < 20; ++i) many += "HTTP/1.1 103 Early Hints\r\n\r\n";
  loopback::ScriptedServer up(answer_in_turn({many + ok("late")}));
  Outcome o = call(up.port());
  EXPECT_NE(o.error.find("too many times"), std::string::npos) << o.error;
}

TEST_F(UpstreamExchangeTest, SwitchingProtocolsIsAFailure) {
  loopback::ScriptedServer up(answer_in_turn({"HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n"}));
  Outcome o = call(up.port());
  EXPECT_NE(o.error.find("101"), std::string::npos) << o.error;
}

TEST_F(UpstreamExchangeTest, StatusesOutsideHttpsRangeFailTheCall) {
  for (const char* status : {"000", "099", "600", "999"}) {
    loopback::ScriptedServer up(answer_in_turn({std::string("HTTP/1.1 ") + status + " Odd\r\nContent-Length: 0\r\n\r\n"}));
    Outcome o = call(up.port());
    EXPECT_NE(o.error.find("invalid status"), std::string::npos) << status << ": " << o.error;
  }
}

TEST_F(UpstreamExchangeTest, BytesPastTheResponseMeanTheConnectionIsNotReused) {
  // The upstream sends a second, unsolicited response right after the first.
  loopback::ScriptedServer up(answer_in_turn({ok("mine") + ok("stale"), ok("fresh")}));
  EXPECT_EQ(call(up.port()).body, "mine");
  EXPECT_EQ(call(up.port()).body, "fresh");
  EXPECT_EQ(up.connections(), 2);
}

TEST_F(UpstreamExchangeTest, BytesArrivingOnAnIdleConnectionMeanItIsNotReused) {
  loopback::ScriptedServer up([](int fd) {
    for (int i = 0;; ++i) {
      if (loopback::read_head(fd).empty()) return;
      char body[2];
      ::recv(fd, body, 2, MSG_WAITALL);
      loopback::send_all(fd, ok(i == 0 ? "one" : "unexpected reuse"));
      if (i == 0) {
        std::this_thread::sleep_for(50ms);
        loopback::send_all(fd, ok("unsolicited"));  // while the connection sits in the pool
      }
    }
  });
  EXPECT_EQ(call(up.port()).body, "one");
  std::this_thread::sleep_for(150ms);
  EXPECT_EQ(call(up.port()).body, "one");  // served on a new connection
  EXPECT_EQ(up.connections(), 2);
}

TEST_F(UpstreamExchangeTest, EndlessHeadersAndChunkExtensionsFailWithoutGrowingMemory) {
  std::string endless_header = "HTTP/1.1 200 OK\r\nX-Endless: " + std::string(4 << 20, 'h');
  std::string endless_ext = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=" + std::string(4 << 20, 'e');
  for (const auto& answer : {endless_header, endless_ext}) {
    loopback::ScriptedServer up(answer_in_turn({answer}));
    Outcome o = call(up.port());
    EXPECT_NE(o.error, "") << "status " << o.status;
  }
}

TEST_F(UpstreamExchangeTest, TheTotalDeadlineCutsABodyThatTricklesForever) {
  loopback::ScriptedServer up([](int fd) {
    loopback::read_head(fd);
    loopback::send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n");
    for (int i = 0; i < 100 && loopback::send_all(fd, "x"); ++i) std::this_thread::sleep_for(50ms);
  });
  ExchangeTimeouts t;
  t.idle = 1000ms;  // each gap is well under this
  t.total = 600ms;
  auto started = std::chrono::steady_clock::now();
  Outcome o = call(up.port(), t);
  EXPECT_NE(o.error.find("total deadline"), std::string::npos) << o.error;
  EXPECT_LT(std::chrono::steady_clock::now() - started, 3s);
}

TEST_F(UpstreamExchangeTest, CancelBeforeTheHeadClosesTheConnection) {
  std::atomic<bool> peer_closed{false};
  loopback::ScriptedServer up([&](int fd) {
    loopback::read_head(fd);
    peer_closed = loopback::closed_by_peer(fd, 3s);
  });
  UpstreamRequest req;
  req.url = origin_of(up.port()) + "/slow";
  std::string error;
  auto ex = UpstreamExchange::start(pool_, std::move(req), {}, [&](Result<std::shared_ptr<UpstreamExchange>> r) {
    if (!r) error = r.error();
  });
  io_.run_for(200ms);
  ASSERT_TRUE(ex);
  ex->cancel();
  io_.run_for(500ms);
  EXPECT_EQ(error, "cancelled");
  for (int i = 0; i < 50 && !peer_closed; ++i) std::this_thread::sleep_for(20ms);
  EXPECT_TRUE(peer_closed);
}

// Requests started while handling one event are written when that handler has returned
// (all of a burst parsed and routed first, then sent back to back), not during it.
TEST_F(UpstreamExchangeTest, ARequestIsWrittenAfterTheHandlerThatStartedItReturns) {
  std::atomic<int> requests{0};
  loopback::ScriptedServer up(answer_in_turn({ok("done")}, &requests));
  ASSERT_EQ(call(up.port()).body, "done");  // leaves an idle pooled connection
  ASSERT_EQ(requests.load(), 1);
  int seen_during_handler = -1;
  std::string status;
  boost::asio::post(io_, [&] {
    UpstreamExchange::start(pool_, chat_request(up.port()), {}, [&](Result<std::shared_ptr<UpstreamExchange>> r) {
      status = r ? std::to_string((*r)->status()) : r.error();
    });
    std::this_thread::sleep_for(100ms);  // time enough for the server to read a written request
    seen_during_handler = requests.load();
  });
  io_.restart();
  for (int i = 0; i < 50 && status.empty(); ++i) io_.run_one_for(100ms);
  EXPECT_EQ(seen_during_handler, 1);
  EXPECT_EQ(status, "200");
  EXPECT_EQ(requests.load(), 2);
  EXPECT_EQ(up.connections(), 1);  // the pooled connection was reused, not a new one made
}

// Cancelled between taking a pooled connection and writing on it (the write waits for the
// end of the handler): the call ends "cancelled" and the connection, in an unknown state,
// is closed rather than pooled.
TEST_F(UpstreamExchangeTest, CancelBeforeTheWriteClosesTheConnection) {
  loopback::ScriptedServer up(answer_in_turn({ok("done")}));
  ASSERT_EQ(call(up.port()).body, "done");
  const std::string origin = origin_of(up.port());
  ASSERT_EQ(pool_.idle_connections(origin), 1u);
  std::string error;
  boost::asio::post(io_, [&] {
    auto ex = UpstreamExchange::start(pool_, chat_request(up.port()), {}, [&](Result<std::shared_ptr<UpstreamExchange>> r) {
      if (!r) error = r.error();
    });
    ex->cancel();
  });
  io_.restart();
  io_.run_for(300ms);
  EXPECT_EQ(error, "cancelled");
  EXPECT_EQ(pool_.idle_connections(origin), 0u);
  EXPECT_EQ(pool_.open_connections(origin), 0u);
}

TEST(SseEvents, OnlyWholeEventsCount) {
  EXPECT_EQ(complete_sse_events("data: a\n\n"), 9u);
  EXPECT_EQ(complete_sse_events("data: a\n\ndata: b"), 9u);
  EXPECT_EQ(complete_sse_events("data: a\n\ndata: b\n"), 9u);
  EXPECT_EQ(complete_sse_events("data: a\r\n\r\ndata: {\"x"), 11u);
  EXPECT_EQ(complete_sse_events("data: a\r\rdata"), 9u);
  EXPECT_EQ(complete_sse_events("data: a\n\r\n"), 10u);  // mixed line ends
  EXPECT_EQ(complete_sse_events("data: {\"id\":1"), 0u);
  EXPECT_EQ(complete_sse_events(""), 0u);
  EXPECT_EQ(complete_sse_events("\n"), 0u);
}

}  // namespace
}  // namespace apiproxy
