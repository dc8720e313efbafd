//! How well the filter separates spam from honest comments, beside the baselines a sceptic
//! would try first (docs/COMMENTS.md).

use std::path::{Path, PathBuf};

use anyhow::Context;

use super::logistic::words;
use super::{Labelled, Model, load_corpus};

/// One test of the filter: train on `train`, score `test`.
pub struct Run {
    /// What was tested (a file, or the held-out fifth of a corpus).
    pub name: String,
    pub train: Vec<Labelled>,
    pub test: Vec<Labelled>,
}

/// The tests `gazette eval spam` runs: a held-out fifth of `corpus`, one set after training on
/// another (`split`), or each file of a folder in turn after training on the others. `site`:
/// the hosts of the site the comments were left on (see [`load_corpus`]).
pub fn runs(
    corpus: Option<&Path>,
    split: Option<(PathBuf, PathBuf)>,
    leave_one_out: Option<&Path>,
    site: Option<&[String]>,
) -> anyhow::Result<Vec<Run>> {
    if let Some((train, test)) = split {
        return Ok(vec![Run {
            name: test.display().to_string(),
            train: load_corpus(&train, site)?,
            test: load_corpus(&test, site)?,
        }]);
    }
    if let Some(dir) = leave_one_out {
        let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
            .with_context(|| format!("cannot read {}", dir.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|e| e == "csv" || e == "json" || e == "jsonl"))
            .collect();
        files.sort();
        if files.len() < 2 {
            anyhow::bail!("{} needs two corpus files or more for leave-one-out", dir.display());
        }
        let sets: Vec<Vec<Labelled>> =
            files.iter().map(|f| load_corpus(f, site)).collect::<anyhow::Result<_>>()?;
        return Ok(files
            .iter()
            .enumerate()
            .map(|(i, f)| Run {
                name: f.file_name().unwrap_or_default().to_string_lossy().into_owned(),
                train: sets
                    .iter()
                    .enumerate()
                    .filter(|(j, _)| *j != i)
                    .flat_map(|(_, s)| s.clone())
                    .collect(),
                test: sets[i].clone(),
            })
            .collect());
    }
    let corpus = corpus.context("give --corpus PATH, --train PATH --test PATH, or --leave-one-out DIR")?;
    let (test, train) = load_corpus(corpus, site)?.into_iter().partition(held_out);
    Ok(vec![Run { name: format!("held-out fifth of {}", corpus.display()), train, test }])
}

/// Whether a labelled comment belongs to the held-out fifth (by a hash of its text, so the
/// split is the same on every run and every machine).
pub fn held_out(c: &Labelled) -> bool {
    crate::theme::fnv1a64(c.text.as_bytes()).is_multiple_of(5)
}

/// Thresholds every table shows: 0.5 (held for a moderator) and 0.99 (spam), with 0.9 between.
pub const THRESHOLDS: [f64; 3] = [super::HOLD_ABOVE, 0.9, super::SPAM_ABOVE];

/// One system's scores on one test set.
#[derive(Debug, Clone)]
pub struct Scored {
    pub system: &'static str,
    /// `(spam probability, is spam)` per test comment, in the test set's order.
    pub scores: Vec<(f64, bool)>,
}

/// Precision, recall, F1 and accuracy at a threshold.
pub fn metrics(scores: &[(f64, bool)], threshold: f64) -> (f64, f64, f64, f64) {
    let tp = scores.iter().filter(|(p, s)| *p >= threshold && *s).count() as f64;
    let fp = scores.iter().filter(|(p, s)| *p >= threshold && !*s).count() as f64;
    let fn_ = scores.iter().filter(|(p, s)| *p < threshold && *s).count() as f64;
    let correct = scores.iter().filter(|(p, s)| (*p >= threshold) == *s).count() as f64;
    let precision = if tp + fp > 0.0 { tp / (tp + fp) } else { 1.0 };
    let recall = if tp + fn_ > 0.0 { tp / (tp + fn_) } else { 0.0 };
    let f1 = if precision + recall > 0.0 { 2.0 * precision * recall / (precision + recall) } else { 0.0 };
    (precision, recall, f1, if scores.is_empty() { 0.0 } else { correct / scores.len() as f64 })
}

/// Trains Gazette's filter and the baselines on `train` and scores `test`.
pub fn compare(train: &[Labelled], test: &[Labelled]) -> Vec<Scored> {
    // What `gazette spam train` would ship, trained on `train`, with no lessons from the site.
    let shipped = super::SpamFilter::new(Some(super::Logistic::calibrated(train)), Model::default());
    let gazette = test.iter().map(|c| (shipped.score(&c.sample(), true).unwrap_or(0.0), c.spam)).collect();
    // The part that learns from a site's moderators, trained on the same comments.
    let mut own = Model::default();
    for c in train {
        own.learn(&c.features(), c.spam, 1);
    }
    let nb = WordsNb::train(train);
    // The sceptic's second try: the same logistic regression, uncalibrated (its own 0.5 and 0.99).
    let lr = super::Logistic::train(&train.iter().collect::<Vec<_>>());
    vec![
        Scored { system: "Gazette (shipped model: calibrated logistic regression)", scores: gazette },
        Scored {
            system: "Gazette's own-lessons naive Bayes (words, links, name, facts)",
            scores: test.iter().map(|c| (own.score(&c.features()).unwrap_or(0.0), c.spam)).collect(),
        },
        Scored {
            system: "multinomial naive Bayes, words",
            scores: test.iter().map(|c| (nb.score(&c.text), c.spam)).collect(),
        },
        Scored {
            system: "logistic regression, word 1-2 and char 2-5 grams, uncalibrated",
            scores: test.iter().map(|c| (lr.probability(&c.sample()), c.spam)).collect(),
        },
    ]
}

/// The sceptic's first try: multinomial naive Bayes over lower-cased words, add-one smoothing.
struct WordsNb {
    counts: std::collections::HashMap<String, [f64; 2]>,
    totals: [f64; 2],
    docs: [f64; 2],
}

impl WordsNb {
    fn train(corpus: &[Labelled]) -> Self {
        let mut nb = Self { counts: Default::default(), totals: [0.0; 2], docs: [0.0; 2] };
        for c in corpus {
            let k = usize::from(c.spam);
            nb.docs[k] += 1.0;
            for w in words(&c.text) {
                nb.counts.entry(w).or_default()[k] += 1.0;
                nb.totals[k] += 1.0;
            }
        }
        nb
    }

    fn score(&self, text: &str) -> f64 {
        let v = self.counts.len() as f64;
        let mut odds = (self.docs[1].max(1.0) / self.docs[0].max(1.0)).ln();
        for w in words(text) {
            if let Some(c) = self.counts.get(&w) {
                odds +=
                    ((c[1] + 1.0) / (self.totals[1] + v)).ln() - ((c[0] + 1.0) / (self.totals[0] + v)).ln();
            }
        }
        super::probability(odds)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn labelled(text: &str, spam: bool) -> Labelled {
        Labelled {
            id: String::new(),
            author: String::new(),
            text: text.to_owned(),
            spam,
            group: 0,
            site: std::sync::Arc::new([]),
        }
    }

    #[test]
    fn metrics_count_the_verdicts() {
        let scores = [(0.995, true), (0.995, false), (0.6, true), (0.1, false)];
        let (p, r, _, a) = metrics(&scores, 0.99);
        assert!((p - 0.5).abs() < 1e-9 && (r - 0.5).abs() < 1e-9 && (a - 0.5).abs() < 1e-9);
        let (p, r, _, _) = metrics(&scores, 0.5);
        assert!((p - 2.0 / 3.0).abs() < 1e-9 && (r - 1.0).abs() < 1e-9);
    }

    #[test]
    fn the_baselines_learn() {
        let mut train = Vec::new();
        for i in 0..30 {
            train.push(labelled(
                &format!("subscribe to my channel {i} check it out http://spam{i}.example"),
                true,
            ));
            train.push(labelled(&format!("this song reminds me of summer {i}, love the chorus"), false));
        }
        let test =
            [labelled("please subscribe to my channel", true), labelled("love this song so much", false)];
        for system in compare(&train, &test) {
            let (spam, ham) = (system.scores[0].0, system.scores[1].0);
            assert!(spam > 0.5 && ham < 0.5, "{}: {spam} / {ham}", system.system);
        }
    }
}
