#include "core/plugins/private_copy.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <utility>

#include <spdlog/spdlog.h>

#include "core/common/file_read.hpp"

namespace apiproxy {

namespace {

// FNV-1a: only used to notice that a file changed, not for security.
uint64_t fnv1a(const std::string& bytes) {
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : bytes) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  return h;
}

bool write_all(int fd, const std::string& bytes) {
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

}  // namespace

Result<PrivateCopy> PrivateCopy::of(const std::string& path) {
  auto read = read_whole_file(path);
  if (!read) return Error{read.error()};
  const std::string& bytes = read.value();

  PrivateCopy copy;
  copy.hash_ = fnv1a(bytes);
  std::string label = "apiproxy-plugin:" + path.substr(path.find_last_of('/') + 1);
  copy.fd_ = ::memfd_create(label.c_str(), MFD_CLOEXEC);
  if (copy.fd_ < 0) {
    static bool warned = false;
    if (!std::exchange(warned, true))
      spdlog::warn("memfd_create failed ({}): plugins are loaded in place, so a changed file "
                   "is only picked up after a restart", std::strerror(errno));
    copy.load_path_ = path;
    return copy;
  }
  if (!write_all(copy.fd_, bytes)) return Error{std::string("cannot be copied: ") + std::strerror(errno)};
  copy.load_path_ = "/proc/self/fd/" + std::to_string(copy.fd_);
  return copy;
}

PrivateCopy::PrivateCopy(PrivateCopy&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), load_path_(std::move(other.load_path_)), hash_(other.hash_) {}

PrivateCopy& PrivateCopy::operator=(PrivateCopy&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    load_path_ = std::move(other.load_path_);
    hash_ = other.hash_;
  }
  return *this;
}

PrivateCopy::~PrivateCopy() {
  if (fd_ >= 0) ::close(fd_);
}

}  // namespace apiproxy
