//! The article page at its permalink.

use axum::extract::{Path, Query, State};
use axum::response::Response;

use super::comments::ArticleQuery;
use crate::config::PermalinkStyle;
use crate::related;
use crate::storage::articles::{self, ArticleRow};
use crate::web::error::{OrNotFound, WebError, WebResult};
use crate::web::{AppState, html_page};

/// `/YYYY/MM/DD/slug/`. A valid date that is not the article's answers with a redirect to
/// the canonical address; with slug permalinks the dated form redirects too.
pub async fn show(
    State(app): State<AppState>,
    Path((y, m, d, slug)): Path<(String, String, String, String)>,
    Query(query): Query<ArticleQuery>,
) -> WebResult<Response> {
    super::archive::parse_date(&y, &m, &d).ok_or(WebError::NotFound)?;
    let Some(article) = articles::find_published_by_slug(&app.db, &slug).await? else {
        return moved(&app, &slug).await;
    };
    let canonical = app.site.get().article_url(&article.slug, article.published_at);
    let requested = format!("/{y}/{m}/{d}/{slug}/");
    if canonical != requested {
        return Ok(crate::web::moved_permanently(&canonical));
    }
    render(&app, article, &query).await
}

/// An article found by slug alone (slug permalinks).
/// With date permalinks, `/slug/` redirects to the dated address (e.g. after the scheme changed).
pub async fn show_by_slug(app: &AppState, slug: &str, query: &ArticleQuery) -> WebResult<Option<Response>> {
    match articles::find_published_by_slug(&app.db, slug).await? {
        Some(article) if app.site.get().permalink == PermalinkStyle::Date => Ok(Some(
            crate::web::moved_permanently(&app.site.get().article_url(&article.slug, article.published_at)),
        )),
        Some(article) => render(app, article, query).await.map(Some),
        None => moved(app, slug).await.map(Some).or_else(|e| match e {
            WebError::NotFound => Ok(None),
            other => Err(other),
        }),
    }
}

/// An article's old slug: a 301 to where it lives now.
async fn moved(app: &AppState, old_slug: &str) -> WebResult<Response> {
    let (slug, published_at) = articles::find_moved(&app.db, old_slug).await.or_404()?;
    Ok(crate::web::moved_permanently(&app.site.get().article_url(&slug, published_at)))
}

/// `/preview/TOKEN`: an unpublished article through an unguessable, revocable link. Never
/// cached, never indexed.
pub async fn preview(State(app): State<AppState>, Path(token): Path<String>) -> WebResult<Response> {
    let hash = crate::accounts::token_hash(&token);
    let article = articles::find_by_preview(&app.db, &hash).await.or_404()?;
    let mut response = render(&app, article, &ArticleQuery::default()).await?;
    let headers = response.headers_mut();
    headers.insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    headers.insert("x-robots-tag", axum::http::HeaderValue::from_static("noindex"));
    Ok(response)
}

async fn render(app: &AppState, article: ArticleRow, query: &ArticleQuery) -> WebResult<Response> {
    let site = app.site.get();
    let views = app.views(&site);
    // Computed when content changes; until an article's list exists (the second after it is
    // published), the newest stories of its section stand in.
    let mut related = crate::storage::related::cards(&app.db, article.id).await?;
    if related.is_empty() {
        related = related::related_posts(&app.db, &article).await?;
    }
    let terms = articles::terms(&app.db, article.id).await?;
    let view = views.article(&article, &terms);
    let comments = super::comments::region(app, &views, &article, &view.url, query).await?;
    let description = if article.standfirst.is_empty() { &article.excerpt } else { &article.standfirst };
    let body = app.theme.render(
        "article.html",
        crate::view! {
            site => views.site(),
            meta => views
                .meta(&article.headline, description, &view.url)
                .with_type("article")
                .with_image(view.image.as_ref().map(|i| views.absolute(&i.share_url)))
                .with_jsonld(&views.article_jsonld(&view)),
            preview => article.status != "published",
            article => view,
            related => views.cards(&related, &[]),
            comments => comments,
        },
    )?;
    let mut response = html_page(body);
    // `?comment=…`: the page a commenter is sent to after posting, with its notice. One
    // reader's, so no cache keeps it.
    if query.comment.is_some() {
        response
            .headers_mut()
            .insert(axum::http::header::CACHE_CONTROL, axum::http::HeaderValue::from_static("no-store"));
    }
    Ok(response)
}
