-- Unguessable, revocable links that show an unpublished article. Only a hash is stored.
CREATE TABLE preview_links (
    token_hash TEXT PRIMARY KEY,
    article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX preview_links_article ON preview_links (article_id);
