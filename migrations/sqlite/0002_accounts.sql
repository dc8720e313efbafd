-- Newsroom accounts, server-side sessions, login throttling and article revisions.
CREATE TABLE users (
    id                  INTEGER PRIMARY KEY,
    email               TEXT NOT NULL UNIQUE,
    name                TEXT NOT NULL,
    role                TEXT NOT NULL,
    password_hash       TEXT NOT NULL,
    author_id           BIGINT REFERENCES authors(id) ON DELETE SET NULL,
    created_at          BIGINT NOT NULL,
    password_changed_at BIGINT NOT NULL
);

-- Only a hash of the session token is stored: a leaked table does not leak sessions.
CREATE TABLE sessions (
    token_hash   TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    csrf_token   TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);

-- Failed sign-ins per key ("account:EMAIL" or "address:IP") in the current window.
CREATE TABLE login_failures (
    key      TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    first_at BIGINT NOT NULL
);

CREATE TABLE article_revisions (
    id          INTEGER PRIMARY KEY,
    article_id  BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    user_id     BIGINT REFERENCES users(id) ON DELETE SET NULL,
    slug        TEXT NOT NULL,
    headline    TEXT NOT NULL,
    standfirst  TEXT NOT NULL,
    body_source TEXT NOT NULL,
    status      TEXT NOT NULL,
    created_at  BIGINT NOT NULL
);
CREATE INDEX article_revisions_article ON article_revisions (article_id, id);

-- Who created an article (Authors and Contributors may edit only their own), and a version
-- counter so that a save based on an old version is refused instead of overwriting.
ALTER TABLE articles ADD COLUMN created_by BIGINT REFERENCES users(id) ON DELETE SET NULL;
ALTER TABLE articles ADD COLUMN version BIGINT NOT NULL DEFAULT 1;
CREATE INDEX articles_scheduled ON articles (status, published_at);
