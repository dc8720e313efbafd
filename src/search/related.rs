//! Related lists from the index. An article's candidates are gathered by a query of its
//! strongest features on the `features` field (block-max WAND keeps it cheap whatever the
//! archive); each candidate's forward record is read from the document store and scored
//! exactly: likeness of the whole texts, headlines and ledes (each `(1 + ln count) · idf`,
//! cosine), times closeness in time, then lifted by the support of the article's nearest
//! pieces. No per-article vector is held in memory: a list costs a query and a few hundred
//! stored-document reads.

use std::collections::HashMap;

use tantivy::collector::TopDocs;
use tantivy::query::{BooleanQuery, BoostQuery, Query, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, Searcher, Term};

use super::index::Forward;
use super::{Engine, RELATED};

/// How much the headlines' and the ledes' own likeness weigh in relatedness, beside the whole
/// article's (which weighs the rest, 0.4). Two reports of one event name it in their headlines
/// and open with its facts (who, what, where, when) in much the same words, while pieces on the
/// same topic share body vocabulary. Chosen on the labelled corpora (docs/RELEVANCE.md has the
/// figures and the values tried).
const HEADLINE_WEIGHT: f32 = 0.2;
const LEDE_WEIGHT: f32 = 0.4;
/// Whole-vector likeness above which a candidate is the same text again (a story imported
/// twice, a syndicated copy word for word) and is left out. Two outlets' rewrites of one wire
/// report fall below it and stay: they are the same story told again.
const DUPLICATE: f32 = 0.99;
/// Features of an article that gather its candidates, and how many candidates are scored.
const CANDIDATE_FEATURES: usize = 40;
const CANDIDATES: usize = 200;
/// First-stage candidates kept per article for the final ranking of its list.
const FIRST_STAGE: usize = 60;
/// How many of an article's nearest pieces (by first-stage score) vouch for a candidate.
const SHARED_K: usize = 3;
/// How much their support lifts a candidate: its score times `1 + SHARED_WEIGHT · mean
/// likeness to them`.
const SHARED_WEIGHT: f32 = 2.0;
/// The most the support can multiply a first-stage score by.
pub(super) const MAX_LIFT: f32 = 1.0 + SHARED_WEIGHT;

/// An article as related lists see it: its three unit vectors, sorted by feature.
pub(super) struct Doc {
    article_id: i64,
    published_at: i64,
    pub(super) whole: Vec<(String, f32)>,
    headline: Vec<(String, f32)>,
    lede: Vec<(String, f32)>,
}

/// One document's vectors for lookups, so that its cosines with many others cost one lookup
/// per entry of theirs.
struct Probe<'a> {
    parts: [HashMap<&'a str, f32>; 3],
}

impl<'a> Probe<'a> {
    fn of(doc: &'a Doc) -> Self {
        let map = |v: &'a [(String, f32)]| v.iter().map(|(f, w)| (f.as_str(), *w)).collect();
        Probe { parts: [map(&doc.whole), map(&doc.headline), map(&doc.lede)] }
    }

    /// Cosines with `other`: whole vectors, headlines, ledes.
    fn cosines(&self, other: &Doc) -> [f32; 3] {
        let mut out = [0.0; 3];
        for (slot, entries) in [&other.whole, &other.headline, &other.lede].into_iter().enumerate() {
            out[slot] =
                entries.iter().map(|(f, w)| self.parts[slot].get(f.as_str()).map_or(0.0, |d| d * w)).sum();
        }
        out
    }
}

/// Cosine of two unit vectors sorted by feature.
pub(super) fn cosine(a: &[(String, f32)], b: &[(String, f32)]) -> f32 {
    let (mut i, mut j, mut sum) = (0, 0, 0.0);
    while i < a.len() && j < b.len() {
        match a[i].0.cmp(&b[j].0) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                sum += a[i].1 * b[j].1;
                i += 1;
                j += 1;
            }
        }
    }
    sum
}

/// How much closeness in time adds to relatedness: the same story's earlier and later pieces
/// come first; an old piece that shares words keeps 60% of its score (a story can run for a
/// year: a narrower kernel or a lower floor cost more than it gained on the labelled corpora).
fn closeness(a: i64, b: i64) -> f32 {
    let days = ((a - b).abs() as f32) / 86_400.0;
    0.6 + 0.4 * (-days / 45.0).exp()
}

/// How alike two articles' texts are, given the cosines of their whole vectors, headlines
/// and ledes (no time).
fn blend([whole, headline, lede]: [f32; 3]) -> f32 {
    (1.0 - HEADLINE_WEIGHT - LEDE_WEIGHT) * whole + HEADLINE_WEIGHT * headline + LEDE_WEIGHT * lede
}

impl Engine {
    /// Where an article's document is (none when it is not in the index).
    pub(super) fn address(&self, searcher: &Searcher, article_id: i64) -> Option<DocAddress> {
        let q = TermQuery::new(self.fields.id_term(article_id), IndexRecordOption::Basic);
        let top = TopDocs::with_limit(1).order_by_score();
        searcher.search(&q, &top).ok()?.into_iter().next().map(|(_, at)| at)
    }

    /// Count weights to a unit vector, `(1 + ln count) · idf`, sorted by feature.
    fn unit(&self, searcher: &Searcher, counts: Vec<(String, f32)>) -> Vec<(String, f32)> {
        let mut v: Vec<(String, f32)> = counts
            .into_iter()
            .map(|(f, c)| {
                let w = (1.0 + c.max(1.0).ln()) * self.idf(searcher, &f);
                (f, w)
            })
            .filter(|(_, w)| *w > 0.0)
            .collect();
        let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
        if norm > 0.0 {
            for (_, w) in &mut v {
                *w /= norm;
            }
        }
        v.sort_unstable_by(|a, b| a.0.cmp(&b.0));
        v
    }

    pub(super) fn load(&self, searcher: &Searcher, at: DocAddress) -> Option<Doc> {
        let Forward { whole, headline, lede } = self.forward(searcher, at)?;
        Some(Doc {
            article_id: self.article_at(searcher, at),
            published_at: self.published_at(searcher, at),
            whole: self.unit(searcher, whole),
            headline: self.unit(searcher, headline),
            lede: self.unit(searcher, lede),
        })
    }

    /// The candidates for an article's list, scored: likeness of the texts weighted by
    /// closeness in time (symmetric in the pair), best first.
    fn scored(&self, searcher: &Searcher, doc: &Doc) -> Vec<(Doc, f32)> {
        let mut strongest: Vec<&(String, f32)> = doc.whole.iter().collect();
        strongest.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let parts: Vec<Box<dyn Query>> = strongest
            .into_iter()
            .take(CANDIDATE_FEATURES)
            .map(|(f, w)| {
                let q =
                    TermQuery::new(Term::from_field_text(self.fields.features, f), IndexRecordOption::Basic);
                Box::new(BoostQuery::new(Box::new(q), *w)) as Box<dyn Query>
            })
            .collect();
        if parts.is_empty() {
            return Vec::new();
        }
        let top = TopDocs::with_limit(CANDIDATES + 1).order_by_score();
        let Ok(found) = searcher.search(&BooleanQuery::union(parts), &top) else { return Vec::new() };
        let probe = Probe::of(doc);
        let mut scored: Vec<(Doc, f32)> = found
            .into_iter()
            .filter_map(|(_, at)| self.load(searcher, at))
            .filter(|other| other.article_id != doc.article_id)
            .map(|other| {
                let score = blend(probe.cosines(&other)) * closeness(doc.published_at, other.published_at);
                (other, score)
            })
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.article_id.cmp(&b.0.article_id)));
        scored
    }

    /// The articles an article could be listed beside, with the score of the pair.
    pub(super) fn contenders(&self, article_id: i64) -> Vec<(i64, f32)> {
        let Some(searcher) = self.searcher() else { return Vec::new() };
        let Some(doc) = self.address(&searcher, article_id).and_then(|at| self.load(&searcher, at)) else {
            return Vec::new();
        };
        self.scored(&searcher, &doc).into_iter().map(|(d, s)| (d.article_id, s)).collect()
    }

    /// The related list of an article: pins first, then the most similar published articles,
    /// weighted by closeness in time, without exclusions and without near-duplicates of the
    /// article or of each other. Empty when the article is not published.
    pub fn related(&self, article_id: i64, pins: &[i64], excludes: &[i64]) -> Vec<(i64, f32)> {
        let Some(searcher) = self.searcher() else { return Vec::new() };
        let Some(doc) = self.address(&searcher, article_id).and_then(|at| self.load(&searcher, at)) else {
            return Vec::new();
        };
        let mut first = self.scored(&searcher, &doc);
        first.truncate(FIRST_STAGE);
        let pinned: Vec<Doc> = pins
            .iter()
            .filter(|p| **p != article_id)
            .filter_map(|p| self.address(&searcher, *p).and_then(|at| self.load(&searcher, at)))
            .take(RELATED)
            .collect();
        finish(&doc, first, &pinned, excludes)
    }
}

/// The list from an article's first stage: rescored by the support of its nearest pieces,
/// then pins, exclusions and copies applied.
pub(super) fn finish(
    doc: &Doc,
    mut scored: Vec<(Doc, f32)>,
    pinned: &[Doc],
    excludes: &[i64],
) -> Vec<(i64, f32)> {
    // Two reports of one event are close to the same other reports; a piece that merely
    // shares words with the article is far from the article's other nearest pieces. Each
    // candidate is lifted by its mean likeness to the article's nearest others. Computed from
    // the index alone, so a list is the same whether it is built in a full rebuild or when one
    // article changes.
    if scored.len().min(SHARED_K) > 1 {
        let mut support = vec![(0.0f32, 0u32); scored.len()];
        for near in scored.iter().take(SHARED_K).map(|(d, _)| d) {
            let probe = Probe::of(near);
            for ((other, _), (sum, n)) in scored.iter().zip(&mut support) {
                if other.article_id == near.article_id {
                    continue;
                }
                *sum += blend(probe.cosines(other));
                *n += 1;
            }
        }
        for ((_, score), (sum, n)) in scored.iter_mut().zip(support) {
            *score *= 1.0 + SHARED_WEIGHT * sum / n.max(1) as f32;
        }
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.article_id.cmp(&b.0.article_id)));
    }
    let mut out: Vec<(i64, f32)> = pinned.iter().map(|p| (p.article_id, 1.0)).collect();
    let mut picked: Vec<&[(String, f32)]> = pinned.iter().map(|p| p.whole.as_slice()).collect();
    for (other, score) in &scored {
        if out.len() >= RELATED {
            break;
        }
        if excludes.contains(&other.article_id) || out.iter().any(|(id, _)| *id == other.article_id) {
            continue;
        }
        if *score < 0.02 {
            break;
        }
        let duplicate = cosine(&doc.whole, &other.whole) > DUPLICATE
            || picked.iter().any(|v| cosine(v, &other.whole) > DUPLICATE);
        if duplicate {
            continue;
        }
        picked.push(&other.whole);
        out.push((other.article_id, *score));
    }
    out
}
