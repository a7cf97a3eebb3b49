-- wrk script for tests/bench/load/run_load.sh: every request is the same OpenAI chat
-- completion POST (so with the gateway's cache on, every request after the first is a
-- hit). The client key comes from $SLUICE_BENCH_KEY; the path is the one in wrk's URL.
--
-- done() prints one machine-readable line that run_load.sh parses:
--   SLUICE_WRK requests=N duration_us=N p50_us=N p99_us=N status_errors=N connect=N read=N write=N timeout=N
-- (status_errors is wrk's "Non-2xx or 3xx responses": answers with status >= 400.)

local key = os.getenv("SLUICE_BENCH_KEY") or "sk-sluice-bench"
local model = os.getenv("SLUICE_BENCH_MODEL") or "gpt-4o-mini"

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer " .. key
wrk.body = '{"model":"' .. model .. '","messages":[{"role":"system","content":"You are a terse assistant."},'
    .. '{"role":"user","content":"Name three rivers in Europe."}],"max_tokens":64,"temperature":0}'

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "SLUICE_WRK requests=%d duration_us=%d p50_us=%d p99_us=%d status_errors=%d connect=%d read=%d write=%d timeout=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
        e.status, e.connect, e.read, e.write, e.timeout))
end
