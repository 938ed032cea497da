-- The audience (roles and segments) each user was last served with: roles
-- from identity-provider groups and segments from token claims exist only
-- in tokens, and the ranking pipeline ranks users offline, inside what they
-- may see. Written by the read API when a user's audience changes.
CREATE TABLE user_audiences (
    user_id  text PRIMARY KEY,
    roles    text[] NOT NULL DEFAULT '{}',
    segments jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(segments) = 'object'),
    seen_at  timestamptz NOT NULL DEFAULT now()
);
