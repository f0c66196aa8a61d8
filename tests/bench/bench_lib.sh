# Shared by the HTTP benchmark scripts (sourced): ports, processes, nginx in front of the
# mock, a gateway on the mock, and one measured wrk run. Loopback only; every run bounded.

bench_pids=()
bench_work=$(mktemp -d)
bench_cleanup() {
  for p in "${bench_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  rm -rf "$bench_work"
}
trap bench_cleanup EXIT

# A port nothing listens on and nothing recently used (bash has no bind(0)).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    ss -Htan "( sport = :$p )" 2>/dev/null | grep -q . && continue
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
wait_http() { for _ in $(seq 100); do curl -s -o /dev/null "$1" && return 0; sleep 0.05; done; echo "no answer from $1" >&2; exit 1; }
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

start_mock() {  # build port
  "$1/bin/apiproxy-mock-upstream" --host 127.0.0.1 --port "$2" --name bench --chunks 5 >/dev/null 2>&1 &
  bench_pids+=($!); mock_pid=$!
  wait_http "http://127.0.0.1:$2/__mock/health"
}

start_nginx() {  # port upstream_port
  mkdir -p "$bench_work/nginx/logs"
  cat >"$bench_work/nginx/nginx.conf" <<CONF
worker_processes auto;
error_log $bench_work/nginx/logs/error.log warn;
pid $bench_work/nginx/nginx.pid;
events { worker_connections 16384; }
http {
  access_log off;
  upstream mock { server 127.0.0.1:$2; keepalive 128; }
  server {
    listen 127.0.0.1:$1 reuseport;
    location / {
      proxy_pass http://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
    }
  }
}
CONF
  nginx -p "$bench_work/nginx" -c "$bench_work/nginx/nginx.conf" -g 'daemon off;' &
  bench_pids+=($!); nginx_pid=$!
  wait_http "http://127.0.0.1:$1/__mock/health"
}
nginx_workers() { pgrep -P "$nginx_pid" | tr '\n' ' '; }

bench_token=bench-token
# Starts a gateway of `build` on `port` in front of the mock, with the logical model
# "bench"; sets gw_pid and bench_b64 (the client credential).
start_gateway() {  # build port mock_port
  bench_b64=$("$1/bin/apiproxy" encode-token "$bench_token")
  APIPROXY_ENV_FILE=/dev/null APIPROXY_AUTH_TOKEN=$bench_token LOG_LEVEL=warn \
  LLM_PROVIDERS=mock LLM_PROVIDER_mock_NAME=mock LLM_PROVIDER_mock_BASE_URL="http://127.0.0.1:$3" \
  LLM_PROVIDER_mock_API_KEY=not-required \
    "$1/bin/apiproxy" serve --host 127.0.0.1 --port "$2" 2>>"$bench_work/gateway-$2.log" &
  bench_pids+=($!); gw_pid=$!
  wait_http "http://127.0.0.1:$2/health"
  curl -s -o /dev/null -X PUT "http://127.0.0.1:$2/logical-models/bench" -H "Authorization: Bearer $bench_b64" \
    -d '{"upstreams":[{"provider_id":"mock","model_id":"gpt-4o-mini","endpoint":"/v1/chat/completions","base_weight":1}]}'
}

write_chat_script() {  # file [extra body fields]
  cat >"$1" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"bench"${2:-},"messages":[{"role":"user","content":"benchmark me"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $bench_b64"
LUA
}

# One wrk run; prints "label conns req/s p50 p99 cpu_us/req" with the CPU of the target's
# process(es).
measure() {  # label url connections duration script pids...
  local label=$1 url=$2 conns=$3 duration=$4 script=$5; shift 5
  local before=0 after=0 p out
  for p in "$@"; do before=$((before + $(cpu_ticks "$p"))); done
  out=$(wrk -t1 -c"$conns" -d"$duration" --latency -s "$script" "$url" 2>&1)
  for p in "$@"; do after=$((after + $(cpu_ticks "$p"))); done
  local rps p50 p99 reqs hz
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(awk '$1=="50%" {print $2}' <<<"$out")
  p99=$(awk '$1=="99%" {print $2}' <<<"$out")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  hz=$(getconf CLK_TCK)
  printf '%-10s %6s  %10s  %8s  %8s  %8s\n' "$label" "$conns" "$rps" "$p50" "$p99" \
    $(( (after - before) * 1000000 / hz / (reqs > 0 ? reqs : 1) ))
}
