//! Accounts: creating users, Argon2id password hashes, signing in with throttling, and
//! server-side sessions. The web layer only handles cookies and forms.

use std::sync::LazyLock;

use anyhow::{Context, bail};
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use crate::content;
use crate::domain::user::check_password;
use crate::domain::{Email, NewAuthor, Role, Slug};
use crate::storage::users::{self, SessionRow};
use crate::storage::{Db, now};

/// Sessions end after this long without a request...
pub const IDLE_SECS: i64 = 12 * 3600;
/// ...and after this long in any case.
pub const ABSOLUTE_SECS: i64 = 14 * 86_400;
/// Failed sign-ins are counted over this window.
pub const THROTTLE_WINDOW: i64 = 15 * 60;
pub const MAX_FAILURES_PER_ACCOUNT: i64 = 5;
pub const MAX_FAILURES_PER_ADDRESS: i64 = 30;

/// Argon2id with the OWASP parameters costs ~19 MiB and tens of milliseconds: at most two at a
/// time, on blocking threads.
static HASHING: Semaphore = Semaphore::const_new(2);

/// Verified against when the account does not exist, so both answers take as long.
static DUMMY_HASH: LazyLock<String> = LazyLock::new(|| hash_now("not a real password").unwrap_or_default());

fn hash_now(password: &str) -> anyhow::Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| anyhow::anyhow!("no random source: {e}"))?;
    let hash: PasswordHash = Argon2::default()
        .hash_password_with_salt(password.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("hashing the password: {e}"))?;
    Ok(hash.to_string())
}

pub async fn hash_password(password: String) -> anyhow::Result<String> {
    let _permit = HASHING.acquire().await?;
    tokio::task::spawn_blocking(move || hash_now(&password)).await?
}

async fn verify_password(password: String, hash: String) -> bool {
    let Ok(_permit) = HASHING.acquire().await else { return false };
    tokio::task::spawn_blocking(move || {
        PasswordHash::new(&hash)
            .is_ok_and(|parsed| Argon2::default().verify_password(password.as_bytes(), &parsed).is_ok())
    })
    .await
    .unwrap_or(false)
}

/// 32 random bytes as 64 hex characters, from the operating system.
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system has no random source");
    hex(&bytes)
}

pub use crate::signing::hex;

pub fn token_hash(token: &str) -> String {
    hex(&Sha256::digest(token.as_bytes()))
}

/// Creates a user with an author profile of the same name (for bylines).
pub async fn create_user(
    db: &Db,
    email: &str,
    name: &str,
    role: Role,
    password: &str,
) -> anyhow::Result<i64> {
    let email = Email::parse(email).map_err(anyhow::Error::msg)?;
    let name = name.trim();
    if name.is_empty() {
        bail!("a user needs a name");
    }
    check_password(password).map_err(anyhow::Error::msg)?;
    if users::find_by_email(db, &email).await?.is_some() {
        bail!("there is already a user with the e-mail address {}", email.as_str());
    }
    let hash = hash_password(password.to_owned()).await?;
    let author = NewAuthor {
        slug: Slug::from_title(name),
        name: name.to_owned(),
        bio: String::new(),
        photo_url: None,
    };
    let author_id = content::ensure_author(db, &author).await?;
    let mut tx = db.begin().await?;
    let id = users::insert(&mut tx, &email, name, role, &hash, Some(author_id)).await?;
    tx.commit().await?;
    Ok(id)
}

/// Sets a new password; every session of the user ends.
pub async fn reset_password(db: &Db, email: &str, password: &str) -> anyhow::Result<()> {
    let email = Email::parse(email).map_err(anyhow::Error::msg)?;
    check_password(password).map_err(anyhow::Error::msg)?;
    let user = users::find_by_email(db, &email)
        .await?
        .with_context(|| format!("there is no user {}", email.as_str()))?;
    let hash = hash_password(password.to_owned()).await?;
    let mut tx = db.begin().await?;
    users::set_password(&mut tx, user.id, &hash).await?;
    tx.commit().await
}

/// Why a sign-in failed. The message never says whether the account exists.
#[derive(Debug, thiserror::Error)]
pub enum SignInError {
    #[error("The e-mail address or password is not right.")]
    Invalid,
    #[error("Too many failed sign-ins. Try again in {0} minutes.")]
    Throttled(i64),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// A new session: the token goes into the cookie, only its hash into the database.
pub struct NewSession {
    pub token: String,
}

pub async fn sign_in(db: &Db, email: &str, password: &str, address: &str) -> Result<NewSession, SignInError> {
    let account_key = format!("account:{}", email.trim().to_lowercase());
    let address_key = format!("address:{address}");
    for (key, max) in [(&account_key, MAX_FAILURES_PER_ACCOUNT), (&address_key, MAX_FAILURES_PER_ADDRESS)] {
        let (failures, first) = users::failures(db, key, THROTTLE_WINDOW).await?;
        if failures >= max {
            let minutes = ((first + THROTTLE_WINDOW - now()) / 60).max(1);
            return Err(SignInError::Throttled(minutes));
        }
    }
    let user = match Email::parse(email) {
        Ok(e) => users::find_by_email(db, &e).await?,
        Err(_) => None,
    };
    let hash = user.as_ref().map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash.clone());
    let ok = verify_password(password.to_owned(), hash).await && user.is_some();
    let Some(user) = user.filter(|_| ok) else {
        users::record_failure(db, &[account_key, address_key], THROTTLE_WINDOW).await?;
        return Err(SignInError::Invalid);
    };
    users::clear_failures(db, &account_key).await?;
    let token = random_token();
    users::create_session(db, &token_hash(&token), user.id, &random_token()).await?;
    Ok(NewSession { token })
}

/// The session for a cookie token, if it is live. Touches it at most once a minute.
pub async fn session(db: &Db, token: &str) -> anyhow::Result<Option<SessionRow>> {
    let hash = token_hash(token);
    let Some(session) = users::find_session(db, &hash).await? else { return Ok(None) };
    let t = now();
    if t - session.last_seen_at > IDLE_SECS || t - session.created_at > ABSOLUTE_SECS {
        users::delete_session(db, &hash).await?;
        return Ok(None);
    }
    if t - session.last_seen_at > 60 {
        users::touch_session(db, &hash).await?;
    }
    Ok(Some(session))
}

pub async fn sign_out(db: &Db, token: &str) -> anyhow::Result<()> {
    users::delete_session(db, &token_hash(token)).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn hashes_are_argon2id_and_verify() {
        let hash = hash_password("correct horse battery".into()).await.unwrap();
        assert!(hash.starts_with("$argon2id$"), "{hash}");
        assert!(verify_password("correct horse battery".into(), hash.clone()).await);
        assert!(!verify_password("wrong horse battery".into(), hash).await);
    }

    #[test]
    fn tokens_are_random_and_hashed() {
        let (a, b) = (random_token(), random_token());
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert_eq!(token_hash(&a).len(), 64);
        assert_ne!(token_hash(&a), a);
    }
}
