// The listening side: one acceptor per worker io_context, all bound to the same address
// with SO_REUSEPORT so the kernel spreads connections across workers, and a connection
// stays on the thread that accepted it.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <boost/asio/io_context.hpp>

#include "core/common/result.hpp"
#include "server/http/http_router.hpp"
#include "server/http/client_connection.hpp"

namespace apiproxy {

struct ListenerSlot {
  boost::asio::io_context* io;
  const HttpRouter* router;
  ConnectionSet* connections;  // of the same worker thread
};

class HttpServer {
 public:
  explicit HttpServer(ServerLimits limits)
      : limits_(limits), connection_limit_(std::make_shared<ConnectionLimit>(limits.max_connections)) {}
  ~HttpServer();

  // Binds every slot's acceptor to host:port (port 0: one free port shared by all) and
  // starts accepting. Returns the bound port.
  Result<uint16_t> listen(const std::vector<ListenerSlot>& slots, const std::string& host,
                          uint16_t port);
  // Stops accepting new connections; open ones continue.
  void stop_accepting();

 private:
  class Acceptor;
  ServerLimits limits_;
  std::shared_ptr<ConnectionLimit> connection_limit_;
  std::vector<std::shared_ptr<Acceptor>> acceptors_;
};

}  // namespace apiproxy
