//! The picture library's operations, used by the admin, the command line and imports. Each
//! change goes through `storage::pictures` in one transaction with its content event.

use std::sync::LazyLock;

use sha2::{Digest, Sha256};
use tokio::sync::Semaphore;

use super::process::{self, Refused};
use super::store::{MediaStore, original_key};
use crate::storage::Db;
use crate::storage::pictures::{self, Description, NewPicture};

/// Largest upload accepted (a full-size photograph from a 50-megapixel camera fits).
pub const MAX_BYTES: usize = 40 * 1024 * 1024;

/// Pictures checked (decoded) at once on this node: each may hold up to ~220 MB while it is.
static CHECKING: LazyLock<Semaphore> = LazyLock::new(|| Semaphore::new(2));

#[derive(Debug, thiserror::Error)]
pub enum AddError {
    #[error("{0}")]
    Refused(#[from] Refused),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// What a checked file is, before it is recorded.
struct Checked {
    probe: process::Probe,
    hash: String,
}

async fn check(bytes: &[u8], file_name: &str) -> Result<Checked, AddError> {
    let _permit = CHECKING.acquire().await.map_err(|e| AddError::Internal(e.into()))?;
    let owned = bytes.to_vec();
    let name = file_name.to_owned();
    let probe = tokio::task::spawn_blocking(move || process::check(&owned, &name, MAX_BYTES))
        .await
        .map_err(|e| AddError::Internal(e.into()))??;
    let hash = Sha256::digest(bytes).iter().take(16).map(|b| format!("{b:02x}")).collect();
    Ok(Checked { probe, hash })
}

/// A file name safe to show and keep: its last path part, without control characters.
pub fn clean_file_name(name: &str) -> String {
    let last = name.rsplit(['/', '\\']).next().unwrap_or(name);
    let clean: String = last.chars().filter(|c| !c.is_control()).take(200).collect();
    if clean.trim().is_empty() { "picture".to_owned() } else { clean.trim().to_owned() }
}

/// Checks an upload, keeps its original and records it with its processing job. A file
/// already in the library (the same bytes) is not added twice: its id is returned.
pub async fn add(
    db: &Db,
    store: &MediaStore,
    bytes: &[u8],
    file_name: &str,
    description: &Description,
    by: Option<i64>,
) -> Result<i64, AddError> {
    let checked = check(bytes, file_name).await?;
    if let Some(id) = pictures::find_by_hash(db, &checked.hash).await? {
        return Ok(id);
    }
    // The original goes in first, under a key of its own (its hash): a failure after it leaves
    // an unused object, never a row whose file is missing.
    let original = format!("originals/new/{}.{}", checked.hash, checked.probe.kind.extension());
    store.put(&original, bytes.to_vec()).await?;
    let new = new_picture(&checked, file_name, bytes.len(), original, description);
    let mut tx = db.begin().await?;
    let id = pictures::create(&mut tx, &new, by).await?;
    tx.commit().await?;
    Ok(id)
}

fn new_picture(c: &Checked, file_name: &str, len: usize, original: String, d: &Description) -> NewPicture {
    NewPicture {
        file_name: clean_file_name(file_name),
        original,
        hash: c.hash.clone(),
        bytes: len as i64,
        width: i64::from(c.probe.width),
        height: i64::from(c.probe.height),
        alpha: c.probe.alpha,
        alt: d.alt.trim().to_owned(),
        caption: d.caption.trim().to_owned(),
        credit: d.credit.trim().to_owned(),
    }
}

/// Puts a new file in place of picture `id`: same description, a new version. Every page that
/// shows it follows (its event), and caches never mix the two (new addresses).
pub async fn replace(
    db: &Db,
    store: &MediaStore,
    id: i64,
    bytes: &[u8],
    file_name: &str,
) -> Result<bool, AddError> {
    let checked = check(bytes, file_name).await?;
    let Some(current) = pictures::get(db, id).await? else {
        return Ok(false);
    };
    let version = current.version + 1;
    let original = original_key(id, version, checked.probe.kind.extension());
    store.put(&original, bytes.to_vec()).await?;
    // The description is not part of a replacement: `pictures::replace` keeps the picture's own.
    let new = new_picture(&checked, file_name, bytes.len(), original, &Description::default());
    let mut tx = db.begin().await?;
    let replaced = pictures::replace(&mut tx, id, &new, version).await?;
    tx.commit().await?;
    Ok(replaced)
}

/// Why a picture could not be deleted.
#[derive(Debug, thiserror::Error)]
pub enum DeleteError {
    #[error("The picture is in use; take it out of the pages that show it first.")]
    InUse,
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Deletes a picture that nothing uses, with its files.
pub async fn delete(db: &Db, store: &MediaStore, id: i64) -> Result<(), DeleteError> {
    let Some(row) = pictures::get(db, id).await? else {
        return Ok(());
    };
    let mut tx = db.begin().await?;
    if !pictures::delete(&mut tx, id).await? {
        return Err(DeleteError::InUse);
    }
    tx.commit().await?;
    // Files after the row: a failure here leaves unused objects, never a row without files.
    if let Err(e) = async {
        store.delete_all(&format!("pictures/{id}")).await?;
        store.delete_all(&format!("originals/{id}")).await?;
        if row.original.starts_with("originals/new/") {
            store.delete(&row.original).await?;
        }
        anyhow::Ok(())
    }
    .await
    {
        tracing::warn!(picture = id, error = %format!("{e:#}"), "picture deleted; some of its files remain");
    }
    Ok(())
}

/// Adds every file under `dir` (subfolders included, hidden files skipped) to the library, in
/// name order; `each` hears of every file. Returns (added or already there, refused). A file
/// that cannot be read is refused like a bad picture; a failure of the store stops the import.
pub async fn import_dir(
    db: &Db,
    store: &MediaStore,
    dir: &std::path::Path,
    credit: &str,
    mut each: impl FnMut(&std::path::Path, Result<i64, String>),
) -> anyhow::Result<(usize, usize)> {
    use anyhow::Context;
    let mut files = Vec::new();
    let mut folders = vec![dir.to_path_buf()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).with_context(|| format!("reading {}", folder.display()))? {
            let entry = entry?;
            let path = entry.path();
            if entry.file_name().to_string_lossy().starts_with('.') {
                continue;
            }
            if entry.file_type()?.is_dir() {
                folders.push(path);
            } else {
                files.push(path);
            }
        }
    }
    files.sort();
    let description =
        Description { credit: credit.trim().to_owned(), focus: (5000, 5000), ..Default::default() };
    let (mut added, mut refused) = (0, 0);
    for path in files {
        let name = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let bytes = match tokio::fs::read(&path).await {
            Ok(bytes) => bytes,
            Err(e) => {
                refused += 1;
                each(&path, Err(format!("could not be read: {e}")));
                continue;
            }
        };
        match add(db, store, &bytes, &name, &description, None).await {
            Ok(id) => {
                added += 1;
                each(&path, Ok(id));
            }
            Err(AddError::Refused(e)) => {
                refused += 1;
                each(&path, Err(e.to_string()));
            }
            Err(AddError::Internal(e)) => return Err(e),
        }
    }
    Ok((added, refused))
}
