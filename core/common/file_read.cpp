#include "core/common/file_read.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

namespace apiproxy {

namespace {

std::string read_open_file(int fd, size_t max_bytes, std::string& bytes) {
  struct stat st {};
  if (::fstat(fd, &st) != 0) return std::string("cannot be read: ") + std::strerror(errno);
  if (!S_ISREG(st.st_mode)) return "is not a regular file";
  if (static_cast<uintmax_t>(st.st_size) > max_bytes) return "is larger than " + std::to_string(max_bytes) + " bytes";
  bytes.resize(static_cast<size_t>(st.st_size));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::read(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  return done == bytes.size() ? std::string() : "changed size while being read";
}

}  // namespace

Result<std::string> read_whole_file(const std::string& path, size_t max_bytes) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Error{std::string("cannot be read: ") + std::strerror(errno)};
  std::string bytes;
  std::string problem = read_open_file(fd, max_bytes, bytes);
  ::close(fd);
  if (!problem.empty()) return Error{problem};
  return bytes;
}

}  // namespace apiproxy
