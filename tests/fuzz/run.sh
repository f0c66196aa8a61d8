#!/usr/bin/env bash
# Builds the libFuzzer harnesses (tests/fuzz, clang + ASan + UBSan) and runs each one for
# SECONDS (default 45) on a temporary copy of its seed corpus, so the repository is never
# written to. Prints one line per harness with its number of executions, and exits non-zero
# on any finding (crash, leak, timeout, out-of-memory, sanitizer report), after printing
# the reproducer.
#
#   tests/fuzz/run.sh [SECONDS]
#
# Environment: FUZZ_BUILD_DIR (build/fuzz), JOBS (build jobs, default: CPUs), FUZZ_JOBS
# (harnesses run at once, default: CPUs), FUZZ_ARTIFACT_DIR (where reproducers are kept,
# default FUZZ_BUILD_DIR/artifacts), FUZZERS (a space-separated subset, e.g. "dotenv").
# A reproducer runs again with: FUZZ_BUILD_DIR/bin/fuzz_<name> <file>.
set -euo pipefail
cd "$(dirname "$0")/../.."

seconds=${1:-45}
build_dir=${FUZZ_BUILD_DIR:-build/fuzz}
cpus=$(nproc)
jobs=${JOBS:-$cpus}
fuzz_jobs=${FUZZ_JOBS:-$cpus}
artifact_dir=${FUZZ_ARTIFACT_DIR:-$build_dir/artifacts}
fuzzers=${FUZZERS:-"http_request client_body upstream_response dotenv logical_model_json adapter_parse_models usage translate json_scan"}

# clang and the libraries come from scripts/install-deps.sh, which installs only what is
# missing (nothing at all on a machine that ran scripts/test.sh).
./scripts/install-deps.sh

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_C_COMPILER=clang -DCMAKE_CXX_COMPILER=clang++ \
  -DAPIPROXY_BUILD_FUZZERS=ON -DAPIPROXY_BUILD_TESTS=OFF -DAPIPROXY_BUILD_MOCK=OFF \
  -DAPIPROXY_BUILD_BENCHMARKS=OFF -DCMAKE_UNITY_BUILD=ON -DCMAKE_UNITY_BUILD_BATCH_SIZE=8 >/dev/null
cmake --build "$build_dir" -j "$jobs" --target apiproxy_fuzzers

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$artifact_dir"

# Halt on the first UBSan report with its stack; leaks are findings too.
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0:symbolize=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:symbolize=1}

# Runs one harness; its log and artifacts stay in $work/<name>/.
run_one() {
  local name=$1 dir=$work/$1
  mkdir -p "$dir/corpus" "$dir/artifacts"
  cp -R "tests/fuzz/corpus/$name/." "$dir/corpus/"
  local dict=()
  [ -f "tests/fuzz/$name.dict" ] && dict=(-dict="tests/fuzz/$name.dict")
  local status=0
  "$build_dir/bin/fuzz_$name" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
    -print_final_stats=1 -artifact_prefix="$dir/artifacts/" "${dict[@]}" "$dir/corpus" \
    >"$dir/log" 2>&1 || status=$?
  echo "$status" >"$dir/status"
}

# Runs the harnesses, FUZZ_JOBS at a time.
running=0
for name in $fuzzers; do
  run_one "$name" &
  running=$((running + 1))
  if [ "$running" -ge "$fuzz_jobs" ]; then
    wait -n
    running=$((running - 1))
  fi
done
wait

# One line per harness; the details of each finding after them.
failed=()
for name in $fuzzers; do
  dir=$work/$name
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log" | tail -n 1)
  status=$(cat "$dir/status")
  findings=$(find "$dir/artifacts" -type f ! -name 'slow-unit-*' | wc -l)
  if [ "$status" -eq 0 ] && [ "$findings" -eq 0 ]; then
    echo "fuzz_$name: ok, ${execs:-0} executions in ${seconds} s"
  else
    echo "fuzz_$name: FAILED (exit $status), ${execs:-0} executions"
    failed+=("$name")
  fi
done

for name in "${failed[@]}"; do
  dir=$work/$name
  echo
  echo "=================== fuzz_$name: finding ==================="
  # The report: from the sanitizer's or libFuzzer's first line of it on (else the log's end).
  report=$(awk '/^==[0-9]+==|runtime error:|^ALARM|^fuzz_[a-z_]+: /{p=1} p' "$dir/log" | head -n 80)
  [ -n "$report" ] || report=$(tail -n 40 "$dir/log")
  echo "$report"
  for artifact in "$dir"/artifacts/*; do
    [ -f "$artifact" ] || continue
    case "$(basename "$artifact")" in slow-unit-*) continue ;; esac
    cp "$artifact" "$artifact_dir/fuzz_$name-$(basename "$artifact")"
    echo "reproducer: $artifact_dir/fuzz_$name-$(basename "$artifact") ($(wc -c <"$artifact") bytes)"
    echo "  run it again with: $build_dir/bin/fuzz_$name $artifact_dir/fuzz_$name-$(basename "$artifact")"
    od -A d -c "$artifact" | head -n 40
  done
done

[ ${#failed[@]} -eq 0 ] || { echo; echo "fuzz: findings in: ${failed[*]}" >&2; exit 1; }
