//! The local spam filter: naive Bayes over a comment's words, the places it links to and a few
//! facts about it (how many links, whether a website was given, the email's domain, the
//! length, shouting).
//!
//! It starts from the model shipped in `models/spam.json` (built by `gazette spam train` from a
//! labelled corpus) and adds what moderators teach it: every "spam" / "not spam" decision is
//! stored as token counts in `spam_tokens`, in the same transaction as the decision, so every
//! node (and a restart) learns it too. Until it has seen enough of both kinds it abstains: a
//! filter that knows nothing must not hold every comment. A moderator always has the last word.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::sync::RwLock;

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};

use crate::domain::comment::count_links;

/// The model shipped with Gazette (empty until built from a corpus: see docs/COMMENTS.md).
const SHIPPED: &str = include_str!("../models/spam.json");
/// Fewer examples of either kind than this, and the filter gives no opinion.
pub const MIN_DOCS: u64 = 10;
/// Token under which document counts are stored in `spam_tokens`.
pub const DOCS_TOKEN: &str = "\u{1}documents";

/// Word counts per class.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Model {
    pub spam_docs: u64,
    pub ham_docs: u64,
    /// token -> (spam count, ham count), counting each document once per token.
    pub tokens: HashMap<String, (u64, u64)>,
}

/// The parts of a comment the filter looks at.
#[derive(Debug, Clone, Default)]
pub struct Sample<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub url: &'a str,
    pub text: &'a str,
}

/// The distinct features of a comment.
pub fn features(sample: &Sample) -> Vec<String> {
    let mut out: HashSet<String> = HashSet::new();
    let text = sample.text;
    for word in
        text.split(|c: char| !c.is_alphanumeric() && c != '\'' && c != '$').map(|w| w.trim_matches('\''))
    {
        let count = word.chars().count();
        if (2..=24).contains(&count) {
            out.insert(word.to_lowercase());
        }
    }
    for host in hosts(text).into_iter().chain(hosts(sample.url)) {
        out.insert(format!("link:{host}"));
    }
    for word in sample.name.split_whitespace().take(4) {
        out.insert(format!("name:{}", word.to_lowercase()));
    }
    let links = count_links(text);
    out.insert(format!("meta:links:{}", links.min(3)));
    out.insert(format!("meta:website:{}", !sample.url.is_empty()));
    if let Some((_, domain)) = sample.email.rsplit_once('@') {
        out.insert(format!("meta:email:{}", domain.to_lowercase()));
    }
    let chars = text.chars().count();
    let bucket = match chars {
        0..=20 => "tiny",
        21..=80 => "short",
        81..=400 => "medium",
        401..=1500 => "long",
        _ => "huge",
    };
    out.insert(format!("meta:length:{bucket}"));
    let letters = text.chars().filter(|c| c.is_alphabetic()).count();
    let upper = text.chars().filter(|c| c.is_uppercase()).count();
    if letters >= 10 && upper * 2 > letters {
        out.insert("meta:shouting".to_owned());
    }
    if text.contains('!') && text.matches('!').count() >= 3 {
        out.insert("meta:exclaiming".to_owned());
    }
    let mut out: Vec<String> = out.into_iter().collect();
    out.sort();
    out
}

/// Host names of the addresses in a text, without `www.`.
fn hosts(text: &str) -> Vec<String> {
    text.split_whitespace()
        .filter_map(|w| {
            let lower = w.to_ascii_lowercase();
            let rest = lower
                .strip_prefix("https://")
                .or_else(|| lower.strip_prefix("http://"))
                .or_else(|| lower.starts_with("www.").then_some(lower.as_str()))?;
            let host = rest.split(['/', '?', '#', ')', ',', '"', '\'']).next()?.trim_end_matches('.');
            let host = host.strip_prefix("www.").unwrap_or(host);
            (!host.is_empty()).then(|| host.to_owned())
        })
        .collect()
}

impl Model {
    pub fn shipped() -> anyhow::Result<Self> {
        serde_json::from_str(SHIPPED).context("the shipped spam model (models/spam.json) is not valid")
    }

    /// Adds (`delta` = 1) or removes (`delta` = -1) one labelled document's features.
    pub fn learn(&mut self, features: &[String], spam: bool, delta: i64) {
        let bump = |n: &mut u64| *n = n.saturating_add_signed(delta);
        bump(if spam { &mut self.spam_docs } else { &mut self.ham_docs });
        for f in features {
            let entry = self.tokens.entry(f.clone()).or_default();
            bump(if spam { &mut entry.0 } else { &mut entry.1 });
        }
    }

    /// Whether the model has seen enough to give an opinion.
    pub fn ready(&self) -> bool {
        self.spam_docs >= MIN_DOCS && self.ham_docs >= MIN_DOCS
    }

    /// The probability that a comment with these features is spam; `None` when not ready.
    ///
    /// Bernoulli naive Bayes on the features the model knows, with add-one smoothing: each
    /// known feature adds `ln P(f|spam) - ln P(f|ham)`; the sum and the prior give the odds.
    pub fn score(&self, features: &[String]) -> Option<f64> {
        if !self.ready() {
            return None;
        }
        let (s, h) = (self.spam_docs as f64, self.ham_docs as f64);
        let mut log_odds = (s / h).ln();
        for f in features {
            if let Some(&(fs, fh)) = self.tokens.get(f) {
                if fs + fh < 2 {
                    continue;
                }
                log_odds += ((fs as f64 + 1.0) / (s + 2.0)).ln() - ((fh as f64 + 1.0) / (h + 2.0)).ln();
            }
        }
        Some(1.0 / (1.0 + (-log_odds.clamp(-50.0, 50.0)).exp()))
    }

    /// Drops tokens seen fewer than `min` times in all (keeps the shipped file small).
    pub fn prune(&mut self, min: u64) {
        self.tokens.retain(|_, (s, h)| *s + *h >= min);
    }
}

/// The filter a running node uses: the shipped model plus what was learned in the store.
pub struct SpamFilter {
    model: RwLock<Model>,
}

impl SpamFilter {
    pub fn new(model: Model) -> Self {
        Self { model: RwLock::new(model) }
    }

    pub fn score(&self, features: &[String]) -> Option<f64> {
        self.model.read().ok()?.score(features)
    }

    pub fn learn(&self, features: &[String], spam: bool, delta: i64) {
        if let Ok(mut m) = self.model.write() {
            m.learn(features, spam, delta);
        }
    }

    pub fn replace(&self, model: Model) {
        if let Ok(mut m) = self.model.write() {
            *m = model;
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Labelled corpora
// ---------------------------------------------------------------------------------------------

/// One labelled comment from a corpus.
#[derive(Debug, Clone)]
pub struct Labelled {
    pub author: String,
    pub text: String,
    pub spam: bool,
}

impl Labelled {
    pub fn features(&self) -> Vec<String> {
        features(&Sample { name: &self.author, email: "", url: "", text: &self.text })
    }
}

const TEXT_KEYS: &[&str] = &["content", "text", "comment", "comment_text", "body", "message"];
const LABEL_KEYS: &[&str] = &["class", "label", "spam", "is_spam", "category"];
const AUTHOR_KEYS: &[&str] = &["author", "name", "comment_author"];

fn parse_label(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "spam" | "true" | "yes" => Some(true),
        "0" | "ham" | "false" | "no" | "not_spam" | "not spam" | "legitimate" => Some(false),
        _ => None,
    }
}

/// Reads labelled comments from a file or, recursively, from the `.csv`, `.jsonl` and `.json`
/// files of a directory. Columns (or keys) are found by name: text in one of `content`, `text`,
/// `comment`, `body`, `message`; the label in `class`, `label`, `spam`, `is_spam` (`1`/`spam`
/// is spam, `0`/`ham` is not); the author, if any, in `author` or `name`.
pub fn load_corpus(path: &Path) -> anyhow::Result<Vec<Labelled>> {
    let mut files = Vec::new();
    collect_files(path, &mut files)?;
    files.sort();
    let mut out = Vec::new();
    for file in &files {
        let before = out.len();
        let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        let text = String::from_utf8_lossy(&bytes);
        match ext.as_str() {
            "csv" => read_csv(&text, &mut out).with_context(|| format!("in {}", file.display()))?,
            "jsonl" | "json" => {
                read_json(&text, &mut out).with_context(|| format!("in {}", file.display()))?
            }
            _ => continue,
        }
        tracing::debug!(file = %file.display(), comments = out.len() - before, "read corpus file");
    }
    if out.is_empty() {
        bail!("no labelled comments found in {}", path.display());
    }
    Ok(out)
}

fn collect_files(path: &Path, files: &mut Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).with_context(|| format!("reading {}", path.display()))? {
            collect_files(&entry?.path(), files)?;
        }
    } else if path.is_file() {
        files.push(path.to_owned());
    } else {
        bail!("{} does not exist", path.display());
    }
    Ok(())
}

fn column(header: &[String], keys: &[&str]) -> Option<usize> {
    keys.iter().find_map(|k| header.iter().position(|h| h.trim().eq_ignore_ascii_case(k)))
}

fn read_csv(text: &str, out: &mut Vec<Labelled>) -> anyhow::Result<()> {
    let rows = parse_csv(text);
    let Some((header, rows)) = rows.split_first() else { return Ok(()) };
    let text_col = column(header, TEXT_KEYS).context("no text column (content, text, comment ...)")?;
    let label_col = column(header, LABEL_KEYS).context("no label column (class, label, spam ...)")?;
    let author_col = column(header, AUTHOR_KEYS);
    for row in rows {
        let (Some(text), Some(label)) = (row.get(text_col), row.get(label_col).and_then(|l| parse_label(l)))
        else {
            continue;
        };
        let author = author_col.and_then(|c| row.get(c)).cloned().unwrap_or_default();
        out.push(Labelled { author, text: text.clone(), spam: label });
    }
    Ok(())
}

/// RFC 4180 CSV: quoted fields may hold commas, quotes (doubled) and line breaks.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.trim_start_matches('\u{FEFF}').chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

fn read_json(text: &str, out: &mut Vec<Labelled>) -> anyhow::Result<()> {
    let values: Vec<serde_json::Value> = if text.trim_start().starts_with('[') {
        serde_json::from_str(text)?
    } else {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("line {}", i + 1)))
            .collect::<anyhow::Result<_>>()?
    };
    let find = |v: &serde_json::Value, keys: &[&str]| -> Option<String> {
        let obj = v.as_object()?;
        keys.iter().find_map(|k| {
            obj.iter().find(|(name, _)| name.eq_ignore_ascii_case(k)).and_then(|(_, v)| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        })
    };
    for v in &values {
        let (Some(text), Some(spam)) =
            (find(v, TEXT_KEYS), find(v, LABEL_KEYS).and_then(|l| parse_label(&l)))
        else {
            continue;
        };
        out.push(Labelled { author: find(v, AUTHOR_KEYS).unwrap_or_default(), text, spam });
    }
    Ok(())
}

/// Trains a model on labelled comments.
pub fn train(corpus: &[Labelled]) -> Model {
    let mut model = Model::default();
    for c in corpus {
        model.learn(&c.features(), c.spam, 1);
    }
    model
}

/// Whether a labelled comment belongs to the held-out fifth (by a hash of its text, so the
/// split is the same on every run and every machine).
pub fn held_out(c: &Labelled) -> bool {
    crate::theme::fnv1a64(c.text.as_bytes()).is_multiple_of(5)
}

/// Precision and recall of the filter on a held-out part of a corpus.
#[derive(Debug, Clone, Serialize)]
pub struct Evaluation {
    pub trained_on: usize,
    pub tested_on: usize,
    pub spam_in_test: usize,
    /// Predicted spam at probability >= threshold.
    pub threshold: f64,
    pub precision: f64,
    pub recall: f64,
    pub f1: f64,
    pub accuracy: f64,
}

pub fn evaluate(corpus: &[Labelled], thresholds: &[f64]) -> Vec<Evaluation> {
    let (test, train_set): (Vec<&Labelled>, Vec<&Labelled>) = corpus.iter().partition(|c| held_out(c));
    let mut model = Model::default();
    for c in &train_set {
        model.learn(&c.features(), c.spam, 1);
    }
    let scored: Vec<(f64, bool)> =
        test.iter().map(|c| (model.score(&c.features()).unwrap_or(0.0), c.spam)).collect();
    thresholds
        .iter()
        .map(|&threshold| {
            let tp = scored.iter().filter(|(p, s)| *p >= threshold && *s).count() as f64;
            let fp = scored.iter().filter(|(p, s)| *p >= threshold && !*s).count() as f64;
            let fn_ = scored.iter().filter(|(p, s)| *p < threshold && *s).count() as f64;
            let correct = scored.iter().filter(|(p, s)| (*p >= threshold) == *s).count() as f64;
            let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 0.0 };
            let recall = if tp + fn_ > 0.0 { tp / (tp + fn_) } else { 0.0 };
            Evaluation {
                trained_on: train_set.len(),
                tested_on: test.len(),
                spam_in_test: scored.iter().filter(|(_, s)| *s).count(),
                threshold,
                precision,
                recall,
                f1: if precision + recall > 0.0 {
                    2.0 * precision * recall / (precision + recall)
                } else {
                    0.0
                },
                accuracy: if scored.is_empty() { 0.0 } else { correct / scored.len() as f64 },
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(text: &str) -> Vec<String> {
        features(&Sample { name: "x", email: "a@b.com", url: "", text })
    }

    #[test]
    fn learns_and_abstains_until_ready() {
        let mut m = Model::default();
        assert_eq!(m.score(&sample("hello")), None);
        for i in 0..12 {
            m.learn(&sample(&format!("cheap pills buy now http://pills{i}.example/ discount")), true, 1);
            m.learn(&sample(&format!("the council vote on the harbour plan was close, {i} said")), false, 1);
        }
        assert!(m.score(&sample("buy cheap pills at a discount http://pills.example/")).unwrap() > 0.9);
        assert!(m.score(&sample("the harbour council vote")).unwrap() < 0.1);
        // Unlearning restores the counts.
        let before = m.clone();
        let f = sample("one more");
        m.learn(&f, true, 1);
        m.learn(&f, true, -1);
        assert_eq!(m.spam_docs, before.spam_docs);
        assert_eq!(m.tokens.get("one").map(|t| t.0), Some(0));
    }

    #[test]
    fn csv_with_quotes_and_line_breaks() {
        let rows = parse_csv("AUTHOR,CONTENT,CLASS\r\nann,\"hi, \"\"you\"\"\nthere\",0\nbob,buy,1\n");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1][1], "hi, \"you\"\nthere");
        let mut out = Vec::new();
        read_csv("AUTHOR,CONTENT,CLASS\nann,hello,0\nbob,buy,1\n", &mut out).unwrap();
        assert_eq!(out.len(), 2);
        assert!(out[1].spam && !out[0].spam);
    }
}
