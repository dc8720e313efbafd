//! The domain's write side: every change to content enters here, is validated and rendered
//! once, and is stored together with its content event in one transaction.

use anyhow::{Context, bail};

use crate::domain::markdown;
use crate::domain::{NewArticle, NewAuthor, NewPage, NewSection};
use crate::storage::{Db, articles, pages, people, taxonomy};

/// Length of the automatic excerpt, in characters.
const EXCERPT_CHARS: usize = 220;

/// Validates, renders and stores a new article with its authors, sections and tags.
pub async fn create_article(db: &Db, article: &NewArticle) -> anyhow::Result<i64> {
    if article.headline.trim().is_empty() {
        bail!("an article needs a headline");
    }
    if article.author_slugs.is_empty() {
        bail!("an article needs at least one author");
    }
    if article.status == crate::domain::ArticleStatus::Published && article.published_at.is_none() {
        bail!("a published article needs a publication time");
    }
    let rendered = markdown::render(&article.body_source)?;
    let excerpt = if article.excerpt.trim().is_empty() {
        markdown::excerpt(&rendered.text, EXCERPT_CHARS)
    } else {
        article.excerpt.trim().to_owned()
    };
    let mut tx = db.begin().await?;
    let id = articles::insert(&mut tx, article, &rendered, &excerpt)
        .await
        .with_context(|| format!("saving article {:?}", article.slug.as_str()))?;
    tx.commit().await?;
    Ok(id)
}

pub async fn ensure_author(db: &Db, author: &NewAuthor) -> anyhow::Result<i64> {
    let mut tx = db.begin().await?;
    let id = people::ensure(&mut tx, author).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn ensure_section(db: &Db, section: &NewSection) -> anyhow::Result<i64> {
    let mut tx = db.begin().await?;
    let id = taxonomy::ensure_section(&mut tx, section).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn ensure_page(db: &Db, page: &NewPage) -> anyhow::Result<i64> {
    let mut tx = db.begin().await?;
    let id = pages::ensure(&mut tx, page).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn set_setting(db: &Db, key: &str, value: &str) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    crate::storage::settings::set(&mut tx, key, value).await?;
    tx.commit().await
}
