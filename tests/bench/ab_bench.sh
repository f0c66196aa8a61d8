#!/usr/bin/env bash
# Two builds of the gateway against each other and against nginx, in one run: the same
# mock upstream, nginx in front of it, and a gateway of each build, measured in
# alternating rounds (nginx, A, B, nginx, A, B, ...) so that a noisy, shared machine
# affects all three alike; pinned like http_bench.sh (servers on one core, wrk on another).
# Reports every round and the median per target, with each gateway's ratio to nginx and B's
# to A. Loopback only; every run is bounded.
#
#   tests/bench/ab_bench.sh BUILD_A BUILD_B    (Release builds; DURATION=8s ROUNDS=3 CONNS=16;
#                                               UPSTREAM_TLS=1 as in http_bench.sh)
set -euo pipefail
cd "$(dirname "$0")/../.."
[ $# -eq 2 ] || { echo "usage: $0 BUILD_A BUILD_B" >&2; exit 2; }
a=$1 b=$2
duration=${DURATION:-8s} rounds=${ROUNDS:-3} conns_list=${CONNS:-16}
. tests/bench/bench_lib.sh
bench_init

mock_port=$(free_port); nginx_port=$(free_port); a_port=$(free_port); b_port=$(free_port)
start_mock "$a" "$mock_port"
start_nginx "$nginx_port" "$mock_port"
start_gateway "$a" "$a_port"; a_pid=$gw_pid
start_gateway "$b" "$b_port"; b_pid=$gw_pid
write_chat_script "$bench_work/chat.lua"
add_target nginx "http://127.0.0.1:$nginx_port/v1/chat/completions" nginx_workers
add_target A "http://127.0.0.1:$a_port/v1/chat/completions" "echo $a_pid"
add_target B "http://127.0.0.1:$b_port/v1/chat/completions" "echo $b_pid"

echo "$rounds round(s) of $duration, wrk -t1, connections: $conns_list; A=$a B=$b"
run_rounds "$rounds" "$duration" "$conns_list" "$bench_work/chat.lua"
echo
echo "median of $rounds round(s):"
print_medians
print_ratios nginx A B
print_ratios A B
result_lines nginx A B
