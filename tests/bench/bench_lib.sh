# shellcheck shell=bash disable=SC2034  # (mock_pid, gw_pid, ... are for the sourcing script)
# Shared by the HTTP benchmark scripts (sourced): core pinning, ports, processes (the mock
# upstream, nginx in front of it, gateways on it), optional TLS to the upstream, one
# measured wrk run, alternating rounds and their medians. Loopback only; every run bounded.
#
# A script sources this file, calls bench_init, starts its servers, registers targets with
# add_target, then run_rounds, print_medians and print_ratios.

bench_pids=()
# Pid files of processes the script did not start itself (so not its children): e.g. a
# mock that a benchmark program stops and restarts through a shell command. Killed too.
bench_pidfiles=()
bench_work=$(mktemp -d)
bench_cleanup() {
  local p
  for p in "${bench_pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${bench_pidfiles[@]}"; do if [ -s "$p" ]; then kill "$(cat "$p")" 2>/dev/null || true; fi; done
  wait 2>/dev/null || true
  rm -rf "$bench_work"
}
trap bench_cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bench_die() { echo "$(basename "$0"): $*" >&2; exit 1; }

# Checks the tools, raises the descriptor limit and decides the pinning:
#   srv_pin   prefix for the servers (mock and proxy under test share one core)
#   load_pin  prefix for wrk and curl (another core)
#   server_workers  nginx worker_processes / APIPROXY_WORKERS (1 when pinned, 0 = auto)
#   pin_note  one line that says what was done
bench_init() {
  local tool
  for tool in wrk nginx curl; do
    command -v "$tool" >/dev/null || bench_die "needs $tool (apt-get install wrk nginx curl openssl util-linux)"
  done
  ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 8192 2>/dev/null || true
  local cpus
  # The cores this process may run on (Cpus_allowed_list, e.g. "0-1" or "0,2-3").
  read -r -a cpus <<<"$(awk '/^Cpus_allowed_list/ {print $2}' /proc/self/status | tr ',' '\n' |
    awk -F- '{ last = ($2 == "") ? $1 : $2; for (i = $1; i <= last; i++) printf "%d ", i }')"
  if [ "${#cpus[@]}" -ge 2 ] && command -v taskset >/dev/null; then
    srv_pin=(taskset -c "${cpus[0]}"); load_pin=(taskset -c "${cpus[1]}"); server_workers=1
    pin_note="pinned: mock + proxy under test on core ${cpus[0]} (1 worker each), wrk/curl on core ${cpus[1]}"
  else
    srv_pin=(); load_pin=(); server_workers=0
    pin_note="unpinned: ${#cpus[@]} core(s) available (pinning needs 2 and taskset); servers use their default worker counts"
  fi
  echo "machine: $(nproc) cores, $(awk -F: '/model name/ {print $2; exit}' /proc/cpuinfo | sed 's/^ *//'); load average $(cut -d' ' -f1-3 /proc/loadavg)"
  echo "$pin_note"
}

# A port nothing listens on and nothing recently used (bash has no bind(0)).
free_port() {
  local p
  while :; do
    p=$((20000 + RANDOM % 30000))
    ss -Htan "( sport = :$p )" 2>/dev/null | grep -q . && continue
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return; }
  done
}
# Waits (at most ~10 s) for an answer from url; on failure shows the end of log.
wait_http() {  # url [log]
  local _
  for _ in $(seq 100); do
    curl -s --max-time 1 "${bench_curl[@]}" -o /dev/null "$1" && return 0
    sleep 0.1
  done
  echo "no answer from $1" >&2
  [ -n "${2:-}" ] && [ -f "$2" ] && tail -n 20 "$2" >&2
  exit 1
}
# utime + stime in clock ticks (fields 14 and 15; cut after the ")" that ends comm).
cpu_ticks() { sed 's/.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# Times the process's threads were preempted (switched out while still runnable). A proxy
# that shares a core with the upstream is preempted by it; many per request means its work
# is not batched (docs/benchmarks.md).
preemptions() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^nonvoluntary_ctxt_switches/ {n += $2} END {print n + 0}'; }

# --- the upstream: the bundled mock, over HTTP or (UPSTREAM_TLS=1) HTTPS -----------------
# Sets mock_url (scheme://host:port, what clients use) and, with TLS, bench_ca (the test
# CA's certificate) and bench_curl (curl options that make curl trust it; every curl here
# passes them, harmless for plain HTTP).
bench_curl=()
make_test_certs() {  # dir: a CA and a server certificate for localhost / 127.0.0.1
  local d=$1
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
    -subj "/CN=apiproxy bench CA" -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes \
    -subj "/CN=localhost" -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf '%s\n' "subjectAltName=DNS:localhost,IP:127.0.0.1" "basicConstraints=critical,CA:FALSE" \
    "keyUsage=critical,digitalSignature" "extendedKeyUsage=serverAuth" >"$d/server.ext"
  openssl x509 -req -days 1 -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
    -extfile "$d/server.ext" -out "$d/server.pem" 2>/dev/null
  openssl verify -CAfile "$d/ca.pem" "$d/server.pem" >/dev/null || bench_die "test certificate generation failed"
}
start_mock() {  # build port
  local tls_args=()
  mock_url="http://127.0.0.1:$2"
  if [ "${UPSTREAM_TLS:-0}" = 1 ]; then
    "$1/bin/apiproxy-mock-upstream" --help | grep -q -- --tls-cert ||
      bench_die "UPSTREAM_TLS=1 needs an apiproxy-mock-upstream with --tls-cert/--tls-key ($1/bin/apiproxy-mock-upstream --help lists no such flags; rebuild it)"
    command -v openssl >/dev/null || bench_die "UPSTREAM_TLS=1 needs openssl"
    mkdir -p "$bench_work/tls"; make_test_certs "$bench_work/tls"
    bench_ca=$bench_work/tls/ca.pem
    tls_args=(--tls-cert "$bench_work/tls/server.pem" --tls-key "$bench_work/tls/server.key")
    mock_url="https://localhost:$2"; bench_curl=(--cacert "$bench_ca")
  fi
  "${srv_pin[@]}" "$1/bin/apiproxy-mock-upstream" --host 127.0.0.1 --port "$2" --name bench --chunks 5 \
    "${tls_args[@]}" >"$bench_work/mock.log" 2>&1 &
  bench_pids+=($!); mock_pid=$!
  wait_http "$mock_url/__mock/health" "$bench_work/mock.log"
}
mock_config() { curl -s --max-time 5 "${bench_curl[@]}" -o /dev/null -X POST "$mock_url/__mock/config" -d "$1"; }
mock_active_streams() {
  curl -s --max-time 1 "${bench_curl[@]}" "$mock_url/__mock/stats" | sed -n 's/.*"active_streams":\([0-9]*\).*/\1/p'
}

start_nginx() {  # port upstream_port
  local tls=""
  if [ "${UPSTREAM_TLS:-0}" = 1 ]; then
    tls="proxy_ssl_server_name on; proxy_ssl_name localhost; proxy_ssl_verify on;
      proxy_ssl_trusted_certificate $bench_ca; proxy_ssl_session_reuse on;"
  fi
  mkdir -p "$bench_work/nginx/logs"
  cat >"$bench_work/nginx/nginx.conf" <<CONF
worker_processes $( [ "$server_workers" = 0 ] && echo auto || echo "$server_workers" );
error_log $bench_work/nginx/logs/error.log warn;
pid $bench_work/nginx/nginx.pid;
events { worker_connections 16384; }
http {
  access_log off;
  upstream mock { server 127.0.0.1:$2; keepalive 128; }
  server {
    listen 127.0.0.1:$1 reuseport;
    location / {
      proxy_pass ${mock_url%%:*}://mock;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      $tls
    }
  }
}
CONF
  "${srv_pin[@]}" nginx -p "$bench_work/nginx" -c "$bench_work/nginx/nginx.conf" -g 'daemon off;' &
  bench_pids+=($!); nginx_pid=$!
  wait_http "http://127.0.0.1:$1/__mock/health" "$bench_work/nginx/logs/error.log"
}
nginx_workers() { pgrep -P "$nginx_pid" | tr '\n' ' '; }

bench_token=bench-token
# Starts a gateway of `build` on `port` in front of the mock, with the logical model
# "bench"; sets gw_pid and bench_b64 (the client credential).
start_gateway() {  # build port
  local log=$bench_work/gateway-$2.log
  bench_b64=$("$1/bin/apiproxy" encode-token "$bench_token")
  local gw_env=(APIPROXY_ENV_FILE=/dev/null "APIPROXY_AUTH_TOKEN=$bench_token" LOG_LEVEL=warn
    "APIPROXY_WORKERS=$server_workers" LLM_PROVIDERS=mock LLM_PROVIDER_mock_NAME=mock
    "LLM_PROVIDER_mock_BASE_URL=$mock_url" LLM_PROVIDER_mock_API_KEY=not-required)
  [ -n "${bench_ca:-}" ] && gw_env+=(APIPROXY_TLS_VERIFY=true "SSL_CERT_FILE=$bench_ca")
  env "${gw_env[@]}" "${srv_pin[@]}" "$1/bin/apiproxy" serve --host 127.0.0.1 --port "$2" 2>>"$log" &
  bench_pids+=($!); gw_pid=$!
  wait_http "http://127.0.0.1:$2/health" "$log"
  curl -sf --max-time 5 -o /dev/null -X PUT "http://127.0.0.1:$2/logical-models/bench" -H "Authorization: Bearer $bench_b64" \
    -d '{"upstreams":[{"provider_id":"mock","model_id":"gpt-4o-mini","endpoint":"/v1/chat/completions","base_weight":1}]}' ||
    bench_die "could not create the logical model on the gateway at port $2 (see its log: $(tail -n 5 "$log"))"
}

write_chat_script() {  # file [extra body fields]
  cat >"$1" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"bench"${2:-},"messages":[{"role":"user","content":"benchmark me"}]}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $bench_b64"
LUA
}

# --- measuring --------------------------------------------------------------------------
# wrk's latency ("812.00us", "1.25ms", "2.01s") in milliseconds.
to_ms() { awk -v v="$1" 'BEGIN { n = v + 0; u = v; sub(/^[0-9.]+/, "", u)
  printf "%.3f", (u == "us") ? n / 1000 : (u == "s") ? n * 1000 : (u == "m") ? n * 60000 : n }'; }

# One wrk run (wrk -t1 on the load core). Prints
#   target conns req/s cpu_us/req p50_ms p99_ms rss_mb errors preempt/req
# where CPU, RSS and preemptions are those of the given process(es) (summed), CPU from
# utime+stime over the run, RSS after it; errors = socket errors + non-2xx answers.
measure() {  # target url connections duration script pids...
  local target=$1 url=$2 conns=$3 duration=$4 script=$5; shift 5
  local before=0 after=0 rss=0 pre0=0 pre1=0 p out
  for p in "$@"; do before=$((before + $(cpu_ticks "$p"))); pre0=$((pre0 + $(preemptions "$p"))); done
  out=$("${load_pin[@]}" wrk -t1 -c"$conns" -d"$duration" --timeout 5s --latency -s "$script" "$url" 2>&1)
  for p in "$@"; do
    after=$((after + $(cpu_ticks "$p"))); rss=$((rss + $(rss_kb "$p"))); pre1=$((pre1 + $(preemptions "$p")))
  done
  local rps p50 p99 reqs errors
  rps=$(awk '/Requests\/sec/ {print $2}' <<<"$out")
  p50=$(to_ms "$(awk '$1=="50%" {print $2}' <<<"$out")")
  p99=$(to_ms "$(awk '$1=="99%" {print $2}' <<<"$out")")
  reqs=$(awk '/requests in/ {print $1}' <<<"$out")
  errors=$(awk '/Socket errors/ {gsub(",", ""); n += $4 + $6 + $8 + $10} /Non-2xx/ {n += $NF} END {print n + 0}' <<<"$out")
  [ -n "$rps" ] || { echo "wrk failed against $url:" >&2; echo "$out" >&2; exit 1; }
  awk -v t="$target" -v c="$conns" -v rps="$rps" -v ticks=$((after - before)) -v hz="$(getconf CLK_TCK)" \
      -v reqs="${reqs:-0}" -v p50="$p50" -v p99="$p99" -v rss="$rss" -v err="$errors" -v pre=$((pre1 - pre0)) 'BEGIN {
    n = (reqs > 0 ? reqs : 1)
    printf "%s %s %.0f %.1f %s %s %.1f %d %.2f\n", t, c, rps, ticks * 1e6 / hz / n, p50, p99, rss / 1024, err, pre / n }'
}

# Targets: a name, a URL and a command that prints the pids whose CPU and RSS count.
target_names=()
declare -A target_url target_pids
add_target() {  # name url pids-command
  target_names+=("$1"); target_url[$1]=$2; target_pids[$1]=$3
}
measure_target() {  # target conns duration script
  # shellcheck disable=SC2046
  measure "$1" "${target_url[$1]}" "$2" "$3" "$4" $(${target_pids[$1]})
}

bench_header="target      conns       req/s  cpu_us/req    p50_ms    p99_ms   rss_MB  errors  preempt/req"
bench_row() { awk '{ printf "%-10s %6s %11.0f %11.1f %9.3f %9.3f %8.1f %7d %12.2f\n", $1, $2, $3, $4, $5, $6, $7, $8, $9 }'; }

# Alternating rounds: in each round every concurrency, and for each every target in turn
# (the order rotated by one each round), so that a noisy machine hits all targets alike.
# One unmeasured warm-up run per target first. Every row is printed as it comes and kept in
# $bench_results (prefixed by the round).
bench_results=$bench_work/results
run_rounds() {  # rounds duration "conns ..." script
  local rounds=$1 duration=$2 conns_list=$3 script=$4 r c t row order
  for t in "${target_names[@]}"; do measure_target "$t" 64 1s "$script" >/dev/null; done
  echo "round $bench_header"
  order=("${target_names[@]}")
  for r in $(seq "$rounds"); do
    for c in $conns_list; do
      for t in "${order[@]}"; do
        row=$(measure_target "$t" "$c" "$duration" "$script")
        echo "$r $row" >>"$bench_results"
        printf '%5s %s\n' "$r" "$(bench_row <<<"$row")"
      done
    done
    order=("${order[@]:1}" "${order[0]}")
  done
}

# The median of numbers, one a line (the mean of the middle two for an even count).
median() { sort -g | awk '{v[NR] = $1} END { printf "%.10g\n", (NR == 0) ? 0 : (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
# The p-th percentile (nearest rank) of numbers, one a line.
percentile() { sort -g | awk -v p="$1" '{v[NR] = $1} END { i = int(NR * p / 100 + 0.999999); if (i < 1) i = 1; print (NR ? v[i] : 0) }'; }

# The concurrencies measured.
bench_conns() { awk '{print $3}' "$bench_results" | sort -nu; }

# Medians over the rounds, per target and concurrency, into med[target,conns,field] with
# fields rps cpu p50 p99 rss pre, plus err[target,conns] = errors summed over the rounds.
declare -A med err
summarize_rounds() {
  local t c f
  # Columns of $bench_results: round target conns rps cpu p50 p99 rss errors pre.
  local -A column=([rps]=4 [cpu]=5 [p50]=6 [p99]=7 [rss]=8 [pre]=10)
  for t in "${target_names[@]}"; do
    for c in $(bench_conns); do
      for f in "${!column[@]}"; do
        med[$t,$c,$f]=$(awk -v t="$t" -v c="$c" -v k="${column[$f]}" '$2 == t && $3 == c {print $k}' "$bench_results" | median)
      done
      err[$t,$c]=$(awk -v t="$t" -v c="$c" '$2 == t && $3 == c {n += $9} END {print n + 0}' "$bench_results")
    done
  done
}

print_medians() {
  local t c
  summarize_rounds
  echo "$bench_header"
  for c in $(bench_conns); do
    for t in "${target_names[@]}"; do
      echo "$t $c ${med[$t,$c,rps]} ${med[$t,$c,cpu]} ${med[$t,$c,p50]} ${med[$t,$c,p99]} ${med[$t,$c,rss]} ${err[$t,$c]} ${med[$t,$c,pre]}" | bench_row
    done
  done
  for c in $(bench_conns); do
    for t in "${target_names[@]}"; do
      [ "${err[$t,$c]}" = 0 ] || echo "WARNING: $t at c=$c had ${err[$t,$c]} errors (socket errors or non-2xx); its numbers are suspect"
    done
  done
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", (b > 0) ? a / b : 0 }'; }
# "target / base" for req/s and CPU per request, per concurrency (after print_medians).
print_ratios() {  # base targets...
  local base=$1 t c; shift
  for t in "$@"; do
    for c in $(bench_conns); do
      printf '%s / %s  c=%-3s  req/s x%s   cpu_us/req x%s\n' "$t" "$base" "$c" \
        "$(ratio "${med[$t,$c,rps]}" "${med[$base,$c,rps]}")" "$(ratio "${med[$t,$c,cpu]}" "${med[$base,$c,cpu]}")"
    done
  done
}
# Machine-readable lines for the medians and ratios.
result_lines() {  # base targets...
  local base=$1 t c; shift
  for c in $(bench_conns); do
    for t in "${target_names[@]}"; do
      echo "RESULT kind=throughput target=$t conns=$c rps=${med[$t,$c,rps]} cpu_us_per_req=${med[$t,$c,cpu]} p50_ms=${med[$t,$c,p50]} p99_ms=${med[$t,$c,p99]} rss_mb=${med[$t,$c,rss]} errors=${err[$t,$c]} preempt_per_req=${med[$t,$c,pre]}"
    done
    for t in "$@"; do
      echo "RESULT kind=ratio target=$t base=$base conns=$c rps_ratio=$(ratio "${med[$t,$c,rps]}" "${med[$base,$c,rps]}") cpu_ratio=$(ratio "${med[$t,$c,cpu]}" "${med[$base,$c,cpu]}")"
    done
  done
}
