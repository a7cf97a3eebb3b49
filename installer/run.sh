#!/usr/bin/env bash
# Sets up, builds and starts Sluice. Until the gateway server and the console
# land, this runs the headless pieces that exist: it validates the example
# gateway configuration and prints a cost and capacity summary for it.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$top/installer/setup.sh" --preset dev
exec "$top/build/dev/app/gateway/sluice-gateway" --check-config "$top/resources/examples/gateway.json"
