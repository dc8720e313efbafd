//! Local copies of an imported site's images: `gazette media fetch` and `gazette import
//! wordpress --fetch-media`.
//!
//! An import records images by their original addresses, so the new site works at once but
//! still depends on the old host. This pass finds every remote image the site shows (the
//! export's attachments, featured images, and `<img src>` in article and page bodies on the
//! attachments' hosts), downloads each address once (a few at a time, with a timeout and a
//! size limit), adds it to the picture library through the same checks and processing as an
//! upload (metadata stripped, every size and format made by the picture jobs), and relinks the
//! articles and pages that showed it to the library picture (`/media/42`), each through the
//! content layer (a revision and an `article.updated` event), so caches and other nodes follow.
//!
//! Copies made by earlier versions (files stored as they came, `DATA_DIR/media/HASH.png`) join
//! the library on the next run, from disk, and what showed them is relinked the same way.
//!
//! It can run any time and any number of times: what was fetched is not fetched again, what
//! failed (the old host was down, a 404) is tried again on the next run, and an article that
//! already points at its copies is left alone. A failure never changes an article: it keeps
//! its working remote address, and the report says why.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::Path;
use std::time::Duration;

use anyhow::Context;

use crate::media::library::{self, AddError};
use crate::media::store::MediaStore;
use crate::storage::pictures::Description;
use crate::storage::{Db, now};
use crate::{content, fetch_all, tx_exec};

/// How the fetch behaves; the defaults suit a migration from a live WordPress host.
#[derive(Debug, Clone)]
pub struct Options {
    /// Downloads in flight at once.
    pub concurrency: usize,
    /// Longest wait for one file.
    pub timeout: Duration,
    /// Largest file accepted.
    pub max_bytes: usize,
    /// Fetch from loopback and private networks too (`[outbound] allow_private`: an old site
    /// on the same host or LAN). Off: the old host must be a public address.
    pub allow_private: bool,
    /// Private addresses allowed one by one (`[outbound] allow`).
    pub allow: Vec<std::net::IpAddr>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            concurrency: 4,
            timeout: Duration::from_secs(30),
            max_bytes: library::MAX_BYTES,
            allow_private: false,
            allow: Vec::new(),
        }
    }
}

/// What a run did.
#[derive(Debug, Default)]
pub struct Report {
    /// Remote images the site shows.
    pub found: usize,
    /// Downloaded and stored in this run.
    pub fetched: usize,
    /// Stored by an earlier run.
    pub already: usize,
    /// Addresses that could not be fetched, with the reason.
    pub failed: BTreeMap<String, String>,
    /// Articles and pages now showing local copies.
    pub articles_relinked: usize,
    pub pages_relinked: usize,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "  {:>7} remote images found", self.found)?;
        writeln!(f, "  {:>7} fetched now", self.fetched)?;
        writeln!(f, "  {:>7} fetched before", self.already)?;
        writeln!(f, "  {:>7} articles relinked to local copies", self.articles_relinked)?;
        writeln!(f, "  {:>7} pages relinked to local copies", self.pages_relinked)?;
        writeln!(
            f,
            "  {:>7} not fetched (kept at their original address; run again to retry)",
            self.failed.len()
        )?;
        for (url, why) in &self.failed {
            writeln!(f, "          {url}: {why}")?;
        }
        Ok(())
    }
}

const IMAGE_EXTENSIONS: &[&str] = &["jpg", "jpeg", "png", "gif", "webp"];

/// `scheme://host` of an absolute http(s) address.
fn origin(url: &str) -> Option<&str> {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"))?;
    let host_len = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    (host_len > 0).then(|| &url[..url.len() - rest.len() + host_len])
}

/// Whether the address's path names an image file (attachments may be PDFs or audio, which
/// the media store does not take).
fn looks_like_image(url: &str) -> bool {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    path.rsplit_once('.').is_some_and(|(_, ext)| {
        !ext.contains('/') && IMAGE_EXTENSIONS.contains(&ext.to_ascii_lowercase().as_str())
    })
}

/// The `src` of every `<img>` in some HTML, as written (entities decoded: `&amp;` is `&`).
pub fn image_sources(html: &str) -> Vec<String> {
    let mut out = Vec::new();
    let lower = html.to_ascii_lowercase();
    let mut from = 0;
    while let Some(at) = lower[from..].find("<img") {
        let start = from + at;
        let end = lower[start..].find('>').map_or(lower.len(), |e| start + e);
        let tag = &html[start..end];
        let tag_lower = &lower[start..end];
        let mut search = 0;
        while let Some(i) = tag_lower[search..].find("src") {
            let i = search + i;
            search = i + 3;
            // `src=`, not `data-src=` or `srcset=`.
            let before_ok = i == 0 || tag_lower.as_bytes()[i - 1].is_ascii_whitespace();
            let after = tag[i + 3..].trim_start();
            if !before_ok || !after.starts_with('=') {
                continue;
            }
            let value = after[1..].trim_start();
            let (quote, body) = match value.chars().next() {
                Some(q @ ('"' | '\'')) => (Some(q), &value[1..]),
                _ => (None, value),
            };
            let stop = match quote {
                Some(q) => body.find(q),
                None => body.find(|c: char| c.is_ascii_whitespace() || c == '>'),
            }
            .unwrap_or(body.len());
            out.push(body[..stop].replace("&amp;", "&"));
            break;
        }
        from = end.max(start + 4);
    }
    out
}

/// Replaces every remote address that has a local copy; returns the new text when it changed.
/// An address is replaced only where it ends (a quote, a space, `<`, `)` or the end follows),
/// so a copy of `a.png` never rewrites the start of `a.png?size=2`.
fn relink(text: &str, links: &[(String, String)]) -> Option<String> {
    let mut out = text.to_owned();
    for (remote, local) in links {
        out = replace_whole(&out, remote, local);
        let escaped = remote.replace('&', "&amp;");
        if escaped != *remote {
            out = replace_whole(&out, &escaped, local);
        }
    }
    (out != text).then_some(out)
}

fn replace_whole(text: &str, from: &str, to: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(from) {
        let after = &rest[at + from.len()..];
        let ends = after.chars().next().is_none_or(|c| c.is_whitespace() || "\"'<>)".contains(c));
        out.push_str(&rest[..at]);
        out.push_str(if ends { to } else { from });
        rest = after;
    }
    out.push_str(rest);
    out
}

/// The file name an address ends with (what the library shows for the picture).
fn file_name(url: &str) -> String {
    let path = url.split(['?', '#']).next().unwrap_or(url);
    library::clean_file_name(path.rsplit('/').next().unwrap_or(path))
}

/// Adds downloaded or legacy bytes to the library; the reference, or why not.
async fn into_library(
    db: &Db,
    store: &MediaStore,
    bytes: &[u8],
    url: &str,
) -> anyhow::Result<Result<String, String>> {
    match library::add(db, store, bytes, &file_name(url), &Description::default(), None).await {
        Ok(id) => Ok(Ok(crate::media::markup::reference(id))),
        Err(AddError::Refused(why)) => Ok(Err(why.to_string())),
        Err(AddError::Internal(e)) => Err(e.context("adding a fetched picture to the library")),
    }
}

/// Finds, fetches and relinks; see the module's documentation.
pub async fn fetch(
    db: &Db,
    store: &MediaStore,
    data_dir: &Path,
    options: &Options,
    mut progress: impl FnMut(usize, usize),
) -> anyhow::Result<Report> {
    let mut report = Report::default();

    // Copies stored as files by earlier versions, by their address on this site.
    let known: Vec<(String, Option<String>)> =
        fetch_all!(db, (String, Option<String>), "SELECT url, local_name FROM remote_media")?;
    let legacy: HashMap<String, String> = known
        .iter()
        .filter_map(|(url, name)| {
            name.as_deref().filter(|n| crate::media::is_stored_name(n)).map(|n| (url, n))
        })
        .map(|(url, name)| (format!("/media/{name}"), url.clone()))
        .collect();

    // 1. The remote images the site shows, on the hosts its attachments came from (or the
    // earlier copies of them).
    let attachments: Vec<(String,)> = fetch_all!(db, (String,), "SELECT url FROM attachments")?;
    let hosts: BTreeSet<String> =
        attachments.iter().filter_map(|(u,)| origin(u)).map(str::to_owned).collect();
    let ours = |url: &str| {
        origin(url).is_some_and(|o| hosts.contains(o)) && looks_like_image(url) || legacy.contains_key(url)
    };
    // An earlier copy stands for its remote address.
    let remote = |url: String| legacy.get(&url).cloned().unwrap_or(url);
    let mut wanted: BTreeSet<String> =
        attachments.into_iter().map(|(u,)| u).filter(|u| looks_like_image(u)).collect();
    // (id, is_article) of the items that show one of them.
    let mut showing: Vec<(i64, bool)> = Vec::new();
    let mut after = 0_i64;
    loop {
        let rows: Vec<(i64, String, Option<String>)> = fetch_all!(
            db,
            (i64, String, Option<String>),
            "SELECT id, body_source, featured_image_url FROM articles WHERE id > $1 ORDER BY id LIMIT 500",
            after
        )?;
        let Some(last) = rows.last() else { break };
        after = last.0;
        for (id, body, image) in rows {
            let mut urls: Vec<String> = image_sources(&body).into_iter().filter(|u| ours(u)).collect();
            urls.extend(image.filter(|u| ours(u)));
            if !urls.is_empty() {
                showing.push((id, true));
                wanted.extend(urls.into_iter().map(remote));
            }
        }
    }
    let pages: Vec<(i64, String)> = fetch_all!(db, (i64, String), "SELECT id, body_source FROM pages")?;
    for (id, body) in pages {
        let urls: Vec<String> = image_sources(&body).into_iter().filter(|u| ours(u)).collect();
        if !urls.is_empty() {
            showing.push((id, false));
            wanted.extend(urls.into_iter().map(remote));
        }
    }
    report.found = wanted.len();

    // 2. What earlier runs stored (a library picture; or a file, which joins the library
    // now); fetch the rest.
    let mut local: HashMap<String, String> = HashMap::new();
    for (url, name) in known {
        let Some(name) = name.filter(|_| wanted.contains(&url)) else { continue };
        if let Some(id) = crate::media::markup::picture_id(&name) {
            if crate::storage::pictures::get(db, id).await?.is_some() {
                local.insert(url, name);
            }
        } else if crate::media::is_stored_name(&name)
            && let Ok(bytes) = tokio::fs::read(crate::media::dir(data_dir).join(&name)).await
            && let Ok(reference) = into_library(db, store, &bytes, &url).await?
        {
            let mut tx = db.begin().await?;
            tx_exec!(&mut tx, "UPDATE remote_media SET local_name = $1 WHERE url = $2", &reference, &url)?;
            tx.commit().await?;
            local.insert(url, reference);
        }
    }
    report.already = local.len();
    let todo: Vec<String> = wanted.iter().filter(|u| !local.contains_key(*u)).cloned().collect();
    if !todo.is_empty() {
        // Every download through the server's one outbound guard: public addresses only (each
        // redirect checked too), a time and a size limit.
        let guard = crate::outbound::Guard {
            allow_private: options.allow_private,
            allow: options.allow.clone(),
            timeout: options.timeout,
            connect_timeout: Duration::from_secs(10).min(options.timeout),
            max_bytes: options.max_bytes,
            user_agent: concat!("Gazette/", env!("CARGO_PKG_VERSION"), " (media import)"),
            ..Default::default()
        };
        let total = todo.len();
        let mut done = 0;
        let mut queue = todo.into_iter();
        let mut running = tokio::task::JoinSet::new();
        loop {
            while running.len() < options.concurrency.max(1) {
                let Some(url) = queue.next() else { break };
                let guard = guard.clone();
                running.spawn(async move {
                    let result = download(&guard, &url).await;
                    (url, result)
                });
            }
            let Some(joined) = running.join_next().await else { break };
            let (url, result) = joined.context("a download task failed")?;
            let outcome = match result {
                Ok(bytes) => into_library(db, store, &bytes, &url).await?,
                Err(err) => Err(err),
            };
            let mut tx = db.begin().await?;
            match &outcome {
                Ok(name) => tx_exec!(
                    &mut tx,
                    "INSERT INTO remote_media (url, local_name, error, attempts, fetched_at) VALUES ($1, $2, NULL, 1, $3) \
                     ON CONFLICT (url) DO UPDATE SET local_name = $2, error = NULL, \
                     attempts = remote_media.attempts + 1, fetched_at = $3",
                    &url,
                    name,
                    now()
                )?,
                Err(why) => tx_exec!(
                    &mut tx,
                    "INSERT INTO remote_media (url, local_name, error, attempts) VALUES ($1, NULL, $2, 1) \
                     ON CONFLICT (url) DO UPDATE SET error = $2, attempts = remote_media.attempts + 1",
                    &url,
                    why
                )?,
            };
            tx.commit().await?;
            match outcome {
                Ok(name) => {
                    report.fetched += 1;
                    local.insert(url, name);
                }
                Err(why) => {
                    report.failed.insert(url, why);
                }
            }
            done += 1;
            progress(done, total);
        }
    }

    // 3. Relink what shows them (the remote address, and an earlier copy's), longest first.
    let mut links: Vec<(String, String)> =
        legacy.iter().filter_map(|(copy, url)| local.get(url).map(|r| (copy.clone(), r.clone()))).collect();
    links.extend(local);
    links.sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
    if links.is_empty() {
        return Ok(report);
    }
    for (id, is_article) in showing {
        let changed = if is_article {
            content::relink_article_media(db, id, |text| relink(text, &links)).await?
        } else {
            content::relink_page_media(db, id, |text| relink(text, &links)).await?
        };
        if changed {
            if is_article {
                report.articles_relinked += 1;
            } else {
                report.pages_relinked += 1;
            }
        }
    }
    Ok(report)
}

/// One file, through the guard (which refuses an oversized one without holding it whole).
async fn download(guard: &crate::outbound::Guard, url: &str) -> Result<Vec<u8>, String> {
    let answer = guard.get(url).await?;
    if !(200..300).contains(&answer.status) {
        return Err(format!(
            "the server answered {}",
            reqwest::StatusCode::from_u16(answer.status)
                .map_or_else(|_| answer.status.to_string(), |s| s.to_string())
        ));
    }
    Ok(answer.body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_sources_are_read_from_img_tags_only() {
        let html = r#"<p><img class="x" data-src="a.png" src="https://old.example/wp-content/uploads/a.png?w=1&amp;h=2" srcset="b.png 2x"></p>
            <IMG SRC='https://old.example/b.JPG'><a href="https://old.example/c.png">c</a><img src=plain.gif alt=x>"#;
        assert_eq!(
            image_sources(html),
            [
                "https://old.example/wp-content/uploads/a.png?w=1&h=2",
                "https://old.example/b.JPG",
                "plain.gif"
            ]
        );
        assert!(looks_like_image("https://old.example/b.JPG?x=1"));
        assert!(!looks_like_image("https://old.example/report.pdf"));
        assert!(!looks_like_image("https://old.example.png/page"));
        assert_eq!(origin("https://old.example/x/y.png"), Some("https://old.example"));
        assert_eq!(origin("ftp://old.example/x"), None);
    }

    #[test]
    fn relinking_replaces_whole_addresses_and_escaped_forms() {
        let links = vec![
            ("https://o.example/a-300x200.png".to_owned(), "/media/2.png".to_owned()),
            ("https://o.example/a.png?x=1&y=2".to_owned(), "/media/3.png".to_owned()),
            ("https://o.example/a.png".to_owned(), "/media/1.png".to_owned()),
        ];
        let body = r#"<img src="https://o.example/a.png"><img src="https://o.example/a-300x200.png"><img src="https://o.example/a.png?x=1&amp;y=2">"#;
        assert_eq!(
            relink(body, &links).unwrap(),
            r#"<img src="/media/1.png"><img src="/media/2.png"><img src="/media/3.png">"#
        );
        assert_eq!(relink("<p>no images</p>", &links), None);
        // A copy of one address leaves a longer one that it begins alone.
        assert_eq!(relink(r#"<img src="https://o.example/a.png?v=9">"#, &links), None);
        assert_eq!(relink("https://o.example/a.png", &links).as_deref(), Some("/media/1.png"));
    }
}
