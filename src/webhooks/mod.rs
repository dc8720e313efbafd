//! Webhooks: content events sent to subscribers' URLs, signed, retried, logged.
//!
//! - **Once per event, whatever the number of nodes.** A node turns a stretch of the content
//!   event log into deliveries (one per subscription that wants the event) after claiming the
//!   stretch by moving the `webhooks` cursor with a compare-and-set, in the same transaction.
//!   Each delivery is then claimed by one node with a lease, and sent.
//! - **Signed.** `Gazette-Signature: t=UNIX,v1=HEX` where HEX is HMAC-SHA256 with the
//!   subscription's secret over `UNIX.` followed by the body (docs/API.md shows the check).
//! - **Retried with backoff for a day**: 30 s, 2 min, 8 min, 32 min, then every 2 h, until a
//!   day after the event; every attempt is logged with its status and the start of the answer,
//!   and staff may send any delivery again from the admin.
//! - **No private addresses** (loopback, private ranges, link-local, cloud metadata) unless the
//!   config's `[webhooks] allow_private` says so, checked by the server's one outbound guard
//!   ([`crate::outbound`]). No redirects.

use std::time::{Duration, Instant};

use crate::storage::webhooks::{self as store, DeliveryRow, Outcome};
use crate::storage::{Db, now};
use crate::web::AppState;

const CURSOR: &str = "webhooks";
/// Seconds a node holds a delivery it is sending.
const LEASE: i64 = 60;
/// A delivery is given up this long after its event.
pub const GIVE_UP_AFTER: i64 = 86_400;
/// Events turned into deliveries per round.
const EVENTS_PER_ROUND: i64 = 500;
/// The start of a receiver's answer kept in the log.
const KEEP_RESPONSE: usize = 500;

/// Every kind a subscription may choose.
pub const EVENTS: &[&str] = &[
    "article.published",
    "article.updated",
    "article.unpublished",
    "article.purged",
    "comment.approved",
    "comment.unapproved",
    "comment.edited",
    "section.changed",
    "tag.changed",
    "author.changed",
    "page.changed",
    "settings.changed",
    "picture.added",
    "picture.ready",
    "picture.changed",
    "picture.deleted",
];

/// `[webhooks]` in the config file.
#[derive(Debug, Clone, Default, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookConfig {
    /// Allow URLs on loopback and private networks (a receiver on the same host or LAN).
    #[serde(default)]
    pub allow_private: bool,
    /// The first retry's delay in seconds (30); each next one is four times longer, at most 2 h.
    pub retry_seconds: Option<i64>,
}

impl WebhookConfig {
    pub fn retry_delay(&self, attempts: i64) -> i64 {
        let base = self.retry_seconds.unwrap_or(30).max(1);
        let factor = 4_i64.saturating_pow(u32::try_from(attempts.clamp(1, 10) - 1).unwrap_or(0));
        base.saturating_mul(factor).min(7_200)
    }
}

pub use crate::signing::{hex, hmac_sha256};

/// The `Gazette-Signature` header of a body sent at `at`.
pub fn signature(secret: &str, at: i64, body: &[u8]) -> String {
    let message = [format!("{at}.").as_bytes(), body].concat();
    format!("t={at},v1={}", hex(&hmac_sha256(secret.as_bytes(), &message)))
}

/// A new subscription's signing secret.
pub fn new_secret() -> anyhow::Result<String> {
    let mut bytes = [0u8; 24];
    getrandom::fill(&mut bytes).map_err(|e| anyhow::anyhow!("no randomness: {e}"))?;
    Ok(format!("whsec_{}", hex(&bytes)))
}

/// Checks a subscription's URL as typed: http(s), a host, no credentials.
pub fn check_url(url: &str) -> Result<reqwest::Url, String> {
    let parsed = reqwest::Url::parse(url.trim()).map_err(|e| format!("{url:?} is not a URL ({e})."))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err("A webhook URL starts with https:// (or http://).".into());
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err("A webhook URL names a host.".into());
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err("Put no user name or password in the URL; receivers check the signature instead.".into());
    }
    Ok(parsed)
}

/// Makes sure the shared cursor exists (at the newest event, the first time), before the node
/// serves: every change from then on is considered for delivery.
pub async fn prepare(db: &Db) -> anyhow::Result<()> {
    let start = crate::storage::events::latest_id(db).await?;
    crate::storage::related::cursor(db, CURSOR, start).await?;
    Ok(())
}

/// Turns the events past the shared cursor into deliveries, if this node claims them. Returns
/// how many events it took.
pub async fn fan_out(db: &Db) -> anyhow::Result<usize> {
    let start = crate::storage::events::latest_id(db).await?;
    let from = crate::storage::related::cursor(db, CURSOR, start).await?;
    let events = crate::storage::events::after(db, from, EVENTS_PER_ROUND).await?;
    let Some(&(to, _, _)) = events.last() else { return Ok(0) };
    let hooks = store::all(db).await?;
    let mut tx = db.begin().await?;
    if !crate::storage::related::claim(&mut tx, CURSOR, from, to).await? {
        return Ok(0); // another node took these events
    }
    for (id, kind, subject) in &events {
        for hook in hooks.iter().filter(|h| h.wants(*id, kind)) {
            store::queue(&mut tx, hook.id, *id, kind, *subject).await?;
        }
    }
    tx.commit().await?;
    Ok(events.len())
}

/// What a delivery's body says: the event, and for article and comment events the article as
/// the Content API gives it (null when it is not published).
async fn payload(app: &AppState, d: &DeliveryRow) -> anyhow::Result<serde_json::Value> {
    let article = if d.kind.starts_with("article.") || d.kind.starts_with("comment.") {
        crate::web::api::content::published_article(app, d.subject_id).await?
    } else {
        None
    };
    Ok(serde_json::json!({
        "id": d.id,
        "event": d.kind,
        "event_id": d.event_id,
        "subject_id": d.subject_id,
        "occurred_at": chrono::DateTime::from_timestamp(d.created_at, 0).unwrap_or_default().to_rfc3339(),
        "article": article,
    }))
}

/// Sends one due delivery, if there is one this node may claim. Returns whether it did.
pub async fn deliver_one(app: &AppState, config: &WebhookConfig) -> anyhow::Result<bool> {
    let Some(d) = store::claim(&app.db, LEASE).await? else { return Ok(false) };
    let Some(hook) = store::get(&app.db, d.webhook_id).await? else { return Ok(true) };
    let body = serde_json::to_vec(&payload(app, &d).await?)?;
    let started = Instant::now();
    let result = send(&hook.url, &hook.secret, &d, &body, config.allow_private).await;
    let took = started.elapsed().as_millis() as i64;
    let (status, response, delivered) = match result {
        Ok((status, text)) => (Some(status), text, (200..300).contains(&status)),
        Err(why) => (None, why, false),
    };
    let outcome = if delivered {
        Outcome::Delivered
    } else if now() - d.created_at >= GIVE_UP_AFTER {
        Outcome::Failed
    } else {
        Outcome::Retry(now() + config.retry_delay(d.attempts + 1))
    };
    store::record_attempt(&app.db, &d, status, &response, took, outcome).await?;
    Ok(true)
}

async fn send(
    url: &str,
    secret: &str,
    d: &DeliveryRow,
    body: &[u8],
    allow_private: bool,
) -> Result<(u16, String), String> {
    let guard = crate::outbound::Guard {
        allow_private,
        allowed_by: "[webhooks] allow_private = true",
        max_redirects: 0,
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
        max_bytes: 1 << 20,
        user_agent: concat!("Gazette-Webhooks/", env!("CARGO_PKG_VERSION")),
        ..Default::default()
    };
    let at = now();
    let answer = guard
        .send(
            reqwest::Method::POST,
            url,
            vec![
                ("content-type", "application/json".to_owned()),
                ("gazette-event", d.kind.clone()),
                ("gazette-delivery", d.id.to_string()),
                ("gazette-signature", signature(secret, at, body)),
            ],
            body.to_vec(),
        )
        .await?;
    let status = answer.status;
    let text = String::from_utf8_lossy(&answer.body);
    let kept: String = text.chars().take(KEEP_RESPONSE).collect();
    Ok((status, kept))
}

/// Follows the event log and sends deliveries for the node's lifetime.
pub async fn run(app: AppState, config: WebhookConfig, every: Duration) {
    loop {
        tokio::select! {
            () = tokio::time::sleep(every) => {}
            () = app.webhooks_wake.notified() => {}
        }
        loop {
            match fan_out(&app.db).await {
                Ok(0) => break,
                Ok(_) => {}
                Err(err) => {
                    tracing::warn!(error = %format!("{err:#}"), "could not queue webhook deliveries");
                    break;
                }
            }
        }
        loop {
            match deliver_one(&app, &config).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(err) => {
                    tracing::warn!(error = %format!("{err:#}"), "could not send a webhook delivery");
                    break;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::is_private;

    #[test]
    fn signatures_cover_the_time_and_the_body() {
        assert_eq!(signature("k", 7, b"{}"), format!("t=7,v1={}", hex(&hmac_sha256(b"k", b"7.{}"))));
    }

    #[test]
    fn private_addresses_and_bad_urls_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "192.168.0.9",
            "172.16.5.5",
            "169.254.169.254",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "100.64.0.1",
        ] {
            assert!(is_private(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "2606:2800:220:1:248:1893:25c8:1946", "8.8.8.8"] {
            assert!(!is_private(ip.parse().unwrap()), "{ip}");
        }
        assert!(check_url("https://hooks.example.com/gazette").is_ok());
        assert!(check_url("ftp://example.com/").is_err());
        assert!(check_url("https://user:pw@example.com/").is_err());
        assert!(check_url("not a url").is_err());
        let c = WebhookConfig::default();
        assert_eq!(
            (c.retry_delay(1), c.retry_delay(2), c.retry_delay(3), c.retry_delay(9)),
            (30, 120, 480, 7_200)
        );
    }
}
