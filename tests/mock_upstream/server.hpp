// Listening and event loops: one io_context per thread, each with its own SO_REUSEPORT
// acceptor on the same port, so a connection and everything it does stays on one thread.
#pragma once

#include "mock_state.hpp"
#include "net.hpp"
#include "options.hpp"
#include "session.hpp"

#include <memory>
#include <string>
#include <vector>

namespace mock {

class Server {
public:
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
    std::vector<std::unique_ptr<Loop>> loops_;
};

}  // namespace mock
