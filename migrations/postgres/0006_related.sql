-- Related posts, computed when content changes (never per page view), and editors' overrides.
CREATE TABLE related_articles (
    article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    position   BIGINT NOT NULL,
    related_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    score      DOUBLE PRECISION NOT NULL,
    PRIMARY KEY (article_id, position)
);
CREATE INDEX related_articles_related ON related_articles (related_id);

-- kind: 'pin' (shown first, in position order) or 'exclude' (never shown).
CREATE TABLE related_overrides (
    article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    related_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    kind       TEXT NOT NULL,
    position   BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (article_id, related_id)
);

-- How far a background job has followed the content event log (shared by every node; a node
-- claims a stretch of events by moving the cursor with a compare-and-set).
CREATE TABLE job_cursors (
    name     TEXT PRIMARY KEY,
    event_id BIGINT NOT NULL
);
