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
/// Failed sign-ins are forgotten this long after the last one.
pub const THROTTLE_WINDOW: i64 = 15 * 60;
/// Failures allowed before each further try waits, for one account from one address...
pub const FREE_FAILURES_PER_PAIR: i64 = 5;
/// ...for one account from anywhere (a guess spread over many addresses)...
pub const FREE_FAILURES_PER_ACCOUNT: i64 = 20;
/// ...and from one address for any account (one guesser trying many accounts).
pub const FREE_FAILURES_PER_ADDRESS: i64 = 30;
/// The first wait after the free failures; each further failure doubles it, up to the window.
pub const FIRST_WAIT: i64 = 30;
/// Device cookies are kept this long (a year).
pub const DEVICE_SECS: i64 = 365 * 86_400;

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
    #[error("Too many failed sign-ins. Try again in {}.", wait_words(*.0))]
    Throttled(i64),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

fn wait_words(seconds: i64) -> String {
    if seconds < 90 {
        format!("{} seconds", seconds.max(1))
    } else {
        format!("{} minutes", (seconds + 59) / 60)
    }
}

/// A new session: the token goes into the cookie, only its hash into the database; and the
/// device's own cookie, which makes it known to this account from now on.
pub struct NewSession {
    pub token: String,
    pub device: String,
}

/// How long a key with `failures` must wait after its last one (0: it may try now).
pub fn backoff(failures: i64, free: i64) -> i64 {
    if failures < free {
        return 0;
    }
    let doublings = u32::try_from((failures - free).min(10)).unwrap_or(10);
    FIRST_WAIT.saturating_mul(1 << doublings).min(THROTTLE_WINDOW)
}

/// Signs in, throttled so as to stop guessing without locking the newsroom out:
///
/// - failures are counted per account and address together, per account, and per address;
///   past a few free ones each further try waits, 30 s doubling up to 15 minutes, counted from
///   the last failure (never a lockout from the first);
/// - a device that has signed in to this account before (its `device` cookie) is held only to
///   its own count: guesses from elsewhere, or colleagues behind the same proxy, do not keep
///   its owner out.
pub async fn sign_in(
    db: &Db,
    email: &str,
    password: &str,
    address: &str,
    device: Option<&str>,
) -> Result<NewSession, SignInError> {
    let account = email.trim().to_lowercase();
    let pair_key = format!("pair:{account}|{address}");
    let account_key = format!("account:{account}");
    let address_key = format!("address:{address}");
    let user = match Email::parse(email) {
        Ok(e) => users::find_by_email(db, &e).await?,
        Err(_) => None,
    };
    let known = match (device, &user) {
        (Some(d), Some(u)) if !d.is_empty() => users::device_user(db, &token_hash(d)).await? == Some(u.id),
        _ => false,
    };
    let mut keys = vec![(&pair_key, FREE_FAILURES_PER_PAIR)];
    if !known {
        keys.push((&account_key, FREE_FAILURES_PER_ACCOUNT));
        keys.push((&address_key, FREE_FAILURES_PER_ADDRESS));
    }
    for (key, free) in keys {
        let (failures, last) = users::failures(db, key, THROTTLE_WINDOW).await?;
        let wait = backoff(failures, free);
        if wait > 0 && last + wait > now() {
            return Err(SignInError::Throttled(last + wait - now()));
        }
    }
    let hash = user.as_ref().map_or_else(|| DUMMY_HASH.clone(), |u| u.password_hash.clone());
    let ok = verify_password(password.to_owned(), hash).await && user.is_some();
    let Some(user) = user.filter(|_| ok) else {
        users::record_failure(db, &[pair_key, account_key, address_key], THROTTLE_WINDOW).await?;
        return Err(SignInError::Invalid);
    };
    users::clear_failures(db, &pair_key).await?;
    let token = random_token();
    users::create_session(db, &token_hash(&token), user.id, &random_token()).await?;
    let device = match device {
        Some(d) if known => d.to_owned(),
        _ => random_token(),
    };
    users::remember_device(db, &token_hash(&device), user.id).await?;
    Ok(NewSession { token, device })
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
    fn waits_double_from_the_last_failure_up_to_the_window() {
        assert_eq!(backoff(4, 5), 0);
        assert_eq!(backoff(5, 5), 30);
        assert_eq!(backoff(6, 5), 60);
        assert_eq!(backoff(9, 5), 480);
        assert_eq!(backoff(10, 5), THROTTLE_WINDOW);
        assert_eq!(backoff(1_000, 5), THROTTLE_WINDOW);
        assert_eq!(wait_words(30), "30 seconds");
        assert_eq!(wait_words(900), "15 minutes");
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
