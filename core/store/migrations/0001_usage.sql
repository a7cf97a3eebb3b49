-- Usage records, one row per upstream request, written in batches by every gateway
-- instance (store/usagewriter), and their daily roll-up, kept up to date in the same
-- transaction so spend per key / model / day survives pruning of the raw rows.

CREATE TABLE usage (
    id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts                  timestamptz NOT NULL,            -- when the request finished
    instance            text        NOT NULL,            -- gateway instance that served it
    api_key_id          text        NOT NULL,            -- key id, never the key itself
    model               text        NOT NULL,
    upstream            text        NOT NULL,
    input_tokens        bigint      NOT NULL DEFAULT 0,  -- billed at the full input price
    output_tokens       bigint      NOT NULL DEFAULT 0,
    cached_input_tokens bigint      NOT NULL DEFAULT 0,  -- read from the provider's prompt cache
    cache_write_tokens  bigint      NOT NULL DEFAULT 0,  -- written to the provider's prompt cache
    cost_usd            numeric     NOT NULL DEFAULT 0,  -- US dollars, 10 decimal places
    latency_ms          integer     NOT NULL,
    ttft_ms             integer,                         -- time to first token; NULL when not streamed
    status              integer     NOT NULL,            -- HTTP status answered to the client
    cache_hit           boolean     NOT NULL DEFAULT false, -- answered from the gateway's response cache
    -- Unique so that a batch retried after a commit whose outcome was unknown is not
    -- counted twice (the writer inserts with ON CONFLICT (request_id) DO NOTHING).
    request_id          text        NOT NULL,
    CONSTRAINT usage_request_id_key UNIQUE (request_id)
);

-- Spend by day, by key over time, by model over time; also what pruning scans.
CREATE INDEX usage_ts_idx ON usage (ts);
CREATE INDEX usage_api_key_ts_idx ON usage (api_key_id, ts);
CREATE INDEX usage_model_ts_idx ON usage (model, ts);

-- One row per UTC day, key and model.
CREATE TABLE usage_daily (
    day                 date    NOT NULL,               -- UTC date of usage.ts
    api_key_id          text    NOT NULL,
    model               text    NOT NULL,
    requests            bigint  NOT NULL DEFAULT 0,
    errors              bigint  NOT NULL DEFAULT 0,     -- requests answered with status >= 400
    cache_hits          bigint  NOT NULL DEFAULT 0,
    input_tokens        bigint  NOT NULL DEFAULT 0,
    output_tokens       bigint  NOT NULL DEFAULT 0,
    cached_input_tokens bigint  NOT NULL DEFAULT 0,
    cache_write_tokens  bigint  NOT NULL DEFAULT 0,
    cost_usd            numeric NOT NULL DEFAULT 0,
    latency_ms_sum      bigint  NOT NULL DEFAULT 0,     -- divide by requests for the mean
    PRIMARY KEY (day, api_key_id, model)
);

CREATE INDEX usage_daily_api_key_day_idx ON usage_daily (api_key_id, day);
CREATE INDEX usage_daily_model_day_idx ON usage_daily (model, day);
