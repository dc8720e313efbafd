//! The local spam filter, in two parts.
//!
//! - The shipped model (`models/spam.json`, built by `gazette spam train` from a labelled
//!   corpus of other sites' comments): logistic regression over word and character n-grams,
//!   calibrated so that its 0.99 keeps 99% precision on a site it never saw (`logistic.rs`).
//! - What this site's moderators teach it: naive Bayes over a comment's words, the places it
//!   links to and a few facts about it (how many links, whether a website was given, the
//!   email's domain, the length, shouting). Every "spam" / "not spam" decision is stored as
//!   token counts in `spam_tokens`, in the same transaction as the decision, so every node (and
//!   a restart) learns it too. It has a say once it has seen ten of each kind, and more as
//!   lessons accumulate.
//!
//! With neither, the filter abstains: a filter that knows nothing must not hold every comment.
//! A moderator always has the last word.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use anyhow::Context;
use serde::{Deserialize, Serialize};

use crate::domain::comment::count_links;

mod corpus;
mod eval;
mod logistic;

pub use corpus::{Labelled, load_corpus, parse_csv};
pub use eval::{Run, Scored, THRESHOLDS, compare, held_out, metrics, runs};
pub use logistic::{Logistic, MARK_PRECISION};

/// The model shipped with Gazette (see docs/COMMENTS.md for its data and licence).
const SHIPPED: &str = include_str!("../../models/spam.json");
/// How many of the site's own lessons weigh as much as the shipped model.
const OWN_LESSONS_HALF: f64 = 200.0;

/// `models/spam.json`: the model with the corpus's licence and attribution.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ShippedModel {
    /// The corpus, its authors, licence and the paper to cite.
    pub about: String,
    pub comments: usize,
    pub spam: usize,
    pub model: Option<Logistic>,
}

impl ShippedModel {
    /// The model compiled into this binary.
    pub fn load() -> anyhow::Result<Self> {
        let mut shipped: Self = serde_json::from_str(SHIPPED)
            .context("the shipped spam model (models/spam.json) is not valid")?;
        shipped.model = shipped.model.map(Logistic::ready);
        Ok(shipped)
    }
}
/// Fewer examples of either kind than this, and the filter gives no opinion.
pub const MIN_DOCS: u64 = 10;
/// A comment scored at or above this is held for a moderator (the default policy).
pub const HOLD_ABOVE: f64 = 0.5;
/// A comment scored at or above this goes straight to the spam folder.
pub const SPAM_ABOVE: f64 = 0.99;
/// Token under which document counts are stored in `spam_tokens`.
pub const DOCS_TOKEN: &str = "\u{1}documents";
/// Token a lesson carries when the filter had scored the comment at the spam mark: its counts
/// are this site's moderators' verdicts on the mark (see [`SpamFilter::mark`]).
pub const MARK_TOKEN: &str = "\u{1}marked";
/// Verdicts on the spam mark a site's moderators give before the mark files comments as spam
/// on its own; at most 1% of them may be "not spam".
pub const MARK_CONFIRMATIONS: u64 = 30;

/// Whether the filter's spam mark files comments as spam on this site, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Mark {
    /// Moderators' verdicts on comments the filter had marked: spam, and not spam.
    pub spam: u64,
    pub not_spam: u64,
}

impl Mark {
    /// At least [`MARK_CONFIRMATIONS`] verdicts, 99% or more of them spam.
    pub fn confirmed(&self) -> bool {
        let all = self.spam + self.not_spam;
        all >= MARK_CONFIRMATIONS && self.not_spam * 100 <= all
    }
}

/// Word counts per class.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Model {
    pub spam_docs: u64,
    pub ham_docs: u64,
    /// token -> (spam count, ham count), counting each document once per token.
    pub tokens: HashMap<String, (u64, u64)>,
    /// The sums of the spam and of the ham counts over every token, kept by `learn` once
    /// `refresh_totals` has made them (see `score`).
    #[serde(skip)]
    totals: Option<(f64, f64)>,
}

/// The parts of a comment the filter looks at.
#[derive(Debug, Clone, Default)]
pub struct Sample<'a> {
    pub name: &'a str,
    pub email: &'a str,
    pub url: &'a str,
    pub text: &'a str,
    /// The hosts of the site the comment was left on (see [`site_host`]): a link there is not
    /// a link elsewhere.
    pub site: &'a [String],
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
    text.split_whitespace().filter_map(link_host).collect()
}

/// The host of a word that is an address (`http://`, `https://` or `www.`), lower case and
/// without `www.`.
pub(crate) fn link_host(word: &str) -> Option<String> {
    let lower = word.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .or_else(|| lower.starts_with("www.").then_some(lower.as_str()))?;
    let host = rest.split(['/', '?', '#', ')', ',', '"', '\'']).next()?.trim_end_matches('.');
    let host = host.strip_prefix("www.").unwrap_or(host);
    (!host.is_empty()).then(|| host.to_owned())
}

/// Whether `host` (lower case, without `www.`) is one of `site`'s hosts or under one.
pub(crate) fn is_own(host: &str, site: &[String]) -> bool {
    site.iter()
        .any(|own| host.strip_suffix(own.as_str()).is_some_and(|rest| rest.is_empty() || rest.ends_with('.')))
}

/// A site's host as the filter compares links with it: lower case, without port or `www.`;
/// `None` for something that is not an address or a host.
pub fn site_host(address: &str) -> Option<String> {
    let lower = address.trim().to_ascii_lowercase();
    let rest = lower.split_once("://").map_or(lower.as_str(), |(_, rest)| rest);
    let host = rest.split(['/', '?', '#']).next()?.rsplit('@').next()?;
    let host = host.split(':').next()?.trim_end_matches('.');
    let host = host.strip_prefix("www.").unwrap_or(host);
    (!host.is_empty()).then(|| host.to_owned())
}

impl Model {
    /// Adds (`delta` = 1) or removes (`delta` = -1) one labelled document's features.
    pub fn learn(&mut self, features: &[String], spam: bool, delta: i64) {
        let bump = |n: &mut u64| *n = n.saturating_add_signed(delta);
        bump(if spam { &mut self.spam_docs } else { &mut self.ham_docs });
        for f in features {
            let entry = self.tokens.entry(f.clone()).or_default();
            let count = if spam { &mut entry.0 } else { &mut entry.1 };
            let before = *count;
            bump(count);
            let change = *count as f64 - before as f64;
            if let Some(t) = self.totals.as_mut() {
                *(if spam { &mut t.0 } else { &mut t.1 }) += change;
            }
        }
    }

    /// Makes the token totals that `score` needs, once, so that each score costs only the
    /// comment's own features.
    pub fn refresh_totals(&mut self) {
        self.totals = Some(self.sum_totals());
    }

    fn sum_totals(&self) -> (f64, f64) {
        self.tokens.values().fold((0.0, 0.0), |(a, b), (s, h)| (a + *s as f64, b + *h as f64))
    }

    /// Whether the model has seen enough to give an opinion.
    pub fn ready(&self) -> bool {
        self.spam_docs >= MIN_DOCS && self.ham_docs >= MIN_DOCS
    }

    /// The probability that a comment with these features is spam; `None` when not ready.
    ///
    /// Naive Bayes over the comment's distinct features that the model knows (seen twice or
    /// more), each adding `ln P(f|spam) - ln P(f|ham)` with `P(f|c) = (count + 1) / (all
    /// counts of c + vocabulary)` (multinomial over distinct features, add-one smoothing); the
    /// sum and the prior give the odds. Dividing by each class's total counts, not its number
    /// of comments, keeps long spam from making every shared word look like spam: measured
    /// leave-one-file-out (docs/COMMENTS.md), precision at 0.99 went from 0.881 (the Bernoulli
    /// form) to 0.972.
    pub fn score(&self, features: &[String]) -> Option<f64> {
        self.log_odds(features).map(probability)
    }

    /// The log-odds behind [`Model::score`].
    pub fn log_odds(&self, features: &[String]) -> Option<f64> {
        if !self.ready() {
            return None;
        }
        let (s, h) = (self.spam_docs as f64, self.ham_docs as f64);
        let mut log_odds = (s / h).ln();
        let (ts, th) = self.totals.unwrap_or_else(|| self.sum_totals());
        let v = self.tokens.len() as f64;
        for f in features {
            if let Some(&(fs, fh)) = self.tokens.get(f) {
                if fs + fh < 2 {
                    continue;
                }
                log_odds += ((fs as f64 + 1.0) / (ts + v)).ln() - ((fh as f64 + 1.0) / (th + v)).ln();
            }
        }
        Some(log_odds)
    }
}

/// The probability that log-odds stand for.
pub(crate) fn probability(log_odds: f64) -> f64 {
    1.0 / (1.0 + (-log_odds.clamp(-50.0, 50.0)).exp())
}

/// The filter a running node uses: the shipped model and what this site's moderators taught.
pub struct SpamFilter {
    shipped: Option<Logistic>,
    model: RwLock<Model>,
}

impl SpamFilter {
    pub fn new(shipped: Option<Logistic>, mut model: Model) -> Self {
        model.refresh_totals();
        Self { shipped, model: RwLock::new(model) }
    }

    /// The probability that a comment is spam; `None` when the filter has no opinion (no
    /// shipped model and too few lessons).
    ///
    /// The shipped model's calibrated log-odds, plus the site's own naive Bayes (bounded to
    /// ±10) weighted `n / (n + 200)` by its `n` lessons: a site that has taught 200 decisions
    /// weighs as much as the shipped model.
    /// `shipped`: whether the shipped model has a say (a site setting).
    pub fn score(&self, sample: &Sample, shipped: bool) -> Option<f64> {
        let shipped = self.shipped.as_ref().filter(|_| shipped).map(|m| m.log_odds(sample));
        let own = self.model.read().ok().filter(|m| m.ready()).and_then(|m| {
            // Features are made only for a model that can use them (most sites start untaught).
            let lessons = (m.spam_docs + m.ham_docs) as f64;
            Some((m.log_odds(&features(sample))?.clamp(-10.0, 10.0), lessons / (lessons + OWN_LESSONS_HALF)))
        });
        let log_odds = match (shipped, own) {
            (None, None) => return None,
            (Some(s), None) => s,
            (None, Some((o, _))) => o,
            (Some(s), Some((o, w))) => s + w * o,
        };
        Some(probability(log_odds))
    }

    /// The moderators' verdicts on the spam mark so far. A model trained on other sites'
    /// comments keeps its promise only on comments like theirs (on real blogs' approved
    /// comments, the YouTube-trained model marks a third or more: docs/COMMENTS.md), so until
    /// a site's moderators have confirmed the mark, a marked comment is only held.
    pub fn mark(&self) -> Mark {
        let counts = self.model.read().ok().and_then(|m| m.tokens.get(MARK_TOKEN).copied());
        let (spam, not_spam) = counts.unwrap_or_default();
        Mark { spam, not_spam }
    }

    pub fn learn(&self, features: &[String], spam: bool, delta: i64) {
        if let Ok(mut m) = self.model.write() {
            m.learn(features, spam, delta);
        }
    }

    /// Replaces what the site taught (after another node's lessons).
    pub fn replace(&self, mut model: Model) {
        model.refresh_totals();
        if let Ok(mut m) = self.model.write() {
            *m = model;
        }
    }
}

/// Trains a model on labelled comments.
pub fn train(corpus: &[Labelled]) -> Model {
    let mut model = Model::default();
    for c in corpus {
        model.learn(&c.features(), c.spam, 1);
    }
    model
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(text: &str) -> Vec<String> {
        features(&Sample { name: "x", email: "a@b.com", url: "", text, site: &[] })
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
    fn the_shipped_model_knows_self_promotion_from_comment() {
        let shipped = ShippedModel::load().unwrap();
        assert!(
            shipped.about.contains("CC BY 4.0") && shipped.about.contains("TubeSpam"),
            "{}",
            shipped.about
        );
        let filter = SpamFilter::new(shipped.model, Model::default());
        let score = |text: &str, on: bool| filter.score(&Sample { text, ..Default::default() }, on);
        let spam = "Check out my new channel and subscribe please!!! http://my-channel.example/videos";
        assert!(score(spam, true).unwrap() >= SPAM_ABOVE, "{:?}", score(spam, true));
        let honest = "The council should publish the ferry timetable before the vote on Thursday.";
        assert!(score(honest, true).unwrap() < HOLD_ABOVE, "{:?}", score(honest, true));
        assert_eq!(score(spam, false), None, "off, and nothing learned: no opinion");
    }

    #[test]
    fn a_link_to_the_site_itself_is_not_a_link_elsewhere() {
        let filter = SpamFilter::new(ShippedModel::load().unwrap().model, Model::default());
        let text = "You covered this last year: https://www.harbourcourier.example/2025/03/ferry-fares and nothing changed.";
        let site = [site_host("https://harbourcourier.example:8080/").unwrap()];
        assert_eq!(site[0], "harbourcourier.example");
        let here = filter.score(&Sample { text, site: &site, ..Default::default() }, true).unwrap();
        let elsewhere = filter.score(&Sample { text, ..Default::default() }, true).unwrap();
        assert!(here < HOLD_ABOVE && elsewhere > here, "{here} / {elsewhere}");
        assert!(is_own("news.harbourcourier.example", &site) && !is_own("notharbourcourier.example", &site));
    }

    #[test]
    fn the_mark_is_confirmed_by_enough_verdicts_nearly_all_spam() {
        assert!(!Mark { spam: 29, not_spam: 0 }.confirmed(), "too few verdicts");
        assert!(Mark { spam: 30, not_spam: 0 }.confirmed());
        assert!(!Mark { spam: 98, not_spam: 2 }.confirmed(), "2% not spam");
        assert!(Mark { spam: 99, not_spam: 1 }.confirmed());
        let filter = SpamFilter::new(None, Model::default());
        for _ in 0..MARK_CONFIRMATIONS {
            filter.learn(&[MARK_TOKEN.to_owned()], true, 1);
        }
        assert!(filter.mark().confirmed());
        filter.learn(&[MARK_TOKEN.to_owned()], false, 1);
        assert_eq!(filter.mark(), Mark { spam: MARK_CONFIRMATIONS, not_spam: 1 });
        assert!(!filter.mark().confirmed());
    }

    #[test]
    fn totals_kept_by_learning_match_a_recount() {
        let mut m = Model::default();
        m.refresh_totals();
        for i in 0..12 {
            m.learn(&sample(&format!("cheap pills {i} http://pills.example/")), true, 1);
            m.learn(&sample(&format!("the harbour vote {i}")), false, 1);
        }
        m.learn(&sample("cheap pills 3 http://pills.example/"), true, -1);
        let kept = m.totals;
        m.refresh_totals();
        assert_eq!(kept, m.totals);
        let fresh = Model { totals: None, ..m.clone() };
        let f = sample("cheap pills now");
        assert_eq!(fresh.score(&f), m.score(&f), "the slow path gives the same score");
    }
}
