//! The domain's write side: every change to content enters here, is validated and rendered
//! once, and is stored together with its content event in one transaction.

use anyhow::{Context, bail};

use crate::domain::markdown;
use crate::domain::{NewArticle, NewAuthor, NewPage, NewSection};
use crate::storage::{Db, articles, pages, people, taxonomy};

/// Bodies rendered at once, node-wide: each 1 MB render holds up to ~55 MB for up to ~100 ms,
/// so staff saving and previewing together wait their turn rather than add up.
static RENDERING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// Renders a body off the async threads, at most [`RENDERING`] at a time.
pub async fn render(source: &str) -> anyhow::Result<Result<markdown::Rendered, markdown::RenderError>> {
    let _permit = RENDERING.acquire().await?;
    let source = source.to_owned();
    Ok(tokio::task::spawn_blocking(move || markdown::render(&source)).await?)
}

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
    let rendered = render(&article.body_source).await??;
    let excerpt = rendered.excerpt_or(&article.excerpt);
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

/// Who is making a change, as far as permissions go.
#[derive(Debug, Clone, Copy)]
pub struct Actor {
    pub user_id: i64,
    pub role: crate::domain::Role,
}

/// Why a save was refused. Each message is for the person who tried.
#[derive(Debug, thiserror::Error)]
pub enum SaveError {
    #[error("You may not make this change.")]
    Forbidden,
    #[error("There is no such article.")]
    NotFound,
    #[error(
        "Someone else saved this article after you opened it. Your text is below; copy what you need, reload, and save again."
    )]
    Conflict,
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Creates (`id = None`) or updates an article from the admin, checking the actor's role and
/// ownership, the version the form was based on, and the slug; records a revision and the
/// content event of the transition, all in one transaction.
pub async fn save_article(
    db: &Db,
    actor: Actor,
    id: Option<i64>,
    base_version: i64,
    mut article: NewArticle,
    correction: &str,
) -> Result<i64, SaveError> {
    use crate::domain::ArticleStatus::{Published, Scheduled};
    use crate::storage::events::{self, EventKind};
    if article.headline.trim().is_empty() {
        return Err(SaveError::Invalid("An article needs a headline.".into()));
    }
    if article.section_slugs.is_empty() {
        return Err(SaveError::Invalid("Choose a section.".into()));
    }
    let now = crate::storage::now();
    // Publishing without a time means now; a scheduled time that has passed publishes now.
    match article.status {
        Published => article.published_at = Some(article.published_at.unwrap_or(now).min(now)),
        Scheduled => match article.published_at {
            None => return Err(SaveError::Invalid("A scheduled article needs a publication time.".into())),
            Some(t) if t <= now => article.status = Published,
            Some(_) => {}
        },
        _ => {}
    }
    let rendered = render(&article.body_source).await?.map_err(|e| SaveError::Invalid(e.to_string()))?;
    let excerpt = rendered.excerpt_or(&article.excerpt);
    // Every picture needs words for readers who cannot see it before it goes out.
    let undescribed = if matches!(article.status, Published | Scheduled) {
        undescribed_picture(db, &rendered.html).await?
    } else {
        None
    };
    let mut tx = db.begin().await?;
    let id = match id {
        None => {
            if !actor.role.can_set_status(article.status, true) {
                return Err(SaveError::Forbidden);
            }
            if let Some(why) = undescribed {
                return Err(SaveError::Invalid(why));
            }
            // What leads the front page is an editor's call: below that, the form has no say.
            article.sticky &= actor.role.can_set_sticky();
            if articles::slug_taken(&mut tx, article.slug.as_str(), 0).await? {
                return Err(SaveError::Invalid(format!(
                    "The slug {:?} is already used.",
                    article.slug.as_str()
                )));
            }
            let id = articles::insert(&mut tx, &article, &rendered, &excerpt).await?;
            articles::set_created_by(&mut tx, id, actor.user_id).await?;
            articles::set_correction(&mut tx, id, correction.trim(), !correction.trim().is_empty()).await?;
            id // `insert` records `article.published` itself
        }
        Some(id) => {
            let current = articles::current(&mut tx, id).await?.ok_or(SaveError::NotFound)?;
            let (version, old_status) = (current.version, current.status.as_str());
            let owns = current.created_by == Some(actor.user_id);
            if !actor.role.can_edit(owns) || !actor.role.can_set_status(article.status, owns) {
                return Err(SaveError::Forbidden);
            }
            if !actor.role.can_set_sticky() {
                article.sticky = current.sticky != 0;
            }
            // Contributors may not touch an article once it is out of their hands.
            if !actor.role.can_set_status(Published, owns) && !matches!(old_status, "draft" | "pending") {
                return Err(SaveError::Forbidden);
            }
            if version != base_version {
                return Err(SaveError::Conflict);
            }
            // Asked when an article goes out; a correction to one already out is never held
            // up by an older picture (imported ones often have no alt text).
            if let Some(why) = undescribed
                && !matches!(old_status, "published" | "scheduled")
            {
                return Err(SaveError::Invalid(why));
            }
            if articles::slug_taken(&mut tx, article.slug.as_str(), id).await? {
                return Err(SaveError::Invalid(format!(
                    "The slug {:?} is already used.",
                    article.slug.as_str()
                )));
            }
            articles::update(&mut tx, id, &article, &rendered, &excerpt).await?;
            if current.slug != article.slug.as_str() {
                articles::remember_slug(&mut tx, id, &current.slug).await?;
            }
            articles::set_correction(&mut tx, id, correction.trim(), current.correction != correction.trim())
                .await?;
            let was = old_status == "published";
            let kind = match (was, article.status == Published) {
                (false, true) => Some(EventKind::ArticlePublished),
                (true, true) => Some(EventKind::ArticleUpdated),
                (true, false) => Some(EventKind::ArticleUnpublished),
                (false, false) => None,
            };
            if let Some(kind) = kind {
                events::record(&mut tx, kind, id).await?;
            }
            id
        }
    };
    articles::add_revision(&mut tx, id, Some(actor.user_id), &article).await?;
    tx.commit().await?;
    Ok(id)
}

/// Why an article's text cannot go out yet: a picture with no alt text, in the text or (for a
/// library picture) in the library.
async fn undescribed_picture(db: &Db, html: &str) -> anyhow::Result<Option<String>> {
    for src in crate::media::markup::images_without_alt(html) {
        if let Some(id) = crate::media::markup::picture_id(&src)
            && let Some(p) = crate::storage::pictures::get(db, id).await?
            && !p.alt.trim().is_empty()
        {
            continue;
        }
        return Ok(Some(format!(
            "The picture {src} in the text has no alt text. Describe what it shows for readers who \
             cannot see it: ![what it shows]({src}) in the text{}.",
            if src.starts_with("/media/") { ", or in the picture library" } else { "" }
        )));
    }
    Ok(None)
}

/// Brings an imported article up to date with a newer copy from its source (an operator's
/// import, so no role checks): stored with a revision and its event in one transaction.
/// Returns false when nothing differed. The slug is kept (readers' links stay valid).
pub async fn update_imported(db: &Db, id: i64, article: &NewArticle) -> anyhow::Result<bool> {
    use crate::storage::events::{self, EventKind};
    let (headline, body, status, published_at, sticky): (String, String, String, Option<i64>, i64) = crate::fetch_one!(
        db,
        (String, String, String, Option<i64>, i64),
        "SELECT headline, body_source, status, published_at, sticky FROM articles WHERE id = $1",
        id
    )?;
    let same = headline == article.headline
        && body == article.body_source
        && status == article.status.as_str()
        && published_at == article.published_at
        && (sticky != 0) == article.sticky;
    if same {
        return Ok(false);
    }
    let rendered = render(&article.body_source).await??;
    let excerpt = rendered.excerpt_or(&article.excerpt);
    // Bylines, sections and tags the update does not name are kept as they are.
    let terms = articles::terms(db, id).await?;
    let of = |kind: &str| terms.iter().filter(|t| t.kind == kind).collect::<Vec<_>>();
    let mut kept = article.clone();
    if kept.section_slugs.is_empty() {
        kept.section_slugs =
            of("section").iter().filter_map(|t| crate::domain::Slug::parse(&t.slug).ok()).collect();
    }
    if kept.author_slugs.is_empty() {
        kept.author_slugs =
            of("author").iter().filter_map(|t| crate::domain::Slug::parse(&t.slug).ok()).collect();
    }
    if kept.tags.is_empty() {
        kept.tags = of("tag").iter().map(|t| t.name.clone()).collect();
    }
    let mut tx = db.begin().await?;
    let current = articles::current(&mut tx, id).await?.context("the article went away")?;
    kept.slug = crate::domain::Slug::parse(&current.slug).unwrap_or_else(|_| article.slug.clone());
    articles::update(&mut tx, id, &kept, &rendered, &excerpt).await?;
    let now_published = kept.status == crate::domain::ArticleStatus::Published;
    let kind = match (current.status == "published", now_published) {
        (false, true) => Some(EventKind::ArticlePublished),
        (true, true) => Some(EventKind::ArticleUpdated),
        (true, false) => Some(EventKind::ArticleUnpublished),
        (false, false) => None,
    };
    if let Some(kind) = kind {
        events::record(&mut tx, kind, id).await?;
    }
    articles::add_revision(&mut tx, id, None, &kept).await?;
    tx.commit().await?;
    Ok(true)
}

/// Publishes scheduled articles whose time has come, with their events. Safe to run on every
/// node at once: each article changes status in one `UPDATE`.
pub async fn publish_due(db: &Db) -> anyhow::Result<usize> {
    use crate::storage::events::{self, EventKind};
    let mut tx = db.begin().await?;
    let ids = articles::publish_due(&mut tx, crate::storage::now()).await?;
    for id in &ids {
        events::record(&mut tx, EventKind::ArticlePublished, *id).await?;
    }
    tx.commit().await?;
    Ok(ids.len())
}

/// How long trashed articles can be restored before they are deleted.
pub const TRASH_RETENTION_SECS: i64 = 30 * 86_400;

/// Deletes articles that have been in the trash longer than the retention period.
pub async fn purge_trash(db: &Db) -> anyhow::Result<usize> {
    use crate::storage::events::{self, EventKind};
    let mut tx = db.begin().await?;
    let ids = articles::purge_trashed(&mut tx, crate::storage::now() - TRASH_RETENTION_SECS).await?;
    for id in &ids {
        events::record(&mut tx, EventKind::ArticlePurged, *id).await?;
    }
    tx.commit().await?;
    Ok(ids.len())
}

/// Sets or clears an article's featured image, with the same permission rules as editing.
pub async fn set_featured_image(
    db: &Db,
    actor: Actor,
    id: i64,
    image: Option<crate::domain::article::FeaturedImage>,
) -> Result<(), SaveError> {
    use crate::storage::events::{self, EventKind};
    check_featured_image(image.as_ref().map(|i| i.alt.as_str()))?;
    let mut tx = db.begin().await?;
    let current = articles::current(&mut tx, id).await?.ok_or(SaveError::NotFound)?;
    if !actor.role.can_change(&current.status, current.created_by == Some(actor.user_id)) {
        return Err(SaveError::Forbidden);
    }
    articles::set_featured_image(&mut tx, id, image.as_ref()).await?;
    if current.status == "published" {
        events::record(&mut tx, EventKind::ArticleUpdated, id).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Whether a featured image with this alt text (None: removing it) may be given to an article
/// by the actor, checked before a new picture is stored, so that a refused change adds nothing
/// to the library. [`set_featured_image`] checks again in its transaction.
pub async fn may_set_featured_image(
    db: &Db,
    actor: Actor,
    id: i64,
    alt: Option<&str>,
) -> Result<(), SaveError> {
    check_featured_image(alt)?;
    let current = articles::find_for_edit(db, id).await?.ok_or(SaveError::NotFound)?;
    if !actor.role.can_change(&current.status, current.created_by == Some(actor.user_id)) {
        return Err(SaveError::Forbidden);
    }
    Ok(())
}

/// Refuses a featured image without alt text (None: removing the image, always allowed).
pub fn check_featured_image(alt: Option<&str>) -> Result<(), SaveError> {
    if alt.is_some_and(|a| a.trim().is_empty()) {
        return Err(SaveError::Invalid(
            "Describe the image for readers who cannot see it (alt text).".into(),
        ));
    }
    Ok(())
}

/// Keeps the actor's unsaved text of an article without touching the article itself.
pub async fn autosave(db: &Db, actor: Actor, id: i64, article: &NewArticle) -> Result<(), SaveError> {
    let mut tx = db.begin().await?;
    let current = articles::current(&mut tx, id).await?.ok_or(SaveError::NotFound)?;
    if !actor.role.can_edit(current.created_by == Some(actor.user_id)) {
        return Err(SaveError::Forbidden);
    }
    articles::put_autosave(&mut tx, id, actor.user_id, article).await?;
    tx.commit().await?;
    Ok(())
}

/// Points an article at local copies of remote media: `relink` gets its body source and its
/// featured image address and returns the new text when it changed. Rendered again, stored
/// with a revision and (when published) `article.updated`, in one transaction. Returns
/// whether anything changed.
pub async fn relink_article_media(
    db: &Db,
    id: i64,
    relink: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<bool> {
    use crate::storage::events::{self, EventKind};
    let mut tx = db.begin().await?;
    let Some((body, image, status)) = crate::tx_fetch!(
        fetch_optional,
        &mut tx,
        (String, Option<String>, String),
        "SELECT body_source, featured_image_url, status FROM articles WHERE id = $1",
        id
    )?
    else {
        return Ok(false);
    };
    let new_body = relink(&body);
    let new_image = image.as_deref().and_then(&relink);
    if new_body.is_none() && new_image.is_none() {
        return Ok(false);
    }
    let body = new_body.unwrap_or(body);
    let rendered = markdown::render(&body)?;
    articles::set_body_and_image(&mut tx, id, &body, &rendered, new_image.or(image).as_deref()).await?;
    articles::snapshot_revision(&mut tx, id).await?;
    if status == "published" {
        events::record(&mut tx, EventKind::ArticleUpdated, id).await?;
    }
    tx.commit().await?;
    Ok(true)
}

/// Points a static page at local copies of remote media (see [`relink_article_media`]).
pub async fn relink_page_media(
    db: &Db,
    id: i64,
    relink: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<bool> {
    let mut tx = db.begin().await?;
    let Some((body,)) = crate::tx_fetch!(
        fetch_optional,
        &mut tx,
        (String,),
        "SELECT body_source FROM pages WHERE id = $1",
        id
    )?
    else {
        return Ok(false);
    };
    let Some(body) = relink(&body) else { return Ok(false) };
    pages::set_body(&mut tx, id, &body).await?;
    tx.commit().await?;
    Ok(true)
}

/// The data migration `body_text_from_html`: every article's text, word count and (when the
/// editor wrote none) excerpt taken again from its stored HTML. Stores written before the text
/// came from the HTML had none for bodies written in HTML (every WordPress import), so search
/// and related lists saw only their headlines. Articles whose text changes record
/// `article.updated` (when published), so that search, related lists and caches follow; the
/// step is recorded as done once it has gone through every row, and is safe to run twice.
pub async fn backfill_body_text(db: &Db) -> anyhow::Result<usize> {
    use crate::storage::backfill;
    use crate::storage::events::{self, EventKind};
    const NAME: &str = "body_text_from_html";
    if backfill::is_done(db, NAME).await? {
        return Ok(0);
    }
    let (mut after, mut changed) = (0, 0);
    loop {
        let rows = backfill::bodies_after(db, after, 500).await?;
        let Some(last) = rows.last() else { break };
        after = last.id;
        let mut tx = db.begin().await?;
        for row in rows {
            let derived = markdown::Rendered::from_html(row.body_html);
            if derived.text == row.body_text {
                continue;
            }
            let excerpt = derived.excerpt_or(&row.excerpt);
            backfill::set_derived_text(&mut tx, row.id, &derived.text, derived.word_count, &excerpt).await?;
            if row.status == "published" {
                events::record(&mut tx, EventKind::ArticleUpdated, row.id).await?;
            }
            changed += 1;
        }
        tx.commit().await?;
    }
    let mut tx = db.begin().await?;
    backfill::mark_done(&mut tx, NAME).await?;
    tx.commit().await?;
    Ok(changed)
}
