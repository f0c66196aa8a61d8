#include "core/telemetry/counter.hpp"

namespace apiproxy::telemetry {

namespace {

template <class Cell>
void write_counters(TextWriter& out, const Family<Cell>& family) {
  const FamilyInfo& info = family.info();
  out.family(info.name(), info.help(), "counter");
  family.for_each([&](const std::vector<std::string>& values, const Cell& c) {
    out.sample(info.name(), info.label_names(), values, c.value());
  });
}

}  // namespace

void write(TextWriter& out, const CounterFamily& family) { write_counters(out, family); }
void write(TextWriter& out, const AmountCounterFamily& family) { write_counters(out, family); }

void write(TextWriter& out, const TokenCounterFamily& family) {
  const FamilyInfo& info = family.info();
  out.family(info.name(), info.help(), "counter");
  std::vector<std::string> names{"direction"};
  names.insert(names.end(), info.label_names().begin(), info.label_names().end());
  std::vector<std::string> values;
  family.for_each([&](const std::vector<std::string>& series, const TokenCounters& c) {
    values.assign(1, "prompt");
    values.insert(values.end(), series.begin(), series.end());
    out.sample(info.name(), names, values, c.prompt.value());
    values[0] = "completion";
    out.sample(info.name(), names, values, c.completion.value());
  });
}

}  // namespace apiproxy::telemetry
