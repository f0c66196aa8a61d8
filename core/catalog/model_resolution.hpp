// What a client's `model` names, in this order:
//  (a) a logical model                      -> its upstreams
//  (b) "provider_id/model_id"               -> that provider directly (state kept under
//                                               kUnlistedModels unless the provider lists it)
//  (c) a model some providers have listed   -> an ad-hoc group of those providers
//  (d) anything else                        -> not found
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "core/catalog/logical_model_catalog.hpp"
#include "core/discovery/model_discovery.hpp"
#include "core/providers/provider_runtime.hpp"

namespace apiproxy {

enum class ModelSource { Logical, Direct, Discovered };

// The logical id (metrics, weights, store keys, metric labels) of every "provider/model"
// whose model the provider did not list: one shared bucket, whatever names clients invent.
inline constexpr std::string_view kUnlistedModels = "(unlisted)";

struct ResolvedModel {
  std::shared_ptr<const LogicalModel> model;  // null: not found
  ModelSource source = ModelSource::Logical;
};

// Uses only in-process state (the catalog cache and the discovered lists): no store I/O.
ResolvedModel resolve_model(const std::string& name, const LogicalModelCatalog& catalog,
                            const ProviderRuntimes& providers, const LastGoodModels& discovered);

}  // namespace apiproxy
