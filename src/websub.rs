//! WebSub: when articles are published, updated or unpublished, tell the configured hub that
//! the site's feeds changed, so subscribers hear of it in seconds instead of polling. Off unless
//! a hub is set (setting `site.websub_hub`) and the site knows its public address (`base_url`).
//!
//! Like everything else it follows the content event log, so changes made on any node (or by
//! the scheduler) are announced.

use std::time::Duration;

use crate::site::SiteHandle;
use crate::storage::Db;
use crate::{fetch_one, fetch_optional};

const EVERY: Duration = Duration::from_secs(2);

/// The newest publication event after `after`, if any.
async fn newest_publication(db: &Db, after: i64) -> anyhow::Result<Option<i64>> {
    Ok(fetch_optional!(
        db,
        (Option<i64>,),
        "SELECT MAX(id) FROM content_events WHERE id > $1 \
         AND kind IN ('article.published', 'article.updated', 'article.unpublished')",
        after
    )?
    .and_then(|(id,)| id))
}

/// Sends one publish notification per feed of the site, through the outbound guard.
pub async fn ping(guard: &crate::outbound::Guard, hub: &str, base_url: &str) -> anyhow::Result<()> {
    for feed in ["feed.xml", "atom.xml", "feed.json"] {
        let topic = format!("{base_url}/{feed}");
        let form =
            reqwest::Url::parse_with_params("http://form/", [("hub.mode", "publish"), ("hub.url", &topic)])?
                .query()
                .unwrap_or_default()
                .to_owned();
        let answer = guard
            .send(
                reqwest::Method::POST,
                hub,
                vec![("content-type", "application/x-www-form-urlencoded".to_owned())],
                form.into_bytes(),
            )
            .await
            .map_err(anyhow::Error::msg)?;
        if !(200..300).contains(&answer.status) {
            anyhow::bail!("the hub answered {} for {topic}", answer.status);
        }
    }
    Ok(())
}

/// Chooses the TLS implementation for outgoing HTTPS (ring: it builds without cmake).
/// Idempotent; `App::build` calls it before any client exists.
pub fn install_tls() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Another thread may win the race; either way a provider is installed.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

/// Watches the event log and pings the hub after publications. Runs for the node's lifetime.
pub async fn announce(
    db: Db,
    site: SiteHandle,
    base_url: Option<String>,
    outbound: crate::config::OutboundConfig,
) {
    let guard = crate::outbound::Guard {
        allow_private: outbound.allow_private,
        allow: outbound.allow,
        max_redirects: 0,
        timeout: Duration::from_secs(10),
        connect_timeout: Duration::from_secs(5),
        max_bytes: 64 * 1024,
        user_agent: concat!("Gazette-WebSub/", env!("CARGO_PKG_VERSION")),
        ..Default::default()
    };
    let mut seen = match fetch_one!(&db, (i64,), "SELECT COALESCE(MAX(id), 0) FROM content_events") {
        Ok((id,)) => id,
        Err(_) => 0,
    };
    let mut warned = false;
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tick.tick().await;
        let hub = site.get().settings.websub_hub.clone();
        if hub.is_empty() {
            continue;
        }
        let Some(base) = base_url.as_deref() else {
            if !warned {
                tracing::warn!("WebSub hub is set but base_url is not: hubs need the site's public address");
                warned = true;
            }
            continue;
        };
        match newest_publication(&db, seen).await {
            Ok(Some(id)) => match ping(&guard, &hub, base).await {
                Ok(()) => {
                    tracing::info!(hub, "announced new content to the WebSub hub");
                    seen = id;
                }
                Err(err) => {
                    tracing::warn!(error = %format!("{err:#}"), hub, "WebSub ping failed; will retry")
                }
            },
            Ok(None) => {}
            Err(err) => tracing::warn!(error = %format!("{err:#}"), "could not read content events"),
        }
    }
}
