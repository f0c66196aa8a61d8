#!/usr/bin/env bash
# Configures and builds into BUILD_DIR (default build/dev). Extra arguments go to CMake.
#   scripts/build.sh                                  # tests included
#   BUILD_DIR=build/release scripts/build.sh -DCMAKE_BUILD_TYPE=Release -DAPIPROXY_BUILD_TESTS=OFF
set -euo pipefail
cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build/dev}
cmake -S . -B "$build_dir" -G Ninja "$@" >/dev/null
cmake --build "$build_dir" -j "${JOBS:-$(nproc)}"
