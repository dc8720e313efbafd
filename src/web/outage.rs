//! When the database cannot be reached: readers get the last good copy of any page this node
//! has (marked `Gazette-Stale`), or at once a 503 with `Retry-After`; a form sent meanwhile
//! (an article, a comment) comes back on a page that holds everything typed, with a button
//! to send it again, also a 503. Nothing waits for the database longer than the pool's
//! acquire timeout, and while it is known to be down nothing waits at all; the database's
//! watcher ([`crate::storage::health`]) notices when it answers again.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{Html, IntoResponse, Response};

use super::AppState;
use super::error::ErrorPage;

/// Marks an error response caused by an unreachable database (set by `WebError`).
#[derive(Debug, Clone, Copy)]
pub struct DatabaseDown;

pub const MESSAGE: &str = "The newsroom's database cannot be reached just now. Please try again in a moment.";
/// Seconds a client is asked to wait.
const RETRY_AFTER: &str = "5";
/// Largest form kept to give back (bigger ones are uploads).
const MAX_KEPT: usize = 512 * 1024;

/// Paths that never need the database.
fn needs_no_database(path: &str) -> bool {
    path.starts_with("/static/")
        || path.starts_with("/media/")
        || path == "/favicon.ico"
        || path == "/robots.txt"
}

/// A form worth keeping: urlencoded, with a length small enough to hold (a larger one goes
/// to its handler untouched, whose own limit answers it).
fn is_form(request: &Request) -> bool {
    let headers = request.headers();
    request.method() == Method::POST
        && headers
            .get(header::CONTENT_TYPE)
            .is_some_and(|v| v.as_bytes().starts_with(b"application/x-www-form-urlencoded"))
        && headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok()?.parse::<usize>().ok())
            .is_some_and(|n| n <= MAX_KEPT)
}

/// The outermost guard of every route (inside the error-page renderer).
pub async fn guard(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let key = request.uri().path_and_query().map_or("/", |p| p.as_str()).to_owned();
    let path = request.uri().path().to_owned();
    let method = request.method().clone();
    // Only a GET may be answered with a stale page, from its request's headers.
    let headers = (method == Method::GET).then(|| request.headers().clone());
    let (request, kept) = if is_form(&request) {
        let (parts, body) = request.into_parts();
        match axum::body::to_bytes(body, MAX_KEPT).await {
            Ok(bytes) => (Request::from_parts(parts, Body::from(bytes.clone())), Some(bytes)),
            // The client stopped sending, or sent more than it said.
            Err(_) => return (StatusCode::BAD_REQUEST, "The form could not be read.").into_response(),
        }
    } else {
        (request, None)
    };
    if !app.db.is_down() || needs_no_database(&path) {
        let response = next.run(request).await;
        if response.extensions().get::<DatabaseDown>().is_none() {
            return response;
        }
        app.db.mark_down();
    }
    if let Some(headers) = &headers
        && let Some(page) = app.page_cache.as_ref().and_then(|c| c.get_stale(&key))
    {
        let mut response = page.respond(headers);
        let h = response.headers_mut();
        h.remove("x-cache");
        h.insert("gazette-stale", HeaderValue::from_static("database-unreachable"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=0, s-maxage=5"));
        return response;
    }
    match kept {
        Some(body) => kept_form(&app, &path, &body),
        None => unavailable(),
    }
}

/// A 503 the error-page renderer themes (it needs no database for it).
pub fn unavailable() -> Response {
    let mut response = (StatusCode::SERVICE_UNAVAILABLE, MESSAGE).into_response();
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER));
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
        .extensions_mut()
        .insert(ErrorPage { status: StatusCode::SERVICE_UNAVAILABLE, message: MESSAGE.into() });
    response
}

/// Fields that are not the writer's words (tokens, versions) are sent again but not shown.
fn shown(name: &str) -> bool {
    !(name.starts_with('_') || name.contains("token") || name.contains("version") || name.ends_with("_id"))
}

/// The form's fields, shown to copy and sent again by one button when the database is back.
fn kept_form(app: &AppState, path: &str, body: &Bytes) -> Response {
    let fields: Vec<(String, String)> = form_urlencoded_pairs(body);
    let site = app.site.get();
    let views = app.views(&site);
    let shown_fields: Vec<(String, String)> =
        fields.iter().filter(|(k, v)| shown(k) && !v.trim().is_empty()).cloned().collect();
    let page = app.theme.render(
        "kept.html",
        crate::view! {
            site => views.site(),
            meta => views.meta("Not saved yet", "", path).noindex(),
            message => MESSAGE,
            action => path,
            fields => fields,
            shown => shown_fields,
        },
    );
    match page {
        Ok(html) => {
            let mut response = (StatusCode::SERVICE_UNAVAILABLE, Html(html)).into_response();
            let h = response.headers_mut();
            h.insert(header::RETRY_AFTER, HeaderValue::from_static(RETRY_AFTER));
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            response
        }
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "rendering the kept form failed");
            unavailable()
        }
    }
}

/// `application/x-www-form-urlencoded` pairs, invalid UTF-8 replaced (this page only shows
/// them back).
fn form_urlencoded_pairs(body: &[u8]) -> Vec<(String, String)> {
    use super::cache::keys::percent_decoded;
    body.split(|b| *b == b'&')
        .filter(|p| !p.is_empty())
        .map(|pair| {
            let mut kv = pair.splitn(2, |b| *b == b'=');
            let key = percent_decoded(kv.next().unwrap_or_default(), true);
            (key, percent_decoded(kv.next().unwrap_or_default(), true))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn form_fields_are_decoded_to_give_back() {
        let pairs =
            form_urlencoded_pairs(b"headline=Bridge+reopens&body=50%25+done%0A%E2%9C%93&_csrf=x&bad=%zz");
        assert_eq!(pairs[0], ("headline".into(), "Bridge reopens".into()));
        assert_eq!(pairs[1], ("body".into(), "50% done\n\u{2713}".into()));
        assert_eq!(pairs[3], ("bad".into(), "%zz".into()));
        assert!(!shown("_csrf") && !shown("token") && !shown("base_version") && shown("headline"));
    }
}
