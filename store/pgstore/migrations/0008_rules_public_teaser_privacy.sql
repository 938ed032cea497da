-- Public content, teasers and Vimeo embed privacy.
--
-- Rules gain the subject 'public' (anyone, signed in or not) and the effect
-- 'teaser' (listed locked, not playable), which carries a lock reason; allow
-- and deny rules carry none.
ALTER TABLE entitlements DROP CONSTRAINT entitlements_subject_check;
ALTER TABLE entitlements ADD CONSTRAINT entitlements_subject_check
    CHECK (subject ~ '^(public|everyone|role:.+|segment:.+=.+|user:.+)$');
ALTER TABLE entitlements DROP CONSTRAINT entitlements_effect_check;
ALTER TABLE entitlements ADD CONSTRAINT entitlements_effect_check
    CHECK (effect IN ('allow', 'deny', 'teaser'));
ALTER TABLE entitlements ADD COLUMN lock_reason text NOT NULL DEFAULT ''
    CHECK ((effect = 'teaser' AND lock_reason IN ('sign_in', 'upgrade', 'purchase'))
        OR (effect <> 'teaser' AND lock_reason = ''));

-- Vimeo's privacy.embed (public | private | whitelist; '' unknown), next to
-- privacy.view (visibility): together they say whether the embedded player
-- can play a video for app users.
ALTER TABLE videos ADD COLUMN embed_privacy text NOT NULL DEFAULT ''
    CHECK (embed_privacy IN ('', 'public', 'private', 'whitelist'));
