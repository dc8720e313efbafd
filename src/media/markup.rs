//! How pages name a picture's files. Everything here follows from what is known at upload (size,
//! transparency, version, focal point), so a page can be drawn before the variants are made.

use std::collections::HashMap;
use std::sync::Arc;

use serde::Serialize;

use super::process::{CROPS, crop_size, fallback_extension, height_at, widths_for};
use crate::storage::pictures::PictureRow;

/// A library picture as pages need it.
#[derive(Debug, Clone, PartialEq)]
pub struct PictureRef {
    pub id: i64,
    pub version: i64,
    pub width: u32,
    pub height: u32,
    pub alpha: bool,
    pub alt: String,
    pub caption: String,
    pub credit: String,
    /// Focal point as fractions of width and height.
    pub focus: (f64, f64),
}

impl From<&PictureRow> for PictureRef {
    fn from(r: &PictureRow) -> Self {
        Self {
            id: r.id,
            version: r.version,
            width: u32::try_from(r.width).unwrap_or(1).max(1),
            height: u32::try_from(r.height).unwrap_or(1).max(1),
            alpha: r.alpha != 0,
            alt: r.alt.clone(),
            caption: r.caption.clone(),
            credit: r.credit.clone(),
            focus: (r.focus_x as f64 / 10_000.0, r.focus_y as f64 / 10_000.0),
        }
    }
}

/// Every picture by id: part of the site snapshot, following picture events.
pub type Catalogue = Arc<HashMap<i64, Arc<PictureRef>>>;

/// The library picture a stored image address names: `/media/42` (how articles, pages and
/// settings refer to library pictures; a reader following it is sent to a variant).
pub fn picture_id(url: &str) -> Option<i64> {
    let rest = url.strip_prefix("/media/")?;
    if rest.is_empty() || rest.len() > 18 || !rest.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    rest.parse().ok().filter(|id| *id > 0)
}

/// Library pictures named anywhere in `text` (`/media/42`, or one of its variants'
/// addresses), in order of first mention.
pub fn referenced_ids(text: &str) -> Vec<i64> {
    let mut out = Vec::new();
    for (at, _) in text.match_indices("/media/") {
        let digits: String = text[at + 7..].chars().take_while(char::is_ascii_digit).take(18).collect();
        if let Ok(id) = digits.parse::<i64>()
            && id > 0
            && !out.contains(&id)
        {
            out.push(id);
        }
    }
    out
}

/// The address staff and exports use for a library picture.
pub fn reference(id: i64) -> String {
    format!("/media/{id}")
}

impl PictureRef {
    pub fn file_url(&self, name: &str) -> String {
        format!("/media/{}/{}/{name}", self.id, self.version)
    }

    pub fn widths(&self) -> Vec<u32> {
        widths_for(self.width.clamp(1, 1920)).into_iter().filter(|w| *w <= self.width).collect()
    }

    /// The size of the largest variant (the original's, scaled to at most 1920 wide).
    pub fn served_size(&self) -> (u32, u32) {
        let w = self.width.min(1920);
        (w, height_at(self.width, self.height, w))
    }

    fn srcset(&self, ext: &str) -> String {
        self.widths()
            .iter()
            .map(|w| format!("{} {w}w", self.file_url(&format!("{w}.{ext}"))))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// The plain (JPEG or PNG) file of the largest width not over `width` (the smallest there
    /// is when none fits), for places that take one file: logos, photos, feeds, redirects.
    pub fn plain_url(&self, width: u32) -> String {
        let widths = self.widths();
        let w = widths.iter().copied().filter(|w| *w <= width).max().unwrap_or(widths[0]);
        self.file_url(&format!("{w}.{}", fallback_extension(self.alpha)))
    }

    /// The crop `ratio` (`(16, 9)`, `(4, 3)` or `(1, 1)`) and its size.
    pub fn crop(&self, ratio: (u32, u32)) -> (String, u32, u32) {
        let (w, h) = self.served_size();
        let (cw, ch) = crop_size(w, h, ratio);
        (self.file_url(&format!("{}x{}.jpg", ratio.0, ratio.1)), cw, ch)
    }

    /// Every crop made for link previews and structured data.
    pub fn crops(&self) -> Vec<String> {
        CROPS.iter().map(|r| self.crop(*r).0).collect()
    }

    /// What a template needs to draw the picture.
    pub fn view(&self) -> PictureView {
        let (width, height) = self.served_size();
        let fallback = fallback_extension(self.alpha);
        let widths = self.widths();
        // The `src` for browsers without srcset: a middling width.
        let src_width = widths.iter().copied().filter(|w| *w <= 960).max().unwrap_or(widths[0]);
        PictureView {
            avif: self.srcset("avif"),
            webp: self.srcset("webp"),
            srcset: self.srcset(fallback),
            src: self.file_url(&format!("{src_width}.{fallback}")),
            width,
            height,
            position: format!("{:.0}% {:.0}%", self.focus.0 * 100.0, self.focus.1 * 100.0),
        }
    }
}

/// `<picture>` sources for templates (see `picture` in macros.html).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PictureView {
    pub avif: String,
    pub webp: String,
    /// JPEG or PNG at each width.
    pub srcset: String,
    pub src: String,
    pub width: u32,
    pub height: u32,
    /// CSS `object-position` from the focal point, for crops made by `object-fit: cover`.
    pub position: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn picture(width: u32, height: u32, alpha: bool) -> PictureRef {
        PictureRef {
            id: 7,
            version: 2,
            width,
            height,
            alpha,
            alt: String::new(),
            caption: String::new(),
            credit: String::new(),
            focus: (0.25, 0.5),
        }
    }

    #[test]
    fn library_addresses() {
        assert_eq!(picture_id("/media/42"), Some(42));
        assert_eq!(picture_id("/media/0"), None);
        assert_eq!(picture_id("/media/abc.jpg"), None);
        assert_eq!(picture_id("/media/42/1/640.jpg"), None);
        assert_eq!(picture_id("https://example.com/media/42"), None);
        assert_eq!(
            referenced_ids("![a](/media/42 \"x\") and /media/7/2/640.jpg, /media/42, /media/ab.jpg"),
            vec![42, 7]
        );
    }

    #[test]
    fn a_view_names_every_variant_with_its_width() {
        let v = picture(6000, 4000, false).view();
        assert_eq!((v.width, v.height), (1920, 1280));
        assert!(v.avif.starts_with("/media/7/2/320.avif 320w, /media/7/2/640.avif 640w"));
        assert!(v.srcset.ends_with("/media/7/2/1920.jpg 1920w"));
        assert_eq!(v.src, "/media/7/2/960.jpg");
        assert_eq!(v.position, "25% 50%");
        let small = picture(300, 200, true).view();
        assert_eq!(small.srcset, "/media/7/2/300.png 300w");
        assert_eq!(small.src, "/media/7/2/300.png");
        assert_eq!(picture(6000, 4000, false).crop((16, 9)), ("/media/7/2/16x9.jpg".to_owned(), 1200, 675));
    }
}
