#!/usr/bin/env bash
# Builds the release preset and runs every Google Benchmark program, printing
# one table per program. Extra arguments go to each benchmark binary, e.g.
#   tests/bench/run_micro.sh --benchmark_filter=Gcra
set -euo pipefail
top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
"$top/installer/setup.sh" --preset release
for bench in "$top"/build/release/tests/bench/bench_*; do
  [ -x "$bench" ] || continue
  echo "=== $(basename "$bench")"
  "$bench" --benchmark_min_time=0.5 "$@"
done
