//! Admin API tokens (migration 0014): only their hash is stored.

use crate::storage::{Db, Tx, now};
use crate::{fetch_all, fetch_optional, tx_exec, tx_fetch};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TokenRow {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub prefix: String,
    pub scopes: String,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A live token and its owner as they are now (the role is read on every request).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Bearer {
    pub token_id: i64,
    pub user_id: i64,
    pub role: String,
    pub scopes: String,
    pub last_used_at: Option<i64>,
}

pub async fn create(
    tx: &mut Tx,
    user_id: i64,
    name: &str,
    prefix: &str,
    hash: &str,
    scopes: &str,
) -> anyhow::Result<i64> {
    let (id,) = tx_fetch!(
        fetch_one,
        tx,
        (i64,),
        "INSERT INTO api_tokens (user_id, name, prefix, hash, scopes, created_at) VALUES ($1, $2, $3, $4, $5, $6) \
         RETURNING id",
        user_id,
        name,
        prefix,
        hash,
        scopes,
        now()
    )?;
    Ok(id)
}

/// The unrevoked token with this hash, with its owner's current role.
pub async fn find(db: &Db, hash: &str) -> anyhow::Result<Option<Bearer>> {
    Ok(fetch_optional!(
        db,
        Bearer,
        "SELECT t.id AS token_id, t.user_id, u.role, t.scopes, t.last_used_at FROM api_tokens t \
         JOIN users u ON u.id = t.user_id WHERE t.hash = $1 AND t.revoked_at IS NULL",
        hash
    )?)
}

/// Notes a use (at most once a minute per token: a busy script does not write on every call).
pub async fn touch(db: &Db, id: i64) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    tx_exec!(&mut tx, "UPDATE api_tokens SET last_used_at = $1 WHERE id = $2", now(), id)?;
    tx.commit().await
}

/// Tokens of one user, or of everyone (`None`), newest first.
pub async fn list(db: &Db, user_id: Option<i64>) -> anyhow::Result<Vec<(TokenRow, String)>> {
    #[derive(sqlx::FromRow)]
    struct Row {
        #[sqlx(flatten)]
        token: TokenRow,
        owner: String,
    }
    let rows: Vec<Row> = match user_id {
        Some(id) => fetch_all!(
            db,
            Row,
            "SELECT t.id, t.user_id, t.name, t.prefix, t.scopes, t.created_at, t.last_used_at, t.revoked_at, \
             u.name AS owner FROM api_tokens t JOIN users u ON u.id = t.user_id WHERE t.user_id = $1 \
             ORDER BY t.id DESC",
            id
        )?,
        None => fetch_all!(
            db,
            Row,
            "SELECT t.id, t.user_id, t.name, t.prefix, t.scopes, t.created_at, t.last_used_at, t.revoked_at, \
             u.name AS owner FROM api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.id DESC"
        )?,
    };
    Ok(rows.into_iter().map(|r| (r.token, r.owner)).collect())
}

pub async fn get(db: &Db, id: i64) -> anyhow::Result<Option<TokenRow>> {
    Ok(fetch_optional!(
        db,
        TokenRow,
        "SELECT id, user_id, name, prefix, scopes, created_at, last_used_at, revoked_at FROM api_tokens WHERE id = $1",
        id
    )?)
}

/// Revokes a token (it stays listed, marked revoked). Returns false when it was not live.
pub async fn revoke(tx: &mut Tx, id: i64) -> anyhow::Result<bool> {
    Ok(tx_exec!(tx, "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL", now(), id)?
        == 1)
}
