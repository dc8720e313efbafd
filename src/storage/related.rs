//! What the search index and the related-posts engine read and write: article texts for
//! indexing, snippets and phrase checks; the stored related lists and editors' overrides; the
//! shared job cursors.

use crate::search::index::Source;
use crate::storage::articles::CardRow;
use crate::storage::{Db, Tx, fetch_all_with_ids, placeholders};
use crate::{fetch_all, fetch_optional, tx_exec, tx_fetch};

#[derive(sqlx::FromRow)]
struct SourceRow {
    id: i64,
    published_at: i64,
    headline: String,
    standfirst: String,
    body_text: String,
}

#[derive(sqlx::FromRow)]
struct TermLink {
    article_id: i64,
    id: i64,
    slug: String,
}

async fn with_terms(db: &Db, rows: Vec<SourceRow>) -> anyhow::Result<Vec<Source>> {
    if rows.is_empty() {
        return Ok(Vec::new());
    }
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let list = placeholders(0, ids.len());
    let sections: Vec<TermLink> = fetch_all_with_ids(
        db,
        format!(
            "SELECT x.article_id, s.id, s.slug FROM article_sections x JOIN sections s ON s.id = x.section_id \
             WHERE x.article_id IN ({list}) ORDER BY x.article_id, x.position"
        ),
        &ids,
    )
    .await?;
    let tags: Vec<TermLink> = fetch_all_with_ids(
        db,
        format!(
            "SELECT x.article_id, t.id, t.slug FROM article_tags x JOIN tags t ON t.id = x.tag_id \
             WHERE x.article_id IN ({list}) ORDER BY x.article_id, x.position"
        ),
        &ids,
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let secs: Vec<&TermLink> = sections.iter().filter(|l| l.article_id == r.id).collect();
            let tag_slugs = tags.iter().filter(|l| l.article_id == r.id).map(|l| l.slug.clone()).collect();
            Source {
                article_id: r.id,
                published_at: r.published_at,
                headline: r.headline,
                standfirst: r.standfirst,
                body: r.body_text,
                section_ids: secs.iter().map(|l| l.id).collect(),
                section_slugs: secs.iter().map(|l| l.slug.clone()).collect(),
                tag_slugs,
            }
        })
        .collect())
}

/// Published articles with ids above `after`, in id order, for building the index in pages.
pub async fn sources_after(db: &Db, after: i64, limit: i64) -> anyhow::Result<Vec<Source>> {
    let rows = fetch_all!(
        db,
        SourceRow,
        "SELECT id, published_at, headline, standfirst, body_text FROM articles \
         WHERE id > $1 AND status = 'published' AND published_at IS NOT NULL ORDER BY id LIMIT $2",
        after,
        limit
    )?;
    with_terms(db, rows).await
}

/// One article, if it is published.
pub async fn source(db: &Db, id: i64) -> anyhow::Result<Option<Source>> {
    let rows = fetch_all!(
        db,
        SourceRow,
        "SELECT id, published_at, headline, standfirst, body_text FROM articles \
         WHERE id = $1 AND status = 'published' AND published_at IS NOT NULL",
        id
    )?;
    Ok(with_terms(db, rows).await?.pop())
}

/// Headline, standfirst and text of some articles (snippets, phrase checks).
pub async fn texts(db: &Db, ids: &[i64]) -> anyhow::Result<Vec<(i64, String, String, String)>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT id, headline, standfirst, body_text FROM articles WHERE id IN ({})",
        placeholders(0, ids.len())
    );
    fetch_all_with_ids(db, sql, ids).await
}

/// Cards by id, in the order given (unpublished ones are left out).
///
/// The status test is written `a.status || ''` so that no index can serve it: SQLite's planner
/// (without statistics) took the index on `(status, published_at)` for it, reading every
/// published article to find twenty (10 ms of a 15 ms search page at 100,000 articles).
pub async fn cards_by_id(db: &Db, ids: &[i64]) -> anyhow::Result<Vec<CardRow>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT a.id, a.slug, a.headline, a.standfirst, a.excerpt, a.published_at, a.featured_image_url, \
           a.featured_image_alt, s.slug AS section_slug, s.name AS section_name, a.comment_count \
         FROM articles a JOIN sections s ON s.id = a.primary_section_id \
         WHERE a.id IN ({}) AND a.status || '' = 'published'",
        placeholders(0, ids.len())
    );
    let rows: Vec<CardRow> = crate::storage::read_all_with_ids(db, sql, ids).await?;
    Ok(ids.iter().filter_map(|id| rows.iter().find(|r| r.id == *id).cloned()).collect())
}

/// The stored related list of an article, as cards, in order: one indexed query.
pub async fn cards(db: &Db, article_id: i64) -> anyhow::Result<Vec<CardRow>> {
    Ok(crate::read_all!(
        db,
        CardRow,
        "SELECT a.id, a.slug, a.headline, a.standfirst, a.excerpt, a.published_at, a.featured_image_url, \
           a.featured_image_alt, s.slug AS section_slug, s.name AS section_name, a.comment_count \
         FROM related_articles r JOIN articles a ON a.id = r.related_id \
         JOIN sections s ON s.id = a.primary_section_id \
         WHERE r.article_id = $1 AND a.status = 'published' ORDER BY r.position",
        article_id
    )?)
}

/// The stored list as ids.
pub async fn list(db: &Db, article_id: i64) -> anyhow::Result<Vec<i64>> {
    let rows = fetch_all!(
        db,
        (i64,),
        "SELECT related_id FROM related_articles WHERE article_id = $1 ORDER BY position",
        article_id
    )?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// The stored list as ids, inside a transaction.
pub async fn list_in(tx: &mut Tx, article_id: i64) -> anyhow::Result<Vec<i64>> {
    let rows = tx_fetch!(
        fetch_all,
        tx,
        (i64,),
        "SELECT related_id FROM related_articles WHERE article_id = $1 ORDER BY position",
        article_id
    )?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Articles whose list shows `article_id`.
pub async fn listed_by(db: &Db, article_id: i64) -> anyhow::Result<Vec<i64>> {
    let rows =
        fetch_all!(db, (i64,), "SELECT article_id FROM related_articles WHERE related_id = $1", article_id)?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// For each of some articles that has a stored list: its length and its weakest score.
pub async fn floors(db: &Db, ids: &[i64]) -> anyhow::Result<std::collections::HashMap<i64, (usize, f32)>> {
    let mut out = std::collections::HashMap::new();
    for chunk in ids.chunks(500) {
        let sql = format!(
            "SELECT article_id, count(*), min(score) FROM related_articles \
             WHERE article_id IN ({}) GROUP BY article_id",
            placeholders(0, chunk.len())
        );
        let rows: Vec<(i64, i64, f64)> = fetch_all_with_ids(db, sql, chunk).await?;
        out.extend(rows.into_iter().map(|(id, n, weakest)| (id, (n as usize, weakest as f32))));
    }
    Ok(out)
}

/// Replaces an article's list.
pub async fn set_list(tx: &mut Tx, article_id: i64, list: &[(i64, f32)]) -> anyhow::Result<()> {
    tx_exec!(tx, "DELETE FROM related_articles WHERE article_id = $1", article_id)?;
    for (position, (related, score)) in list.iter().enumerate() {
        tx_exec!(
            tx,
            "INSERT INTO related_articles (article_id, position, related_id, score) VALUES ($1, $2, $3, $4)",
            article_id,
            position as i64,
            *related,
            f64::from(*score)
        )?;
    }
    Ok(())
}

/// Replaces the lists of many articles: one DELETE and multi-row INSERTs (a full rebuild).
pub async fn set_lists(tx: &mut Tx, lists: &[(i64, Vec<(i64, f32)>)]) -> anyhow::Result<()> {
    let ids: Vec<i64> = lists.iter().map(|(id, _)| *id).collect();
    for chunk in ids.chunks(500) {
        let sql =
            format!("DELETE FROM related_articles WHERE article_id IN ({})", placeholders(0, chunk.len()));
        match tx {
            Tx::Sqlite(t) => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for id in chunk {
                    q = q.bind(*id);
                }
                q.execute(&mut **t).await?;
            }
            Tx::Postgres(t) => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for id in chunk {
                    q = q.bind(*id);
                }
                q.execute(&mut **t).await?;
            }
        }
    }
    let rows: Vec<(i64, i64, i64, f64)> = lists
        .iter()
        .flat_map(|(id, list)| {
            list.iter().enumerate().map(move |(pos, (rel, score))| (*id, pos as i64, *rel, f64::from(*score)))
        })
        .collect();
    for chunk in rows.chunks(200) {
        let values: Vec<String> = (0..chunk.len())
            .map(|i| format!("(${}, ${}, ${}, ${})", 4 * i + 1, 4 * i + 2, 4 * i + 3, 4 * i + 4))
            .collect();
        let sql = format!(
            "INSERT INTO related_articles (article_id, position, related_id, score) VALUES {}",
            values.join(", ")
        );
        match tx {
            Tx::Sqlite(t) => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for r in chunk {
                    q = q.bind(r.0).bind(r.1).bind(r.2).bind(r.3);
                }
                q.execute(&mut **t).await?;
            }
            Tx::Postgres(t) => {
                let mut q = sqlx::query(sqlx::AssertSqlSafe(sql));
                for r in chunk {
                    q = q.bind(r.0).bind(r.1).bind(r.2).bind(r.3);
                }
                q.execute(&mut **t).await?;
            }
        }
    }
    Ok(())
}

/// Articles that have pins or exclusions.
pub async fn overridden(db: &Db) -> anyhow::Result<std::collections::HashSet<i64>> {
    let rows = fetch_all!(db, (i64,), "SELECT DISTINCT article_id FROM related_overrides")?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Which of these articles have pins or exclusions.
pub async fn overridden_among(db: &Db, ids: &[i64]) -> anyhow::Result<std::collections::HashSet<i64>> {
    if ids.is_empty() {
        return Ok(Default::default());
    }
    let sql = format!(
        "SELECT DISTINCT article_id FROM related_overrides WHERE article_id IN ({})",
        placeholders(0, ids.len())
    );
    let rows: Vec<(i64,)> = fetch_all_with_ids(db, sql, ids).await?;
    Ok(rows.into_iter().map(|r| r.0).collect())
}

/// Editors' pins (in order) and exclusions for an article.
pub async fn overrides(db: &Db, article_id: i64) -> anyhow::Result<(Vec<i64>, Vec<i64>)> {
    let rows = fetch_all!(
        db,
        (i64, String),
        "SELECT related_id, kind FROM related_overrides WHERE article_id = $1 ORDER BY position, related_id",
        article_id
    )?;
    let pins = rows.iter().filter(|r| r.1 == "pin").map(|r| r.0).collect();
    let excludes = rows.iter().filter(|r| r.1 == "exclude").map(|r| r.0).collect();
    Ok((pins, excludes))
}

/// Pins, excludes or clears (`kind` = None) one related article; records an update event for
/// the article so its list is computed again.
pub async fn set_override(
    tx: &mut Tx,
    article_id: i64,
    related_id: i64,
    kind: Option<&str>,
) -> anyhow::Result<()> {
    tx_exec!(
        tx,
        "DELETE FROM related_overrides WHERE article_id = $1 AND related_id = $2",
        article_id,
        related_id
    )?;
    if let Some(kind) = kind {
        let (next,) = tx_fetch!(
            fetch_one,
            tx,
            (i64,),
            "SELECT COALESCE(MAX(position), -1) + 1 FROM related_overrides WHERE article_id = $1",
            article_id
        )?;
        tx_exec!(
            tx,
            "INSERT INTO related_overrides (article_id, related_id, kind, position) VALUES ($1, $2, $3, $4)",
            article_id,
            related_id,
            kind,
            next
        )?;
    }
    crate::storage::events::record(tx, crate::storage::events::EventKind::ArticleUpdated, article_id).await
}

/// A job's cursor in the event log, created at `start` when absent.
pub async fn cursor(db: &Db, name: &str, start: i64) -> anyhow::Result<i64> {
    if let Some((id,)) =
        fetch_optional!(db, (i64,), "SELECT event_id FROM job_cursors WHERE name = $1", name)?
    {
        return Ok(id);
    }
    let mut tx = db.begin().await?;
    tx_exec!(
        &mut tx,
        "INSERT INTO job_cursors (name, event_id) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING",
        name,
        start
    )?;
    tx.commit().await?;
    let (id,) = crate::fetch_one!(db, (i64,), "SELECT event_id FROM job_cursors WHERE name = $1", name)?;
    Ok(id)
}

/// Moves a cursor from `from` to `to` if no other node did; true when this node won.
pub async fn claim(tx: &mut Tx, name: &str, from: i64, to: i64) -> anyhow::Result<bool> {
    let n = tx_exec!(
        tx,
        "UPDATE job_cursors SET event_id = $3 WHERE name = $1 AND event_id = $2",
        name,
        from,
        to
    )?;
    Ok(n == 1)
}

/// Sets a cursor (after a full rebuild).
pub async fn set_cursor(db: &Db, name: &str, to: i64) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    tx_exec!(
        &mut tx,
        "INSERT INTO job_cursors (name, event_id) VALUES ($1, $2) \
         ON CONFLICT (name) DO UPDATE SET event_id = excluded.event_id",
        name,
        to
    )?;
    tx.commit().await
}
