//! Comments: the reader-facing list, the moderation queue, rate counts, form nonces and the
//! spam filter's learned counts.

use crate::domain::comment::CommentState;
use crate::spam::{DOCS_TOKEN, Model};
use crate::storage::events::{self, EventKind};
use crate::storage::{Db, Tx, now};
use crate::{fetch_all, fetch_one, fetch_optional, tx_exec, tx_fetch};

/// An approved comment as readers see it.
#[derive(Debug, Clone, sqlx::FromRow, serde::Deserialize)]
pub struct PublicComment {
    pub id: i64,
    pub parent_id: Option<i64>,
    pub thread_id: Option<i64>,
    pub depth: i64,
    pub author_name: String,
    pub author_url: String,
    pub body_html: String,
    pub staff_user_id: Option<i64>,
    pub created_at: i64,
}

/// Every approved comment of an article, oldest first (threads are built by the caller).
pub async fn approved_for_article(db: &Db, article_id: i64) -> anyhow::Result<Vec<PublicComment>> {
    Ok(crate::read_all!(
        db,
        PublicComment,
        "SELECT id, parent_id, thread_id, depth, author_name, author_url, body_html, staff_user_id, created_at \
         FROM comments WHERE article_id = $1 AND status = 'approved' ORDER BY created_at, id",
        article_id
    )?)
}

/// Up to `limit` approved comments of an article after the comment `after` (0: from the
/// first), oldest first: a page of the Content API's list.
pub async fn approved_page(
    db: &Db,
    article_id: i64,
    after: i64,
    limit: i64,
) -> anyhow::Result<Vec<PublicComment>> {
    Ok(crate::read_all!(
        db,
        PublicComment,
        "SELECT id, parent_id, thread_id, depth, author_name, author_url, body_html, staff_user_id, created_at \
         FROM comments WHERE article_id = $1 AND status = 'approved' AND (created_at, id) > \
           (SELECT COALESCE(MAX(created_at), -1), CAST($2 AS BIGINT) FROM comments WHERE id = $2 AND article_id = $1) \
         ORDER BY created_at, id LIMIT $3",
        article_id,
        after,
        limit
    )?)
}

/// A comment with everything moderators see.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommentRow {
    pub id: i64,
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub thread_id: Option<i64>,
    pub depth: i64,
    pub author_name: String,
    pub author_email: String,
    pub author_url: String,
    pub body: String,
    pub body_html: String,
    pub status: String,
    pub staff_user_id: Option<i64>,
    pub client_addr: String,
    pub user_agent: String,
    pub spam_score: f64,
    pub hold_reason: String,
    pub learned_as: String,
    pub created_at: i64,
    pub status_changed_at: i64,
    pub article_headline: String,
    pub article_slug: String,
    pub article_published_at: Option<i64>,
}

const ROW_COLUMNS: &str = "c.id, c.article_id, c.parent_id, c.thread_id, c.depth, c.author_name, c.author_email, \
     c.author_url, c.body, c.body_html, c.status, c.staff_user_id, c.client_addr, c.user_agent, c.spam_score, \
     c.hold_reason, c.learned_as, c.created_at, c.status_changed_at, a.headline AS article_headline, \
     a.slug AS article_slug, a.published_at AS article_published_at";

/// The articles a user may moderate as an Author: those they created or carry their byline.
const OWNED_BY: &str = "(a.created_by = $1 OR EXISTS (SELECT 1 FROM article_authors aa \
     JOIN users u ON u.author_id = aa.author_id WHERE aa.article_id = a.id AND u.id = $1))";

pub async fn find(db: &Db, id: i64) -> anyhow::Result<Option<CommentRow>> {
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM comments c JOIN articles a ON a.id = c.article_id WHERE c.id = $1"
    );
    Ok(fetch_optional!(db, CommentRow, sqlx::AssertSqlSafe(sql), id)?)
}

pub async fn find_in(tx: &mut Tx, id: i64) -> anyhow::Result<Option<CommentRow>> {
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM comments c JOIN articles a ON a.id = c.article_id WHERE c.id = $1"
    );
    Ok(tx_fetch!(fetch_optional, tx, CommentRow, sqlx::AssertSqlSafe(sql), id)?)
}

/// Whether `user_id` may moderate comments on `article_id` as an Author.
pub async fn owns_article(db: &Db, user_id: i64, article_id: i64) -> anyhow::Result<bool> {
    let sql = format!("SELECT count(*) FROM articles a WHERE a.id = $2 AND {OWNED_BY}");
    let (n,) = fetch_one!(db, (i64,), sqlx::AssertSqlSafe(sql), user_id, article_id)?;
    Ok(n > 0)
}

/// Whether every one of these comments is on an article `user_id` owns (one query; an article
/// nobody created through the admin has a NULL creator, hence the COALESCE).
pub async fn all_owned(db: &Db, user_id: i64, ids: &[i64]) -> anyhow::Result<bool> {
    if ids.is_empty() {
        return Ok(true);
    }
    let sql = format!(
        "SELECT count(*) FROM comments c JOIN articles a ON a.id = c.article_id \
         WHERE c.id IN ({}) AND NOT COALESCE({}, FALSE)",
        crate::storage::placeholders(1, ids.len()),
        OWNED_BY
    );
    let mut binds = vec![user_id];
    binds.extend_from_slice(ids);
    let rows: Vec<(i64,)> = crate::storage::fetch_all_with_ids(db, sql, &binds).await?;
    Ok(rows.first().is_none_or(|r| r.0 == 0))
}

/// What the moderation queue shows.
#[derive(Debug, Clone, Default)]
pub struct QueueFilter {
    pub status: Option<CommentState>,
    /// Only comments on articles this user owns (Authors).
    pub owner: Option<i64>,
    pub article_id: Option<i64>,
    /// Words in the name, email, address or text.
    pub query: String,
    pub limit: i64,
    pub offset: i64,
}

pub async fn queue(db: &Db, filter: &QueueFilter) -> anyhow::Result<Vec<CommentRow>> {
    let sql = format!(
        "SELECT {ROW_COLUMNS} FROM comments c JOIN articles a ON a.id = c.article_id \
         WHERE (CAST($1 AS BIGINT) < 0 OR {OWNED_BY}) AND ($2 = '' OR c.status = $2) AND ($3 = 0 OR c.article_id = $3) \
         AND ($4 = '' OR lower(c.body) LIKE $4 OR lower(c.author_name) LIKE $4 OR c.author_email LIKE $4 \
              OR c.client_addr LIKE $4) \
         ORDER BY c.created_at DESC, c.id DESC LIMIT $5 OFFSET $6"
    );
    let like = if filter.query.trim().is_empty() {
        String::new()
    } else {
        format!("%{}%", filter.query.trim().to_lowercase().replace(['%', '_'], ""))
    };
    Ok(fetch_all!(
        db,
        CommentRow,
        sqlx::AssertSqlSafe(sql),
        filter.owner.unwrap_or(-1),
        filter.status.map_or("", |s| s.as_str()),
        filter.article_id.unwrap_or(0),
        like,
        filter.limit,
        filter.offset
    )?)
}

/// Comments per state, for the queue's tabs.
pub async fn counts(db: &Db, owner: Option<i64>) -> anyhow::Result<Vec<(String, i64)>> {
    // The CAST gives the placeholder its type on PostgreSQL, which infers it from first use.
    let sql = format!(
        "SELECT c.status, count(*) FROM comments c JOIN articles a ON a.id = c.article_id \
         WHERE (CAST($1 AS BIGINT) < 0 OR {OWNED_BY}) GROUP BY c.status"
    );
    Ok(fetch_all!(db, (String, i64), sqlx::AssertSqlSafe(sql), owner.unwrap_or(-1))?)
}

/// What a submission needs to know about the article.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct CommentTarget {
    pub id: i64,
    pub slug: String,
    pub published_at: i64,
    pub comment_status: String,
}

/// A published article that may take comments (open or not: the caller says why not).
pub async fn target(db: &Db, article_id: i64) -> anyhow::Result<Option<CommentTarget>> {
    Ok(fetch_optional!(
        db,
        CommentTarget,
        "SELECT id, slug, published_at, comment_status FROM articles \
         WHERE id = $1 AND status = 'published' AND published_at IS NOT NULL",
        article_id
    )?)
}

/// The comment a reply answers: its article, depth, parent and state.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct ParentRow {
    pub id: i64,
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub thread_id: Option<i64>,
    pub depth: i64,
    pub status: String,
}

pub async fn parent(db: &Db, id: i64) -> anyhow::Result<Option<ParentRow>> {
    Ok(fetch_optional!(
        db,
        ParentRow,
        "SELECT id, article_id, parent_id, thread_id, depth, status FROM comments WHERE id = $1",
        id
    )?)
}

/// Comments stored from a client address, or with an email, since a time.
pub async fn recent_from(db: &Db, addr: &str, email: &str, since: i64) -> anyhow::Result<(i64, i64)> {
    let (by_addr,) = fetch_one!(
        db,
        (i64,),
        "SELECT count(*) FROM comments WHERE client_addr = $1 AND created_at >= $2",
        addr,
        since
    )?;
    let (by_email,) = fetch_one!(
        db,
        (i64,),
        "SELECT count(*) FROM comments WHERE author_email = $1 AND created_at >= $2",
        email,
        since
    )?;
    Ok((by_addr, by_email))
}

/// Whether this email already has an approved comment (for "approve known commenters").
pub async fn has_approved(db: &Db, email: &str) -> anyhow::Result<bool> {
    let row = fetch_optional!(
        db,
        (i64,),
        "SELECT id FROM comments WHERE author_email = $1 AND status = 'approved' LIMIT 1",
        email
    )?;
    Ok(row.is_some())
}

/// Marks a form nonce used; false when it already was.
pub async fn use_nonce(tx: &mut Tx, nonce: &str) -> anyhow::Result<bool> {
    let n = tx_exec!(
        tx,
        "INSERT INTO comment_form_nonces (nonce, used_at) VALUES ($1, $2) ON CONFLICT (nonce) DO NOTHING",
        nonce,
        now()
    )?;
    Ok(n == 1)
}

/// A comment to store, already rendered and judged.
#[derive(Debug, Clone)]
pub struct NewComment<'a> {
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub thread_id: Option<i64>,
    pub depth: i64,
    pub author_name: &'a str,
    pub author_email: &'a str,
    pub author_url: &'a str,
    pub body: &'a str,
    pub body_html: &'a str,
    pub status: CommentState,
    pub staff_user_id: Option<i64>,
    pub client_addr: &'a str,
    pub user_agent: &'a str,
    pub spam_score: f64,
    pub hold_reason: &'a str,
    pub external_id: Option<&'a str>,
    pub created_at: i64,
}

/// Stores a comment; when it is approved, recounts the article and records the event.
pub async fn insert(tx: &mut Tx, c: &NewComment<'_>) -> anyhow::Result<i64> {
    let (id,) = tx_fetch!(
        fetch_one,
        tx,
        (i64,),
        "INSERT INTO comments (article_id, parent_id, thread_id, depth, author_name, author_email, author_url, \
           body, body_html, status, staff_user_id, client_addr, user_agent, spam_score, hold_reason, \
           external_id, created_at, status_changed_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17) RETURNING id",
        c.article_id,
        c.parent_id,
        c.thread_id,
        c.depth,
        c.author_name,
        c.author_email,
        c.author_url,
        c.body,
        c.body_html,
        c.status.as_str(),
        c.staff_user_id,
        c.client_addr,
        c.user_agent,
        c.spam_score,
        c.hold_reason,
        c.external_id,
        c.created_at
    )?;
    if c.status == CommentState::Approved {
        approved_changed(tx, c.article_id, EventKind::CommentApproved).await?;
    }
    Ok(id)
}

/// Keeps the article's count of approved comments and records the change for caches.
async fn approved_changed(tx: &mut Tx, article_id: i64, kind: EventKind) -> anyhow::Result<()> {
    tx_exec!(
        tx,
        "UPDATE articles SET comment_count = \
           (SELECT count(*) FROM comments WHERE article_id = $1 AND status = 'approved') WHERE id = $1",
        article_id
    )?;
    events::record(tx, kind, article_id).await
}

/// Moves a comment to another state. Readers' pages change only when it enters or leaves
/// `approved`, and only then is an event recorded.
pub async fn set_status(tx: &mut Tx, comment: &CommentRow, to: CommentState) -> anyhow::Result<()> {
    if comment.status == to.as_str() {
        return Ok(());
    }
    tx_exec!(
        tx,
        "UPDATE comments SET status = $2, status_changed_at = $3 WHERE id = $1",
        comment.id,
        to.as_str(),
        now()
    )?;
    if to == CommentState::Approved {
        approved_changed(tx, comment.article_id, EventKind::CommentApproved).await?;
    } else if comment.status == CommentState::Approved.as_str() {
        approved_changed(tx, comment.article_id, EventKind::CommentUnapproved).await?;
    }
    Ok(())
}

/// Replaces a comment's author fields and text (moderator's edit).
pub async fn update_text(
    tx: &mut Tx,
    comment: &CommentRow,
    input: &crate::domain::comment::CommentInput,
    body_html: &str,
) -> anyhow::Result<()> {
    tx_exec!(
        tx,
        "UPDATE comments SET author_name = $2, author_email = $3, author_url = $4, body = $5, body_html = $6 \
         WHERE id = $1",
        comment.id,
        &input.name,
        &input.email,
        &input.url,
        &input.text,
        body_html
    )?;
    if comment.status == CommentState::Approved.as_str() {
        events::record(tx, EventKind::CommentEdited, comment.article_id).await?;
    }
    Ok(())
}

pub async fn set_learned(tx: &mut Tx, id: i64, learned_as: &str) -> anyhow::Result<()> {
    tx_exec!(tx, "UPDATE comments SET learned_as = $2 WHERE id = $1", id, learned_as)?;
    Ok(())
}

/// Deletes spam and trash whose state is older than `before`, and form nonces too old to
/// matter. Returns the number of comments deleted.
pub async fn purge(tx: &mut Tx, before: i64, nonces_before: i64) -> anyhow::Result<u64> {
    // Replies to a purged comment keep their place in the thread (their parent link is cleared).
    let n = tx_exec!(
        tx,
        "DELETE FROM comments WHERE status IN ('spam', 'trash') AND status_changed_at < $1",
        before
    )?;
    tx_exec!(tx, "DELETE FROM comment_form_nonces WHERE used_at < $1", nonces_before)?;
    Ok(n)
}

// ---------------------------------------------------------------------------------------------
// The spam filter's learned counts
// ---------------------------------------------------------------------------------------------

/// Adds (`delta` = 1) or removes (-1) one decision's features.
pub async fn learn(tx: &mut Tx, features: &[String], spam: bool, delta: i64) -> anyhow::Result<()> {
    let (s, h) = if spam { (delta, 0) } else { (0, delta) };
    for token in features.iter().map(String::as_str).chain([DOCS_TOKEN]) {
        tx_exec!(
            tx,
            "INSERT INTO spam_tokens (token, spam, ham) VALUES ($1, $2, $3) \
             ON CONFLICT (token) DO UPDATE SET spam = spam_tokens.spam + excluded.spam, \
             ham = spam_tokens.ham + excluded.ham",
            token,
            s,
            h
        )?;
    }
    Ok(())
}

/// `base` plus everything moderators taught in this store.
pub async fn model(db: &Db, base: Model) -> anyhow::Result<Model> {
    let mut model = base;
    let rows = fetch_all!(db, (String, i64, i64), "SELECT token, spam, ham FROM spam_tokens")?;
    for (token, spam, ham) in rows {
        let (spam, ham) = (spam.max(0) as u64, ham.max(0) as u64);
        if token == DOCS_TOKEN {
            model.spam_docs += spam;
            model.ham_docs += ham;
        } else {
            let entry = model.tokens.entry(token).or_default();
            entry.0 += spam;
            entry.1 += ham;
        }
    }
    Ok(model)
}
