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

work=$(mktemp -d)
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

free_port() {  # a port nothing listens on (bash has no bind(0))
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
wait_http() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done; echo "no answer from $1" >&2; exit 1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

mock_port=$(free_port); nginx_port=$(free_port); gw_port=$(free_port)
"$build/bin/apiproxy-mock-upstream" --host 127.0.0.1 --port "$mock_port" --name bench --chunks 5 >/dev/null 2>&1 &
pids+=($!); mock_pid=$!

mkdir -p "$work/nginx/logs"
cat >"$work/nginx/nginx.conf" <<CONF
worker_processes auto;
error_log $work/nginx/logs/error.log warn;
pid $work/nginx/nginx.pid;
events { worker_connections 16384; }
http {
  access_log off;
  upstream mock { server 127.0.0.1:$mock_port; keepalive 128; }
  server {
    listen 127.0.0.1:$nginx_port reuseport;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
CONF
nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' &
pids+=($!); nginx_pid=$!

token=bench-token
b64=$("$build/bin/apiproxy" encode-token "$token")
APIPROXY_ENV_FILE=/dev/null APIPROXY_AUTH_TOKEN=$token LOG_LEVEL=warn \
LLM_PROVIDERS=mock LLM_PROVIDER_mock_NAME=mock LLM_PROVIDER_mock_BASE_URL="http://127.0.0.1:$mock_port" \
LLM_PROVIDER_mock_API_KEY=not-required \
  "$build/bin/apiproxy" serve --host 127.0.0.1 --port "$gw_port" 2>"$work/gateway.log" &
pids+=($!); gw_pid=$!

wait_http "http://127.0.0.1:$mock_port/__mock/health"
wait_http "http://127.0.0.1:$nginx_port/__mock/health"
wait_http "http://127.0.0.1:$gw_port/health"
curl -s -o /dev/null -X PUT "http://127.0.0.1:$gw_port/logical-models/bench" -H "Authorization: Bearer $b64" \
  -d '{"upstreams":[{"provider_id":"mock","model_id":"gpt-4o-mini","endpoint":"/v1/chat/completions","base_weight":1}]}'

cat >"$work/chat.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"bench","messages":[{"role":"user","content":"benchmark me"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $b64"
LUA

# One wrk run: prints "requests/s p50 p99 cpu_us_per_request" for the target's process(es).
run() {  # url connections pids...
  local url=$1 conns=$2; shift 2
  local before=0 after=0 p
  for p in "$@"; do before=$((before + $(cpu_ticks "$p"))); done
  local out
  out=$(wrk -t1 -c"$conns" -d"$duration" --latency -s "$work/chat.lua" "$url" 2>&1)
  for p in "$@"; do after=$((after + $(cpu_ticks "$p"))); done
  local rps p50 p99 reqs
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  local hz; hz=$(getconf CLK_TCK)
  local cpu_us=$(( (after - before) * 1000000 / hz / (reqs > 0 ? reqs : 1) ))
  printf '%-8s %6s  %10s  %8s  %8s  %8s\n' "$label" "$conns" "$rps" "$p50" "$p99" "$cpu_us"
}

nginx_workers() { pgrep -P "$nginx_pid" | tr '\n' ' '; }

echo "machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//')"
echo "duration per run: $duration; wrk -t1; CPU column: target process CPU µs per request (mock excluded)"
printf '%-8s %6s  %10s  %8s  %8s  %8s\n' target conns req/s p50 p99 cpu_us/req
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
cat >"$work/stream.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"bench","stream":true,"messages":[{"role":"user","content":"long stream"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $b64"
LUA
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
