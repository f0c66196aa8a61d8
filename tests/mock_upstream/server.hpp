// Listening and event loops: one io_context per thread, each with its own SO_REUSEPORT
// acceptor on the same port, so a connection and everything it does stays on one thread.
// With --tls-cert/--tls-key every connection is HTTPS; one TLS context serves all loops.
#pragma once

#include "mock_state.hpp"
#include "net.hpp"
#include "options.hpp"
#include "session.hpp"

#include <boost/asio/ssl/context.hpp>

#include <memory>
#include <string>
#include <vector>

namespace mock {

class Server {
public:
    // Throws std::runtime_error when the TLS certificate or key cannot be used.
    Server(const Options& options, MockState& state);
    ~Server();

    // Binds every acceptor; throws boost::system::system_error on failure.
    // Returns "HOST:PORT" as it should be announced.
    std::string listen();

    // Runs the event loops until SIGINT/SIGTERM.
    void run();

private:
    struct Loop;

    void open_acceptor(Loop& loop, const tcp::endpoint& endpoint);
    void accept(Loop& loop);

    const Options& options_;
    SessionSettings settings_;
    std::unique_ptr<asio::ssl::context> tls_;  // null: plain HTTP
    std::vector<std::unique_ptr<Loop>> loops_;
};

}  // namespace mock
