//! Articles: the write path (insert with authors, sections and tags) and the read queries
//! behind every public page. Each read is one statement whatever the number of authors,
//! sections or tags involved.

use crate::domain::markdown::Rendered;
use crate::domain::{ArticleStatus, NewArticle};
use crate::storage::events::{self, EventKind};
use crate::storage::{Db, Tx, now, placeholders, read_all_with_ids, taxonomy};
use crate::{read_all, read_one, read_optional, tx_exec, tx_fetch};

/// A whole article, as the article page needs it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct ArticleRow {
    pub id: i64,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub body_html: String,
    pub excerpt: String,
    pub word_count: i64,
    pub status: String,
    pub primary_section_id: i64,
    pub featured_image_url: Option<String>,
    pub featured_image_alt: Option<String>,
    pub featured_image_caption: Option<String>,
    pub featured_image_credit: Option<String>,
    pub comment_status: String,
    pub published_at: i64,
    pub updated_at: i64,
    pub correction: String,
    pub corrected_at: Option<i64>,
    /// Approved comments.
    pub comment_count: i64,
}

/// What a list of stories shows of each: a card.
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct CardRow {
    pub id: i64,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub excerpt: String,
    pub published_at: i64,
    pub featured_image_url: Option<String>,
    pub featured_image_alt: Option<String>,
    pub section_slug: String,
    pub section_name: String,
    pub comment_count: i64,
}

/// A byline entry of one article.
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct BylineRow {
    pub article_id: i64,
    pub slug: String,
    pub name: String,
}

/// An author (`kind = 'author'`), section (`'section'`) or tag (`'tag'`) of one article.
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct TermRow {
    pub kind: String,
    pub slug: String,
    pub name: String,
}

/// Card columns; every list query starts with this.
macro_rules! card_columns {
    () => {
        "SELECT a.id, a.slug, a.headline, a.standfirst, a.excerpt, \
         COALESCE(a.published_at, a.created_at) AS published_at, \
         a.featured_image_url, a.featured_image_alt, \
         s.slug AS section_slug, s.name AS section_name, a.comment_count "
    };
}

macro_rules! cards {
    ($rest:literal) => {
        concat!(card_columns!(), "FROM articles a JOIN sections s ON s.id = a.primary_section_id ", $rest)
    };
}

/// The published articles linked to one section, tag or author (`$1`), newest first: one range
/// of the link table `l`'s listing index (migration 0010), however large the archive.
macro_rules! listed {
    ($key:literal) => {
        concat!(
            " WHERE l.",
            $key,
            " = $1 AND l.listed_at IS NOT NULL ORDER BY l.listed_at DESC, l.article_id DESC "
        )
    };
}

/// Cards of a section's, tag's or author's articles (see `listed!`), `LIMIT $2 OFFSET $3`.
macro_rules! listing {
    ($links:literal, $key:literal) => {
        concat!(
            card_columns!(),
            "FROM ",
            $links,
            " l JOIN articles a ON a.id = l.article_id JOIN sections s ON s.id = a.primary_section_id",
            listed!($key),
            "LIMIT $2 OFFSET $3"
        )
    };
}

/// How many published articles are linked to one section, tag or author (`$1`).
macro_rules! listing_count {
    ($links:literal, $key:literal) => {
        concat!("SELECT COUNT(*) FROM ", $links, " WHERE ", $key, " = $1 AND listed_at IS NOT NULL")
    };
}

// ---------------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------------

pub async fn find_published_by_slug(db: &Db, slug: &str) -> anyhow::Result<Option<ArticleRow>> {
    Ok(read_optional!(
        db,
        ArticleRow,
        "SELECT id, slug, headline, standfirst, body_html, excerpt, word_count, status, \
         primary_section_id, featured_image_url, featured_image_alt, featured_image_caption, \
         featured_image_credit, comment_status, published_at, updated_at, correction, corrected_at, comment_count \
         FROM articles WHERE slug = $1 AND status = 'published' AND published_at IS NOT NULL",
        slug
    )?)
}

/// An article in any state but trashed, by preview token hash.
pub async fn find_by_preview(db: &Db, token_hash: &str) -> anyhow::Result<Option<ArticleRow>> {
    Ok(read_optional!(
        db,
        ArticleRow,
        "SELECT a.id, a.slug, a.headline, a.standfirst, a.body_html, a.excerpt, a.word_count, a.status, \
         a.primary_section_id, a.featured_image_url, a.featured_image_alt, a.featured_image_caption, \
         a.featured_image_credit, a.comment_status, COALESCE(a.published_at, a.updated_at) AS published_at, \
         a.updated_at, a.correction, a.corrected_at, a.comment_count \
         FROM preview_links p JOIN articles a ON a.id = p.article_id \
         WHERE p.token_hash = $1 AND a.status <> 'trashed'",
        token_hash
    )?)
}

pub async fn add_preview_link(
    tx: &mut Tx,
    article_id: i64,
    token_hash: &str,
    user_id: i64,
) -> anyhow::Result<()> {
    tx_exec!(
        tx,
        "INSERT INTO preview_links (token_hash, article_id, created_by, created_at) VALUES ($1, $2, $3, $4)",
        token_hash,
        article_id,
        user_id,
        now()
    )?;
    Ok(())
}

pub async fn revoke_preview_links(tx: &mut Tx, article_id: i64) -> anyhow::Result<u64> {
    Ok(tx_exec!(tx, "DELETE FROM preview_links WHERE article_id = $1", article_id)?)
}

pub async fn preview_link_count(db: &Db, article_id: i64) -> anyhow::Result<i64> {
    Ok(read_one!(db, (i64,), "SELECT COUNT(*) FROM preview_links WHERE article_id = $1", article_id)?.0)
}

/// Bylines of several articles in one query, in byline order.
pub async fn bylines(db: &Db, article_ids: &[i64]) -> anyhow::Result<Vec<BylineRow>> {
    if article_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT aa.article_id, au.slug, au.name FROM article_authors aa \
         JOIN authors au ON au.id = aa.author_id \
         WHERE aa.article_id IN ({}) ORDER BY aa.article_id, aa.position",
        placeholders(0, article_ids.len())
    );
    read_all_with_ids(db, sql, article_ids).await
}

/// Authors (in byline order), sections (primary first) and tags of one article, in one query.
pub async fn terms(db: &Db, article_id: i64) -> anyhow::Result<Vec<TermRow>> {
    Ok(read_all!(
        db,
        TermRow,
        "SELECT 'author' AS kind, au.slug, au.name, x.position FROM article_authors x \
         JOIN authors au ON au.id = x.author_id WHERE x.article_id = $1 \
         UNION ALL \
         SELECT 'section' AS kind, s.slug, s.name, x.position FROM article_sections x \
         JOIN sections s ON s.id = x.section_id WHERE x.article_id = $1 \
         UNION ALL \
         SELECT 'tag' AS kind, t.slug, t.name, x.position FROM article_tags x \
         JOIN tags t ON t.id = x.tag_id WHERE x.article_id = $1 \
         ORDER BY 1, 4",
        article_id
    )?)
}

pub async fn latest(db: &Db, limit: i64, offset: i64) -> anyhow::Result<Vec<CardRow>> {
    Ok(read_all!(
        db,
        CardRow,
        cards!("WHERE a.status = 'published' ORDER BY a.published_at DESC, a.id DESC LIMIT $1 OFFSET $2"),
        limit,
        offset
    )?)
}

/// Published sticky articles, newest first (the front page puts them on top).
pub async fn sticky_ids(db: &Db) -> anyhow::Result<Vec<i64>> {
    let rows: Vec<(i64,)> = read_all!(
        db,
        (i64,),
        "SELECT id FROM articles WHERE sticky = 1 AND status = 'published' ORDER BY published_at DESC, id DESC LIMIT 20"
    )?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

pub async fn count_published(db: &Db) -> anyhow::Result<i64> {
    let (n,) = read_one!(db, (i64,), "SELECT COUNT(*) FROM articles WHERE status = 'published'")?;
    Ok(n)
}

/// The newest stories of each given primary section, `(section_id, limit)` pairs, in one
/// statement: a `UNION ALL` of per-section branches, each served by the
/// `articles_section_published` index (a window over all articles is far slower).
pub async fn latest_in_sections(db: &Db, wanted: &[(i64, i64)]) -> anyhow::Result<Vec<CardRow>> {
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let branch = |i: usize| {
        format!(
            "SELECT * FROM (SELECT a.id, a.slug, a.headline, a.standfirst, a.excerpt, a.published_at, \
               a.featured_image_url, a.featured_image_alt, s.slug AS section_slug, s.name AS section_name, \
               a.comment_count \
             FROM articles a JOIN sections s ON s.id = a.primary_section_id \
             WHERE a.primary_section_id = ${} AND a.status = 'published' \
             ORDER BY a.published_at DESC, a.id DESC LIMIT ${}) b{i}",
            2 * i + 1,
            2 * i + 2
        )
    };
    let sql = (0..wanted.len()).map(branch).collect::<Vec<_>>().join(" UNION ALL ");
    let binds: Vec<i64> = wanted.iter().flat_map(|(section, limit)| [*section, *limit]).collect();
    read_all_with_ids(db, sql, &binds).await
}

/// Stories filed in a section (as primary or further section).
pub async fn in_section(db: &Db, section_id: i64, limit: i64, offset: i64) -> anyhow::Result<Vec<CardRow>> {
    Ok(read_all!(db, CardRow, listing!("article_sections", "section_id"), section_id, limit, offset)?)
}

pub async fn count_in_section(db: &Db, section_id: i64) -> anyhow::Result<i64> {
    let (n,) = read_one!(db, (i64,), listing_count!("article_sections", "section_id"), section_id)?;
    Ok(n)
}

pub async fn with_tag(db: &Db, tag_id: i64, limit: i64, offset: i64) -> anyhow::Result<Vec<CardRow>> {
    Ok(read_all!(db, CardRow, listing!("article_tags", "tag_id"), tag_id, limit, offset)?)
}

pub async fn count_with_tag(db: &Db, tag_id: i64) -> anyhow::Result<i64> {
    let (n,) = read_one!(db, (i64,), listing_count!("article_tags", "tag_id"), tag_id)?;
    Ok(n)
}

pub async fn by_author(db: &Db, author_id: i64, limit: i64, offset: i64) -> anyhow::Result<Vec<CardRow>> {
    Ok(read_all!(db, CardRow, listing!("article_authors", "author_id"), author_id, limit, offset)?)
}

pub async fn count_by_author(db: &Db, author_id: i64) -> anyhow::Result<i64> {
    let (n,) = read_one!(db, (i64,), listing_count!("article_authors", "author_id"), author_id)?;
    Ok(n)
}

/// Stories published in `[from, to)` (Unix seconds), newest first.
pub async fn published_between(
    db: &Db,
    from: i64,
    to: i64,
    limit: i64,
    offset: i64,
) -> anyhow::Result<Vec<CardRow>> {
    Ok(read_all!(
        db,
        CardRow,
        cards!(
            "WHERE a.status = 'published' AND a.published_at >= $1 AND a.published_at < $2 \
             ORDER BY a.published_at DESC, a.id DESC LIMIT $3 OFFSET $4"
        ),
        from,
        to,
        limit,
        offset
    )?)
}

pub async fn count_published_between(db: &Db, from: i64, to: i64) -> anyhow::Result<i64> {
    let (n,) = read_one!(
        db,
        (i64,),
        "SELECT COUNT(*) FROM articles WHERE status = 'published' AND published_at >= $1 AND published_at < $2",
        from,
        to
    )?;
    Ok(n)
}

/// The newest stories of a section other than `exclude`.
pub async fn recent_in_section(
    db: &Db,
    section_id: i64,
    exclude: i64,
    limit: i64,
) -> anyhow::Result<Vec<CardRow>> {
    Ok(read_all!(
        db,
        CardRow,
        cards!(
            "WHERE a.status = 'published' AND a.primary_section_id = $1 AND a.id <> $2 \
             ORDER BY a.published_at DESC, a.id DESC LIMIT $3"
        ),
        section_id,
        exclude,
        limit
    )?)
}

/// The newest stories sharing any section with `article_id`, other than it: the newest of each
/// of its sections (one listing range each), merged.
pub async fn recent_sharing_sections(db: &Db, article_id: i64, limit: i64) -> anyhow::Result<Vec<CardRow>> {
    let sections: Vec<(i64,)> =
        read_all!(db, (i64,), "SELECT section_id FROM article_sections WHERE article_id = $1", article_id)?;
    let mut out: Vec<CardRow> = Vec::new();
    for (section_id,) in sections {
        for card in in_section(db, section_id, limit + 1, 0).await? {
            if card.id != article_id && !out.iter().any(|c| c.id == card.id) {
                out.push(card);
            }
        }
    }
    out.sort_by(|a, b| b.published_at.cmp(&a.published_at).then(b.id.cmp(&a.id)));
    out.truncate(usize::try_from(limit).unwrap_or(0));
    Ok(out)
}

/// Plain substring search over headline, standfirst and text; headline matches first, then
/// newest. The search issue replaces this with a ranked full-text index.
pub async fn search_text(
    db: &Db,
    query: &str,
    limit: i64,
    offset: i64,
) -> anyhow::Result<(Vec<CardRow>, i64)> {
    let pattern = format!("%{}%", query.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let rows = read_all!(
        db,
        CardRow,
        cards!(
            "WHERE a.status = 'published' AND (LOWER(a.headline) LIKE LOWER($1) ESCAPE '\\' \
               OR LOWER(a.standfirst) LIKE LOWER($1) ESCAPE '\\' OR LOWER(a.body_text) LIKE LOWER($1) ESCAPE '\\') \
             ORDER BY CASE WHEN LOWER(a.headline) LIKE LOWER($1) ESCAPE '\\' THEN 0 ELSE 1 END, \
               a.published_at DESC, a.id DESC LIMIT $2 OFFSET $3"
        ),
        &pattern,
        limit,
        offset
    )?;
    let (total,) = read_one!(
        db,
        (i64,),
        "SELECT COUNT(*) FROM articles a WHERE a.status = 'published' AND (LOWER(a.headline) LIKE LOWER($1) ESCAPE '\\' \
           OR LOWER(a.standfirst) LIKE LOWER($1) ESCAPE '\\' OR LOWER(a.body_text) LIKE LOWER($1) ESCAPE '\\')",
        &pattern
    )?;
    Ok((rows, total))
}

pub async fn id_by_external(db: &Db, external_id: &str) -> anyhow::Result<Option<i64>> {
    Ok(read_optional!(db, (i64,), "SELECT id FROM articles WHERE external_id = $1", external_id)?
        .map(|(id,)| id))
}

pub async fn exists_external(db: &Db, external_id: &str) -> anyhow::Result<bool> {
    Ok(read_optional!(db, (i64,), "SELECT id FROM articles WHERE external_id = $1", external_id)?.is_some())
}

// ---------------------------------------------------------------------------------------------
// Writes
// ---------------------------------------------------------------------------------------------

/// Inserts an article with its links and records `article.published` when it is published.
/// The caller renders the body and owns the transaction.
pub async fn insert(
    tx: &mut Tx,
    article: &NewArticle,
    rendered: &Rendered,
    excerpt: &str,
) -> anyhow::Result<i64> {
    let primary =
        article.section_slugs.first().ok_or_else(|| anyhow::anyhow!("an article needs a primary section"))?;
    let primary_id = taxonomy::section_id(tx, primary).await?;
    let created = now();
    let image = article.featured_image.as_ref();
    let (id,) = tx_fetch!(
        fetch_one,
        tx,
        (i64,),
        "INSERT INTO articles (external_id, slug, headline, standfirst, body_source, body_html, \
            body_text, excerpt, word_count, status, primary_section_id, featured_image_url, \
            featured_image_alt, featured_image_caption, featured_image_credit, comment_status, \
            published_at, created_at, updated_at, sticky) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $18, $19) \
         RETURNING id",
        article.external_id.as_deref(),
        article.slug.as_str(),
        &article.headline,
        &article.standfirst,
        &article.body_source,
        &rendered.html,
        &rendered.text,
        excerpt,
        rendered.word_count,
        article.status.as_str(),
        primary_id,
        image.map(|i| i.url.as_str()),
        image.map(|i| i.alt.as_str()),
        image.map(|i| i.caption.as_str()),
        image.map(|i| i.credit.as_str()),
        article.comment_status.as_str(),
        article.published_at,
        article.published_at.unwrap_or(created).min(created),
        i64::from(article.sticky)
    )?;

    set_links(tx, id, primary_id, article).await?;
    if article.status == ArticleStatus::Published {
        events::record(tx, EventKind::ArticlePublished, id).await?;
    }
    record_picture_uses(tx, id).await?;
    Ok(id)
}

/// Records which library pictures the article shows (lead picture and body), after any change
/// to either: a picture in use cannot be deleted, and a change to one reaches these pages.
pub async fn record_picture_uses(tx: &mut Tx, id: i64) -> anyhow::Result<()> {
    let Some((image, body)) = tx_fetch!(
        fetch_optional,
        tx,
        (Option<String>, String),
        "SELECT featured_image_url, body_source FROM articles WHERE id = $1",
        id
    )?
    else {
        return Ok(());
    };
    let mut ids = crate::media::markup::referenced_ids(image.as_deref().unwrap_or_default());
    ids.extend(crate::media::markup::referenced_ids(&body));
    crate::storage::pictures::set_uses(tx, "article", id, &ids).await
}

/// Replaces the authors, sections (first is primary) and tags of an article.
/// `primary_id` is the id of the first of `article.section_slugs`, already stored on the row.
async fn set_links(tx: &mut Tx, id: i64, primary_id: i64, article: &NewArticle) -> anyhow::Result<()> {
    let further = article.section_slugs.get(1..).unwrap_or_default();
    tx_exec!(tx, "DELETE FROM article_sections WHERE article_id = $1", id)?;
    tx_exec!(tx, "DELETE FROM article_authors WHERE article_id = $1", id)?;
    tx_exec!(tx, "DELETE FROM article_tags WHERE article_id = $1", id)?;
    tx_exec!(
        tx,
        "INSERT INTO article_sections (article_id, section_id, position) VALUES ($1, $2, 0)",
        id,
        primary_id
    )?;
    for (position, slug) in further.iter().enumerate() {
        let section_id = taxonomy::section_id(tx, slug).await?;
        tx_exec!(
            tx,
            "INSERT INTO article_sections (article_id, section_id, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            id,
            section_id,
            position as i64 + 1
        )?;
    }
    for (position, slug) in article.author_slugs.iter().enumerate() {
        let author =
            tx_fetch!(fetch_optional, tx, (i64,), "SELECT id FROM authors WHERE slug = $1", slug.as_str())?
                .ok_or_else(|| anyhow::anyhow!("there is no author {slug:?}"))?;
        tx_exec!(
            tx,
            "INSERT INTO article_authors (article_id, author_id, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            id,
            author.0,
            position as i64
        )?;
    }
    for (position, name) in article.tags.iter().enumerate() {
        let tag_id = taxonomy::ensure_tag(tx, name).await?;
        tx_exec!(
            tx,
            "INSERT INTO article_tags (article_id, tag_id, position) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
            id,
            tag_id,
            position as i64
        )?;
    }
    Ok(())
}

/// Everything the editor form shows.
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct EditRow {
    pub id: i64,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub body_source: String,
    pub excerpt: String,
    pub status: String,
    pub comment_status: String,
    pub published_at: Option<i64>,
    pub updated_at: i64,
    pub created_by: Option<i64>,
    pub version: i64,
    pub correction: String,
    pub sticky: i64,
}

pub async fn find_for_edit(db: &Db, id: i64) -> anyhow::Result<Option<EditRow>> {
    Ok(read_optional!(
        db,
        EditRow,
        "SELECT id, slug, headline, standfirst, body_source, excerpt, status, comment_status, \
         published_at, updated_at, created_by, version, correction, sticky FROM articles WHERE id = $1",
        id
    )?)
}

pub async fn slug_taken(tx: &mut Tx, slug: &str, except: i64) -> anyhow::Result<bool> {
    Ok(tx_fetch!(
        fetch_optional,
        tx,
        (i64,),
        "SELECT id FROM articles WHERE slug = $1 AND id <> $2",
        slug,
        except
    )?
    .is_some())
}

/// What a save must know of the stored article, read inside the saving transaction.
#[derive(Debug, sqlx::FromRow)]
pub struct Current {
    pub version: i64,
    pub created_by: Option<i64>,
    pub status: String,
    pub slug: String,
    pub correction: String,
    pub sticky: i64,
}

pub async fn current(tx: &mut Tx, id: i64) -> anyhow::Result<Option<Current>> {
    Ok(tx_fetch!(
        fetch_optional,
        tx,
        Current,
        "SELECT version, created_by, status, slug, correction, sticky FROM articles WHERE id = $1",
        id
    )?)
}

/// Remembers that `old_slug` now belongs to article `id` (for 301s from old addresses).
pub async fn remember_slug(tx: &mut Tx, id: i64, old_slug: &str) -> anyhow::Result<()> {
    tx_exec!(
        tx,
        "INSERT INTO slug_history (old_slug, article_id, created_at) VALUES ($1, $2, $3) \
         ON CONFLICT (old_slug) DO UPDATE SET article_id = excluded.article_id, created_at = excluded.created_at",
        old_slug,
        id,
        now()
    )?;
    Ok(())
}

/// Sets the correction note; its time changes only when its text does.
pub async fn set_correction(tx: &mut Tx, id: i64, text: &str, changed: bool) -> anyhow::Result<()> {
    if changed {
        let at = if text.is_empty() { None } else { Some(now()) };
        tx_exec!(tx, "UPDATE articles SET correction = $1, corrected_at = $2 WHERE id = $3", text, at, id)?;
    }
    Ok(())
}

/// The current slug and time of the published article that once had `old_slug`.
pub async fn find_moved(db: &Db, old_slug: &str) -> anyhow::Result<Option<(String, i64)>> {
    Ok(read_optional!(
        db,
        (String, i64),
        "SELECT a.slug, a.published_at FROM slug_history h JOIN articles a ON a.id = h.article_id \
         WHERE h.old_slug = $1 AND a.status = 'published' AND a.published_at IS NOT NULL",
        old_slug
    )?)
}

/// Overwrites an article's fields and links; the caller checks permissions and versions.
pub async fn update(
    tx: &mut Tx,
    id: i64,
    article: &NewArticle,
    rendered: &Rendered,
    excerpt: &str,
) -> anyhow::Result<()> {
    let primary =
        article.section_slugs.first().ok_or_else(|| anyhow::anyhow!("an article needs a primary section"))?;
    let primary_id = taxonomy::section_id(tx, primary).await?;
    tx_exec!(
        tx,
        "UPDATE articles SET slug = $1, headline = $2, standfirst = $3, body_source = $4, body_html = $5, \
            body_text = $6, excerpt = $7, word_count = $8, status = $9, comment_status = $10, \
            published_at = $11, updated_at = $12, version = version + 1, primary_section_id = $14, \
            sticky = $15 WHERE id = $13",
        article.slug.as_str(),
        &article.headline,
        &article.standfirst,
        &article.body_source,
        &rendered.html,
        &rendered.text,
        excerpt,
        rendered.word_count,
        article.status.as_str(),
        article.comment_status.as_str(),
        article.published_at,
        now(),
        id,
        primary_id,
        i64::from(article.sticky)
    )?;
    set_links(tx, id, primary_id, article).await?;
    record_picture_uses(tx, id).await
}

/// Replaces the body and the featured image address, nothing else (relinked media); counts as
/// a new version.
pub async fn set_body_and_image(
    tx: &mut Tx,
    id: i64,
    body_source: &str,
    rendered: &Rendered,
    image_url: Option<&str>,
) -> anyhow::Result<()> {
    tx_exec!(
        tx,
        "UPDATE articles SET body_source = $1, body_html = $2, body_text = $3, word_count = $4, \
            featured_image_url = $5, updated_at = $6, version = version + 1 WHERE id = $7",
        body_source,
        &rendered.html,
        &rendered.text,
        rendered.word_count,
        image_url,
        now(),
        id
    )?;
    record_picture_uses(tx, id).await
}

/// Records the article as it now is as a revision by no one (an operator's command).
pub async fn snapshot_revision(tx: &mut Tx, id: i64) -> anyhow::Result<()> {
    tx_exec!(
        tx,
        "INSERT INTO article_revisions (article_id, user_id, slug, headline, standfirst, body_source, status, created_at) \
         SELECT id, NULL, slug, headline, standfirst, body_source, status, $2 FROM articles WHERE id = $1",
        id,
        now()
    )?;
    Ok(())
}

pub async fn set_created_by(tx: &mut Tx, id: i64, user_id: i64) -> anyhow::Result<()> {
    tx_exec!(tx, "UPDATE articles SET created_by = $1 WHERE id = $2", user_id, id)?;
    Ok(())
}

pub async fn add_revision(
    tx: &mut Tx,
    id: i64,
    user_id: Option<i64>,
    article: &NewArticle,
) -> anyhow::Result<()> {
    tx_exec!(
        tx,
        "INSERT INTO article_revisions (article_id, user_id, slug, headline, standfirst, body_source, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        id,
        user_id,
        article.slug.as_str(),
        &article.headline,
        &article.standfirst,
        &article.body_source,
        article.status.as_str(),
        now()
    )?;
    Ok(())
}

pub async fn revision_count(db: &Db, id: i64) -> anyhow::Result<i64> {
    Ok(read_one!(
        db,
        (i64,),
        "SELECT COUNT(*) FROM article_revisions WHERE article_id = $1 AND status <> 'autosave'",
        id
    )?
    .0)
}

/// Scheduled articles whose time has come become published; returns their ids.
pub async fn publish_due(tx: &mut Tx, at: i64) -> anyhow::Result<Vec<i64>> {
    let rows = tx_fetch!(
        fetch_all,
        tx,
        (i64,),
        "UPDATE articles SET status = 'published', updated_at = $1 \
         WHERE status = 'scheduled' AND published_at <= $1 RETURNING id",
        at
    )?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

/// One row of the admin's article list.
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct AdminRow {
    pub id: i64,
    pub headline: String,
    pub slug: String,
    pub status: String,
    pub section_name: String,
    pub published_at: Option<i64>,
    pub updated_at: i64,
    pub created_by: Option<i64>,
}

/// Filters of the admin list; empty strings and zeros mean "any".
#[derive(Debug, Default)]
pub struct AdminFilter<'a> {
    pub status: &'a str,
    /// Only articles created by this user.
    pub owner: i64,
    /// Only articles with this author in the byline.
    pub author_id: i64,
    /// Only articles filed in this section (primary or further).
    pub section_id: i64,
    pub text: &'a str,
    /// "updated" (default), "published" or "headline".
    pub sort: &'a str,
}

/// The admin list, filtered and sorted, with the total count.
pub async fn admin_list(
    db: &Db,
    f: &AdminFilter<'_>,
    limit: i64,
    offset: i64,
) -> anyhow::Result<(Vec<AdminRow>, i64)> {
    let pattern =
        format!("%{}%", f.text.to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    let rows = read_all!(
        db,
        AdminRow,
        "SELECT a.id, a.headline, a.slug, a.status, s.name AS section_name, a.published_at, a.updated_at, a.created_by \
         FROM articles a JOIN sections s ON s.id = a.primary_section_id \
         WHERE ($1 = '' OR a.status = $1) AND ($2 = 0 OR a.created_by = $2) \
           AND ($3 = 0 OR a.id IN (SELECT article_id FROM article_authors WHERE author_id = $3)) \
           AND ($4 = 0 OR a.id IN (SELECT article_id FROM article_sections WHERE section_id = $4)) \
           AND LOWER(a.headline) LIKE $5 ESCAPE '\\' \
         ORDER BY CASE WHEN $6 = 'headline' THEN LOWER(a.headline) END ASC, \
           CASE WHEN $6 = 'published' THEN a.published_at END DESC, a.updated_at DESC, a.id DESC \
         LIMIT $7 OFFSET $8",
        f.status,
        f.owner,
        f.author_id,
        f.section_id,
        &pattern,
        f.sort,
        limit,
        offset
    )?;
    let (total,) = read_one!(
        db,
        (i64,),
        "SELECT COUNT(*) FROM articles a WHERE ($1 = '' OR a.status = $1) AND ($2 = 0 OR a.created_by = $2) \
           AND ($3 = 0 OR a.id IN (SELECT article_id FROM article_authors WHERE author_id = $3)) \
           AND ($4 = 0 OR a.id IN (SELECT article_id FROM article_sections WHERE section_id = $4)) \
           AND LOWER(a.headline) LIKE $5 ESCAPE '\\'",
        f.status,
        f.owner,
        f.author_id,
        f.section_id,
        &pattern
    )?;
    Ok((rows, total))
}

/// Deletes articles trashed before `before`; returns their ids.
pub async fn purge_trashed(tx: &mut Tx, before: i64) -> anyhow::Result<Vec<i64>> {
    let rows = tx_fetch!(
        fetch_all,
        tx,
        (i64,),
        "DELETE FROM articles WHERE status = 'trashed' AND updated_at < $1 RETURNING id",
        before
    )?;
    Ok(rows.into_iter().map(|(id,)| id).collect())
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct RevisionRow {
    pub id: i64,
    pub article_id: i64,
    pub user_name: Option<String>,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub body_source: String,
    pub status: String,
    pub created_at: i64,
}

/// Revisions of an article, newest first.
pub async fn revisions(db: &Db, article_id: i64) -> anyhow::Result<Vec<RevisionRow>> {
    Ok(read_all!(
        db,
        RevisionRow,
        "SELECT r.id, r.article_id, u.name AS user_name, r.slug, r.headline, r.standfirst, r.body_source, \
         r.status, r.created_at FROM article_revisions r LEFT JOIN users u ON u.id = r.user_id \
         WHERE r.article_id = $1 ORDER BY r.id DESC",
        article_id
    )?)
}

/// Sets or clears the featured image; counts as a new version.
pub async fn set_featured_image(
    tx: &mut Tx,
    id: i64,
    image: Option<&crate::domain::article::FeaturedImage>,
) -> anyhow::Result<()> {
    tx_exec!(
        tx,
        "UPDATE articles SET featured_image_url = $1, featured_image_alt = $2, featured_image_caption = $3, \
         featured_image_credit = $4, updated_at = $5, version = version + 1 WHERE id = $6",
        image.map(|i| i.url.as_str()),
        image.map(|i| i.alt.as_str()),
        image.map(|i| i.caption.as_str()),
        image.map(|i| i.credit.as_str()),
        now(),
        id
    )?;
    record_picture_uses(tx, id).await
}

#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct ImageRow {
    pub featured_image_url: Option<String>,
    pub featured_image_alt: Option<String>,
    pub featured_image_caption: Option<String>,
    pub featured_image_credit: Option<String>,
}

pub async fn featured_image(db: &Db, id: i64) -> anyhow::Result<Option<ImageRow>> {
    Ok(read_optional!(
        db,
        ImageRow,
        "SELECT featured_image_url, featured_image_alt, featured_image_caption, featured_image_credit \
         FROM articles WHERE id = $1",
        id
    )?)
}

/// Keeps one autosave per user and article: an `autosave` revision replacing the previous one.
pub async fn put_autosave(tx: &mut Tx, id: i64, user_id: i64, article: &NewArticle) -> anyhow::Result<()> {
    tx_exec!(
        tx,
        "DELETE FROM article_revisions WHERE article_id = $1 AND user_id = $2 AND status = 'autosave'",
        id,
        user_id
    )?;
    tx_exec!(
        tx,
        "INSERT INTO article_revisions (article_id, user_id, slug, headline, standfirst, body_source, status, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, 'autosave', $7)",
        id,
        user_id,
        article.slug.as_str(),
        &article.headline,
        &article.standfirst,
        &article.body_source,
        now()
    )?;
    Ok(())
}

/// The user's autosave of an article if it is newer than the article's last save.
pub async fn pending_autosave(db: &Db, id: i64, user_id: i64) -> anyhow::Result<Option<(i64, i64)>> {
    Ok(read_optional!(
        db,
        (i64, i64),
        "SELECT r.id, r.created_at FROM article_revisions r JOIN articles a ON a.id = r.article_id \
         WHERE r.article_id = $1 AND r.user_id = $2 AND r.status = 'autosave' AND r.created_at >= a.updated_at",
        id,
        user_id
    )?)
}

/// What a feed entry needs of an article.
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct FeedRow {
    pub id: i64,
    pub slug: String,
    pub headline: String,
    pub standfirst: String,
    pub excerpt: String,
    pub body_html: String,
    pub published_at: i64,
    pub updated_at: i64,
    pub created_at: i64,
    pub featured_image_url: Option<String>,
    pub featured_image_alt: Option<String>,
    pub correction: String,
}

/// Which articles a feed lists.
#[derive(Debug, Clone, Copy)]
pub enum Scope {
    All,
    Section(i64),
    Tag(i64),
    Author(i64),
}

/// The newest published articles of a scope, for feeds.
pub async fn feed_items(db: &Db, scope: Scope, limit: i64) -> anyhow::Result<Vec<FeedRow>> {
    macro_rules! columns {
        () => {
            "SELECT a.id, a.slug, a.headline, a.standfirst, a.excerpt, a.body_html, a.published_at, \
             a.updated_at, a.created_at, a.featured_image_url, a.featured_image_alt, a.correction FROM "
        };
    }
    macro_rules! linked {
        ($links:literal, $key:literal) => {
            concat!(
                columns!(),
                $links,
                " l JOIN articles a ON a.id = l.article_id",
                listed!($key),
                "LIMIT $2"
            )
        };
    }
    let (sql, id) = match scope {
        Scope::All => {
            return Ok(read_all!(
                db,
                FeedRow,
                concat!(
                    columns!(),
                    "articles a WHERE a.status = 'published' AND a.published_at IS NOT NULL \
                     ORDER BY a.published_at DESC, a.id DESC LIMIT $1"
                ),
                limit
            )?);
        }
        Scope::Section(id) => (linked!("article_sections", "section_id"), id),
        Scope::Tag(id) => (linked!("article_tags", "tag_id"), id),
        Scope::Author(id) => (linked!("article_authors", "author_id"), id),
    };
    Ok(read_all!(db, FeedRow, sql, id, limit)?)
}

/// Section names of several articles (primary first), in one query.
pub async fn sections_of(db: &Db, article_ids: &[i64]) -> anyhow::Result<Vec<BylineRow>> {
    if article_ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT x.article_id, s.slug, s.name FROM article_sections x JOIN sections s ON s.id = x.section_id \
         WHERE x.article_id IN ({}) ORDER BY x.article_id, x.position",
        placeholders(0, article_ids.len())
    );
    read_all_with_ids(db, sql, article_ids).await
}

/// Published articles for a sitemap page: slug, publication and last change.
/// Articles for a sitemap page: slug, publication and change times, lead picture.
pub async fn sitemap_page(
    db: &Db,
    limit: i64,
    offset: i64,
) -> anyhow::Result<Vec<(String, i64, i64, Option<String>)>> {
    Ok(read_all!(
        db,
        (String, i64, i64, Option<String>),
        "SELECT slug, published_at, updated_at, featured_image_url FROM articles \
         WHERE status = 'published' AND published_at IS NOT NULL \
         ORDER BY published_at DESC, id DESC LIMIT $1 OFFSET $2",
        limit,
        offset
    )?)
}

/// Articles published since `since`, newest first, for the news sitemap.
pub async fn published_since(db: &Db, since: i64, limit: i64) -> anyhow::Result<Vec<(String, String, i64)>> {
    Ok(read_all!(
        db,
        (String, String, i64),
        "SELECT slug, headline, published_at FROM articles WHERE status = 'published' AND published_at >= $1 \
         ORDER BY published_at DESC, id DESC LIMIT $2",
        since,
        limit
    )?)
}

/// When anything published last changed (0 for none).
pub async fn last_change(db: &Db) -> anyhow::Result<i64> {
    Ok(read_one!(db, (i64,), "SELECT COALESCE(MAX(updated_at), 0) FROM articles WHERE status = 'published'")?
        .0)
}
