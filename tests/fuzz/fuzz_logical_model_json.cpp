// Fuzzes the JSON codec of the model types (core/model/json_codec.hpp): every input is
// given to the three decoders (logical model, model list, session). Whatever decodes is
// encoded, and the encoding must decode again to the same value — the round trip the
// codec's unit tests promise (tests/unit/json_codec_test.cpp: strings, integers and flags
// exactly; weights as EXPECT_DOUBLE_EQ does, within 4 ULPs; raw JSON by content).
//
// What is stored in Redis goes through exactly this: decoded from a client or the store,
// encoded into the store, decoded again on every read.
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <rapidjson/document.h>

#include "core/model/json_codec.hpp"

namespace {

using namespace apiproxy;

// A broken promise: stop here, so libFuzzer saves the input.
void require(bool ok) {
  if (!ok) __builtin_trap();
}

// gtest's EXPECT_DOUBLE_EQ: equal, or at most 4 representable doubles apart.
bool close_doubles(double a, double b) {
  if (a == b) return true;
  if (!std::isfinite(a) || !std::isfinite(b)) return false;
  for (int i = 0; i < 4; ++i) {
    a = std::nextafter(a, b);
    if (a == b) return true;
  }
  return false;
}

void check_same(const PhysicalModel& a, const PhysicalModel& b) {
  require(a.provider_id == b.provider_id);
  require(a.model_id == b.model_id);
  require(a.endpoint == b.endpoint);
  require(close_doubles(a.base_weight, b.base_weight));
  require(a.region == b.region);
  require(a.max_qps.has_value() == b.max_qps.has_value());
  if (a.max_qps) require(close_doubles(*a.max_qps, *b.max_qps));
  require(a.meta_hash == b.meta_hash);
  require(a.updated_at == b.updated_at);
}

void check_same(const LogicalModel& a, const LogicalModel& b) {
  require(a.logical_id == b.logical_id);
  require(a.display_name == b.display_name);
  require(a.description == b.description);
  require(a.capabilities == b.capabilities);
  require(a.enabled == b.enabled);
  require(a.updated_at == b.updated_at);
  require(a.strategy == b.strategy);
  require(a.upstreams.size() == b.upstreams.size());
  for (size_t i = 0; i < a.upstreams.size(); ++i) check_same(a.upstreams[i], b.upstreams[i]);
}

// Raw JSON (a model's pricing and metadata) is re-serialised on every decode, so its text
// may change where a number is written differently; its content must not. Same values,
// same member order, numbers within 4 ULPs as above.
bool same_json(const rapidjson::Value& a, const rapidjson::Value& b) {
  if (a.IsNumber() && b.IsNumber()) return close_doubles(a.GetDouble(), b.GetDouble());
  if (a.GetType() != b.GetType()) return false;
  if (a.IsString())
    return std::string_view(a.GetString(), a.GetStringLength()) == std::string_view(b.GetString(), b.GetStringLength());
  if (a.IsArray()) {
    if (a.Size() != b.Size()) return false;
    for (rapidjson::SizeType i = 0; i < a.Size(); ++i)
      if (!same_json(a[i], b[i])) return false;
    return true;
  }
  if (a.IsObject()) {
    if (a.MemberCount() != b.MemberCount()) return false;
    for (auto x = a.MemberBegin(), y = b.MemberBegin(); x != a.MemberEnd(); ++x, ++y)
      if (!same_json(x->name, y->name) || !same_json(x->value, y->value)) return false;
    return true;
  }
  return a == b;  // null, true, false
}

bool same_raw_json(const std::string& a, const std::string& b) {
  if (a == b) return true;
  rapidjson::Document x, y;
  x.Parse<rapidjson::kParseIterativeFlag>(a.data(), a.size());
  y.Parse<rapidjson::kParseIterativeFlag>(b.data(), b.size());
  return !x.HasParseError() && !y.HasParseError() && same_json(x, y);
}

void check_same(const Model& a, const Model& b) {
  require(a.model_id == b.model_id);
  require(a.provider_id == b.provider_id);
  require(a.family == b.family);
  require(a.display_name == b.display_name);
  require(a.context_length == b.context_length);
  require(a.capabilities == b.capabilities);
  require(same_raw_json(a.pricing_json, b.pricing_json));
  require(same_raw_json(a.metadata_json, b.metadata_json));
  require(a.meta_hash == b.meta_hash);
}

void check_same(const Session& a, const Session& b) {
  require(a.conversation_id == b.conversation_id);
  require(a.logical_model == b.logical_model);
  require(a.provider_id == b.provider_id);
  require(a.model_id == b.model_id);
  require(a.created_at == b.created_at);
  require(a.last_accessed == b.last_accessed);
  require(a.message_count == b.message_count);
}

void round_trip_logical_model(std::string_view text) {
  auto first = logical_model_from_json(text);
  if (!first) return;
  std::string encoded = to_json(*first);
  auto second = logical_model_from_json(encoded);
  require(second.ok());  // what the codec wrote, it must read
  check_same(*first, *second);
}

void round_trip_model_list(std::string_view text) {
  auto first = models_from_json(text);
  if (!first) return;
  std::string encoded = to_json(*first);
  auto second = models_from_json(encoded);
  require(second.ok());
  require(first->size() == second->size());
  for (size_t i = 0; i < first->size(); ++i) check_same((*first)[i], (*second)[i]);
}

void round_trip_session(std::string_view text) {
  auto first = session_from_json(text);
  if (!first) return;
  std::string encoded = to_json(*first);
  auto second = session_from_json(encoded);
  require(second.ok());
  check_same(*first, *second);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  round_trip_logical_model(text);
  round_trip_model_list(text);
  round_trip_session(text);
  return 0;
}
