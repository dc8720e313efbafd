//! The page cache: rendered public pages kept in memory until the content event log says they
//! are stale (on this node or any other), or for a minute at most (pages show today's date).
//! It stores successful responses to plain GET requests that say they are public (pages,
//! feeds, sitemaps), each as a [`Page`]: the same bytes for every reader, compressed once, with
//! an `ETag`, the cache policy shared caches follow and the surrogate keys they purge by
//! ([`keys`], [`purge`]).
//!
//! Each page remembers the articles it shows (noted by the views while it renders, see
//! [`shows_article`]). An event that concerns one article alone (a comment approved, its
//! related list recomputed) drops only the pages showing that article; any other event
//! (publishing, a new section, settings) drops every page. So a steady stream of comments on
//! one story leaves the rest of the site served from memory.

use std::collections::HashMap;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;

pub mod keys;
pub mod page;
pub mod purge;

pub use page::Page;

/// Longest time a page is served from memory.
const MAX_AGE: Duration = Duration::from_secs(60);
/// Larger pages are not kept.
const MAX_BODY: usize = 512 * 1024;

struct Entry {
    event_id: i64,
    /// The articles the page shows.
    deps: Box<[i64]>,
    stored: Instant,
    page: Arc<Page>,
    /// The site snapshot (its `event_id`) in which the page was last found fresh: within one
    /// snapshot the verdict holds, so a hit checks the page's articles once per snapshot,
    /// not once per request (the front page shows some thirty).
    fresh_in: AtomicI64,
}

tokio::task_local! {
    static SHOWN: Arc<Mutex<Vec<i64>>>;
}

/// Notes that the page being rendered shows this article (its own page, or a card of it). A
/// no-op outside the cache's scope.
pub fn shows_article(id: i64) {
    let _ = SHOWN.try_with(|shown| {
        if let Ok(mut shown) = shown.lock() {
            shown.push(id);
        }
    });
}

impl Entry {
    /// Whether no event since the page was rendered concerns it.
    fn is_fresh(&self, site: &crate::site::Site) -> bool {
        if self.stored.elapsed() > MAX_AGE {
            return false;
        }
        if self.fresh_in.load(Ordering::Relaxed) == site.event_id {
            return true;
        }
        let fresh = self.event_id >= site.pages_since
            && self.deps.iter().all(|d| site.touched.get(d).is_none_or(|&at| at <= self.event_id));
        if fresh {
            self.fresh_in.store(site.event_id, Ordering::Relaxed);
        }
        fresh
    }
}

/// How shared caches and browsers may keep public pages (the config file's `[http_cache]`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Policy {
    /// Seconds a browser may show its copy without asking (it asks with `If-None-Match`).
    pub max_age: u32,
    /// Seconds a shared cache may keep a page: it is purged on every change that concerns it.
    pub s_maxage: u32,
    /// Seconds a shared cache may serve an expired copy while it fetches a new one.
    pub stale_while_revalidate: u32,
    /// Seconds a cache may serve an expired copy when Gazette cannot answer.
    pub stale_if_error: u32,
}

impl Default for Policy {
    fn default() -> Self {
        Self { max_age: 60, s_maxage: 300, stale_while_revalidate: 60, stale_if_error: 86_400 }
    }
}

impl Policy {
    pub fn header(&self) -> HeaderValue {
        let value = format!(
            "public, max-age={}, s-maxage={}, stale-while-revalidate={}, stale-if-error={}",
            self.max_age, self.s_maxage, self.stale_while_revalidate, self.stale_if_error
        );
        HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static("public, max-age=60"))
    }
}

pub struct PageCache {
    capacity: usize,
    entries: Mutex<HashMap<String, Entry>>,
}

impl PageCache {
    pub fn new(capacity: usize) -> Self {
        Self { capacity, entries: Mutex::new(HashMap::new()) }
    }

    pub(crate) fn get(&self, key: &str, site: &crate::site::Site) -> Option<Arc<Page>> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(key)?;
        entry.is_fresh(site).then(|| entry.page.clone())
    }

    /// The last copy of a page, fresh or not (while the database cannot be reached).
    pub fn get_stale(&self, key: &str) -> Option<Arc<Page>> {
        self.entries.lock().ok()?.get(key).map(|e| e.page.clone())
    }

    fn put(&self, key: String, entry: Entry, site: &crate::site::Site) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if entries.len() >= self.capacity {
            // Stale entries go first; if all are fresh, start over (cheap, and rare). Until
            // then stale entries stay: they are what readers get if the database goes down.
            entries.retain(|_, e| e.is_fresh(site));
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, entry);
    }

    /// Puts the compressed bodies of a page in its place, if the page is still the one stored.
    fn upgrade(&self, key: &str, page: Page) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if let Some(entry) = entries.get_mut(key)
            && entry.page.etag == page.etag
        {
            entry.page = Arc::new(page);
        }
    }
}

/// Whether a response may be kept by shared caches and this cache: public, and not one of the
/// immutable files (assets and media answer for themselves).
fn is_public_page(response: &Response) -> bool {
    response.status() == StatusCode::OK
        && response
            .headers()
            .get(header::CACHE_CONTROL)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("public") && !v.contains("immutable"))
}

/// Serves public pages from the cache, and fills it; every public page gets its validator,
/// cache policy and surrogate keys here.
pub async fn serve_cached(State(app): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    let key = request.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let path = request.uri().path().to_owned();
    let request_headers = request.headers().clone();
    let event_id = app.site.get().event_id;
    let shown = Arc::new(Mutex::new(Vec::new()));
    let response = SHOWN.scope(shown.clone(), next.run(request)).await;
    if !is_public_page(&response) {
        return response;
    }
    let too_large =
        axum::body::HttpBody::size_hint(response.body()).upper().is_none_or(|n| n > MAX_BODY as u64);
    if too_large {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    let bytes = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => bytes,
        Err(err) => {
            tracing::warn!(error = %err, "page too large to cache");
            return Response::from_parts(parts, Body::empty());
        }
    };
    let mut deps = shown.lock().map(|d| d.clone()).unwrap_or_default();
    deps.sort_unstable();
    deps.dedup();
    let mut surrogate = keys::for_path(&path);
    surrogate.extend(deps.iter().take(keys::MAX_ARTICLE_KEYS).map(|&id| keys::article(id)));
    let headers = &mut parts.headers;
    super::security_headers(headers);
    headers.insert(header::CACHE_CONTROL, app.cache_policy.clone());
    if let Ok(value) = HeaderValue::from_str(&surrogate.join(" ")) {
        headers.insert("surrogate-key", value);
    }
    if let Ok(value) = HeaderValue::from_str(&surrogate.join(",")) {
        headers.insert("cache-tag", value);
    }
    let page = Page::new(parts.headers, bytes);
    let mut response = page.respond(&request_headers);
    response.headers_mut().remove("x-cache");
    if let Some(cache) = app.page_cache.clone() {
        let wants_compression = page.wants_compression();
        let page = Arc::new(page);
        cache.put(
            key.clone(),
            Entry {
                event_id,
                deps: deps.into_boxed_slice(),
                stored: Instant::now(),
                page: page.clone(),
                fresh_in: AtomicI64::new(i64::MIN),
            },
            &app.site.get(),
        );
        // Compressed once, off the request path; until then hits are compressed on the way.
        if wants_compression {
            tokio::task::spawn_blocking(move || cache.upgrade(&key, (*page).clone().compressed()));
        }
    }
    response
}
