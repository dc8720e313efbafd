//! HTTP: the public router (and, with later issues, admin and API routers), its middleware
//! and shared state. Reading `public_routes` tells what a reader can reach.

#[macro_use]
mod table;
pub mod admin;
pub mod api;
pub mod cache;
pub mod error;
pub mod front;
pub mod outage;
pub mod public;
pub mod serve;
pub mod views;

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::{Html, IntoResponse, Response};
use tower_http::CompressionLevel;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::timeout::TimeoutLayer;

use crate::site::{Site, SiteHandle};
use crate::storage::Db;
use crate::theme::Theme;
use error::ErrorPage;
use views::Views;

/// A template context from `key => value` pairs of any `Serialize` type, optionally merged
/// with further contexts: `view! { site => views.site(), cards => cards, ..extra }`.
#[macro_export]
macro_rules! view {
    ($($key:ident => $value:expr),* $(, .. $rest:expr)? $(,)?) => {
        minijinja::context! { $($key => minijinja::Value::from(minijinja::value::Serde(&$value))),* $(, .. $rest)? }
    };
}

/// Everything a handler may need. One `Arc`: every middleware and handler clones it per
/// request, so a clone is one atomic increment. Fields are reached through `Deref`.
#[derive(Clone)]
pub struct AppState(Arc<AppParts>);

impl AppState {
    pub fn new(parts: AppParts) -> Self {
        Self(Arc::new(parts))
    }

    /// The parts, to change before the state is shared (benchmarks swap in a prebuilt index).
    pub fn parts_mut(&mut self) -> Option<&mut AppParts> {
        Arc::get_mut(&mut self.0)
    }
}

impl std::ops::Deref for AppState {
    type Target = AppParts;

    fn deref(&self) -> &AppParts {
        &self.0
    }
}

/// The parts of [`AppState`].
pub struct AppParts {
    pub db: Db,
    pub theme: Arc<Theme>,
    pub site: SiteHandle,
    pub base_url: Option<Arc<str>>,
    /// Rendered public pages; `None` when disabled (`page_cache = 0`).
    pub page_cache: Option<Arc<cache::PageCache>>,
    /// Where uploads live (`DATA_DIR/media`).
    pub data_dir: Arc<std::path::PathBuf>,
    pub spam: Arc<crate::spam::SpamFilter>,
    /// Search and related posts (built at start, follows the event log).
    pub search: Arc<crate::search::Engine>,
    /// Proxies trusted to name the client in `X-Forwarded-For`.
    pub trusted_proxies: Arc<[std::net::IpAddr]>,
    /// `Cache-Control` of public pages (the config's `[http_cache]`).
    pub cache_policy: HeaderValue,
    /// Purges shared caches after content events (idle when none is configured).
    pub purger: Arc<cache::purge::Purger>,
    /// The picture library's store and processing worker.
    pub media: Arc<crate::media::jobs::Media>,
    /// `Access-Control-Allow-Origin` of the Content API (`[api] cors_origin`); None for none.
    pub api_cors: Option<HeaderValue>,
    /// Admin API requests per token per minute (`[api] rate_per_minute`).
    pub api_rate: u32,
    /// Rung after a change made through this node: webhook deliveries go out at once.
    pub webhooks_wake: tokio::sync::Notify,
    /// `[webhooks]` of the config.
    pub webhooks: crate::webhooks::WebhookConfig,
}

impl AppState {
    /// After a change made through this node: take it in now rather than at the follower's
    /// next tick (other nodes see it within a second).
    pub async fn content_changed(&self) {
        if let Err(err) = self.site.refresh(&self.db).await {
            tracing::warn!(error = %format!("{err:#}"), "could not refresh the site after a change");
        }
        self.purger.wake();
        self.webhooks_wake.notify_one();
    }

    /// The client's address: the peer, or, when the peer is a trusted proxy, the nearest
    /// untrusted address in `X-Forwarded-For`.
    pub fn client_addr(&self, peer: std::net::SocketAddr, headers: &axum::http::HeaderMap) -> String {
        let mut client = peer.ip();
        if self.trusted_proxies.is_empty() && headers.contains_key("x-forwarded-for") {
            warn_untrusted_proxy(client);
        }
        if self.trusted_proxies.contains(&client) {
            let hops = headers
                .get_all("x-forwarded-for")
                .iter()
                .filter_map(|v| v.to_str().ok())
                .flat_map(|v| v.split(','))
                .filter_map(|a| a.trim().parse::<std::net::IpAddr>().ok())
                .collect::<Vec<_>>();
            for hop in hops.into_iter().rev() {
                client = hop;
                if !self.trusted_proxies.contains(&hop) {
                    break;
                }
            }
        }
        client.to_string()
    }

    pub fn views<'a>(&'a self, site: &'a Site) -> Views<'a> {
        Views { site, base_url: self.base_url.as_deref() }
    }
}

/// Says once per node that requests come through a proxy the configuration does not name:
/// every reader then has the proxy's address, so per-address limits (sign-in, comments) count
/// them all as one.
fn warn_untrusted_proxy(peer: std::net::IpAddr) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    if !WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        tracing::warn!(
            proxy = %peer,
            "requests arrive through a proxy (X-Forwarded-For) but trusted_proxies is not set: every \
             reader has the proxy's address, so sign-in and comment limits count them as one; set \
             trusted_proxies = [\"{peer}\"] in the configuration file"
        );
    }
}

pub use front::Front;

/// The whole HTTP surface behind the page cache (see [`Front`], which answers its hits).
pub fn router(state: AppState) -> Router {
    public_routes()
        .merge(api::routes().layer(middleware::from_fn_with_state(state.clone(), api::cors_preflight)))
        .layer(middleware::from_fn_with_state(state.clone(), cache::serve_cached))
        .merge(reader_forms())
        .merge(admin::routes(state.clone()))
        .layer(middleware::from_fn_with_state(state.clone(), outage::guard))
        .layer(middleware::from_fn_with_state(state.clone(), render_error_pages))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(CONTENT_SECURITY_POLICY),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static(REFERRER_POLICY),
        ))
        .layer(middleware::from_fn_with_state(state.clone(), strict_transport))
        .layer(CompressionLayer::new().quality(CompressionLevel::Precise(4)))
        .layer(TimeoutLayer::with_status_code(
            axum::http::StatusCode::SERVICE_UNAVAILABLE,
            Duration::from_secs(30),
        ))
        .layer(middleware::from_fn(log_requests))
        .with_state(state)
}

/// `Strict-Transport-Security` for a site whose `base_url` is https: browsers then never ask
/// for it over plain http (a year, subdomains left to the operator).
pub const STRICT_TRANSPORT_SECURITY: &str = "max-age=31536000";

impl AppState {
    /// Whether the site's public address is https (and answers carry HSTS).
    pub fn is_https(&self) -> bool {
        self.base_url.as_deref().is_some_and(|u| u.starts_with("https://"))
    }
}

async fn strict_transport(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let mut response = next.run(request).await;
    if app.is_https() {
        response
            .headers_mut()
            .entry(header::STRICT_TRANSPORT_SECURITY)
            .or_insert(HeaderValue::from_static(STRICT_TRANSPORT_SECURITY));
    }
    response
}

/// What every response may load and run (set on each response, and stored with cached pages).
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; img-src 'self' https: data:; style-src 'self'; \
     script-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'self'";
pub const REFERRER_POLICY: &str = "strict-origin-when-cross-origin";

/// The headers every response carries, for responses that skip the layers setting them.
pub fn security_headers(headers: &mut axum::http::HeaderMap) {
    headers.insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    headers.insert(header::X_CONTENT_TYPE_OPTIONS, HeaderValue::from_static("nosniff"));
    headers.insert(header::REFERRER_POLICY, HeaderValue::from_static(REFERRER_POLICY));
}

/// What a reader can reach. Single-segment paths are years, static pages or (with slug
/// permalinks) articles; see `public::archive::one_segment`.
fn public_routes() -> Router<AppState> {
    public_table().fallback(public::not_found)
}

route_table!(PUBLIC_ROUTES, public_table;
    get "/" => public::home::show;
    get "/search" => public::search::show;
    get "/robots.txt" => public::assets::robots;
    get "/preview/{token}" => public::article::preview;
    get "/sitemap.xml" => public::sitemaps::index;
    get "/sitemap-news.xml" => public::sitemaps::news;
    get "/sitemaps/{file}" => public::sitemaps::part;
    get "/feed.xml" => public::feeds::site_rss;
    get "/atom.xml" => public::feeds::site_atom;
    get "/feed.json" => public::feeds::site_json;
    get "/{kind}/{slug}/{file}" => public::feeds::scoped;
    get "/favicon.ico" => public::assets::favicon;
    get "/static/{file}" => public::assets::show;
    get "/media/{file}" => public::assets::media;
    get "/media/{id}/{version}/{name}" => public::assets::picture_file;
    get "/section/{slug}/" => public::archive::section;
    get "/tag/{slug}/" => public::archive::tag;
    get "/author/{slug}/" => public::archive::author;
    get "/{a}/" => public::archive::one_segment;
    get "/{a}/{b}/" => public::archive::month;
    get "/{a}/{b}/{c}/" => public::archive::day;
    get "/{y}/{m}/{d}/{slug}/" => public::article::show;
);

/// Forms readers post. Not cached; bodies are small.
fn reader_forms() -> Router<AppState> {
    reader_table()
}

route_table!(READER_FORM_ROUTES, reader_table;
    post "/comments" => public::comments::post, limit public::comments::MAX_FORM_BYTES;
    get "/comments/token" => public::comments::token;
);

/// An HTML page that caches and proxies may keep briefly.
pub fn html_page(body: String) -> Response {
    ([(header::CACHE_CONTROL, HeaderValue::from_static("public, max-age=60"))], Html(body)).into_response()
}

/// Whether a redirect target stays on this site: a path that starts with one `/` (not `//`
/// or `/\`, which browsers read as another host), without control characters.
pub fn is_local_path(target: &str) -> bool {
    target.starts_with('/')
        && !target[1..].starts_with(['/', '\\'])
        && !target.bytes().any(|b| b.is_ascii_control())
}

/// A 301 to the canonical address of what was asked for; a 404 for anything that would lead
/// off the site.
pub fn moved_permanently(location: &str) -> Response {
    if !is_local_path(location) {
        return error::WebError::NotFound.into_response();
    }
    match HeaderValue::from_str(location) {
        Ok(value) => (axum::http::StatusCode::MOVED_PERMANENTLY, [(header::LOCATION, value)]).into_response(),
        Err(_) => error::WebError::NotFound.into_response(),
    }
}

/// One structured log line per request that the page cache did not answer: at `debug` (an
/// access log is the front proxy's or CDN's job, and a line per request costs as much as
/// serving a cached page), at `warn` for server errors and answers slower than a second.
async fn log_requests(request: Request, next: Next) -> Response {
    let started = Instant::now();
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let micros = started.elapsed().as_micros() as u64;
    let status = response.status().as_u16();
    if status >= 500 || micros > 1_000_000 {
        tracing::warn!(target: "gazette::http", %method, path, status, micros, "request");
    } else {
        tracing::debug!(target: "gazette::http", %method, path, status, micros, "request");
    }
    response
}

/// Replaces the body of error responses with the theme's error page.
async fn render_error_pages(State(app): State<AppState>, request: Request, next: Next) -> Response {
    let wanted = request.uri().path_and_query().map(|p| p.as_str().to_owned()).unwrap_or_default();
    let response = next.run(request).await;
    let Some(error) = response.extensions().get::<ErrorPage>().cloned() else {
        return response;
    };
    // An address the site had before it moved here (a WordPress import): a 301 to where the
    // article lives now.
    if error.status == axum::http::StatusCode::NOT_FOUND
        && let Ok(Some((slug, published_at))) = crate::wordpress::redirect_for(&app.db, &wanted).await
    {
        return moved_permanently(&app.site.get().article_url(&slug, published_at));
    }
    match public::error_page(&app, &error).await {
        Ok(body) => {
            let mut page = (error.status, Html(body)).into_response();
            page.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
            if let Some(retry) = response.headers().get(header::RETRY_AFTER) {
                page.headers_mut().insert(header::RETRY_AFTER, retry.clone());
            }
            page
        }
        Err(err) => {
            tracing::error!(error = %format!("{err:#}"), "rendering the error page failed");
            response
        }
    }
}
