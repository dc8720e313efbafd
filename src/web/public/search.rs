//! `/search?q=`: the reader's search, ranked by the node's index (`crate::search`): phrases in
//! quotes, prefixes with `*`, diacritics and word endings folded; filters for section and
//! dates; ordering by best match (relevance with a preference for recent stories), relevance
//! alone, or date; snippets with the matched words marked. An empty, unmatched or absurd query
//! gets a helpful page, never an error.

use axum::extract::{Query, State};
use axum::response::Response;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::PageQuery;
use crate::search::{self, Filter, Sort};
use crate::storage::{articles, related};
use crate::web::error::{WebError, WebResult};
use crate::web::views::{CardView, Pagination};
use crate::web::{AppState, html_page};

/// Queries longer than this are cut (nobody types more; it bounds the work).
const MAX_QUERY_CHARS: usize = 200;

#[derive(Debug, Deserialize, Default)]
pub struct SearchQuery {
    #[serde(default)]
    q: String,
    page: Option<String>,
    #[serde(default)]
    section: String,
    #[serde(default)]
    from: String,
    #[serde(default)]
    to: String,
    #[serde(default)]
    sort: String,
}

#[derive(Debug, Serialize)]
struct ResultView {
    #[serde(flatten)]
    card: CardView,
    /// Escaped text with `<mark>` around matched words.
    snippet: String,
}

fn parse_day(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").ok()
}

/// Results further down than this are not ranked (a reader pages no further; it bounds the
/// work of a deep page).
pub const DEEPEST: usize = 10_000;

/// The ids of the best `want` articles that match a parsed query, best first, and how many
/// match in all.
fn hits(
    app: &AppState,
    parsed: &search::Query,
    filter: &Filter,
    sort: Sort,
    want: usize,
) -> (usize, Vec<i64>) {
    let found = app.search.search(parsed, filter, sort, crate::storage::now(), want.min(DEEPEST));
    (found.total, found.hits.into_iter().map(|h| h.article_id).collect())
}

/// What the JSON API's search answers: the query as used (spaces folded, cut to its longest),
/// how many articles match and the ids of the best `want`, best first; before the index is
/// built (the first seconds after a first start), a plain scan of the text, newest first.
pub async fn ranked(
    app: &AppState,
    raw: &str,
    section_id: Option<i64>,
    want: usize,
) -> WebResult<(String, i64, Vec<i64>)> {
    let query: String = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
    let parsed = search::Query::parse(&query);
    if parsed.is_empty() {
        return Ok((query, 0, Vec::new()));
    }
    let filter = Filter { section_id, from: None, until: None };
    if app.search.is_ready() {
        let (total, ids) = hits(app, &parsed, &filter, Sort::Best, want);
        return Ok((query, total as i64, ids));
    }
    let (rows, total) = articles::search_text(&app.db, &query, want.min(200) as i64, 0).await?;
    let ids = rows.into_iter().map(|r| r.id).collect();
    Ok((query, total, ids))
}

pub async fn show(State(app): State<AppState>, Query(params): Query<SearchQuery>) -> WebResult<Response> {
    let page = PageQuery { page: params.page.clone() }.number()?;
    let query: String = params.q.split_whitespace().collect::<Vec<_>>().join(" ");
    let query: String = query.chars().take(MAX_QUERY_CHARS).collect();
    let site = app.site.get();
    let views = app.views(&site);
    let per_page = site.settings.per_page;
    let sort = Sort::parse(&params.sort);
    let section = site.section_by_slug(params.section.trim());
    let (from, to) = (parse_day(&params.from), parse_day(&params.to));
    let filter = Filter {
        section_id: section.map(|s| s.id),
        from: from.map(|d| site.day_range(d, d).0),
        until: to.and_then(|d| d.succ_opt()).map(|d| site.day_range(d, d).0),
    };
    let mut notes = Vec::new();
    if !params.section.trim().is_empty() && section.is_none() {
        notes.push(format!("There is no section {:?}; searching all sections.", params.section.trim()));
    }
    if (!params.from.trim().is_empty() && from.is_none()) || (!params.to.trim().is_empty() && to.is_none()) {
        notes.push("Dates are written like 2026-11-30; the one given was left out.".to_owned());
    }
    let parsed = search::Query::parse(&query);

    let mut results = Vec::new();
    let mut total = 0;
    if !parsed.is_empty() && app.search.is_ready() {
        let start = ((page - 1) * per_page) as usize;
        let (matched, hits) = hits(&app, &parsed, &filter, sort, start + per_page as usize);
        total = matched.min(DEEPEST) as i64;
        let ids: Vec<i64> = hits.iter().skip(start).take(per_page as usize).copied().collect();
        let rows = related::cards_by_id(&app.db, &ids).await?;
        let texts = related::texts(&app.db, &ids).await?;
        let bylines = articles::bylines(&app.db, &ids).await?;
        let cards = views.cards(&rows, &bylines);
        results = rows
            .iter()
            .zip(cards)
            .map(|(row, card)| {
                let text = texts.iter().find(|t| t.0 == row.id);
                let snippet = text.map_or_else(String::new, |(_, _, stand, body)| {
                    snippet(&format!("{stand} {body}"), &parsed.highlight, &parsed.prefixes, 240)
                });
                ResultView { card, snippet }
            })
            .collect();
    } else if !parsed.is_empty() {
        // The index is still being built (a first start, or one that found it damaged): a
        // plain scan, said so, and kept by no cache.
        notes.push("Search is warming up: these are the newest stories that hold your words; ranked results follow in a moment.".to_owned());
        let (rows, n) = articles::search_text(&app.db, &query, per_page, (page - 1) * per_page).await?;
        total = n;
        let bylines = articles::bylines(&app.db, &rows.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
        results = views
            .cards(&rows, &bylines)
            .into_iter()
            .map(|card| ResultView { snippet: String::new(), card })
            .collect();
    } else if !query.is_empty() {
        notes.push("Nothing to search for there: very common words and punctuation are left out; add a name, a place or a topic.".to_owned());
    }

    let mut extra = format!("q={}", urlencode(&query));
    for (key, value) in [
        ("section", section.map(|s| s.slug.as_str()).unwrap_or("")),
        ("from", params.from.trim()),
        ("to", params.to.trim()),
    ] {
        if !value.is_empty() {
            extra.push_str(&format!("&{key}={}", urlencode(value)));
        }
    }
    if sort != Sort::Best {
        extra.push_str(&format!("&sort={}", sort.as_str()));
    }
    let pagination = (!query.is_empty()).then(|| Pagination::new("/search", &extra, page, per_page, total));
    if pagination.as_ref().is_some_and(|p| page > p.pages) {
        return Err(WebError::NotFound);
    }
    let latest = if results.is_empty() {
        views.cards(&articles::latest(&app.db, 6, 0).await?, &[])
    } else {
        Vec::new()
    };
    let title = if query.is_empty() { "Search".to_owned() } else { format!("Search: {query}") };
    let sections: Vec<(String, String)> =
        site.main_sections().map(|s| (s.slug.clone(), s.name.clone())).collect();
    let body = app.theme.render(
        "search.html",
        crate::view! {
            site => views.site(),
            meta => views.meta(&title, "", "/search").noindex(),
            query => query,
            results => results,
            pagination => pagination,
            latest => latest,
            notes => notes,
            sections => sections,
            section => section.map(|s| s.slug.clone()).unwrap_or_default(),
            from => params.from.trim(),
            to => params.to.trim(),
            sort => sort.as_str(),
            sort_base => format!("/search?{}", extra.split("&sort=").next().unwrap_or("")),
        },
    )?;
    let mut response = html_page(body);
    // Result pages are not worth indexing.
    response.headers_mut().insert("x-robots-tag", axum::http::HeaderValue::from_static("noindex"));
    if !parsed.is_empty() && !app.search.is_ready() {
        response
            .headers_mut()
            .insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    }
    Ok(response)
}

/// The part of `text` (about `width` characters) with the most matched words, escaped, the
/// matches in `<mark>`.
pub fn snippet(text: &str, highlight: &[String], prefixes: &[String], width: usize) -> String {
    // The best window is looked for in the first 600 words: where news puts what matters.
    let words: Vec<(usize, &str)> = text.split_whitespace().take(600).enumerate().collect();
    if words.is_empty() {
        return String::new();
    }
    let is_match = |w: &str| {
        let core: String = w.chars().filter(|c| c.is_alphanumeric() || *c == '\'').collect();
        let folded = crate::search::text::fold(&core);
        if prefixes.iter().any(|p| folded.starts_with(p.as_str())) {
            return true;
        }
        // Stems start like their words (but for a last letter or two): stem only the likely ones.
        let likely = highlight.iter().any(|h| {
            let head: String = h.chars().take(3).collect();
            folded.starts_with(&head)
        });
        likely && crate::search::text::term_of_folded(&folded).is_some_and(|s| highlight.contains(&s))
    };
    let matches: Vec<bool> = words.iter().map(|(_, w)| is_match(w)).collect();
    // The window of ~width characters with the most matches.
    let per_window = (width / 6).max(8);
    let mut best = (0, 0);
    for start in 0..words.len() {
        let n = matches[start..(start + per_window).min(words.len())].iter().filter(|m| **m).count();
        if n > best.1 {
            best = (start, n);
        }
        if start > 4_000 {
            break;
        }
    }
    let start = best.0.saturating_sub(3);
    let end = (start + per_window).min(words.len());
    let mut out = String::new();
    if start > 0 {
        out.push_str("… ");
    }
    for (i, (_, w)) in words[start..end].iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        let mut escaped = String::new();
        crate::domain::comment::escape_into(&mut escaped, w);
        if matches[start + i] {
            out.push_str("<mark>");
            out.push_str(&escaped);
            out.push_str("</mark>");
        } else {
            out.push_str(&escaped);
        }
    }
    if end < words.len() {
        out.push_str(" …");
    }
    out
}

pub(crate) fn urlencode(s: &str) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn snippets_mark_matches_and_escape() {
        let hl = vec![crate::search::text::term("bridge").unwrap()];
        let s = snippet("The <b>swing</b> bridge closed; bridges matter.", &hl, &[], 240);
        assert_eq!(
            s,
            "The &lt;b&gt;swing&lt;/b&gt; <mark>bridge</mark> closed; <mark>bridges</mark> matter."
        );
    }
}
