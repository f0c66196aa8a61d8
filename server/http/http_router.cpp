#include "server/http/http_router.hpp"

#include <algorithm>
#include <cctype>

namespace apiproxy {

std::vector<std::string_view> split_path(std::string_view path) {
  std::vector<std::string_view> out;
  out.reserve(std::count(path.begin(), path.end(), '/') + 1);  // one allocation, not one per doubling
  while (!path.empty()) {
    auto slash = path.find('/');
    std::string_view seg = path.substr(0, slash);
    if (!seg.empty()) out.push_back(seg);
    if (slash == std::string_view::npos) break;
    path.remove_prefix(slash + 1);
  }
  return out;
}

std::string percent_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size() && std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
        std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

void HttpRouter::add(boost::beast::http::verb method, std::string_view pattern, Handler handler) {
  Route r{method, {}, std::move(handler)};
  for (auto seg : split_path(pattern)) r.segments.emplace_back(seg);
  routes_.push_back(std::move(r));
}

bool HttpRouter::match_segments(const Route& r, const std::vector<std::string_view>& path,
                            PathParams* params) {
  if (r.segments.size() != path.size()) return false;
  for (size_t i = 0; i < path.size(); ++i) {
    const std::string& seg = r.segments[i];
    bool capture = seg.size() > 2 && seg.front() == '{' && seg.back() == '}';
    if (capture) {
      if (params) params->emplace_back(seg.substr(1, seg.size() - 2), percent_decode(path[i]));
    } else if (seg != path[i]) {
      return false;
    }
  }
  return true;
}

RouteMatch HttpRouter::match(boost::beast::http::verb method, std::string_view path) const {
  RouteMatch m;
  auto segments = split_path(path);
  for (const auto& r : routes_) {
    if (!match_segments(r, segments, nullptr)) continue;
    if (r.method == method) {
      m.handler = &r.handler;
      match_segments(r, segments, &m.params);
      return m;
    }
    m.path_known = true;
    m.allowed += (m.allowed.empty() ? "" : ", ") + std::string(boost::beast::http::to_string(r.method));
  }
  return m;
}

}  // namespace apiproxy
