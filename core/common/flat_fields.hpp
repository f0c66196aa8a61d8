// HTTP header fields kept flat: every name and value back to back in one buffer, each field
// a pair of offsets into it, the usual head's fields in inline storage. A Beast message
// allocates each field and keeps it in a tree; this costs appends. Both parsers (a client's
// request, an upstream's response) keep their heads in one.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/container/small_vector.hpp>

namespace apiproxy {

class FlatFields {
 public:
  struct Field {
    std::string_view name, value;
  };
  // Where kept text is in the buffer. 32 bits: a parser's header limit bounds the buffer.
  struct Piece {
    uint32_t at = 0, size = 0;
  };

  // Keeps `s` (a start line's method or target, say) in the buffer; text() gives it back.
  Piece keep(std::string_view s);
  std::string_view text(Piece p) const { return std::string_view(text_).substr(p.at, p.size); }

  void add(std::string_view name, std::string_view value) { entries_.push_back({keep(name), keep(value)}); }
  // The value of the first field named `name` (any case), or "" when there is none.
  std::string_view operator[](std::string_view name) const;
  // Whether a field named `name` came, even with an empty value.
  bool has(std::string_view name) const { return find(name) != nullptr; }

  // The fields in the order they came. Views are valid while this lives and is not added to.
  class Iterator {
   public:
    Iterator(const FlatFields& fields, size_t i) : fields_(&fields), i_(i) {}
    Field operator*() const { return fields_->at(i_); }
    Iterator& operator++() {
      ++i_;
      return *this;
    }
    bool operator!=(const Iterator& other) const { return i_ != other.i_; }

   private:
    const FlatFields* fields_;
    size_t i_;
  };
  Iterator begin() const { return Iterator(*this, 0); }
  Iterator end() const { return Iterator(*this, entries_.size()); }
  size_t size() const { return entries_.size(); }

 private:
  struct Entry {
    Piece name, value;
  };
  Field at(size_t i) const { return {text(entries_[i].name), text(entries_[i].value)}; }
  const Entry* find(std::string_view name) const;

  std::string text_;
  boost::container::small_vector<Entry, 16> entries_;  // the usual head allocates none
};

}  // namespace apiproxy
