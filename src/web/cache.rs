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
}

pub struct PageCache {
    capacity: usize,
    entries: Mutex<HashMap<String, Entry>>,
}

impl PageCache {
    pub fn new(capacity: usize) -> Self {
        Self { capacity, entries: Mutex::new(HashMap::new()) }
    }

    fn get(&self, key: &str, event_id: i64) -> Option<Response> {
        let entries = self.entries.lock().ok()?;
        let entry = entries.get(key)?;
        if entry.event_id != event_id || entry.stored.elapsed() > MAX_AGE {
            return None;
        }
        let mut response = Response::new(Body::from(entry.body.clone()));
        *response.headers_mut() = entry.headers.clone();
        response.headers_mut().insert("x-cache", HeaderValue::from_static("hit"));
        Some(response)
    }

    fn put(&self, key: String, event_id: i64, headers: HeaderMap, body: Bytes) {
        let Ok(mut entries) = self.entries.lock() else { return };
        if entries.len() >= self.capacity {
            // Stale entries go first; if all are fresh, start over (cheap, and rare).
            entries.retain(|_, e| e.event_id == event_id && e.stored.elapsed() <= MAX_AGE);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, Entry { event_id, stored: Instant::now(), headers, body });
    }
}

/// Serves public pages from the cache, and fills it.
pub async fn serve_cached(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let Some(cache) = app.page_cache.clone() else {
        return next.run(request).await;
    };
    if request.method() != Method::GET {
        return next.run(request).await;
    }
    let key = request.uri().to_string();
    let event_id = app.site.get().event_id;
    if let Some(hit) = cache.get(&key, event_id) {
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
        return response;
    }
    let (parts, body) = response.into_parts();
    match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(bytes) => {
            cache.put(key, event_id, parts.headers.clone(), bytes.clone());
            Response::from_parts(parts, Body::from(bytes))
        }
        Err(err) => {
            tracing::warn!(error = %err, "page too large to cache");
            Response::from_parts(parts, Body::empty())
        }
    }
}
