-- Sticky articles (WordPress's "Stick to the top of the blog"): kept at the top of the front
-- page, newest first among them, until an editor unsticks them. 1 or 0.
ALTER TABLE articles ADD COLUMN sticky BIGINT NOT NULL DEFAULT 0;
CREATE INDEX articles_sticky ON articles (published_at) WHERE sticky = 1;
