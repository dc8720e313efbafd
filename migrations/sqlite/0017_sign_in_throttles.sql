-- Sign-in throttles back off from the last failure (not lock out from the first), and devices
-- that have signed in to an account before are known (src/accounts.rs).
ALTER TABLE login_failures ADD COLUMN last_at BIGINT NOT NULL DEFAULT 0;
UPDATE login_failures SET last_at = first_at;

-- A device cookie's hash, for the account it signed in to.
CREATE TABLE known_devices (
    token_hash   TEXT PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at   BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX known_devices_user ON known_devices (user_id);
