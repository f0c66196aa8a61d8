#include "core/common/flat_fields.hpp"

#include <boost/beast/core/string.hpp>

namespace apiproxy {

FlatFields::Piece FlatFields::keep(std::string_view s) {
  if (text_.empty()) text_.reserve(512);  // one allocation for the usual head
  Piece p{static_cast<uint32_t>(text_.size()), static_cast<uint32_t>(s.size())};
  text_.append(s.data(), s.size());
  return p;
}

const FlatFields::Entry* FlatFields::find(std::string_view name) const {
  for (const auto& e : entries_)
    if (boost::beast::iequals(text(e.name), name)) return &e;
  return nullptr;
}

std::string_view FlatFields::operator[](std::string_view name) const {
  const Entry* e = find(name);
  return e ? text(e->value) : std::string_view();
}

}  // namespace apiproxy
