#!/usr/bin/env bash
# Two builds of the gateway against each other and against nginx, in one run: the same
# mock upstream, nginx in front of it, and a gateway of each build, measured in
# alternating rounds (nginx, A, B, nginx, A, B, ...) so that a noisy, shared machine
# affects all three alike. Reports every round and the median req/s and CPU per request,
# with each gateway's ratio to nginx. Loopback only; every run is bounded.
#
#   tests/bench/ab_bench.sh BUILD_A BUILD_B    (Release builds; DURATION=8s ROUNDS=3 CONNS=16)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 2 ] || { echo "usage: $0 BUILD_A BUILD_B" >&2; exit 2; }
a=$1 b=$2
duration=${DURATION:-8s} rounds=${ROUNDS:-3} conns=${CONNS:-16}
for tool in wrk nginx curl; do
  command -v "$tool" >/dev/null || { echo "ab_bench: needs $tool (apt-get install wrk nginx curl)" >&2; exit 1; }
done
ulimit -n 65536 2>/dev/null || ulimit -n 8192
. tests/bench/bench_lib.sh

mock_port=$(free_port); nginx_port=$(free_port); a_port=$(free_port); b_port=$(free_port)
start_mock "$a" "$mock_port"
start_nginx "$nginx_port" "$mock_port"
start_gateway "$a" "$a_port" "$mock_port"; a_pid=$gw_pid
start_gateway "$b" "$b_port" "$mock_port"; b_pid=$gw_pid
write_chat_script "$bench_work/chat.lua"

echo "machine: $(nproc) cores; $rounds rounds of $duration, wrk -t1 -c$conns; A=$a B=$b"
printf '%-10s %6s  %10s  %8s  %8s  %8s\n' target conns req/s p50 p99 cpu_us/req
results=$bench_work/results
for _ in $(seq "$rounds"); do
  # shellcheck disable=SC2046
  measure nginx "http://127.0.0.1:$nginx_port/v1/chat/completions" "$conns" "$duration" "$bench_work/chat.lua" $(nginx_workers)
  measure A "http://127.0.0.1:$a_port/v1/chat/completions" "$conns" "$duration" "$bench_work/chat.lua" "$a_pid"
  measure B "http://127.0.0.1:$b_port/v1/chat/completions" "$conns" "$duration" "$bench_work/chat.lua" "$b_pid"
done | tee "$results"

median() { sort -n | awk '{v[NR]=$1} END {print (NR % 2) ? v[(NR+1)/2] : (v[NR/2] + v[NR/2+1]) / 2}'; }
echo
for t in nginx A B; do
  rps=$(awk -v t="$t" '$1==t {print $3}' "$results" | median)
  cpu=$(awk -v t="$t" '$1==t {print $6}' "$results" | median)
  echo "$t $rps $cpu"
done | awk '{rps[$1]=$2; cpu[$1]=$3} END {
  printf "median      req/s   cpu_us/req   req/s vs nginx   cpu vs nginx\n"
  for (i = 1; i <= 3; i++) { t = (i == 1 ? "nginx" : i == 2 ? "A" : "B")
    printf "%-6s %10.0f %12.0f %16.2f %14.2f\n", t, rps[t], cpu[t], rps[t] / rps["nginx"], cpu[t] / cpu["nginx"] } }'
