#!/usr/bin/env bash
# Load benchmark: wrk against the simulated provider directly, nginx in front of it (the
# baseline reverse proxy), and sluice-gateway in front of it with the cache off and with
# every request a cache hit — first with limits and cache local to the instance, then
# with both in Redis (a redis-server the script starts: one admission EVALSHA per request,
# pipelined with a GET of the shared cache entry, and a fire-and-forget settle EVALSHA /
# SET). Prints a Markdown table (requests/s, wrk's p50/p99, errors, and the CPU time the
# proxy and the simulator spent per request, from /proc), the gateway's own overhead
# (sluice_gateway_overhead_seconds) read from its /metrics, the Redis traffic per request
# (sluice_redis_commands_total, INFO commandstats, Redis' CPU from /proc) with the
# Redis-backed ÷ local requests/s ratio, and redis-benchmark numbers for orientation.
# Exits 1 if any run saw a non-2xx answer, a socket error, a gateway crash, or (Redis
# runs) a fallback to local limits or a failed Redis command.
#
#   tests/bench/load/run_load.sh
#   DURATION=30s CONNECTIONS=128 tests/bench/load/run_load.sh
#
# Environment (all optional):
#   SLUICE_GATEWAY   sluice-gateway binary; default: build the release preset and use
#                    build/release/app/gateway/sluice-gateway
#   DURATION         wrk duration per target (default 10s)
#   WARMUP           wrk warm-up per target, not measured (default 2s; 0 to skip)
#   CONNECTIONS      wrk connections (default 64)
#   WRK_THREADS      wrk threads (default 2)
#   PROXY_WORKERS    nginx worker_processes and the gateway's server.threads (default 2)
#   SIM_THREADS      the simulator's event-loop threads (default 1)
#   LOG_LEVEL        the gateway's logging.level (default warn: no line per request)
#   REDIS_BENCH_REQUESTS  requests per redis-benchmark case (default 200000; 0 to skip)
#   KEEP_TMP=1       keep the temp dir (configs, logs) and print its path
#
# Needs wrk, nginx, redis-server and redis-cli; redis-benchmark (redis-tools) is optional.
# Everything listens on 127.0.0.1 on free ports and runs in a temp dir; every process is
# stopped by pid on exit. wrk, the simulator and the proxies share the machine's cores,
# so compare the rows of one run (ratios), not absolute numbers across machines.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
top=$(cd "$here/../../.." && pwd)

DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNECTIONS=${CONNECTIONS:-64}
WRK_THREADS=${WRK_THREADS:-2}
PROXY_WORKERS=${PROXY_WORKERS:-2}
SIM_THREADS=${SIM_THREADS:-1}
LOG_LEVEL=${LOG_LEVEL:-warn}
REDIS_BENCH_REQUESTS=${REDIS_BENCH_REQUESTS:-200000}
BENCH_KEY=sk-sluice-bench-load
MODEL=gpt-4o-mini

die() {
  echo "run_load.sh: $*" >&2
  exit 1
}

# --- tools --------------------------------------------------------------------------
command -v wrk >/dev/null 2>&1 \
  || die "wrk not found; install it with installer/setup.sh (or: apt-get install wrk)"
nginx_bin=$(command -v nginx 2>/dev/null || true)
[ -z "$nginx_bin" ] && [ -x /usr/sbin/nginx ] && nginx_bin=/usr/sbin/nginx
[ -n "$nginx_bin" ] \
  || die "nginx not found; install it with installer/setup.sh (or: apt-get install nginx-light)"
command -v redis-server >/dev/null 2>&1 \
  || die "redis-server not found; install it with installer/setup.sh (or: apt-get install redis-server)"
command -v redis-cli >/dev/null 2>&1 \
  || die "redis-cli not found; install it with installer/setup.sh (or: apt-get install redis-tools)"
for tool in curl sha256sum awk sed; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool not found"
done

if [ -n "${SLUICE_GATEWAY:-}" ]; then
  gateway_bin=$SLUICE_GATEWAY
  [ -x "$gateway_bin" ] || die "SLUICE_GATEWAY=$gateway_bin is not an executable"
else
  gateway_bin=$top/build/release/app/gateway/sluice-gateway
  echo "Building sluice-gateway (release preset) ..." >&2
  (cd "$top" && { [ -f build/release/CMakeCache.txt ] || cmake --preset release >&2; } \
    && cmake --build build/release --target sluice-gateway >&2) \
    || die "building the release preset failed"
  [ -x "$gateway_bin" ] || die "no gateway binary at $gateway_bin after the build"
fi

# The proxies and curl must reach 127.0.0.1 directly.
unset http_proxy HTTP_PROXY https_proxy HTTPS_PROXY all_proxy ALL_PROXY no_proxy NO_PROXY

# --- processes ----------------------------------------------------------------------
tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-load.XXXXXX")
# nginx started as root runs its workers as nobody; they must be able to enter the dir.
chmod 711 "$tmp"
pids=()

cleanup() {
  local status=$?
  local pid
  for pid in "${pids[@]}"; do
    kill -TERM "$pid" 2>/dev/null || true
  done
  for pid in "${pids[@]}"; do
    for _ in $(seq 50); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  done
  if [ "${KEEP_TMP:-0}" = 1 ]; then
    echo "run_load.sh: kept $tmp" >&2
  else
    rm -rf "$tmp"
  fi
  exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# A port nothing listens on, below the usual ephemeral range (32768-60999) so it does not
# collide with wrk's and the proxies' outgoing connections. Another process may still
# take it before ours binds; wait_ready then reports the failure.
used_ports=" "
free_port() {
  local port
  for _ in $(seq 200); do
    port=$((20000 + RANDOM % 12000))
    case "$used_ports" in *" $port "*) continue ;; esac
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      used_ports="$used_ports$port "
      echo "$port"
      return 0
    fi
  done
  die "no free port found"
}

# request_ok URL [key]: one chat request; succeeds if the answer is 200 with a choice.
request_ok() {
  local url=$1 key=${2:-$BENCH_KEY} code
  code=$(curl -sS -m 5 -o "$tmp/probe.json" -w '%{http_code}' "$url" \
    -H 'Content-Type: application/json' -H "Authorization: Bearer $key" \
    -d "{\"model\":\"$MODEL\",\"messages\":[{\"role\":\"user\",\"content\":\"probe\"}]}" 2>/dev/null) || return 1
  [ "$code" = 200 ] && grep -q '"choices"' "$tmp/probe.json"
}

# wait_ready NAME PID LOG URL: waits up to 15 s for a 200 chat answer from URL while PID
# lives; on failure prints LOG's tail and exits.
wait_ready() {
  local name=$1 pid=$2 log=$3 url=$4
  for _ in $(seq 150); do
    if ! kill -0 "$pid" 2>/dev/null; then
      echo "run_load.sh: $name exited during start-up; last lines of $log:" >&2
      tail -n 20 "$log" >&2 || true
      exit 1
    fi
    request_ok "$url" && return 0
    sleep 0.1
  done
  echo "run_load.sh: $name did not answer a chat request at $url within 15 s; last lines of $log:" >&2
  tail -n 20 "$log" >&2 || true
  [ -f "$tmp/probe.json" ] && { echo "last answer:" >&2; head -c 500 "$tmp/probe.json" >&2; echo >&2; }
  exit 1
}

stop_pid() {
  local pid=$1 kept=()
  kill -TERM "$pid" 2>/dev/null || true
  for _ in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  for p in "${pids[@]}"; do [ "$p" = "$pid" ] || kept+=("$p"); done
  pids=("${kept[@]}")
}

fill() { # fill TEMPLATE OUT NAME=VALUE...
  local template=$1 out=$2 expr=() pair
  shift 2
  for pair in "$@"; do expr+=(-e "s|@${pair%%=*}@|${pair#*=}|g"); done
  sed "${expr[@]}" "$template" >"$out"
}

# 1. the simulated provider, answering at once: no time to first token and a one-token
# answer. (Each token after the first waits a per-token delay drawn from Normal(1000 /
# tokens-per-second, 5 ms) clipped at 0; the 5 ms spread cannot be set from the command
# line, so even a huge --tokens-per-second leaves about 2 ms a token, and
# --tokens-per-second 0 keeps the 20 ms default. Only a one-token answer has no delay.)
sim_port=$(free_port)
"$gateway_bin" simulate --listen "127.0.0.1:$sim_port" --ttft-ms 0 --ttft-shape fixed \
  --tokens-per-second 1000000000 --output-tokens 1 --threads "$SIM_THREADS" --models "$MODEL" \
  >"$tmp/simulator.log" 2>&1 &
sim_pid=$!
pids+=("$sim_pid")
sim_url=http://127.0.0.1:$sim_port/v1/chat/completions
wait_ready simulator "$sim_pid" "$tmp/simulator.log" "$sim_url"

# 2. nginx, reverse proxy with upstream keep-alive.
nginx_port=$(free_port)
mkdir -p "$tmp/nginx-temp"
fill "$here/nginx.conf.in" "$tmp/nginx.conf" DIR="$tmp" WORKERS="$PROXY_WORKERS" \
  SIM_PORT="$sim_port" PORT="$nginx_port"
"$nginx_bin" -t -q -p "$tmp" -e "$tmp/nginx-error.log" -c "$tmp/nginx.conf" >"$tmp/nginx-test.log" 2>&1 \
  || { cat "$tmp/nginx-test.log" >&2; die "nginx rejected $tmp/nginx.conf"; }
"$nginx_bin" -p "$tmp" -e "$tmp/nginx-error.log" -c "$tmp/nginx.conf" -g 'daemon off;' \
  >"$tmp/nginx.log" 2>&1 &
nginx_pid=$!
pids+=("$nginx_pid")
nginx_url=http://127.0.0.1:$nginx_port/v1/chat/completions
wait_ready nginx "$nginx_pid" "$tmp/nginx-error.log" "$nginx_url"

# 3. Redis for the shared-state runs: nothing persisted, stopped by pid like the others.
redis_port=$(free_port)
mkdir -p "$tmp/redis"
redis-server --port "$redis_port" --bind 127.0.0.1 --dir "$tmp/redis" --save '' --appendonly no \
  --daemonize no >"$tmp/redis.log" 2>&1 &
redis_pid=$!
pids+=("$redis_pid")
rcli() { redis-cli -h 127.0.0.1 -p "$redis_port" "$@"; }
for _ in $(seq 50); do
  kill -0 "$redis_pid" 2>/dev/null \
    || { tail -n 20 "$tmp/redis.log" >&2; die "redis-server exited during start-up"; }
  [ "$(rcli PING 2>/dev/null)" = PONG ] && break
  sleep 0.1
done
[ "$(rcli PING 2>/dev/null)" = PONG ] \
  || { tail -n 20 "$tmp/redis.log" >&2; die "redis-server did not answer PING on port $redis_port within 5 s"; }

key_sha256=$(printf %s "$BENCH_KEY" | sha256sum | awk '{print $1}')

# 4. start_gateway NAME CACHE_ENABLED REDIS_ENABLED: sets gateway_pid, gateway_port,
# gateway_log.
start_gateway() {
  local name=$1 cache=$2 redis=$3
  gateway_port=$(free_port)
  gateway_log=$tmp/gateway-$name.log
  fill "$here/gateway.json.in" "$tmp/gateway-$name.json" PORT="$gateway_port" \
    THREADS="$PROXY_WORKERS" SIM_PORT="$sim_port" KEY_SHA256="$key_sha256" \
    CACHE_ENABLED="$cache" LOG_LEVEL="$LOG_LEVEL" REDIS_ENABLED="$redis" REDIS_PORT="$redis_port"
  "$gateway_bin" --check-config "$tmp/gateway-$name.json" >/dev/null 2>"$tmp/check-$name.log" \
    || { cat "$tmp/check-$name.log" >&2; die "the generated gateway config $tmp/gateway-$name.json is invalid"; }
  "$gateway_bin" --config "$tmp/gateway-$name.json" >"$gateway_log" 2>&1 &
  gateway_pid=$!
  pids+=("$gateway_pid")
  wait_ready "sluice-gateway ($name)" "$gateway_pid" "$gateway_log" \
    "http://127.0.0.1:$gateway_port/v1/chat/completions"
}

# --- measuring ----------------------------------------------------------------------
rows=()
overhead_rows=()
redis_rows=()
micro_rows=()
problems=()
declare -A rps_of=()
redis_cpu_nocache=
redis_rps_nocache=

# cpu_ticks PID: user + system CPU clock ticks of PID and its direct children (nginx's
# workers), from /proc.
cpu_ticks() {
  local pid=$1 p total=0 ticks
  for p in "$pid" $(ps -o pid= --ppid "$pid" 2>/dev/null || true); do
    ticks=$(sed 's/^.*) //' "/proc/$p/stat" 2>/dev/null | awk '{ print $12 + $13 }') || ticks=0
    total=$((total + ${ticks:-0}))
  done
  echo "$total"
}
clock_ticks=$(getconf CLK_TCK 2>/dev/null || echo 100)

# run_wrk LABEL URL PROXY_PID: warm-up, then the measured run; appends a table row with
# the CPU time the proxy (PROXY_PID, "-" for none) and the simulator spent per request.
run_wrk() {
  local label=$1 url=$2 proxy=$3 out line sim_before proxy_before=0 sim_after proxy_after=0
  out=$tmp/wrk-$(echo "$label" | tr -c 'a-zA-Z0-9\n' '-').txt
  if [ "$WARMUP" != 0 ]; then
    SLUICE_BENCH_KEY=$BENCH_KEY SLUICE_BENCH_MODEL=$MODEL \
      wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$here/post.lua" "$url" >/dev/null
  fi
  echo "run_load.sh: $label: wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION $url" >&2
  sim_before=$(cpu_ticks "$sim_pid")
  [ "$proxy" = - ] || proxy_before=$(cpu_ticks "$proxy")
  SLUICE_BENCH_KEY=$BENCH_KEY SLUICE_BENCH_MODEL=$MODEL \
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$here/post.lua" "$url" >"$out"
  sim_after=$(cpu_ticks "$sim_pid")
  [ "$proxy" = - ] || proxy_after=$(cpu_ticks "$proxy")
  line=$(grep '^SLUICE_WRK ' "$out") || { cat "$out" >&2; die "$label: no summary line from wrk"; }
  wrk_rps=$(echo "$line" | awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      printf "%.0f", v["requests"] / (v["duration_us"] / 1e6) }')
  rows+=("$(echo "$line" | awk -v label="$label" -v hz="$clock_ticks" -v proxy="$proxy" \
      -v sim_ticks=$((sim_after - sim_before)) -v proxy_ticks=$((proxy_after - proxy_before)) '{
      for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
      socket = v["connect"] + v["read"] + v["write"] + v["timeout"]
      n = v["requests"] > 0 ? v["requests"] : 1
      proxy_cpu = proxy == "-" ? "–" : sprintf("%.0f", proxy_ticks / hz * 1e6 / n)
      printf "| %s | %.0f | %.2f | %.2f | %d | %d | %s | %.0f |", label, v["requests"] / (v["duration_us"] / 1e6),
             v["p50_us"] / 1000, v["p99_us"] / 1000, v["status_errors"], socket, proxy_cpu, sim_ticks / hz * 1e6 / n
    }')")
  if echo "$line" | grep -qv ' status_errors=0 connect=0 read=0 write=0 timeout=0$'; then
    problems+=("$label: $(echo "$line" | cut -d' ' -f6-)")
    return 1
  fi
  return 0
}

metrics() { curl -sS -m 10 "http://127.0.0.1:$1/metrics"; }

# overhead_row LABEL BEFORE AFTER: the gateway's overhead histogram over the measured run
# (AFTER minus BEFORE, summed over routes), p50/p99 interpolated within buckets as
# Prometheus' histogram_quantile() does, plus means and answer counts.
overhead_row() {
  awk -v label="$1" '
    function le_of(s,   m) { if (match(s, /le="[^"]*"/)) return substr(s, RSTART + 4, RLENGTH - 5); return "" }
    function code_of(s) { if (match(s, /code="[^"]*"/)) return substr(s, RSTART + 6, RLENGTH - 7); return "" }
    function result_of(s) { if (match(s, /result="[^"]*"/)) return substr(s, RSTART + 8, RLENGTH - 9); return "" }
    FNR == 1 { sign = (FILENAME == ARGV[1]) ? -1 : 1 }
    /^#/ { next }
    /^sluice_gateway_overhead_seconds_bucket/ { b[le_of($1)] += sign * $NF; next }
    /^sluice_gateway_overhead_seconds_sum/ { osum += sign * $NF; next }
    /^sluice_gateway_overhead_seconds_count/ { ocount += sign * $NF; next }
    /^sluice_upstream_duration_seconds_sum/ { usum += sign * $NF; next }
    /^sluice_upstream_duration_seconds_count/ { ucount += sign * $NF; next }
    /^sluice_requests_total/ { codes[code_of($1)] += sign * $NF; next }
    /^sluice_cache_requests_total/ { cache[result_of($1)] += sign * $NF; next }
    /^sluice_client_errors_total.*reason="client_disconnected"/ { gone += sign * $NF; next }
    function quantile(q,   n, i, j, k, t, tc, les, cnt, total, rank, prev_le, prev_c) {
      n = 0
      for (k in b) if (k != "+Inf") { les[++n] = k + 0; cnt[n] = b[k] }
      for (i = 2; i <= n; i++) {
        t = les[i]; tc = cnt[i]
        for (j = i - 1; j >= 1 && les[j] > t; j--) { les[j + 1] = les[j]; cnt[j + 1] = cnt[j] }
        les[j + 1] = t; cnt[j + 1] = tc
      }
      total = b["+Inf"]
      if (total <= 0) return "n/a"
      rank = q * total; prev_le = 0; prev_c = 0
      for (i = 1; i <= n; i++) {
        if (cnt[i] >= rank) {
          if (cnt[i] == prev_c) return sprintf("%.3f", les[i] * 1000)
          return sprintf("%.3f", (prev_le + (les[i] - prev_le) * (rank - prev_c) / (cnt[i] - prev_c)) * 1000)
        }
        prev_le = les[i]; prev_c = cnt[i]
      }
      return sprintf("> %.0f", les[n] * 1000)
    }
    END {
      answers = ""
      for (c in codes) if (codes[c] > 0) answers = answers (answers == "" ? "" : ", ") c ": " codes[c]
      if (gone > 0) answers = answers " (" gone " of them 499: in flight when wrk stopped)"
      hits = cache["hit"] + 0
      printf "| %s | %d | %s | %s | %s | %s | %s | %s |", label, ocount, quantile(0.5), quantile(0.99),
             (ocount > 0 ? sprintf("%.3f", osum / ocount * 1000) : "n/a"),
             (ucount > 0 ? sprintf("%.3f", usum / ucount * 1000) : "n/a"),
             (hits + cache["miss"] > 0 ? sprintf("%.1f %%", 100 * hits / (hits + cache["miss"])) : "off"), answers
    }' "$2" "$3"
}

# redis_counts BEFORE AFTER: the deltas of the gateway's request and Redis counters, as
# "requests admit cache_get settle cache_set fallbacks command_errors".
redis_counts() {
  awk '
    function op_of(s) { if (match(s, /op="[^"]*"/)) return substr(s, RSTART + 4, RLENGTH - 5); return "" }
    FNR == 1 { sign = (FILENAME == ARGV[1]) ? -1 : 1 }
    /^#/ { next }
    /^sluice_requests_total[{ ]/ { requests += sign * $NF; next }
    /^sluice_redis_commands_total[{ ]/ { ops[op_of($1)] += sign * $NF; next }
    /^sluice_redis_fallback_total[{ ]/ { fallbacks += sign * $NF; next }
    /^sluice_redis_command_errors_total[{ ]/ { errors += sign * $NF; next }
    END { printf "%d %d %d %d %d %d %d\n", requests, ops["admit"], ops["cache_get"], ops["settle"],
          ops["cache_set"], fallbacks, errors }' "$1" "$2"
}

# evalsha_counts BEFORE AFTER: the deltas of Redis' own EVALSHA count and time (INFO
# commandstats), as "calls usec".
evalsha_counts() {
  awk -F'[:,=]' '
    FNR == 1 { sign = (FILENAME == ARGV[1]) ? -1 : 1 }
    /^cmdstat_evalsha:/ { calls += sign * $3; usec += sign * $5 }
    END { printf "%d %d\n", calls, usec }' "$1" "$2"
}

# redis_row LABEL NAME REDIS_TICKS LOCAL_RPS: the Redis traffic per request of gateway run
# NAME (metrics and commandstats files in $tmp) and its requests/s against LOCAL_RPS
# ("-" for a local run). Appends to redis_rows, and to problems on fallbacks or errors.
redis_row() {
  local label=$1 name=$2 ticks=$3 local_rps=$4 counts evalsha
  counts=$(redis_counts "$tmp/metrics-$name-before.txt" "$tmp/metrics-$name-after.txt")
  if [ "$local_rps" = - ]; then
    redis_rows+=("$(echo "$counts" | awk -v label="$label" '{
        printf "| %s | %d | – | – | – | – | – | – | – |", label, $1 }')")
    return
  fi
  evalsha=$(evalsha_counts "$tmp/redis-$name-before.txt" "$tmp/redis-$name-after.txt")
  redis_rows+=("$(echo "$counts $evalsha" | awk -v label="$label" -v hz="$clock_ticks" -v ticks="$ticks" \
      -v rps="$wrk_rps" -v local_rps="$local_rps" '{
      n = $1 > 0 ? $1 : 1
      admit = $2; get = $3; settle = $4; set = $5
      # admit (which reads the shared cache itself) is the awaited trip; cache_get is only
      # reported by gateways from before that change.
      trips = admit > get ? admit : get
      printf "| %s | %d | %.2f (admit %.2f, cache_get %.2f, settle %.2f, cache_set %.2f) | %.2f | %.2f | %d of %d sent, %.1f µs/call | %.0f | %d / %d | %.2f |",
             label, $1, (admit + get + settle + set) / n, admit / n, get / n, settle / n, set / n,
             trips / n, (settle + set) / n, $8, admit + settle, ($8 > 0 ? $9 / $8 : 0),
             ticks / hz * 1e6 / n, $6, $7, (local_rps > 0 ? rps / local_rps : 0)
    }')")
  # The numbers ride on every gateway answer being decided in Redis: say so when not.
  local requests admit fallbacks errors
  read -r requests admit _ _ _ fallbacks errors <<<"$counts"
  [ "$fallbacks" = 0 ] || problems+=("$label: $fallbacks admissions fell back to local limits (sluice_redis_fallback_total)")
  [ "$errors" = 0 ] || problems+=("$label: $errors Redis commands failed (sluice_redis_command_errors_total)")
  [ "$admit" -gt 0 ] || problems+=("$label: no admission went to Redis (sluice_redis_commands_total{op=\"admit\"} = 0)")
  redis_cpu_us_per_request=$(awk -v hz="$clock_ticks" -v ticks="$ticks" -v n="$requests" \
    'BEGIN { printf "%.1f", (n > 0 ? ticks / hz * 1e6 / n : 0) }')
}

# bench_gateway NAME CACHE_ENABLED REDIS_ENABLED LABEL [LOCAL_NAME]: LOCAL_NAME is the local
# run a Redis-backed one is compared with.
bench_gateway() {
  local name=$1 cache=$2 redis=$3 label=$4 local_name=${5:-} ok=0 redis_before=0 redis_after=0
  # Each Redis-backed run starts from an empty Redis (limits, leases, shared cache).
  [ "$redis" = false ] || rcli FLUSHALL >/dev/null
  start_gateway "$name" "$cache" "$redis"
  metrics "$gateway_port" >"$tmp/metrics-$name-before.txt"
  # Warm up here rather than in run_wrk so that "before" is scraped after the warm-up.
  if [ "$WARMUP" != 0 ]; then
    SLUICE_BENCH_KEY=$BENCH_KEY SLUICE_BENCH_MODEL=$MODEL \
      wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$here/post.lua" \
      "http://127.0.0.1:$gateway_port/v1/chat/completions" >/dev/null
    metrics "$gateway_port" >"$tmp/metrics-$name-before.txt"
  fi
  rcli INFO commandstats >"$tmp/redis-$name-before.txt"
  redis_before=$(cpu_ticks "$redis_pid")
  WARMUP=0 run_wrk "$label" "http://127.0.0.1:$gateway_port/v1/chat/completions" "$gateway_pid" || ok=1
  redis_after=$(cpu_ticks "$redis_pid")
  rps_of[$name]=$wrk_rps
  if ! kill -0 "$gateway_pid" 2>/dev/null; then
    problems+=("$label: sluice-gateway exited during the run")
    echo "run_load.sh: sluice-gateway ($name) exited during the run; last lines of its log:" >&2
    tail -n 30 "$gateway_log" >&2
    return
  fi
  metrics "$gateway_port" >"$tmp/metrics-$name-after.txt"
  rcli INFO commandstats >"$tmp/redis-$name-after.txt"
  overhead_rows+=("$(overhead_row "$label" "$tmp/metrics-$name-before.txt" "$tmp/metrics-$name-after.txt")")
  if [ "$redis" = false ]; then
    redis_row "$label" "$name" 0 -
  else
    redis_row "$label" "$name" $((redis_after - redis_before)) "${rps_of[$local_name]:-0}"
    [ "$name" != redis-nocache ] || { redis_cpu_nocache=$redis_cpu_us_per_request; redis_rps_nocache=$wrk_rps; }
  fi
  if [ "$ok" != 0 ]; then
    echo "run_load.sh: $label had errors; last lines of the gateway log ($gateway_log):" >&2
    tail -n 30 "$gateway_log" >&2
  fi
  stop_pid "$gateway_pid"
}

# micro_run LABEL PIPELINE ARGS...: one redis-benchmark case (50 clients, the default)
# against the benchmark's Redis; appends a row with Redis' CPU per operation.
micro_run() {
  local label=$1 pipeline=$2 before after result
  shift 2
  echo "run_load.sh: redis-benchmark -n $REDIS_BENCH_REQUESTS -P $pipeline $*" >&2
  before=$(cpu_ticks "$redis_pid")
  result=$(redis-benchmark -h 127.0.0.1 -p "$redis_port" -n "$REDIS_BENCH_REQUESTS" -q -P "$pipeline" "$@" 2>&1 \
    | tr '\r' '\n' | sed -n 's/.*: \([0-9.]*\) requests per second, p50=\([0-9.]*\) msec.*/\1 \2/p' | tail -n 1)
  after=$(cpu_ticks "$redis_pid")
  if [ -z "$result" ]; then
    micro_rows+=("| $label | $pipeline | no result from redis-benchmark | | |")
    return
  fi
  micro_rows+=("$(echo "$result" | awk -v label="$label" -v pipeline="$pipeline" -v hz="$clock_ticks" \
      -v ticks=$((after - before)) -v n="$REDIS_BENCH_REQUESTS" '{
      printf "| %s | %d | %.0f | %.3f | %.2f |", label, pipeline, $1, $2, ticks / hz * 1e6 / n }')")
}

run_wrk "simulator direct" "$sim_url" - || true
run_wrk "nginx → simulator" "$nginx_url" "$nginx_pid" || true
stop_pid "$nginx_pid"
bench_gateway nocache false false "sluice → simulator (cache off)"
bench_gateway cache true false "sluice, cache hits"
bench_gateway redis-nocache false true "sluice + Redis limits → simulator (cache off)" nocache
bench_gateway redis-cache true true "sluice + Redis limits, shared cache hits" cache

micro_note=
if [ "$REDIS_BENCH_REQUESTS" = 0 ]; then
  micro_note="redis-benchmark skipped (REDIS_BENCH_REQUESTS=0)."
elif ! command -v redis-benchmark >/dev/null 2>&1; then
  micro_note="redis-benchmark not found (apt-get install redis-tools): Redis micro numbers skipped."
else
  rcli FLUSHALL >/dev/null
  tiny_sha=$(rcli SCRIPT LOAD "return redis.call('INCRBY', KEYS[1], ARGV[1])")
  micro_run "SET (3-byte value)" 1 -t set
  micro_run "GET" 1 -t get
  micro_run "EVALSHA of INCRBY script" 1 EVALSHA "$tiny_sha" 1 sluice:bench:micro 1
  micro_run "EVALSHA of INCRBY script" 16 EVALSHA "$tiny_sha" 1 sluice:bench:micro 1
fi

cpu=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
redis_version=$(redis-server --version | sed -n 's/.* v=\([^ ]*\).*/\1/p')
echo
echo "Load benchmark, $(date -u +%Y-%m-%d) — $(nproc) CPUs (${cpu:-unknown CPU}), wrk -t$WRK_THREADS -c$CONNECTIONS -d$DURATION," \
  "simulator $SIM_THREADS thread(s), nginx $PROXY_WORKERS worker(s), gateway $PROXY_WORKERS thread(s), log level $LOG_LEVEL," \
  "Redis ${redis_version:-?}, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo
echo "| target | requests/s | p50 ms | p99 ms | non-2xx | socket errors | proxy CPU µs/req | simulator CPU µs/req |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
echo "CPU µs/req: user + system CPU time of the process (nginx: master + workers) during the"
echo "measured run divided by the requests wrk completed."
echo
echo "Sluice's own time per request (sluice_gateway_overhead_seconds over the measured run;"
echo "upstream = sluice_upstream_duration_seconds, the simulator's time seen from the gateway):"
echo
echo "| gateway run | requests | overhead p50 ms | overhead p99 ms | overhead mean ms | upstream mean ms | cache hit rate | answers by code |"
echo "|---|---:|---:|---:|---:|---:|---:|---|"
printf '%s\n' "${overhead_rows[@]}"
echo
echo "Redis traffic per request (sluice_redis_commands_total and sluice_requests_total over the"
echo "measured run; awaited trips: the admission EVALSHA, which also reads the shared cache entry, is"
echo "the one round trip a request waits for; settle EVALSHA and cache SET are fire-and-forget; EVALSHA"
echo "in Redis: INFO commandstats calls and Redis' own time per call; Redis CPU: user + system time"
echo "of redis-server from /proc per gateway request; ratio: requests/s ÷ the same run with local"
echo "limits and cache):"
echo
echo "| gateway run | requests | Redis commands/req | awaited trips/req | fire-and-forget cmds/req | EVALSHA in Redis | Redis CPU µs/req | fallbacks / errors | req/s ÷ local |"
echo "|---|---:|---|---:|---:|---|---:|---:|---:|"
printf '%s\n' "${redis_rows[@]}"
if [ -n "$redis_cpu_nocache" ] && [ -n "$redis_rps_nocache" ]; then
  awk -v us="$redis_cpu_nocache" -v rps="$redis_rps_nocache" 'BEGIN {
    if (us <= 0 || rps <= 0) exit
    printf "\nOne Redis core at %.1f µs per proxied request sustains ≈ %.0f requests/s, ≈ %.1f× this instance'"'"'s\n", us, 1e6 / us, 1e6 / us / rps
    printf "%d requests/s with Redis limits (cache off): instances one Redis serves at this per-instance rate.\n", rps
  }'
fi
echo
if [ -n "$micro_note" ]; then
  echo "$micro_note"
else
  echo "Redis alone (redis-benchmark -n $REDIS_BENCH_REQUESTS -q, 50 clients, on the same cores;"
  echo "Redis CPU: redis-server's user + system time from /proc per operation):"
  echo
  echo "| command | pipeline | requests/s | p50 ms | Redis CPU µs/op |"
  echo "|---|---:|---:|---:|---:|"
  printf '%s\n' "${micro_rows[@]}"
fi
if [ "${#problems[@]}" -gt 0 ]; then
  echo
  echo "Problems:"
  printf -- '- %s\n' "${problems[@]}"
  exit 1
fi
