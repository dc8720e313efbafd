-- Steps that rewrite stored data with Rust code (a derived column computed by a new rule), run
-- once after the SQL migrations by `gazette serve` and `gazette migrate` (src/content/backfill).
-- A step's name is recorded here when it has gone through every row.
CREATE TABLE data_migrations (
    name    TEXT PRIMARY KEY,
    done_at BIGINT NOT NULL
);
