#!/usr/bin/env bash
# Checks the example deployment files in installer/deploy/:
#   1. promtool check config   prometheus/prometheus.yml (and the rule file it names)
#   2. promtool check rules    prometheus/sluice-rules.yml
#   3. promtool test rules     sluice-rules.test.yml (the rules on synthetic series)
#   4. every sluice_* metric the rules name is one the gateway exposes: a real
#      `sluice-gateway --demo` is started and its /metrics read (needs GATEWAY)
#   5. nginx -t on a wrapper nginx.conf that includes nginx/sluice-upstream.conf,
#      with pid, logs and temp paths in a temporary directory and the `listen`
#      moved to a unix socket, so it runs as any user and binds no port
#   6. that nginx in front of the demo gateway: a request, a stream, a 9 MiB body
#      (413 from nginx) and /metrics (not proxied) through it (needs GATEWAY, curl)
#
# Usage: check_deploy.sh [PATH/TO/sluice-gateway]   (or GATEWAY=...)
# Exit status: 0 passed, 1 failed, 77 skipped (promtool is not installed) —
# ctest's SKIP_RETURN_CODE. Steps 4-6 are skipped, and say so, when the gateway,
# nginx or curl is missing.
set -u -o pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd -P)
top=$(cd "$here/../../.." && pwd)
deploy="$top/installer/deploy"
GATEWAY=${1:-${GATEWAY:-}}

# Metrics the rules use that step 4's gateway (--demo: no Redis) cannot show: the
# gateway exposes sluice_redis_fallback_active only when redis.enabled (see
# sluice-rules.yml; tests/integration/cluster checks it against a real Redis).
pending_metrics=(sluice_redis_fallback_active)

if ! command -v promtool >/dev/null 2>&1; then
    echo "SKIP: promtool is not installed (Debian package: prometheus)"
    exit 77
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/sluice-deploy.XXXXXX")
gateway_pid=""
nginx_pid=""
cleanup() {
    [ -n "$nginx_pid" ] && kill "$nginx_pid" 2>/dev/null && wait "$nginx_pid" 2>/dev/null
    if [ -n "$gateway_pid" ]; then
        kill -TERM "$gateway_pid" 2>/dev/null
        for _ in $(seq 50); do kill -0 "$gateway_pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$gateway_pid" 2>/dev/null
        wait "$gateway_pid" 2>/dev/null
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT

passed=0
failed=0
skipped=0
pass() { echo "PASS: $1"; passed=$((passed + 1)); }
fail() { echo "FAIL: $1"; failed=$((failed + 1)); }
skip() { echo "SKIP: $1"; skipped=$((skipped + 1)); }
# run NAME COMMAND...: passes when the command exits 0; shows its output if not.
run() {
    local name=$1
    shift
    if "$@" >"$tmp/out" 2>&1; then
        pass "$name"
    else
        fail "$name"
        sed 's/^/    /' "$tmp/out"
    fi
}

# --- 1-3: promtool ---------------------------------------------------------------
run "promtool check config prometheus.yml" promtool check config "$deploy/prometheus/prometheus.yml"
run "promtool check rules sluice-rules.yml" promtool check rules "$deploy/prometheus/sluice-rules.yml"
run "promtool test rules sluice-rules.test.yml" promtool test rules "$here/sluice-rules.test.yml"

# --- the demo gateway, for 4 and 6 ------------------------------------------------
gateway_port=""
if [ -z "$GATEWAY" ]; then
    echo "note: no sluice-gateway given; the metric-name and nginx proxy checks are skipped"
elif [ ! -x "$GATEWAY" ]; then
    fail "start sluice-gateway: $GATEWAY is not an executable"
else
    "$GATEWAY" --demo --port 0 --admin-port 0 --log-level warn >"$tmp/gateway.out" 2>"$tmp/gateway.err" &
    gateway_pid=$!
    for _ in $(seq 300); do
        grep -q '^ *metrics: ' "$tmp/gateway.out" 2>/dev/null && break
        kill -0 "$gateway_pid" 2>/dev/null || break
        sleep 0.1
    done
    gateway_port=$(sed -n 's|^ *metrics: *http://127\.0\.0\.1:\([0-9]*\)/metrics.*|\1|p' "$tmp/gateway.out")
    if [ -z "$gateway_port" ]; then
        fail "start sluice-gateway --demo (no metrics URL printed)"
        sed 's/^/    /' "$tmp/gateway.out" "$tmp/gateway.err"
    fi
fi

# GET a path from the gateway with bash alone (curl is optional).
# shellcheck disable=SC2016 # $1 and $2 are expanded by the inner bash
http_get() {
    timeout 20 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
        printf "GET %s HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n" "$2" >&3
        cat <&3' _ "$1" "$2"
}

# --- 4: metric names ------------------------------------------------------------------
if [ -n "$gateway_port" ]; then
    if ! http_get "$gateway_port" /metrics >"$tmp/metrics.txt" || ! grep -q '^# TYPE sluice_' "$tmp/metrics.txt"; then
        fail "read the gateway's /metrics"
    else
        # "name type" for every family the gateway exposes.
        sed -n 's/^# TYPE \(sluice_[a-zA-Z0-9_]*\) \([a-z]*\)$/\1 \2/p' "$tmp/metrics.txt" | sort -u >"$tmp/families"
        # Every metric name token in the rules (recording rule names contain ':' and
        # are not sluice_-prefixed tokens, so they drop out here).
        grep -oE '[A-Za-z_:][A-Za-z0-9_:]*' "$deploy/prometheus/sluice-rules.yml" | grep -E '^sluice_[a-z0-9_]*$' |
            sort -u >"$tmp/referenced"
        unknown=()
        while read -r name; do
            grep -q "^$name " "$tmp/families" && continue
            base=${name%_bucket}
            base=${base%_count}
            base=${base%_sum}
            [ "$base" != "$name" ] && grep -q "^$base histogram$" "$tmp/families" && continue
            if printf '%s\n' "${pending_metrics[@]}" | grep -qx "$name"; then
                echo "note: $name is not exposed by a gateway without Redis (expected: only when redis.enabled)"
                continue
            fi
            unknown+=("$name")
        done <"$tmp/referenced"
        if [ "${#unknown[@]}" -eq 0 ] && [ -s "$tmp/referenced" ]; then
            pass "every metric the rules name ($(wc -l <"$tmp/referenced")) is exposed by sluice-gateway"
        else
            fail "the rules name metrics sluice-gateway does not expose: ${unknown[*]:-(none found at all)}"
        fi
    fi
else
    skip "metric names against a live gateway (no gateway)"
fi

# --- 5: nginx -t ------------------------------------------------------------------------
ngdir="$tmp/nginx"
mkdir -p "$ngdir"
sock="$ngdir/sluice.sock"
# The wrapper: everything nginx writes goes to $ngdir; `listen 80` becomes a unix
# socket (no root, no port to collide with). For the proxy check the upstream
# servers are pointed at the demo gateway.
write_nginx_conf() {
    local upstream_port=$1
    sed -e "s#^\([[:space:]]*\)listen 80;#\1listen unix:$sock;#" \
        ${upstream_port:+-e "s#^\([[:space:]]*server\) 127\.0\.0\.1:[0-9]*#\1 127.0.0.1:$upstream_port#"} \
        "$deploy/nginx/sluice-upstream.conf" >"$ngdir/sluice-upstream.conf"
    cat >"$ngdir/nginx.conf" <<EOF
pid $ngdir/nginx.pid;
error_log $ngdir/error.log;
events { worker_connections 64; }
http {
    access_log $ngdir/access.log;
    client_body_temp_path $ngdir/client_body;
    proxy_temp_path $ngdir/proxy;
    fastcgi_temp_path $ngdir/fastcgi;
    uwsgi_temp_path $ngdir/uwsgi;
    scgi_temp_path $ngdir/scgi;
    include $ngdir/sluice-upstream.conf;
}
EOF
}
nginx_bin=$(command -v nginx || true)
[ -z "$nginx_bin" ] && [ -x /usr/sbin/nginx ] && nginx_bin=/usr/sbin/nginx
if [ -z "$nginx_bin" ]; then
    skip "nginx -t (nginx is not installed; Debian package: nginx-light)"
else
    write_nginx_conf ""
    if ! grep -q "listen unix:$sock;" "$ngdir/sluice-upstream.conf"; then
        fail "nginx wrapper: sluice-upstream.conf has no 'listen 80;' line to redirect"
    else
        run "nginx -t on sluice-upstream.conf" "$nginx_bin" -t -p "$ngdir" -e "$ngdir/error.log" -c "$ngdir/nginx.conf"
    fi
fi

# --- 6: nginx in front of the gateway ---------------------------------------------------
# curl_status NAME EXPECTED_STATUS CURL_ARGS...: the body goes to $tmp/body.
curl_status() {
    local name=$1 expected=$2
    shift 2
    local status
    status=$(curl -sS --max-time 60 --unix-socket "$sock" -o "$tmp/body" -w '%{http_code}' "$@" 2>"$tmp/curl.err")
    if [ "$status" = "$expected" ]; then
        return 0
    fi
    fail "$name: HTTP $status, expected $expected"
    sed 's/^/    /' "$tmp/curl.err"
    head -c 600 "$tmp/body" | sed 's/^/    /'
    echo
    return 1
}
if [ -z "$gateway_port" ] || [ -z "$nginx_bin" ] || ! command -v curl >/dev/null 2>&1; then
    skip "requests through nginx (needs the gateway, nginx and curl)"
else
    write_nginx_conf "$gateway_port"
    # One process as the current user, in the foreground of its background job.
    "$nginx_bin" -p "$ngdir" -e "$ngdir/error.log" -c "$ngdir/nginx.conf" -g 'daemon off; master_process off;' &
    nginx_pid=$!
    for _ in $(seq 100); do
        [ -S "$sock" ] && break
        kill -0 "$nginx_pid" 2>/dev/null || break
        sleep 0.1
    done
    if [ ! -S "$sock" ]; then
        fail "start nginx with sluice-upstream.conf"
        sed 's/^/    /' "$ngdir/error.log"
    else
        auth=(-H 'Authorization: Bearer sk-sluice-demo' -H 'Content-Type: application/json')
        if curl_status "chat completion through nginx" 200 "${auth[@]}" http://sluice/v1/chat/completions \
            -d '{"model":"gpt-4o-mini","max_tokens":16,"messages":[{"role":"user","content":"through nginx"}]}'; then
            if grep -q '"choices"' "$tmp/body"; then
                pass "chat completion through nginx"
            else
                fail "chat completion through nginx: no choices in the answer"
            fi
        fi
        if curl_status "stream through nginx" 200 -N "${auth[@]}" http://sluice/v1/chat/completions \
            -d '{"model":"gpt-4o-mini","max_tokens":16,"stream":true,"messages":[{"role":"user","content":"stream through nginx"}]}'; then
            if grep -q '^data: {' "$tmp/body" && grep -q '^data: \[DONE\]' "$tmp/body"; then
                pass "stream (SSE) through nginx"
            else
                fail "stream through nginx: no 'data:' events ending in [DONE]"
            fi
        fi
        head -c $((9 * 1024 * 1024)) /dev/zero >"$tmp/big-body"
        if curl_status "9 MiB body through nginx" 413 "${auth[@]}" http://sluice/v1/chat/completions \
            --data-binary "@$tmp/big-body"; then
            # nginx's own error page, not the gateway's JSON error (its limit is 8 MiB too).
            if grep -qi '<center>nginx' "$tmp/body"; then
                pass "9 MiB body refused by nginx itself (413, client_max_body_size 8m)"
            else
                fail "9 MiB body through nginx: the 413 did not come from nginx"
            fi
        fi
        # Just under the limit: passed on to the gateway, which rejects the bytes as JSON.
        head -c $((7 * 1024 * 1024)) /dev/zero >"$tmp/big-body"
        curl_status "7 MiB body through nginx" 400 "${auth[@]}" http://sluice/v1/chat/completions \
            --data-binary "@$tmp/big-body" && pass "7 MiB body passed on to the gateway (its 400 for non-JSON)"
        curl_status "/metrics through nginx" 404 http://sluice/metrics && pass "/metrics is not proxied by nginx (404)"
    fi
fi

echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
