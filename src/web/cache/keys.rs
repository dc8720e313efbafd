//! Surrogate keys: the names under which a shared cache (Varnish, a CDN) files each public
//! response, so that a content event purges exactly the pages it changed.
//!
//! Every page carries `all`; a page showing an article carries `a<ID>` (its own page, and every
//! card of it elsewhere: noted while rendering); listings carry what decides their contents:
//! `front`, `section-<slug>`, `tag-<slug>`, `author-<slug>`, `archive` (dates), `feeds`,
//! `sitemap`, `search`, `api` (the JSON API's lists and search; its answers about one article
//! carry that article's key like its page). Keys hold only `[a-z0-9-]`, so a cache can match them in a regular
//! expression safely; a slug with other characters is named by a hash of it.

use crate::storage::Db;

/// Keys are sent in one header; a page showing more articles than this is filed under its
/// listing keys and `all` only for the rest (still purged by any change that lists anew).
pub const MAX_ARTICLE_KEYS: usize = 200;

pub fn article(id: i64) -> String {
    format!("a{id}")
}

/// The key of a section, tag or author listing, by its slug.
pub fn term(kind: &str, slug: &str) -> String {
    if !slug.is_empty() && slug.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-') {
        format!("{kind}-{slug}")
    } else {
        format!("{kind}-x{:016x}", crate::theme::fnv1a64(slug.as_bytes()))
    }
}

/// Percent-decodes text, keeping what does not decode as it is and replacing invalid UTF-8
/// (for showing and naming things, never for checking them); `+` is a space in form bodies.
pub(crate) fn percent_decoded(raw: &[u8], plus_is_space: bool) -> String {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' if plus_is_space => out.push(b' '),
            b'%' if let Some(b) = raw
                .get(i + 1..i + 3)
                .and_then(|h| u8::from_str_radix(std::str::from_utf8(h).ok()?, 16).ok()) =>
            {
                out.push(b);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The listing keys of a public path (the articles a page shows are added while it renders).
pub fn for_path(path: &str) -> Vec<String> {
    let segments: Vec<&str> = path.trim_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let mut keys = vec!["all".to_owned()];
    match segments.as_slice() {
        [] => keys.push("front".into()),
        ["api", ..] => keys.push("api".into()),
        ["search"] => keys.push("search".into()),
        ["feed.xml" | "atom.xml" | "feed.json"] => keys.push("feeds".into()),
        ["sitemap.xml" | "sitemap-news.xml"] | ["sitemaps", _] => keys.push("sitemap".into()),
        [kind @ ("section" | "tag" | "author"), slug, rest @ ..] => {
            keys.push(term(kind, &percent_decoded(slug.as_bytes(), false)));
            if !rest.is_empty() {
                keys.push("feeds".into());
            }
        }
        // Years, months and days (and, sharing the single segment, static pages and articles,
        // which the extra key costs nothing).
        [_] | [_, _] | [_, _, _] => keys.push("archive".into()),
        _ => {}
    }
    keys
}

/// Whether an event changes every page (menus, bylines, settings): its keys are `all`.
pub fn changes_everything(kind: &str, subject: i64) -> bool {
    subject <= 0
        || !matches!(
            kind,
            "article.published"
                | "article.unpublished"
                | "article.updated"
                | "article.purged"
                | "comment.approved"
                | "comment.unapproved"
                | "comment.edited"
                | "related.updated"
                | "picture.added"
                | "picture.ready"
                | "picture.changed"
                | "picture.deleted"
        )
}

/// What a content event changes in a shared cache: the keys to purge.
pub async fn for_event(db: &Db, kind: &str, subject: i64) -> anyhow::Result<Vec<String>> {
    let article_scoped = |extra: &[&str]| {
        let mut keys = vec![article(subject)];
        keys.extend(extra.iter().map(|k| (*k).to_owned()));
        keys
    };
    Ok(match kind {
        _ if changes_everything(kind, subject) => vec!["all".to_owned()],
        // Into or out of every list it belongs to.
        "article.published" | "article.unpublished" => {
            let mut keys = article_scoped(&["front", "archive", "feeds", "sitemap", "search", "api"]);
            keys.extend(terms(db, subject).await?);
            keys
        }
        // Its own page and every card of it; the lists of terms it may have just joined; the
        // front page (a story made sticky) and the sitemaps (modification times).
        "article.updated" => {
            let mut keys = article_scoped(&["front", "sitemap", "api"]);
            keys.extend(terms(db, subject).await?);
            keys
        }
        "article.purged" | "comment.approved" | "comment.unapproved" | "comment.edited"
        | "related.updated" => article_scoped(&[]),
        // Pages name a picture's variants before they are made; nothing shows a deleted one.
        "picture.added" | "picture.ready" | "picture.deleted" => Vec::new(),
        // The pages of the articles that show it (their cards follow the article's key); a
        // picture on a static page is shown in its body alone.
        "picture.changed" => crate::storage::pictures::uses(db, subject)
            .await?
            .into_iter()
            .map(|u| if u.kind == "article" { article(u.subject_id) } else { "all".to_owned() })
            .collect(),
        // Sections, tags, authors, pages and settings show in menus and bylines everywhere.
        _ => vec!["all".to_owned()],
    })
}

/// The listing keys of an article's sections, tags and authors.
async fn terms(db: &Db, article_id: i64) -> anyhow::Result<Vec<String>> {
    Ok(crate::storage::articles::terms(db, article_id)
        .await?
        .into_iter()
        .map(|t| term(&t.kind, &t.slug))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_name_what_decides_their_lists() {
        assert_eq!(for_path("/"), ["all", "front"]);
        assert_eq!(for_path("/section/harbour/"), ["all", "section-harbour"]);
        assert_eq!(for_path("/tag/ferry-strike/feed.xml"), ["all", "tag-ferry-strike", "feeds"]);
        assert_eq!(for_path("/feed.json"), ["all", "feeds"]);
        assert_eq!(for_path("/sitemaps/articles-1.xml"), ["all", "sitemap"]);
        assert_eq!(for_path("/2026/12/"), ["all", "archive"]);
        assert_eq!(for_path("/search"), ["all", "search"]);
        assert_eq!(for_path("/api/v1/articles"), ["all", "api"]);
        let odd = for_path("/tag/caf%C3%A9/");
        assert_eq!(odd[1], term("tag", "café"));
        assert!(odd[1].bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-'), "{odd:?}");
    }
}
