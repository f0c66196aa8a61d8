// Per-thread recycled blocks for header fields: a freed block serves the next allocation of
// its size class, blocks of every size are usable to their full size, and the number kept
// is bounded.
#include <gtest/gtest.h>

#include <cstring>
#include <thread>
#include <vector>

#include <boost/beast/http/fields.hpp>

#include "core/common/recycling_allocator.hpp"

namespace apiproxy {
namespace {

TEST(RecyclingAllocator, AFreedBlockServesTheNextAllocationOfItsSize) {
  void* a = recycling::allocate(100);
  recycling::deallocate(a, 100);
  void* b = recycling::allocate(120);  // the same 128-byte class
  EXPECT_EQ(a, b);
  void* c = recycling::allocate(40);  // another class: not that block
  EXPECT_NE(c, b);
  recycling::deallocate(b, 120);
  recycling::deallocate(c, 40);
}

TEST(RecyclingAllocator, EverySizeIsUsableToItsEnd) {
  for (size_t n : {size_t{0}, size_t{1}, size_t{64}, size_t{65}, size_t{512}, size_t{513}, size_t{100000}}) {
    auto* p = static_cast<char*>(recycling::allocate(n));
    std::memset(p, 0xab, n);  // ASan reports a block smaller than asked for
    recycling::deallocate(p, n);
  }
}

TEST(RecyclingAllocator, KeepsABoundedNumberOfBlocks) {
  size_t before = recycling::kept_by_this_thread();
  std::vector<void*> many;
  for (int i = 0; i < 5000; ++i) many.push_back(recycling::allocate(200));
  for (void* p : many) recycling::deallocate(p, 200);
  // The 256-byte class keeps at most 512; the rest went back to the heap.
  EXPECT_GT(recycling::kept_by_this_thread(), before);
  EXPECT_LE(recycling::kept_by_this_thread(), before + 512);
}

TEST(RecyclingAllocator, BeastFieldsWorkAcrossThreads) {
  // A message made on one thread and freed on another: the block joins the freeing thread's list.
  auto fields = std::make_unique<boost::beast::http::basic_fields<RecyclingAllocator<char>>>();
  for (int i = 0; i < 50; ++i) fields->insert("X-Field-" + std::to_string(i), std::string(i * 10, 'v'));
  std::thread([f = std::move(fields)]() mutable {
    EXPECT_EQ((*f)["X-Field-49"].size(), 490u);
    f.reset();
  }).join();
}

}  // namespace
}  // namespace apiproxy
