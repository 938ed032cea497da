-- The rule change feed (#21): what each entitlement version did, written by
-- the transaction that bumped the version, so that a reader holding the rules
-- of one version brings them to the current one instead of listing them all
-- again. An added rule is kept whole (the entitlements row as it was
-- inserted); a removal names only the rule. Writers prune the entries more
-- than entitle.FeedRetention versions old; a reader further behind, or behind
-- a version without an entry (a bulk load), lists every rule.
CREATE TABLE rule_changes (
    version     bigint PRIMARY KEY,
    rule_id     bigint NOT NULL,
    removed     boolean NOT NULL,
    subject     text NOT NULL DEFAULT '',
    target_kind text NOT NULL DEFAULT '',
    target_id   text NOT NULL DEFAULT '',
    effect      text NOT NULL DEFAULT '',
    lock_reason text NOT NULL DEFAULT '',
    note        text NOT NULL DEFAULT '',
    created_by  text NOT NULL DEFAULT '',
    created_at  timestamptz,
    recorded_at timestamptz NOT NULL DEFAULT now()
);
