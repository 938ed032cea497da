-- The content change feed (#21): the Vimeo ids of the folders and videos each
-- content version changed, written by the transaction that bumped the version,
-- so that a reader holding the tree at one version patches it to the current
-- one instead of reading the whole tree again. Writers prune the entries more
-- than tree.FeedRetention versions old; a reader further behind reloads.
CREATE TABLE content_changes (
    version    bigint PRIMARY KEY,
    folders    text[] NOT NULL DEFAULT '{}',
    videos     text[] NOT NULL DEFAULT '{}',
    created_at timestamptz NOT NULL DEFAULT now()
);
