-- Sync runs keep what they changed and what they held, and an admin's
-- decision on held deletions (issue #13: the admin console's drift view and
-- held reconciliations).
--
-- changes: the first 1,000 applied changes (tree.MaxRecordedChanges) as a
-- JSON array of tree.Change; changes_total counts them all. held_changes: the
-- held deletions, capped the same way (counts->>'held' has the total).
-- held_status: '' (nothing held), 'pending', 'approved' or 'rejected'.
ALTER TABLE sync_runs
    ADD COLUMN changes         jsonb   NOT NULL DEFAULT '[]',
    ADD COLUMN changes_total   integer NOT NULL DEFAULT 0,
    ADD COLUMN held_changes    jsonb   NOT NULL DEFAULT '[]',
    ADD COLUMN held_status     text    NOT NULL DEFAULT ''
        CHECK (held_status IN ('', 'pending', 'approved', 'rejected')),
    ADD COLUMN held_by         text    NOT NULL DEFAULT '',
    ADD COLUMN held_decided_at timestamptz;

-- Runs held before this migration wait for a decision too.
UPDATE sync_runs SET held_status = 'pending' WHERE held AND finished_at IS NOT NULL;

CREATE INDEX sync_runs_held_pending_idx ON sync_runs (id) WHERE held_status = 'pending';
