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

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;

pub mod address;
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

/// Pages waiting for their compressed bodies; more are left as they are (a page is rendered
/// again within [`MAX_AGE`], and queued then).
const COMPRESS_QUEUE: usize = 64;
/// Keys with parameters remembered until asked for again ([`address::Doorkeeper`]).
const DOORKEEPER: usize = 65_536;

struct Entries {
    map: HashMap<String, Entry>,
    /// Bytes held by the stored pages (bodies in every encoding, keys).
    bytes: usize,
}

/// What one stored page weighs against the byte budget.
fn weight(key: &str, page: &Page) -> usize {
    // Headers and the entry itself: about a kilobyte.
    key.len()
        + page.identity.len()
        + page.gzip.as_ref().map_or(0, Bytes::len)
        + page.br.as_ref().map_or(0, Bytes::len)
        + 1024
}

pub struct PageCache {
    capacity: usize,
    max_bytes: usize,
    entries: Mutex<Entries>,
    doorkeeper: address::Doorkeeper,
    /// Pages to compress, to the one compressing thread.
    compress: std::sync::mpsc::SyncSender<(String, Arc<Page>)>,
}

impl PageCache {
    /// A cache of at most `capacity` pages and `max_bytes` bytes, with its compressing thread.
    pub fn new(capacity: usize, max_bytes: usize) -> Arc<Self> {
        let (compress, queue) = std::sync::mpsc::sync_channel::<(String, Arc<Page>)>(COMPRESS_QUEUE);
        let cache = Arc::new(Self {
            capacity,
            max_bytes,
            entries: Mutex::new(Entries { map: HashMap::new(), bytes: 0 }),
            doorkeeper: address::Doorkeeper::new(DOORKEEPER),
            compress,
        });
        let weak = Arc::downgrade(&cache);
        // Ends when the cache is dropped (its sender with it).
        let spawned = std::thread::Builder::new().name("page-compress".into()).spawn(move || {
            while let Ok((key, page)) = queue.recv() {
                let compressed = (*page).clone().compressed();
                match weak.upgrade() {
                    Some(cache) => cache.upgrade(&key, compressed),
                    None => break,
                }
            }
        });
        if let Err(err) = spawned {
            tracing::warn!(error = %err, "no thread to compress cached pages: they are sent uncompressed");
        }
        cache
    }

    /// The page for a request target (path and query), when one is stored and fresh.
    pub(crate) fn get(&self, target: &str, site: &crate::site::Site) -> Option<Arc<Page>> {
        let key = address::key(target)?;
        let entries = self.entries.lock().ok()?;
        let entry = entries.map.get(key.as_ref())?;
        entry.is_fresh(site).then(|| entry.page.clone())
    }

    /// The last copy of a page, fresh or not (while the database cannot be reached).
    pub fn get_stale(&self, target: &str) -> Option<Arc<Page>> {
        let key = address::key(target)?;
        self.entries.lock().ok()?.map.get(key.as_ref()).map(|e| e.page.clone())
    }

    /// Bytes and pages held (for tests and the logs).
    pub fn usage(&self) -> (usize, usize) {
        self.entries.lock().map_or((0, 0), |e| (e.bytes, e.map.len()))
    }

    fn put(&self, key: String, entry: Entry, site: &crate::site::Site) {
        let Ok(mut entries) = self.entries.lock() else { return };
        let adding = weight(&key, &entry.page);
        if adding > self.max_bytes {
            return;
        }
        if let Some(old) = entries.map.remove(&key) {
            entries.bytes -= weight(&key, &old.page);
        }
        if entries.map.len() >= self.capacity || entries.bytes + adding > self.max_bytes {
            // Stale entries go first; then the oldest, down to three quarters of the budget.
            // Until then stale entries stay: they are what readers get if the database goes down.
            let Entries { map, bytes } = &mut *entries;
            map.retain(|k, e| {
                let keep = e.is_fresh(site);
                if !keep {
                    *bytes -= weight(k, &e.page);
                }
                keep
            });
            if map.len() >= self.capacity || *bytes + adding > self.max_bytes {
                let mut by_age: Vec<(Instant, String)> =
                    map.iter().map(|(k, e)| (e.stored, k.clone())).collect();
                by_age.sort_unstable();
                let (count_goal, byte_goal) = (self.capacity * 3 / 4, self.max_bytes * 3 / 4);
                for (_, k) in by_age {
                    if map.len() <= count_goal && *bytes + adding <= byte_goal {
                        break;
                    }
                    if let Some(e) = map.remove(&k) {
                        *bytes -= weight(&k, &e.page);
                    }
                }
            }
        }
        entries.bytes += adding;
        entries.map.insert(key, entry);
    }

    /// Puts the compressed bodies of a page in its place, if the page is still the one stored
    /// and they fit in the budget.
    fn upgrade(&self, key: &str, page: Page) {
        let Ok(mut entries) = self.entries.lock() else { return };
        let Entries { map, bytes } = &mut *entries;
        if let Some(entry) = map.get_mut(key)
            && entry.page.etag == page.etag
        {
            let (before, after) = (weight(key, &entry.page), weight(key, &page));
            if *bytes - before + after <= self.max_bytes {
                *bytes = *bytes - before + after;
                entry.page = Arc::new(page);
            }
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
    let target = request.uri().path_and_query().map_or("/", |p| p.as_str());
    let key = address::key(target).map(std::borrow::Cow::into_owned);
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
    if app.is_https() {
        headers.insert(
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static(super::STRICT_TRANSPORT_SECURITY),
        );
    }
    if key.is_some() {
        headers.insert(header::CACHE_CONTROL, app.cache_policy.clone());
        if let Ok(value) = HeaderValue::from_str(&surrogate.join(" ")) {
            headers.insert("surrogate-key", value);
        }
        if let Ok(value) = HeaderValue::from_str(&surrogate.join(",")) {
            headers.insert("cache-tag", value);
        }
    } else {
        // An address no cache should file (a parameter no page reads): the reader's browser may
        // keep it, shared caches may not (and, without surrogate keys, could not purge it).
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=60"));
    }
    let page = Page::new(parts.headers, bytes);
    let mut response = page.respond(&request_headers);
    response.headers_mut().remove("x-cache");
    if let Some(cache) = app.page_cache.clone()
        && let Some(key) = key
        && cache.doorkeeper.admits(&key)
    {
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
        // Compressed once, off the request path, by one thread with a bounded queue; until
        // then hits are sent as they are.
        if wants_compression {
            let _ = cache.compress.try_send((key, page));
        }
    }
    response
}
