// The Redis key names, shared with the original service: change none of them.
#pragma once

#include <string>
#include <string_view>

namespace apiproxy::keys {

inline constexpr std::string_view kLogicalPrefix = "llm:logical:";

inline std::string vendor_models(std::string_view provider_id) {
  return "llm:vendor:" + std::string(provider_id) + ":models";
}
inline std::string logical_model(std::string_view logical_id) {
  return std::string(kLogicalPrefix) + std::string(logical_id);
}
inline std::string metrics(std::string_view logical_model, std::string_view provider_id) {
  return "llm:metrics:" + std::string(logical_model) + ":" + std::string(provider_id);
}
inline std::string session(std::string_view conversation_id) {
  return "llm:session:" + std::string(conversation_id);
}
inline std::string provider_weights(std::string_view logical_model) {
  return "routing:" + std::string(logical_model) + ":provider_weights";
}

}  // namespace apiproxy::keys
