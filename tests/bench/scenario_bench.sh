#!/usr/bin/env bash
# Scenario benchmark: how each bundled routing strategy routes while an upstream misbehaves.
#
# Starts two mock upstreams, A and B (5 ms base latency each), and for every scenario a
# fresh gateway with providers a -> A, b -> B, cheap -> A and pricey -> B (twice cheap's
# price); then runs build/bin/apiproxy-scenario-bench (tests/bench/scenario_bench.cpp),
# which gives every strategy its own logical model over A and B and its own 8 closed-loop
# clients, all at once, for the scenario's timeline, while it makes A misbehave (latency,
# 503s, random failures, its process stopped). One RESULT line per scenario and strategy,
# each bound marked met / NOT MET; exit status 1 when a bound is not met. Scenarios,
# measures and bounds: docs/benchmarks.md, "Routing under faults". Loopback only; every
# process is bounded in time and stopped on exit.
#
#   tests/bench/scenario_bench.sh [BUILD_DIR] [--short] [--scenario NAME] [--strategy NAME]
#                                 [--clients N] [--report-only]
#     BUILD_DIR      default build/release (needs apiproxy, apiproxy-mock-upstream, the
#                    plugins and apiproxy-scenario-bench built)
#     --short        compressed timeline, loose bounds (CI: catches regressions only)
#     --scenario     one scenario (default: all, one after another); --strategy one strategy
#     --report-only  print everything, never fail on a bound
set -euo pipefail
cd "$(dirname "$0")/../.."

usage() { sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; }
build=build/release short=() scenario="" strategy=() driver_args=()
while [ $# -gt 0 ]; do
  case $1 in
    --short) short=(--short) ;;
    --scenario) scenario=${2:?--scenario needs a name}; shift ;;
    --strategy) strategy=(--strategies "${2:?--strategy needs a name}"); shift ;;
    --clients) driver_args+=(--clients "${2:?--clients needs a number}"); shift ;;
    --report-only) driver_args+=(--report-only) ;;
    -h | --help) usage; exit 0 ;;
    -*) echo "scenario_bench: unknown option $1 (--help)" >&2; exit 2 ;;
    *) build=$1 ;;
  esac
  shift
done
for bin in apiproxy apiproxy-mock-upstream apiproxy-scenario-bench; do
  [ -x "$build/bin/$bin" ] || {
    echo "scenario_bench: $build/bin/$bin is missing; build first:" >&2
    echo "  cmake --build $build --target apiproxy apiproxy-mock-upstream apiproxy_plugins apiproxy-scenario-bench" >&2
    exit 2
  }
done
driver=$build/bin/apiproxy-scenario-bench
all=$("$driver" --list)
if [ -n "$scenario" ]; then
  grep -qx -- "$scenario" <<<"$all" || { echo "scenario_bench: unknown scenario '$scenario'; known: $(tr '\n' ' ' <<<"$all")" >&2; exit 2; }
  all=$scenario
fi

. tests/bench/bench_lib.sh
command -v curl >/dev/null || bench_die "needs curl"
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=""
if git status --porcelain --untracked-files=no 2>/dev/null | grep -q .; then dirty=", uncommitted changes"; fi
echo "scenario benchmark: $build ($("$build/bin/apiproxy" --version 2>/dev/null | head -1); tree at $commit$dirty)"
echo "machine: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); not pinned: the gateway, both mocks and the driver share them"

# Distinct free ports for A and B.
port_a=$(free_port); port_b=$(free_port)
while [ "$port_b" = "$port_a" ]; do port_b=$(free_port); done

# A mock is started through a shell command that writes its pid file, so that the driver
# can stop and restart A on the same port (outage_refused) with the same commands, and the
# exit trap still finds the process it restarted (bench_pidfiles).
mock_start_cmd() {  # name port
  printf '%q --host 127.0.0.1 --port %s --name %s --latency-ms 5 >>%q 2>&1 & echo $! >%q' \
    "$build/bin/apiproxy-mock-upstream" "$2" "$1" "$bench_work/mock-$1.log" "$bench_work/mock-$1.pid"
}
for m in a b; do
  p=port_$m
  bench_pidfiles+=("$bench_work/mock-$m.pid")
  sh -c "$(mock_start_cmd "$m" "${!p}")"
  wait_http "http://127.0.0.1:${!p}/__mock/health" "$bench_work/mock-$m.log"
done
start_a=$(mock_start_cmd a "$port_a")
# shellcheck disable=SC2016  # expanded by the driver's shell, when it runs the command
stop_a=$(printf 'kill "$(cat %q)"' "$bench_work/mock-a.pid")

bench_b64=$("$build/bin/apiproxy" encode-token "$bench_token")
gw_pid=""
start_gateway_for() {  # scenario: a fresh gateway, so nothing learnt in one scenario leaks into the next
  gw_port=$(free_port)
  while [ "$gw_port" = "$port_a" ] || [ "$gw_port" = "$port_b" ]; do gw_port=$(free_port); done
  # shellcheck disable=SC2054  # the commas are LLM_PROVIDERS'
  local env=(APIPROXY_ENV_FILE=/dev/null "APIPROXY_AUTH_TOKEN=$bench_token" LOG_LEVEL=warn
    APIPROXY_SHUTDOWN_GRACE_SECONDS=1 LLM_PROVIDERS=a,b,cheap,pricey)
  local id port
  for id in a b cheap pricey; do
    case $id in a | cheap) port=$port_a ;; *) port=$port_b ;; esac
    env+=("LLM_PROVIDER_${id}_NAME=$id" "LLM_PROVIDER_${id}_BASE_URL=http://127.0.0.1:$port"
      "LLM_PROVIDER_${id}_API_KEY=not-required")
  done
  env+=(LLM_PROVIDER_cheap_COST_INPUT=1 LLM_PROVIDER_cheap_COST_OUTPUT=2
    LLM_PROVIDER_pricey_COST_INPUT=2 LLM_PROVIDER_pricey_COST_OUTPUT=4)
  [ "$1" = prices_slo ] && env+=(APIPROXY_STRATEGY_COST_FIRST_MAX_LATENCY_MS=100)
  gw_log=$bench_work/gateway-$1.log
  env "${env[@]}" "$build/bin/apiproxy" serve --host 127.0.0.1 --port "$gw_port" >>"$gw_log" 2>&1 &
  gw_pid=$!; bench_pids+=("$gw_pid")
  wait_http "http://127.0.0.1:$gw_port/health" "$gw_log"
}
stop_gateway() {
  kill "$gw_pid" 2>/dev/null || true
  wait "$gw_pid" 2>/dev/null || true
}

results=$bench_work/results
failed_runs=()
for sc in $all; do
  echo
  start_gateway_for "$sc"
  set +e
  # The driver bounds every request (10 s) and its own timeline (<= 44 s); this bounds the rest.
  timeout --foreground -k 5 180 "$driver" --gateway "http://127.0.0.1:$gw_port" --token "$bench_b64" \
    --mock-a "http://127.0.0.1:$port_a" --mock-b "http://127.0.0.1:$port_b" --scenario "$sc" \
    --stop-a "$stop_a" --start-a "$start_a" "${strategy[@]}" "${short[@]}" "${driver_args[@]}" | tee -a "$results"
  rc=${PIPESTATUS[0]}
  set -e
  alive=1; kill -0 "$gw_pid" 2>/dev/null || alive=0
  if [ "$rc" -ge 2 ] || [ "$alive" = 0 ]; then
    failed_runs+=("$sc")
    echo "scenario $sc did not complete (driver exit status $rc$([ "$alive" = 0 ] && echo ", the gateway died")); gateway log:" >&2
    tail -n 30 "$gw_log" >&2
  elif [ "$rc" = 1 ]; then
    # What the gateway had to say (at LOG_LEVEL=warn), but for the in-process store notice.
    notes=$(grep -v 'REDIS_URL is not set' "$gw_log" || true)
    if [ -n "$notes" ]; then
      echo "  gateway log ($(wc -l <<<"$notes") line(s)), last ones:"; tail -n 5 <<<"$notes" | sed 's/^/  | /'
    fi
  fi
  stop_gateway
done

echo
total=$(awk '/^SUMMARY/ { for (i = 1; i <= NF; i++) if ($i ~ /^bounds=/) n += substr($i, 8) } END { print n + 0 }' "$results")
missed=$(awk '/^SUMMARY/ { for (i = 1; i <= NF; i++) if ($i ~ /^not_met=/) n += substr($i, 9) } END { print n + 0 }' "$results")
awk '/^RESULT/ && / NOT MET/ {
  sc = $2; st = $3; sub(/^scenario=/, "", sc); sub(/^strategy=/, "", st)
  b = $0; sub(/^[^|]*\| /, "", b); n = split(b, part, "; "); out = ""
  for (i = 1; i <= n; i++) if (part[i] ~ / NOT MET$/) { sub(/ NOT MET$/, "", part[i]); out = out (out == "" ? "" : ", ") part[i] }
  print "  not met: " sc " " st ": " out }' "$results"
summary="scenario benchmark$([ ${#short[@]} -gt 0 ] && echo " (short)"): $(wc -w <<<"$all") scenario(s), $((total - missed)) of $total bounds met"
[ ${#failed_runs[@]} -gt 0 ] && summary+="; did not complete: ${failed_runs[*]}"
echo "$summary (took ${SECONDS}s)"
if [ ${#failed_runs[@]} -gt 0 ]; then exit 2; fi
report_only=0
for a in "${driver_args[@]}"; do [ "$a" = --report-only ] && report_only=1; done
[ "$missed" = 0 ] || [ "$report_only" = 1 ] || exit 1
