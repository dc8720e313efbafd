//! `/search?q=`: the reader's search. An empty or unmatched query gets a helpful page.

use axum::extract::{Query, State};
use axum::response::Response;
use serde::Deserialize;

use super::PageQuery;
use crate::storage::articles;
use crate::web::error::{WebError, WebResult};
use crate::web::views::Pagination;
use crate::web::{AppState, html_page};

/// Queries longer than this are cut (nobody types more; it bounds the work).
const MAX_QUERY_CHARS: usize = 200;

#[derive(Debug, Deserialize)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    page: Option<String>,
}

pub async fn show(State(app): State<AppState>, Query(params): Query<SearchQuery>) -> WebResult<Response> {
    let page = PageQuery { page: params.page }.number()?;
    let query: String = params.q.split_whitespace().collect::<Vec<_>>().join(" ");
    let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
    let site = app.site.get();
    let views = app.views(&site);
    let per_page = site.settings.per_page;

    let (results, pagination, latest) = if query.is_empty() {
        let latest = articles::latest(&app.db, 6, 0).await?;
        (Vec::new(), None, views.cards(&latest, &[]))
    } else {
        let (rows, total) = articles::search_text(&app.db, &query, per_page, (page - 1) * per_page).await?;
        let extra = format!("q={}", urlencode(&query));
        let pagination = Pagination::new("/search", &extra, page, per_page, total);
        if page > pagination.pages {
            return Err(WebError::NotFound);
        }
        let bylines = articles::bylines(&app.db, &rows.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
        let latest =
            if total == 0 { views.cards(&articles::latest(&app.db, 6, 0).await?, &[]) } else { Vec::new() };
        (views.cards(&rows, &bylines), Some(pagination), latest)
    };
    let title = if query.is_empty() { "Search".to_owned() } else { format!("Search: {query}") };
    let body = app.theme.render(
        "search.html",
        crate::view! {
            site => views.site(),
            meta => views.meta(&title, "", "/search"),
            query => query,
            results => results,
            pagination => pagination,
            latest => latest,
        },
    )?;
    let mut response = html_page(body);
    // Result pages are not worth indexing.
    response.headers_mut().insert("x-robots-tag", axum::http::HeaderValue::from_static("noindex"));
    Ok(response)
}

fn urlencode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => out.push(b as char),
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}
