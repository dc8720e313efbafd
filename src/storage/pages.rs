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

/// Published pages staff chose for the footer, by title.
pub async fn footer(db: &Db) -> anyhow::Result<Vec<(String, String)>> {
    Ok(fetch_all!(
        db,
        (String, String),
        "SELECT slug, title FROM pages WHERE status = 'published' AND in_footer = 1 ORDER BY title"
    )?)
}

/// How many pages the footer links (published or not).
pub async fn footer_count(db: &Db) -> anyhow::Result<i64> {
    Ok(crate::fetch_one!(db, (i64,), "SELECT COUNT(*) FROM pages WHERE in_footer = 1")?.0)
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
        "INSERT INTO pages (slug, title, body_source, body_html, status, updated_at, in_footer) \
         VALUES ($1, $2, $3, $4, 'published', $5, $6) RETURNING id",
        page.slug.as_str(),
        &page.title,
        &page.body_source,
        &rendered.html,
        now(),
        i64::from(page.in_footer)
    )?;
    events::record(tx, EventKind::PageChanged, id).await?;
    record_picture_uses(tx, id, &page.body_source).await?;
    Ok(id)
}

async fn record_picture_uses(tx: &mut Tx, id: i64, body: &str) -> anyhow::Result<()> {
    crate::storage::pictures::set_uses(tx, "page", id, &crate::media::markup::referenced_ids(body)).await
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct PageEditRow {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub body_source: String,
    pub status: String,
    pub updated_at: i64,
    pub in_footer: i64,
}

pub async fn all(db: &Db) -> anyhow::Result<Vec<PageEditRow>> {
    Ok(fetch_all!(
        db,
        PageEditRow,
        "SELECT id, slug, title, body_source, status, updated_at, in_footer FROM pages ORDER BY title"
    )?)
}

/// Creates (`id = None`) or updates a page; the caller checks that the slug is free.
pub async fn save(tx: &mut Tx, id: Option<i64>, page: &NewPage, published: bool) -> anyhow::Result<i64> {
    let rendered = markdown::render(&page.body_source)?;
    let status = if published { "published" } else { "draft" };
    let id = match id {
        Some(id) => {
            crate::tx_exec!(
                tx,
                "UPDATE pages SET slug = $1, title = $2, body_source = $3, body_html = $4, status = $5, updated_at = $6, \
                 in_footer = $7 WHERE id = $8",
                page.slug.as_str(),
                &page.title,
                &page.body_source,
                &rendered.html,
                status,
                now(),
                i64::from(page.in_footer),
                id
            )?;
            id
        }
        None => {
            tx_fetch!(
                fetch_one,
                tx,
                (i64,),
                "INSERT INTO pages (slug, title, body_source, body_html, status, updated_at, in_footer) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                page.slug.as_str(),
                &page.title,
                &page.body_source,
                &rendered.html,
                status,
                now(),
                i64::from(page.in_footer)
            )?
            .0
        }
    };
    events::record(tx, EventKind::PageChanged, id).await?;
    record_picture_uses(tx, id, &page.body_source).await?;
    Ok(id)
}

pub async fn slug_taken(tx: &mut Tx, slug: &str, except: i64) -> anyhow::Result<bool> {
    Ok(tx_fetch!(
        fetch_optional,
        tx,
        (i64,),
        "SELECT id FROM pages WHERE slug = $1 AND id <> $2",
        slug,
        except
    )?
    .is_some())
}

pub async fn delete(tx: &mut Tx, id: i64) -> anyhow::Result<()> {
    crate::tx_exec!(tx, "DELETE FROM pages WHERE id = $1", id)?;
    events::record(tx, EventKind::PageChanged, id).await
}

/// Replaces a page's body (rendered again), with its event.
pub async fn set_body(tx: &mut Tx, id: i64, body_source: &str) -> anyhow::Result<()> {
    let rendered = markdown::render(body_source)?;
    crate::tx_exec!(
        tx,
        "UPDATE pages SET body_source = $1, body_html = $2, updated_at = $3 WHERE id = $4",
        body_source,
        &rendered.html,
        now(),
        id
    )?;
    record_picture_uses(tx, id, body_source).await?;
    events::record(tx, EventKind::PageChanged, id).await
}
