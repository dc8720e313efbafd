//! The picture library's rows: pictures, their processing jobs and where they are used.

use crate::storage::events::{self, EventKind};
use crate::storage::{Db, Tx, now};
use crate::{fetch_all, fetch_one, fetch_optional, tx_exec, tx_fetch};

/// What pages need to name a picture's files and describe it.
#[derive(Debug, Clone, PartialEq, sqlx::FromRow)]
pub struct PictureRow {
    pub id: i64,
    pub version: i64,
    pub file_name: String,
    pub original: String,
    pub bytes: i64,
    pub width: i64,
    pub height: i64,
    pub alpha: i64,
    pub alt: String,
    pub caption: String,
    pub credit: String,
    pub focus_x: i64,
    pub focus_y: i64,
    pub state: String,
    pub error: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

macro_rules! columns {
    () => {
        "id, version, file_name, original, bytes, width, height, alpha, alt, caption, credit, \
         focus_x, focus_y, state, error, created_at, updated_at"
    };
}

/// Pictures whose alt text, caption, credit or file name contain the pattern `$1`.
macro_rules! matching {
    () => {
        "($1 = '%%' OR LOWER(alt) LIKE $1 ESCAPE '\\' OR LOWER(caption) LIKE $1 ESCAPE '\\' \
         OR LOWER(credit) LIKE $1 ESCAPE '\\' OR LOWER(file_name) LIKE $1 ESCAPE '\\')"
    };
}

/// A checked upload, ready to be recorded.
#[derive(Debug, Clone)]
pub struct NewPicture {
    pub file_name: String,
    pub original: String,
    pub hash: String,
    pub bytes: i64,
    pub width: i64,
    pub height: i64,
    pub alpha: bool,
    pub alt: String,
    pub caption: String,
    pub credit: String,
}

/// Records a picture and its processing job, with its event. The original must already be in
/// the media store under `original` (a crash between the two leaves an unused object, never a
/// row without its file).
pub async fn create(tx: &mut Tx, new: &NewPicture, by: Option<i64>) -> anyhow::Result<i64> {
    let t = now();
    let (id,) = tx_fetch!(
        fetch_one,
        tx,
        (i64,),
        "INSERT INTO pictures (file_name, original, hash, bytes, width, height, alpha, alt, caption, credit, \
         created_by, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $12) \
         RETURNING id",
        &new.file_name,
        &new.original,
        &new.hash,
        new.bytes,
        new.width,
        new.height,
        i64::from(new.alpha),
        &new.alt,
        &new.caption,
        &new.credit,
        by,
        t
    )?;
    queue(tx, id, 1).await?;
    events::record(tx, EventKind::PictureAdded, id).await?;
    Ok(id)
}

async fn queue(tx: &mut Tx, id: i64, version: i64) -> anyhow::Result<()> {
    tx_exec!(tx, "DELETE FROM picture_jobs WHERE picture_id = $1", id)?;
    tx_exec!(
        tx,
        "INSERT INTO picture_jobs (picture_id, version, created_at) VALUES ($1, $2, $3)",
        id,
        version,
        now()
    )?;
    Ok(())
}

/// Puts a new file in place of a picture's: a new version (new addresses for its variants),
/// processed again; every page that shows it follows.
pub async fn replace(tx: &mut Tx, id: i64, new: &NewPicture, version: i64) -> anyhow::Result<bool> {
    let changed = tx_exec!(
        tx,
        "UPDATE pictures SET version = $1, file_name = $2, original = $3, hash = $4, bytes = $5, width = $6, \
         height = $7, alpha = $8, state = 'processing', error = NULL, updated_at = $9 WHERE id = $10 AND version = $11",
        version,
        &new.file_name,
        &new.original,
        &new.hash,
        new.bytes,
        new.width,
        new.height,
        i64::from(new.alpha),
        now(),
        id,
        version - 1
    )?;
    if changed == 0 {
        return Ok(false);
    }
    queue(tx, id, version).await?;
    events::record(tx, EventKind::PictureChanged, id).await?;
    Ok(true)
}

pub async fn get(db: &Db, id: i64) -> anyhow::Result<Option<PictureRow>> {
    Ok(fetch_optional!(db, PictureRow, concat!("SELECT ", columns!(), " FROM pictures WHERE id = $1"), id)?)
}

/// Every picture (the catalogue pages are drawn from).
pub async fn all(db: &Db) -> anyhow::Result<Vec<PictureRow>> {
    Ok(fetch_all!(db, PictureRow, concat!("SELECT ", columns!(), " FROM pictures"))?)
}

/// A page of the library, newest first, optionally only pictures whose alt text, caption,
/// credit or file name contain `query`. Returns the rows and how many match in all.
pub async fn search(db: &Db, query: &str, limit: i64, offset: i64) -> anyhow::Result<(Vec<PictureRow>, i64)> {
    let pattern = format!(
        "%{}%",
        query.trim().to_lowercase().replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
    );
    let rows = fetch_all!(
        db,
        PictureRow,
        concat!(
            "SELECT ",
            columns!(),
            " FROM pictures WHERE ",
            matching!(),
            " ORDER BY created_at DESC, id DESC LIMIT $2 OFFSET $3"
        ),
        &pattern,
        limit,
        offset
    )?;
    let (total,) =
        fetch_one!(db, (i64,), concat!("SELECT COUNT(*) FROM pictures WHERE ", matching!()), &pattern)?;
    Ok((rows, total))
}

/// A picture already in the library with the same bytes.
pub async fn find_by_hash(db: &Db, hash: &str) -> anyhow::Result<Option<i64>> {
    Ok(fetch_optional!(db, (i64,), "SELECT id FROM pictures WHERE hash = $1 ORDER BY id LIMIT 1", hash)?
        .map(|(id,)| id))
}

/// What staff can say about a picture.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Description {
    pub alt: String,
    pub caption: String,
    pub credit: String,
    /// Focal point, 0..=10000 from the left and from the top.
    pub focus: (i64, i64),
}

/// Changes a picture's description and focal point. The crops follow the focal point, so a
/// new one queues the picture for processing again (same version: the crops' addresses do not
/// change, and pages are purged by the event).
pub async fn describe(tx: &mut Tx, id: i64, d: &Description) -> anyhow::Result<bool> {
    let Some((version, fx, fy)) = tx_fetch!(
        fetch_optional,
        tx,
        (i64, i64, i64),
        "SELECT version, focus_x, focus_y FROM pictures WHERE id = $1",
        id
    )?
    else {
        return Ok(false);
    };
    let focus = (d.focus.0.clamp(0, 10_000), d.focus.1.clamp(0, 10_000));
    tx_exec!(
        tx,
        "UPDATE pictures SET alt = $1, caption = $2, credit = $3, focus_x = $4, focus_y = $5, updated_at = $6 WHERE id = $7",
        &d.alt,
        &d.caption,
        &d.credit,
        focus.0,
        focus.1,
        now(),
        id
    )?;
    if focus != (fx, fy) {
        tx_exec!(tx, "UPDATE pictures SET state = 'processing' WHERE id = $1", id)?;
        queue(tx, id, version).await?;
    }
    events::record(tx, EventKind::PictureChanged, id).await?;
    Ok(true)
}

/// One place a picture is shown.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UseRow {
    pub kind: String,
    pub subject_id: i64,
    /// The article's headline or the page's title.
    pub title: String,
}

/// Where a picture is used (articles not yet purged, pages and authors that exist, the logo).
pub async fn uses(db: &Db, id: i64) -> anyhow::Result<Vec<UseRow>> {
    Ok(fetch_all!(
        db,
        UseRow,
        "SELECT u.kind, u.subject_id, a.headline AS title FROM picture_uses u \
         JOIN articles a ON u.kind = 'article' AND a.id = u.subject_id WHERE u.picture_id = $1 \
         UNION ALL \
         SELECT u.kind, u.subject_id, p.title FROM picture_uses u \
         JOIN pages p ON u.kind = 'page' AND p.id = u.subject_id WHERE u.picture_id = $1 \
         UNION ALL \
         SELECT u.kind, u.subject_id, p.name FROM picture_uses u \
         JOIN authors p ON u.kind = 'author' AND p.id = u.subject_id WHERE u.picture_id = $1 \
         UNION ALL \
         SELECT u.kind, u.subject_id, 'The site logo' FROM picture_uses u WHERE u.kind = 'site' AND u.picture_id = $1 \
         ORDER BY 1, 2",
        id
    )?)
}

/// Records which pictures `kind` `subject` shows now (replacing what it showed before).
pub async fn set_uses(tx: &mut Tx, kind: &str, subject: i64, ids: &[i64]) -> anyhow::Result<()> {
    tx_exec!(tx, "DELETE FROM picture_uses WHERE kind = $1 AND subject_id = $2", kind, subject)?;
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        tx_exec!(
            tx,
            "INSERT INTO picture_uses (picture_id, kind, subject_id) \
             SELECT id, $2, $3 FROM pictures WHERE id = $1",
            id,
            kind,
            subject
        )?;
    }
    Ok(())
}

/// Deletes a picture that nothing uses; `false` when something does (or it is gone).
pub async fn delete(tx: &mut Tx, id: i64) -> anyhow::Result<bool> {
    let used = tx_fetch!(
        fetch_optional,
        tx,
        (i64,),
        "SELECT u.picture_id FROM picture_uses u WHERE u.picture_id = $1 AND ( \
           (u.kind = 'article' AND EXISTS (SELECT 1 FROM articles a WHERE a.id = u.subject_id)) \
           OR (u.kind = 'page' AND EXISTS (SELECT 1 FROM pages p WHERE p.id = u.subject_id)) \
           OR (u.kind = 'author' AND EXISTS (SELECT 1 FROM authors p WHERE p.id = u.subject_id)) \
           OR u.kind = 'site') LIMIT 1",
        id
    )?;
    if used.is_some() {
        return Ok(false);
    }
    tx_exec!(tx, "DELETE FROM picture_uses WHERE picture_id = $1", id)?;
    tx_exec!(tx, "DELETE FROM picture_jobs WHERE picture_id = $1", id)?;
    if tx_exec!(tx, "DELETE FROM pictures WHERE id = $1", id)? == 0 {
        return Ok(false);
    }
    events::record(tx, EventKind::PictureDeleted, id).await?;
    Ok(true)
}

/// A job claimed by this node.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub picture_id: i64,
    pub version: i64,
    pub original: String,
    pub focus_x: i64,
    pub focus_y: i64,
    pub attempts: i64,
}

/// Jobs whose lease ran out are tried again, this many times in all.
pub const MAX_ATTEMPTS: i64 = 3;

/// Claims the oldest job no node holds (or whose node's lease ran out) for `lease` seconds.
pub async fn claim(db: &Db, node: &str, lease: i64) -> anyhow::Result<Option<Job>> {
    let t = now();
    let mut tx = db.begin().await?;
    let candidate = tx_fetch!(
        fetch_optional,
        &mut tx,
        (i64, i64),
        "SELECT picture_id, lease_until FROM picture_jobs WHERE lease_until < $1 AND attempts < $2 \
         ORDER BY created_at, picture_id LIMIT 1",
        t,
        MAX_ATTEMPTS
    )?;
    let Some((id, seen_lease)) = candidate else {
        return Ok(None);
    };
    // Compare-and-set on the lease: of two nodes that saw the job free, one takes it.
    let taken = tx_exec!(
        &mut tx,
        "UPDATE picture_jobs SET claimed_by = $1, lease_until = $2, attempts = attempts + 1 \
         WHERE picture_id = $3 AND lease_until = $4",
        node,
        t + lease,
        id,
        seen_lease
    )?;
    let job = if taken == 1 {
        tx_fetch!(
            fetch_optional,
            &mut tx,
            Job,
            "SELECT j.picture_id, j.version, p.original, p.focus_x, p.focus_y, j.attempts \
             FROM picture_jobs j JOIN pictures p ON p.id = j.picture_id WHERE j.picture_id = $1",
            id
        )?
    } else {
        None
    };
    tx.commit().await?;
    Ok(job)
}

/// Marks a job done, unless the picture changed since it was claimed (replaced, or a new focal
/// point: its own job is queued).
pub async fn finish(db: &Db, job: &Job) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    let done = tx_exec!(
        &mut tx,
        "DELETE FROM picture_jobs WHERE picture_id = $1 AND version = $2 AND attempts = $3",
        job.picture_id,
        job.version,
        job.attempts
    )?;
    if done == 1 {
        tx_exec!(
            &mut tx,
            "UPDATE pictures SET state = 'ready', error = NULL WHERE id = $1 AND version = $2",
            job.picture_id,
            job.version
        )?;
        // Pages leave out a picture until its files are made: the pages that use it now show
        // it (a change to them); a picture nothing uses yet changes no page.
        let (used,): (i64,) = tx_fetch!(
            fetch_one,
            &mut tx,
            (i64,),
            "SELECT COUNT(*) FROM picture_uses WHERE picture_id = $1",
            job.picture_id
        )?;
        let kind = if used > 0 { EventKind::PictureChanged } else { EventKind::PictureReady };
        events::record(&mut tx, kind, job.picture_id).await?;
    }
    tx.commit().await
}

/// Records why a job failed; after [`MAX_ATTEMPTS`] the picture is marked failed.
pub async fn fail(db: &Db, job: &Job, error: &str) -> anyhow::Result<()> {
    let mut tx = db.begin().await?;
    if job.attempts >= MAX_ATTEMPTS {
        tx_exec!(
            &mut tx,
            "DELETE FROM picture_jobs WHERE picture_id = $1 AND version = $2",
            job.picture_id,
            job.version
        )?;
        tx_exec!(
            &mut tx,
            "UPDATE pictures SET state = 'failed', error = $1 WHERE id = $2 AND version = $3",
            error,
            job.picture_id,
            job.version
        )?;
    } else {
        // Free for another try (by any node) at once.
        tx_exec!(&mut tx, "UPDATE picture_jobs SET lease_until = 0 WHERE picture_id = $1", job.picture_id)?;
    }
    tx.commit().await
}

/// Jobs waiting or running (for the admin and for tests).
pub async fn pending(db: &Db) -> anyhow::Result<i64> {
    Ok(fetch_one!(db, (i64,), "SELECT COUNT(*) FROM picture_jobs WHERE attempts < $1", MAX_ATTEMPTS)?.0)
}
