//! The page cache: rendered public pages kept in memory and dropped as soon as the content
//! event log moves (on this node or any other), or after a minute at most (pages show today's
//! date). It only stores successful HTML responses to plain GET requests.

use std::collections::HashMap;
use std::sync::Mutex;
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
    stored: Instant,
    headers: HeaderMap,
    body: Bytes,
    /// Where the page's comment form token goes.
    form: Option<FormSlot>,
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
/// browser only.
fn stamp(app: &AppState, headers: &mut HeaderMap, body: &Bytes, slot: FormSlot) -> Bytes {
    let site = app.site.get();
    let token = crate::comments::issue_token(&site.secret, slot.article_id, crate::storage::now());
    let mut out = Vec::with_capacity(body.len() + token.len());
    out.extend_from_slice(&body[..slot.start]);
    out.extend_from_slice(token.as_bytes());
    out.extend_from_slice(&body[slot.end..]);
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, max-age=60"));
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

    fn get(&self, app: &AppState, key: &str, event_id: i64) -> Option<Response> {
        let (mut headers, body, form) = {
            let entries = self.entries.lock().ok()?;
            let entry = entries.get(key)?;
            if entry.event_id != event_id || entry.stored.elapsed() > MAX_AGE {
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

    fn put(&self, key: String, event_id: i64, headers: HeaderMap, body: Bytes, form: Option<FormSlot>) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if entries.len() >= self.capacity {
            // Stale entries go first; if all are fresh, start over (cheap, and rare).
            entries.retain(|_, e| e.event_id == event_id && e.stored.elapsed() <= MAX_AGE);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, Entry { event_id, stored: Instant::now(), headers, body, form });
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
    let event_id = app.site.get().event_id;
    if let Some(hit) = cache.get(&app, &key, event_id) {
        return hit;
    }
    let response = next.run(request).await;
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
            cache.put(key, event_id, parts.headers.clone(), bytes.clone(), form);
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
