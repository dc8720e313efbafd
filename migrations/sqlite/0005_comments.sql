-- Reader comments, their moderation, the spam filter's learned counts and used form tokens.
CREATE TABLE comments (
    id              INTEGER PRIMARY KEY,
    article_id      BIGINT NOT NULL REFERENCES articles(id) ON DELETE CASCADE,
    -- The comment replied to, and the top-level comment of its thread (itself when top-level).
    parent_id       BIGINT REFERENCES comments(id) ON DELETE SET NULL,
    thread_id       BIGINT,
    depth           BIGINT NOT NULL DEFAULT 0,
    author_name     TEXT NOT NULL,
    -- Never shown on public pages.
    author_email    TEXT NOT NULL,
    author_url      TEXT NOT NULL DEFAULT '',
    -- What the commenter typed (plain text) and its rendering, made once when it is saved.
    body            TEXT NOT NULL,
    body_html       TEXT NOT NULL,
    -- pending | approved | spam | trash
    status          TEXT NOT NULL,
    -- Set when a staff member wrote it (shown as staff on the page).
    staff_user_id   BIGINT REFERENCES users(id) ON DELETE SET NULL,
    client_addr     TEXT NOT NULL DEFAULT '',
    user_agent      TEXT NOT NULL DEFAULT '',
    -- The spam filter's probability that this is spam, and why it was held, if it was.
    spam_score      DOUBLE PRECISION NOT NULL DEFAULT 0,
    hold_reason     TEXT NOT NULL DEFAULT '',
    -- Whether a moderator's decision on it has been learned by the spam filter ('spam'/'ham').
    learned_as      TEXT NOT NULL DEFAULT '',
    external_id     TEXT UNIQUE,
    created_at      BIGINT NOT NULL,
    status_changed_at BIGINT NOT NULL
);
CREATE INDEX comments_article ON comments (article_id, status, created_at);
CREATE INDEX comments_status ON comments (status, created_at);
CREATE INDEX comments_email ON comments (author_email, created_at);
CREATE INDEX comments_addr ON comments (client_addr, created_at);
CREATE INDEX comments_thread ON comments (thread_id);

-- Approved comments per article, kept in the same transaction as every status change.
ALTER TABLE articles ADD COLUMN comment_count BIGINT NOT NULL DEFAULT 0;

-- Word counts the spam filter learned from moderators' decisions (added to the shipped model).
CREATE TABLE spam_tokens (
    token TEXT PRIMARY KEY,
    spam  BIGINT NOT NULL DEFAULT 0,
    ham   BIGINT NOT NULL DEFAULT 0
);

-- Comment form tokens already used: a token is good for one submission.
CREATE TABLE comment_form_nonces (
    nonce   TEXT PRIMARY KEY,
    used_at BIGINT NOT NULL
);
CREATE INDEX comment_form_nonces_used ON comment_form_nonces (used_at);
