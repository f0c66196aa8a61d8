#include "core/discovery/health_probe.hpp"

#include "core/upstream/fetch.hpp"

namespace apiproxy {

int64_t epoch_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void HealthBook::record(const HealthStatus& status) {
  std::lock_guard lock(mutex_);
  last_[status.provider_id] = status;
  if (status.status != "down") last_success_[status.provider_id] = status.timestamp;
}

std::optional<int64_t> HealthBook::last_success(const std::string& provider_id) const {
  std::lock_guard lock(mutex_);
  auto it = last_success_.find(provider_id);
  if (it == last_success_.end()) return std::nullopt;
  return it->second;
}

std::optional<HealthStatus> HealthBook::last(const std::string& provider_id) const {
  std::lock_guard lock(mutex_);
  auto it = last_.find(provider_id);
  if (it == last_.end()) return std::nullopt;
  return it->second;
}

namespace {

std::string describe_status(int status) {
  if (status == 401 || status == 403)
    return "HTTP " + std::to_string(status) + ": the provider rejected the API key";
  if (status == 404) return "HTTP 404: check BASE_URL and MODELS_PATH";
  return "HTTP " + std::to_string(status);
}

}  // namespace

void probe_health(const ProviderRuntime& provider, ConnectionPool& pool, HealthBook& book,
                  HealthOptions options, std::function<void(HealthStatus)> done) {
  auto started = std::chrono::steady_clock::now();
  HealthStatus base;
  base.provider_id = provider.config.id;
  base.timestamp = epoch_seconds();
  auto finish = [&book, started, done = std::move(done)](HealthStatus h) {
    h.response_time_ms = std::chrono::duration<double, std::milli>(
                             std::chrono::steady_clock::now() - started)
                             .count();
    if (h.status != "down") h.last_successful_check = h.timestamp;
    book.record(h);
    if (h.status == "down") h.last_successful_check = book.last_success(h.provider_id);
    done(std::move(h));
  };
  auto request = provider.adapter->build_request(UpstreamCall{APX_OP_HEALTH, {}, {}, false});
  if (!request) {
    base.status = "down";
    base.error_message = request.error();
    return finish(std::move(base));
  }
  fetch(pool, std::move(request.value()), options.timeout,
        [base, options, finish = std::move(finish)](Result<UpstreamResponse> r) mutable {
          if (!r) {
            base.status = "down";
            base.error_message = r.error();
          } else if (r->status < 200 || r->status > 299) {
            base.status = "down";
            base.error_message = describe_status(r->status);
          } else {
            base.status = r->elapsed > options.degraded_after ? "degraded" : "healthy";
            if (base.status == "degraded")
              base.error_message = "slow: answered in " + std::to_string(r->elapsed.count()) + " ms";
          }
          finish(std::move(base));
        });
}

}  // namespace apiproxy
