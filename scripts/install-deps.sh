#!/usr/bin/env bash
# Installs every build and test dependency from Debian's packages. Idempotent: it installs
# only what is missing and prints nothing when everything is already there.
set -euo pipefail

packages=(
  build-essential cmake ninja-build pkg-config git ca-certificates curl
  libboost-dev libboost-filesystem-dev libboost-system-dev
  libhiredis-dev rapidjson-dev libspdlog-dev libfmt-dev libssl-dev
  libgtest-dev libgmock-dev libbenchmark-dev libjemalloc-dev
  redis-server redis-tools
  # clang: the SDK headers are compiled with both compilers; dpkg-dev: CPack's .deb and
  # its shared-library dependencies; prometheus: promtool checks our /metrics output.
  clang dpkg-dev file prometheus
)

# The OpenAI SDK test runs the official `openai` npm package: it needs node and npm, which
# some images ship outside Debian's packages (then there is nothing to install).
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  sudo="sudo"
fi
echo "install-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
