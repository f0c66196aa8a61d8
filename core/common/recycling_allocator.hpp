// Small blocks recycled per thread, for what every request makes and frees: HTTP header
// fields above all (Beast allocates each field on its own, a dozen per proxied request).
// malloc's own per-thread cache keeps 7 blocks of a size; with a few dozen requests in
// flight it runs dry and every field goes through malloc's slower paths. Blocks come back
// to the thread that frees them, up to a bound per size, so memory stays bounded; larger
// blocks go to operator new directly.
#pragma once

#include <cstddef>

namespace apiproxy {

namespace recycling {
void* allocate(std::size_t bytes);
void deallocate(void* p, std::size_t bytes) noexcept;
// How many blocks this thread keeps for reuse, all sizes together.
std::size_t kept_by_this_thread();
}  // namespace recycling

template <class T>
struct RecyclingAllocator {
  using value_type = T;
  RecyclingAllocator() noexcept = default;
  template <class U>
  RecyclingAllocator(const RecyclingAllocator<U>&) noexcept {}
  T* allocate(std::size_t n) { return static_cast<T*>(recycling::allocate(n * sizeof(T))); }
  void deallocate(T* p, std::size_t n) noexcept { recycling::deallocate(p, n * sizeof(T)); }
  template <class U>
  bool operator==(const RecyclingAllocator<U>&) const noexcept { return true; }
  template <class U>
  bool operator!=(const RecyclingAllocator<U>&) const noexcept { return false; }
};

}  // namespace apiproxy
