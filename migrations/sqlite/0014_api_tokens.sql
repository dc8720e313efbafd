-- Tokens for the Admin API (src/web/api/admin.rs): created by staff in the admin, shown once,
-- kept only as a SHA-256 hash (a token is 256 random bits: a fast hash is enough, unlike a
-- password), limited to scopes and, on every request, to what their owner's role allows now.
CREATE TABLE api_tokens (
    id           INTEGER PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users(id) ON DELETE CASCADE,
    name         TEXT NOT NULL,
    -- The first characters, to recognise a token in lists and logs.
    prefix       TEXT NOT NULL,
    hash         TEXT NOT NULL UNIQUE,
    -- Space-separated: drafts:read articles:write articles:publish comments:moderate media:write
    scopes       TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at   BIGINT
);
CREATE INDEX api_tokens_user ON api_tokens (user_id);
