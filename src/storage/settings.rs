//! Site settings as key/value rows.

use std::collections::HashMap;

use crate::storage::events::{self, EventKind};
use crate::storage::{Db, Tx};
use crate::{fetch_all, tx_exec};

pub async fn all(db: &Db) -> anyhow::Result<HashMap<String, String>> {
    let rows = fetch_all!(db, (String, String), "SELECT key, value FROM settings")?;
    Ok(rows.into_iter().collect())
}

/// Sets one setting, recording the change.
pub async fn set(tx: &mut Tx, key: &str, value: &str) -> anyhow::Result<()> {
    tx_exec!(
        tx,
        "INSERT INTO settings (key, value) VALUES ($1, $2) \
         ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        key,
        value
    )?;
    events::record(tx, EventKind::SettingsChanged, 0).await
}

/// Creates a random signing key under `key` unless one exists (no event: it is not content,
/// and every node reads the same row). Exports leave `secret.*` keys out.
pub async fn ensure_secret(db: &Db, key: &str) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    tx_exec!(
        &mut tx,
        "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING",
        key,
        crate::accounts::random_token()
    )?;
    tx.commit().await
}
