#!/usr/bin/env bash
# Sets up, builds and runs the whole test suite: unit tests, the plugin loader against
# broken plugins, and integration tests that drive the real binary, the real plugins, a
# real redis-server and the bundled mock upstream over loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# A unity build (source files compiled eight at a time) builds from scratch in about two
# thirds of the time: Asio's and Beast's templates are compiled once per batch instead of
# once per file. UNITY_BUILD=OFF for a build that recompiles one file per change.
BUILD_DIR=${BUILD_DIR:-build/ci} ./scripts/build.sh -DCMAKE_BUILD_TYPE=${BUILD_TYPE:-RelWithDebInfo} \
  -DAPIPROXY_BUILD_TESTS=ON -DCMAKE_UNITY_BUILD=${UNITY_BUILD:-ON} -DCMAKE_UNITY_BUILD_BATCH_SIZE=8 \
  ${CMAKE_ARGS:-}
build_dir=${BUILD_DIR:-build/ci}

# A shared Redis on a free loopback port for tests that just need one; tests that stop,
# restart or password-protect Redis start their own.
redis_dir=$(mktemp -d)
redis_pid=""
trap '[ -n "$redis_pid" ] && kill $redis_pid 2>/dev/null; wait 2>/dev/null; rm -rf "$redis_dir"' EXIT
for _ in $(seq 20); do
  port=$((20000 + RANDOM % 20000))
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$redis_dir" \
    --daemonize no >"$redis_dir/redis.log" 2>&1 &
  redis_pid=$!
  for _ in $(seq 30); do redis-cli -p "$port" ping >/dev/null 2>&1 && break 2; sleep 0.1; done
  kill "$redis_pid" 2>/dev/null || true  # port taken or slow start: try another
  redis_pid=""
done
[ -n "$redis_pid" ] || { echo "test.sh: could not start redis-server" >&2; exit 1; }
export APIPROXY_TEST_REDIS_URL="redis://127.0.0.1:$port/0"
# A -DAPIPROXY_SANITIZE=ON build: AddressSanitizer keeps up to 256 MB of freed memory in
# quarantine by default, which the tests that bound the gateway's RSS would read as growth.
export ASAN_OPTIONS=${ASAN_OPTIONS:-quarantine_size_mb=16}

cd "$build_dir"
ctest --output-on-failure -j "${TEST_JOBS:-2}" --timeout 300 "$@"
