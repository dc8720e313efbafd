//! The page cache: rendered public pages kept in memory until the content event log says they
//! are stale (on this node or any other), or for a minute at most (pages show today's date).
//! It only stores successful HTML responses to plain GET requests.
//!
//! Each page remembers the articles it shows (noted by the views while it renders, see
//! [`shows_article`]). An event that concerns one article alone (a comment approved, its
//! related list recomputed) drops only the pages showing that article; any other event
//! (publishing, a new section, settings) drops every page. So a steady stream of comments on
//! one story leaves the rest of the site served from memory.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;

use super::AppState;

/// Longest time a page is served from memory.
const MAX_AGE: Duration = Duration::from_secs(60);
/// Larger pages are not kept.
const MAX_BODY: usize = 512 * 1024;

struct Entry {
    event_id: i64,
    /// The articles the page shows.
    deps: Box<[i64]>,
    stored: Instant,
    headers: HeaderMap,
    body: Bytes,
    /// Where the page's comment form token goes.
    form: Option<FormSlot>,
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
        self.event_id >= site.pages_since
            && self.stored.elapsed() <= MAX_AGE
            && self.deps.iter().all(|d| site.touched.get(d).is_none_or(|&at| at <= self.event_id))
    }
}

/// Set by handlers on pages that carry a comment form: each response gets its own token.
#[derive(Debug, Clone, Copy)]
pub struct HasCommentForm;

/// The placeholder (`comments::token_marker()` and `ID@@`) in a page: byte range and article id.
#[derive(Debug, Clone, Copy)]
struct FormSlot {
    start: usize,
    end: usize,
    article_id: i64,
}

fn find_slot(body: &[u8]) -> Option<FormSlot> {
    let marker = crate::comments::token_marker().as_bytes();
    let start = body.windows(marker.len()).position(|w| w == marker)?;
    let digits = &body[start + marker.len()..];
    let len = digits.iter().take_while(|b| b.is_ascii_digit()).count();
    let article_id = std::str::from_utf8(&digits[..len]).ok()?.parse().ok()?;
    digits[len..].starts_with(b"@@").then_some(FormSlot {
        start,
        end: start + marker.len() + len + 2,
        article_id,
    })
}

/// The page with a fresh form token in its slot. The page may now be kept by the reader's
/// browser only, and must be asked for again before it is shown again: after posting, a reader
/// sent back to the article must see their comment, not the copy from before it.
fn stamp(app: &AppState, headers: &mut HeaderMap, body: &Bytes, slot: FormSlot) -> Bytes {
    let site = app.site.get();
    let token = crate::comments::issue_token(&site.secret, slot.article_id, crate::storage::now());
    let mut out = Vec::with_capacity(body.len() + token.len());
    out.extend_from_slice(&body[..slot.start]);
    out.extend_from_slice(token.as_bytes());
    out.extend_from_slice(&body[slot.end..]);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-cache"));
    headers.remove(header::CONTENT_LENGTH);
    Bytes::from(out)
}

/// Gives a freshly rendered page its form token (when the cache is not involved).
async fn stamp_fresh(app: &AppState, response: Response) -> Response {
    if response.extensions().get::<HasCommentForm>().is_none() {
        return response;
    }
    let (mut parts, body) = response.into_parts();
    match axum::body::to_bytes(body, usize::MAX).await {
        Ok(bytes) => {
            let body = match find_slot(&bytes) {
                Some(slot) => stamp(app, &mut parts.headers, &bytes, slot),
                None => bytes,
            };
            Response::from_parts(parts, Body::from(body))
        }
        Err(_) => Response::from_parts(parts, Body::empty()),
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

    fn get(&self, app: &AppState, key: &str, site: &crate::site::Site) -> Option<Response> {
        let (mut headers, body, form) = {
            let entries = self.entries.lock().ok()?;
            let entry = entries.get(key)?;
            if !entry.is_fresh(site) {
                return None;
            }
            (entry.headers.clone(), entry.body.clone(), entry.form)
        };
        let body = match form {
            Some(slot) => stamp(app, &mut headers, &body, slot),
            None => body,
        };
        let mut response = Response::new(Body::from(body));
        *response.headers_mut() = headers;
        response.headers_mut().insert("x-cache", HeaderValue::from_static("hit"));
        Some(response)
    }

    fn put(&self, key: String, entry: Entry, site: &crate::site::Site) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if entries.len() >= self.capacity {
            // Stale entries go first; if all are fresh, start over (cheap, and rare).
            entries.retain(|_, e| e.is_fresh(site));
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, entry);
    }
}

/// Serves public pages from the cache, and fills it.
pub async fn serve_cached(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let Some(cache) = app.page_cache.clone() else {
        return stamp_fresh(&app, next.run(request).await).await;
    };
    if request.method() != Method::GET {
        return stamp_fresh(&app, next.run(request).await).await;
    }
    let key = request.uri().to_string();
    let site = app.site.get_full();
    let event_id = site.event_id;
    if let Some(hit) = cache.get(&app, &key, &site) {
        return hit;
    }
    let shown = Arc::new(Mutex::new(Vec::new()));
    let response = SHOWN.scope(shown.clone(), next.run(request)).await;
    let is_html =
        response.headers().get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"text/html"));
    let private = response
        .headers()
        .get(header::CACHE_CONTROL)
        .is_some_and(|v| v.to_str().is_ok_and(|v| v.contains("no-store") || v.contains("private")));
    if response.status() != StatusCode::OK || !is_html || private {
        return stamp_fresh(&app, response).await;
    }
    let too_large =
        axum::body::HttpBody::size_hint(response.body()).upper().is_none_or(|n| n > MAX_BODY as u64);
    if too_large {
        return stamp_fresh(&app, response).await;
    }
    let has_form = response.extensions().get::<HasCommentForm>().is_some();
    let (mut parts, body) = response.into_parts();
    match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => {
            let form = if has_form { find_slot(&bytes) } else { None };
            let mut deps = shown.lock().map(|d| d.clone()).unwrap_or_default();
            deps.sort_unstable();
            deps.dedup();
            let entry = Entry {
                event_id,
                deps: deps.into_boxed_slice(),
                stored: Instant::now(),
                headers: parts.headers.clone(),
                body: bytes.clone(),
                form,
            };
            cache.put(key, entry, &app.site.get());
            let body = match form {
                Some(slot) => stamp(&app, &mut parts.headers, &bytes, slot),
                None => bytes,
            };
            Response::from_parts(parts, Body::from(body))
        }
        Err(err) => {
            tracing::warn!(error = %err, "page too large to cache");
            Response::from_parts(parts, Body::empty())
        }
    }
}
