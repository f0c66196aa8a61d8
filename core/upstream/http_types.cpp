#include "core/upstream/http_types.hpp"

#include <boost/beast/core/string.hpp>

namespace apiproxy {

std::string UpstreamResponse::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (boost::beast::iequals(k, name)) return v;
  return {};
}

}  // namespace apiproxy
