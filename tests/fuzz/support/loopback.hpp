// Loopback addresses for harnesses that open a TCP connection per input.
//
// Each input listens on an address of its own: 127.<net>.x.y, cycling through 65536 of
// them. Connections of earlier inputs stay in TIME_WAIT for a minute after they close, and
// a client has only ~28000 ephemeral ports towards one address and port: at a thousand
// inputs a second, one fixed address runs out of them within half a minute.
#pragma once

#include <cstdint>

#include <boost/asio/ip/address_v4.hpp>

namespace apiproxy::fuzz {

inline boost::asio::ip::address_v4 next_loopback_address(uint8_t net) {
  static uint32_t host = 0;
  host = (host + 1) & 0xFFFF;
  return boost::asio::ip::address_v4((127u << 24) | (uint32_t{net} << 16) | host);
}

}  // namespace apiproxy::fuzz
