//! The JSON API under `/api/`: one route table ([`routes`]) from which both the router and the
//! OpenAPI 3.1 description (`/api/openapi.json`, read as a page at `/api/docs`) are made, so
//! the description cannot drift from what is served.
//!
//! The Content API (`content`) is public and read-only: its answers are public pages to every
//! cache (the page cache, Varnish, a CDN), with an `ETag`, `Cache-Control` and surrogate keys,
//! purged by the same content events as the pages that show the same articles. Errors are
//! RFC 9457 problem documents ([`Problem`]), never HTML.

pub mod admin;
pub mod auth;
pub mod content;
pub mod reference;

use std::sync::LazyLock;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::OpenApi;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::AppState;

/// An error as an RFC 9457 problem document (`application/problem+json`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Problem {
    /// A URI naming the kind of problem (`about:blank` when the status says it all).
    #[serde(rename = "type")]
    pub kind: String,
    /// A short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, and what to do about it.
    pub detail: String,
    /// On a 409 for a change based on an older version: the article's current version.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub current_version: Option<i64>,
}

impl Problem {
    pub fn new(status: StatusCode, detail: impl Into<String>) -> Self {
        Self {
            kind: "about:blank".to_owned(),
            title: status.canonical_reason().unwrap_or("Error").to_owned(),
            status: status.as_u16(),
            detail: detail.into(),
            current_version: None,
        }
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(StatusCode::NOT_FOUND, format!("There is no {what}."))
    }

    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, detail)
    }
}

impl IntoResponse for Problem {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let body = serde_json::to_vec(&self).unwrap_or_default();
        let mut response = (status, body).into_response();
        let h = response.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        response
    }
}

/// A failure inside a handler: the database (503 while it cannot be reached, with
/// `Retry-After`), or anything else (500, logged once here).
impl From<anyhow::Error> for Problem {
    fn from(err: anyhow::Error) -> Self {
        if crate::storage::health::is_unavailable(&err) {
            tracing::warn!(error = %format!("{err:#}"), "the database cannot be reached");
            return Self::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "The database cannot be reached just now; try again in a few seconds.",
            );
        }
        tracing::error!(error = %format!("{err:#}"), "internal error in the API");
        Self::new(StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side.")
    }
}

pub type ApiResult<T> = Result<T, Problem>;

/// A public JSON answer: kept by every cache until a content event changes it.
pub fn public_json<T: Serialize>(app: &AppState, value: &T) -> ApiResult<Response> {
    let body = serde_json::to_vec(value).map_err(|e| Problem::from(anyhow::Error::new(e)))?;
    let mut response = (StatusCode::OK, body).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, app.cache_policy.clone());
    if let Some(origin) = &app.api_cors {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
        h.insert(header::ACCESS_CONTROL_EXPOSE_HEADERS, HeaderValue::from_static("ETag"));
    }
    Ok(response)
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Gazette API",
        description = "Published articles, sections, tags, authors, pages, search and approved \
            comments of a Gazette site, as JSON. Public and read-only: answers carry an `ETag` \
            (send `If-None-Match` for a `304`) and may be kept by any cache. Errors are RFC 9457 \
            problem documents. See docs/API.md for examples.",
        license(name = "AGPL-3.0-or-later"),
    ),
    tags(
        (name = "content", description = "The published site, read-only, no token"),
        (name = "admin", description = "What staff do, with a token (`Authorization: Bearer gz_...`) \
            made in the admin under API tokens; each action needs a scope of the token and a role \
            of its owner that allow it")
    ),
    components(schemas(Problem)),
    modifiers(&TokenScheme)
)]
struct ApiDoc;

/// The `token` security scheme: HTTP bearer.
struct TokenScheme;

impl utoipa::Modify for TokenScheme {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "token",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token from the admin (API tokens): gz_ and 64 hex digits"))
                    .build(),
            ),
        );
    }
}

/// The route table: every handler once, with its OpenAPI description.
fn table() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(content::articles))
        .routes(routes!(content::article))
        .routes(routes!(content::article_by_path))
        .routes(routes!(content::comments))
        .routes(routes!(content::sections))
        .routes(routes!(content::tags))
        .routes(routes!(content::authors))
        .routes(routes!(content::pages))
        .routes(routes!(content::search))
        .routes(routes!(admin::list, admin::create))
        .routes(routes!(admin::get, admin::update))
        .routes(routes!(admin::publish))
        .routes(routes!(admin::unpublish))
        .routes(routes!(admin::comments))
        .routes(routes!(admin::moderate))
        // Request bodies: JSON up to 2 MB (an article's Markdown may be 1 MB); pictures up to
        // the library's limit, on their own route.
        .layer(axum::extract::DefaultBodyLimit::max(admin::MAX_JSON_BYTES))
        .merge(
            OpenApiRouter::new()
                .routes(routes!(admin::add_media))
                .layer(axum::extract::DefaultBodyLimit::max(crate::media::library::MAX_BYTES + 1)),
        )
}

/// The OpenAPI description, made once from the route table.
pub static OPENAPI: LazyLock<utoipa::openapi::OpenApi> = LazyLock::new(|| table().split_for_parts().1);

/// The API's routes (public ones: under the page cache like pages).
pub fn routes() -> axum::Router<AppState> {
    let (router, _) = table().split_for_parts();
    router
        .route("/api/openapi.json", axum::routing::get(reference::openapi_json))
        .route("/api/docs", axum::routing::get(reference::page))
        .route("/api/{*rest}", axum::routing::any(not_found))
}

/// Any other address under `/api/`.
pub async fn not_found() -> Response {
    Problem::new(StatusCode::NOT_FOUND, "There is no such API address; see /api/docs.").into_response()
}

/// Cross-origin use of the Content API from browsers: preflight requests are answered here;
/// the answers themselves carry `Access-Control-Allow-Origin` (stored with them, so that cached
/// copies have it too). The origin is the config's `[api] cors_origin` (`*` by default).
pub async fn cors_preflight(State(app): State<AppState>, request: Request, next: Next) -> Response {
    if request.method() != Method::OPTIONS {
        return next.run(request).await;
    }
    let Some(origin) = &app.api_cors else {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    };
    let mut response = StatusCode::NO_CONTENT.into_response();
    let h = response.headers_mut();
    h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    h.insert(header::ACCESS_CONTROL_ALLOW_METHODS, HeaderValue::from_static("GET, HEAD, OPTIONS"));
    h.insert(header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("If-None-Match"));
    h.insert(header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("86400"));
    response
}
