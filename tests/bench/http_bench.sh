#!/usr/bin/env bash
# HTTP benchmark of the gateway against the floor for one proxy hop.
#
# Starts the bundled mock upstream, an nginx reverse proxy in front of it (keep-alive
# upstream pool) and the gateway (one provider: the mock; one logical model), then runs
# wrk against each: direct-to-mock, nginx, gateway, non-streaming at 16 and 64
# connections; a streaming time-to-first-byte run; and 2,000 concurrent streams through
# the gateway while watching its resident memory. Loopback only; every run is bounded.
#
#   tests/bench/http_bench.sh [BUILD_DIR]       (default build/release; DURATION=10s)
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build/release}
duration=${DURATION:-10s}
for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || { echo "http_bench: needs $tool (apt-get install wrk nginx curl)" >&2; exit 1; }
done
[ -x "$build/bin/apiproxy" ] || { echo "http_bench: build first: BUILD_DIR=$build scripts/build.sh -DCMAKE_BUILD_TYPE=Release" >&2; exit 1; }
ulimit -n 65536 2>/dev/null || ulimit -n 8192

. tests/bench/bench_lib.sh
work=$bench_work

mock_port=$(free_port); nginx_port=$(free_port); gw_port=$(free_port)
start_mock "$build" "$mock_port"
start_nginx "$nginx_port" "$mock_port"
start_gateway "$build" "$gw_port" "$mock_port"
b64=$bench_b64
write_chat_script "$work/chat.lua"

# One wrk run: prints "requests/s p50 p99 cpu_us_per_request" for the target's process(es).
run() {  # url connections pids...
  local url=$1 conns=$2; shift 2
  measure "$label" "$url" "$conns" "$duration" "$work/chat.lua" "$@"
}

echo "machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//')"
echo "duration per run: $duration; wrk -t1; CPU column: target process CPU µs per request (mock excluded)"
printf '%-10s %6s  %10s  %8s  %8s  %8s\n' target conns req/s p50 p99 cpu_us/req
for conns in 16 64; do
  label=direct  run "http://127.0.0.1:$mock_port/v1/chat/completions" "$conns" "$mock_pid"
  # shellcheck disable=SC2046
  label=nginx   run "http://127.0.0.1:$nginx_port/v1/chat/completions" "$conns" $(nginx_workers)
  label=gateway run "http://127.0.0.1:$gw_port/v1/chat/completions" "$conns" "$gw_pid"
done

echo
mock_config() { curl -s -o /dev/null -X POST "http://127.0.0.1:$mock_port/__mock/config" -d "$1"; }
echo "streaming time to first byte (50 sequential streams, 5 chunks x 20 ms):"
mock_config '{"chunks":5,"chunk_interval_ms":20}'
for target in direct gateway; do
  url="http://127.0.0.1:$mock_port/v1/chat/completions"; model=gpt-4o-mini
  [ "$target" = gateway ] && url="http://127.0.0.1:$gw_port/v1/chat/completions" && model=bench
  for i in $(seq 50); do
    curl -s -N -o /dev/null -w '%{time_starttransfer}\n' "$url" -H "Authorization: Bearer $b64" -d "{\"model\":\"$model\",\"stream\":true,\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}]}"
  done | sort -n | awk -v t="$target" '{a[NR]=$1*1000} END {printf "  %-8s p50 %.2f ms  p99 %.2f ms\n", t, a[int(NR*0.5)], a[int(NR*0.99)]}'
done

echo
echo "2,000 concurrent streams through the gateway (10 chunks x 500 ms each):"
mock_config '{"chunks":10,"chunk_interval_ms":500}'
write_chat_script "$work/stream.lua" ',"stream":true'
rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$gw_pid/status")
wrk -t2 -c2000 -d12s --timeout 20s -s "$work/stream.lua" "http://127.0.0.1:$gw_port/v1/chat/completions" >"$work/streams.txt" 2>&1 &
wrk_pid=$!
peak=0; streams=0
for _ in $(seq 24); do
  sleep 0.5
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$gw_pid/status"); [ "$rss" -gt "$peak" ] && peak=$rss
  s=$(curl -s "http://127.0.0.1:$mock_port/__mock/stats" | sed -n 's/.*"active_streams":\([0-9]*\).*/\1/p'); [ "${s:-0}" -gt "$streams" ] && streams=$s
done
wait "$wrk_pid" || true
echo "  peak concurrent upstream streams seen: $streams"
echo "  gateway RSS: $((rss_before / 1024)) MB before, $((peak / 1024)) MB peak"
grep -E "requests in|Socket errors|Non-2xx" "$work/streams.txt" | sed 's/^/  wrk: /'
