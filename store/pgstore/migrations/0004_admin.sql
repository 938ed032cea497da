-- Admin service: idempotency keys, dead-letter history, and indexes for the
-- admin's searches.

-- One row per (admin, Idempotency-Key): the first answer, replayed to repeats.
CREATE TABLE admin_idempotency (
    key         text PRIMARY KEY,
    fingerprint text NOT NULL,
    done        boolean NOT NULL DEFAULT false,
    status      integer NOT NULL DEFAULT 0,
    body        bytea NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX admin_idempotency_created_idx ON admin_idempotency (created_at);

-- What happened to a dead letter: every failure (written by the trigger
-- below, whoever records the letter) and every admin action.
CREATE TABLE dead_letter_history (
    id             bigserial PRIMARY KEY,
    dead_letter_id bigint NOT NULL REFERENCES dead_letters (id) ON DELETE CASCADE,
    occurred_at    timestamptz NOT NULL DEFAULT now(),
    kind           text NOT NULL CHECK (kind <> ''),
    actor          text NOT NULL DEFAULT '',
    error          text NOT NULL DEFAULT '',
    attempts       integer NOT NULL DEFAULT 0,
    note           text NOT NULL DEFAULT '',
    status         text NOT NULL DEFAULT ''
);
CREATE INDEX dead_letter_history_letter_idx ON dead_letter_history (dead_letter_id, id);

CREATE FUNCTION dead_letter_failed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'INSERT' OR NEW.last_failed_at IS DISTINCT FROM OLD.last_failed_at OR NEW.attempts <> OLD.attempts THEN
        INSERT INTO dead_letter_history (dead_letter_id, occurred_at, kind, error, attempts, status)
        VALUES (NEW.id, NEW.last_failed_at, 'failed', NEW.error,
                CASE WHEN TG_OP = 'INSERT' THEN NEW.attempts ELSE NEW.attempts - OLD.attempts END, NEW.status);
    END IF;
    RETURN NULL;
END
$$;
CREATE TRIGGER dead_letters_failed AFTER INSERT OR UPDATE ON dead_letters
    FOR EACH ROW EXECUTE FUNCTION dead_letter_failed();

-- The admin's lists: newest first by id within a filter.
CREATE INDEX sync_runs_trigger_id_idx ON sync_runs (trigger, id DESC);
CREATE INDEX sync_runs_held_id_idx ON sync_runs (id DESC) WHERE held;
CREATE INDEX provider_events_type_id_idx ON provider_events (event_type, id DESC);
CREATE INDEX provider_events_object_idx ON provider_events (object_id);
-- Text search (words as prefixes): the expressions pgstore's queries repeat.
CREATE INDEX provider_events_text_idx ON provider_events
    USING gin (to_tsvector('simple', object_id || ' ' || event_key || ' ' || error));
CREATE INDEX dead_letters_text_idx ON dead_letters
    USING gin (to_tsvector('simple', event_id || ' ' || key || ' ' || error || ' ' || note));
CREATE INDEX videos_admin_state_idx ON videos (vimeo_video_id DESC)
    WHERE deleted_at IS NOT NULL OR hidden OR status <> 'available';
