//! The site snapshot: settings, sections and pages that every page shows, held in memory and
//! reloaded when the content event log moves (on this node or any other sharing the database).
//! It also says which rendered pages the events since the last reload made stale: all of them,
//! or only those showing certain articles (a comment approved, a related list recomputed).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use arc_swap::ArcSwap;
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use chrono_tz::Tz;

use crate::config::PermalinkStyle;
use crate::storage::taxonomy::SectionRow;
use crate::storage::{Db, events, pages, settings, taxonomy};

/// Site-wide settings, with defaults for a fresh store.
#[derive(Debug, Clone)]
pub struct Settings {
    pub name: String,
    pub tagline: String,
    pub description: String,
    pub language: String,
    /// URL of the logo image, empty for none.
    pub logo: String,
    pub timezone: Tz,
    pub per_page: i64,
    /// Entries per feed.
    pub feed_items: i64,
    /// Whole articles in feeds (else excerpts).
    pub feed_full_text: bool,
    /// A WebSub hub to announce feeds to; empty for none.
    pub websub_hub: String,
    /// The discussion policy (comments).
    pub comments: crate::comments::Policy,
}

impl Settings {
    pub fn from_map(map: &std::collections::HashMap<String, String>) -> Self {
        let get = |k: &str, d: &str| map.get(k).cloned().unwrap_or_else(|| d.to_owned());
        Self {
            name: get("site.name", "Gazette"),
            tagline: get("site.tagline", ""),
            description: get("site.description", ""),
            language: get("site.language", "en"),
            logo: get("site.logo", ""),
            timezone: map.get("site.timezone").and_then(|t| t.parse().ok()).unwrap_or(Tz::UTC),
            per_page: map
                .get("site.per_page")
                .and_then(|n| n.parse().ok())
                .filter(|n| (1..=100).contains(n))
                .unwrap_or(20),
            feed_items: map
                .get("site.feed_items")
                .and_then(|n| n.parse().ok())
                .filter(|n| (1..=100).contains(n))
                .unwrap_or(20),
            feed_full_text: map.get("site.feed_full_text").is_none_or(|v| v != "false"),
            websub_hub: get("site.websub_hub", ""),
            comments: crate::comments::Policy::from_map(map),
        }
    }
}

/// The settings row holding the site's signing key.
pub const SECRET_KEY: &str = "secret.forms";

#[derive(Debug, Clone)]
pub struct Site {
    pub settings: Settings,
    pub sections: Vec<SectionRow>,
    pub pages: Vec<(String, String)>,
    /// Published sticky articles, newest first: they lead the front page.
    pub sticky: Vec<i64>,
    /// The newest content event this snapshot reflects.
    pub event_id: i64,
    /// Pages rendered before this event are stale, whatever they show.
    pub pages_since: i64,
    /// Articles changed by events after `pages_since` that concern them alone, with the
    /// newest such event: pages showing one of them and rendered before it are stale.
    pub touched: Arc<HashMap<i64, i64>>,
    pub permalink: PermalinkStyle,
    /// The config file's permalink style, used when the settings do not choose one.
    pub default_permalink: PermalinkStyle,
    /// The key that signs comment form tokens (shared by every node through the store).
    pub secret: Arc<[u8]>,
    /// Every library picture, for drawing `<picture>` elements; follows picture events.
    pub pictures: crate::media::markup::Catalogue,
}

impl Site {
    pub async fn load(db: &Db, permalink: PermalinkStyle) -> anyhow::Result<Self> {
        let mut site = Self::load_without_pictures(db, permalink).await?;
        site.pictures = Arc::new(
            crate::storage::pictures::all(db)
                .await?
                .iter()
                .map(|r| (r.id, Arc::new(crate::media::markup::PictureRef::from(r))))
                .collect(),
        );
        Ok(site)
    }

    /// [`Site::load`] with an empty picture catalogue (a reload keeps the one it follows).
    async fn load_without_pictures(db: &Db, permalink: PermalinkStyle) -> anyhow::Result<Self> {
        let permalink_default = permalink;
        let event_id = events::latest_id(db).await?;
        let map = settings::all(db).await?;
        // The admin's choice wins over the config file's default.
        let permalink = match map.get("site.permalink").map(String::as_str) {
            Some("slug") => PermalinkStyle::Slug,
            Some("date") => PermalinkStyle::Date,
            _ => permalink,
        };
        Ok(Self {
            settings: Settings::from_map(&map),
            sections: taxonomy::sections(db).await?,
            pages: pages::footer(db).await?,
            sticky: crate::storage::articles::sticky_ids(db).await?,
            event_id,
            pages_since: event_id,
            touched: Arc::default(),
            permalink,
            default_permalink: permalink_default,
            secret: map.get(SECRET_KEY).map_or_else(|| Arc::from(&b""[..]), |s| Arc::from(s.as_bytes())),
            pictures: Arc::default(),
        })
    }

    /// The library picture a stored image address names, if it is one.
    pub fn picture(&self, url: &str) -> Option<&crate::media::markup::PictureRef> {
        crate::media::markup::picture_id(url).and_then(|id| self.pictures.get(&id)).map(|p| &**p)
    }

    pub fn section_by_slug(&self, slug: &str) -> Option<&SectionRow> {
        self.sections.iter().find(|s| s.slug == slug)
    }

    pub fn section_by_id(&self, id: i64) -> Option<&SectionRow> {
        self.sections.iter().find(|s| s.id == id)
    }

    /// Top-level sections, in menu order.
    pub fn main_sections(&self) -> impl Iterator<Item = &SectionRow> {
        self.sections.iter().filter(|s| s.parent_id.is_none())
    }

    pub fn local(&self, unix: i64) -> DateTime<Tz> {
        self.settings
            .timezone
            .from_utc_datetime(&DateTime::<Utc>::from_timestamp(unix, 0).unwrap_or_default().naive_utc())
    }

    pub fn article_url(&self, slug: &str, published_at: i64) -> String {
        match self.permalink {
            PermalinkStyle::Slug => format!("/{slug}/"),
            PermalinkStyle::Date => {
                let d = self.local(published_at);
                format!("/{:04}/{:02}/{:02}/{slug}/", d.year(), d.month(), d.day())
            }
        }
    }

    /// The Unix-second range `[start, end)` of local days `from..until` (exclusive).
    pub fn day_range(&self, from: NaiveDate, until: NaiveDate) -> (i64, i64) {
        let start = |d: NaiveDate| {
            let naive = d.and_hms_opt(0, 0, 0).unwrap_or_default();
            self.settings
                .timezone
                .from_local_datetime(&naive)
                .earliest()
                .map_or_else(|| naive.and_utc().timestamp(), |t| t.timestamp())
        };
        (start(from), start(until))
    }
}

/// Events read per refresh, and articles remembered as touched, before every page is simply
/// treated as stale.
const MAX_TOUCHED: usize = 10_000;

/// The shared, swappable snapshot.
#[derive(Clone)]
pub struct SiteHandle {
    snapshot: Arc<ArcSwap<Site>>,
    /// One refresh at a time (the follower, the purger and handlers after a change all ask):
    /// two at once could store an older snapshot over a newer one.
    refreshing: Arc<tokio::sync::Mutex<()>>,
}

impl SiteHandle {
    pub fn new(site: Site) -> Self {
        Self { snapshot: Arc::new(ArcSwap::from_pointee(site)), refreshing: Arc::default() }
    }

    pub fn get(&self) -> arc_swap::Guard<Arc<Site>> {
        self.snapshot.load()
    }

    /// The snapshot as an owned handle, to keep across an `await`.
    pub fn get_full(&self) -> Arc<Site> {
        self.snapshot.load_full()
    }

    /// Takes in the events past the snapshot: events that concern single articles only mark
    /// them (no reload); any other reloads the snapshot and makes every page stale. Returns
    /// whether the snapshot moved.
    pub async fn refresh(&self, db: &Db) -> anyhow::Result<bool> {
        let _one_at_a_time = self.refreshing.lock().await;
        let current = self.snapshot.load_full();
        let new = events::after(db, current.event_id, MAX_TOUCHED as i64).await?;
        let Some(&(last, _, _)) = new.last() else {
            return Ok(false);
        };
        let everything = new
            .iter()
            .rev()
            .find(|(_, kind, subject)| events::page_scope(kind, *subject) == events::PageScope::Everything)
            .map(|e| e.0);
        // More than a page of events at once (an import): simpler to start afresh.
        let everything = if new.len() >= MAX_TOUCHED { Some(last) } else { everything };
        let pictures_changed: Vec<i64> =
            new.iter().filter(|(_, kind, _)| kind.starts_with("picture.")).map(|e| e.2).collect();
        let mut next = match everything {
            Some(id) => {
                let mut fresh = Site::load_without_pictures(db, current.default_permalink).await?;
                fresh.pictures = current.pictures.clone();
                fresh.pages_since = id;
                fresh.touched = Arc::default();
                fresh
            }
            None => (*current).clone(),
        };
        if !pictures_changed.is_empty() {
            let mut pictures = (*next.pictures).clone();
            for id in pictures_changed {
                match crate::storage::pictures::get(db, id).await? {
                    Some(row) => pictures.insert(id, Arc::new(crate::media::markup::PictureRef::from(&row))),
                    None => pictures.remove(&id),
                };
            }
            next.pictures = Arc::new(pictures);
        }
        let mut touched = (*next.touched).clone();
        for (id, kind, subject) in &new {
            if let events::PageScope::Article(article) = events::page_scope(kind, *subject)
                && *id > next.pages_since
            {
                touched.insert(article, *id);
            }
        }
        if touched.len() > MAX_TOUCHED {
            next.pages_since = last;
            touched.clear();
        }
        // The events read decide what is stale, so the snapshot stands for exactly those (the
        // reload may have seen newer ones: their pages will simply be rendered again).
        next.event_id = last;
        next.touched = Arc::new(touched);
        self.snapshot.store(Arc::new(next));
        Ok(true)
    }

    /// Follows the event log forever, checking every `every`.
    pub async fn follow(self, db: Db, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(err) = self.refresh(&db).await {
                tracing::warn!(error = %format!("{err:#}"), "could not follow content events");
            }
        }
    }
}
