#include "core/telemetry/counter.hpp"

namespace apiproxy::telemetry {

void write(TextWriter& out, const CounterFamily& family) {
  const FamilyInfo& info = family.info();
  out.family(info.name(), info.help(), "counter");
  family.for_each([&](const std::vector<std::string>& values, const Counter& c) {
    out.sample(info.name(), info.label_names(), values, c.value());
  });
}

}  // namespace apiproxy::telemetry
