-- A client-generated id per audit event, so a batch the writer retries after a commit
-- whose outcome was unknown does not log an event twice (INSERT ... ON CONFLICT
-- (event_id) DO NOTHING). NULL in rows written by other tools (UNIQUE allows many NULLs).

ALTER TABLE audit ADD COLUMN event_id text;
ALTER TABLE audit ADD CONSTRAINT audit_event_id_key UNIQUE (event_id);
