#include "core/config/settings.hpp"
#include "core/store/memory_store.hpp"
#include "core/store/redis_store.hpp"
#include "core/store/store.hpp"

namespace apiproxy {

Result<StoreFactory> make_store_factory(const Settings& settings) {
  if (!settings.uses_redis()) {
    auto data = std::make_shared<MemoryData>();
    return StoreFactory([data](boost::asio::io_context& io) -> std::shared_ptr<Store> {
      return std::make_shared<MemoryStore>(io, data);
    });
  }
  auto url = parse_redis_url(settings.redis_url);
  if (!url) return Error{url.error()};
  if (url.value().password.empty() && !settings.redis_password.empty()) {
    url.value().password = settings.redis_password;
    url.value().password_if_required = true;
  }
  auto timeout = settings.redis_timeout;
  return StoreFactory([url = url.value(), timeout](boost::asio::io_context& io) -> std::shared_ptr<Store> {
    return std::make_shared<RedisStore>(io, url, timeout);
  });
}

}  // namespace apiproxy
