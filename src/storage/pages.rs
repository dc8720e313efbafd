//! Static pages (About, Contact, Terms).

use crate::domain::NewPage;
use crate::domain::markdown;
use crate::storage::events::{self, EventKind};
use crate::storage::{Db, Tx, now};
use crate::{fetch_all, fetch_optional, tx_fetch};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PageRow {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub body_html: String,
    pub updated_at: i64,
}

pub async fn find_published(db: &Db, slug: &str) -> anyhow::Result<Option<PageRow>> {
    Ok(fetch_optional!(
        db,
        PageRow,
        "SELECT id, slug, title, body_html, updated_at FROM pages WHERE slug = $1 AND status = 'published'",
        slug
    )?)
}

/// Published pages for the footer, by title.
pub async fn list_published(db: &Db) -> anyhow::Result<Vec<(String, String)>> {
    Ok(fetch_all!(
        db,
        (String, String),
        "SELECT slug, title FROM pages WHERE status = 'published' ORDER BY title"
    )?)
}

/// Inserts the page unless one with the slug exists; returns its id either way.
pub async fn ensure(tx: &mut Tx, page: &NewPage) -> anyhow::Result<i64> {
    if let Some((id,)) =
        tx_fetch!(fetch_optional, tx, (i64,), "SELECT id FROM pages WHERE slug = $1", page.slug.as_str())?
    {
        return Ok(id);
    }
    let rendered = markdown::render(&page.body_source)?;
    let (id,) = tx_fetch!(
        fetch_one,
        tx,
        (i64,),
        "INSERT INTO pages (slug, title, body_source, body_html, status, updated_at) \
         VALUES ($1, $2, $3, $4, 'published', $5) RETURNING id",
        page.slug.as_str(),
        &page.title,
        &page.body_source,
        &rendered.html,
        now()
    )?;
    events::record(tx, EventKind::PageChanged, id).await?;
    Ok(id)
}
