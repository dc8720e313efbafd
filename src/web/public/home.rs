//! The front page: lead story, top stories, latest, a block per main section; `?page=2` and on
//! list older stories.

use axum::extract::{Query, State};
use axum::response::Response;
use serde::Serialize;

use super::PageQuery;
use crate::storage::articles;
use crate::web::error::{WebError, WebResult};
use crate::web::views::{CardView, Link, Pagination, section_url};
use crate::web::{AppState, html_page};

/// Stories at the top of the front page: one lead, four top stories, eight more.
const TOP: i64 = 13;
/// Stories per section block.
const PER_SECTION: i64 = 4;

#[derive(Serialize)]
struct SectionBlock {
    section: Link,
    cards: Vec<CardView>,
}

/// WordPress's `?p=ID` on the front page.
#[derive(Debug, serde::Deserialize, Default)]
pub struct WordPressQuery {
    p: Option<String>,
}

/// The stories at the top: sticky ones first (newest first), then the latest. Costs a query
/// only when a sticky story is older than the latest few.
async fn front_page_top(app: &AppState, sticky: &[i64]) -> anyhow::Result<Vec<articles::CardRow>> {
    let mut latest = articles::latest(&app.db, TOP, 0).await?;
    if sticky.is_empty() {
        return Ok(latest);
    }
    let missing: Vec<i64> = sticky.iter().copied().filter(|id| !latest.iter().any(|c| c.id == *id)).collect();
    let mut pinned = crate::storage::related::cards_by_id(&app.db, &missing).await?;
    pinned.extend(latest.extract_if(.., |c| sticky.contains(&c.id)));
    pinned.sort_by_key(|c| sticky.iter().position(|id| *id == c.id));
    pinned.extend(latest);
    pinned.truncate(TOP as usize);
    Ok(pinned)
}

pub async fn show(
    State(app): State<AppState>,
    Query(q): Query<PageQuery>,
    Query(wp): Query<WordPressQuery>,
) -> WebResult<Response> {
    // `/?p=123`: a WordPress address of an imported article.
    if let Some(id) = wp.p.as_deref().filter(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit())) {
        return match crate::wordpress::redirect_for(&app.db, &format!("/?p={id}")).await? {
            Some((slug, published_at)) => {
                Ok(crate::web::moved_permanently(&app.site.get().article_url(&slug, published_at)))
            }
            None => Err(crate::web::error::WebError::NotFound),
        };
    }
    let page = q.number()?;
    if page > 1 {
        return older(&app, page).await;
    }
    let site = app.site.get();
    let views = app.views(&site);
    let top = front_page_top(&app, &site.sticky).await?;
    // Each section block skips the stories already shown at the top.
    let wanted: Vec<(i64, i64)> = site
        .main_sections()
        .map(|s| {
            let shown = top.iter().filter(|c| c.section_slug == s.slug).count() as i64;
            (s.id, PER_SECTION + shown)
        })
        .collect();
    let mut blocks = articles::latest_in_sections(&app.db, &wanted).await?;
    blocks.retain(|c| !top.iter().any(|t| t.id == c.id));
    let ids: Vec<i64> = top.iter().chain(&blocks).map(|c| c.id).collect();
    let bylines = articles::bylines(&app.db, &ids).await?;

    let mut top = views.cards(&top, &bylines).into_iter();
    let lead = top.next();
    let top_stories: Vec<CardView> = top.by_ref().take(4).collect();
    let latest: Vec<CardView> = top.collect();

    let block_cards = views.cards(&blocks, &bylines);
    let sections: Vec<SectionBlock> = site
        .main_sections()
        .filter_map(|s| {
            let url = section_url(&s.slug);
            let cards: Vec<CardView> = block_cards.iter().filter(|c| c.section.url == url).cloned().collect();
            (!cards.is_empty()).then(|| SectionBlock { section: Link { name: s.name.clone(), url }, cards })
        })
        .collect();

    let description = if site.settings.description.is_empty() {
        site.settings.tagline.clone()
    } else {
        site.settings.description.clone()
    };
    let body = app.theme.render(
        "home.html",
        crate::view! {
            site => views.site(),
            meta => views.meta(&site.settings.name, &description, "/"),
            lead => lead,
            top_stories => top_stories,
            latest => latest,
            sections => sections,
            more_url => "/?page=2",
        },
    )?;
    Ok(html_page(body))
}

async fn older(app: &AppState, page: i64) -> WebResult<Response> {
    let site = app.site.get();
    let views = app.views(&site);
    let per_page = site.settings.per_page;
    let total = articles::count_published(&app.db).await?;
    let pagination = Pagination::new("/", "", page, per_page, total);
    if page > pagination.pages {
        return Err(WebError::NotFound);
    }
    let rows = articles::latest(&app.db, per_page, (page - 1) * per_page).await?;
    let bylines = articles::bylines(&app.db, &rows.iter().map(|r| r.id).collect::<Vec<_>>()).await?;
    let body = app.theme.render(
        "archive.html",
        crate::view! {
            site => views.site(),
            meta => views.meta(&format!("Latest stories, page {page}"), "", &format!("/?page={page}")),
            kind => "latest",
            heading => "Latest stories",
            cards => views.cards(&rows, &bylines),
            pagination => pagination,
        },
    )?;
    Ok(html_page(body))
}
