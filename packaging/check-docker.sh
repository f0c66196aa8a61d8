#!/usr/bin/env bash
# Checks the Docker files without a Docker engine (CI has none):
#  * docker-compose.yml, as `docker-compose config` resolves it after the configuration
#    guide's `cp .env.example .env`: both services, the published port, the healthchecks,
#    depends_on service_healthy, the Redis password (the template's, a changed one, and
#    a refusal to start without one);
#  * Dockerfile and .dockerignore: the stages and instructions the image relies on, build
#    packages that scripts/install-deps.sh also installs (the CI toolchain), CMake options
#    that exist, and that the runtime stages copy only /staging from the compile stages
#    (packaging/test-container.sh swaps those for CI's already-built tree).
# (packaging/test-container.sh builds the images with podman and runs the stack for real.)
# (packaging/test-deb.sh checks that the image's runtime packages cover the .deb's Depends.)
#
#   packaging/check-docker.sh
#
# Installs Debian's docker-compose (1.29, Python, no engine needed for `config`) when it is
# missing and it runs as root; otherwise skips the Compose part with a message.
set -euo pipefail
cd "$(dirname "$0")/.."
src=$(pwd)

fail() { echo "check-docker.sh: FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

work=$(mktemp -d /tmp/apiproxy-check-docker.XXXXXX)
trap 'rm -rf "$work"' EXIT

# ---- Dockerfile -----------------------------------------------------------------------------
step "Dockerfile"
df=Dockerfile
stages=$(sed -n 's/^FROM [^ ]* AS \([a-z0-9_-]*\)$/\1/p' "$df")
for s in build runtime-base mock-upstream apiproxy; do
  grep -qx "$s" <<<"$stages" || fail "Dockerfile has no stage '$s'"
done
grep -q '^FROM debian:12-slim AS build$' "$df" || fail "the build stage must be debian:12-slim"
build_stage_text=$(sed -n '/^FROM debian:12-slim AS build$/,/^FROM /p' "$df")
grep -q '^FROM debian:12-slim AS runtime-base$' "$df" || fail "the runtime stage must be debian:12-slim"
[ "$(tail -n 1 <<<"$stages")" = apiproxy ] || fail "the last stage (docker build's default) must be 'apiproxy'"
for ref in $(sed -n 's/.*--from=\([a-z0-9_-]*\).*/\1/p;s/^FROM \([a-z0-9_-]*\) AS .*/\1/p' "$df" | sort -u); do
  case "$ref" in debian:*) continue ;; esac
  grep -qx "$ref" <<<"$stages" || fail "Dockerfile refers to an undefined stage '$ref'"
done
# The runtime stages take the binaries only from /staging of the two compile stages, so that
# packaging/test-container.sh can swap those stages (their FROM lines, exactly these) for an
# image of an already-built tree and the other stages stay the ones `docker build .` runs.
grep -qx 'FROM build AS mock-build' "$df" || fail 'the mock stage must be "FROM build AS mock-build"'
grep -q 'DESTDIR=/staging cmake --install /build --component runtime --strip' <<<"$build_stage_text" ||
  fail "the build stage must install the runtime component into /staging"
grep -q '/staging/usr/bin/apiproxy-mock-upstream' <<<"$(sed -n '/^FROM build AS mock-build$/,/^FROM /p' "$df")" ||
  fail "the mock-build stage must put the mock at /staging/usr/bin/apiproxy-mock-upstream"
for s in apiproxy mock-upstream; do
  copies=$(sed -n "/^FROM runtime-base AS $s\$/,/^FROM /p" "$df" | grep -- '--from=' || true)
  want=build; [ "$s" = mock-upstream ] && want=mock-build
  [ -n "$copies" ] || fail "stage $s copies nothing from $want"
  grep -v -- "--from=$want /staging/" <<<"$copies" &&
    fail "stage $s may copy only /staging/... from the stage $want (above)"
done
grep -q -- '--from=build /staging/usr/bin/apiproxy ' "$df" && grep -q -- '--from=build /staging/usr/lib/apiproxy/plugins/ ' "$df" ||
  fail "the apiproxy stage must copy /staging/usr/bin/apiproxy and /staging/usr/lib/apiproxy/plugins/"
[ "$(grep -c '^FROM \(debian:12-slim AS build\|build AS mock-build\)$' "$df")" = 2 ] ||
  fail "test-container.sh swaps exactly two compile stages"

final=$(sed -n '/^FROM runtime-base AS apiproxy$/,$p' "$df")
grep -q '^USER apiproxy$' <<<"$final" || fail "the image must run as the unprivileged user apiproxy"
grep -q '^EXPOSE 8000$' <<<"$final" || fail "EXPOSE 8000"
# HEALTHCHECK probes /health with the gateway's own `apiproxy health`, or with a tool the
# runtime stage installs.
hc=$(sed -n '/^HEALTHCHECK /,/[^\\]$/p' <<<"$final")
[ -n "$hc" ] || fail "the apiproxy stage has no HEALTHCHECK"
grep -qE '"apiproxy", "health"|/health' <<<"$hc" || fail "HEALTHCHECK must probe /health: $hc"
runtime_pkgs=$(sed -n '/^FROM debian:12-slim AS runtime-base$/,/^FROM /p' "$df" | sed -n '/apt-get install/,/rm -rf/p')
for tool in curl wget; do
  if grep -qw "$tool" <<<"$hc" && ! grep -qw "$tool" <<<"$runtime_pkgs"; then
    fail "HEALTHCHECK runs $tool, which the runtime stage does not install"
  fi
done
grep -qx 'CMD \["apiproxy", "serve"\]' <<<"$final" || fail 'CMD ["apiproxy", "serve"]'
grep -q 'apiproxy/plugins' <<<"$final" || fail "the image must carry the plugins"

# The build stage installs a subset of what CI builds with (scripts/install-deps.sh).
build_stage=$(sed -n '/^FROM debian:12-slim AS build$/,/^FROM /p' "$df")
build_pkgs=$(sed -n '/apt-get install/,/rm -rf/p' <<<"$build_stage" | tr ' \\' '\n\n' |
             grep -E '^[a-z0-9][a-z0-9.+-]+$' | grep -vE '^(apt-get|install|rm|update|DEBIAN_FRONTEND.*)$' || true)
[ -n "$build_pkgs" ] || fail "could not read the build stage's apt packages"
for p in $build_pkgs; do
  grep -qw -- "$p" scripts/install-deps.sh || fail "Dockerfile build package $p is not in scripts/install-deps.sh"
done
# Every -DAPIPROXY_* option the Dockerfile sets is one the build defines.
for opt in $(grep -o -- '-DAPIPROXY_[A-Z_]*' "$df" | sort -u); do
  grep -q "option(${opt#-D} " CMakeLists.txt || fail "Dockerfile sets unknown option ${opt#-D}"
done
echo "stages: $(tr '\n' ' ' <<<"$stages")"

step ".dockerignore"
for pat in '.env' '.git/' 'node_modules/' 'build*'; do
  grep -qxF -- "$pat" .dockerignore || fail ".dockerignore must exclude $pat"
done
# Files the build needs must not be excluded.
grep -qE '^(\.env\.example|\*\.example|packaging|\*\.cmake|CMakeLists\.txt)' .dockerignore &&
  fail ".dockerignore excludes files the image build needs"
echo "ok"

# ---- docker-compose.yml -----------------------------------------------------------------------
step "docker-compose.yml"
if ! command -v docker-compose >/dev/null; then
  if [ "$(id -u)" -eq 0 ]; then
    echo "installing Debian's docker-compose (for 'docker-compose config' only)"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
  else
    echo "check-docker.sh: docker-compose not installed and not root: Compose file NOT checked"
    echo "check-docker.sh: OK (Dockerfile only)"
    exit 0
  fi
fi

# The configuration guide's flow: cp .env.example .env; REDIS_URL=redis://redis:6379/0.
resolve() {  # resolve DIR: prints the resolved file as JSON
  (cd "$1" && docker-compose -f docker-compose.yml config) >"$1/resolved.yml" 2>"$1/config.err" ||
    { cat "$1/config.err"; fail "docker-compose config"; }
  /usr/bin/python3 -c 'import json, sys, yaml; print(json.dumps(yaml.safe_load(open(sys.argv[1]))))' "$1/resolved.yml"
}
mkdir "$work/plain" "$work/password" "$work/none"
for d in plain password none; do
  cp docker-compose.yml "$work/$d/"
  cp .env.example "$work/$d/.env"
done
grep -qx 'REDIS_PASSWORD=[^ ]*' .env.example || fail ".env.example must set REDIS_PASSWORD"
sed -i 's/^REDIS_PASSWORD=.*/REDIS_PASSWORD=s3cret/' "$work/password/.env"
sed -i '/^REDIS_PASSWORD=/d' "$work/none/.env"
resolve "$work/plain" >"$work/plain.json"
resolve "$work/password" >"$work/password.json"
# Without a password Compose must refuse, naming the variable.
if (cd "$work/none" && docker-compose -f docker-compose.yml config) >/dev/null 2>"$work/none.err"; then
  fail "docker-compose config accepted a .env without REDIS_PASSWORD"
fi
grep -q REDIS_PASSWORD "$work/none.err" || { cat "$work/none.err"; fail "the refusal does not name REDIS_PASSWORD"; }

/usr/bin/python3 - "$work/plain.json" "$work/password.json" "$src" <<'PY'
import json, re, sys

plain = json.load(open(sys.argv[1]))
dockerfile = open(sys.argv[3] + "/Dockerfile").read()
runtime_stage = dockerfile.split("AS runtime-base\n", 1)[1].split("\nFROM ", 1)[0]
runtime_pkgs = runtime_stage.split("apt-get install", 1)[1].split("rm -rf", 1)[0] if "apt-get install" in runtime_stage else ""
password = json.load(open(sys.argv[2]))
src = sys.argv[3]
errors = []

def check(cond, what):
    if not cond:
        errors.append(what)

def seconds(d):  # a Compose duration such as 40s, 1m30s or 1m
    total, num = 0.0, ""
    for ch in str(d):
        if ch.isdigit() or ch == ".":
            num += ch
        else:
            total += float(num or 0) * {"h": 3600, "m": 60, "s": 1}.get(ch, 0)
            num = ""
    return total + float(num or 0)

template_password = next(l.split("=", 1)[1].strip() for l in open(src + "/.env.example")
                         if l.startswith("REDIS_PASSWORD="))

for name, c in (("the template's password", plain), ("a changed password", password)):
    s = c.get("services", {})
    check(set(s) == {"apiproxy", "redis"}, f"{name}: services are {sorted(s)}")
    a, r = s.get("apiproxy", {}), s.get("redis", {})
    check(a.get("build", {}).get("context", "").rstrip("/").endswith(("plain", "password")),
          f"{name}: apiproxy must build from the project directory")
    ports = a.get("ports", [])
    check(any(str(p.get("published")) == "8000" and str(p.get("target")) == "8000" for p in ports),
          f"{name}: apiproxy must publish 8000:8000, has {ports}")
    check(a.get("depends_on", {}).get("redis", {}).get("condition") == "service_healthy",
          f"{name}: apiproxy must wait for a healthy redis")
    hc = a.get("healthcheck", {}).get("test", [])
    hc_text = " ".join(hc)
    check("/health" in hc_text or hc[1:3] == ["apiproxy", "health"], f"{name}: apiproxy healthcheck on /health: {hc}")
    # The command must exist in the image: the gateway's own probe, or a tool the runtime stage installs.
    hc_cmd = (hc[1] if hc[:1] == ["CMD"] else hc_text.split()[1]) if len(hc) > 1 else ""
    check(hc_cmd == "apiproxy" or re.search(r"\b%s\b" % re.escape(hc_cmd), runtime_pkgs),
          f"{name}: the apiproxy healthcheck runs {hc_cmd!r}, which the image does not have")
    env = a.get("environment", {})
    # env_file .env reached the gateway (the guide's whole configuration).
    check(env.get("LLM_PROVIDERS") == "openai,azure,local", f"{name}: env_file .env not passed to apiproxy")
    check(env.get("APIPROXY_HOST") == "0.0.0.0" and str(env.get("APIPROXY_PORT")) == "8000",
          f"{name}: the container must listen on 0.0.0.0:8000")
    check(r.get("image", "").startswith("redis:7"), f"{name}: redis image is {r.get('image')}")
    check("ping" in " ".join(r.get("healthcheck", {}).get("test", [])), f"{name}: redis healthcheck must ping")
    check(any(v.get("target") == "/data" if isinstance(v, dict) else ":/data" in v for v in r.get("volumes", [])),
          f"{name}: redis needs a volume on /data")
    check(seconds(a.get("stop_grace_period", "0s")) > 30,
          f"{name}: stop_grace_period must exceed the 30 s drain")

def requirepass(c):
    cmd = c["services"]["redis"].get("command", [])
    return cmd[cmd.index("--requirepass") + 1] if "--requirepass" in cmd else None

# Redis requires REDIS_PASSWORD; the gateway gets the same variable and the guide's
# REDIS_URL as written (it sends the password itself).
for name, c, pw in (("template", plain, template_password), ("changed", password, "s3cret")):
    a_env = c["services"]["apiproxy"]["environment"]
    check(a_env.get("REDIS_URL") == "redis://redis:6379/0",
          f"{name}: REDIS_URL from .env.example must be redis://redis:6379/0")
    check(requirepass(c) == pw, f"{name}: --requirepass {requirepass(c)!r}, expected {pw!r}")
    check(c["services"]["redis"].get("environment", {}).get("REDISCLI_AUTH") == pw,
          f"{name}: the healthcheck must authenticate (REDISCLI_AUTH)")
    check(a_env.get("REDIS_PASSWORD") == pw, f"{name}: REDIS_PASSWORD must reach apiproxy")

for e in errors:
    print("check-docker.sh: FAIL:", e, file=sys.stderr)
sys.exit(1 if errors else 0)
PY
echo "compose file resolves with the template's and a changed REDIS_PASSWORD, and refuses none"
echo "check-docker.sh: OK"
