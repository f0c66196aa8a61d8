// Differential fuzzing of scan_members' two ways (core/common/json_fast_scan.hpp): whenever
// the quick pass accepts a text, RapidJSON must accept it too and list the same members,
// byte ranges and decoded values. The quick pass may leave any text undecided; it may
// never accept one RapidJSON refuses, nor read it differently.
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "core/common/json_fast_scan.hpp"

namespace {

using namespace apiproxy;

void require(bool ok) {
  if (!ok) __builtin_trap();  // a broken promise: libFuzzer saves the input
}

bool same(const JsonMember& a, const JsonMember& b) {
  return a.key == b.key && a.kind == b.kind && a.value.begin == b.value.begin && a.value.end == b.value.end &&
         a.member.begin == b.member.begin && a.member.end == b.member.end && a.boolean == b.boolean &&
         a.uint == b.uint && a.string == b.string;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  std::vector<JsonMember> fast, exact;
  bool taken = fast_scan_members(text, fast);
  auto why = exact_scan_members(text, exact);
  if (!taken) return 0;
  require(!why);
  require(fast.size() == exact.size());
  for (size_t i = 0; i < fast.size(); ++i) {
    require(same(fast[i], exact[i]));
    require(fast[i].member.begin <= fast[i].value.begin && fast[i].value.end <= text.size());
  }
  return 0;
}
