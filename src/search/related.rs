//! Related lists from the index. An article's candidates are gathered by a query of its
//! strongest features on the `features` field (block-max WAND keeps it cheap whatever the
//! archive); each candidate's forward record is read from the document store and scored
//! exactly by the model of `model.rs` over the pair's features: likeness of the whole texts,
//! headlines and ledes (each `(1 + ln count) · idf`, cosine), the support of the article's
//! nearest pieces, and the time between them. No per-article vector is held in memory: a list costs a query and a few hundred
//! stored-document reads.

use std::ops::Bound;
use tantivy::collector::TopDocs;

use tantivy::query::{BooleanQuery, BoostQuery, ConstScoreQuery, Occur, Query, RangeQuery, TermQuery};
use tantivy::schema::IndexRecordOption;
use tantivy::{DocAddress, Searcher, Term};

use super::index::Forward;
use super::{Engine, RELATED, model};

/// Whole-vector likeness above which a candidate is the same text again (a story imported
/// twice, a syndicated copy word for word) and is left out. Two outlets' rewrites of one wire
/// report fall below it and stay: they are the same story told again.
const DUPLICATE: f32 = 0.99;
/// Features of an article that gather its candidates, and how many candidates are scored.
const CANDIDATE_FEATURES: usize = 60;
const CANDIDATES: usize = 150;
/// Candidates gathered again within [`WINDOW_DAYS`] of the article.
const NEAR_CANDIDATES: usize = 50;
const WINDOW_DAYS: i64 = 90;
/// How many of an article's nearest pieces (by whole-text likeness) vouch for a candidate.
const SHARED_K: usize = 3;
/// A candidate is listed when the evidence for the pair (the model's weighted features, before
/// the bias) passes this: a pair that shares anything measurable. A small site's block is
/// filled with what shares something, as readers expect six; the order is the model's.
const MIN_EVIDENCE: f32 = 0.05;

/// An article as related lists see it: its unit vectors (whole text, names alone, headline,
/// lede), each sorted by feature hash.
pub(super) struct Doc {
    article_id: i64,
    published_at: i64,
    pub(super) whole: Vec<(u64, f32)>,
    names: Vec<(u64, f32)>,
    headline: Vec<(u64, f32)>,
    lede: Vec<(u64, f32)>,
}

/// A feature's hash (FNV-1a): vectors compare hashes, not strings, and a list's few hundred
/// candidates cost no allocation per feature.
pub(super) fn hash(feature: &str) -> u64 {
    feature.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3))
}

/// Cosine of two unit vectors sorted by feature.
pub(super) fn cosine(a: &[(u64, f32)], b: &[(u64, f32)]) -> f32 {
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

/// Cosines of two articles: whole texts, headlines, ledes, names.
fn cosines(a: &Doc, b: &Doc) -> [f32; 4] {
    [
        cosine(&a.whole, &b.whole),
        cosine(&a.headline, &b.headline),
        cosine(&a.lede, &b.lede),
        cosine(&a.names, &b.names),
    ]
}

fn normalized(mut v: Vec<(u64, f32)>) -> Vec<(u64, f32)> {
    let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt();
    if norm > 0.0 {
        for (_, w) in &mut v {
            *w /= norm;
        }
    }
    v.sort_unstable_by_key(|e| e.0);
    v
}

impl Engine {
    /// Where an article's document is (none when it is not in the index).
    pub(super) fn address(&self, searcher: &Searcher, article_id: i64) -> Option<DocAddress> {
        let q = TermQuery::new(self.fields.id_term(article_id), IndexRecordOption::Basic);
        let top = TopDocs::with_limit(1).order_by_score();
        searcher.search(&q, &top).ok()?.into_iter().next().map(|(_, at)| at)
    }

    /// Count weights to weights `(1 + ln count) · idf`, by feature hash.
    fn weighted(&self, searcher: &Searcher, counts: &[(&str, f32)]) -> Vec<(u64, f32)> {
        let keys: Vec<(u64, &str)> = counts.iter().map(|(f, _)| (hash(f), *f)).collect();
        let mut idf = vec![0.0; keys.len()];
        self.idfs(searcher, &keys, &mut idf);
        keys.iter()
            .zip(counts)
            .zip(idf)
            .map(|(((h, _), (_, c)), idf)| (*h, (1.0 + c.max(1.0).ln()) * idf))
            .filter(|(_, w)| *w > 0.0)
            .collect()
    }

    /// An article's vectors, and its strongest features by name (which gather its candidates).
    fn read(
        &self,
        searcher: &Searcher,
        at: DocAddress,
        strongest: usize,
    ) -> Option<(Doc, Vec<(String, f32)>)> {
        let bytes = self.forward_bytes(searcher, at)?;
        let [whole, headline, lede] = Forward::decode_ref(&bytes)?;
        let weights = self.weighted(searcher, &whole);
        let mut top: Vec<(String, f32)> = Vec::new();
        if strongest > 0 {
            let mut order: Vec<usize> = (0..weights.len()).collect();
            order.sort_by(|&a, &b| {
                weights[b].1.total_cmp(&weights[a].1).then_with(|| whole[a].0.cmp(whole[b].0))
            });
            top = order.into_iter().take(strongest).map(|i| (whole[i].0.to_owned(), weights[i].1)).collect();
        }
        let names: Vec<(u64, f32)> =
            whole.iter().zip(&weights).filter(|((f, _), _)| f.starts_with("n:")).map(|(_, w)| *w).collect();
        let doc = Doc {
            article_id: self.article_at(searcher, at),
            published_at: self.published_at(searcher, at),
            whole: normalized(weights),
            names: normalized(names),
            headline: normalized(self.weighted(searcher, &headline)),
            lede: normalized(self.weighted(searcher, &lede)),
        };
        Some((doc, top))
    }

    pub(super) fn load(&self, searcher: &Searcher, at: DocAddress) -> Option<Doc> {
        self.read(searcher, at, 0).map(|(d, _)| d)
    }

    /// An article's candidates with the features of each pair (see `model.rs`): gathered by
    /// a query of its strongest features, over the whole archive and again within a few months
    /// of it (a story's other reports can be outscored in the whole archive by pieces on the
    /// same kind of event), then read and compared one by one.
    fn pool_of(
        &self,
        searcher: &Searcher,
        doc: &Doc,
        strongest: &[(String, f32)],
    ) -> Vec<(Doc, [f32; model::FEATURES])> {
        let parts: Vec<Box<dyn Query>> = strongest
            .iter()
            .map(|(f, w)| {
                let q =
                    TermQuery::new(Term::from_field_text(self.fields.features, f), IndexRecordOption::Basic);
                Box::new(BoostQuery::new(Box::new(q), *w)) as Box<dyn Query>
            })
            .collect();
        if parts.is_empty() {
            return Vec::new();
        }
        let text = BooleanQuery::union(parts);
        let at = |t: i64| Term::from_field_i64(self.fields.published, t);
        let window = RangeQuery::new(
            Bound::Included(at(doc.published_at - WINDOW_DAYS * 86_400)),
            Bound::Included(at(doc.published_at + WINDOW_DAYS * 86_400)),
        );
        let near = BooleanQuery::new(vec![
            (Occur::Must, Box::new(text.clone()) as Box<dyn Query>),
            (Occur::Must, Box::new(ConstScoreQuery::new(Box::new(window), 0.0))),
        ]);
        let mut addresses: Vec<DocAddress> = Vec::new();
        for (query, limit) in [(&text as &dyn Query, CANDIDATES), (&near as &dyn Query, NEAR_CANDIDATES)] {
            let top = TopDocs::with_limit(limit + 1).order_by_score();
            let Ok(found) = searcher.search(query, &top) else { continue };
            for (_, at) in found {
                if !addresses.contains(&at) {
                    addresses.push(at);
                }
            }
        }
        let pool: Vec<(Doc, [f32; 4])> = addresses
            .into_iter()
            .filter_map(|at| self.load(searcher, at))
            .filter(|other| other.article_id != doc.article_id)
            .map(|other| {
                let c = cosines(doc, &other);
                (other, c)
            })
            .collect();
        // Two reports of one event are close to the same other reports; a piece that merely
        // shares words with the article is far from the article's other nearest pieces. Each
        // nearest piece vouches in proportion to its own likeness to the article (two steps,
        // article to piece to candidate): an article close to nothing lends no support.
        let mut nearest: Vec<usize> = (0..pool.len()).collect();
        nearest.sort_by(|&a, &b| pool[b].1[0].total_cmp(&pool[a].1[0]).then(a.cmp(&b)));
        nearest.truncate(SHARED_K);
        let mut support = vec![(0.0f32, 0u32); pool.len()];
        for &n in &nearest {
            for (i, ((other, _), (sum, count))) in pool.iter().zip(&mut support).enumerate() {
                if i != n {
                    let c = cosines(&pool[n].0, other);
                    let own = pool[n].1;
                    *sum += (own[0] + own[1] + own[2]) / 3.0 * (c[0] + c[1] + c[2]) / 3.0;
                    *count += 1;
                }
            }
        }
        pool.into_iter()
            .zip(support)
            .map(|((other, c), (sum, count))| {
                let days = (doc.published_at - other.published_at) as f32 / 86_400.0;
                let x = model::features(c, sum / count.max(1) as f32, days);
                (other, x)
            })
            .collect()
    }

    /// The article at `article_id` with its strongest features.
    fn article(&self, searcher: &Searcher, article_id: i64) -> Option<(Doc, Vec<(String, f32)>)> {
        self.read(searcher, self.address(searcher, article_id)?, CANDIDATE_FEATURES)
    }

    /// An article's candidates with their features, by article id (`gazette eval loco`).
    pub fn pool(&self, article_id: i64) -> Vec<(i64, [f32; model::FEATURES])> {
        let Some(searcher) = self.searcher() else { return Vec::new() };
        let Some((doc, strongest)) = self.article(&searcher, article_id) else { return Vec::new() };
        self.pool_of(&searcher, &doc, &strongest).into_iter().map(|(d, x)| (d.article_id, x)).collect()
    }

    /// The candidates for an article's list with the model's score, best first.
    fn scored(&self, searcher: &Searcher, doc: &Doc, strongest: &[(String, f32)]) -> Vec<(Doc, f32)> {
        let mut scored: Vec<(Doc, f32)> = self
            .pool_of(searcher, doc, strongest)
            .into_iter()
            .map(|(other, x)| (other, model::score(&x, &model::WEIGHTS)))
            .collect();
        scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.article_id.cmp(&b.0.article_id)));
        scored
    }

    /// The articles an article could be listed beside, with the most the pair could score from
    /// either side (the support of the other article's nearest pieces is not known here).
    pub(super) fn contenders(&self, article_id: i64) -> Vec<(i64, f32)> {
        let Some(searcher) = self.searcher() else { return Vec::new() };
        let Some((doc, strongest)) = self.article(&searcher, article_id) else { return Vec::new() };
        let support = model::NAMES.iter().position(|n| *n == "support").unwrap_or(0);
        self.pool_of(&searcher, &doc, &strongest)
            .into_iter()
            .map(|(d, mut x)| {
                x[support] = if model::WEIGHTS[support] > 0.0 { 1.0 } else { 0.0 };
                (d.article_id, model::score(&x, &model::WEIGHTS))
            })
            .collect()
    }

    /// The related list of an article: pins first, then the most similar published articles,
    /// weighted by closeness in time, without exclusions and without near-duplicates of the
    /// article or of each other. Empty when the article is not published.
    pub fn related(&self, article_id: i64, pins: &[i64], excludes: &[i64]) -> Vec<(i64, f32)> {
        let Some(searcher) = self.searcher() else { return Vec::new() };
        let Some((doc, strongest)) = self.article(&searcher, article_id) else { return Vec::new() };
        let scored = self.scored(&searcher, &doc, &strongest);
        let pinned: Vec<Doc> = pins
            .iter()
            .filter(|p| **p != article_id)
            .filter_map(|p| self.address(&searcher, *p).and_then(|at| self.load(&searcher, at)))
            .take(RELATED)
            .collect();
        finish(&doc, &scored, &pinned, excludes)
    }
}

/// The list from an article's scored candidates: pins first, then the best, without
/// exclusions and copies.
pub(super) fn finish(doc: &Doc, scored: &[(Doc, f32)], pinned: &[Doc], excludes: &[i64]) -> Vec<(i64, f32)> {
    let mut out: Vec<(i64, f32)> = pinned.iter().map(|p| (p.article_id, 1.0)).collect();
    let mut picked: Vec<&[(u64, f32)]> = pinned.iter().map(|p| p.whole.as_slice()).collect();
    for (other, score) in scored {
        if out.len() >= RELATED {
            break;
        }
        if excludes.contains(&other.article_id) || out.iter().any(|(id, _)| *id == other.article_id) {
            continue;
        }
        if *score < model::score_of_evidence(MIN_EVIDENCE, &model::WEIGHTS) {
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
