#include "core/upstream/fetch.hpp"

#include "core/upstream/upstream_exchange.hpp"

namespace apiproxy {

void fetch(ConnectionPool& pool, UpstreamRequest request, std::chrono::milliseconds timeout,
           std::function<void(Result<UpstreamResponse>)> done, size_t max_response_bytes) {
  auto sent = std::chrono::steady_clock::now();
  UpstreamExchange::start(
      pool, std::move(request), ExchangeTimeouts{std::chrono::milliseconds(0), timeout, timeout, timeout},
      [done = std::move(done), sent, max_response_bytes](Result<std::shared_ptr<UpstreamExchange>> started) mutable {
        if (!started) return done(Error{started.error()});
        auto up = std::move(started.value());
        UpstreamExchange& exchange = *up;
        exchange.read_all(max_response_bytes, [up = std::move(up), done = std::move(done), sent](Result<std::string> body) {
          if (!body) return done(Error{body.error()});
          UpstreamResponse r;
          r.status = up->status();
          for (const auto& f : up->fields()) r.headers.emplace_back(f.name, f.value);
          r.body = std::move(body.value());
          r.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - sent);
          done(std::move(r));
        });
      });
}

}  // namespace apiproxy
