#!/usr/bin/env bash
# Sets up, builds and starts Sluice. Until the console lands (a later issue) this
# starts the gateway in demo mode: the gateway plus an in-process simulated
# provider on 127.0.0.1, printing its URLs, a client key and the admin token.
# Extra arguments go to sluice-gateway (e.g. --port 0 --admin-port 0).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$top/installer/setup.sh" --preset dev
exec "$top/build/dev/app/gateway/sluice-gateway" --demo "$@"
