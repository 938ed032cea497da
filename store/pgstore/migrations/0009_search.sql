-- Search and previews (#18): a video's Vimeo tags (names, in Vimeo's order)
-- and every thumbnail size Vimeo renders ([{"width","height","url"}]), so
-- that the read API can search tags and offer srcset without calling Vimeo.
ALTER TABLE videos
    ADD COLUMN tags     jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(tags) = 'array'),
    ADD COLUMN pictures jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(pictures) = 'array');
