#!/bin/sh
# Runs sdk_test.mjs: the official OpenAI and Anthropic Node client libraries against
# `sluice-gateway --demo`.
#
# Usage: run_sdk_test.sh PATH/TO/sluice-gateway   (or GATEWAY=... / SLUICE_GATEWAY=...)
# Exit status: 0 passed, 1 failed, 2 usage error, 77 skipped (no node/npm, or the
# client libraries cannot be installed) — ctest's SKIP_RETURN_CODE.
#
# Dependencies are installed with `npm ci` from the committed package-lock.json into
# node_modules next to this script (git-ignored); --prefer-offline reuses npm's cache,
# so after the first run no network is needed. The lock file names no registry: npm
# uses whichever one the machine is configured for.
set -u

GATEWAY=${1:-${GATEWAY:-${SLUICE_GATEWAY:-}}}
if [ -z "$GATEWAY" ]; then
    echo "usage: $0 PATH/TO/sluice-gateway" >&2
    exit 2
fi
case "$GATEWAY" in
    /*) ;;
    *) GATEWAY="$(pwd)/$GATEWAY" ;;
esac
if [ ! -x "$GATEWAY" ]; then
    echo "run_sdk_test.sh: $GATEWAY is not an executable" >&2
    exit 2
fi

if ! command -v node >/dev/null 2>&1; then
    echo "SKIP: node is not installed (the SDK compatibility test needs Node.js 20+ and npm)"
    exit 77
fi
if ! command -v npm >/dev/null 2>&1; then
    echo "SKIP: npm is not installed (the SDK compatibility test needs Node.js 20+ and npm)"
    exit 77
fi
NODE_MAJOR=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if [ "$NODE_MAJOR" -lt 20 ]; then
    echo "SKIP: node $(node --version) is too old (the SDK compatibility test needs Node.js 20+)"
    exit 77
fi

cd "$(dirname "$0")" || exit 1

# Reinstall only when the lock file changed since the last install (npm ci always wipes node_modules).
if [ ! -f node_modules/.package-lock.json ] || ! cmp -s package-lock.json node_modules/.sluice-installed-lock; then
    if ! npm ci --no-audit --no-fund --prefer-offline --loglevel=error; then
        echo "SKIP: npm ci failed (no registry access and nothing in npm's cache?)"
        exit 77
    fi
    cp package-lock.json node_modules/.sluice-installed-lock
fi

exec node sdk_test.mjs "$GATEWAY"
