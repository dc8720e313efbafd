//! What the page cache files a request under, so that addresses cannot be multiplied.
//!
//! A page is keyed by its path and the query parameters that change it, in one order.
//! Tracking parameters that links from social networks, newsletters and ads carry (`utm_*`,
//! `fbclid`, `gclid`, `mc_cid` ...) change nothing on the page: they are left out of the key, so
//! the most-shared story of the day, reached through a thousand unique `fbclid`s, is one page
//! served from memory. A parameter no public page reads is not cached at all (answered like
//! any uncached request), and a key with parameters is stored only when it is asked for a second
//! time ([`Doorkeeper`]): a flood of unique searches or page numbers costs what the same number
//! of uncached requests costs, and fills no memory. The same rules are written for Varnish in
//! `deploy/varnish/gazette.vcl` (docs/OPERATIONS.md).

use std::borrow::Cow;
use std::collections::HashSet;
use std::sync::Mutex;

/// Longer request targets are not cached.
pub const MAX_TARGET: usize = 1024;

/// Parameters that public pages and the Content API read: `page` (lists, search), `q`,
/// `section`, `from`, `to`, `sort` (search), `p` (WordPress's `?p=ID`), `cpage`, `replyto`,
/// `comment` (an article's comments), and the API's filters. A handler that reads another one
/// is simply not cached with it.
const KNOWN: &[&str] = &[
    "after",
    "author",
    "comment",
    "cpage",
    "from",
    "limit",
    "p",
    "page",
    "path",
    "q",
    "replyto",
    "section",
    "since",
    "sort",
    "tag",
    "to",
    "until",
    "updated_since",
];

/// Whether a parameter only tells where a reader came from (analytics, ads, newsletters).
pub fn is_tracking(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("utm_")
        || lower.starts_with("mtm_")
        || lower.starts_with("pk_")
        || lower.starts_with("_hs")
        || matches!(
            lower.as_str(),
            "fbclid"
                | "gclid"
                | "gclsrc"
                | "dclid"
                | "gbraid"
                | "wbraid"
                | "msclkid"
                | "yclid"
                | "twclid"
                | "ttclid"
                | "li_fat_id"
                | "igshid"
                | "mc_cid"
                | "mc_eid"
                | "_ga"
                | "_gl"
                | "ref_src"
                | "ref_url"
                | "ocid"
                | "mkt_tok"
                | "s_cid"
                | "cmpid"
                | "oly_anon_id"
                | "oly_enc_id"
                | "rb_clickid"
                | "vero_id"
                | "wickedid"
                | "ncid"
                | "sr_share"
                | "at_medium"
                | "at_campaign"
                | "ito"
                | "xtor"
        )
}

/// The cache key of a request target (path and query), or None when it is not cached: an
/// unknown parameter, a parameter given twice, or a target longer than [`MAX_TARGET`].
pub fn key(target: &str) -> Option<Cow<'_, str>> {
    if target.len() > MAX_TARGET {
        return None;
    }
    let Some((path, query)) = target.split_once('?') else { return Some(Cow::Borrowed(target)) };
    let mut kept: Vec<(&str, &str)> = Vec::new();
    for pair in query.split('&').filter(|p| !p.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        if is_tracking(name) {
            continue;
        }
        if !KNOWN.contains(&name) || kept.iter().any(|(n, _)| *n == name) {
            return None;
        }
        kept.push((name, value));
    }
    if kept.is_empty() {
        return Some(Cow::Borrowed(path));
    }
    kept.sort_unstable();
    let mut out = String::with_capacity(target.len());
    out.push_str(path);
    for (i, (name, value)) in kept.iter().enumerate() {
        out.push(if i == 0 { '?' } else { '&' });
        out.push_str(name);
        out.push('=');
        out.push_str(value);
    }
    Some(Cow::Owned(out))
}

/// Remembers the keys with parameters seen once, so that only those asked for again are
/// stored. Bounded: forgotten all at once when full (a key then needs two more requests).
pub struct Doorkeeper {
    seen: Mutex<HashSet<u64>>,
    capacity: usize,
}

impl Doorkeeper {
    pub fn new(capacity: usize) -> Self {
        Self { seen: Mutex::new(HashSet::with_capacity(capacity.min(1 << 16))), capacity }
    }

    /// Whether a page at `key` may be stored: keys without parameters always (there are as
    /// many as there are pages), others from their second request.
    pub fn admits(&self, key: &str) -> bool {
        if !key.contains('?') {
            return true;
        }
        let hash = crate::theme::fnv1a64(key.as_bytes());
        let Ok(mut seen) = self.seen.lock() else { return false };
        if seen.remove(&hash) {
            return true;
        }
        if seen.len() >= self.capacity {
            seen.clear();
        }
        seen.insert(hash);
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tracking_parameters_leave_the_key() {
        assert_eq!(key("/").as_deref(), Some("/"));
        assert_eq!(key("/?utm_source=x&fbclid=abc").as_deref(), Some("/"));
        assert_eq!(
            key("/2026/12/01/story/?utm_medium=social&UTM_Campaign=z&gclid=1").as_deref(),
            Some("/2026/12/01/story/")
        );
        assert_eq!(key("/search?utm_source=n&q=ferry&page=2").as_deref(), Some("/search?page=2&q=ferry"));
        assert_eq!(key("/search?page=2&q=ferry").as_deref(), Some("/search?page=2&q=ferry"));
        assert_eq!(key("/?").as_deref(), Some("/"));
    }

    #[test]
    fn unknown_repeated_and_long_are_not_cached() {
        assert_eq!(key("/?nonce=123"), None);
        assert_eq!(key("/search?q=a&q=b"), None);
        assert_eq!(key(&format!("/search?q={}", "a".repeat(MAX_TARGET))), None);
    }

    #[test]
    fn keys_with_parameters_are_admitted_on_their_second_request() {
        let door = Doorkeeper::new(2);
        assert!(door.admits("/"));
        assert!(!door.admits("/search?q=a"));
        assert!(door.admits("/search?q=a"));
        // Full: forgotten at once, memory stays bounded.
        assert!(!door.admits("/search?q=b"));
        assert!(!door.admits("/search?q=c"));
        assert!(!door.admits("/search?q=d"));
        assert!(door.seen.lock().unwrap().len() <= 2);
    }
}
