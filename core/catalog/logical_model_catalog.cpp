#include "core/catalog/logical_model_catalog.hpp"

#include <spdlog/spdlog.h>

#include "core/model/json_codec.hpp"
#include "core/store/keys.hpp"

namespace apiproxy {

std::shared_ptr<const LogicalModelCatalog::Snapshot> LogicalModelCatalog::snapshot() const {
  std::lock_guard lock(mutex_);
  return snapshot_;
}

std::shared_ptr<const LogicalModel> LogicalModelCatalog::find(std::string_view id) const {
  auto snap = snapshot();
  auto it = snap->find(id);
  if (it == snap->end()) return nullptr;
  // Aliasing constructor: shares ownership of the snapshot, points at the entry.
  return std::shared_ptr<const LogicalModel>(snap, &it->second);
}

void LogicalModelCatalog::put(const LogicalModel& model) {
  std::lock_guard lock(mutex_);
  auto next = std::make_shared<Snapshot>(*snapshot_);
  (*next)[model.logical_id] = model;
  snapshot_ = std::move(next);
}

void LogicalModelCatalog::erase(std::string_view id) {
  std::lock_guard lock(mutex_);
  auto next = std::make_shared<Snapshot>(*snapshot_);
  if (auto it = next->find(id); it != next->end()) next->erase(it);
  snapshot_ = std::move(next);
}

void LogicalModelCatalog::replace(Snapshot fresh) {
  std::lock_guard lock(mutex_);
  snapshot_ = std::make_shared<const Snapshot>(std::move(fresh));
}

void LogicalModelCatalog::refresh(Store& store, std::function<void(Status)> done) {
  load_logical_models(store, [this, done = std::move(done)](
                                 Result<Snapshot> loaded, std::vector<std::string> problems) {
    if (!loaded) return done(Error{loaded.error()});
    {
      std::lock_guard lock(mutex_);
      std::map<std::string, std::string> now;
      for (const auto& p : problems) {
        auto colon = p.find(": ");
        std::string key = p.substr(0, colon);
        now[key] = p;
        if (reported_problems_[key] != p) spdlog::warn("ignoring logical model {}", p);
      }
      reported_problems_ = std::move(now);
    }
    replace(std::move(loaded.value()));
    done(ok_status());
  });
}

void find_logical_model(LogicalModelCatalog& catalog, Store& store, const std::string& id,
                        std::function<void(Result<std::shared_ptr<const LogicalModel>>)> done) {
  using Found = Result<std::shared_ptr<const LogicalModel>>;
  if (auto hit = catalog.find(id)) {
    // Keep the promise of completing later, like the store does.
    store.ping([hit, done = std::move(done)](Status) { done(Found(hit)); });
    return;
  }
  store.get(keys::logical_model(id), [&catalog, id, done = std::move(done)](Result<Store::Value> v) {
    if (!v) return done(Error{v.error()});
    if (!*v) return done(Found(std::shared_ptr<const LogicalModel>()));
    auto m = logical_model_from_json(**v);
    if (!m) return done(Error{"stored logical model '" + id + "' is invalid: " + m.error()});
    if (m->logical_id != id) return done(Error{"stored logical model '" + id + "' has logical_id '" + m->logical_id + "'"});
    catalog.put(*m);
    done(Found(std::make_shared<const LogicalModel>(std::move(m.value()))));
  });
}

void load_logical_models(
    Store& store,
    std::function<void(Result<LogicalModelCatalog::Snapshot>, std::vector<std::string>)> done) {
  store.keys_with_prefix(
      std::string(keys::kLogicalPrefix),
      [&store, done = std::move(done)](Result<std::vector<std::string>> found) mutable {
        if (!found) return done(Error{found.error()}, {});
        auto names = std::make_shared<std::vector<std::string>>(std::move(found.value()));
        store.get_many(*names, [names, done = std::move(done)](
                                   Result<std::vector<Store::Value>> values) {
          if (!values) return done(Error{values.error()}, {});
          LogicalModelCatalog::Snapshot snap;
          std::vector<std::string> problems;
          for (size_t i = 0; i < names->size() && i < values->size(); ++i) {
            const auto& v = (*values)[i];
            if (!v) continue;  // deleted between SCAN and MGET
            auto m = logical_model_from_json(*v);
            if (!m) {
              problems.push_back((*names)[i] + ": " + m.error());
              continue;
            }
            std::string id = (*names)[i].substr(keys::kLogicalPrefix.size());
            if (m->logical_id != id) {
              problems.push_back((*names)[i] + ": logical_id '" + m->logical_id +
                                 "' does not match the key");
              continue;
            }
            snap.emplace(id, std::move(m.value()));
          }
          done(std::move(snap), std::move(problems));
        });
      });
}

}  // namespace apiproxy
