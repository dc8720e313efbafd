-- Moving in from WordPress: old addresses that answer with a 301 to the article, and the
-- export's attachments, recorded with their original URLs (not downloaded).
CREATE TABLE redirects (
    path       TEXT PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE
);
CREATE INDEX redirects_article ON redirects (article_id);

CREATE TABLE attachments (
    id          INTEGER PRIMARY KEY,
    external_id TEXT NOT NULL UNIQUE,
    url         TEXT NOT NULL,
    title       TEXT NOT NULL DEFAULT '',
    article_id  BIGINT REFERENCES articles(id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL
);
