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
    /// Its files for this version are made: until then pages leave it out (no address that
    /// answers 503), and the pages that use it are rendered again when it is.
    pub ready: bool,
    /// The `<picture>` sources, made the first time a page needs them (then shared by every
    /// page rendered from the same catalogue: they change only with the picture's event).
    view: std::sync::OnceLock<PictureView>,
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
            ready: r.state == "ready",
            view: std::sync::OnceLock::new(),
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
        self.view_ref().clone()
    }

    /// [`Self::view`], borrowed.
    pub fn view_ref(&self) -> &PictureView {
        self.view.get_or_init(|| self.make_view())
    }

    fn make_view(&self) -> PictureView {
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

/// An `<img>` tag's attributes as written (values still escaped), and where the tag ends;
/// `start` is the tag's `<`.
pub(crate) fn img_attributes(html: &str, start: usize) -> Option<(Vec<(&str, &str)>, usize)> {
    let bytes = html.as_bytes();
    let mut i = start + 4; // after `<img`
    let mut attrs = Vec::new();
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        match bytes.get(i)? {
            b'>' => return Some((attrs, i + 1)),
            b'/' if bytes.get(i + 1) == Some(&b'>') => return Some((attrs, i + 2)),
            _ => {}
        }
        let name_start = i;
        while i < bytes.len() && !matches!(bytes[i], b'=' | b'>' | b'/') && !bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        let name = &html[name_start..i];
        if name.is_empty() {
            i += 1; // a stray `/`
            continue;
        }
        let mut value = "";
        if bytes.get(i) == Some(&b'=') {
            i += 1;
            match bytes.get(i)? {
                q @ (b'"' | b'\'') => {
                    let end = i + 1 + html[i + 1..].find(*q as char)?;
                    value = &html[i + 1..end];
                    i = end + 1;
                }
                _ => {
                    let from = i;
                    while i < bytes.len() && bytes[i] != b'>' && !bytes[i].is_ascii_whitespace() {
                        i += 1;
                    }
                    value = &html[from..i];
                }
            }
        }
        attrs.push((name, value));
    }
}

fn escape_attribute(value: &str) -> String {
    value.replace('&', "&amp;").replace('"', "&quot;").replace('<', "&lt;").replace('>', "&gt;")
}

/// Draws every library picture in stored article or page HTML (`<img src="/media/42">`, as
/// the sanitizer writes it) as a `<picture>` in every size and format, with its width and
/// height and lazy loading; the text's own alt text first, the library's when it has none.
/// Other images are left as they are. A picture whose files are still being made is replaced
/// by `pending` (nothing on public pages; the pages are rendered again when it is ready).
/// Done when a page is rendered, so a replaced picture's new files reach the pages that show
/// it when they are rendered again (its event).
pub fn expand_body<'a>(
    html: &str,
    picture: impl Fn(i64) -> Option<&'a PictureRef>,
    sizes: &str,
    pending: &str,
) -> String {
    let mut out = String::with_capacity(html.len() + 1024);
    let mut rest = 0;
    let mut search = 0;
    while let Some(at) = html[search..].find("<img") {
        let start = search + at;
        search = start + 4;
        let Some((attrs, end)) = img_attributes(html, start) else { break };
        let get = |name: &str| attrs.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v);
        let Some(p) = get("src").and_then(picture_id).and_then(&picture) else {
            continue;
        };
        if !p.ready {
            out.push_str(&html[rest..start]);
            out.push_str(pending);
            rest = end;
            search = end;
            continue;
        }
        let v = p.view_ref();
        let alt = match get("alt").filter(|a| !a.trim().is_empty()) {
            Some(own) => own.to_owned(), // already escaped
            None => escape_attribute(&p.alt),
        };
        let title = get("title").map(|t| format!(" title=\"{t}\"")).unwrap_or_default();
        out.push_str(&html[rest..start]);
        out.push_str(&format!(
            "<picture><source type=\"image/avif\" srcset=\"{avif}\" sizes=\"{sizes}\"><source type=\"image/webp\" srcset=\"{webp}\" sizes=\"{sizes}\"><img src=\"{src}\" srcset=\"{srcset}\" sizes=\"{sizes}\" width=\"{w}\" height=\"{h}\" alt=\"{alt}\"{title} loading=\"lazy\" decoding=\"async\"></picture>",
            avif = v.avif,
            webp = v.webp,
            src = v.src,
            srcset = v.srcset,
            w = v.width,
            h = v.height,
        ));
        rest = end;
        search = end;
    }
    out.push_str(&html[rest..]);
    out
}

/// The `src` of every image in stored HTML whose `alt` is missing or blank.
pub fn images_without_alt(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut search = 0;
    while let Some(at) = html[search..].find("<img") {
        let start = search + at;
        let Some((attrs, end)) = img_attributes(html, start) else { break };
        search = end;
        let get = |name: &str| attrs.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| *v);
        if get("alt").is_none_or(|a| a.trim().is_empty()) {
            out.push(get("src").unwrap_or_default().replace("&amp;", "&"));
        }
    }
    out
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
            ready: true,
            view: std::sync::OnceLock::new(),
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
    fn library_pictures_in_a_text_are_drawn_in_every_size() {
        let p = picture(1600, 900, false);
        let lookup = |id: i64| (id == 7).then_some(&p);
        let html = r#"<p>a</p><figure><img src="/media/7" alt="Boats &amp; &quot;nets&quot; > 3"><figcaption>c</figcaption></figure><img src="/media/8" alt="x"><img src="https://e.example/a.png" alt="">"#;
        let out = expand_body(html, lookup, "100vw", "");
        assert!(
            out.starts_with(
                r#"<p>a</p><figure><picture><source type="image/avif" srcset="/media/7/2/320.avif 320w"#
            ),
            "{out}"
        );
        assert!(out.contains(r#"width="1600" height="900" alt="Boats &amp; &quot;nets&quot; > 3" loading="lazy" decoding="async"></picture><figcaption>c</figcaption></figure>"#), "{out}");
        // Unknown pictures and other addresses are left as they are.
        assert!(
            out.ends_with(r#"<img src="/media/8" alt="x"><img src="https://e.example/a.png" alt="">"#),
            "{out}"
        );
        // No alt in the text: the library's.
        let mut described = picture(800, 600, false);
        described.alt = "The \"quay\"".into();
        let out = expand_body(r#"<img src="/media/7" alt="">"#, |_| Some(&described), "50vw", "");
        assert!(out.contains(r#"alt="The &quot;quay&quot;""#), "{out}");
        // Files not made yet: left out, or what the caller puts in its place.
        described.ready = false;
        assert_eq!(
            expand_body(r#"<p><img src="/media/7" alt=""></p>"#, |_| Some(&described), "1", "…"),
            "<p>…</p>"
        );
        // Broken markup ends the scan without losing text.
        assert_eq!(
            expand_body("<p>x</p><img src=\"/media/7", lookup, "1", ""),
            "<p>x</p><img src=\"/media/7"
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
