//! Static files of the theme, `robots.txt` and the favicon.

use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use crate::theme::Asset;
use crate::web::AppState;
use crate::web::error::WebError;

/// `/static/NAME.HASH.EXT`: the URL changes with the content, so it is cached for a year.
pub async fn show(State(app): State<AppState>, Path(file): Path<String>, request: HeaderMap) -> Response {
    match app.theme.asset_by_url(&format!("/static/{file}")) {
        Some(asset) => serve(asset, "public, max-age=31536000, immutable", &request),
        None => WebError::NotFound.into_response(),
    }
}

pub async fn favicon(State(app): State<AppState>, request: HeaderMap) -> Response {
    match app.theme.asset_by_name("favicon.ico") {
        Some(asset) => serve(asset, "public, max-age=86400", &request),
        None => WebError::NotFound.into_response(),
    }
}

pub async fn robots(State(app): State<AppState>, headers: axum::http::HeaderMap) -> Response {
    let origin = super::feeds::origin(&app, &headers);
    let body = format!(
        "User-agent: *\nAllow: /\nDisallow: /search\nDisallow: /admin\nDisallow: /preview/\n\n\
         Sitemap: {origin}/sitemap.xml\nSitemap: {origin}/sitemap-news.xml\n"
    );
    super::text(body, "text/plain; charset=utf-8", 3600)
}

/// A theme file, compressed at start, with its validator.
fn serve(asset: &Asset, cache: &'static str, request: &HeaderMap) -> Response {
    let mut response = asset.page.respond(request);
    response.headers_mut().remove("x-cache");
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static(cache));
    response
}

/// `/media/HASH.EXT`: an uploaded file. The name is its content hash, so it never changes.
/// `/media/ID`: a library picture's address as stored in articles and exports; a reader (or a
/// feed reader, or another site) following it is sent to its largest plain variant.
pub async fn media(State(app): State<AppState>, Path(file): Path<String>) -> Response {
    if let Some(id) = crate::media::markup::picture_id(&format!("/media/{file}")) {
        let site = app.site.get();
        return match site.pictures.get(&id) {
            Some(p) => {
                let url = p.plain_url(u32::MAX);
                (
                    StatusCode::FOUND,
                    [
                        (
                            header::LOCATION,
                            HeaderValue::from_str(&url).unwrap_or(HeaderValue::from_static("/")),
                        ),
                        (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=300")),
                    ],
                )
                    .into_response()
            }
            None => WebError::NotFound.into_response(),
        };
    }
    if !crate::media::is_stored_name(&file) {
        return WebError::NotFound.into_response();
    }
    let path = crate::media::dir(&app.data_dir).join(&file);
    match tokio::fs::read(&path).await {
        Ok(bytes) => {
            let content_type = crate::media::sniff(&bytes).map_or("application/octet-stream", |(_, t)| t);
            (
                [
                    (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                    (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
                ],
                bytes,
            )
                .into_response()
        }
        Err(_) => WebError::NotFound.into_response(),
    }
}

/// `/media/ID/VERSION/NAME`: one variant of a library picture. Its address changes with every
/// new version, so it is kept for a year by browsers and shared caches. A variant not made yet
/// (the picture was uploaded seconds ago) answers 503 with `Retry-After`, never cached.
pub async fn picture_file(
    State(app): State<AppState>,
    Path((id, version, name)): Path<(i64, i64, String)>,
) -> Response {
    let Some(content_type) = variant_type(&name) else {
        return WebError::NotFound.into_response();
    };
    let current = app.site.get().pictures.get(&id).map(|p| p.version);
    let key = crate::media::store::variant_key(id, version, &name);
    match app.media.store.get(&key).await {
        Ok(Some(bytes)) => (
            [
                (header::CONTENT_TYPE, HeaderValue::from_static(content_type)),
                (header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=31536000, immutable")),
                (
                    header::HeaderName::from_static("x-content-type-options"),
                    HeaderValue::from_static("nosniff"),
                ),
            ],
            bytes,
        )
            .into_response(),
        Ok(None) if current == Some(version) || being_made(&app, id, version).await => (
            StatusCode::SERVICE_UNAVAILABLE,
            [
                (header::RETRY_AFTER, HeaderValue::from_static("2")),
                (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
            ],
            "This picture is still being processed.",
        )
            .into_response(),
        Ok(None) => WebError::NotFound.into_response(),
        Err(err) => {
            tracing::warn!(error = %format!("{err:#}"), key, "could not read a picture from the media store");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                [
                    (header::RETRY_AFTER, HeaderValue::from_static("5")),
                    (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
                ],
                "The picture store is not answering.",
            )
                .into_response()
        }
    }
}

/// Whether picture `id` at `version` is still being processed (for a picture this node's
/// snapshot has not seen yet: uploaded on another node a moment ago).
async fn being_made(app: &AppState, id: i64, version: i64) -> bool {
    matches!(
        crate::storage::pictures::get(&app.db, id).await,
        Ok(Some(p)) if p.version == version && p.state == "processing"
    )
}

/// The type of a variant's file name (`640.avif`, `16x9.jpg`); `None` for any other name.
fn variant_type(name: &str) -> Option<&'static str> {
    let (stem, ext) = name.split_once('.')?;
    let stem_ok = !stem.is_empty()
        && stem.len() <= 6
        && stem.bytes().all(|b| b.is_ascii_digit() || b == b'x')
        && stem.bytes().next().is_some_and(|b| b.is_ascii_digit());
    if !stem_ok {
        return None;
    }
    match ext {
        "avif" => Some("image/avif"),
        "webp" => Some("image/webp"),
        "jpg" => Some("image/jpeg"),
        "png" => Some("image/png"),
        _ => None,
    }
}
