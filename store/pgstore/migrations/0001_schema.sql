-- vidlib schema: every table of the specification, plus outbox, processed_events,
-- versions and sync_state. Forward-only; applied in one transaction.

-- Monotonic counters: 'content' (the mirror) and 'entitlement' (the rules).
CREATE TABLE versions (
    name       text PRIMARY KEY,
    value      bigint NOT NULL DEFAULT 0 CHECK (value >= 0),
    updated_at timestamptz NOT NULL DEFAULT now()
);
INSERT INTO versions (name) VALUES ('content'), ('entitlement');

-- Small named state of the sync worker (watermarks of the recent poll, …).
CREATE TABLE sync_state (
    name       text PRIMARY KEY,
    value      jsonb NOT NULL,
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Identity ------------------------------------------------------------------

CREATE TABLE users (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email        text NOT NULL DEFAULT '',
    display_name text NOT NULL DEFAULT '',
    profile      jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(profile) = 'object'),
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    disabled_at  timestamptz
);
CREATE INDEX users_email_idx ON users (lower(email));

CREATE TABLE user_identities (
    issuer         text NOT NULL CHECK (issuer <> ''),
    subject        text NOT NULL CHECK (subject <> ''),
    user_id        uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    provider       text NOT NULL DEFAULT '',
    email          text NOT NULL DEFAULT '',
    email_verified boolean NOT NULL DEFAULT false,
    created_at     timestamptz NOT NULL DEFAULT now(),
    last_login_at  timestamptz,
    PRIMARY KEY (issuer, subject)
);
CREATE INDEX user_identities_user_idx ON user_identities (user_id);

CREATE TABLE roles (
    name        text PRIMARY KEY CHECK (name ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'),
    description text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE user_roles (
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    role       text NOT NULL REFERENCES roles (name) ON DELETE CASCADE,
    granted_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, role)
);
CREATE INDEX user_roles_role_idx ON user_roles (role);

-- The mirror ----------------------------------------------------------------

-- Adjacency (parent_id) plus a materialised path of internal ids, '/1/5/9/',
-- that includes the folder itself: a subtree is path LIKE '/1/5/%'.
CREATE TABLE folders (
    id                bigserial PRIMARY KEY,
    vimeo_folder_id   text NOT NULL UNIQUE CHECK (vimeo_folder_id <> ''),
    parent_id         bigint REFERENCES folders (id),
    path              text NOT NULL CHECK (path LIKE '/%/'),
    name              text NOT NULL DEFAULT '',
    sort_order        integer NOT NULL DEFAULT 0,
    vimeo_created_at  timestamptz,
    vimeo_modified_at timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    deleted_at        timestamptz,
    CHECK (parent_id IS DISTINCT FROM id)
);
CREATE INDEX folders_parent_idx ON folders (parent_id);
CREATE INDEX folders_path_idx ON folders (path text_pattern_ops);

CREATE TABLE videos (
    id                bigserial PRIMARY KEY,
    vimeo_video_id    text NOT NULL UNIQUE CHECK (vimeo_video_id <> ''),
    title             text NOT NULL DEFAULT '',
    description       text NOT NULL DEFAULT '',
    thumbnail_url     text NOT NULL DEFAULT '',
    duration_seconds  integer NOT NULL DEFAULT 0 CHECK (duration_seconds >= 0),
    status            text NOT NULL CHECK (status IN ('available', 'transcoding', 'transcode_error', 'unavailable')),
    visibility        text NOT NULL DEFAULT '',
    embed_key         text NOT NULL DEFAULT '',
    hidden            boolean NOT NULL DEFAULT false,
    vimeo_created_at  timestamptz,
    vimeo_modified_at timestamptz,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    deleted_at        timestamptz
);
CREATE INDEX videos_vimeo_modified_idx ON videos (vimeo_modified_at);

CREATE TABLE folder_videos (
    folder_id  bigint NOT NULL REFERENCES folders (id),
    video_id   bigint NOT NULL REFERENCES videos (id),
    sort_order integer NOT NULL DEFAULT 0,
    PRIMARY KEY (folder_id, video_id)
);
CREATE INDEX folder_videos_video_idx ON folder_videos (video_id);

-- Entitlements: subject 'everyone' | 'role:<name>' | 'segment:<key>=<value>' |
-- 'user:<id>'; target by Vimeo id so a rule survives a re-mirror.
CREATE TABLE entitlements (
    id          bigserial PRIMARY KEY,
    subject     text NOT NULL CHECK (subject ~ '^(everyone|role:.+|segment:.+=.+|user:.+)$'),
    target_kind text NOT NULL CHECK (target_kind IN ('folder', 'video')),
    target_id   text NOT NULL CHECK (target_id <> ''),
    effect      text NOT NULL CHECK (effect IN ('allow', 'deny')),
    note        text NOT NULL DEFAULT '',
    created_by  text NOT NULL DEFAULT '',
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (subject, target_kind, target_id)
);
CREATE INDEX entitlements_target_idx ON entitlements (target_kind, target_id);

-- Ranking and analytics ------------------------------------------------------

CREATE TABLE user_video_rankings (
    user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    video_id    bigint NOT NULL REFERENCES videos (id),
    rank        integer NOT NULL CHECK (rank >= 0),
    score       double precision NOT NULL DEFAULT 0,
    reason      text NOT NULL DEFAULT '',
    version     bigint NOT NULL DEFAULT 0,
    computed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, video_id)
);
CREATE INDEX user_video_rankings_rank_idx ON user_video_rankings (user_id, rank);

CREATE TABLE watch_events (
    id               uuid PRIMARY KEY, -- the client's event id: a duplicate is not stored twice
    user_id          uuid NOT NULL REFERENCES users (id),
    video_id         bigint NOT NULL REFERENCES videos (id),
    session_id       text NOT NULL,
    event_type       text NOT NULL CHECK (event_type IN ('video_opened', 'playback_started', 'heartbeat', 'paused', 'seeked', 'completed', 'chat_opened')),
    position_seconds double precision NOT NULL DEFAULT 0 CHECK (position_seconds >= 0),
    occurred_at      timestamptz NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    properties       jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX watch_events_user_idx ON watch_events (user_id, occurred_at);
CREATE INDEX watch_events_video_idx ON watch_events (video_id, occurred_at);
CREATE INDEX watch_events_session_idx ON watch_events (session_id);

CREATE TABLE watch_sessions (
    id                    text PRIMARY KEY,
    user_id               uuid NOT NULL REFERENCES users (id),
    video_id              bigint NOT NULL REFERENCES videos (id),
    started_at            timestamptz NOT NULL,
    ended_at              timestamptz,
    last_position_seconds double precision NOT NULL DEFAULT 0,
    watched_seconds       double precision NOT NULL DEFAULT 0 CHECK (watched_seconds >= 0),
    completion_ratio      double precision NOT NULL DEFAULT 0 CHECK (completion_ratio BETWEEN 0 AND 1),
    event_count           integer NOT NULL DEFAULT 0,
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX watch_sessions_user_idx ON watch_sessions (user_id, started_at DESC);
CREATE INDEX watch_sessions_video_idx ON watch_sessions (video_id, started_at DESC);

-- Provider events, sync runs, audit, chat context -----------------------------

-- Raw Vimeo webhooks and reconciliation observations. event_key is the
-- provider's event id or provider + object_id + event_type + source_timestamp.
CREATE TABLE provider_events (
    id               bigserial PRIMARY KEY,
    provider         text NOT NULL,
    event_key        text NOT NULL CHECK (event_key <> ''),
    event_type       text NOT NULL,
    object_id        text NOT NULL DEFAULT '',
    source_timestamp timestamptz,
    payload          bytea NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    status           text NOT NULL DEFAULT 'received' CHECK (status IN ('received', 'processed', 'failed', 'ignored')),
    processed_at     timestamptz,
    error            text NOT NULL DEFAULT '',
    UNIQUE (provider, event_key)
);
CREATE INDEX provider_events_received_idx ON provider_events (received_at DESC);

CREATE TABLE sync_runs (
    id          bigserial PRIMARY KEY,
    trigger     text NOT NULL,
    started_at  timestamptz NOT NULL DEFAULT now(),
    finished_at timestamptz,
    complete    boolean NOT NULL DEFAULT false,
    held        boolean NOT NULL DEFAULT false,
    counts      jsonb NOT NULL DEFAULT '{}',
    api_calls   integer NOT NULL DEFAULT 0,
    errors      jsonb NOT NULL DEFAULT '[]'
);

-- Append-only: the trigger below rejects UPDATE, DELETE and TRUNCATE. Each row
-- carries the hash of its predecessor so that tampering is detectable.
CREATE TABLE audit_logs (
    id          bigserial PRIMARY KEY,
    event_id    uuid NOT NULL UNIQUE,
    occurred_at timestamptz NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    actor       text NOT NULL DEFAULT '',
    action      text NOT NULL CHECK (action <> ''),
    target      text NOT NULL DEFAULT '',
    outcome     text NOT NULL DEFAULT '',
    details     jsonb NOT NULL DEFAULT '{}',
    prev_hash   bytea,
    hash        bytea
);
CREATE INDEX audit_logs_occurred_idx ON audit_logs (occurred_at DESC);
CREATE INDEX audit_logs_actor_idx ON audit_logs (actor, occurred_at DESC);
CREATE INDEX audit_logs_action_idx ON audit_logs (action, occurred_at DESC);

CREATE FUNCTION audit_logs_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_logs is append-only: % is not allowed', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;
CREATE TRIGGER audit_logs_no_update_delete BEFORE UPDATE OR DELETE ON audit_logs
    FOR EACH ROW EXECUTE FUNCTION audit_logs_append_only();
CREATE TRIGGER audit_logs_no_truncate BEFORE TRUNCATE ON audit_logs
    FOR EACH STATEMENT EXECUTE FUNCTION audit_logs_append_only();

CREATE TABLE hubspot_context (
    id         bigserial PRIMARY KEY,
    user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    video_id   bigint NOT NULL REFERENCES videos (id),
    context    jsonb NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now(),
    expires_at timestamptz
);
CREATE INDEX hubspot_context_user_video_idx ON hubspot_context (user_id, video_id, created_at DESC);

-- Events ----------------------------------------------------------------------

-- Events that could not be processed: visible, replayable, never dropped.
CREATE TABLE dead_letters (
    id              bigserial PRIMARY KEY,
    event_id        text NOT NULL,
    topic           text NOT NULL,
    dead_topic      text NOT NULL,
    key             text NOT NULL DEFAULT '',
    payload         bytea NOT NULL,
    error           text NOT NULL,
    attempts        integer NOT NULL DEFAULT 1 CHECK (attempts >= 1),
    first_failed_at timestamptz NOT NULL DEFAULT now(),
    last_failed_at  timestamptz NOT NULL DEFAULT now(),
    status          text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'replayed', 'ignored')),
    note            text NOT NULL DEFAULT '',
    replay_count    integer NOT NULL DEFAULT 0,
    replayed_at     timestamptz,
    UNIQUE (topic, event_id)
);
CREATE INDEX dead_letters_open_idx ON dead_letters (last_failed_at DESC) WHERE status = 'open';

-- The transactional outbox: rows written with the change they announce; a relay
-- publishes them in id order per key and marks them sent.
CREATE TABLE outbox (
    id         bigserial PRIMARY KEY,
    topic      text NOT NULL CHECK (topic <> ''),
    key        text NOT NULL DEFAULT '',
    payload    bytea NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    sent_at    timestamptz,
    attempts   integer NOT NULL DEFAULT 0,
    last_error text NOT NULL DEFAULT ''
);
CREATE INDEX outbox_unsent_idx ON outbox (id) WHERE sent_at IS NULL;

-- What each consumer has applied: the idempotency ledger.
CREATE TABLE processed_events (
    consumer     text NOT NULL,
    event_key    text NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_key)
);
