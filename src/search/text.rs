//! Text analysis shared by search and related posts: words are split on anything that is not a
//! letter or digit, folded (lower case, diacritics removed: "Café" finds "cafe"), and stemmed
//! with the Snowball English stemmer ("elections" finds "election"). Names (runs of capitalized
//! words inside sentences) are extracted for related posts.

use std::sync::OnceLock;

use rust_stemmers::{Algorithm, Stemmer};
use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

fn stemmer() -> &'static Stemmer {
    static STEMMER: OnceLock<Stemmer> = OnceLock::new();
    STEMMER.get_or_init(|| Stemmer::create(Algorithm::English))
}

/// Words too common to help search or relatedness.
const STOPWORDS: &[&str] = &[
    "a", "about", "after", "all", "also", "an", "and", "any", "are", "as", "at", "be", "been", "but", "by",
    "can", "could", "did", "do", "does", "for", "from", "had", "has", "have", "he", "her", "his", "how", "i",
    "if", "in", "into", "is", "it", "its", "just", "more", "most", "my", "no", "not", "of", "on", "one",
    "or", "our", "out", "over", "said", "says", "she", "so", "some", "than", "that", "the", "their", "them",
    "then", "there", "these", "they", "this", "those", "to", "up", "was", "we", "were", "what", "when",
    "which", "who", "will", "with", "would", "you", "your", "new", "year", "years", "says", "told", "mr",
    "mrs", "ms",
];

pub fn is_stopword(word: &str) -> bool {
    static SET: OnceLock<std::collections::HashSet<&'static str>> = OnceLock::new();
    SET.get_or_init(|| STOPWORDS.iter().copied().collect()).contains(word)
}

/// Lower case without diacritics; a few letters that do not decompose are spelled out.
pub fn fold(word: &str) -> String {
    if word.is_ascii() {
        let mut out = word.to_ascii_lowercase();
        out.retain(|c| c != '\'');
        return out;
    }
    let mut out = String::with_capacity(word.len());
    for c in word.nfd() {
        if is_combining_mark(c) {
            continue;
        }
        match c {
            'ß' => out.push_str("ss"),
            'æ' | 'Æ' => out.push_str("ae"),
            'œ' | 'Œ' => out.push_str("oe"),
            'ø' | 'Ø' => out.push('o'),
            'đ' | 'Đ' | 'ð' | 'Ð' => out.push('d'),
            'ł' | 'Ł' => out.push('l'),
            'þ' | 'Þ' => out.push_str("th"),
            'ı' => out.push('i'),
            '\u{2019}' | '\'' => {}
            c => out.extend(c.to_lowercase()),
        }
    }
    out
}

/// The words of a text, as typed (apostrophes inside words kept: "harbour's").
pub fn words(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| !(c.is_alphanumeric() || c == '\'' || c == '\u{2019}'))
        .map(|w| w.trim_matches(|c| c == '\'' || c == '\u{2019}'))
        .filter(|w| !w.is_empty())
}

/// The index term of one word: folded and stemmed; `None` for stop words and noise.
pub fn term(word: &str) -> Option<String> {
    term_of_folded(&fold(word))
}

/// The index term of a word already folded.
pub fn term_of_folded(folded: &str) -> Option<String> {
    if !indexable(folded) {
        return None;
    }
    Some(stemmer().stem(folded).into_owned())
}

/// Whether a folded word is worth indexing (not a stop word, not noise).
pub fn indexable(folded: &str) -> bool {
    !folded.is_empty() && folded.len() <= 40 && !is_stopword(folded)
}

/// Index terms of a text, in order (stop words dropped).
pub fn terms(text: &str) -> Vec<String> {
    words(text).filter_map(term).collect()
}

/// The terms of a text with their folded (unstemmed) form, for prefix matching and snippets.
pub fn folded_words(text: &str) -> Vec<String> {
    words(text).map(fold).filter(|w| !w.is_empty()).collect()
}

/// Names in a text: runs of capitalized words (two or more, or one that is not at the start of
/// a sentence), folded. "Ruth Amadi met the Port Calder council" gives "ruth amadi",
/// "port calder".
pub fn names(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    for sentence in text.split(['.', '!', '?', '\n', ':', ';', '"', '\u{201C}', '\u{201D}']) {
        let mut run: Vec<&str> = Vec::new();
        let mut first = true;
        let flush = |run: &mut Vec<&str>, out: &mut Vec<String>, started_sentence: bool| {
            let long_enough = run.len() >= 2 || (run.len() == 1 && !started_sentence);
            if long_enough {
                let name: Vec<String> = run.iter().map(|w| fold(w)).collect();
                if !(run.len() == 1 && is_stopword(&name[0])) {
                    out.push(name.join(" "));
                }
            }
            run.clear();
        };
        let mut run_started_sentence = false;
        for word in sentence.split_whitespace() {
            let clean = word.trim_matches(|c: char| !c.is_alphanumeric());
            let capitalized = clean.chars().next().is_some_and(char::is_uppercase)
                && clean.chars().count() > 1
                && !clean.chars().all(|c| c.is_uppercase() || !c.is_alphabetic());
            if capitalized && !is_stopword(&fold(clean)) {
                if run.is_empty() {
                    run_started_sentence = first;
                }
                run.push(clean);
            } else {
                flush(&mut run, &mut out, run_started_sentence);
            }
            // A word ending in a comma breaks a name run ("Amadi, Lindqvist").
            if word.ends_with(',') {
                flush(&mut run, &mut out, run_started_sentence);
            }
            first = false;
        }
        flush(&mut run, &mut out, run_started_sentence);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folding_and_stemming() {
        assert_eq!(fold("Café Ñandú Straße"), "cafe nandu strasse");
        assert_eq!(term("Elections"), term("election"));
        assert_eq!(term("running"), Some("run".into()));
        assert_eq!(term("the"), None);
        assert_eq!(terms("The harbour's ferries, sailing!"), vec!["harbour", "ferri", "sail"]);
    }

    #[test]
    fn names_are_capitalized_runs() {
        let n = names("Ruth Amadi met the Port Calder council. Later, Amadi said the Bridge was fine.");
        assert!(n.contains(&"ruth amadi".to_owned()), "{n:?}");
        assert!(n.contains(&"port calder".to_owned()), "{n:?}");
        assert!(n.contains(&"amadi".to_owned()), "{n:?}");
        assert!(!n.contains(&"later".to_owned()), "{n:?}");
    }
}
