-- Slugs an article had before: their old addresses answer with a 301 to the current one.
CREATE TABLE slug_history (
    old_slug   TEXT PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    created_at BIGINT NOT NULL
);

-- A correction or update note shown on the article with its time.
ALTER TABLE articles ADD COLUMN correction TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN corrected_at BIGINT;
