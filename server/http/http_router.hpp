// Method + path-pattern routing. Patterns are literal segments and {name} segments that
// capture one path segment: "/providers/{id}/models".
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <boost/beast/http/verb.hpp>

namespace apiproxy {

class Exchange;
using Handler = std::function<void(const std::shared_ptr<Exchange>&)>;
using PathParams = std::vector<std::pair<std::string, std::string>>;

struct RouteMatch {
  const Handler* handler = nullptr;  // null: no route
  PathParams params;
  bool path_known = false;  // the path exists under another method (405, not 404)
  std::string allowed;      // for the Allow header
};

class HttpRouter {
 public:
  void add(boost::beast::http::verb method, std::string_view pattern, Handler handler);
  RouteMatch match(boost::beast::http::verb method, std::string_view path) const;

 private:
  struct Route {
    boost::beast::http::verb method;
    std::vector<std::string> segments;  // "{name}" captures
    Handler handler;
  };
  static bool match_segments(const Route& r, const std::vector<std::string_view>& path,
                             PathParams* params);
  std::vector<Route> routes_;
};

// Splits "/a/b/c" into {"a","b","c"} (empty segments dropped).
std::vector<std::string_view> split_path(std::string_view path);
// Decodes %XX escapes (and nothing else: '+' stays '+').
std::string percent_decode(std::string_view s);

}  // namespace apiproxy
