//! The composition root: `App::build(config)` opens the store, runs migrations, loads the
//! theme and the site snapshot, and builds the router. `main` and the tests both call it.

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use tokio::net::TcpListener;

use crate::config::Config;
use crate::site::{Site, SiteHandle};
use crate::storage::Db;
use crate::theme::Theme;
use crate::web::cache::PageCache;
use crate::web::{self, AppParts, AppState};

/// How often a node checks the content event log for changes made elsewhere.
const FOLLOW_EVERY: Duration = Duration::from_secs(1);
/// How long open connections may take to finish their request once the node is stopping.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(10);

pub struct App {
    pub state: AppState,
    pub listener: TcpListener,
    pub serving: crate::config::ServingConfig,
    pub outbound: crate::config::OutboundConfig,
}

impl App {
    pub async fn build(config: &Config) -> anyhow::Result<Self> {
        crate::websub::install_tls();
        let db = open_store(config).await?;
        let theme = Theme::load(config.theme_dir.as_deref()).context("loading the theme")?;
        crate::storage::settings::ensure_secret(&db, crate::site::SECRET_KEY).await?;
        let site = SiteHandle::new(Site::load(&db, config.permalink).await?);
        let spam = Arc::new(crate::comments::load_filter(&db).await.context("loading the spam filter")?);
        let listener = TcpListener::bind(config.listen)
            .await
            .with_context(|| format!("cannot listen on {}", config.listen))?;
        let state = AppState::new(AppParts {
            db,
            theme: Arc::new(theme),
            site,
            base_url: config.base_url.as_deref().map(Arc::from),
            page_cache: (config.page_cache > 0 && config.page_cache_bytes > 0)
                .then(|| PageCache::new(config.page_cache, config.page_cache_bytes)),
            data_dir: Arc::new(config.data_dir.clone()),
            spam,
            search: Arc::new(crate::search::Engine::open(&config.data_dir.join("search"))),
            trusted_proxies: Arc::from(config.trusted_proxies.clone()),
            cache_policy: config.http_cache.policy().header(),
            purger: crate::web::cache::purge::Purger::new(config.http_cache.purge.clone())?,
            api_cors: config.api.cors_origin().context("reading [api] in the config")?,
            api_rate: config.api.rate_per_minute(),
            webhooks_wake: tokio::sync::Notify::new(),
            webhooks: config.webhooks.clone(),
            media: crate::media::jobs::Media::new(
                crate::media::store::MediaStore::open(&config.media, &config.data_dir)
                    .context("opening the media store")?,
            ),
        });
        state.purger.prepare(&state.db).await.context("starting the cache purge cursor")?;
        crate::webhooks::prepare(&state.db).await.context("starting the webhook cursor")?;
        Ok(Self { state, listener, serving: config.serving, outbound: config.outbound.clone() })
    }

    pub fn local_addr(&self) -> std::io::Result<std::net::SocketAddr> {
        self.listener.local_addr()
    }

    /// Serves until `shutdown` resolves, following content events in the background.
    pub async fn run(self, shutdown: impl Future<Output = ()> + Send + 'static) -> anyhow::Result<()> {
        let background = self.state.db.background();
        let follower = tokio::spawn(self.state.site.clone().follow(background.clone(), FOLLOW_EVERY));
        let scheduler = tokio::spawn(publish_scheduled(background.clone()));
        let pictures = tokio::spawn(crate::media::jobs::run(
            background.clone(),
            self.state.media.clone(),
            format!(
                "{}-{}",
                std::process::id(),
                self.listener.local_addr().map(|a| a.to_string()).unwrap_or_default()
            ),
        ));
        let search = tokio::spawn(self.state.search.clone().follow(background.clone(), FOLLOW_EVERY));
        let upkeep = tokio::spawn(comment_upkeep(
            background.clone(),
            self.state.site.clone(),
            self.state.spam.clone(),
        ));
        let purger = tokio::spawn(self.state.purger.clone().follow(
            background.clone(),
            self.state.site.clone(),
            FOLLOW_EVERY,
        ));
        let health = tokio::spawn(self.state.db.clone().watch_health());
        let webhooks =
            tokio::spawn(crate::webhooks::run(self.state.clone(), self.state.webhooks.clone(), FOLLOW_EVERY));
        let websub = tokio::spawn(crate::websub::announce(
            background,
            self.state.site.clone(),
            self.state.base_url.as_deref().map(str::to_owned),
            self.outbound.clone(),
        ));
        let front = web::Front::new(self.state.clone());
        let served = web::serve::serve(self.listener, front, self.serving, shutdown, SHUTDOWN_GRACE).await;
        follower.abort();
        pictures.abort();
        scheduler.abort();
        upkeep.abort();
        search.abort();
        websub.abort();
        purger.abort();
        webhooks.abort();
        health.abort();
        self.state.db.close().await;
        served.context("serving HTTP")
    }
}

/// Publishes scheduled articles when their time comes (also after a restart, on any node),
/// and, once a minute, deletes articles trashed more than 30 days ago.
async fn publish_scheduled(db: Db) {
    let mut tick = tokio::time::interval(FOLLOW_EVERY);
    let mut ticks: u64 = 0;
    loop {
        tick.tick().await;
        match crate::content::publish_due(&db).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(articles = n, "published scheduled articles"),
            Err(err) => tracing::warn!(error = %format!("{err:#}"), "could not publish scheduled articles"),
        }
        if ticks.is_multiple_of(60) {
            match crate::content::purge_trash(&db).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(articles = n, "deleted articles trashed over 30 days ago"),
                Err(err) => tracing::warn!(error = %format!("{err:#}"), "could not empty the trash"),
            }
        }
        ticks += 1;
    }
}

/// Every few minutes: deletes spam and trash past the retention period, and takes in the
/// spam filter's lessons learned on other nodes.
async fn comment_upkeep(db: Db, site: SiteHandle, filter: Arc<crate::spam::SpamFilter>) {
    let mut tick = tokio::time::interval(Duration::from_secs(300));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tick.tick().await;
        let policy = site.get().settings.comments.clone();
        match crate::comments::purge(&db, &policy).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(comments = n, days = policy.keep_days, "deleted old spam and trash"),
            Err(err) => tracing::warn!(error = %format!("{err:#}"), "could not purge comments"),
        }
        if let Err(err) = crate::comments::reload_filter(&db, &filter).await {
            tracing::warn!(error = %format!("{err:#}"), "could not reload the spam filter");
        }
    }
}

/// Opens the configured store and brings its schema up to date.
pub async fn open_store(config: &Config) -> anyhow::Result<Db> {
    let db = Db::connect(&config.store).await?;
    db.migrate().await.with_context(|| format!("cannot prepare {}", config.store.describe()))?;
    let rederived =
        crate::content::backfill_body_text(&db).await.context("taking articles' text from their HTML")?;
    if rederived > 0 {
        tracing::info!(
            articles = rederived,
            "took the text of articles from their HTML (search and related lists follow)"
        );
    }
    Ok(db)
}
