// Probing a provider now: is it reachable, does it accept our key, how fast is it.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <mutex>

#include "core/model/types.hpp"
#include "core/providers/provider_runtime.hpp"
#include "core/upstream/connection_pool.hpp"

namespace apiproxy {

// Remembers each provider's last successful probe, shared by all threads.
class HealthBook {
 public:
  void record(const HealthStatus& status);
  std::optional<int64_t> last_success(const std::string& provider_id) const;
  std::optional<HealthStatus> last(const std::string& provider_id) const;

 private:
  mutable std::mutex mutex_;
  std::map<std::string, HealthStatus> last_;
  std::map<std::string, int64_t> last_success_;
};

struct HealthOptions {
  std::chrono::milliseconds timeout{5000};
  std::chrono::milliseconds degraded_after{2000};  // slower than this: degraded
};

void probe_health(const ProviderRuntime& provider, ConnectionPool& pool, HealthBook& book,
                  HealthOptions options, std::function<void(HealthStatus)> done);

int64_t epoch_seconds();

}  // namespace apiproxy
