//! Pictures. The library (`library`): uploads checked from their bytes, kept as originals in
//! the media store (`store`), processed into variants by jobs any node may run (`jobs`,
//! `process`), described once (alt text, caption, credit, focal point) and drawn as
//! `<picture>` elements (`markup`).
//!
//! Older uploads, and images fetched from an imported site, were stored as they came under
//! `DATA_DIR/media` with a content hash for a name; those files are still served (the
//! functions below).

pub mod demo;
pub mod jobs;
pub mod library;
pub mod markup;
pub mod process;
pub mod store;

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

/// Largest accepted upload.
pub const MAX_BYTES: usize = 8 * 1024 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MediaError {
    #[error("The file is empty.")]
    Empty,
    #[error("The file is too large ({0} MB); the limit is {1} MB.")]
    TooLarge(usize, usize),
    #[error("Only JPEG, PNG, GIF and WebP images are accepted.")]
    UnsupportedType,
}

/// The image kind from its first bytes.
pub fn sniff(bytes: &[u8]) -> Option<(&'static str, &'static str)> {
    use process::Kind;
    process::Kind::sniff(bytes).map(|k| {
        let mime = match k {
            Kind::Jpeg => "image/jpeg",
            Kind::Png => "image/png",
            Kind::Gif => "image/gif",
            Kind::Webp => "image/webp",
        };
        (k.extension(), mime)
    })
}

/// Checks an upload and returns the file name it is stored under.
pub fn validate(bytes: &[u8]) -> Result<String, MediaError> {
    validate_with_limit(bytes, MAX_BYTES)
}

/// [`validate`] with another size limit (media fetched from an imported site).
pub fn validate_with_limit(bytes: &[u8], max_bytes: usize) -> Result<String, MediaError> {
    if bytes.is_empty() {
        return Err(MediaError::Empty);
    }
    if bytes.len() > max_bytes {
        return Err(MediaError::TooLarge(bytes.len().div_ceil(1024 * 1024), max_bytes >> 20));
    }
    let (ext, _) = sniff(bytes).ok_or(MediaError::UnsupportedType)?;
    let hash: String = Sha256::digest(bytes).iter().take(12).map(|b| format!("{b:02x}")).collect();
    Ok(format!("{hash}.{ext}"))
}

pub fn dir(data_dir: &Path) -> PathBuf {
    data_dir.join("media")
}

/// Writes the file (atomically: a temporary name, then a rename) unless it already exists.
pub async fn store(data_dir: &Path, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
    use anyhow::Context;
    let dir = dir(data_dir);
    tokio::fs::create_dir_all(&dir).await.with_context(|| format!("creating {}", dir.display()))?;
    let path = dir.join(name);
    if tokio::fs::try_exists(&path).await.unwrap_or(false) {
        return Ok(());
    }
    let tmp = dir.join(format!(".{name}.part"));
    tokio::fs::write(&tmp, bytes).await.with_context(|| format!("writing {}", tmp.display()))?;
    tokio::fs::rename(&tmp, &path).await.with_context(|| format!("storing {}", path.display()))?;
    Ok(())
}

/// A stored file name is exactly `HEX.EXT`; anything else (paths, dots) is refused.
pub fn is_stored_name(name: &str) -> bool {
    name.split_once('.').is_some_and(|(hash, ext)| {
        hash.len() == 24
            && hash.bytes().all(|b| b.is_ascii_hexdigit())
            && ["jpg", "png", "gif", "webp"].contains(&ext)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uploads_are_checked_by_content() {
        let png: Vec<u8> =
            [&[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A][..], b"rest of the file"].concat();
        let name = validate(&png).unwrap();
        assert!(name.ends_with(".png") && is_stored_name(&name));
        assert_eq!(validate(b""), Err(MediaError::Empty));
        assert_eq!(validate(b"<svg onload=alert(1)>"), Err(MediaError::UnsupportedType));
        assert_eq!(validate(b"<?php echo 1; ?>"), Err(MediaError::UnsupportedType));
        assert!(matches!(validate(&vec![0xFF; MAX_BYTES + 1]), Err(MediaError::TooLarge(_, 8))));
        assert!(!is_stored_name("../etc/passwd") && !is_stored_name("abc.png"));
    }
}
