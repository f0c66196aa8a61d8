#!/usr/bin/env bash
# HTTP benchmark of the gateway against the floor for one proxy hop.
#
# Starts the bundled mock upstream, an nginx reverse proxy in front of it (keep-alive
# upstream pool) and the gateway (one provider: the mock; one logical model). With 2 cores
# or more, the mock and the proxy under test share one core and wrk runs on another.
#   1. Throughput: wrk -t1 against direct-to-mock, nginx and the gateway, non-streaming, at
#      16 and 64 connections, in alternating rounds; the median of the rounds per target:
#      req/s, CPU µs per request of the target (nginx: its workers; the mock excluded
#      except for "direct"), p50/p99 latency, RSS after the run, preemptions per request;
#      then gateway / nginx.
#   2. Streaming time to first byte, direct vs gateway (sequential, interleaved streams).
#   3. 2,000 concurrent streams through the gateway while watching its resident memory.
# Ends with "RESULT key=value ..." lines for docs/benchmarks.md. Loopback only; every run
# is bounded; every process started is stopped on exit.
#
#   tests/bench/http_bench.sh [BUILD_DIR]       (default build/release)
#   DURATION=8s ROUNDS=3 CONNS="16 64" STREAMS=50   defaults
#   UPSTREAM_TLS=1   the mock serves HTTPS (a test CA made here with openssl); nginx and the
#                    gateway verify it and keep connections to it alive
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
duration=${DURATION:-8s} rounds=${ROUNDS:-3} conns_list=${CONNS:-16 64} streams=${STREAMS:-50}
if [ ! -x "$build/bin/apiproxy" ] || [ ! -x "$build/bin/apiproxy-mock-upstream" ]; then
  echo "http_bench: build first (or use scripts/bench.sh): cmake --build $build --target apiproxy apiproxy-mock-upstream apiproxy_plugins" >&2
  exit 1
fi

. tests/bench/bench_lib.sh
bench_init
tls=${UPSTREAM_TLS:-0}
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "build: $build ($("$build/bin/apiproxy" --version 2>/dev/null | head -1); tree at $commit when started)"
echo "upstream: $([ "$tls" = 1 ] && echo "HTTPS (test CA; nginx and gateway verify it)" || echo "plain HTTP")"

mock_port=$(free_port); nginx_port=$(free_port); gw_port=$(free_port)
start_mock "$build" "$mock_port"
start_nginx "$nginx_port" "$mock_port"
start_gateway "$build" "$gw_port"
write_chat_script "$bench_work/chat.lua"
add_target direct  "$mock_url/v1/chat/completions"                 "echo $mock_pid"
add_target nginx   "http://127.0.0.1:$nginx_port/v1/chat/completions" nginx_workers
add_target gateway "http://127.0.0.1:$gw_port/v1/chat/completions"   "echo $gw_pid"

echo
echo "1. throughput: $rounds round(s) of $duration per target and concurrency, alternating; wrk -t1"
echo "   cpu_us/req: target process(es) utime+stime / requests (nginx: workers summed; direct: the mock)"
run_rounds "$rounds" "$duration" "$conns_list" "$bench_work/chat.lua"
echo
echo "median of $rounds round(s):"
print_medians
print_ratios nginx gateway

# Streaming time to first byte, direct vs gateway: one curl (on the load core) that
# alternates between the two URLs over two kept-alive connections, so that neither connect
# nor TLS handshake nor curl's start-up counts; the first pair (which connects) is dropped.
# Writes ms to ttfb-direct and ttfb-gateway; counts reconnections in ttfb-connects.
ttfb_runs() {  # direct_url gateway_url
  local args=() _
  for _ in $(seq $((streams + 1))); do args+=(-o /dev/null "$1" -o /dev/null "$2"); done
  "${load_pin[@]}" curl -s -N --max-time 10 "${bench_curl[@]}" -H "Authorization: Bearer $bench_b64" \
    -H "Content-Type: application/json" -d '{"model":"bench","stream":true,"messages":[{"role":"user","content":"hi"}]}' \
    -w '%{url_effective} %{time_starttransfer} %{num_connects}\n' "${args[@]}" |
    awk -v d="$1" -v dir="$bench_work" 'NR > 2 {
      f = dir "/ttfb-" (($1 == d) ? "direct" : "gateway"); printf "%.3f\n", $2 * 1000 > f; c += $3 }
      END { print c + 0 > (dir "/ttfb-connects") }'
}
echo
echo "2. streaming time to first byte: $streams streams each, sequential, direct and gateway alternating on"
echo "   kept-alive connections (5 chunks x 20 ms):"
mock_config '{"chunks":5,"chunk_interval_ms":20}'
ttfb_runs "$mock_url/v1/chat/completions" "http://127.0.0.1:$gw_port/v1/chat/completions"
declare -A ttfb50 ttfb99
for t in direct gateway; do
  [ "$(wc -l <"$bench_work/ttfb-$t")" -eq "$streams" ] || bench_die "time to first byte: expected $streams samples for $t"
  ttfb50[$t]=$(median <"$bench_work/ttfb-$t"); ttfb99[$t]=$(percentile 99 <"$bench_work/ttfb-$t")
  printf '   %-8s p50 %7.3f ms   p99 %7.3f ms\n' "$t" "${ttfb50[$t]}" "${ttfb99[$t]}"
done
ttfb_overhead=$(awk -v g="${ttfb50[gateway]}" -v d="${ttfb50[direct]}" 'BEGIN {printf "%.3f", g - d}')
echo "   gateway overhead at p50: $ttfb_overhead ms"
[ "$(cat "$bench_work/ttfb-connects")" = 0 ] ||
  echo "   WARNING: $(cat "$bench_work/ttfb-connects") of the measured streams opened a new connection"

echo
echo "3. 2,000 concurrent streams through the gateway (10 chunks x 500 ms each):"
mock_config '{"chunks":10,"chunk_interval_ms":500}'
write_chat_script "$bench_work/stream.lua" ',"stream":true'
rss_before=$(rss_kb "$gw_pid")
"${load_pin[@]}" wrk -t2 -c2000 -d12s --timeout 20s -s "$bench_work/stream.lua" \
  "http://127.0.0.1:$gw_port/v1/chat/completions" >"$bench_work/streams.txt" 2>&1 &
wrk_pid=$!; bench_pids+=("$wrk_pid")
peak=0; max_streams=0
for _ in $(seq 24); do
  sleep 0.5
  rss=$(rss_kb "$gw_pid"); [ "$rss" -gt "$peak" ] && peak=$rss
  s=$(mock_active_streams); [ "${s:-0}" -gt "$max_streams" ] && max_streams=$s
done
wait "$wrk_pid" || true
stream_errors=$(awk '/Socket errors/ {gsub(",", ""); n += $4 + $6 + $8 + $10} /Non-2xx/ {n += $NF} END {print n + 0}' "$bench_work/streams.txt")
echo "   peak concurrent upstream streams seen: $max_streams"
echo "   gateway RSS: $((rss_before / 1024)) MB before, $((peak / 1024)) MB peak"
[ "$max_streams" -ge 2000 ] ||
  echo "   WARNING: never 2,000 streams at once (at most $max_streams): the peak RSS understates"
grep -E "requests in|Socket errors|Non-2xx" "$bench_work/streams.txt" | sed 's/^/   wrk: /'

echo
echo "machine-readable summary:"
echo "RESULT kind=setup build=$build cores=$(nproc) pinned=$([ "${#srv_pin[@]}" -gt 0 ] && echo 1 || echo 0) rounds=$rounds duration=$duration upstream_tls=$tls git=$commit"
result_lines nginx gateway
echo "RESULT kind=ttfb streams=$streams direct_p50_ms=${ttfb50[direct]} gateway_p50_ms=${ttfb50[gateway]} overhead_p50_ms=$ttfb_overhead direct_p99_ms=${ttfb99[direct]} gateway_p99_ms=${ttfb99[gateway]}"
echo "RESULT kind=streams target=gateway conns=2000 peak_upstream_streams=$max_streams rss_before_mb=$((rss_before / 1024)) rss_peak_mb=$((peak / 1024)) errors=$stream_errors"
echo "(took ${SECONDS}s)"
