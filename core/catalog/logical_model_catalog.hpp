// The logical models, cached in process so that routing never waits on the store. The
// background refresh re-reads llm:logical:* every few seconds, which is how models
// written straight into Redis (redis-cli SET) appear; writes made through this gateway
// are visible here at once.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "core/model/types.hpp"
#include "core/store/store.hpp"

namespace apiproxy {

class LogicalModelCatalog {
 public:
  using Snapshot = std::map<std::string, LogicalModel, std::less<>>;

  std::shared_ptr<const Snapshot> snapshot() const;
  std::shared_ptr<const LogicalModel> find(std::string_view id) const;
  void put(const LogicalModel& model);
  void erase(std::string_view id);

  // Re-reads every logical model from the store; unreadable entries are skipped and
  // logged once. On a store error the current snapshot stays.
  void refresh(Store& store, std::function<void(Status)> done);

 private:
  void replace(Snapshot fresh);

  mutable std::mutex mutex_;
  std::shared_ptr<const Snapshot> snapshot_ = std::make_shared<Snapshot>();
  std::map<std::string, std::string> reported_problems_;  // key -> last error logged
};

// The logical model `id`: from the cache, else from the store (then cached), so a model
// written by hand is usable at once. A null result: no such model.
void find_logical_model(LogicalModelCatalog& catalog, Store& store, const std::string& id,
                        std::function<void(Result<std::shared_ptr<const LogicalModel>>)> done);

// Reads all logical models from the store (the control plane's authoritative view).
// `problems` receives "key: reason" for entries that are not valid LogicalModel JSON.
void load_logical_models(
    Store& store,
    std::function<void(Result<LogicalModelCatalog::Snapshot>, std::vector<std::string> problems)> done);

}  // namespace apiproxy
