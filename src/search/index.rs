//! The in-memory index of published articles: an inverted index for search (BM25F over
//! headline, standfirst and body) and a sparse, weighted feature vector per article for
//! related posts (words, names, tags, sections), with an inverted list over those features.
//!
//! It is derived data: built from the store at start (`Index::add` for every published
//! article) and kept current from the content event log. Removing an article leaves a
//! tombstone that scoring skips; tombstones are swept when they pass a tenth of the index.

use std::collections::{BTreeMap, HashMap};

use super::text;

/// Field weights for BM25F: a word in the headline counts three times one in the body.
const FIELD_WEIGHTS: [f32; 3] = [3.0, 1.5, 1.0];
const K1: f32 = 1.2;
const B: f32 = 0.75;
/// Features kept per article for related posts.
const VECTOR_FEATURES: usize = 200;
/// Words of standfirst and body that make an article's lede: what a report says first (who,
/// what, where, when), which reports of one event share and pieces on one topic do not.
pub const LEDE_WORDS: usize = 120;
/// Features of an article that gather its candidates, and how many candidates are scored fully.
const CANDIDATE_FEATURES: usize = 40;
const RESCORED: usize = 200;
/// Features shared by more articles than this (a twentieth of the archive, within these
/// bounds) are passed over when gathering candidates. The upper bound keeps the work per
/// article the same however large the archive grows: at a million articles a twentieth is
/// 50,000 postings per feature, and the lists took hours to compute.
const LONG_LIST: (usize, usize) = (2_000, 5_000);
/// Postings read per call, at most. The strongest (rarest) features are read first; a list
/// that would pass the budget is passed over. Without it the work per list grew with the
/// archive (more of its features reach the long-list bound), and each posting read is a cache
/// miss in an accumulator over every document.
const VISIT_BUDGET: usize = 40_000;

thread_local! {
    /// Per-thread scratch for `similar`: an accumulator over documents, kept zeroed between
    /// calls (allocating it per call cost more than the scoring at a million articles).
    static ACC: std::cell::RefCell<Vec<f32>> = const { std::cell::RefCell::new(Vec::new()) };
    /// Per-thread scratch for [`Probe`]: one document's weights by term or feature id (whole
    /// vector, headline, lede), kept zeroed between uses.
    static PROBE: std::cell::RefCell<Vec<[f32; 3]>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// One document's three vectors spread over a dense array, so that its cosines with many
/// others cost one lookup per entry of theirs (a merge of two sorted vectors per pair cost
/// half of every related list's time).
pub struct Probe<'a> {
    dense: &'a [[f32; 3]],
}

impl Probe<'_> {
    /// Cosines of the probed document with `other`: whole vectors, headlines, ledes.
    pub fn cosines(&self, other: &Doc) -> [f32; 3] {
        let mut out = [0.0; 3];
        for (slot, entries) in [&other.vector, &other.headline, &other.lede].into_iter().enumerate() {
            out[slot] =
                entries.iter().map(|&(f, w)| self.dense.get(f as usize).map_or(0.0, |d| d[slot] * w)).sum();
        }
        out
    }
}

/// Raw weights by feature or term id.
type Weights = Vec<(u32, f32)>;

/// What the index needs of an article.
#[derive(Debug, Clone, Default)]
pub struct Source {
    pub article_id: i64,
    pub published_at: i64,
    pub headline: String,
    pub standfirst: String,
    pub body: String,
    pub section_ids: Vec<i64>,
    pub section_slugs: Vec<String>,
    pub tag_slugs: Vec<String>,
}

#[derive(Debug, Clone)]
pub struct Doc {
    pub article_id: i64,
    pub published_at: i64,
    pub section_ids: Vec<i64>,
    len: [u32; 3],
    /// Unit-length feature vector, sorted by feature id.
    pub vector: Vec<(u32, f32)>,
    /// Unit-length vector of the headline's words alone, sorted by term id.
    pub headline: Vec<(u32, f32)>,
    /// Unit-length vector of the lede's words (the first [`LEDE_WORDS`] of standfirst and body).
    pub lede: Vec<(u32, f32)>,
}

/// A document's counts of one term per field, saturating at 255 (BM25's `k1` has long
/// flattened the score by then): 8 bytes a posting instead of 12.
#[derive(Debug, Clone, Copy)]
struct Posting {
    doc: u32,
    tf: [u8; 3],
}

#[derive(Default)]
pub struct Index {
    docs: Vec<Option<Doc>>,
    by_article: HashMap<i64, u32>,
    /// Term or feature -> id. Words are stemmed terms; names are `n:…`, tags `t:…`,
    /// sections `s:…`.
    dict: HashMap<String, u32>,
    /// Folded surface words -> term id, for prefix queries.
    surface: BTreeMap<String, u32>,
    postings: Vec<Vec<Posting>>,
    /// Documents with each feature (for its idf), and the vectors' inverted lists.
    feature_df: Vec<u32>,
    feature_docs: Vec<Vec<(u32, f32)>>,
    total_len: [u64; 3],
    live: u32,
    dead: u32,
    /// Raw feature weights (whole article, headline, lede) of documents added without vectors
    /// yet (see `finish`).
    pending: Vec<(u32, Weights, Weights, Weights)>,
}

/// One part of a query: all its terms must appear (a phrase also in order, checked by the
/// caller on the text), or any of a prefix's words.
#[derive(Debug, Clone, PartialEq)]
pub enum Clause {
    Term(String),
    Phrase(Vec<String>),
    Prefix(String),
}

/// A match: document, BM25F score, how many clauses it met.
#[derive(Debug, Clone, Copy)]
pub struct Hit {
    pub article_id: i64,
    pub published_at: i64,
    pub score: f32,
    pub matched: u32,
    /// Clauses met in the headline alone.
    pub in_headline: u32,
    pub doc: u32,
}

impl Index {
    pub fn len(&self) -> usize {
        self.live as usize
    }

    pub fn is_empty(&self) -> bool {
        self.live == 0
    }

    fn id(&mut self, key: &str) -> u32 {
        if let Some(&id) = self.dict.get(key) {
            return id;
        }
        let id = self.postings.len() as u32;
        self.dict.insert(key.to_owned(), id);
        self.postings.push(Vec::new());
        self.feature_df.push(0);
        self.feature_docs.push(Vec::new());
        id
    }

    /// Every indexed article, in id order.
    pub fn article_ids(&self) -> Vec<i64> {
        let mut ids: Vec<i64> = self.by_article.keys().copied().collect();
        ids.sort_unstable();
        ids
    }

    pub fn contains(&self, article_id: i64) -> bool {
        self.by_article.contains_key(&article_id)
    }

    pub fn doc(&self, article_id: i64) -> Option<&Doc> {
        self.by_article.get(&article_id).and_then(|&d| self.docs[d as usize].as_ref())
    }

    pub fn doc_at(&self, doc: u32) -> Option<&Doc> {
        self.docs.get(doc as usize).and_then(Option::as_ref)
    }

    /// Adds or replaces an article, with its related-posts vector.
    pub fn add(&mut self, src: &Source) {
        self.add_deferred(src);
        self.finish();
    }

    /// Adds or replaces an article; its vector is made by [`Index::finish`], so that a bulk
    /// load weighs every vector with the whole archive's word frequencies.
    pub fn add_deferred(&mut self, src: &Source) {
        self.remove(src.article_id);
        let doc = self.docs.len() as u32;
        let mut tf: HashMap<u32, [u8; 3]> = HashMap::new();
        let mut len = [0u32; 3];
        let mut features: HashMap<u32, f32> = HashMap::new();
        let mut lede: HashMap<u32, f32> = HashMap::new();
        let mut lede_len = 0;
        for (field, text) in [&src.headline, &src.standfirst, &src.body].into_iter().enumerate() {
            for word in text::words(text) {
                let folded = text::fold(word);
                if !text::indexable(&folded) {
                    continue;
                }
                // Each surface form is stemmed once, the first time it is seen.
                let id = match self.surface.get(&folded) {
                    Some(&id) => id,
                    None => {
                        let Some(term) = text::term_of_folded(&folded) else { continue };
                        let id = self.id(&term);
                        self.surface.insert(folded, id);
                        id
                    }
                };
                let counts = tf.entry(id).or_default();
                counts[field] = counts[field].saturating_add(1);
                len[field] += 1;
                *features.entry(id).or_default() += [3.0, 2.0, 1.0][field];
                if field > 0 && lede_len < LEDE_WORDS {
                    lede_len += 1;
                    *lede.entry(id).or_default() += 1.0;
                }
            }
        }
        for name in text::names(&format!("{}. {}. {}", src.headline, src.standfirst, src.body)) {
            let id = self.id(&format!("n:{name}"));
            *features.entry(id).or_default() += 2.0;
        }
        for tag in &src.tag_slugs {
            let id = self.id(&format!("t:{tag}"));
            *features.entry(id).or_default() += 4.0;
        }
        for section in &src.section_slugs {
            let id = self.id(&format!("s:{section}"));
            *features.entry(id).or_default() += 1.0;
        }
        for (&term, &counts) in &tf {
            self.postings[term as usize].push(Posting { doc, tf: counts });
        }
        for &feature in features.keys() {
            self.feature_df[feature as usize] += 1;
        }
        for (i, l) in len.iter().enumerate() {
            self.total_len[i] += u64::from(*l);
        }
        self.live += 1;
        let headline = tf.iter().filter(|(_, c)| c[0] > 0).map(|(&t, c)| (t, f32::from(c[0]))).collect();
        self.pending.push((doc, features.into_iter().collect(), headline, lede.into_iter().collect()));
        self.docs.push(Some(Doc {
            article_id: src.article_id,
            published_at: src.published_at,
            section_ids: src.section_ids.clone(),
            len,
            vector: Vec::new(),
            headline: Vec::new(),
            lede: Vec::new(),
        }));
        self.by_article.insert(src.article_id, doc);
    }

    /// Makes the vectors of the articles added since the last call.
    pub fn finish(&mut self) {
        for (doc, features, headline, lede) in std::mem::take(&mut self.pending) {
            if self.docs[doc as usize].is_none() {
                continue;
            }
            let vector = self.vector(&features);
            let headline = self.vector(&headline);
            let lede = self.vector(&lede);
            for &(feature, weight) in &vector {
                self.feature_docs[feature as usize].push((doc, weight));
            }
            if let Some(d) = self.docs[doc as usize].as_mut() {
                d.vector = vector;
                d.headline = headline;
                d.lede = lede;
            }
        }
    }

    /// Gives back the room lists grew into while a whole archive was loaded (a list's
    /// capacity doubles as it grows, so up to half of it was spare).
    pub fn compact(&mut self) {
        for list in &mut self.postings {
            list.shrink_to_fit();
        }
        for list in &mut self.feature_docs {
            list.shrink_to_fit();
        }
    }

    /// The strongest features, weighted `(1 + ln count) · idf`, as a unit vector.
    fn vector(&self, features: &[(u32, f32)]) -> Vec<(u32, f32)> {
        let n = self.live as f32;
        let mut weighted: Vec<(u32, f32)> = features
            .iter()
            .map(|&(f, count)| {
                let df = self.feature_df[f as usize].max(1) as f32;
                (f, (1.0 + count.ln()) * ((n + 1.0) / df).ln().max(0.0))
            })
            .filter(|(_, w)| *w > 0.0)
            .collect();
        weighted.sort_by(|a, b| b.1.total_cmp(&a.1));
        weighted.truncate(VECTOR_FEATURES);
        let norm = weighted.iter().map(|(_, w)| w * w).sum::<f32>().sqrt().max(1e-6);
        let mut vector: Vec<(u32, f32)> = weighted.into_iter().map(|(f, w)| (f, w / norm)).collect();
        vector.sort_by_key(|(f, _)| *f);
        vector
    }

    /// Removes an article (a tombstone until the next sweep).
    pub fn remove(&mut self, article_id: i64) -> bool {
        let Some(doc) = self.by_article.remove(&article_id) else { return false };
        if let Some(d) = self.docs[doc as usize].take() {
            for (i, l) in d.len.iter().enumerate() {
                self.total_len[i] -= u64::from(*l);
            }
            // The document frequencies of all its features are not kept; its vector's are the
            // ones that matter for weighting, and the drift is undone by `gazette reindex`.
            for &(feature, _) in &d.vector {
                let df = &mut self.feature_df[feature as usize];
                *df = df.saturating_sub(1);
            }
        }
        self.live -= 1;
        self.dead += 1;
        if self.dead > 1_000 && self.dead > self.live / 10 {
            self.sweep();
        }
        true
    }

    /// Drops tombstoned entries from every list.
    pub fn sweep(&mut self) {
        let docs = &self.docs;
        for list in &mut self.postings {
            list.retain(|p| docs[p.doc as usize].is_some());
        }
        for list in &mut self.feature_docs {
            list.retain(|(d, _)| docs[*d as usize].is_some());
        }
        self.dead = 0;
    }

    fn idf(&self, term: u32) -> f32 {
        let n = self.live as f32;
        let df = self.postings[term as usize].len() as f32;
        (1.0 + (n - df + 0.5) / (df + 0.5)).ln().max(0.01)
    }

    /// Term ids of one clause (a prefix may stand for many words).
    fn clause_terms(&self, clause: &Clause) -> Vec<u32> {
        match clause {
            Clause::Term(t) => self.dict.get(t).copied().into_iter().collect(),
            Clause::Phrase(ts) => {
                let ids: Vec<u32> = ts.iter().filter_map(|t| self.dict.get(t).copied()).collect();
                if ids.len() == ts.len() { ids } else { Vec::new() }
            }
            Clause::Prefix(p) => {
                let mut ids: Vec<u32> = self
                    .surface
                    .range(p.clone()..)
                    .take_while(|(w, _)| w.starts_with(p.as_str()))
                    .map(|(_, id)| *id)
                    .take(200)
                    .collect();
                ids.sort_unstable();
                ids.dedup();
                ids
            }
        }
    }

    /// The term ids a query's words and phrases stand for (prefixes left out), sorted.
    pub fn query_terms(&self, clauses: &[Clause]) -> Vec<u32> {
        let mut ids: Vec<u32> = clauses
            .iter()
            .filter(|c| !matches!(c, Clause::Prefix(_)))
            .flat_map(|c| self.clause_terms(c))
            .collect();
        ids.sort_unstable();
        ids.dedup();
        ids
    }

    /// Every document meeting at least `min_clauses` clauses, with its BM25F score.
    pub fn search(&self, clauses: &[Clause], min_clauses: u32) -> Vec<Hit> {
        if self.live == 0 || clauses.is_empty() {
            return Vec::new();
        }
        let avg = |i: usize| (self.total_len[i] as f32 / self.live as f32).max(1.0);
        let avg = [avg(0), avg(1), avg(2)];
        let mut score = vec![0f32; self.docs.len()];
        let mut met = vec![0u32; self.docs.len()];
        let mut head = vec![0u32; self.docs.len()];
        for (ci, clause) in clauses.iter().enumerate().take(32) {
            let terms = self.clause_terms(clause);
            let required = matches!(clause, Clause::Phrase(_)).then_some(terms.len() as u32);
            let mut phrase_hits: HashMap<u32, u32> = HashMap::new();
            for term in terms {
                let idf = self.idf(term);
                for p in &self.postings[term as usize] {
                    let Some(d) = &self.docs[p.doc as usize] else { continue };
                    let mut tf = 0f32;
                    for f in 0..3 {
                        let norm = 1.0 - B + B * d.len[f] as f32 / avg[f];
                        tf += FIELD_WEIGHTS[f] * f32::from(p.tf[f]) / norm;
                    }
                    score[p.doc as usize] += idf * tf / (K1 + tf);
                    if p.tf[0] > 0 {
                        head[p.doc as usize] |= 1 << ci;
                    }
                    if required.is_some() {
                        *phrase_hits.entry(p.doc).or_default() += 1;
                    } else {
                        met[p.doc as usize] |= 1 << ci;
                    }
                }
            }
            if let Some(n) = required {
                for (doc, hits) in phrase_hits {
                    if hits == n {
                        met[doc as usize] |= 1 << ci;
                    }
                }
            }
        }
        let mut hits = Vec::new();
        for (doc, (&s, &m)) in score.iter().zip(&met).enumerate() {
            if m == 0 || m.count_ones() < min_clauses {
                continue;
            }
            if let Some(d) = &self.docs[doc] {
                hits.push(Hit {
                    article_id: d.article_id,
                    published_at: d.published_at,
                    score: s,
                    matched: m.count_ones(),
                    in_headline: (head[doc] & m).count_ones(),
                    doc: doc as u32,
                });
            }
        }
        hits
    }

    /// Runs `work` with `doc` spread for lookups (see [`Probe`]).
    pub fn probe<T>(&self, doc: &Doc, work: impl FnOnce(&Probe) -> T) -> T {
        PROBE.with_borrow_mut(|dense| {
            dense.resize(self.postings.len(), [0.0; 3]);
            let parts = [&doc.vector, &doc.headline, &doc.lede];
            for (slot, entries) in parts.into_iter().enumerate() {
                for &(f, w) in entries {
                    dense[f as usize][slot] = w;
                }
            }
            let out = work(&Probe { dense });
            for entries in parts {
                for &(f, _) in entries {
                    dense[f as usize] = [0.0; 3];
                }
            }
            out
        })
    }

    /// The articles most similar to `doc`, with their cosines to it (whole vectors, headlines,
    /// ledes). Candidates come from its strongest features (long lists of common features are
    /// passed over: they cost much and tell little); the best candidates are then scored on
    /// their whole vectors.
    pub fn similar(&self, doc: &Doc, skip: i64) -> Vec<(u32, [f32; 3])> {
        let mut strongest: Vec<(u32, f32)> = doc.vector.clone();
        strongest.sort_by(|a, b| b.1.total_cmp(&a.1));
        let long = (self.live as usize / 20).clamp(LONG_LIST.0, LONG_LIST.1);
        let mut candidates = ACC.with_borrow_mut(|acc| {
            acc.resize(self.docs.len(), 0.0);
            let mut touched: Vec<u32> = Vec::new();
            let mut visited = 0;
            for &(feature, w) in strongest.iter().take(CANDIDATE_FEATURES) {
                let Some(list) = self.feature_docs.get(feature as usize) else { continue };
                if list.len() > long || visited + list.len() > VISIT_BUDGET {
                    continue;
                }
                visited += list.len();
                for &(doc, dw) in list {
                    let slot = &mut acc[doc as usize];
                    if *slot == 0.0 {
                        touched.push(doc);
                    }
                    *slot += w * dw;
                }
            }
            let candidates: Vec<(u32, f32)> = touched.iter().map(|&d| (d, acc[d as usize])).collect();
            for &d in &touched {
                acc[d as usize] = 0.0;
            }
            candidates
        });
        // The best RESCORED, in no particular order (the caller sorts what it keeps).
        if candidates.len() > RESCORED {
            candidates.select_nth_unstable_by(RESCORED, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
            candidates.truncate(RESCORED);
        }
        self.probe(doc, |probe| {
            candidates
                .into_iter()
                .filter_map(|(d, _)| {
                    let other = self.docs[d as usize].as_ref()?;
                    (other.article_id != skip).then(|| (d, probe.cosines(other)))
                })
                .collect()
        })
    }

    /// Cosine similarity of two vectors.
    pub fn cosine(a: &[(u32, f32)], b: &[(u32, f32)]) -> f32 {
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

    /// Rough memory held, in bytes (for the figures in docs/PERFORMANCE.md).
    pub fn memory_bytes(&self) -> usize {
        let postings: usize =
            self.postings.iter().map(|l| l.capacity() * std::mem::size_of::<Posting>()).sum();
        let features: usize = self.feature_docs.iter().map(|l| l.capacity() * 8).sum();
        let vectors: usize = self.docs.iter().flatten().map(|d| d.vector.capacity() * 8 + 64).sum();
        let dict: usize = self.dict.keys().map(|k| k.len() + 48).sum::<usize>()
            + self.surface.keys().map(|k| k.len() + 48).sum::<usize>();
        postings + features + vectors + dict + self.docs.capacity() * std::mem::size_of::<Option<Doc>>()
    }
}
