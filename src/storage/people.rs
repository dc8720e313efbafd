//! Authors (bylines).

use crate::domain::NewAuthor;
use crate::storage::events::{self, EventKind};
use crate::storage::{Db, Tx, now};
use crate::{fetch_optional, tx_fetch};

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthorRow {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub bio: String,
    pub photo_url: Option<String>,
}

pub async fn find_by_slug(db: &Db, slug: &str) -> anyhow::Result<Option<AuthorRow>> {
    Ok(fetch_optional!(
        db,
        AuthorRow,
        "SELECT id, slug, name, bio, photo_url FROM authors WHERE slug = $1",
        slug
    )?)
}

/// Inserts the author unless one with the slug exists; returns its id either way.
pub async fn ensure(tx: &mut Tx, author: &NewAuthor) -> anyhow::Result<i64> {
    if let Some((id,)) =
        tx_fetch!(fetch_optional, tx, (i64,), "SELECT id FROM authors WHERE slug = $1", author.slug.as_str())?
    {
        return Ok(id);
    }
    let (id,) = tx_fetch!(
        fetch_one,
        tx,
        (i64,),
        "INSERT INTO authors (slug, name, bio, photo_url, created_at) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        author.slug.as_str(),
        &author.name,
        &author.bio,
        author.photo_url.as_deref(),
        now()
    )?;
    events::record(tx, EventKind::AuthorChanged, id).await?;
    Ok(id)
}

/// Every author, by name (for the editor's byline choices).
pub async fn all(db: &Db) -> anyhow::Result<Vec<AuthorRow>> {
    Ok(crate::fetch_all!(db, AuthorRow, "SELECT id, slug, name, bio, photo_url FROM authors ORDER BY name")?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct AuthorCount {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub bio: String,
    pub photo_url: Option<String>,
    pub articles: i64,
}

pub async fn with_counts(db: &Db) -> anyhow::Result<Vec<AuthorCount>> {
    Ok(crate::fetch_all!(
        db,
        AuthorCount,
        "SELECT au.id, au.slug, au.name, au.bio, au.photo_url, \
         (SELECT COUNT(*) FROM article_authors x WHERE x.author_id = au.id) AS articles \
         FROM authors au ORDER BY au.name"
    )?)
}

pub async fn update(tx: &mut Tx, id: i64, author: &NewAuthor) -> anyhow::Result<()> {
    crate::tx_exec!(
        tx,
        "UPDATE authors SET slug = $1, name = $2, bio = $3, photo_url = $4 WHERE id = $5",
        author.slug.as_str(),
        &author.name,
        &author.bio,
        author.photo_url.as_deref(),
        id
    )?;
    events::record(tx, EventKind::AuthorChanged, id).await
}

pub async fn slug_taken(tx: &mut Tx, slug: &str, except: i64) -> anyhow::Result<bool> {
    Ok(tx_fetch!(
        fetch_optional,
        tx,
        (i64,),
        "SELECT id FROM authors WHERE slug = $1 AND id <> $2",
        slug,
        except
    )?
    .is_some())
}

/// Deletes an author. Their articles get `replacement` in the byline instead (where that
/// author is not already there); users linked to the profile keep their accounts.
pub async fn delete(tx: &mut Tx, id: i64, replacement: Option<i64>) -> anyhow::Result<()> {
    if let Some(to) = replacement {
        crate::tx_exec!(
            tx,
            "INSERT INTO article_authors (article_id, author_id, position) \
             SELECT article_id, $1, position FROM article_authors WHERE author_id = $2 ON CONFLICT DO NOTHING",
            to,
            id
        )?;
    }
    crate::tx_exec!(tx, "DELETE FROM article_authors WHERE author_id = $1", id)?;
    crate::tx_exec!(tx, "UPDATE users SET author_id = NULL WHERE author_id = $1", id)?;
    crate::tx_exec!(tx, "DELETE FROM authors WHERE id = $1", id)?;
    events::record(tx, EventKind::AuthorChanged, id).await
}
