// `apiproxy logical-model ...`: manage logical models in the store named by REDIS_URL,
// the scripted alternative to the spec's hand-written `redis-cli SET`.
#include <fstream>
#include <iostream>
#include <sstream>

#include <boost/asio/io_context.hpp>

#include "core/catalog/logical_model_catalog.hpp"
#include "core/config/settings.hpp"
#include "core/discovery/health_probe.hpp"
#include "core/model/json_codec.hpp"
#include "core/store/keys.hpp"
#include "server/cli/commands.hpp"

namespace apiproxy {

namespace {

// Runs one asynchronous store operation to completion on a private event loop.
template <class T, class Start>
Result<T> run_sync(Start start) {
  boost::asio::io_context io;
  std::optional<Result<T>> out;
  // The Redis connection keeps reading, so the loop never runs out of work: stop it.
  start(io, [&](Result<T> r) {
    out.emplace(std::move(r));
    io.stop();
  });
  io.run();
  if (!out) return Error{"the store did not answer"};
  return std::move(*out);
}

int usage() {
  std::cerr << "usage: apiproxy logical-model list | get ID | put FILE|- | delete ID\n";
  return 2;
}

int fail(const std::string& message) {
  std::cerr << "apiproxy logical-model: " << message << "\n";
  return 1;
}

}  // namespace

int cmd_logical_model(const std::vector<std::string>& args) {
  if (args.empty()) return usage();
  setup_logging("warn");
  auto settings = load_settings(Environment::load_process());
  if (!settings) return fail(settings.error());
  auto factory = make_store_factory(*settings);
  if (!factory) return fail(factory.error());
  if (!settings->uses_redis())
    std::cerr << "note: REDIS_URL is not set; this talks to a throw-away in-process store\n";
  auto with_store = [&](auto op) {
    return [&, op](boost::asio::io_context& io, auto done) {
      auto store = (*factory)(io);
      op(*store, [store, done](auto r) { done(std::move(r)); });
    };
  };
  const std::string& verb = args[0];
  if (verb == "list" && args.size() == 1) {
    auto r = run_sync<LogicalModelCatalog::Snapshot>(with_store([](Store& s, auto done) {
      load_logical_models(s, [done](auto snap, std::vector<std::string> problems) {
        for (const auto& p : problems) std::cerr << "invalid: " << p << "\n";
        done(std::move(snap));
      });
    }));
    if (!r) return fail(r.error());
    for (const auto& [id, m] : *r) std::cout << to_json(m) << "\n";
    return 0;
  }
  if (verb == "get" && args.size() == 2) {
    auto r = run_sync<Store::Value>(with_store([&](Store& s, auto done) { s.get(keys::logical_model(args[1]), done); }));
    if (!r) return fail(r.error());
    if (!*r) return fail("logical model '" + args[1] + "' not found");
    std::cout << **r << "\n";
    return 0;
  }
  if (verb == "delete" && args.size() == 2) {
    auto r = run_sync<bool>(with_store([&](Store& s, auto done) { s.del(keys::logical_model(args[1]), done); }));
    if (!r) return fail(r.error());
    if (!*r) return fail("logical model '" + args[1] + "' not found");
    std::cout << "deleted " << args[1] << "\n";
    return 0;
  }
  if (verb == "put" && args.size() == 2) {
    std::stringstream text;
    if (args[1] == "-") {
      text << std::cin.rdbuf();
    } else {
      std::ifstream in(args[1]);
      if (!in) return fail("cannot read " + args[1]);
      text << in.rdbuf();
    }
    auto m = logical_model_from_json(text.str());
    if (!m) return fail("invalid logical model: " + m.error());
    m->updated_at = epoch_seconds();
    std::string json = to_json(*m);
    auto r = run_sync<Unit>(with_store([&](Store& s, auto done) {
      s.set(keys::logical_model(m->logical_id), json, std::chrono::seconds(0), done);
    }));
    if (!r) return fail(r.error());
    std::cout << "stored " << keys::logical_model(m->logical_id) << "\n";
    return 0;
  }
  return usage();
}

}  // namespace apiproxy
