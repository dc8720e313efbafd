-- no-transaction
-- The article table again, with its three long texts (source, HTML, plain text: often 15 KB
-- together) as the last columns. SQLite keeps a row's columns in order and moves whatever does
-- not fit on the row's page to a chain of overflow pages, so every column declared after the
-- long texts (excerpt, status, section, publication time, comment count) cost a walk through
-- that chain: each card on a list page read four or five pages instead of one. With the short
-- columns first, a card is read from the row's own page.
--
-- SQLite's procedure for changing a table's shape (https://www.sqlite.org/lang_altertable.html,
-- "other kinds of table schema changes"): foreign keys off, outside a transaction, for the
-- swap. `-- no-transaction` above tells sqlx to leave the
-- transaction to this file.
PRAGMA foreign_keys = OFF;
BEGIN;
DROP TABLE IF EXISTS articles_reordered;
CREATE TABLE articles_reordered (
    id                     INTEGER PRIMARY KEY,
    external_id            TEXT UNIQUE,
    slug                   TEXT NOT NULL UNIQUE,
    headline               TEXT NOT NULL,
    standfirst             TEXT NOT NULL DEFAULT '',
    excerpt                TEXT NOT NULL,
    word_count             BIGINT NOT NULL DEFAULT 0,
    status                 TEXT NOT NULL,
    primary_section_id     BIGINT NOT NULL REFERENCES sections(id),
    featured_image_url     TEXT,
    featured_image_alt     TEXT,
    featured_image_caption TEXT,
    featured_image_credit  TEXT,
    comment_status         TEXT NOT NULL DEFAULT 'open',
    published_at           BIGINT,
    created_at             BIGINT NOT NULL,
    updated_at             BIGINT NOT NULL,
    created_by             BIGINT REFERENCES users(id) ON DELETE SET NULL,
    version                BIGINT NOT NULL DEFAULT 1,
    correction             TEXT NOT NULL DEFAULT '',
    corrected_at           BIGINT,
    comment_count          BIGINT NOT NULL DEFAULT 0,
    sticky                 BIGINT NOT NULL DEFAULT 0,
    body_html              TEXT NOT NULL,
    body_source            TEXT NOT NULL,
    body_text              TEXT NOT NULL
);
INSERT INTO articles_reordered (id, external_id, slug, headline, standfirst, excerpt, word_count, status,
    primary_section_id, featured_image_url, featured_image_alt, featured_image_caption,
    featured_image_credit, comment_status, published_at, created_at, updated_at, created_by, version,
    correction, corrected_at, comment_count, sticky, body_html, body_source, body_text)
SELECT id, external_id, slug, headline, standfirst, excerpt, word_count, status,
    primary_section_id, featured_image_url, featured_image_alt, featured_image_caption,
    featured_image_credit, comment_status, published_at, created_at, updated_at, created_by, version,
    correction, corrected_at, comment_count, sticky, body_html, body_source, body_text
FROM articles ORDER BY id;
DROP TABLE articles;
-- The link tables' triggers name `articles`, which does not exist for this one statement; the
-- legacy rename does not re-check them (nothing in them needs rewriting).
PRAGMA legacy_alter_table = ON;
ALTER TABLE articles_reordered RENAME TO articles;
PRAGMA legacy_alter_table = OFF;

CREATE INDEX articles_scheduled ON articles (status, published_at);
CREATE INDEX articles_sticky ON articles (published_at) WHERE sticky = 1;
-- The two lists of the front page, newest first, read from the index alone: each index ends
-- in the card's own columns (headline, standfirst, excerpt, picture, comment count), so a card
-- is read from one index entry instead of its article's row. `id DESC` after the time gives
-- the order the pages list them in; without it SQLite sorted each section whole, or walked
-- every section's stories by date to find one section's.
CREATE INDEX articles_status_published ON articles (status, published_at DESC, id DESC,
    primary_section_id, slug, headline, standfirst, excerpt, featured_image_url, featured_image_alt, comment_count, created_at);
CREATE INDEX articles_section_published ON articles (primary_section_id, status, published_at DESC, id DESC,
    slug, headline, standfirst, excerpt, featured_image_url, featured_image_alt, comment_count, created_at);
CREATE TRIGGER articles_listed AFTER UPDATE OF status, published_at ON articles
WHEN NEW.status IS NOT OLD.status OR NEW.published_at IS NOT OLD.published_at BEGIN
    UPDATE article_sections SET listed_at = CASE WHEN NEW.status = 'published' THEN NEW.published_at END
    WHERE article_id = NEW.id;
    UPDATE article_tags SET listed_at = CASE WHEN NEW.status = 'published' THEN NEW.published_at END
    WHERE article_id = NEW.id;
    UPDATE article_authors SET listed_at = CASE WHEN NEW.status = 'published' THEN NEW.published_at END
    WHERE article_id = NEW.id;
END;
COMMIT;
PRAGMA foreign_keys = ON;
