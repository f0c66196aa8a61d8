// apiproxy/strategy.hpp — write a routing strategy as a C++ class.
//
//   class MyStrategy : public apx::Strategy {
//    public:
//     MyStrategy(const apx::Host& host, const apx::Settings& settings);
//     void score(const apx::RouteContext& ctx, apx::Candidates c, double* out) override;
//   };
//   APIPROXY_EXPORT_STRATEGY(MyStrategy, "my_strategy", "1.0.0", "what it prefers")
//
// `score` may run on several threads at once: keep it free of unsynchronised state.
#ifndef APIPROXY_STRATEGY_HPP
#define APIPROXY_STRATEGY_HPP

#include <apiproxy/plugin.hpp>

namespace apx {

// Read-only view of the route context; fields added in later minors read as defaults.
class RouteContext {
 public:
  explicit RouteContext(const apx_route_ctx& c) noexcept : c_(c) {}
  std::string_view logical_model() const noexcept { return view(c_.logical_model); }
  std::string_view strategy() const noexcept { return view(c_.strategy); }
  std::string_view preferred_region() const noexcept { return view(c_.preferred_region); }
  uint64_t estimated_input_tokens() const noexcept { return c_.estimated_input_tokens; }
  uint64_t estimated_output_tokens() const noexcept { return c_.estimated_output_tokens; }
  bool stream() const noexcept { return c_.stream != 0; }
  const apx_route_ctx& raw() const noexcept { return c_; }

 private:
  const apx_route_ctx& c_;
};

// The candidates of one decision: `c[i]` is an apx_candidate.
class Candidates {
 public:
  Candidates(const apx_candidate* const* items, size_t n) noexcept : items_(items), n_(n) {}
  size_t size() const noexcept { return n_; }
  const apx_candidate& operator[](size_t i) const noexcept { return *items_[i]; }

 private:
  const apx_candidate* const* items_;
  size_t n_;
};

inline std::string_view provider_id(const apx_candidate& c) noexcept { return view(c.provider_id); }

class Strategy {
 public:
  virtual ~Strategy() = default;
  // Writes candidates.size() scores to out: >= 0, higher is better, 0 = never.
  virtual void score(const RouteContext& ctx, Candidates candidates, double* out) = 0;
};

namespace detail {

template <class T>
struct StrategyGlue {
  using Box = Boxed<T>;

  static apx_status create(const apx_host* host, const apx_kv* config, size_t n,
                           void** self_out) noexcept {
    Host h(host);
    if (!self_out) return APX_ERR_INVALID;
    return guarded(h, [&] {
      Settings settings(config, n);
      *self_out = new Box{h, T(h, settings)};
      return APX_OK;
    });
  }
  static apx_status score(void* self, const apx_route_ctx* ctx,
                          const apx_candidate* const* candidates, size_t n,
                          double* out) noexcept {
    if (!self || !ctx || (n && (!candidates || !out))) return APX_ERR_INVALID;
    auto* box = static_cast<Box*>(self);
    return guarded(box->host, [&] {
      box->object.score(RouteContext(*ctx), Candidates(candidates, n), out);
      return APX_OK;
    });
  }
  static void destroy(void* self) noexcept { delete static_cast<Box*>(self); }

  static const apx_strategy_vtable* vtable() noexcept {
    static const apx_strategy_vtable vt = {sizeof(apx_strategy_vtable), &create, &score,
                                           &destroy};
    return &vt;
  }
};

}  // namespace detail
}  // namespace apx

// Exports `Class` as the strategy `name`. Use once per plugin library, at file scope.
#define APIPROXY_EXPORT_STRATEGY(Class, name, version, description)                    \
  extern "C" APX_EXPORT const apx_plugin_descriptor* apiproxy_plugin_entry(void) {     \
    static const apx_plugin_descriptor d = ::apx::detail::make_descriptor(              \
        APX_KIND_STRATEGY, name, version, description,                                  \
        ::apx::detail::StrategyGlue<Class>::vtable());                                  \
    return &d;                                                                          \
  }

#endif  // APIPROXY_STRATEGY_HPP
