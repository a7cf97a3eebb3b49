#!/usr/bin/env bash
# Sets up, builds and starts the Sluice console. On a first start (no saved
# deployment profile) the console runs an embedded sandbox — an in-process gateway in
# front of the simulated provider, with simulated users — and shows it live.
# Extra arguments go to the console (e.g. --sandbox, --profile NAME, --settings-dir DIR).
#
# The console needs a display (X11 or Wayland). Headless: `xvfb-run ./installer/run.sh`,
# or run the gateway alone with `build/dev/app/gateway/sluice-gateway --demo`.
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
"$top/installer/setup.sh" --preset dev
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  echo "run.sh: no display (DISPLAY / WAYLAND_DISPLAY are unset)." >&2
  echo "        Use 'xvfb-run ./installer/run.sh', or the gateway alone:" >&2
  echo "        $top/build/dev/app/gateway/sluice-gateway --demo" >&2
  exit 1
fi
exec "$top/build/dev/app/console/sluice" "$@"
