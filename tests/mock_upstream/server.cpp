#include "server.hpp"

#include "tls.hpp"

#include <boost/asio/ip/address.hpp>
#include <boost/asio/signal_set.hpp>

#include <csignal>
#include <cstdio>
#include <thread>

namespace mock {

struct Server::Loop {
    asio::io_context ioc{1};  // concurrency hint 1: each context is driven by one thread
    Acceptor acceptor{ioc.get_executor()};
    Timer retry{ioc.get_executor()};  // back-off after accept errors such as EMFILE
};

Server::Server(const Options& options, MockState& state) : options_(options) {
    settings_.state = &state;
    settings_.name = options.name;
    settings_.fingerprint = "mock-" + options.name;
    settings_.verbose = options.verbose;
    if (!options.tls_cert.empty()) tls_ = make_server_tls(options.tls_cert, options.tls_key);
    for (int i = 0; i < options.threads; ++i) loops_.push_back(std::make_unique<Loop>());
}

// The loops (and with them every session) go first; the sessions refer to settings_.
Server::~Server() { loops_.clear(); }

namespace {

tcp::endpoint resolve(asio::io_context& ioc, const std::string& host, std::uint16_t port) {
    error_code ec;
    auto address = asio::ip::make_address(host, ec);
    if (!ec) return {address, port};
    tcp::resolver resolver(ioc);
    return *resolver.resolve(host, std::to_string(port)).begin();  // throws if unresolvable
}

std::string format_endpoint(const tcp::endpoint& ep) {
    auto host = ep.address().to_string();
    if (ep.address().is_v6()) host = "[" + host + "]";
    return host + ":" + std::to_string(ep.port());
}

}  // namespace

void Server::open_acceptor(Loop& loop, const tcp::endpoint& endpoint) {
    auto& a = loop.acceptor;
    a.open(endpoint.protocol());
    a.set_option(asio::socket_base::reuse_address(true));
    if (options_.threads > 1) {
        int one = 1;  // let every loop bind the same port; the kernel spreads connections
        if (::setsockopt(a.native_handle(), SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) != 0)
            throw boost::system::system_error(error_code(errno, boost::system::system_category()), "SO_REUSEPORT");
    }
    a.bind(endpoint);
    a.listen(asio::socket_base::max_listen_connections);
}

std::string Server::listen() {
    auto endpoint = resolve(loops_.front()->ioc, options_.host, options_.port);
    open_acceptor(*loops_.front(), endpoint);
    endpoint = loops_.front()->acceptor.local_endpoint();  // the real port when 0 was asked
    for (std::size_t i = 1; i < loops_.size(); ++i) open_acceptor(*loops_[i], endpoint);
    for (auto& loop : loops_) accept(*loop);
    return format_endpoint(endpoint);
}

void Server::accept(Loop& loop) {
    loop.acceptor.async_accept([this, &loop](error_code ec, Socket socket) {
        if (ec == asio::error::operation_aborted) return;
        if (ec) {
            // Typically out of file descriptors: pause instead of spinning on the error.
            std::fprintf(stderr, "[%s] accept failed: %s\n", settings_.name.c_str(), ec.message().c_str());
            loop.retry.expires_after(std::chrono::milliseconds(50));
            loop.retry.async_wait([this, &loop](error_code wait_ec) {
                if (!wait_ec) accept(loop);
            });
            return;
        }
        error_code ignored;
        socket.set_option(tcp::no_delay(true), ignored);  // SSE chunks must leave at once
        std::make_shared<Session>(std::move(socket), tls_.get(), settings_)->start();
        accept(loop);
    });
}

void Server::run() {
    auto& main_loop = *loops_.front();
    asio::signal_set signals(main_loop.ioc, SIGINT, SIGTERM);
    signals.async_wait([this](error_code ec, int) {
        if (ec) return;
        for (auto& loop : loops_) loop->ioc.stop();
    });

    std::vector<std::thread> threads;
    for (std::size_t i = 1; i < loops_.size(); ++i) threads.emplace_back([&loop = *loops_[i]] { loop.ioc.run(); });
    main_loop.ioc.run();
    for (auto& loop : loops_) loop->ioc.stop();
    for (auto& t : threads) t.join();
}

}  // namespace mock
