//! Admin API tokens: what a token is, how one is made, and the extractor that admits a request.
//!
//! A token is `gz_` and 64 hex digits (256 random bits), sent as `Authorization: Bearer ...`;
//! never a cookie, so no other site can make a browser use one (no CSRF). Only its SHA-256 is
//! stored. A request may do what the token's scopes name **and** what its owner's role allows
//! today (the role is read on every request: a demoted user's tokens shrink with them, a deleted
//! user's stop). Each token has a rate limit per node.

use std::collections::HashMap;
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use sha2::{Digest, Sha256};

use super::Problem;
use crate::content::Actor;
use crate::domain::Role;
use crate::web::AppState;

/// What a token may be used for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Read articles in every state (drafts, pending, scheduled), with their Markdown.
    DraftsRead,
    /// Create and change articles (as drafts or for review).
    ArticlesWrite,
    /// Publish, schedule and unpublish.
    ArticlesPublish,
    /// Approve, hold, mark as spam and trash comments.
    CommentsModerate,
    /// Add pictures to the library.
    MediaWrite,
}

impl Scope {
    pub const ALL: [Scope; 5] = [
        Self::DraftsRead,
        Self::ArticlesWrite,
        Self::ArticlesPublish,
        Self::CommentsModerate,
        Self::MediaWrite,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::DraftsRead => "drafts:read",
            Self::ArticlesWrite => "articles:write",
            Self::ArticlesPublish => "articles:publish",
            Self::CommentsModerate => "comments:moderate",
            Self::MediaWrite => "media:write",
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::DraftsRead => "read articles in every state, with their Markdown",
            Self::ArticlesWrite => "create and change articles",
            Self::ArticlesPublish => "publish, schedule and unpublish articles",
            Self::CommentsModerate => "moderate comments",
            Self::MediaWrite => "add pictures to the library",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.as_str() == s)
    }

    /// The least role that may hold this scope at all (the role still decides per article).
    pub fn least_role(self) -> Role {
        match self {
            Self::DraftsRead | Self::ArticlesWrite | Self::MediaWrite => Role::Contributor,
            Self::ArticlesPublish | Self::CommentsModerate => Role::Author,
        }
    }
}

/// A new token: the secret (shown once) and what is stored of it.
pub struct NewToken {
    pub secret: String,
    pub prefix: String,
    pub hash: String,
}

pub fn hash(secret: &str) -> String {
    crate::signing::hex(&Sha256::digest(secret.as_bytes()))
}

pub fn generate() -> anyhow::Result<NewToken> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    let secret = format!("gz_{}", crate::signing::hex(&bytes));
    Ok(NewToken { prefix: secret[..9].to_owned(), hash: hash(&secret), secret })
}

/// Why a token could not be made (a message for the person asking).
#[derive(Debug, thiserror::Error)]
pub enum IssueError {
    #[error("{0}")]
    Refused(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Makes a token for a user: a name, scope names their role may hold. Returns the secret, to
/// show once.
pub async fn issue(
    db: &crate::storage::Db,
    user_id: i64,
    role: Role,
    name: &str,
    scopes: &[&str],
) -> Result<String, IssueError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(IssueError::Refused(
            "Name the token (what will use it), in at most 100 characters.".into(),
        ));
    }
    let mut chosen = Vec::new();
    for s in scopes {
        let scope =
            Scope::parse(s.trim()).ok_or_else(|| IssueError::Refused(format!("There is no scope {s:?}.")))?;
        if role < scope.least_role() {
            return Err(IssueError::Refused(format!("A {role} may not {}.", scope.describe())));
        }
        if !chosen.contains(&scope.as_str()) {
            chosen.push(scope.as_str());
        }
    }
    if chosen.is_empty() {
        return Err(IssueError::Refused("Choose at least one thing the token may do.".into()));
    }
    let token = generate()?;
    let mut tx = db.begin().await?;
    crate::storage::tokens::create(&mut tx, user_id, name, &token.prefix, &token.hash, &chosen.join(" "))
        .await?;
    tx.commit().await?;
    Ok(token.secret)
}

/// Requests per token per minute on one node, unless `[api] rate_per_minute` says otherwise.
pub const RATE_PER_MINUTE: u32 = 300;

/// Fixed one-minute windows per token (by its hash: unique across every site in the process).
static WINDOWS: LazyLock<Mutex<HashMap<String, (Instant, u32)>>> = LazyLock::new(Mutex::default);

/// `Err(seconds to wait)` when the token has used its minute.
fn rate_limit(token_hash: &str, per_minute: u32) -> Result<(), u64> {
    let Ok(mut windows) = WINDOWS.lock() else { return Ok(()) };
    let now = Instant::now();
    if windows.len() > 10_000 {
        windows.retain(|_, (start, _)| now.duration_since(*start) < Duration::from_secs(60));
    }
    let (start, count) = windows.entry(token_hash.to_owned()).or_insert((now, 0));
    if now.duration_since(*start) >= Duration::from_secs(60) {
        *start = now;
        *count = 0;
    }
    *count += 1;
    if *count > per_minute {
        return Err(60u64.saturating_sub(now.duration_since(*start).as_secs()).max(1));
    }
    Ok(())
}

/// A request admitted by a live token.
#[derive(Debug, Clone)]
pub struct ApiUser {
    pub token_id: i64,
    pub user_id: i64,
    pub role: Role,
    scopes: Vec<Scope>,
}

impl ApiUser {
    pub fn actor(&self) -> Actor {
        Actor { user_id: self.user_id, role: self.role }
    }

    /// The token names this scope and its owner's role may hold it; else the 403 to give.
    pub fn require(&self, scope: Scope) -> Result<(), Problem> {
        if !self.scopes.contains(&scope) {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                format!("This token does not have the {} scope.", scope.as_str()),
            ));
        }
        if self.role < scope.least_role() {
            return Err(Problem::new(
                StatusCode::FORBIDDEN,
                format!("A {} may not {}.", self.role, scope.describe()),
            ));
        }
        Ok(())
    }
}

/// Why a request was not admitted.
pub struct Refused(Problem, Option<u64>);

impl IntoResponse for Refused {
    fn into_response(self) -> Response {
        let unauthorized = self.0.status == 401;
        let mut response = self.0.into_response();
        if unauthorized {
            response.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        }
        if let Some(wait) = self.1
            && let Ok(v) = HeaderValue::from_str(&wait.to_string())
        {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        response
    }
}

impl FromRequestParts<AppState> for ApiUser {
    type Rejection = Refused;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Refused> {
        let unauthorized = |detail: &str| Refused(Problem::new(StatusCode::UNAUTHORIZED, detail), None);
        let Some(value) = parts.headers.get(header::AUTHORIZATION) else {
            return Err(unauthorized(
                "Send an API token: `Authorization: Bearer gz_...` (staff create tokens in the admin, under API tokens).",
            ));
        };
        let secret = value
            .to_str()
            .ok()
            .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
            .map(str::trim)
            .filter(|s| s.starts_with("gz_") && s.len() == 67)
            .ok_or_else(|| unauthorized("The Authorization header must be `Bearer gz_...`."))?;
        let hashed = hash(secret);
        let bearer = crate::storage::tokens::find(&app.db, &hashed)
            .await
            .map_err(|e| Refused(Problem::from(e), None))?
            .ok_or_else(|| unauthorized("This token is not valid (revoked, or never issued)."))?;
        if let Err(wait) = rate_limit(&hashed, app.api_rate) {
            return Err(Refused(
                Problem::new(
                    StatusCode::TOO_MANY_REQUESTS,
                    format!("This token has made {} requests this minute; wait {wait} s.", app.api_rate),
                ),
                Some(wait),
            ));
        }
        let role = bearer
            .role
            .parse::<Role>()
            .ok()
            .ok_or_else(|| unauthorized("This token's owner has no role."))?;
        if bearer.last_used_at.is_none_or(|t| crate::storage::now() - t >= 60) {
            // Best effort: a failed note of use never refuses the request.
            let _ = crate::storage::tokens::touch(&app.db, bearer.token_id).await;
        }
        Ok(Self {
            token_id: bearer.token_id,
            user_id: bearer.user_id,
            role,
            scopes: bearer.scopes.split_whitespace().filter_map(Scope::parse).collect(),
        })
    }
}
