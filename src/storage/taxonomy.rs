//! Sections (categories, with an optional parent) and tags.

use crate::domain::{NewSection, Slug};
use crate::storage::events::{self, EventKind};
use crate::storage::{Db, Tx};
use crate::{fetch_all, fetch_optional, tx_exec, tx_fetch};

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

/// Sections with how many articles are filed in each (as primary or further section).
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct SectionCount {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub parent_id: Option<i64>,
    pub position: i64,
    pub articles: i64,
}

pub async fn sections_with_counts(db: &Db) -> anyhow::Result<Vec<SectionCount>> {
    Ok(fetch_all!(
        db,
        SectionCount,
        "SELECT s.id, s.slug, s.name, s.description, s.parent_id, s.position, \
         (SELECT COUNT(*) FROM article_sections x WHERE x.section_id = s.id) AS articles \
         FROM sections s ORDER BY s.position, s.name"
    )?)
}

pub async fn update_section(
    tx: &mut Tx,
    id: i64,
    slug: &Slug,
    name: &str,
    description: &str,
    parent_id: Option<i64>,
    position: i64,
) -> anyhow::Result<()> {
    tx_exec!(
        tx,
        "UPDATE sections SET slug = $1, name = $2, description = $3, parent_id = $4, position = $5 WHERE id = $6",
        slug.as_str(),
        name,
        description,
        parent_id,
        position,
        id
    )?;
    events::record(tx, EventKind::SectionChanged, id).await
}

/// Deletes a section, first moving its articles to `target` (as primary section, and as a
/// further section where the article was filed there). Returns how many articles moved.
pub async fn delete_section(tx: &mut Tx, id: i64, target: i64) -> anyhow::Result<u64> {
    let moved = tx_exec!(
        tx,
        "UPDATE articles SET primary_section_id = $1 WHERE primary_section_id = $2",
        target,
        id
    )?;
    tx_exec!(
        tx,
        "INSERT INTO article_sections (article_id, section_id, position) \
         SELECT article_id, $1, position FROM article_sections WHERE section_id = $2 ON CONFLICT DO NOTHING",
        target,
        id
    )?;
    tx_exec!(tx, "DELETE FROM article_sections WHERE section_id = $1", id)?;
    tx_exec!(tx, "UPDATE sections SET parent_id = NULL WHERE parent_id = $1", id)?;
    tx_exec!(tx, "DELETE FROM sections WHERE id = $1", id)?;
    events::record(tx, EventKind::SectionChanged, id).await?;
    Ok(moved)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TagCount {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub articles: i64,
}

pub async fn tags_with_counts(db: &Db) -> anyhow::Result<Vec<TagCount>> {
    Ok(fetch_all!(
        db,
        TagCount,
        "SELECT t.id, t.slug, t.name, (SELECT COUNT(*) FROM article_tags x WHERE x.tag_id = t.id) AS articles \
         FROM tags t ORDER BY LOWER(t.name)"
    )?)
}

pub async fn rename_tag(tx: &mut Tx, id: i64, name: &str, slug: &Slug) -> anyhow::Result<()> {
    tx_exec!(tx, "UPDATE tags SET name = $1, slug = $2 WHERE id = $3", name, slug.as_str(), id)?;
    events::record(tx, EventKind::TagChanged, id).await
}

/// Moves every article of tag `from` to tag `into`, then deletes `from`.
pub async fn merge_tags(tx: &mut Tx, from: i64, into: i64) -> anyhow::Result<u64> {
    let moved = tx_exec!(
        tx,
        "INSERT INTO article_tags (article_id, tag_id, position) \
         SELECT article_id, $1, position FROM article_tags WHERE tag_id = $2 ON CONFLICT DO NOTHING",
        into,
        from
    )?;
    tx_exec!(tx, "DELETE FROM article_tags WHERE tag_id = $1", from)?;
    tx_exec!(tx, "DELETE FROM tags WHERE id = $1", from)?;
    events::record(tx, EventKind::TagChanged, into).await?;
    Ok(moved)
}

/// Deletes a tag; its articles simply lose it. Returns how many articles had it.
pub async fn delete_tag(tx: &mut Tx, id: i64) -> anyhow::Result<u64> {
    let n = tx_exec!(tx, "DELETE FROM article_tags WHERE tag_id = $1", id)?;
    tx_exec!(tx, "DELETE FROM tags WHERE id = $1", id)?;
    events::record(tx, EventKind::TagChanged, id).await?;
    Ok(n)
}
