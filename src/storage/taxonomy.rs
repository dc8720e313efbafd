//! Sections (categories, with an optional parent) and tags.

use crate::domain::{NewSection, Slug};
use crate::storage::events::{self, EventKind};
use crate::storage::{Db, Tx};
use crate::{fetch_all, fetch_optional, tx_fetch};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SectionRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub parent_id: Option<i64>,
    pub position: i64,
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TagRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
}

/// Every section, in menu order.
pub async fn sections(db: &Db) -> anyhow::Result<Vec<SectionRow>> {
    Ok(fetch_all!(
        db,
        SectionRow,
        "SELECT id, slug, name, description, parent_id, position FROM sections ORDER BY position, name"
    )?)
}

pub async fn find_tag(db: &Db, slug: &str) -> anyhow::Result<Option<TagRow>> {
    Ok(fetch_optional!(db, TagRow, "SELECT id, slug, name FROM tags WHERE slug = $1", slug)?)
}

/// Inserts the section unless one with the slug exists; returns its id either way.
pub async fn ensure_section(tx: &mut Tx, section: &NewSection) -> anyhow::Result<i64> {
    if let Some((id,)) = tx_fetch!(
        fetch_optional,
        tx,
        (i64,),
        "SELECT id FROM sections WHERE slug = $1",
        section.slug.as_str()
    )? {
        return Ok(id);
    }
    let parent_id = match &section.parent {
        Some(parent) => Some(section_id(tx, parent).await?),
        None => None,
    };
    let (id,) = tx_fetch!(
        fetch_one,
        tx,
        (i64,),
        "INSERT INTO sections (slug, name, description, parent_id, position) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        section.slug.as_str(),
        &section.name,
        &section.description,
        parent_id,
        section.position
    )?;
    events::record(tx, EventKind::SectionChanged, id).await?;
    Ok(id)
}

pub async fn section_id(tx: &mut Tx, slug: &Slug) -> anyhow::Result<i64> {
    let row =
        tx_fetch!(fetch_optional, tx, (i64,), "SELECT id FROM sections WHERE slug = $1", slug.as_str())?;
    row.map(|(id,)| id).ok_or_else(|| anyhow::anyhow!("there is no section {slug:?}"))
}

/// Finds or creates the tag with this name (by its slug).
pub async fn ensure_tag(tx: &mut Tx, name: &str) -> anyhow::Result<i64> {
    let slug = Slug::from_title(name);
    if let Some((id,)) =
        tx_fetch!(fetch_optional, tx, (i64,), "SELECT id FROM tags WHERE slug = $1", slug.as_str())?
    {
        return Ok(id);
    }
    let (id,) = tx_fetch!(
        fetch_one,
        tx,
        (i64,),
        "INSERT INTO tags (slug, name) VALUES ($1, $2) RETURNING id",
        slug.as_str(),
        name.trim()
    )?;
    events::record(tx, EventKind::TagChanged, id).await?;
    Ok(id)
}
