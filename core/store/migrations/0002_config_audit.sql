-- Configuration versions written through the admin API or the console, and the audit
-- log of who changed what from where.

CREATE TABLE config_versions (
    version    bigint      PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now(),
    who        text        NOT NULL,
    comment    text        NOT NULL DEFAULT '',
    config     jsonb       NOT NULL
);

CREATE INDEX config_versions_applied_at_idx ON config_versions (applied_at);

CREATE TABLE audit (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    ts           timestamptz NOT NULL DEFAULT now(),
    who          text        NOT NULL,
    from_address text        NOT NULL DEFAULT '',   -- client address as the gateway saw it
    action       text        NOT NULL,              -- e.g. config.put, config.patch, cache.flush
    diff         jsonb                              -- what changed; NULL when nothing did
);

CREATE INDEX audit_ts_idx ON audit (ts);
CREATE INDEX audit_who_ts_idx ON audit (who, ts);
