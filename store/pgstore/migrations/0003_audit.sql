-- Audit: the hash chain of audit_logs, the writer's chain head, checkpoints,
-- and indexes for search. audit_logs had never been written before this
-- migration, so the new columns can be NOT NULL.

ALTER TABLE audit_logs
    ADD COLUMN seq         bigint NOT NULL CHECK (seq >= 1),
    ADD COLUMN actor_kind  text NOT NULL CHECK (actor_kind <> ''),
    ADD COLUMN object_kind text NOT NULL CHECK (object_kind <> ''),
    ADD COLUMN object_id   text NOT NULL DEFAULT '',
    ADD COLUMN request_id  text NOT NULL DEFAULT '',
    ADD COLUMN trace_id    text NOT NULL DEFAULT '',
    ALTER COLUMN hash SET NOT NULL;

-- seq is the position in the chain; the consumer assigns it under the lock of
-- audit_chain_head, so it is dense (1, 2, 3, …) and a gap means a deletion.
CREATE UNIQUE INDEX audit_logs_seq_idx ON audit_logs (seq);

-- Search: every filter of audit.Query, newest first (seq descending), so a
-- page is an index range scan however large the log.
DROP INDEX audit_logs_actor_idx;
DROP INDEX audit_logs_action_idx;
CREATE INDEX audit_logs_actor_seq_idx ON audit_logs (actor, seq DESC);
CREATE INDEX audit_logs_action_seq_idx ON audit_logs (action, seq DESC);
CREATE INDEX audit_logs_object_seq_idx ON audit_logs (object_kind, object_id, seq DESC);

-- The writer's view of the chain head: one row, locked (SELECT … FOR UPDATE)
-- by the consumer for each batch, so that concurrent consumers append one
-- after the other and can never fork the chain.
CREATE TABLE audit_chain_head (
    singleton  boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    seq        bigint NOT NULL DEFAULT 0 CHECK (seq >= 0),
    hash       bytea,
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO audit_chain_head (singleton) VALUES (true);

-- Checkpoints of the chain head, written periodically by the consumer and
-- optionally signed (Ed25519); `vidlib audit verify` checks the chain against
-- them and reports a truncated tail. Append-only, like audit_logs.
CREATE TABLE audit_checkpoints (
    seq        bigint PRIMARY KEY CHECK (seq >= 1),
    hash       bytea NOT NULL,
    created_at timestamptz NOT NULL,
    key_id     text NOT NULL DEFAULT '',
    signature  bytea
);
CREATE TRIGGER audit_checkpoints_no_update_delete BEFORE UPDATE OR DELETE ON audit_checkpoints
    FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only();
CREATE TRIGGER audit_checkpoints_no_truncate BEFORE TRUNCATE ON audit_checkpoints
    FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_append_only();
