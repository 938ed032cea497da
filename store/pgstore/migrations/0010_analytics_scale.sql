-- Per folder and its whole subtree: the videos placed in the folder or in
-- any folder below it that is not deleted, each counted once however many
-- of those folders it is placed in. This is what an admin looking at a
-- folder means by its numbers; folder_daily_stats keeps the direct videos.
-- The subtree is a range on the materialised path (f.path is a prefix of
-- s.path exactly when f.path <= s.path < f.path || '~', since paths hold
-- only digits and '/'), which folders_path_idx serves. Asking for one
-- folder reads its subtree's videos only; the root's numbers read all of
-- watch_daily.
CREATE VIEW folder_subtree_daily_stats AS
SELECT f.vimeo_folder_id AS folder_id, d.day, sum(d.views)::bigint AS views,
       count(DISTINCT d.user_id) FILTER (WHERE d.views > 0) AS unique_viewers,
       sum(d.watched_seconds) AS watched_seconds, sum(d.completions)::bigint AS completions,
       sum(d.sessions)::bigint AS sessions
FROM folders f
CROSS JOIN LATERAL (
    SELECT DISTINCT v.vimeo_video_id
    FROM folders s
    JOIN folder_videos fv ON fv.folder_id = s.id
    JOIN videos v ON v.id = fv.video_id
    WHERE s.path ~>=~ f.path AND s.path ~<~ (f.path || '~') AND s.deleted_at IS NULL
) sv
JOIN watch_daily d ON d.video_id = sv.vimeo_video_id
GROUP BY f.vimeo_folder_id, d.day;

-- What a session's fold carries from one event to the next
-- (analytics.FoldCarry), so that events after the session's last one are
-- folded onto the stored row instead of refolding every stored event of the
-- session (whose cost grows with the session). Rows written before this
-- migration have fold_carry = false and are refolded in full once.
ALTER TABLE watch_sessions
    ADD COLUMN fold_carry           boolean NOT NULL DEFAULT false,
    ADD COLUMN fold_playing         boolean NOT NULL DEFAULT false,
    ADD COLUMN fold_prev_at         timestamptz,
    ADD COLUMN fold_watched         double precision NOT NULL DEFAULT 0,
    ADD COLUMN fold_completed_event boolean NOT NULL DEFAULT false;
