//! URL slugs: lowercase ASCII letters, digits and single hyphens.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Slug(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a valid slug: use lowercase letters, digits and single hyphens (at most 200)")]
pub struct InvalidSlug(pub String);

impl Slug {
    pub const MAX_LEN: usize = 200;

    /// Accepts only a slug already in canonical form.
    pub fn parse(s: &str) -> Result<Self, InvalidSlug> {
        let valid = !s.is_empty()
            && s.len() <= Self::MAX_LEN
            && !s.starts_with('-')
            && !s.ends_with('-')
            && !s.contains("--")
            && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if valid { Ok(Self(s.to_owned())) } else { Err(InvalidSlug(s.to_owned())) }
    }

    /// Derives a slug from a headline or name: folds common accents, drops punctuation,
    /// joins words with hyphens and cuts at a word boundary.
    pub fn from_title(title: &str) -> Self {
        let mut out = String::with_capacity(title.len());
        let mut pending_hyphen = false;
        for c in title.chars().flat_map(fold_char) {
            if c.is_ascii_alphanumeric() {
                if pending_hyphen && !out.is_empty() {
                    out.push('-');
                }
                pending_hyphen = false;
                out.push(c.to_ascii_lowercase());
            } else if c != '\'' && c != '\u{2019}' {
                pending_hyphen = true;
            }
        }
        if out.len() > 80 {
            let cut = out[..80].rfind('-').unwrap_or(80);
            out.truncate(cut);
        }
        if out.is_empty() {
            out.push_str("untitled");
        }
        Self(out)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

fn fold_char(c: char) -> impl Iterator<Item = char> {
    let folded: &str = match c {
        'à' | 'á' | 'â' | 'ã' | 'ä' | 'å' | 'ā' | 'À' | 'Á' | 'Â' | 'Ã' | 'Ä' | 'Å' => "a",
        'æ' | 'Æ' => "ae",
        'ç' | 'č' | 'ć' | 'Ç' | 'Č' | 'Ć' => "c",
        'è' | 'é' | 'ê' | 'ë' | 'ē' | 'ę' | 'È' | 'É' | 'Ê' | 'Ë' => "e",
        'ì' | 'í' | 'î' | 'ï' | 'Ì' | 'Í' | 'Î' | 'Ï' => "i",
        'ñ' | 'ń' | 'Ñ' => "n",
        'ò' | 'ó' | 'ô' | 'õ' | 'ö' | 'ø' | 'Ò' | 'Ó' | 'Ô' | 'Õ' | 'Ö' | 'Ø' => "o",
        'ù' | 'ú' | 'û' | 'ü' | 'Ù' | 'Ú' | 'Û' | 'Ü' => "u",
        'ý' | 'ÿ' | 'Ý' => "y",
        'ß' => "ss",
        'š' | 'ś' | 'Š' | 'Ś' => "s",
        'ž' | 'ź' | 'ż' | 'Ž' | 'Ź' | 'Ż' => "z",
        'ł' | 'Ł' => "l",
        '&' => " and ",
        _ => "",
    };
    let single = if folded.is_empty() { Some(c) } else { None };
    folded.chars().chain(single)
}

impl fmt::Display for Slug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn titles_become_slugs() {
        assert_eq!(Slug::from_title("Harbour Bridge: what's next?").as_str(), "harbour-bridge-whats-next");
        assert_eq!(Slug::from_title("Café Señor & Ærø").as_str(), "cafe-senor-and-aero");
        assert_eq!(Slug::from_title("  --  ").as_str(), "untitled");
        assert_eq!(Slug::from_title("Ünïcödé — 2026").as_str(), "unicode-2026");
    }

    #[test]
    fn long_titles_are_cut_at_a_word() {
        let s = Slug::from_title(&"word ".repeat(40));
        assert!(s.as_str().len() <= 80);
        assert!(!s.as_str().ends_with('-'));
    }

    #[test]
    fn parse_accepts_only_canonical_slugs() {
        assert!(Slug::parse("city-council-2026").is_ok());
        for bad in ["", "-a", "a-", "a--b", "A", "a b", "a/b", "é", &"a".repeat(201)] {
            assert!(Slug::parse(bad).is_err(), "{bad:?} should be rejected");
        }
    }

    #[test]
    fn every_derived_slug_parses() {
        for title in ["Hello, world", "2026: a year", "ÀÉÎÕÜ", "a  b\tc", "<script>", "x'y"] {
            let slug = Slug::from_title(title);
            assert!(Slug::parse(slug.as_str()).is_ok(), "{title:?} -> {slug}");
        }
    }
}
