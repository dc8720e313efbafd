//! Data migrations: steps that rewrite stored rows with Rust code, run once after the SQL
//! migrations, each recorded in `data_migrations` when it has gone through every row.

use crate::storage::{Db, Tx, now};
use crate::{fetch_all, fetch_optional, tx_exec};

/// Whether the step `name` has run to its end on this store.
pub async fn is_done(db: &Db, name: &str) -> anyhow::Result<bool> {
    Ok(fetch_optional!(db, (String,), "SELECT name FROM data_migrations WHERE name = $1", name)?.is_some())
}

/// Records that the step `name` has gone through every row (a second node's record is kept).
pub async fn mark_done(tx: &mut Tx, name: &str) -> anyhow::Result<()> {
    tx_exec!(
        tx,
        "INSERT INTO data_migrations (name, done_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        name,
        now()
    )?;
    Ok(())
}

/// A stored article body as the text backfill reads it.
#[derive(Debug, sqlx::FromRow)]
pub struct StoredBody {
    pub id: i64,
    pub body_html: String,
    pub body_text: String,
    pub excerpt: String,
    pub status: String,
}

/// Up to `limit` article bodies with ids above `after`, in id order.
pub async fn bodies_after(db: &Db, after: i64, limit: i64) -> anyhow::Result<Vec<StoredBody>> {
    Ok(fetch_all!(
        db,
        StoredBody,
        "SELECT id, body_html, body_text, excerpt, status FROM articles WHERE id > $1 ORDER BY id LIMIT $2",
        after,
        limit
    )?)
}

/// Stores an article's text, word count and excerpt derived again from its unchanged HTML.
pub async fn set_derived_text(
    tx: &mut Tx,
    id: i64,
    text: &str,
    word_count: i64,
    excerpt: &str,
) -> anyhow::Result<()> {
    tx_exec!(
        tx,
        "UPDATE articles SET body_text = $1, word_count = $2, excerpt = $3 WHERE id = $4",
        text,
        word_count,
        excerpt,
        id
    )?;
    Ok(())
}
