//! Accounts, sessions and the login throttle.

use crate::domain::{Email, Role};
use crate::storage::{Db, Tx, now};
use crate::{fetch_all, fetch_one, fetch_optional, tx_exec, tx_fetch};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct UserRow {
    pub id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub author_id: Option<i64>,
    pub created_at: i64,
}

impl UserRow {
    pub fn role(&self) -> Role {
        // Stored roles come from `Role::as_str`; an unknown value gets the least power.
        self.role.parse().unwrap_or(Role::Contributor)
    }
}

pub async fn count(db: &Db) -> anyhow::Result<i64> {
    Ok(fetch_one!(db, (i64,), "SELECT COUNT(*) FROM users")?.0)
}

pub async fn list(db: &Db) -> anyhow::Result<Vec<UserRow>> {
    Ok(fetch_all!(
        db,
        UserRow,
        "SELECT id, email, name, role, password_hash, author_id, created_at FROM users ORDER BY email"
    )?)
}

pub async fn find(db: &Db, id: i64) -> anyhow::Result<Option<UserRow>> {
    Ok(fetch_optional!(
        db,
        UserRow,
        "SELECT id, email, name, role, password_hash, author_id, created_at FROM users WHERE id = $1",
        id
    )?)
}

pub async fn find_by_email(db: &Db, email: &Email) -> anyhow::Result<Option<UserRow>> {
    Ok(fetch_optional!(
        db,
        UserRow,
        "SELECT id, email, name, role, password_hash, author_id, created_at FROM users WHERE email = $1",
        email.as_str()
    )?)
}

pub async fn insert(
    tx: &mut Tx,
    email: &Email,
    name: &str,
    role: Role,
    password_hash: &str,
    author_id: Option<i64>,
) -> anyhow::Result<i64> {
    let t = now();
    let (id,) = tx_fetch!(
        fetch_one,
        tx,
        (i64,),
        "INSERT INTO users (email, name, role, password_hash, author_id, created_at, password_changed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $6) RETURNING id",
        email.as_str(),
        name,
        role.as_str(),
        password_hash,
        author_id,
        t
    )?;
    Ok(id)
}

/// Sets a new password hash and ends every session of the user, on every node.
pub async fn set_password(tx: &mut Tx, user_id: i64, password_hash: &str) -> anyhow::Result<()> {
    tx_exec!(
        tx,
        "UPDATE users SET password_hash = $1, password_changed_at = $2 WHERE id = $3",
        password_hash,
        now(),
        user_id
    )?;
    tx_exec!(tx, "DELETE FROM sessions WHERE user_id = $1", user_id)?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// Sessions
// ---------------------------------------------------------------------------------------------

/// A live session joined with its user.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SessionRow {
    pub user_id: i64,
    pub email: String,
    pub name: String,
    pub role: String,
    pub author_id: Option<i64>,
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
}

pub async fn create_session(db: &Db, token_hash: &str, user_id: i64, csrf_token: &str) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    let t = now();
    tx_exec!(
        &mut tx,
        "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, last_seen_at) VALUES ($1, $2, $3, $4, $4)",
        token_hash,
        user_id,
        csrf_token,
        t
    )?;
    tx.commit().await
}

pub async fn find_session(db: &Db, token_hash: &str) -> anyhow::Result<Option<SessionRow>> {
    Ok(fetch_optional!(
        db,
        SessionRow,
        "SELECT s.user_id, u.email, u.name, u.role, u.author_id, s.csrf_token, s.created_at, s.last_seen_at \
         FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = $1",
        token_hash
    )?)
}

pub async fn touch_session(db: &Db, token_hash: &str) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    tx_exec!(&mut tx, "UPDATE sessions SET last_seen_at = $1 WHERE token_hash = $2", now(), token_hash)?;
    tx.commit().await
}

pub async fn delete_session(db: &Db, token_hash: &str) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    tx_exec!(&mut tx, "DELETE FROM sessions WHERE token_hash = $1", token_hash)?;
    tx.commit().await
}

// ---------------------------------------------------------------------------------------------
// Login throttle
// ---------------------------------------------------------------------------------------------

/// Failed sign-ins for a key within `window` seconds of its last one: `(count, last_at)`.
pub async fn failures(db: &Db, key: &str, window: i64) -> anyhow::Result<(i64, i64)> {
    let row =
        fetch_optional!(db, (i64, i64), "SELECT failures, last_at FROM login_failures WHERE key = $1", key)?;
    Ok(match row {
        Some((n, last)) if now() - last < window => (n, last),
        _ => (0, 0),
    })
}

/// Counts a failed sign-in for each key (a key quiet for `window` seconds starts again at one).
pub async fn record_failure(db: &Db, keys: &[String], window: i64) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    let t = now();
    for key in keys {
        tx_exec!(
            &mut tx,
            "INSERT INTO login_failures (key, failures, first_at, last_at) VALUES ($1, 1, $2, $2) \
             ON CONFLICT (key) DO UPDATE SET \
               failures = CASE WHEN login_failures.last_at < $3 THEN 1 ELSE login_failures.failures + 1 END, \
               first_at = CASE WHEN login_failures.last_at < $3 THEN $2 ELSE login_failures.first_at END, \
               last_at = $2",
            key,
            t,
            t - window
        )?;
    }
    tx.commit().await
}

pub async fn clear_failures(db: &Db, key: &str) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    tx_exec!(&mut tx, "DELETE FROM login_failures WHERE key = $1", key)?;
    tx.commit().await
}

/// The account a device cookie (its hash) has signed in to, if any.
pub async fn device_user(db: &Db, token_hash: &str) -> anyhow::Result<Option<i64>> {
    Ok(fetch_optional!(db, (i64,), "SELECT user_id FROM known_devices WHERE token_hash = $1", token_hash)?
        .map(|(id,)| id))
}

/// Remembers a device that signed in to an account (or notes that it did again).
pub async fn remember_device(db: &Db, token_hash: &str, user_id: i64) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    tx_exec!(
        &mut tx,
        "INSERT INTO known_devices (token_hash, user_id, created_at, last_seen_at) VALUES ($1, $2, $3, $3) \
         ON CONFLICT (token_hash) DO UPDATE SET user_id = $2, last_seen_at = $3",
        token_hash,
        user_id,
        now()
    )?;
    tx.commit().await
}

pub async fn set_role(tx: &mut Tx, user_id: i64, role: Role) -> anyhow::Result<()> {
    tx_exec!(tx, "UPDATE users SET role = $1 WHERE id = $2", role.as_str(), user_id)?;
    Ok(())
}

/// Removes a user; their sessions end with them. Articles and the byline stay.
pub async fn delete(tx: &mut Tx, user_id: i64) -> anyhow::Result<()> {
    tx_exec!(tx, "DELETE FROM sessions WHERE user_id = $1", user_id)?;
    tx_exec!(tx, "UPDATE articles SET created_by = NULL WHERE created_by = $1", user_id)?;
    tx_exec!(tx, "UPDATE article_revisions SET user_id = NULL WHERE user_id = $1", user_id)?;
    tx_exec!(tx, "DELETE FROM users WHERE id = $1", user_id)?;
    Ok(())
}

/// The slug of the author profile a user writes under, if any.
pub async fn author_slug(db: &Db, user_id: i64) -> anyhow::Result<Option<String>> {
    Ok(fetch_optional!(
        db,
        (String,),
        "SELECT a.slug FROM users u JOIN authors a ON a.id = u.author_id WHERE u.id = $1",
        user_id
    )?
    .map(|(slug,)| slug))
}
