#!/usr/bin/env bash
# Builds the .deb packages from an existing, configured build tree and checks them the way
# an operator uses them: metadata and contents, `dpkg -i`, the service account and the
# configuration's permissions, `apiproxy --version` and `check-config` against the
# installed /etc/apiproxy/apiproxy.env, the gateway serving as user apiproxy with the
# installed plugins, SIGHUP (the unit's reload) and SIGTERM, a plugin built against the
# installed SDK, conffile handling on reinstall, then `dpkg -r` and `dpkg -P`.
#
#   packaging/test-deb.sh BUILD_DIR          # as root; CI: after scripts/test.sh (build/ci)
#
# It installs packages system-wide, so it needs root, refuses to touch an apiproxy that is
# already installed, and leaves the machine as it found it, also when a check fails (the
# EXIT trap purges the packages and removes the apiproxy account if it created it). Network
# use: 127.0.0.1 only (the gateway's providers are pointed at a closed loopback port).
set -euo pipefail

if [ $# -ne 1 ]; then
  echo "usage: $0 BUILD_DIR   (a configured and built APIProxy build tree, e.g. build/ci)" >&2
  exit 2
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "test-deb.sh: must run as root: it installs and removes the packages with dpkg" \
       "(try: sudo $0 $1)" >&2
  exit 2
fi
src_dir=$(cd "$(dirname "$0")/.." && pwd)
build_dir=$(cd "$1" && pwd)
if [ ! -f "$build_dir/CPackConfig.cmake" ]; then
  echo "test-deb.sh: $build_dir/CPackConfig.cmake not found: configure that tree with CMake first" >&2
  exit 2
fi
for pkg in apiproxy apiproxy-sdk-dev; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [ -n "$status" ] && [ "$status" != not-installed ]; then
    echo "test-deb.sh: package $pkg is already on this machine ($status); this test installs" \
         "and purges it, so it will not run here" >&2
    exit 2
  fi
done

step() { echo "== $*"; }
fail() { echo "test-deb.sh: FAIL: $*" >&2; exit 1; }

# ---- clean-up, also on failure ------------------------------------------------------------
user_existed=0; getent passwd apiproxy >/dev/null && user_existed=1
group_existed=0; getent group apiproxy >/dev/null && group_existed=1
work=$(mktemp -d /tmp/apiproxy-test-deb.XXXXXX)
server_pid=""
installed=0
cleanup() {
  local rc=$?
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill -KILL "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  if [ "$installed" = 1 ]; then
    dpkg -P apiproxy apiproxy-sdk-dev >/dev/null 2>&1 </dev/null ||
      echo "test-deb.sh: clean-up: dpkg -P failed; remove the packages by hand" >&2
  fi
  # postrm keeps the system account (Debian practice); the test removes the one it caused.
  if [ "$user_existed" = 0 ] && getent passwd apiproxy >/dev/null; then userdel apiproxy || true; fi
  if [ "$group_existed" = 0 ] && getent group apiproxy >/dev/null; then groupdel apiproxy || true; fi
  rm -rf "$work"
  if [ "$rc" -ne 0 ]; then echo "test-deb.sh: FAILED (exit $rc)" >&2; fi
  exit "$rc"
}
trap cleanup EXIT

version=$(sed -n 's/^CMAKE_PROJECT_VERSION:[A-Z]*=//p' "$build_dir/CMakeCache.txt")
[ -n "$version" ] || fail "no CMAKE_PROJECT_VERSION in $build_dir/CMakeCache.txt"
arch=$(dpkg --print-architecture)
deb_version="$version-$(sed -n 's/^APIPROXY_PACKAGE_RELEASE:[A-Z]*=//p' "$build_dir/CMakeCache.txt")"

# ---- build the packages ---------------------------------------------------------------------
step "building the packages (cpack) from $build_dir"
cmake --build "$build_dir" --target apiproxy apiproxy_plugins >"$work/build.log" 2>&1 ||
  { cat "$work/build.log"; fail "build failed"; }
mkdir "$work/pkgs"
(cd "$work/pkgs" && cpack --config "$build_dir/CPackConfig.cmake" -G DEB -B "$work/pkgs") \
  >"$work/cpack.log" 2>&1 || { cat "$work/cpack.log"; fail "cpack failed"; }
deb="$work/pkgs/apiproxy_${deb_version}_${arch}.deb"
sdk_deb="$work/pkgs/apiproxy-sdk-dev_${deb_version}_all.deb"
[ -f "$deb" ] || { ls "$work/pkgs"; fail "expected $(basename "$deb")"; }
[ -f "$sdk_deb" ] || { ls "$work/pkgs"; fail "expected $(basename "$sdk_deb")"; }
[ "$(find "$work/pkgs" -maxdepth 1 -name '*.deb' | wc -l)" -eq 2 ] ||
  { ls "$work/pkgs"; fail "cpack made other packages than apiproxy and apiproxy-sdk-dev"; }

# ---- metadata and contents --------------------------------------------------------------------
step "package metadata"
dpkg-deb -I "$deb"
dpkg-deb -I "$sdk_deb"
field() { dpkg-deb -f "$1" "$2"; }
[ "$(field "$deb" Package)" = apiproxy ] || fail "Package of $deb"
[ "$(field "$deb" Version)" = "$deb_version" ] || fail "Version $(field "$deb" Version), expected $deb_version"
[ "$(field "$deb" Architecture)" = "$arch" ] || fail "Architecture of apiproxy"
[ "$(field "$sdk_deb" Package)" = apiproxy-sdk-dev ] || fail "Package of $sdk_deb"
[ "$(field "$sdk_deb" Architecture)" = all ] || fail "apiproxy-sdk-dev must be Architecture: all"
for f in Maintainer Homepage Description; do
  [ -n "$(field "$deb" $f)" ] || fail "apiproxy has no $f"
  [ -n "$(field "$sdk_deb" $f)" ] || fail "apiproxy-sdk-dev has no $f"
done
depends=$(field "$deb" Depends)
# From dpkg-shlibdeps: the libraries the binary links.
for lib in libc6 libstdc++6 libssl3 libhiredis libjemalloc2; do
  grep -q "\b$lib" <<<"$depends" || fail "apiproxy Depends lacks $lib (shlibdeps?): $depends"
done
for p in passwd ca-certificates; do
  grep -q "\b$p\b" <<<"$depends" || fail "apiproxy Depends lacks $p: $depends"
done
[ "$(dpkg-deb -I "$deb" conffiles)" = /etc/apiproxy/apiproxy.env ] ||
  fail "conffiles must list exactly /etc/apiproxy/apiproxy.env"
for s in postinst prerm postrm; do
  dpkg-deb -I "$deb" "$s" | head -1 | grep -q '^#!/bin/sh' || fail "control script $s missing"
done

step "package contents"
dpkg-deb -c "$deb" >"$work/contents"
dpkg-deb -c "$sdk_deb" >"$work/sdk-contents"
has() { grep -qE " $2\$" "$1" || fail "$(basename "$1") lacks ${2}"; }
has "$work/contents" '\./usr/bin/apiproxy'
has "$work/contents" '\./usr/lib/apiproxy/plugins/[^/]+\.so'
has "$work/contents" '\./lib/systemd/system/apiproxy\.service'
has "$work/contents" '\./etc/apiproxy/apiproxy\.env'
# Never world-readable, even before postinst runs.
grep -qE '^-rw-r----- root/root .* \./etc/apiproxy/apiproxy\.env$' "$work/contents" ||
  fail "apiproxy.env must be packaged 0640 root/root: $(grep apiproxy.env "$work/contents")"
[ "$(grep -cE ' \./usr/bin/[^/]+$' "$work/contents")" -eq 1 ] ||
  fail "only /usr/bin/apiproxy belongs in /usr/bin: $(grep -E ' \./usr/bin/' "$work/contents")"
has "$work/sdk-contents" '\./usr/include/apiproxy/abi\.h'
has "$work/sdk-contents" '\./usr/lib/cmake/ApiProxySDK/ApiProxySDKConfig\.cmake'
has "$work/sdk-contents" '\./usr/lib/cmake/ApiProxySDK/ApiProxyPlugin\.cmake'
grep -qE ' \./usr/(bin|sbin|lib/apiproxy)/' "$work/sdk-contents" &&
  fail "apiproxy-sdk-dev must hold development files only"
grep -qE ' \./usr/include/' "$work/contents" && fail "headers belong in apiproxy-sdk-dev"

# Stripped (CPACK_STRIP_FILES): no symbol table left in the binary or the plugins.
mkdir "$work/x"
dpkg-deb -x "$deb" "$work/x"
for elf in "$work/x/usr/bin/apiproxy" "$work"/x/usr/lib/apiproxy/plugins/*.so; do
  readelf -S "$elf" | grep -q '\.symtab' && fail "$(basename "$elf") is not stripped"
done
plugin_count=$(find "$work/x/usr/lib/apiproxy/plugins" -name '*.so' | wc -l)
echo "binary and $plugin_count plugins are stripped"

# The Docker image installs the same runtime libraries as the package depends on.
runtime_stage=$(sed -n '/^FROM .* AS runtime-base$/,/^FROM /p' "$src_dir/Dockerfile")
[ -n "$runtime_stage" ] || fail "Dockerfile has no stage 'runtime-base'"
for p in $(sed 's/([^)]*)//g; s/[,|]/ /g' <<<"$depends"); do
  grep -qw -- "$p" <<<"$runtime_stage" ||
    fail "Dockerfile's runtime stage does not install $p (a Depends of the .deb)"
done
echo "Dockerfile installs every package the .deb depends on"

# ---- install -----------------------------------------------------------------------------------
step "dpkg -i"
installed=1
dpkg -i "$deb" "$sdk_deb" </dev/null >"$work/dpkg-i.log" 2>&1 || { cat "$work/dpkg-i.log"; fail "dpkg -i"; }
cat "$work/dpkg-i.log"
grep -q "installed but not started" "$work/dpkg-i.log" || fail "postinst did not tell how to start the service"
for pkg in apiproxy apiproxy-sdk-dev; do
  [ "$(dpkg-query -W -f='${db:Status-Status}' $pkg)" = installed ] || fail "$pkg is not installed"
done

step "service account and configuration"
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd apiproxy) || fail "no user apiproxy"
[ "$uid" -lt 1000 ] || fail "apiproxy is not a system user (uid $uid)"
[ "$home" = /nonexistent ] && [ "$shell" = /usr/sbin/nologin ] || fail "apiproxy: home $home shell $shell"
[ "$(id -gn apiproxy)" = apiproxy ] || fail "apiproxy's primary group is $(id -gn apiproxy)"
env_file=/etc/apiproxy/apiproxy.env
[ "$(stat -c '%a %U %G' "$env_file")" = "640 root apiproxy" ] ||
  fail "$env_file is $(stat -c '%a %U %G' "$env_file"), expected 640 root apiproxy"
[ "$(stat -c '%a %U %G' /etc/apiproxy)" = "750 root apiproxy" ] ||
  fail "/etc/apiproxy is $(stat -c '%a %U %G' /etc/apiproxy), expected 750 root apiproxy"
setpriv --reuid=nobody --regid=nogroup --clear-groups cat "$env_file" >/dev/null 2>&1 &&
  fail "other users can read $env_file"
setpriv --reuid=apiproxy --regid=apiproxy --init-groups cat "$env_file" >/dev/null ||
  fail "user apiproxy cannot read $env_file"
# Generated from .env.example: the same lines, but for a header and REDIS_URL on this host.
[ "$(grep -c '^REDIS_URL=' "$env_file")" -eq 1 ] && grep -qx 'REDIS_URL=redis://localhost:6379/0' "$env_file" ||
  fail "$env_file must set exactly REDIS_URL=redis://localhost:6379/0: $(grep REDIS_URL= "$env_file")"
diff <(grep -v 'REDIS_URL=' "$src_dir/.env.example") <(sed '1,/^#$/d' "$env_file" | grep -v 'REDIS_URL=') ||
  fail "$env_file differs from .env.example beyond its header and REDIS_URL"
unit=/lib/systemd/system/apiproxy.service
[ -f "$unit" ] || fail "$unit missing"
grep -qx 'Environment=APIPROXY_ENV_FILE=/etc/apiproxy/apiproxy.env' "$unit" || fail "unit does not name the env file"
grep -qx 'User=apiproxy' "$unit" || fail "unit does not run as apiproxy"
# A first installation leaves the service disabled (placeholder configuration).
[ ! -e /etc/systemd/system/multi-user.target.wants/apiproxy.service ] || fail "the service was enabled on install"
if command -v systemd-analyze >/dev/null; then
  # Only warnings about this unit count: verify also loads the units it names (network-online.target...).
  systemd-analyze verify "$unit" >"$work/verify.log" 2>&1 || true
  if grep -i 'apiproxy' "$work/verify.log"; then fail "systemd-analyze verify $unit"; fi
  echo "systemd-analyze verify: no complaints about apiproxy.service"
else
  echo "systemd-analyze not available: unit file not verified"
fi

# ---- the installed binary -------------------------------------------------------------------
# Runs as the service user, in a clean environment, from /, like the systemd unit.
as_service() {
  (cd / && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin APIPROXY_ENV_FILE="$env_file" "$@")
}
as_apiproxy() { as_service setpriv --reuid=apiproxy --regid=apiproxy --init-groups "$@"; }

step "apiproxy --version"
out=$(/usr/bin/apiproxy --version)
[ "$(head -n 1 <<<"$out")" = "apiproxy $version" ] || fail "--version printed '$out', expected 'apiproxy $version' first"
# The package is built with the default allocator, and its Depends brings it (checked above).
grep -qx 'allocator: jemalloc .*' <<<"$out" || fail "--version printed '$out': the packaged binary does not run on jemalloc"
echo "$out"

step "apiproxy check-config with the installed $env_file"
# The shipped file's providers are placeholders, but complete ones (NAME, BASE_URL,
# API_KEY): check-config cannot tell a placeholder key from a real one, so it reports three
# usable providers and exits 0. (Exit 1 = no usable provider, 2 = a setting it cannot use.)
rc=0; as_apiproxy /usr/bin/apiproxy check-config >"$work/check.out" 2>"$work/check.err" || rc=$?
cat "$work/check.out"
[ "$rc" -eq 0 ] || { cat "$work/check.err"; fail "check-config exited $rc, expected 0"; }
grep -qx "env file: $env_file" "$work/check.out" || fail "check-config did not read $env_file"
grep -qx 'plugins: /usr/lib/apiproxy/plugins' "$work/check.out" || fail "plugins not from /usr/lib/apiproxy/plugins"
grep -q 'providers (3 usable)' "$work/check.out" || fail "expected the three providers of .env.example"
grep -q 'refused' "$work/check.out" && fail "an installed plugin was refused"
grep -q 'sk-your-openai-api-key' "$work/check.out" "$work/check.err" && fail "check-config printed an API key"
# And the exit code means something: without providers it is 1.
rc=0; as_apiproxy env LLM_PROVIDERS= /usr/bin/apiproxy check-config >/dev/null 2>&1 || rc=$?
[ "$rc" -eq 1 ] || fail "check-config without providers exited $rc, expected 1"

step "apiproxy serve as user apiproxy"
# The installed configuration, except: the in-process store (no Redis needed) and one
# provider on a closed loopback port, so nothing leaves 127.0.0.1. Port 0: the kernel picks
# a free one, the log says which.
# `exec` all the way down, so that $! is the gateway's own pid (signals go straight to it).
(cd / && exec env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin APIPROXY_ENV_FILE="$env_file" \
   REDIS_URL=memory:// LOG_FORMAT=text APIPROXY_WORKERS=2 \
   LLM_PROVIDERS=local LLM_PROVIDER_local_BASE_URL=http://127.0.0.1:9 \
   setpriv --reuid=apiproxy --regid=apiproxy --init-groups \
   /usr/bin/apiproxy serve --host 127.0.0.1 --port 0) >"$work/serve.log" 2>&1 &
server_pid=$!
port=""
for _ in $(seq 100); do
  kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log"; fail "the gateway exited at start-up"; }
  port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$work/serve.log" | head -1)
  [ -n "$port" ] && break
  sleep 0.2
done
[ -n "$port" ] || { cat "$work/serve.log"; fail "the gateway did not log 'listening on 127.0.0.1:PORT'"; }
[ "$(readlink "/proc/$server_pid/exe")" = /usr/bin/apiproxy ] && [ "$(stat -c %U "/proc/$server_pid")" = apiproxy ] ||
  fail "pid $server_pid is not /usr/bin/apiproxy running as apiproxy"
base="http://127.0.0.1:$port"
health=$(curl -fsS --max-time 5 "$base/health") || { cat "$work/serve.log"; fail "GET /health"; }
echo "GET /health: $health"
plugin_stats=$(sed -n 's/.*"plugins":{\([^}]*\)}.*/\1/p' <<<"$health")  # {"strategies":N,"providers":M,...}
stat_of() { sed -n "s/.*\"$1\":\([0-9]*\).*/\1/p" <<<"$plugin_stats"; }
strategies=$(stat_of strategies)
adapters=$(stat_of providers)
[ "$(stat_of rejected)" != "" ] && [ "$(stat_of rejected)" -ne 0 ] && fail "/health: plugins were refused"
[ -n "$strategies" ] && [ -n "$adapters" ] || fail "/health has no plugin counts"
[ "$strategies" -ge 1 ] && [ "$adapters" -ge 1 ] && [ $((strategies + adapters)) -eq "$plugin_count" ] ||
  fail "/health reports $strategies strategies + $adapters adapters; the package has $plugin_count plugins"
grep -q '"kind":"memory"' <<<"$health" || fail "/health: expected the in-process store"
# The token comes from the installed file: no token 401, its base64 200.
token=$(sed -n 's/^APIPROXY_AUTH_TOKEN=\([^ #]*\).*/\1/p' "$env_file")
code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 "$base/plugins")
[ "$code" = 401 ] || fail "GET /plugins without a token: $code, expected 401"
plugins=$(curl -fsS --max-time 5 -H "Authorization: Bearer $(/usr/bin/apiproxy encode-token "$token")" "$base/plugins") ||
  fail "GET /plugins with the token of $env_file"
grep -q '"plugin_dir":"/usr/lib/apiproxy/plugins"' <<<"$plugins" || fail "GET /plugins: $plugins"
generation() { sed -n 's/.*"generation":\([0-9]*\).*/\1/p' <<<"$1"; }
gen_before=$(generation "$plugins")

step "SIGHUP (systemctl reload) re-scans the plugins and keeps serving"
kill -HUP "$server_pid"
sleep 1
kill -0 "$server_pid" 2>/dev/null || { cat "$work/serve.log"; fail "the gateway died on SIGHUP"; }
plugins=$(curl -fsS --max-time 5 -H "Authorization: Bearer $(/usr/bin/apiproxy encode-token "$token")" "$base/plugins") ||
  fail "GET /plugins after SIGHUP"
if [ -n "$gen_before" ]; then
  gen_after=$(generation "$plugins")
  [ -n "$gen_after" ] && [ "$gen_after" -gt "$gen_before" ] ||
    fail "plugin generation $gen_before before SIGHUP, ${gen_after:-none} after"
  echo "plugin generation $gen_before -> $gen_after"
fi
curl -fsS --max-time 5 -o /dev/null "$base/health" || fail "GET /health after SIGHUP"

step "SIGTERM: graceful stop, exit 0"
kill -TERM "$server_pid"
for _ in $(seq 450); do kill -0 "$server_pid" 2>/dev/null || break; sleep 0.1; done
kill -0 "$server_pid" 2>/dev/null && fail "still running 45 s after SIGTERM"
rc=0; wait "$server_pid" || rc=$?
server_pid=""
[ "$rc" -eq 0 ] || { tail -20 "$work/serve.log"; fail "the gateway exited $rc after SIGTERM"; }
tail -3 "$work/serve.log"

# ---- the SDK package -----------------------------------------------------------------------
step "plugins built against the installed SDK"
for f in /usr/include/apiproxy/abi.h /usr/include/apiproxy/strategy.hpp /usr/include/apiproxy/provider.hpp \
         /usr/lib/cmake/ApiProxySDK/ApiProxySDKConfig.cmake /usr/lib/cmake/ApiProxySDK/ApiProxySDKConfigVersion.cmake \
         /usr/lib/cmake/ApiProxySDK/ApiProxyPlugin.cmake; do
  [ -f "$f" ] || fail "$f missing"
done
# Every example the package ships, built as a plugin author would: find_package() must find
# the SDK in /usr with no hints, and the installed gateway must load the results.
mapfile -t examples < <(dpkg -L apiproxy-sdk-dev | grep '/examples/[^/]*/CMakeLists\.txt$' | xargs -r -n1 dirname)
[ "${#examples[@]}" -ge 1 ] || fail "apiproxy-sdk-dev ships no example plugin to build"
mkdir "$work/plugins"
for ex in "${examples[@]}"; do
  name=$(basename "$ex")
  cp -r "$ex" "$work/src-$name"
  (cd / && env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin cmake -S "$work/src-$name" -B "$work/build-$name" \
      -DCMAKE_BUILD_TYPE=Release && cmake --build "$work/build-$name") >"$work/example-$name.log" 2>&1 ||
    { cat "$work/example-$name.log"; fail "example $name does not build against the installed SDK"; }
  find "$work/build-$name" -name '*.so' -exec cp {} "$work/plugins/" \;
done
built=$(find "$work/plugins" -name '*.so' | wc -l)
[ "$built" -ge "${#examples[@]}" ] || fail "the examples built $built plugins"
# (Exit status 1 here: without the bundled adapters no provider is usable.)
as_service env APIPROXY_PLUGIN_DIR="$work/plugins" /usr/bin/apiproxy check-config >"$work/check2.out" 2>&1 || true
loaded=$(grep -cE '^  (strategy|provider) ' "$work/check2.out" || true)
grep -q 'refused' "$work/check2.out" && { cat "$work/check2.out"; fail "the gateway refused an example plugin"; }
[ "$loaded" -eq "$built" ] || { cat "$work/check2.out"; fail "$built example plugins built, $loaded loaded"; }
echo "${#examples[@]} example(s) built against /usr/lib/cmake/ApiProxySDK; the gateway loads all $loaded plugin(s)"

# ---- upgrade in place keeps the operator's configuration --------------------------------------
step "reinstall keeps an edited $env_file"
echo "# edited by test-deb.sh" >>"$env_file"
dpkg -i "$deb" </dev/null >"$work/dpkg-i2.log" 2>&1 || { cat "$work/dpkg-i2.log"; fail "reinstall"; }
grep -q '^# edited by test-deb.sh$' "$env_file" || fail "reinstalling replaced the edited conffile"
[ "$(stat -c '%a %U %G' "$env_file")" = "640 root apiproxy" ] || fail "reinstall changed the conffile's permissions"

# ---- remove and purge ---------------------------------------------------------------------------
step "dpkg -r, then dpkg -P"
dpkg -r apiproxy apiproxy-sdk-dev </dev/null >/dev/null
for f in /usr/bin/apiproxy /usr/lib/apiproxy /usr/include/apiproxy /usr/lib/cmake/ApiProxySDK "$unit"; do
  [ ! -e "$f" ] || fail "$f is still there after dpkg -r"
done
command -v apiproxy >/dev/null && fail "apiproxy still on PATH after dpkg -r"
[ -f "$env_file" ] || fail "dpkg -r removed the conffile (only purge may)"
[ "$(dpkg-query -W -f='${db:Status-Status}' apiproxy)" = config-files ] || fail "apiproxy not in state config-files"
# apiproxy-sdk-dev has no conffiles: `dpkg -r` already removed it completely.
dpkg -P apiproxy </dev/null >/dev/null
installed=0
[ ! -e /etc/apiproxy ] || fail "/etc/apiproxy is still there after dpkg -P"
[ ! -e /etc/systemd/system/apiproxy.service ] && [ ! -L /etc/systemd/system/apiproxy.service ] ||
  fail "a mask of apiproxy.service is left after purge"
for pkg in apiproxy apiproxy-sdk-dev; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  [ -z "$status" ] || [ "$status" = not-installed ] || fail "$pkg is still known to dpkg: $status"
done

echo "test-deb.sh: OK — $(basename "$deb"), $(basename "$sdk_deb")"
