#!/usr/bin/env bash
# Sets up a Debian 12 machine for Sluice and builds it. Idempotent: packages
# already present are not touched, and a configured build tree is reused.
#
#   installer/setup.sh [--preset dev|asan|release] [--no-build] [--packages-only]
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/.." && pwd)
preset=dev
build=1
while [ $# -gt 0 ]; do
  case "$1" in
    --preset) preset=$2; shift 2 ;;
    --no-build|--packages-only) build=0; shift ;;
    -h|--help) sed -n '2,6p' "$0"; exit 0 ;;
    *) echo "setup.sh: unknown option $1" >&2; exit 2 ;;
  esac
done

packages=(
  # toolchain
  g++ clang cmake ninja-build pkg-config git
  # Qt 6: core, network, widgets, charts (which needs the OpenGL dev package), svg, test tools
  qt6-base-dev qt6-base-dev-tools qt6-charts-dev libqt6opengl6-dev qt6-svg-dev
  qtkeychain-qt6-dev
  # HTTP parsing, TLS, shared state
  libhttp-parser-dev libssl-dev libhiredis-dev libpqxx-dev
  # real servers the integration tests start, and the deployment pieces
  redis-server postgresql prometheus nginx-light
  # benchmarks, load, screenshots
  libbenchmark-dev wrk xvfb xauth
  # test certificates for the upstream client's TLS tests
  openssl
)
# The official OpenAI/Anthropic client libraries are tested with Node.js; a node
# already on the machine (often newer than Debian's) is used as it is.
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then
  packages+=(nodejs npm)
fi

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if [ ${#missing[@]} -gt 0 ]; then
  echo "setup.sh: installing ${missing[*]}"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "setup.sh: all ${#packages[@]} packages present"
fi

[ "$build" -eq 1 ] || exit 0

cd "$top"
cmake --preset "$preset"
cmake --build --preset "$preset"
