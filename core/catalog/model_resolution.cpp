#include "core/catalog/model_resolution.hpp"

namespace apiproxy {

namespace {

std::shared_ptr<const LogicalModel> group(const std::string& name, std::vector<PhysicalModel> ups,
                                          const std::string& state_id) {
  auto m = std::make_shared<LogicalModel>();
  m->logical_id = state_id;
  m->display_name = name;
  m->upstreams = std::move(ups);
  return m;
}

PhysicalModel upstream(const std::string& provider, const std::string& model) {
  PhysicalModel p;
  p.provider_id = provider;
  p.model_id = model;
  return p;
}

}  // namespace

ResolvedModel resolve_model(const std::string& name, const LogicalModelCatalog& catalog,
                            const ProviderRuntimes& providers, const LastGoodModels& discovered) {
  if (auto m = catalog.find(name)) return {std::move(m), ModelSource::Logical};
  if (auto slash = name.find('/'); slash != std::string::npos && slash > 0 && slash + 1 < name.size()) {
    std::string provider = name.substr(0, slash), model = name.substr(slash + 1);
    if (providers.find(provider)) {
      // A name the provider listed has state of its own; any other name a client may invent
      // shares one bucket, so that invented names cannot grow metrics, weights or keys.
      bool listed = discovered.lists(provider, model);
      return {group(name, {upstream(provider, model)}, listed ? name : std::string(kUnlistedModels)),
              ModelSource::Direct};
    }
  }
  std::vector<PhysicalModel> listing;
  for (const auto& p : providers.usable)
    if (discovered.lists(p.config.id, name)) listing.push_back(upstream(p.config.id, name));
  if (!listing.empty()) return {group(name, std::move(listing), name), ModelSource::Discovered};
  return {};
}

}  // namespace apiproxy
