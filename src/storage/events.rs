//! The content event log: every change to content records one row in the same transaction.
//! Caches, derived lists and other nodes follow this log; nothing else signals change.

use crate::storage::{Db, Tx, now};
use crate::{fetch_one, tx_exec};

/// What changed. Stored as text, e.g. `article.published`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventKind {
    ArticlePublished,
    ArticleUpdated,
    ArticleUnpublished,
    /// A trashed article was deleted for good after the retention period.
    ArticlePurged,
    SectionChanged,
    TagChanged,
    AuthorChanged,
    PageChanged,
    SettingsChanged,
    /// A comment became visible to readers (subject: the article).
    CommentApproved,
    /// A visible comment was unapproved, marked spam or trashed (subject: the article).
    CommentUnapproved,
    /// A visible comment's text was edited by a moderator (subject: the article).
    CommentEdited,
    /// An article's related list was computed again (subject: the article; 0 when every list
    /// was rebuilt). Derived data, but pages show it, so page caches must follow.
    RelatedUpdated,
    /// A picture joined the library (subject: the picture). No page shows it yet.
    PictureAdded,
    /// A picture's variants were made (subject: the picture). Pages already name them.
    PictureReady,
    /// A picture's description, focal point or file changed (subject: the picture): every page
    /// that shows it.
    PictureChanged,
    /// A picture left the library (subject: the picture; nothing used it).
    PictureDeleted,
}

impl EventKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ArticlePublished => "article.published",
            Self::ArticleUpdated => "article.updated",
            Self::ArticleUnpublished => "article.unpublished",
            Self::ArticlePurged => "article.purged",
            Self::SectionChanged => "section.changed",
            Self::TagChanged => "tag.changed",
            Self::AuthorChanged => "author.changed",
            Self::PageChanged => "page.changed",
            Self::SettingsChanged => "settings.changed",
            Self::CommentApproved => "comment.approved",
            Self::CommentUnapproved => "comment.unapproved",
            Self::CommentEdited => "comment.edited",
            Self::RelatedUpdated => "related.updated",
            Self::PictureAdded => "picture.added",
            Self::PictureReady => "picture.ready",
            Self::PictureChanged => "picture.changed",
            Self::PictureDeleted => "picture.deleted",
        }
    }
}

/// Which rendered pages an event can change.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PageScope {
    /// Only pages that show this article (its own page, and cards of it elsewhere): its
    /// comments or its related list changed, nothing that decides where it is listed.
    Article(i64),
    /// Any page: what is listed where, menus, settings.
    Everything,
    /// No page (a picture added to the library or processed: pages name its variants already).
    Nothing,
}

/// The pages an event stored as `kind` (with its subject) can change. Publishing, editing and
/// unpublishing stay [`PageScope::Everything`]: they can move an article into or out of lists
/// that did not show it.
pub fn page_scope(kind: &str, subject_id: i64) -> PageScope {
    match kind {
        "comment.approved" | "comment.unapproved" | "comment.edited" | "related.updated"
            if subject_id > 0 =>
        {
            PageScope::Article(subject_id)
        }
        "picture.added" | "picture.ready" | "picture.deleted" => PageScope::Nothing,
        _ => PageScope::Everything,
    }
}

pub async fn record(tx: &mut Tx, kind: EventKind, subject_id: i64) -> anyhow::Result<()> {
    tx_exec!(
        tx,
        "INSERT INTO content_events (kind, subject_id, created_at) VALUES ($1, $2, $3)",
        kind.as_str(),
        subject_id,
        now()
    )?;
    Ok(())
}

/// The id of the newest event, 0 when there is none.
pub async fn latest_id(db: &Db) -> anyhow::Result<i64> {
    let (id,) = fetch_one!(db, (i64,), "SELECT COALESCE(MAX(id), 0) FROM content_events")?;
    Ok(id)
}

/// Events after `after`, oldest first: `(id, kind, subject)`.
pub async fn after(db: &Db, after: i64, limit: i64) -> anyhow::Result<Vec<(i64, String, i64)>> {
    Ok(crate::fetch_all!(
        db,
        (i64, String, i64),
        "SELECT id, kind, subject_id FROM content_events WHERE id > $1 ORDER BY id LIMIT $2",
        after,
        limit
    )?)
}
