// apiproxy-mock-upstream: a mock OpenAI / Azure OpenAI upstream for the gateway's tests,
// the quick-start demo and the load benchmarks. See options.cpp for the command line.
#include "mock_state.hpp"
#include "options.hpp"
#include "server.hpp"

#include <sys/resource.h>

#include <cstdio>
#include <exception>

namespace {

// Benchmarks hold thousands of concurrent connections: lift the soft descriptor limit
// to the hard one so the default 1024 is not the bottleneck.
void raise_fd_limit() {
    rlimit lim{};
    if (getrlimit(RLIMIT_NOFILE, &lim) == 0 && lim.rlim_cur < lim.rlim_max) {
        lim.rlim_cur = lim.rlim_max;
        setrlimit(RLIMIT_NOFILE, &lim);
    }
}

}  // namespace

int main(int argc, char** argv) {
    mock::Options options;
    std::string error;
    switch (mock::parse_options(argc, argv, options, error)) {
        case mock::ParseResult::help:
            std::fputs(mock::usage(argv[0]).c_str(), stdout);
            return 0;
        case mock::ParseResult::error:
            std::fprintf(stderr, "%s: %s\n(see --help)\n", argv[0], error.c_str());
            return 2;
        case mock::ParseResult::run:
            break;
    }
    raise_fd_limit();

    try {
        mock::MockState state(options.name, options.behaviour);
        mock::Server server(options, state);
        auto where = server.listen();
        // Tests read the port from this exact line.
        std::printf("listening on %s\n", where.c_str());
        std::fflush(stdout);
        server.run();
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s: %s\n", argv[0], e.what());
        return 1;
    }
    return 0;
}
