// Reading a whole file that an operator named (a plugin, a model list): bounded, and with
// the reason it failed in words, never an exception.
#pragma once

#include <cstddef>
#include <limits>
#include <string>

#include "core/common/result.hpp"

namespace apiproxy {

// The whole of the regular file at `path`, or why not: "cannot be read: <system error>",
// "is not a regular file", "is larger than N bytes" or "changed size while being read"
// (phrased to follow the file's name in a message).
Result<std::string> read_whole_file(const std::string& path,
                                    size_t max_bytes = std::numeric_limits<size_t>::max());

}  // namespace apiproxy
