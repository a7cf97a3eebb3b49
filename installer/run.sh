#!/usr/bin/env bash
# Sets up, builds and starts Sluice. The gateway server and the console land in
# later issues; until then this runs the headless pieces that exist: it checks
# the example gateway configuration and prints the complete default one.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$top/installer/setup.sh" --preset dev
gateway="$top/build/dev/app/gateway/sluice-gateway"
"$gateway" --version
"$gateway" --check-config "$top/resources/examples/gateway.json"
exec "$gateway" --print-default-config
