//! Purging shared caches: after each content event, the HTTP caches in front of Gazette
//! (Varnish, a CDN) drop exactly the pages filed under the event's surrogate keys.
//!
//! Every node follows the event log, but each stretch of events is purged once: a node claims
//! it by moving the `http-purge` cursor with a compare-and-set (the same claim the related-list
//! job uses), then sends the keys. The node that made a change wakes its purger at once, so a
//! correction reaches readers in well under a second; changes made elsewhere within a second.
//!
//! A purged cache asks the nodes again at once, and a node serves from its own page cache: so
//! the purging node first takes the events into its snapshot (its page cache drops what they
//! touch), and the same keys are purged a second time once every other node has had a round of
//! its own follower (`follow_every` later), in case a cache asked a node that had not yet.

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use crate::site::SiteHandle;
use crate::storage::Db;

const CURSOR: &str = "http-purge";
/// Keys per purge request (a header of a few kilobytes at most).
const KEYS_PER_REQUEST: usize = 100;
/// Past this many keys in one round, purge `all` instead.
const MAX_KEYS: usize = 2_000;
/// Events read per round.
const EVENTS_PER_ROUND: i64 = 1_000;
const ATTEMPTS: u32 = 3;

/// A cache to purge (the config file's `[[http_cache.purge]]`).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind", rename_all = "kebab-case", deny_unknown_fields)]
pub enum Target {
    /// Varnish with Gazette's VCL (`deploy/varnish/gazette.vcl`): `PURGE` with a
    /// `Surrogate-Key` header, which it turns into a ban.
    Varnish { url: String },
    /// Fastly's purge-by-key API: `POST /service/ID/purge` with `Surrogate-Key`.
    Fastly {
        service_id: String,
        token: String,
        #[serde(default = "fastly_api")]
        api: String,
    },
    /// Cloudflare's purge by cache tag: `POST /zones/ID/purge_cache` with `{"tags": [...]}`.
    Cloudflare {
        zone_id: String,
        token: String,
        #[serde(default = "cloudflare_api")]
        api: String,
    },
}

fn fastly_api() -> String {
    "https://api.fastly.com".into()
}

fn cloudflare_api() -> String {
    "https://api.cloudflare.com/client/v4".into()
}

impl Target {
    fn describe(&self) -> String {
        match self {
            Self::Varnish { url } => format!("varnish at {url}"),
            Self::Fastly { service_id, .. } => format!("fastly service {service_id}"),
            Self::Cloudflare { zone_id, .. } => format!("cloudflare zone {zone_id}"),
        }
    }

    /// Sends one purge; `events` names the stretch of the event log it stands for (a header
    /// caches ignore, for logs and tests).
    async fn send(
        &self,
        guard: &crate::outbound::Guard,
        keys: &[String],
        events: &str,
    ) -> anyhow::Result<()> {
        let events = ("gazette-events", events.to_owned());
        let (method, url, headers, body) = match self {
            Self::Varnish { url } => (
                reqwest::Method::from_bytes(b"PURGE")?,
                url.clone(),
                vec![("surrogate-key", keys.join(" ")), events],
                Vec::new(),
            ),
            Self::Fastly { service_id, token, api } => (
                reqwest::Method::POST,
                format!("{}/service/{service_id}/purge", api.trim_end_matches('/')),
                vec![("fastly-key", token.clone()), ("surrogate-key", keys.join(" ")), events],
                Vec::new(),
            ),
            Self::Cloudflare { zone_id, token, api } => (
                reqwest::Method::POST,
                format!("{}/zones/{zone_id}/purge_cache", api.trim_end_matches('/')),
                vec![
                    ("authorization", format!("Bearer {token}")),
                    ("content-type", "application/json".to_owned()),
                    events,
                ],
                serde_json::to_vec(&serde_json::json!({ "tags": keys }))?,
            ),
        };
        let answer = guard.send(method, &url, headers, body).await.map_err(anyhow::Error::msg)?;
        if !(200..300).contains(&answer.status) {
            anyhow::bail!("{} answered {}", self.describe(), answer.status);
        }
        Ok(())
    }
}

/// The node's purger: the caches to purge, and a bell the node rings after its own changes.
pub struct Purger {
    targets: Vec<Target>,
    /// Purges go through the outbound guard like every fetch; the targets are the operator's
    /// own caches (often on this host), so private addresses are allowed.
    guard: crate::outbound::Guard,
    wake: tokio::sync::Notify,
}

impl Purger {
    pub fn new(targets: Vec<Target>) -> anyhow::Result<Arc<Self>> {
        let guard = crate::outbound::Guard {
            allow_private: true,
            max_redirects: 0,
            timeout: Duration::from_secs(5),
            connect_timeout: Duration::from_secs(5),
            max_bytes: 1 << 20,
            ..Default::default()
        };
        Ok(Arc::new(Self { targets, guard, wake: tokio::sync::Notify::new() }))
    }

    pub fn is_on(&self) -> bool {
        !self.targets.is_empty()
    }

    /// Makes sure the shared cursor exists (at the newest event, the first time purging is
    /// on), before the node serves: changes made from then on are all purged.
    pub async fn prepare(&self, db: &Db) -> anyhow::Result<()> {
        if self.is_on() {
            let start = crate::storage::events::latest_id(db).await?;
            crate::storage::related::cursor(db, CURSOR, start).await?;
        }
        Ok(())
    }

    /// Asks for a round now (after a change made through this node).
    pub fn wake(&self) {
        if self.is_on() {
            self.wake.notify_one();
        }
    }

    /// Purges the events past the shared cursor that this node's snapshot has taken in, if
    /// this node claims them. Returns the keys purged and the stretch of events.
    pub async fn round(&self, db: &Db, site: &SiteHandle) -> anyhow::Result<Option<(Vec<String>, String)>> {
        site.refresh(db).await?;
        let taken_in = site.get().event_id;
        let start = crate::storage::events::latest_id(db).await?;
        let from = crate::storage::related::cursor(db, CURSOR, start).await?;
        let mut events = crate::storage::events::after(db, from, EVENTS_PER_ROUND).await?;
        events.retain(|e| e.0 <= taken_in);
        let Some(&(to, _, _)) = events.last() else { return Ok(None) };
        // One event that changes every page makes the round `all`: no need to look up the rest.
        let keys: Vec<String> =
            if events.iter().any(|(_, kind, subject)| super::keys::changes_everything(kind, *subject)) {
                vec!["all".into()]
            } else {
                let mut keys = BTreeSet::new();
                for (_, kind, subject) in &events {
                    keys.extend(super::keys::for_event(db, kind, *subject).await?);
                }
                if keys.len() > MAX_KEYS { vec!["all".into()] } else { keys.into_iter().collect() }
            };
        let mut tx = db.begin().await?;
        if !crate::storage::related::claim(&mut tx, CURSOR, from, to).await? {
            return Ok(None); // another node took these events
        }
        tx.commit().await?;
        let stretch = format!("{}-{to}", from + 1);
        if keys.is_empty() {
            return Ok(Some((keys, stretch)));
        }
        self.send(&keys, &stretch).await;
        tracing::debug!(events = events.len(), keys = keys.len(), "purged shared caches");
        Ok(Some((keys, stretch)))
    }

    /// Sends the keys to every cache, trying each request a few times.
    async fn send(&self, keys: &[String], stretch: &str) {
        for target in &self.targets {
            for chunk in keys.chunks(KEYS_PER_REQUEST) {
                let mut attempt = 0;
                loop {
                    attempt += 1;
                    match target.send(&self.guard, chunk, stretch).await {
                        Ok(()) => break,
                        Err(err) if attempt < ATTEMPTS => {
                            tracing::debug!(error = %format!("{err:#}"), "purge failed; trying again");
                            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                        }
                        Err(err) => {
                            tracing::warn!(
                                error = %format!("{err:#}"),
                                keys = chunk.len(),
                                "could not purge a cache; its pages expire by their s-maxage"
                            );
                            break;
                        }
                    }
                }
            }
        }
    }

    /// Follows the event log for the node's lifetime: a round every `every` (the nodes'
    /// follow interval), or when woken.
    pub async fn follow(self: Arc<Self>, db: Db, site: SiteHandle, every: Duration) {
        if !self.is_on() {
            return;
        }
        loop {
            tokio::select! {
                () = tokio::time::sleep(every) => {}
                () = self.wake.notified() => {}
            }
            loop {
                match self.round(&db, &site).await {
                    Ok(Some((keys, stretch))) => {
                        // Again once the other nodes' followers have taken the events in.
                        let again = self.clone();
                        tokio::spawn(async move {
                            tokio::time::sleep(every + every / 2).await;
                            again.send(&keys, &stretch).await;
                        });
                    }
                    Ok(None) => break,
                    Err(err) => {
                        tracing::warn!(error = %format!("{err:#}"), "could not purge shared caches");
                        break;
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_read_from_the_config_file() {
        #[derive(Deserialize)]
        struct File {
            purge: Vec<Target>,
        }
        let file: File = toml::from_str(
            "[[purge]]\nkind = \"varnish\"\nurl = \"http://127.0.0.1:6081/\"\n\
             [[purge]]\nkind = \"fastly\"\nservice_id = \"S\"\ntoken = \"T\"\n\
             [[purge]]\nkind = \"cloudflare\"\nzone_id = \"Z\"\ntoken = \"T\"\n",
        )
        .unwrap();
        assert_eq!(file.purge[0], Target::Varnish { url: "http://127.0.0.1:6081/".into() });
        assert_eq!(
            file.purge[1],
            Target::Fastly {
                service_id: "S".into(),
                token: "T".into(),
                api: "https://api.fastly.com".into()
            }
        );
        assert!(matches!(&file.purge[2], Target::Cloudflare { zone_id, .. } if zone_id == "Z"));
    }
}
