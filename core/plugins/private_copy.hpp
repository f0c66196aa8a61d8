// A plugin is loaded from a private in-memory copy of its file, never from the file itself:
//  * overwriting or replacing the file on disk cannot change code that is running;
//  * a changed file is opened under a new name — dlopen would otherwise hand back the
//    library it already loaded from that path, and a reload would change nothing;
//  * the copy's content hash tells a reload whether the file changed at all.
#pragma once

#include <cstdint>
#include <string>

#include "core/common/result.hpp"

namespace apiproxy {

class PrivateCopy {
 public:
  // Reads `path` whole into an anonymous memory file. Falls back to loading the file in
  // place (with a warning) where memory files are unavailable.
  static Result<PrivateCopy> of(const std::string& path);

  PrivateCopy(PrivateCopy&& other) noexcept;
  PrivateCopy& operator=(PrivateCopy&& other) noexcept;
  PrivateCopy(const PrivateCopy&) = delete;
  PrivateCopy& operator=(const PrivateCopy&) = delete;
  ~PrivateCopy();

  // What to pass to dlopen: /proc/self/fd/N of the copy, unique while this object lives.
  const std::string& load_path() const { return load_path_; }
  uint64_t content_hash() const { return hash_; }

 private:
  PrivateCopy() = default;
  int fd_ = -1;
  std::string load_path_;
  uint64_t hash_ = 0;
};

}  // namespace apiproxy
