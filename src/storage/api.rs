//! The reads behind the JSON Content API (`web::api`): published articles by filters with
//! keyset pagination, and what each article carries (bylines, sections, tags, related ids),
//! each in one statement for a whole page of articles.

use crate::storage::{Db, placeholders, read_all_with_ids};

/// A published article as the API gives it (with its terms and related ids added by the
/// caller from [`terms_of`] and [`related_of`]).
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct ApiArticleRow {
    pub id: i64,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub excerpt: String,
    pub body_html: String,
    pub body_text: String,
    pub word_count: i64,
    pub published_at: i64,
    pub updated_at: i64,
    pub featured_image_url: Option<String>,
    pub featured_image_alt: Option<String>,
    pub featured_image_caption: Option<String>,
    pub featured_image_credit: Option<String>,
    pub comment_status: String,
    pub comment_count: i64,
    pub correction: String,
    pub corrected_at: Option<i64>,
}

const COLUMNS: &str = "SELECT a.id, a.slug, a.headline, a.standfirst, a.excerpt, a.body_html, a.body_text, \
     a.word_count, a.published_at, a.updated_at, a.featured_image_url, a.featured_image_alt, \
     a.featured_image_caption, a.featured_image_credit, a.comment_status, a.comment_count, a.correction, \
     a.corrected_at FROM articles a";

/// Which published articles a list holds; every bound is a Unix time.
#[derive(Debug, Clone, Default)]
pub struct ArticleFilter {
    pub section_id: Option<i64>,
    pub tag_id: Option<i64>,
    pub author_id: Option<i64>,
    /// Published at or after.
    pub since: Option<i64>,
    /// Published before.
    pub until: Option<i64>,
    /// Changed (edited, corrected) at or after.
    pub updated_since: Option<i64>,
    /// Keyset cursor: articles after this one in the order (newest first).
    pub after: Option<(i64, i64)>,
}

/// Published articles, newest first (`published_at`, then id), at most `limit`.
pub async fn articles(db: &Db, filter: &ArticleFilter, limit: i64) -> anyhow::Result<Vec<ApiArticleRow>> {
    let mut sql = format!("{COLUMNS} WHERE a.status = 'published' AND a.published_at IS NOT NULL");
    let mut binds: Vec<i64> = Vec::new();
    let bind = |value: i64, binds: &mut Vec<i64>| {
        binds.push(value);
        format!("${}", binds.len())
    };
    for (links, column, id) in [
        ("article_sections", "section_id", filter.section_id),
        ("article_tags", "tag_id", filter.tag_id),
        ("article_authors", "author_id", filter.author_id),
    ] {
        if let Some(id) = id {
            let p = bind(id, &mut binds);
            sql.push_str(&format!(
                " AND EXISTS (SELECT 1 FROM {links} l WHERE l.article_id = a.id AND l.{column} = {p})"
            ));
        }
    }
    if let Some(t) = filter.since {
        sql.push_str(&format!(" AND a.published_at >= {}", bind(t, &mut binds)));
    }
    if let Some(t) = filter.until {
        sql.push_str(&format!(" AND a.published_at < {}", bind(t, &mut binds)));
    }
    if let Some(t) = filter.updated_since {
        sql.push_str(&format!(" AND a.updated_at >= {}", bind(t, &mut binds)));
    }
    if let Some((published, id)) = filter.after {
        let (p, i) = (bind(published, &mut binds), bind(id, &mut binds));
        sql.push_str(&format!(" AND (a.published_at < {p} OR (a.published_at = {p} AND a.id < {i}))"));
    }
    sql.push_str(&format!(" ORDER BY a.published_at DESC, a.id DESC LIMIT {}", bind(limit, &mut binds)));
    read_all_with_ids(db, sql, &binds).await
}

/// One published article by id.
pub async fn article(db: &Db, id: i64) -> anyhow::Result<Option<ApiArticleRow>> {
    let sql = format!("{COLUMNS} WHERE a.id = $1 AND a.status = 'published' AND a.published_at IS NOT NULL");
    Ok(read_all_with_ids(db, sql, &[id]).await?.into_iter().next())
}

/// Whether article `id` is published (without reading it).
pub async fn is_published(db: &Db, id: i64) -> anyhow::Result<bool> {
    let sql = "SELECT a.id FROM articles a WHERE a.id = $1 AND a.status = 'published' AND a.published_at IS NOT NULL";
    let rows: Vec<(i64,)> = read_all_with_ids(db, sql.to_owned(), &[id]).await?;
    Ok(!rows.is_empty())
}

/// Published articles by id, in the order given (those not published are left out).
pub async fn articles_by_ids(db: &Db, ids: &[i64]) -> anyhow::Result<Vec<ApiArticleRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "{COLUMNS} WHERE a.id IN ({}) AND a.status = 'published' AND a.published_at IS NOT NULL",
        placeholders(0, ids.len())
    );
    let mut rows: Vec<ApiArticleRow> = read_all_with_ids(db, sql, ids).await?;
    rows.sort_by_key(|r| ids.iter().position(|id| *id == r.id));
    Ok(rows)
}

/// One published article by slug (what a path names).
pub async fn article_by_slug(db: &Db, slug: &str) -> anyhow::Result<Option<ApiArticleRow>> {
    Ok(crate::read_optional!(
        db,
        ApiArticleRow,
        "SELECT a.id, a.slug, a.headline, a.standfirst, a.excerpt, a.body_html, a.body_text, \
         a.word_count, a.published_at, a.updated_at, a.featured_image_url, a.featured_image_alt, \
         a.featured_image_caption, a.featured_image_credit, a.comment_status, a.comment_count, a.correction, \
         a.corrected_at FROM articles a WHERE a.slug = $1 AND a.status = 'published' AND a.published_at IS NOT NULL",
        slug
    )?)
}

/// An author, section or tag of an article, with its id and place (primary section first).
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct ArticleTermRow {
    pub article_id: i64,
    /// `author`, `section` or `tag`.
    pub kind: String,
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub position: i64,
}

/// The bylines, sections and tags of several articles, in one statement, in order.
pub async fn terms_of(db: &Db, ids: &[i64]) -> anyhow::Result<Vec<ArticleTermRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let list = placeholders(0, ids.len());
    let sql = format!(
        "SELECT x.article_id, 'author' AS kind, p.id, p.slug, p.name, x.position FROM article_authors x \
           JOIN authors p ON p.id = x.author_id WHERE x.article_id IN ({list}) \
         UNION ALL SELECT x.article_id, 'section' AS kind, s.id, s.slug, s.name, x.position FROM article_sections x \
           JOIN sections s ON s.id = x.section_id WHERE x.article_id IN ({list}) \
         UNION ALL SELECT x.article_id, 'tag' AS kind, t.id, t.slug, t.name, x.position FROM article_tags x \
           JOIN tags t ON t.id = x.tag_id WHERE x.article_id IN ({list}) \
         ORDER BY 1, 2, 6"
    );
    let binds: Vec<i64> = ids.iter().chain(ids).chain(ids).copied().collect();
    read_all_with_ids(db, sql, &binds).await
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct RelatedRow {
    pub article_id: i64,
    pub related_id: i64,
}

/// The stored related lists of several articles (published articles only), in order.
pub async fn related_of(db: &Db, ids: &[i64]) -> anyhow::Result<Vec<RelatedRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT r.article_id, r.related_id FROM related_articles r JOIN articles a ON a.id = r.related_id \
         WHERE r.article_id IN ({}) AND a.status = 'published' ORDER BY r.article_id, r.position",
        placeholders(0, ids.len())
    );
    read_all_with_ids(db, sql, ids).await
}

/// A section, tag or author with how many published articles it lists.
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct TermCount {
    pub id: i64,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub parent_id: Option<i64>,
    pub photo_url: Option<String>,
    pub articles: i64,
}

/// Every section (menu order), tag (by name) or author (by name), with published counts.
pub async fn terms(db: &Db, kind: &str) -> anyhow::Result<Vec<TermCount>> {
    let sql = match kind {
        "section" => {
            "SELECT s.id, s.slug, s.name, s.description, s.parent_id, NULL AS photo_url, \
             (SELECT COUNT(*) FROM article_sections x WHERE x.section_id = s.id AND x.listed_at IS NOT NULL) AS articles \
             FROM sections s ORDER BY s.position, s.name"
        }
        "tag" => {
            "SELECT t.id, t.slug, t.name, '' AS description, NULL AS parent_id, NULL AS photo_url, \
             (SELECT COUNT(*) FROM article_tags x WHERE x.tag_id = t.id AND x.listed_at IS NOT NULL) AS articles \
             FROM tags t ORDER BY LOWER(t.name), t.id"
        }
        _ => {
            "SELECT p.id, p.slug, p.name, p.bio AS description, NULL AS parent_id, p.photo_url, \
             (SELECT COUNT(*) FROM article_authors x WHERE x.author_id = p.id AND x.listed_at IS NOT NULL) AS articles \
             FROM authors p ORDER BY LOWER(p.name), p.id"
        }
    };
    read_all_with_ids(db, sql.to_owned(), &[]).await
}

/// A published static page.
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct PageRow {
    pub id: i64,
    pub slug: String,
    pub title: String,
    pub body_html: String,
    pub updated_at: i64,
}

/// Every published static page, by title.
pub async fn pages(db: &Db) -> anyhow::Result<Vec<PageRow>> {
    read_all_with_ids(
        db,
        "SELECT id, slug, title, body_html, updated_at FROM pages WHERE status = 'published' ORDER BY title, id"
            .to_owned(),
        &[],
    )
    .await
}
