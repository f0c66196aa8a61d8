#!/usr/bin/env bash
# Builds the container images with podman and runs the Compose stack for real, then checks
# it from outside the containers: readiness, a chat completion and a stream answered by the
# mock upstream, /metrics, the gateway's state in Redis, both health checks, the user the
# gateway runs as, a read-only root filesystem, a SIGTERM drain with a stream in flight,
# and the image itself (no compiler or headers, no secrets, root-owned plugins, sizes).
#
#   packaging/test-container.sh [BUILD_DIR]   # as root; CI: build/ci, after test-deb.sh
#   packaging/test-container.sh --prepare     # only install podman and make the base images
#                                             # (CI runs this in the background, during fuzzing)
#
# With BUILD_DIR (a configured and built tree: CI's), the binaries are not compiled again:
# `cmake --install BUILD_DIR --component runtime --strip` and the mock upstream are staged
# into a tiny image at the paths the Dockerfile's compile stages leave them (/staging/...),
# and the images are built from a copy of the Dockerfile whose two compile stages (build,
# mock-build) are that image; the other stages (runtime-base, apiproxy, mock-upstream) are
# the Dockerfile's, unchanged (checked). Without BUILD_DIR the Dockerfile itself compiles
# from source, as `docker build .` does (about 10 minutes on 2 cores).
# (Not an ARG in FROM to choose the stage: podman 4.3 skips a stage that is named only by
# an ARG's default value, and then fails.)
#
# No container registry is reachable here, so the images the files name are made locally
# and cached in podman's storage between runs (delete them to make them again):
#  * docker.io/library/debian:12-slim: `debootstrap --variant=minbase bookworm` from the
#    Debian mirror this machine's apt uses, trimmed the way the official slim image is
#    (no docs, man pages or locales; apt cleans its cache), then `podman import`. A local
#    stand-in for the registry's image, not that image.
#  * docker.io/library/redis:7: Debian's redis-server (7.0) on that base
#    (packaging/container/redis.Dockerfile), a stand-in for the official `redis:7`.
#
# The stack is started by podman-compose (Debian's 1.0.3) from the real docker-compose.yml,
# copied into a temporary directory beside a test .env (made from .env.example: a provider
# `mock` pointing at the mock upstream, random tokens and Redis password). Two changes,
# both checked: the published port becomes 127.0.0.1:<a free port> (the file's 8000:8000
# listens on every address of the host and may be taken), and a file added with -f puts
# the mock upstream on the stack's network. What podman-compose 1.0.3 does not do:
# depends_on's `condition: service_healthy` (it only orders the start; the gateway retries
# Redis by itself, and the test waits for /health/ready), and stop_grace_period (the test
# stops the gateway with `podman stop -t 40` itself).
#
# Podman here needs: the runc runtime (crun refuses this machine's hybrid cgroups), ulimits
# within the hard limits the test runs under (podman's default nofile is above them), and
# `--format docker` for builds (the OCI format has no HEALTHCHECK). The test passes them
# through a private CONTAINERS_CONF and on each build; it changes no system configuration.
#
# Everything it starts (containers, the network, the Redis volume) is removed on exit, also
# when a check fails; the images stay. Network use: 127.0.0.1 on the host; the Debian
# mirror when the base images are made and when the image build runs apt-get.
set -euo pipefail

prepare_only=0
if [ "${1:-}" = --prepare ]; then prepare_only=1; shift; fi
if [ $# -gt 1 ] || { [ "$prepare_only" = 1 ] && [ $# -gt 0 ]; }; then
  echo "usage: $0 [BUILD_DIR] | --prepare   (BUILD_DIR: a configured and built APIProxy tree, e.g. build/ci;" \
       "without it the image compiles from source)" >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "test-container.sh: must run as root (podman's system storage, debootstrap)" >&2
  exit 2
fi
src_dir=$(cd "$(dirname "$0")/.." && pwd)
build_dir=""
if [ $# -eq 1 ]; then
  build_dir=$(cd "$1" && pwd)
  for f in CMakeCache.txt bin/apiproxy bin/apiproxy-mock-upstream; do
    [ -e "$build_dir/$f" ] || { echo "test-container.sh: $build_dir/$f not found: build that tree first" >&2; exit 2; }
  done
fi

fail() { echo "test-container.sh: FAIL: $*" >&2; exit 1; }
ok() { echo "  ok: $*"; summary+=("ok: $*"); }
summary=()
phase_name=""; phase_start=0; t0=$(date +%s); times=()
phase() {  # phase KEY [TITLE]: ends the previous phase (printing its time), starts KEY
  local now; now=$(date +%s)
  if [ -n "$phase_name" ]; then
    echo "  ($phase_name: $((now - phase_start)) s)"
    times+=("$phase_name $((now - phase_start)) s")
  fi
  phase_name=$1; phase_start=$now
  [ -n "$1" ] && echo "== ${2:-$1}"
  return 0
}

# ---- prerequisites ----------------------------------------------------------------------
missing=()
# netavark sets up container networks with iptables, which its package does not pull in: on
# a machine without it every `podman run` on a network fails with "netavark: No such file or
# directory".
for p in podman runc debootstrap podman-compose netavark aardvark-dns iptables; do
  [ "$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)" = installed ] || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "installing ${missing[*]} (Debian packages)"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq && apt-get install -y -qq "${missing[@]}" >/dev/null
fi

work=$(mktemp -d /tmp/apiproxy-test-container.XXXXXX)
project="apiproxy-ctest-$$"
compose_dir="$work/compose"
extra_containers=()
compose_up=0
cleanup() {
  local rc=$?
  set +e
  for c in "${extra_containers[@]}"; do podman rm -f -t 0 "$c" >/dev/null 2>&1; done
  if [ "$compose_up" = 1 ]; then
    (cd "$compose_dir" && timeout 120 podman-compose -p "$project" -f docker-compose.yml -f test.yml \
       down -v -t 1) >"$work/down.log" 2>&1
  fi
  # Whatever podman-compose left (also when `up` failed half-way): by the project label.
  podman ps -aq --filter "label=io.podman.compose.project=$project" | xargs -r podman rm -f -t 0 >/dev/null 2>&1
  podman network ls -q --filter "name=^${project}_" | xargs -r podman network rm -f >/dev/null 2>&1
  podman volume ls -q --filter "name=^${project}_" | xargs -r podman volume rm -f >/dev/null 2>&1
  [ -n "${prebuilt_tag:-}" ] && podman rmi "$prebuilt_tag" >/dev/null 2>&1
  rm -rf "$work"
  if [ "$rc" -ne 0 ]; then echo "test-container.sh: FAILED (exit $rc)" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM  # cleanup also when interrupted

# Podman's settings for this test only (podman-compose's podman calls inherit them).
hard_nofile=$(ulimit -Hn); hard_nproc=$(ulimit -Hu)
[ "$hard_nofile" = unlimited ] && hard_nofile=1048576
[ "$hard_nproc" = unlimited ] && hard_nproc=65536
nofile=$(( hard_nofile < 65536 ? hard_nofile : 65536 ))
# nproc: podman build's own default; runc was refused higher values here (EPERM), though
# below the hard limit.
nproc=$(( hard_nproc < 32768 ? hard_nproc : 32768 ))
cat >"$work/containers.conf" <<EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF="$work/containers.conf"
podman_build() {  # podman_build LOG ARGS...: a build as the README shows it, quietly
  local log=$1; shift
  nice -n 19 podman build --runtime runc --format docker --network host --pull=never \
    --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc" "$@" >"$log" 2>&1 || { tail -40 "$log"; fail "podman build $*"; }
}
podman_run=(podman run --runtime runc --ulimit "nofile=$nofile:$nofile" --ulimit "nproc=$nproc:$nproc")

# ---- base images (cached) ------------------------------------------------------------------
base=docker.io/library/debian:12-slim
redis_image=docker.io/library/redis:7
phase base-image "base image $base"
# The Debian mirror (and security mirror) this machine's apt uses.
apt_uris() {
  { cat /etc/apt/sources.list.d/*.sources 2>/dev/null | sed -n 's/^URIs:[[:space:]]*//p' | tr ' ' '\n'
    cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
      sed -n 's/^deb[[:space:]]\+\(\[[^]]*\][[:space:]]\+\)\?\([^[:space:]]\+\).*/\2/p'; } | grep -E '/debian(-security)?/?$' || true
}
mirror=$(apt_uris | grep -v -- '-security' | head -1)
security=$(apt_uris | grep -- '-security' | head -1)
mirror=${mirror:-http://deb.debian.org/debian}
security=${security:-http://deb.debian.org/debian-security}
if podman image exists "$base"; then
  echo "cached: $(podman image inspect --format '{{.Id}} created {{.Created}}' "$base" | cut -c1-12,65-)"
else
  echo "making it: debootstrap --variant=minbase bookworm from $mirror"
  root="$work/rootfs"
  nice -n 19 debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 ||
    { tail -30 "$work/debootstrap.log"; fail "debootstrap"; }
  # As the official slim image: dpkg leaves out docs, man pages and locales; apt keeps no
  # downloaded packages and no binary caches; the same apt sources (deb822).
  cat >"$root/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
# Made by packaging/test-container.sh, as in the official debian:*-slim images.
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/groff/*
path-exclude /usr/share/info/*
path-exclude /usr/share/linda/*
path-exclude /usr/share/lintian/overrides/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/man/*
EOF
  cat >"$root/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  echo 'Acquire::Languages "none";' >"$root/etc/apt/apt.conf.d/docker-no-languages"
  echo 'APT::AutoRemove::SuggestsImportant "false";' >"$root/etc/apt/apt.conf.d/docker-autoremove-suggests"
  rm -f "$root/etc/apt/sources.list"
  cat >"$root/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: bookworm bookworm-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security
Suites: bookworm-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
  find "$root/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
  find "$root/usr/share/doc" -mindepth 1 -type d -empty -delete
  rm -rf "$root"/usr/share/{groff,info,linda,lintian/overrides,locale,man}/* \
         "$root"/var/cache/apt/archives/*.deb "$root"/var/cache/apt/*.bin \
         "$root"/var/lib/apt/lists/* "$root"/var/log/*.log "$root"/var/log/apt/* "$root"/tmp/*
  tar --numeric-owner --xattrs -C "$root" -c . |
    podman import --change 'CMD ["bash"]' --message "local stand-in for debian:12-slim (debootstrap minbase, $mirror)" \
      - "$base" >/dev/null || fail "podman import"
  rm -rf "$root"
fi
ok "base image $base: $(( $(podman image inspect --format '{{.Size}}' "$base") / 1000000 )) MB"

phase redis-image "Redis image $redis_image"
podman_build "$work/redis-build.log" -t "$redis_image" -f "$src_dir/packaging/container/redis.Dockerfile" \
  "$src_dir/packaging/container"
redis_version=$("${podman_run[@]}" --rm --no-healthcheck "$redis_image" redis-server --version | grep -o 'v=[0-9.]*' || true)
[ -n "$redis_version" ] || fail "$redis_image does not run (podman run ... redis-server --version printed no version)"
ok "$redis_image: $redis_version"
if [ "$prepare_only" = 1 ]; then
  phase ""
  echo "test-container.sh: base images ready (${times[*]})"
  exit 0
fi

# ---- the images from the project's Dockerfile -------------------------------------------------
image=localhost/apiproxy:latest            # docker-compose.yml: image: apiproxy:latest
mock_image=localhost/apiproxy-mock-upstream:latest
runtime_base_image=localhost/apiproxy-runtime-base:latest
dockerfile="$src_dir/Dockerfile"; context="$src_dir"
if [ -n "$build_dir" ]; then
  phase staging "staging $build_dir (cmake --install --component runtime --strip)"
  ctx="$work/prebuilt"
  mkdir -p "$ctx/staging/usr/bin"
  DESTDIR="$ctx/staging" cmake --install "$build_dir" --prefix /usr --component runtime --strip \
    >"$work/install.log" 2>&1 || { cat "$work/install.log"; fail "cmake --install $build_dir"; }
  install -m 755 -s "$build_dir/bin/apiproxy-mock-upstream" "$ctx/staging/usr/bin/apiproxy-mock-upstream"
  for f in usr/bin/apiproxy usr/bin/apiproxy-mock-upstream usr/lib/apiproxy/plugins; do
    [ -e "$ctx/staging/$f" ] || fail "staging lacks /staging/$f (the paths the Dockerfile copies)"
  done
  # The health checks run `apiproxy health`: a tree built before it existed cannot pass them.
  if grep -q '"apiproxy", "health"' "$src_dir/Dockerfile" "$src_dir/docker-compose.yml" &&
     ! "$build_dir/bin/apiproxy" --help 2>&1 | grep -q 'apiproxy health'; then
    fail "$build_dir/bin/apiproxy has no 'health' command, which HEALTHCHECK runs: that tree is older than the sources; rebuild it"
  fi
  printf 'FROM scratch\nCOPY staging /staging\n' >"$ctx/Containerfile"
  prebuilt_tag="localhost/apiproxy-prebuilt:$project"
  podman_build "$work/prebuilt-build.log" -t "$prebuilt_tag" -f "$ctx/Containerfile" "$ctx"
  # The Dockerfile with its compile stages swapped for that image; every other line as is.
  dockerfile="$work/Dockerfile.prebuilt"; context="$work/empty-context"; mkdir "$context"
  awk -v img="$prebuilt_tag" '
    /^FROM / { skip = 0 }
    /^FROM debian:12-slim AS build$/ { print "FROM " img " AS build"; skip = 1; swapped++; next }
    /^FROM build AS mock-build$/ { print "FROM " img " AS mock-build"; skip = 1; swapped++; next }
    !skip { print }
    END { exit swapped == 2 ? 0 : 1 }' "$src_dir/Dockerfile" >"$dockerfile" ||
    fail "the Dockerfile no longer has the stages 'FROM debian:12-slim AS build' and 'FROM build AS mock-build'"
  without_compile_stages() { awk '/^FROM / { skip = / AS (build|mock-build)$/ } !skip' "$1"; }
  [ "$(without_compile_stages "$src_dir/Dockerfile")" = "$(without_compile_stages "$dockerfile")" ] ||
    fail "the runtime stages of the swapped Dockerfile differ from the Dockerfile's"
  ok "staged from $build_dir: /usr/bin/apiproxy, /usr/bin/apiproxy-mock-upstream and $(ls "$ctx/staging/usr/lib/apiproxy/plugins" | wc -l) plugins ($(du -sh "$ctx/staging" | cut -f1), stripped)"
fi

phase build "podman build: runtime-base, apiproxy, mock-upstream${build_dir:+ (prebuilt binaries)}"
old_ids=$(podman image inspect --format '{{.Id}}' "$image" "$mock_image" 2>/dev/null || true)
podman_build "$work/build-runtime-base.log" -f "$dockerfile" --target runtime-base -t "$runtime_base_image" "$context"
podman_build "$work/build-apiproxy.log" -f "$dockerfile" --target apiproxy -t "$image" "$context"
podman_build "$work/build-mock.log" -f "$dockerfile" --target mock-upstream -t "$mock_image" "$context"
if [ -n "$build_dir" ] && grep -q 'build-essential' "$work/build-apiproxy.log" "$work/build-mock.log"; then
  fail "a compile stage ran although the binaries were prebuilt"
fi
# The images these replaced, unless something still uses them.
for id in $old_ids; do
  podman image inspect --format '{{.RepoTags}}' "$id" 2>/dev/null | grep -q '^\[\]$' && podman rmi "$id" >/dev/null 2>&1
done
ok "images built: $image, $mock_image"

# ---- the image itself ----------------------------------------------------------------------------
phase image-checks "image checks"
mb() { echo "$(( ($1 + 500000) / 1000000 )) MB"; }
size_base=$(podman image inspect --format '{{.Size}}' "$base")
size_rt=$(podman image inspect --format '{{.Size}}' "$runtime_base_image")
size_app=$(podman image inspect --format '{{.Size}}' "$image")
size_mock=$(podman image inspect --format '{{.Size}}' "$mock_image")
echo "  sizes: base $(mb "$size_base"); runtime-base adds $(mb $((size_rt - size_base))); apiproxy adds" \
     "$(mb $((size_app - size_rt))) more (image $(mb "$size_app")); mock-upstream image $(mb "$size_mock")"
podman history --format '    {{.Size}}\t{{.CreatedBy}}' "$image" | cut -c1-150 | head -20
added=$(( (size_app - size_base) / 1000000 ))
[ "$added" -lt 60 ] || fail "the runtime stages add $added MB over the base (goal: < 60 MB)"
ok "image $(mb "$size_app"): $added MB over the base (runtime-base $(mb $((size_rt - size_base))), binaries and plugins $(mb $((size_app - size_rt))))"

config=$(podman image inspect --format '{{.Config.User}}|{{json .Config.Env}}|{{json .Config.Cmd}}|{{json .Config.ExposedPorts}}|{{json .Config.Healthcheck}}' "$image")
[ "${config%%|*}" = apiproxy ] || fail "image user is '${config%%|*}', expected apiproxy"
env_names=$(podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$image" | cut -d= -f1 | grep . | sort | paste -sd,)
[ "$env_names" = "APIPROXY_HOST,APIPROXY_PORT,PATH" ] || fail "image environment: $env_names (expected only PATH, APIPROXY_HOST, APIPROXY_PORT)"
grep -q '"Test":\["CMD' <<<"$config" && grep -q 'health' <<<"$config" || fail "no HEALTHCHECK in the image: $config"
ok "config: user apiproxy, environment only $env_names, CMD apiproxy serve, HEALTHCHECK on /health"

history=$(podman history --no-trunc --format '{{.CreatedBy}}' "$image")
if grep -niE 'API_KEY=|_TOKEN=|PASSWORD=|SECRET|sk-[a-z0-9]|\.env\b' <<<"$history" | grep -v 'env.example'; then
  fail "the image history above names a secret or a .env"
fi
# A command in a throw-away container of the image: as root (to see every file), or as the
# image's own user.
inside() { "${podman_run[@]}" --rm --no-healthcheck --user 0 --entrypoint /bin/sh "$image" -c "$1"; }
as_user() { "${podman_run[@]}" --rm --no-healthcheck --entrypoint /bin/sh "$image" -c "$1"; }
found=$(inside 'find / -xdev \( -name ".env" -o -name "*.env" -o -name ".env.*" \) -print 2>/dev/null')
[ -z "$found" ] || fail "configuration files in the image: $found"
ok "no secret in the image history or environment, no .env file in the image"

found=$(inside 'for c in gcc g++ cc c++ cpp clang ld as make cmake ninja; do command -v $c; done; ls -d /usr/include/* /usr/lib/gcc 2>/dev/null; find / -xdev \( -name "*.h" -o -name "*.hpp" -o -name "*.a" \) -print 2>/dev/null | head -5' || true)
[ -z "$found" ] || fail "compiler, headers or static libraries in the runtime image: $found"
ok "no compiler, linker, headers (/usr/include empty) or static libraries in the image"

perms=$(inside 'stat -c "%U:%G %a %n" /usr/lib/apiproxy/plugins /usr/lib/apiproxy/plugins/* /usr/bin/apiproxy')
echo "$perms" | sed 's/^/    /'
awk '$1 != "root:root" || $2 ~ /[2367].$|[2367]$/ {bad=1} END {exit bad}' <<<"$perms" ||
  fail "the plugin directory, a plugin or the binary is not root-owned or is writable by others"
n_plugins=$(grep -c '\.so$' <<<"$perms" || true)
[ "$n_plugins" -ge 7 ] || fail "only $n_plugins plugins in the image"
as_user 'test -w /usr/lib/apiproxy/plugins || test -w /usr/lib/apiproxy/plugins/libbalanced.so || touch /usr/lib/apiproxy/plugins/x.so 2>/dev/null' &&
  fail "uid 10001 can write to the plugin directory"
ok "$n_plugins plugins in /usr/lib/apiproxy/plugins, root-owned, not writable by uid 10001"

# ---- the Compose stack --------------------------------------------------------------------------
phase compose-up "podman-compose up (docker-compose.yml)"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
port=$(free_port)
mkdir -p "$compose_dir"
token="ctest-$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
redis_password="ctest$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
# The configuration guide's flow (cp .env.example .env, then edit), with one provider: the
# mock upstream, by its service name on the stack's network.
sed -e "s|^APIPROXY_AUTH_TOKEN=.*|APIPROXY_AUTH_TOKEN=$token|" \
    -e "s|^REDIS_PASSWORD=.*|REDIS_PASSWORD=$redis_password|" \
    -e "s|^LLM_PROVIDERS=.*|LLM_PROVIDERS=mock|" "$src_dir/.env.example" >"$compose_dir/.env"
# Docker Compose reads env_file as dotenv, cutting an unquoted value's trailing " # comment";
# podman-compose passes the file to `podman run --env-file`, which (like `docker run
# --env-file`) keeps the rest of the line in the value. So the template sets no value with a
# trailing comment: the file must work with both, as it is.
inline=$(grep -nE '^[A-Za-z_][A-Za-z0-9_]*=[^"'"'"'#[:space:]]*[[:space:]]+#' "$compose_dir/.env" | cut -d= -f1 | tr '\n' ' ' || true)
[ -z "$inline" ] || fail ".env.example sets a value with a trailing comment (line:name $inline): --env-file keeps it in the value"
cat >>"$compose_dir/.env" <<'EOF'
LLM_PROVIDER_mock_NAME=Mock upstream
LLM_PROVIDER_mock_BASE_URL=http://mock-upstream:8090
LLM_PROVIDER_mock_API_KEY=not-required
EOF
grep -qx 'REDIS_URL=redis://redis:6379/0' "$compose_dir/.env" || fail ".env.example no longer sets REDIS_URL=redis://redis:6379/0"
sed "s|^\(      - \)\"8000:8000\"$|\1\"127.0.0.1:$port:8000\"|" "$src_dir/docker-compose.yml" >"$compose_dir/docker-compose.yml"
[ "$(diff "$src_dir/docker-compose.yml" "$compose_dir/docker-compose.yml" | grep -c '^[<>]')" = 2 ] ||
  fail "could not replace the published port 8000:8000 in docker-compose.yml (one line)"
# The mock upstream, started before the gateway (which lists its models at start-up).
cat >"$compose_dir/test.yml" <<EOF
services:
  mock-upstream:
    image: $mock_image
  apiproxy:
    depends_on:
      mock-upstream:
        condition: service_started
EOF
compose() { (cd "$compose_dir" && timeout 180 podman-compose -p "$project" -f docker-compose.yml -f test.yml "$@"); }
compose_up=1
compose up -d >"$work/up.log" 2>&1 || { cat "$work/up.log"; fail "podman-compose up -d"; }
gw="${project}_apiproxy_1"; redis_ctr="${project}_redis_1"; mock_ctr="${project}_mock-upstream_1"
for c in "$gw" "$redis_ctr" "$mock_ctr"; do
  [ "$(podman inspect --format '{{.State.Status}}' "$c" 2>/dev/null)" = running ] ||
    { cat "$work/up.log"; podman logs "$c" 2>&1 | tail -20; fail "container $c is not running"; }
done
base_url="http://127.0.0.1:$port"
auth="Authorization: Bearer $(printf %s "$token" | base64 -w0)"
ready=""
for _ in $(seq 120); do  # 60 s
  ready=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "$base_url/health/ready" || true)
  [ "$ready" = 200 ] && break
  sleep 0.5
done
[ "$ready" = 200 ] || { podman logs "$gw" 2>&1 | tail -30; fail "/health/ready is $ready after 60 s"; }
published=$(podman port "$gw" | tr '\n' ' ')
[ "$published" = "8000/tcp -> 127.0.0.1:$port " ] || fail "the gateway is published as: $published"
[ -z "$(podman port "$redis_ctr")" ] || fail "Redis is published: $(podman port "$redis_ctr")"
ok "stack up (podman-compose): gateway, redis, mock-upstream; /health/ready 200 on 127.0.0.1:$port (Redis not published)"

# ---- checks from outside -------------------------------------------------------------------------
phase stack-checks "checks against the running stack"
chat='{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hello from the container test"}]}'
answer=$(curl -sS --max-time 20 -H "$auth" -H 'Content-Type: application/json' -d "$chat" \
  -w '\n%{http_code}' "$base_url/v1/chat/completions") || fail "POST /v1/chat/completions"
code=${answer##*$'\n'}; body=${answer%$'\n'*}
[ "$code" = 200 ] || { podman logs "$gw" 2>&1 | tail -20; fail "chat completion: HTTP $code: $body"; }
content=$(python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["object"]=="chat.completion", d; print(d["choices"][0]["message"]["content"])' "$body") ||
  fail "chat completion: not a chat.completion: $body"
[ "$content" = "mock demo reply to: hello from the container test" ] || fail "chat completion answered: $content"
ok "chat completion through the gateway, answered by the mock: \"$content\""

no_auth=$(curl -s -o /dev/null -w '%{http_code}' --max-time 10 -H 'Content-Type: application/json' -d "$chat" "$base_url/v1/chat/completions" || true)
[ "$no_auth" = 401 ] || fail "a request without the token got $no_auth, expected 401"
ok "without the token: 401"

stream_req='{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"stream please"}]}'
curl -sS -N --max-time 20 -H "$auth" -H 'Content-Type: application/json' -d "$stream_req" \
  -D "$work/stream.head" "$base_url/v1/chat/completions" >"$work/stream.body" || fail "streamed chat completion"
grep -qi '^content-type: text/event-stream' "$work/stream.head" || fail "stream: $(head -1 "$work/stream.head"), not text/event-stream"
chunks=$(grep -c '^data: {' "$work/stream.body" || true)
[ "$(grep '^data: ' "$work/stream.body" | tail -1 | tr -d '\r')" = "data: [DONE]" ] ||
  { cat "$work/stream.body"; fail "the stream does not end with data: [DONE]"; }
[ "$chunks" -ge 3 ] || fail "the stream had $chunks data chunks"
ok "stream: text/event-stream, $chunks chunks, ends with data: [DONE]"

metrics=$(curl -fsS --max-time 10 -H "$auth" "$base_url/metrics") || fail "GET /metrics"
line=$(grep -E '^apiproxy_requests_total\{.*\} [1-9]' <<<"$metrics" | grep 'mock' | head -1)
[ -n "$line" ] || { grep '^apiproxy_requests_total' <<<"$metrics"; fail "/metrics does not count the requests to provider mock"; }
ok "/metrics: $line"

# The gateway's state in Redis (with the password from .env; the models list is written at
# start-up, the shared metrics after a request within APIPROXY_METRICS_FLUSH_MS).
rcli() { podman exec -e REDISCLI_AUTH="$redis_password" "$redis_ctr" redis-cli --no-auth-warning "$@"; }
keys=""
for _ in $(seq 20); do
  keys=$(rcli --scan --pattern 'llm:*' | sort | tr '\n' ' ')
  grep -q 'llm:vendor:mock:models' <<<"$keys" && grep -q 'llm:metrics:' <<<"$keys" && break
  sleep 0.5
done
grep -q 'llm:vendor:mock:models' <<<"$keys" && grep -q 'llm:metrics:' <<<"$keys" ||
  fail "Redis does not hold the gateway's keys: ${keys:-none}"
unauth=$(podman exec "$redis_ctr" env -u REDISCLI_AUTH redis-cli ping 2>&1 || true)
grep -q NOAUTH <<<"$unauth" || fail "Redis answered without the password: $unauth"
ok "Redis holds the gateway's state: $keys(and refuses clients without the password)"

# Health checks: podman runs them on systemd timers, which this machine lacks; run them.
for c in "$gw" "$redis_ctr"; do
  test_cmd=$(podman inspect --format '{{join .Config.Healthcheck.Test " "}}' "$c")
  case "$c:$test_cmd" in
    "$gw:"*health*|"$redis_ctr:"*"redis-cli ping"*) ;;
    *) fail "$c: not the Compose file's health check: $test_cmd" ;;
  esac
  podman healthcheck run "$c" >/dev/null 2>&1 || fail "the health check of $c fails: $test_cmd"
  status=$(podman inspect --format '{{.State.Healthcheck.Status}}' "$c")
  [ "$status" = healthy ] || fail "$c health: $status"
done
ok "the Compose file's health checks (podman healthcheck run): gateway healthy, redis healthy"

status=$(podman exec "$gw" cat /proc/1/status)
uid_line=$(grep '^Uid:' <<<"$status" | tr -s '[:space:]' ' ')
[ "$uid_line" = "Uid: 10001 10001 10001 10001 " ] || fail "the gateway (pid 1) runs with $uid_line"
[ "$(podman exec "$gw" cat /proc/1/comm)" = apiproxy ] || fail "pid 1 is not apiproxy"
capeff=$(grep '^CapEff:' <<<"$status" | awk '{print $2}')
[ "$capeff" = 0000000000000000 ] || fail "the gateway has effective capabilities $capeff"
ok "the gateway is pid 1, uid/gid 10001 (apiproxy), no effective capabilities"

# ---- read-only root filesystem --------------------------------------------------------------------
phase read-only "read-only root filesystem"
# Docker's --read-only (podman would add tmpfs on /tmp, /run, /var/tmp unless told not to),
# and the hardening an operator may add: no capabilities, no privilege gain.
ro="${project}-readonly"; extra_containers+=("$ro")
ro_port=$(free_port)
"${podman_run[@]}" -d --name "$ro" --read-only --read-only-tmpfs=false --cap-drop=ALL \
  --security-opt no-new-privileges --network "${project}_default" --env-file "$compose_dir/.env" \
  -e APIPROXY_HOST=0.0.0.0 -e APIPROXY_PORT=8000 -p "127.0.0.1:$ro_port:8000" "$image" >/dev/null 2>"$work/ro.err" ||
  { cat "$work/ro.err"; fail "podman run --read-only"; }
ready=""
for _ in $(seq 60); do
  ready=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 "http://127.0.0.1:$ro_port/health/ready" || true)
  [ "$ready" = 200 ] && break
  sleep 0.5
done
[ "$ready" = 200 ] || { podman logs "$ro" 2>&1 | tail -20; fail "read-only: /health/ready is $ready after 30 s"; }
ro_answer=$(curl -fsS --max-time 20 -H "$auth" -H 'Content-Type: application/json' -d "$chat" \
  "http://127.0.0.1:$ro_port/v1/chat/completions") || fail "read-only: chat completion"
grep -q 'mock demo reply to' <<<"$ro_answer" || fail "read-only: $ro_answer"
podman healthcheck run "$ro" >/dev/null 2>&1 || fail "read-only: the image's HEALTHCHECK fails"
podman exec "$ro" sh -c 'touch /var/lib/apiproxy/x || touch /tmp/x' 2>/dev/null && fail "read-only: the root filesystem is writable"
if podman logs "$ro" 2>&1 | grep -iE 'read-only file system|EROFS' >/dev/null; then
  podman logs "$ro" 2>&1 | grep -iE 'read-only file system|EROFS'; fail "read-only: the gateway tried to write"
fi
ok "--read-only (no tmpfs), --cap-drop=ALL, no-new-privileges: ready, serves, the image's HEALTHCHECK passes"
podman rm -f -t 0 "$ro" >/dev/null 2>&1

# ---- SIGTERM drain ----------------------------------------------------------------------------------
phase drain "SIGTERM drain (podman stop -t 40) with a stream in flight"
# A stream the mock paces: 8 chunks, 500 ms apart (the body's "mock" member).
slow='{"model":"gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"slow"}],"mock":{"chunks":8,"chunk_interval_ms":500}}'
curl -sS -N --max-time 60 -H "$auth" -H 'Content-Type: application/json' -d "$slow" \
  "$base_url/v1/chat/completions" >"$work/slow.body" 2>"$work/slow.err" &
slow_pid=$!
for _ in $(seq 100); do grep -q '^data: {' "$work/slow.body" 2>/dev/null && break; sleep 0.1; done
grep -q '^data: {' "$work/slow.body" || fail "the slow stream did not start"
stop_start=$(date +%s.%N)
timeout 60 podman stop -t 40 "$gw" >/dev/null 2>"$work/stop.err" || { cat "$work/stop.err"; fail "podman stop -t 40"; }
stop_secs=$(python3 -c "import time; print(f'{time.time() - $stop_start:.1f}')")
rc=0; wait "$slow_pid" || rc=$?
exit_code=$(podman inspect --format '{{.State.ExitCode}}' "$gw")
[ "$exit_code" = 0 ] || { podman logs "$gw" 2>&1 | tail -20; fail "the gateway exited $exit_code after SIGTERM (137: killed at the grace period's end)"; }
python3 -c "import sys; sys.exit(0 if float('$stop_secs') < 40 else 1)" || fail "podman stop took $stop_secs s: the grace period ran out"
# The stream had ~3.5 s to go: a stop much faster than that did not wait for it.
python3 -c "import sys; sys.exit(0 if float('$stop_secs') >= 1.5 else 1)" || fail "podman stop took only $stop_secs s: no drain?"
[ "$rc" = 0 ] || { cat "$work/slow.err"; fail "the in-flight stream failed (curl exit $rc)"; }
slow_chunks=$(grep -c '^data: {' "$work/slow.body" || true)
[ "$(grep '^data: ' "$work/slow.body" | tail -1 | tr -d '\r')" = "data: [DONE]" ] ||
  { cat "$work/slow.body"; fail "the in-flight stream was cut: it does not end with data: [DONE]"; }
podman logs "$gw" 2>&1 | grep -iE 'drain|shut|stop' | tail -2 | sed 's/^/    /'
ok "SIGTERM drain: podman stop took ${stop_secs} s, exit code 0, the stream in flight completed ($slow_chunks chunks, data: [DONE])"
stop_timeout=$(podman inspect --format '{{.Config.StopTimeout}}' "$gw")
echo "  note: podman-compose 1.0.3 does not map stop_grace_period: the container's own stop timeout is ${stop_timeout} s"

phase compose-down "podman-compose down -v"
compose down -v -t 1 >"$work/down.log" 2>&1 || { cat "$work/down.log"; fail "podman-compose down -v"; }
compose_up=0
left=$(podman ps -aq --filter "label=io.podman.compose.project=$project"; podman volume ls -q --filter "name=^${project}_")
[ -z "$left" ] || fail "podman-compose down -v left: $left"
ok "podman-compose down -v removed the containers and the Redis volume"
phase ""

echo
echo "test-container.sh: summary"
printf '  %s\n' "${summary[@]}"
echo "  times: $(printf '%s, ' "${times[@]}")total $(( $(date +%s) - t0 )) s"
echo "test-container.sh: OK"
