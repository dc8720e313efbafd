-- The picture library (src/media/): uploads checked, processed off the request path into
-- variants (AVIF, WebP, JPEG or PNG at several widths; crops for link previews), and described
-- once (alt text, caption, credit, focal point) for every page that shows them.
CREATE TABLE pictures (
    id          INTEGER PRIMARY KEY,
    -- Bumped when the picture is replaced: variant addresses carry it, so no cache mixes two.
    version     BIGINT NOT NULL DEFAULT 1,
    file_name   TEXT NOT NULL,
    -- Key of the original in the media store: kept to process again, never served.
    original    TEXT NOT NULL,
    -- SHA-256 prefix of the original, to find a picture uploaded twice.
    hash        TEXT NOT NULL,
    bytes       BIGINT NOT NULL,
    -- Upright size (the EXIF orientation applied), before scaling.
    width       BIGINT NOT NULL,
    height      BIGINT NOT NULL,
    -- 1 when it can be transparent (its fallback is PNG, not JPEG).
    alpha       BIGINT NOT NULL DEFAULT 0,
    alt         TEXT NOT NULL DEFAULT '',
    caption     TEXT NOT NULL DEFAULT '',
    credit      TEXT NOT NULL DEFAULT '',
    -- Focal point in hundredths of a percent from the left and from the top (crops follow it).
    focus_x     BIGINT NOT NULL DEFAULT 5000,
    focus_y     BIGINT NOT NULL DEFAULT 5000,
    -- 'processing', 'ready' or 'failed' (with the reason in `error`).
    state       TEXT NOT NULL DEFAULT 'processing',
    error       TEXT,
    created_by  BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at  BIGINT NOT NULL,
    updated_at  BIGINT NOT NULL
);
CREATE INDEX pictures_created ON pictures (created_at);
CREATE INDEX pictures_hash ON pictures (hash);

-- Pictures waiting for their variants. A node claims one with a lease; a job whose lease ran
-- out (its node stopped or crashed) is claimed again, so work resumes after a restart.
CREATE TABLE picture_jobs (
    picture_id  BIGINT PRIMARY KEY REFERENCES pictures(id) ON DELETE CASCADE,
    version     BIGINT NOT NULL,
    claimed_by  TEXT,
    lease_until BIGINT NOT NULL DEFAULT 0,
    attempts    BIGINT NOT NULL DEFAULT 0,
    created_at  BIGINT NOT NULL
);

-- Where each picture is used ('article' lead or body, 'page' body), kept by the domain layer
-- when those are saved: a picture in use cannot be deleted, and a change to one reaches the
-- pages that show it.
CREATE TABLE picture_uses (
    picture_id BIGINT NOT NULL,
    kind       TEXT NOT NULL,
    subject_id BIGINT NOT NULL,
    PRIMARY KEY (picture_id, kind, subject_id)
);
CREATE INDEX picture_uses_subject ON picture_uses (kind, subject_id);
