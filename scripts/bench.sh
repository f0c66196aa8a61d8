#!/usr/bin/env bash
# The HTTP benchmark in one command: configures build/release (Release, no tests) if it is
# not there yet, rebuilds the gateway, the mock upstream and the plugins, then runs
# tests/bench/http_bench.sh on it (gateway vs nginx vs direct; see that script).
#   scripts/bench.sh                      (DURATION=8s ROUNDS=3; UPSTREAM_TLS=1 for HTTPS upstream)
#   BUILD_DIR=build/other scripts/bench.sh
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build/release}
[ -f "$build_dir/CMakeCache.txt" ] ||
  cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DAPIPROXY_BUILD_TESTS=OFF >/dev/null
cmake --build "$build_dir" -j "${JOBS:-$(nproc)}" --target apiproxy apiproxy-mock-upstream apiproxy_plugins >/dev/null
exec tests/bench/http_bench.sh "$build_dir"
