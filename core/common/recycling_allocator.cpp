#include "core/common/recycling_allocator.hpp"

#include <array>
#include <new>

namespace apiproxy::recycling {

namespace {

constexpr std::size_t kGranule = 64;
constexpr std::size_t kClasses = 8;          // blocks of 64, 128, ... 512 bytes
constexpr std::size_t kMaxKeptPerClass = 512;  // at most ~1.1 MiB kept per thread

struct FreeBlock {
  FreeBlock* next;
};

// A thread's free lists; what is left when the thread ends goes back to the heap.
struct FreeLists {
  std::array<FreeBlock*, kClasses> head{};
  std::array<std::size_t, kClasses> kept{};
  ~FreeLists() {
    for (std::size_t c = 0; c < kClasses; ++c)
      while (FreeBlock* b = head[c]) {
        head[c] = b->next;
        ::operator delete(b);
      }
  }
};

thread_local FreeLists lists;

// The size class of a block of `bytes`, or kClasses when it is too large to recycle.
std::size_t size_class(std::size_t bytes) { return bytes == 0 ? 0 : (bytes - 1) / kGranule; }

}  // namespace

void* allocate(std::size_t bytes) {
  std::size_t c = size_class(bytes);
  if (c >= kClasses) return ::operator new(bytes);
  if (FreeBlock* b = lists.head[c]) {
    lists.head[c] = b->next;
    --lists.kept[c];
    return b;
  }
  return ::operator new((c + 1) * kGranule);
}

void deallocate(void* p, std::size_t bytes) noexcept {
  std::size_t c = size_class(bytes);
  if (c >= kClasses || lists.kept[c] >= kMaxKeptPerClass) return ::operator delete(p);
  auto* b = static_cast<FreeBlock*>(p);
  b->next = lists.head[c];
  lists.head[c] = b;
  ++lists.kept[c];
}

std::size_t kept_by_this_thread() {
  std::size_t n = 0;
  for (std::size_t k : lists.kept) n += k;
  return n;
}

}  // namespace apiproxy::recycling
