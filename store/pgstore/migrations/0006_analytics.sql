-- Analytics: playback events, sessions, per-day aggregates and resume state.
--
-- watch_events and watch_sessions had never been written by any deployment,
-- so they are recreated: watch_events is partitioned by occurred_at (one
-- partition per UTC day, created by the consumer before it writes a day and
-- dropped by the retention setting), and both now key videos by their Vimeo
-- id (the library's id space) and users by id without foreign keys: they are
-- append-only facts that outlive a video's removal from the mirror.

DROP TABLE watch_events;
DROP TABLE watch_sessions;

-- One row per client event. The primary key includes the partition key, as
-- PostgreSQL requires: a redelivered event (same id, same occurred_at) is not
-- stored twice; the sessioniser also deduplicates by id.
CREATE TABLE watch_events (
    id               uuid NOT NULL,
    user_id          text NOT NULL,
    video_id         text NOT NULL,
    session_id       text NOT NULL,
    event_type       text NOT NULL CHECK (event_type IN ('video_opened', 'playback_started', 'heartbeat', 'paused', 'seeked', 'completed', 'chat_opened')),
    position_seconds double precision NOT NULL DEFAULT 0 CHECK (position_seconds >= 0),
    occurred_at      timestamptz NOT NULL,
    received_at      timestamptz NOT NULL DEFAULT now(),
    properties       jsonb NOT NULL DEFAULT '{}',
    PRIMARY KEY (id, occurred_at)
) PARTITION BY RANGE (occurred_at);
CREATE INDEX watch_events_session_idx ON watch_events (session_id);
CREATE INDEX watch_events_user_idx ON watch_events (user_id, occurred_at);
CREATE INDEX watch_events_video_idx ON watch_events (video_id, occurred_at);

-- A session folded from all its stored events (analytics.Fold): recomputed
-- whenever one of its events arrives, so the row does not depend on the
-- order events came in.
CREATE TABLE watch_sessions (
    id                    text PRIMARY KEY,
    user_id               text NOT NULL,
    video_id              text NOT NULL,
    started_at            timestamptz NOT NULL,
    ended_at              timestamptz NOT NULL,
    last_event_id         uuid NOT NULL,
    last_position_seconds double precision NOT NULL DEFAULT 0,
    max_position_seconds  double precision NOT NULL DEFAULT 0,
    watched_seconds       double precision NOT NULL DEFAULT 0 CHECK (watched_seconds >= 0),
    completion_ratio      double precision NOT NULL DEFAULT 0 CHECK (completion_ratio BETWEEN 0 AND 1),
    completed             boolean NOT NULL DEFAULT false,
    qualifies_view        boolean NOT NULL DEFAULT false, -- watched enough to be a view (before the per-hour rule)
    event_count           integer NOT NULL DEFAULT 0,
    updated_at            timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX watch_sessions_user_video_idx ON watch_sessions (user_id, video_id, started_at);
CREATE INDEX watch_sessions_video_idx ON watch_sessions (video_id, started_at DESC);

-- One user's activity on one video on one UTC day (analytics.Daily):
-- recomputed from the pair's sessions whenever one of them changes. The
-- per-video, per-user and per-folder aggregates are views over it.
CREATE TABLE watch_daily (
    user_id         text NOT NULL,
    video_id        text NOT NULL,
    day             date NOT NULL,
    views           integer NOT NULL DEFAULT 0 CHECK (views >= 0),
    sessions        integer NOT NULL DEFAULT 0 CHECK (sessions >= 0),
    watched_seconds double precision NOT NULL DEFAULT 0 CHECK (watched_seconds >= 0),
    completions     integer NOT NULL DEFAULT 0 CHECK (completions >= 0),
    PRIMARY KEY (user_id, video_id, day)
);
CREATE INDEX watch_daily_video_idx ON watch_daily (video_id, day);
CREATE INDEX watch_daily_day_idx ON watch_daily (day);

-- Resume state per user and video (analytics.Latest: the session with the
-- newest last event wins, across devices). dismissed_at hides the video from
-- continue watching until an event newer than it arrives.
CREATE TABLE watch_progress (
    user_id          text NOT NULL,
    video_id         text NOT NULL,
    position_seconds double precision NOT NULL DEFAULT 0,
    completion_ratio double precision NOT NULL DEFAULT 0,
    completed        boolean NOT NULL DEFAULT false,
    last_event_at    timestamptz NOT NULL,
    last_event_id    uuid NOT NULL,
    dismissed_at     timestamptz,
    updated_at       timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (user_id, video_id)
);
CREATE INDEX watch_progress_recent_idx ON watch_progress (user_id, last_event_at DESC, video_id DESC);

CREATE VIEW video_daily_stats AS
SELECT video_id, day, sum(views)::bigint AS views, count(DISTINCT user_id) FILTER (WHERE views > 0) AS unique_viewers,
       sum(watched_seconds) AS watched_seconds, sum(completions)::bigint AS completions, sum(sessions)::bigint AS sessions
FROM watch_daily GROUP BY video_id, day;

CREATE VIEW user_daily_stats AS
SELECT user_id, day, sum(views)::bigint AS views, count(DISTINCT video_id) FILTER (WHERE views > 0) AS videos_viewed,
       sum(watched_seconds) AS watched_seconds, sum(completions)::bigint AS completions, sum(sessions)::bigint AS sessions
FROM watch_daily GROUP BY user_id, day;

-- Per folder: the videos placed directly in the folder (a video placed in
-- several folders counts in each).
CREATE VIEW folder_daily_stats AS
SELECT f.vimeo_folder_id AS folder_id, d.day, sum(d.views)::bigint AS views,
       count(DISTINCT d.user_id) FILTER (WHERE d.views > 0) AS unique_viewers,
       sum(d.watched_seconds) AS watched_seconds, sum(d.completions)::bigint AS completions
FROM watch_daily d
JOIN videos v ON v.vimeo_video_id = d.video_id
JOIN folder_videos fv ON fv.video_id = v.id
JOIN folders f ON f.id = fv.folder_id
GROUP BY f.vimeo_folder_id, d.day;
