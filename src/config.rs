//! Configuration: command-line flags and `GAZETTE_*` variables override the config file,
//! which overrides the defaults.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use serde::Deserialize;

use crate::storage::StoreLocation;

/// How article URLs look.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum PermalinkStyle {
    /// `/YYYY/MM/DD/slug/` (dates in the site's time zone).
    #[default]
    Date,
    /// `/slug/`.
    Slug,
}

/// The config file (TOML). Every key is optional.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FileConfig {
    pub listen: Option<SocketAddr>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    /// A directory whose `templates/` and `static/` override the built-in theme.
    pub theme_dir: Option<PathBuf>,
    /// The public address, e.g. `https://news.example.com`; used for absolute links.
    pub base_url: Option<String>,
    #[serde(default)]
    pub permalink: Option<PermalinkStyle>,
    /// How many rendered pages to keep in memory; 0 turns the page cache off.
    pub page_cache: Option<usize>,
    /// Megabytes the page cache may hold (bodies in every encoding); the oldest pages go first.
    pub page_cache_mb: Option<usize>,
    /// Reverse proxies whose `X-Forwarded-For` names the client (e.g. `["127.0.0.1"]` behind
    /// nginx on the same host). Without it, the peer address is the client.
    #[serde(default)]
    pub trusted_proxies: Vec<std::net::IpAddr>,
    /// How browsers and shared caches keep public pages, and which caches to purge.
    #[serde(default)]
    pub http_cache: HttpCacheConfig,
    /// Where pictures are kept: `DATA_DIR/media` by default, or an S3-compatible bucket.
    #[serde(default)]
    pub media: crate::media::store::MediaConfig,
    /// The JSON API (`/api/`).
    #[serde(default)]
    pub api: ApiConfig,
    /// Webhook deliveries.
    #[serde(default)]
    pub webhooks: crate::webhooks::WebhookConfig,
    /// The threads that serve connections.
    #[serde(default)]
    pub serving: ServingConfig,
    /// What the server may fetch from the network (media fetch, WebSub).
    #[serde(default)]
    pub outbound: OutboundConfig,
}

/// `[outbound]`: the guard every fetch goes through ([`crate::outbound`]).
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutboundConfig {
    /// Allow loopback, private and link-local addresses (an old site or a hub on this host or
    /// LAN). Webhooks have their own switch, `[webhooks] allow_private`.
    #[serde(default)]
    pub allow_private: bool,
    /// Private addresses allowed one by one (e.g. `["10.0.0.7"]`, the old WordPress host).
    #[serde(default)]
    pub allow: Vec<std::net::IpAddr>,
}

/// `[serving]`: how the serving threads (one per CPU) are scheduled.
#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ServingConfig {
    #[serde(default)]
    pub scheduling: Scheduling,
}

/// How the kernel schedules the serving threads (see docs/OPERATIONS.md, "Serving threads").
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scheduling {
    /// `SCHED_BATCH`: a serving thread woken by a request does not preempt what runs on its CPU;
    /// it runs when that blocks or its time slice ends. Requests that arrive together are
    /// answered together, not one context switch each.
    #[default]
    Batch,
    /// The kernel's default policy: a woken serving thread preempts at once.
    Normal,
}

/// `[api]`: who may call the Content API from a browser on another site.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ApiConfig {
    /// `Access-Control-Allow-Origin` of the Content API: `*` (the default: it is public, read-only
    /// data), one origin (`https://app.example.com`), or `""` for none.
    pub cors_origin: Option<String>,
    /// Admin API requests per token per minute on each node (300 when not given).
    pub rate_per_minute: Option<u32>,
}

impl ApiConfig {
    pub fn rate_per_minute(&self) -> u32 {
        self.rate_per_minute.unwrap_or(crate::web::api::auth::RATE_PER_MINUTE).max(1)
    }

    pub fn cors_origin(&self) -> anyhow::Result<Option<axum::http::HeaderValue>> {
        let origin = self.cors_origin.as_deref().unwrap_or("*").trim();
        if origin.is_empty() {
            return Ok(None);
        }
        if origin != "*" && !(origin.starts_with("https://") || origin.starts_with("http://")) {
            bail!(
                "[api] cors_origin must be \"*\", an origin like https://app.example.com, or \"\"; got {origin:?}"
            );
        }
        Ok(Some(axum::http::HeaderValue::from_str(origin.trim_end_matches('/'))?))
    }
}

/// `[http_cache]`: seconds for each part of public pages' `Cache-Control` (see
/// docs/OPERATIONS.md), and `[[http_cache.purge]]` entries naming the caches to purge.
#[derive(Debug, Default, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HttpCacheConfig {
    pub max_age: Option<u32>,
    pub s_maxage: Option<u32>,
    pub stale_while_revalidate: Option<u32>,
    pub stale_if_error: Option<u32>,
    #[serde(default)]
    pub purge: Vec<crate::web::cache::purge::Target>,
}

impl HttpCacheConfig {
    pub fn policy(&self) -> crate::web::cache::Policy {
        let d = crate::web::cache::Policy::default();
        crate::web::cache::Policy {
            max_age: self.max_age.unwrap_or(d.max_age),
            s_maxage: self.s_maxage.unwrap_or(d.s_maxage),
            stale_while_revalidate: self.stale_while_revalidate.unwrap_or(d.stale_while_revalidate),
            stale_if_error: self.stale_if_error.unwrap_or(d.stale_if_error),
        }
    }
}

impl FileConfig {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read config file {}", path.display()))?;
        toml::from_str(&text).with_context(|| format!("invalid config file {}", path.display()))
    }
}

/// The resolved configuration every command works with.
#[derive(Debug, Clone)]
pub struct Config {
    pub data_dir: PathBuf,
    pub store: StoreLocation,
    pub listen: SocketAddr,
    pub theme_dir: Option<PathBuf>,
    pub base_url: Option<String>,
    pub permalink: PermalinkStyle,
    pub page_cache: usize,
    /// Bytes the page cache may hold.
    pub page_cache_bytes: usize,
    pub trusted_proxies: Vec<std::net::IpAddr>,
    pub http_cache: HttpCacheConfig,
    pub media: crate::media::store::MediaConfig,
    pub api: ApiConfig,
    pub webhooks: crate::webhooks::WebhookConfig,
    pub serving: ServingConfig,
    pub outbound: OutboundConfig,
}

pub const DEFAULT_PAGE_CACHE: usize = 5_000;
pub const DEFAULT_PAGE_CACHE_MB: usize = 128;
pub const DEFAULT_LISTEN: &str = "127.0.0.1:3000";
pub const DEFAULT_DATA_DIR: &str = "gazette-data";

/// Values given on the command line or in the environment.
#[derive(Debug, Default, Clone)]
pub struct Overrides {
    pub config: Option<PathBuf>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
    pub listen: Option<SocketAddr>,
}

impl Config {
    pub fn resolve(overrides: &Overrides) -> anyhow::Result<Self> {
        let file = match &overrides.config {
            Some(path) => FileConfig::load(path)?,
            None => FileConfig::default(),
        };
        let data_dir =
            overrides.data_dir.clone().or(file.data_dir).unwrap_or_else(|| PathBuf::from(DEFAULT_DATA_DIR));
        let database_url = overrides.database_url.clone().or(file.database_url);
        let store = StoreLocation::resolve(database_url.as_deref(), &data_dir)?;
        let listen = match overrides.listen.or(file.listen) {
            Some(addr) => addr,
            None => DEFAULT_LISTEN.parse()?,
        };
        if let Some(url) = &file.base_url
            && !(url.starts_with("http://") || url.starts_with("https://"))
        {
            bail!("base_url must start with http:// or https://, got {url:?}");
        }
        Ok(Self {
            data_dir,
            store,
            listen,
            theme_dir: file.theme_dir,
            base_url: file.base_url.map(|u| u.trim_end_matches('/').to_owned()),
            permalink: file.permalink.unwrap_or_default(),
            page_cache: file.page_cache.unwrap_or(DEFAULT_PAGE_CACHE),
            page_cache_bytes: file.page_cache_mb.unwrap_or(DEFAULT_PAGE_CACHE_MB).saturating_mul(1 << 20),
            trusted_proxies: file.trusted_proxies,
            http_cache: file.http_cache,
            media: file.media,
            api: file.api,
            webhooks: file.webhooks,
            serving: file.serving,
            outbound: file.outbound,
        })
    }

    /// A configuration for tests and tools: SQLite in `data_dir` or the given database URL.
    pub fn for_store(data_dir: &Path, database_url: Option<&str>) -> anyhow::Result<Self> {
        Self::resolve(&Overrides {
            data_dir: Some(data_dir.to_owned()),
            database_url: database_url.map(str::to_owned),
            listen: Some("127.0.0.1:0".parse()?),
            config: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags_override_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("gazette.toml");
        std::fs::write(&path, "listen = \"0.0.0.0:8080\"\ndata_dir = \"/srv/news\"\npermalink = \"slug\"\n")
            .unwrap();
        let cfg = Config::resolve(&Overrides { config: Some(path.clone()), ..Default::default() }).unwrap();
        assert_eq!(cfg.listen.to_string(), "0.0.0.0:8080");
        assert_eq!(cfg.store, StoreLocation::Sqlite(PathBuf::from("/srv/news/gazette.db")));
        assert_eq!(cfg.permalink, PermalinkStyle::Slug);
        let cfg = Config::resolve(&Overrides {
            config: Some(path),
            data_dir: Some(PathBuf::from("here")),
            ..Default::default()
        })
        .unwrap();
        assert_eq!(cfg.store, StoreLocation::Sqlite(PathBuf::from("here/gazette.db")));
    }

    #[test]
    fn unknown_keys_are_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("g.toml");
        std::fs::write(&path, "lisen = \"x\"").unwrap();
        let err = Config::resolve(&Overrides { config: Some(path), ..Default::default() }).unwrap_err();
        assert!(format!("{err:#}").contains("unknown field"), "{err:#}");
    }
}
