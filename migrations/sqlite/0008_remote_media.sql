-- Local copies of an imported site's images (`gazette media fetch`, `import wordpress
-- --fetch-media`): each remote address is fetched once and stored under DATA_DIR/media by its
-- content hash; articles and pages that showed the remote address are relinked to the copy.
CREATE TABLE remote_media (
    url        TEXT PRIMARY KEY,
    -- HEX.EXT under DATA_DIR/media once fetched.
    local_name TEXT,
    -- Why the last attempt failed (HTTP status, not an image, too large, unreachable).
    error      TEXT,
    attempts   BIGINT NOT NULL DEFAULT 0,
    fetched_at BIGINT
);
