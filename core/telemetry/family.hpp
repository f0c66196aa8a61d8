// A metric family: one name, one help text, fixed label names, and one cell (a counter, a
// histogram...) per distinct set of label values, made on first use and kept for the life
// of the process.
//
// Hot-path cost: with(values) builds a key in a thread-local buffer (no allocation once it
// has grown) and compares it with the label set this thread used last on this family: a
// request records the same model and provider several times, so that is usually all.
// Otherwise it takes a shared lock and does one hash lookup. The cell itself is atomics, so
// recording never takes a lock of its own. Only the first use of a label set takes the
// exclusive lock and allocates. A scrape takes the shared lock just long enough to list
// the cells.
//
// Cardinality: label values often come from configuration (model and provider ids) but a
// logical model may also be named by a client ("provider/anything"). A family therefore
// holds at most `max_series` label sets; past that, new sets share one series whose every
// label value is "_overflow_", and one warning is logged, so a hostile client cannot grow
// memory or the scrape without bound.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <stdexcept>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/telemetry/exposition.hpp"

namespace apiproxy::telemetry {

inline constexpr size_t kDefaultMaxSeries = 2000;
inline constexpr std::string_view kOverflowValue = "_overflow_";

// What a family is called, and what the checks on its names are.
class FamilyInfo {
 public:
  // Throws std::invalid_argument for an invalid metric or label name, a duplicate label
  // name, or a label named "le" or "quantile" (reserved for histogram and summary samples).
  FamilyInfo(std::string name, std::string help, std::vector<std::string> label_names);

  const std::string& name() const { return name_; }
  const std::string& help() const { return help_; }
  const std::vector<std::string>& label_names() const { return label_names_; }

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
};

// Warns once per family that it is full (family.cpp; spdlog stays out of this header).
void warn_family_full(const FamilyInfo& info, size_t max_series);

// The cell a thread found last for one family, and the key it found it under. Families are
// told apart by a number never reused in the process (an address may be, once a family is
// destroyed), and cells live as long as their family, so a match is always a live cell.
struct LastLookup {
  uint64_t family = 0;
  std::string key;
  void* cell = nullptr;
};
uint64_t next_family_id();
// This thread's entry for `family` (a few per thread, shared by families that collide).
LastLookup& last_lookup(uint64_t family);

template <class Cell>
class Family {
 public:
  using MakeCell = std::function<std::unique_ptr<Cell>()>;

  Family(std::string name, std::string help, std::vector<std::string> label_names,
         MakeCell make = [] { return std::make_unique<Cell>(); }, size_t max_series = kDefaultMaxSeries)
      : info_(std::move(name), std::move(help), std::move(label_names)),
        make_(std::move(make)),
        max_series_(max_series),
        id_(next_family_id()) {}
  Family(const Family&) = delete;
  Family& operator=(const Family&) = delete;

  const FamilyInfo& info() const { return info_; }

  // The cell for these label values, in the order of the label names. A wrong number of
  // values is a programming error: it throws std::invalid_argument.
  Cell& with(std::initializer_list<std::string_view> values) {
    if (values.size() != info_.label_names().size())
      throw std::invalid_argument(info_.name() + ": wrong number of label values");
    thread_local std::string key;
    key.clear();
    for (std::string_view v : values) {  // length-prefixed: no value can fake a separator
      uint32_t n = static_cast<uint32_t>(v.size());
      key.append(reinterpret_cast<const char*>(&n), sizeof n);
      key.append(v);
    }
    LastLookup& last = last_lookup(id_);
    if (last.family == id_ && last.key == key) return *static_cast<Cell*>(last.cell);
    Cell& cell = find_or_make(values, key);
    last.family = id_;
    last.key = key;
    last.cell = &cell;
    return cell;
  }

  // Calls f(values, cell) for every series, ordered by label values (a stable scrape).
  template <class F>
  void for_each(F&& f) const {
    std::vector<std::pair<const std::vector<std::string>*, const Cell*>> list;
    const Cell* overflow = nullptr;
    {
      std::shared_lock lock(mu_);
      list.reserve(cells_.size());
      for (const auto& [key, s] : cells_) list.emplace_back(&s.values, s.cell.get());
      overflow = overflow_.get();
    }
    // Series are never removed, so the pointers stay valid without the lock.
    std::sort(list.begin(), list.end(), [](const auto& a, const auto& b) { return *a.first < *b.first; });
    for (const auto& [values, cell] : list) f(*values, *cell);
    if (overflow) {
      std::vector<std::string> values(info_.label_names().size(), std::string(kOverflowValue));
      f(values, *overflow);
    }
  }

  size_t series() const {
    std::shared_lock lock(mu_);
    return cells_.size() + (overflow_ ? 1 : 0);
  }

 private:
  Cell& find_or_make(std::initializer_list<std::string_view> values, const std::string& key) {
    {
      std::shared_lock lock(mu_);
      auto it = cells_.find(std::string_view(key));
      if (it != cells_.end()) return *it->second.cell;
    }
    std::unique_lock lock(mu_);
    auto it = cells_.find(std::string_view(key));
    if (it != cells_.end()) return *it->second.cell;
    if (cells_.size() >= max_series_) {
      if (!overflow_) {
        overflow_ = make_();
        warn_family_full(info_, max_series_);
      }
      return *overflow_;
    }
    Series s{std::vector<std::string>(values.begin(), values.end()), make_()};
    return *cells_.emplace(key, std::move(s)).first->second.cell;
  }

  struct Series {
    std::vector<std::string> values;
    std::unique_ptr<Cell> cell;
  };
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };

  FamilyInfo info_;
  MakeCell make_;
  size_t max_series_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, Series, Hash, std::equal_to<>> cells_;
  std::unique_ptr<Cell> overflow_;
  uint64_t id_;
};

}  // namespace apiproxy::telemetry
