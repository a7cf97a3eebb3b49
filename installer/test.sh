#!/usr/bin/env bash
# Sets up, builds and runs every test (unit, integration against real servers
# started on 127.0.0.1, offscreen GUI, benchmark smoke runs).
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$top/installer/setup.sh" --preset dev
export QT_QPA_PLATFORM=offscreen
cd "$top/build/dev"
ctest --output-on-failure --parallel "$(nproc)" "$@"
