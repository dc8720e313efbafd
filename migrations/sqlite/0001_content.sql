-- Content model: authors, sections, tags, articles and their links, static pages,
-- site settings and the content event log. Times are Unix seconds (UTC).
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE authors (
    id         INTEGER PRIMARY KEY,
    slug       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    bio        TEXT NOT NULL DEFAULT '',
    photo_url  TEXT,
    created_at BIGINT NOT NULL
);

CREATE TABLE sections (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    parent_id   BIGINT REFERENCES sections(id) ON DELETE SET NULL,
    position    BIGINT NOT NULL DEFAULT 0
);

CREATE TABLE tags (
    id   INTEGER PRIMARY KEY,
    slug TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL
);

CREATE TABLE articles (
    id                     INTEGER PRIMARY KEY,
    external_id            TEXT UNIQUE,
    slug                   TEXT NOT NULL UNIQUE,
    headline               TEXT NOT NULL,
    standfirst             TEXT NOT NULL DEFAULT '',
    body_source            TEXT NOT NULL,
    body_html              TEXT NOT NULL,
    body_text              TEXT NOT NULL,
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
    updated_at             BIGINT NOT NULL
);
CREATE INDEX articles_status_published ON articles (status, published_at DESC);
CREATE INDEX articles_section_published ON articles (primary_section_id, status, published_at DESC);

CREATE TABLE article_authors (
    article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    author_id  BIGINT NOT NULL REFERENCES authors(id),
    position   BIGINT NOT NULL,
    PRIMARY KEY (article_id, author_id)
);
CREATE INDEX article_authors_author ON article_authors (author_id);

CREATE TABLE article_sections (
    article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    section_id BIGINT NOT NULL REFERENCES sections(id),
    position   BIGINT NOT NULL,
    PRIMARY KEY (article_id, section_id)
);
CREATE INDEX article_sections_section ON article_sections (section_id);

CREATE TABLE article_tags (
    article_id BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    tag_id     BIGINT NOT NULL REFERENCES tags(id),
    position   BIGINT NOT NULL,
    PRIMARY KEY (article_id, tag_id)
);
CREATE INDEX article_tags_tag ON article_tags (tag_id);

CREATE TABLE pages (
    id          INTEGER PRIMARY KEY,
    slug        TEXT NOT NULL UNIQUE,
    title       TEXT NOT NULL,
    body_source TEXT NOT NULL,
    body_html   TEXT NOT NULL,
    status      TEXT NOT NULL,
    updated_at  BIGINT NOT NULL
);

CREATE TABLE content_events (
    id         INTEGER PRIMARY KEY,
    kind       TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
