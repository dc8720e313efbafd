//! Search and related posts, from one derived index per node.
//!
//! The index (`index.rs`) lives in memory, is built from the store at start and follows the
//! content event log, so every node answers the same way whatever the database (SQLite or
//! PostgreSQL): "identical in meaning" by construction. Related lists are computed from it when
//! content changes and stored in `related_articles`, so page views only read them; a node
//! claims each stretch of events with a compare-and-set on a shared cursor, so the work is done
//! once however many nodes follow the log.

pub mod index;
pub mod text;

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::{Duration, Instant};

use index::{Clause, Hit, Index};

use crate::storage::{Db, related as store};

/// Related articles per article.
pub const RELATED: usize = 6;
/// Above this many changed articles in one stretch of events, every list is computed afresh.
const FULL_REBUILD_ABOVE: usize = 300;
/// How much the headlines' and the ledes' own likeness weigh in relatedness, beside the whole
/// article's (which weighs the rest, 0.4). Two reports of one event name it in their headlines
/// and open with its facts (who, what, where, when) in much the same words, while pieces on the
/// same topic share body vocabulary. Chosen on the labelled corpora (docs/RELEVANCE.md has the
/// figures and the values tried).
const HEADLINE_WEIGHT: f32 = 0.2;
const LEDE_WEIGHT: f32 = 0.4;
/// Whole-vector likeness above which a candidate is the same text again (a story imported
/// twice, a syndicated copy word for word) and is left out. Two outlets' rewrites of one wire
/// report fall below it and stay: they are the same story told again, which is what a reader
/// of the related block is after (at 0.9 they were dropped, and P@6 on giveme5w1h fell 2 points).
const DUPLICATE: f32 = 0.99;
/// First-stage candidates kept per article for the final ranking of its list.
const FIRST_STAGE: usize = 60;
/// How many of an article's nearest pieces (by first-stage score) vouch for a candidate.
const SHARED_K: usize = 3;
/// How much their support lifts a candidate: its score times `1 + SHARED_WEIGHT · mean
/// likeness to them`.
const SHARED_WEIGHT: f32 = 2.0;
/// How much a headline that holds the whole query and says no more adds (a headline of nothing
/// else doubles the score; one of twice as many words adds half). Chosen on the labelled corpora: 0.5-2 all lift
/// known-item MRR by 1-2 points; story nDCG unchanged.
const EXACT_HEADLINE: f32 = 1.0;
/// Name of the related-lists job cursor.
const RELATED_JOB: &str = "related";

/// How results are ordered.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Sort {
    /// Relevance with a preference for recent stories (the default).
    #[default]
    Best,
    Relevance,
    Newest,
}

impl Sort {
    pub fn parse(s: &str) -> Self {
        match s {
            "relevance" => Self::Relevance,
            "date" | "newest" => Self::Newest,
            _ => Self::Best,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Best => "best",
            Self::Relevance => "relevance",
            Self::Newest => "date",
        }
    }
}

/// A reader's query, parsed.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Query {
    pub clauses: Vec<Clause>,
    /// Stems to highlight in snippets (words and phrase words).
    pub highlight: Vec<String>,
    /// Folded prefixes to highlight (`word*`).
    pub prefixes: Vec<String>,
}

impl Query {
    /// `"two-state solution" harb* election`: phrases in quotes, prefixes with `*`, the rest
    /// words. Stop words are dropped; nothing left means an empty query.
    pub fn parse(input: &str) -> Self {
        let mut q = Query::default();
        for (i, part) in input.split('"').enumerate() {
            if i % 2 == 1 {
                let terms = text::terms(part);
                q.highlight.extend(terms.iter().cloned());
                match terms.len() {
                    0 => {}
                    1 => q.clauses.push(Clause::Term(terms[0].clone())),
                    _ => q.clauses.push(Clause::Phrase(terms)),
                }
                continue;
            }
            for raw in part.split_whitespace() {
                if let Some(stem) = raw.strip_suffix('*') {
                    let folded: String = text::fold(stem).chars().filter(|c| c.is_alphanumeric()).collect();
                    if folded.chars().count() >= 2 {
                        q.prefixes.push(folded.clone());
                        q.clauses.push(Clause::Prefix(folded));
                    }
                    continue;
                }
                for term in text::terms(raw) {
                    if !q.clauses.contains(&Clause::Term(term.clone())) {
                        q.highlight.push(term.clone());
                        q.clauses.push(Clause::Term(term));
                    }
                }
            }
        }
        q.clauses.truncate(32);
        q
    }

    pub fn is_empty(&self) -> bool {
        self.clauses.is_empty()
    }

    /// Clauses a result must meet: all of a short query, most of a long one.
    pub fn min_clauses(&self) -> u32 {
        let n = self.clauses.len() as u32;
        if n <= 3 { n } else { (n * 6).div_ceil(10) }
    }

    pub fn has_phrase(&self) -> bool {
        self.clauses.iter().any(|c| matches!(c, Clause::Phrase(_)))
    }
}

/// Filters a reader can set.
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub section_id: Option<i64>,
    /// `[from, until)` in Unix seconds.
    pub from: Option<i64>,
    pub until: Option<i64>,
}

/// The node's search and related-posts engine.
pub struct Engine {
    index: RwLock<Index>,
    ready: AtomicBool,
    /// The newest content event taken into the index.
    cursor: AtomicI64,
    /// Held while events are taken into the index. Two rounds at once (the node's follower and
    /// a caller's `step` or `reindex`) took the same events in twice: an article added again
    /// after its neighbours' lists were stored gets a vector weighed by later word
    /// frequencies, and the lists no longer matched a rebuild.
    following: tokio::sync::Mutex<()>,
}

impl Default for Engine {
    fn default() -> Self {
        Self::new()
    }
}

/// Runs CPU-heavy work without stalling the runtime's other tasks (when it has other workers).
fn blocking<T>(work: impl FnOnce() -> T) -> T {
    match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
        Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(work),
        _ => work(),
    }
}

/// `work` over every item, the items split among the machine's cores, in order.
fn on_cores<I: Sync, T: Send>(items: &[I], work: impl Fn(&I) -> T + Sync) -> Vec<T> {
    let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get).clamp(1, 8);
    let per = items.len().div_ceil(threads).max(1);
    let work = &work;
    std::thread::scope(|scope| {
        let handles: Vec<_> = items
            .chunks(per)
            .map(|part| scope.spawn(move || part.iter().map(work).collect::<Vec<_>>()))
            .collect();
        handles.into_iter().flat_map(|h| h.join().unwrap_or_default()).collect()
    })
}

/// Freshness factor for "best" ordering: a story a year old keeps about 40% of its score.
fn freshness(published_at: i64, now: i64) -> f32 {
    let days = ((now - published_at).max(0) as f32) / 86_400.0;
    0.4 + 0.6 * (-days / 120.0).exp()
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

/// The candidates for an article's list with their scores: likeness of the texts weighted by
/// closeness in time. Symmetric in the pair.
fn scored_candidates(index: &Index, doc: &index::Doc, article_id: i64) -> Vec<(u32, f32)> {
    index
        .similar(doc, article_id)
        .into_iter()
        .filter_map(|(d, cosines)| {
            let other = index.doc_at(d)?;
            Some((d, blend(cosines) * closeness(doc.published_at, other.published_at)))
        })
        .collect()
}

/// An article's best first-stage candidates, best first.
fn first_stage(index: &Index, doc: &index::Doc, article_id: i64) -> Vec<(u32, f32)> {
    let mut scored = scored_candidates(index, doc, article_id);
    if scored.len() > FIRST_STAGE {
        scored.select_nth_unstable_by(FIRST_STAGE, |a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        scored.truncate(FIRST_STAGE);
    }
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored
}

impl Engine {
    pub fn new() -> Self {
        Self {
            index: RwLock::new(Index::default()),
            ready: AtomicBool::new(false),
            cursor: AtomicI64::new(0),
            following: tokio::sync::Mutex::new(()),
        }
    }

    /// Whether the index has been built (until then search falls back to a text scan).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    pub fn len(&self) -> usize {
        self.index.read().map(|i| i.len()).unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn memory_bytes(&self) -> usize {
        self.index.read().map(|i| i.memory_bytes()).unwrap_or(0)
    }

    /// Builds the index from the store, `progress(done)` after each page.
    pub async fn build(&self, db: &Db, mut progress: impl FnMut(usize)) -> anyhow::Result<()> {
        let start_event = crate::storage::events::latest_id(db).await?;
        let mut fresh = Index::default();
        let mut after = 0;
        let mut done = 0;
        loop {
            let page = store::sources_after(db, after, 2_000).await?;
            let Some(last) = page.last() else { break };
            after = last.article_id;
            done += page.len();
            // Analysis is CPU work: keep it off the async workers.
            fresh = tokio::task::spawn_blocking(move || {
                for src in &page {
                    fresh.add_deferred(src);
                }
                fresh
            })
            .await?;
            progress(done);
        }
        fresh = tokio::task::spawn_blocking(move || {
            fresh.finish();
            fresh.compact();
            fresh
        })
        .await?;
        let _following = self.following.lock().await;
        if let Ok(mut index) = self.index.write() {
            *index = fresh;
        }
        self.cursor.store(start_event, Ordering::Release);
        self.ready.store(true, Ordering::Release);
        // Changes made while building are taken in now.
        self.take_in(db).await?;
        Ok(())
    }

    /// Takes in the content events past the cursor. Returns the ids of changed articles and
    /// the event range `(from, to]` they came from.
    pub async fn catch_up(&self, db: &Db) -> anyhow::Result<(Vec<i64>, i64, i64)> {
        let _following = self.following.lock().await;
        self.take_in(db).await
    }

    /// [`Engine::catch_up`], with `following` held by the caller.
    async fn take_in(&self, db: &Db) -> anyhow::Result<(Vec<i64>, i64, i64)> {
        let from = self.cursor.load(Ordering::Acquire);
        let mut to = from;
        let mut changed = Vec::new();
        loop {
            let events = crate::storage::events::after(db, to, 1_000).await?;
            let Some(last) = events.last() else { break };
            to = last.0;
            for (_, kind, subject) in &events {
                if kind.starts_with("article.") && !changed.contains(subject) {
                    changed.push(*subject);
                }
            }
            if events.len() < 1_000 {
                break;
            }
        }
        for &id in &changed {
            let source = store::source(db, id).await?;
            if let Ok(mut index) = self.index.write() {
                match source {
                    Some(src) => index.add(&src),
                    None => {
                        index.remove(id);
                    }
                }
            }
        }
        self.cursor.store(to, Ordering::Release);
        Ok((changed, from, to))
    }

    /// Follows the event log forever: the index every `every`, and, when this node wins the
    /// claim, the related lists of what changed.
    pub async fn follow(self: std::sync::Arc<Self>, db: Db, every: Duration) {
        if let Err(err) = self.build(&db, |_| {}).await {
            tracing::error!(error = %format!("{err:#}"), "could not build the search index");
        } else {
            tracing::info!(articles = self.len(), "search index ready");
        }
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if let Err(err) = self.step(&db).await {
                tracing::warn!(error = %format!("{err:#}"), "could not follow content events for search");
            }
        }
    }

    /// One round: index, then related lists if this node claims the events.
    pub async fn step(&self, db: &Db) -> anyhow::Result<()> {
        let _following = self.following.lock().await;
        self.take_in(db).await?;
        let to = self.cursor.load(Ordering::Acquire);
        let from = store::cursor(db, RELATED_JOB, 0).await?;
        if from >= to {
            return Ok(());
        }
        let events = crate::storage::events::after(db, from, 10_000).await?;
        let events: Vec<_> = events.into_iter().filter(|e| e.0 <= to).collect();
        let Some(last) = events.last().map(|e| e.0) else { return Ok(()) };
        let changed: Vec<i64> = events
            .iter()
            .filter(|(_, kind, _)| kind.starts_with("article."))
            .map(|(_, _, subject)| *subject)
            .collect::<HashSet<_>>()
            .into_iter()
            .collect();
        // Claim and write in one transaction: if another node moved the cursor first, nothing
        // is written here.
        // Many changes at once (an import, a store from before related lists existed): computing
        // every list afresh is cheaper than following each change's neighbours.
        if changed.len() > FULL_REBUILD_ABOVE {
            let all = self.all_lists(db).await?;
            let mut tx = db.begin().await?;
            if !store::claim(&mut tx, RELATED_JOB, from, last).await? {
                return Ok(());
            }
            store::set_lists(&mut tx, &all).await?;
            crate::storage::events::record(&mut tx, crate::storage::events::EventKind::RelatedUpdated, 0)
                .await?;
            tx.commit().await?;
            tracing::info!(lists = all.len(), "related lists rebuilt after many changes");
            return Ok(());
        }
        let updates = self.updates_for(db, &changed).await?;
        let mut tx = db.begin().await?;
        if !store::claim(&mut tx, RELATED_JOB, from, last).await? {
            return Ok(());
        }
        // One event per list that changed: page caches drop only the pages showing those
        // articles.
        for (article, list) in &updates {
            let before = store::list_in(&mut tx, *article).await?;
            if before.len() != list.len() || before.iter().zip(list).any(|(a, b)| *a != b.0) {
                store::set_list(&mut tx, *article, list).await?;
                crate::storage::events::record(
                    &mut tx,
                    crate::storage::events::EventKind::RelatedUpdated,
                    *article,
                )
                .await?;
            }
        }
        tx.commit().await?;
        if !updates.is_empty() {
            tracing::debug!(lists = updates.len(), "related lists updated");
        }
        Ok(())
    }

    /// Whether content events taken into the index still wait for their related lists (on this
    /// node or on whichever claimed them).
    pub async fn related_pending(&self, db: &Db) -> anyhow::Result<bool> {
        Ok(store::cursor(db, RELATED_JOB, 0).await? < self.cursor.load(Ordering::Acquire))
    }

    /// New related lists for the changed articles and for every article whose list should now
    /// show one of them or stop showing it.
    pub async fn updates_for(&self, db: &Db, changed: &[i64]) -> anyhow::Result<Vec<(i64, Vec<(i64, f32)>)>> {
        let mut affected: Vec<i64> = Vec::new();
        let push = |id: i64, affected: &mut Vec<i64>| {
            if !affected.contains(&id) {
                affected.push(id);
            }
        };
        for &id in changed {
            push(id, &mut affected);
            for lister in store::listed_by(db, id).await? {
                push(lister, &mut affected);
            }
            // Relatedness is symmetric, so the changed article's own candidates, scored from
            // its side, say where it now belongs: in every list it would enter, a short one or
            // one whose weakest entry it beats. Only the changed article's top few would miss
            // the article published alone on its topic, whose empty list nothing then filled.
            // (Neighbours' support can lift a stored score by up to `SHARED_WEIGHT`: compare with
            // that bound.)
            let lift = 1.0 + SHARED_WEIGHT;
            let contenders = self.contenders(id);
            let ids: Vec<i64> = contenders.iter().map(|c| c.0).collect();
            let floors = store::floors(db, &ids).await?;
            for (other, score) in contenders {
                let enters =
                    floors.get(&other).is_none_or(|&(n, weakest)| n < RELATED || score * lift > weakest);
                if enters {
                    push(other, &mut affected);
                }
            }
        }
        let overridden = store::overridden_among(db, &affected).await?;
        let mut out = Vec::with_capacity(affected.len());
        for id in affected {
            let (pins, excludes) =
                if overridden.contains(&id) { store::overrides(db, id).await? } else { Default::default() };
            out.push((id, self.related(id, &pins, &excludes)));
        }
        Ok(out)
    }

    /// Every article's list, computed on every core.
    async fn all_lists(&self, db: &Db) -> anyhow::Result<Vec<(i64, Vec<(i64, f32)>)>> {
        let ids: Vec<i64> = self.index.read().map(|i| i.article_ids()).unwrap_or_default();
        let overridden = store::overridden(db).await?;
        let mut choices = HashMap::new();
        for &id in ids.iter().filter(|id| overridden.contains(id)) {
            choices.insert(id, store::overrides(db, id).await?);
        }
        Ok(blocking(|| self.related_many(&ids, &choices)))
    }

    /// The articles most like `article_id`, without time or duplicate rules.
    /// The articles an article could be listed beside, with the score of the pair.
    fn contenders(&self, article_id: i64) -> Vec<(i64, f32)> {
        let Ok(index) = self.index.read() else { return Vec::new() };
        let Some(doc) = index.doc(article_id) else { return Vec::new() };
        scored_candidates(&index, doc, article_id)
            .into_iter()
            .filter_map(|(d, score)| Some((index.doc_at(d)?.article_id, score)))
            .collect()
    }

    /// The related list of an article: pins first, then the most similar published articles,
    /// weighted by closeness in time, without exclusions and without near-duplicates of the
    /// article or of each other. Empty when the article is not published.
    pub fn related(&self, article_id: i64, pins: &[i64], excludes: &[i64]) -> Vec<(i64, f32)> {
        let Ok(index) = self.index.read() else { return Vec::new() };
        let Some(doc) = index.doc(article_id) else { return Vec::new() };
        let first = first_stage(&index, doc, article_id);
        self.finish(&index, doc, first, pins, excludes)
    }

    /// The list from an article's first stage: rescored by the support of its nearest pieces,
    /// then pins, exclusions and copies applied.
    fn finish(
        &self,
        index: &Index,
        doc: &index::Doc,
        mut scored: Vec<(u32, f32)>,
        pins: &[i64],
        excludes: &[i64],
    ) -> Vec<(i64, f32)> {
        let article_id = doc.article_id;
        let mut out: Vec<(i64, f32)> = pins
            .iter()
            .filter(|p| **p != article_id && index.contains(**p))
            .take(RELATED)
            .map(|p| (*p, 1.0))
            .collect();
        // Two reports of one event are close to the same other reports; a piece that merely
        // shares words with the article is far from the article's other nearest pieces. Each
        // candidate is lifted by its mean likeness to the article's nearest others. Computed
        // from the index alone, so a list is the same whether it is built in a full rebuild or
        // when one article changes.
        let own: Vec<&index::Doc> =
            scored.iter().take(SHARED_K).filter_map(|(d, _)| index.doc_at(*d)).collect();
        if own.len() > 1 {
            let mut support = vec![(0.0f32, 0u32); scored.len()];
            for near in &own {
                index.probe(near, |probe| {
                    for ((d, _), (sum, n)) in scored.iter().zip(&mut support) {
                        let Some(other) = index.doc_at(*d).filter(|o| o.article_id != near.article_id) else {
                            continue;
                        };
                        *sum += blend(probe.cosines(other));
                        *n += 1;
                    }
                });
            }
            for ((_, score), (sum, n)) in scored.iter_mut().zip(support) {
                *score *= 1.0 + SHARED_WEIGHT * sum / n.max(1) as f32;
            }
            scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        }
        let mut picked_vectors: Vec<&[(u32, f32)]> =
            out.iter().filter_map(|(id, _)| index.doc(*id)).map(|d| d.vector.as_slice()).collect();
        for (d, score) in scored {
            if out.len() >= RELATED {
                break;
            }
            let Some(other) = index.doc_at(d) else { continue };
            if excludes.contains(&other.article_id) || out.iter().any(|(id, _)| *id == other.article_id) {
                continue;
            }
            if score < 0.02 {
                break;
            }
            let duplicate = Index::cosine(&doc.vector, &other.vector) > DUPLICATE
                || picked_vectors.iter().any(|v| Index::cosine(v, &other.vector) > DUPLICATE);
            if duplicate {
                continue;
            }
            picked_vectors.push(&other.vector);
            out.push((other.article_id, score));
        }
        out
    }

    /// Related lists of many articles, computed on every core.
    fn related_many(
        &self,
        ids: &[i64],
        choices: &HashMap<i64, (Vec<i64>, Vec<i64>)>,
    ) -> Vec<(i64, Vec<(i64, f32)>)> {
        on_cores(ids, |&id| {
            let (pins, excludes) = choices.get(&id).cloned().unwrap_or_default();
            (id, self.related(id, &pins, &excludes))
        })
    }

    /// Ranked matches of a query: `(article id, published_at, score)`, best first.
    pub fn search(&self, query: &Query, filter: &Filter, sort: Sort, now: i64) -> Vec<Hit> {
        let Ok(index) = self.index.read() else { return Vec::new() };
        let mut hits = index.search(&query.clauses, query.min_clauses());
        hits.retain(|h| {
            let d = index.doc_at(h.doc);
            filter.section_id.is_none_or(|s| d.is_some_and(|d| d.section_ids.contains(&s)))
                && filter.from.is_none_or(|f| h.published_at >= f)
                && filter.until.is_none_or(|u| h.published_at < u)
        });
        let fresh_weight = 3.0 / query.clauses.len().max(3) as f32;
        let terms = index.query_terms(&query.clauses);
        for h in &mut hits {
            // Meeting more of the query's parts counts, beyond what BM25 gives.
            let coverage = h.matched as f32 / query.clauses.len().max(1) as f32;
            h.score *= 0.5 + 0.5 * coverage;
            // A headline that holds the query is what the reader is looking for: all of it
            // triples the score, half of it adds half.
            let headline = h.in_headline as f32 / query.clauses.len().max(1) as f32;
            h.score *= 1.0 + 2.0 * headline * headline;
            // Of two headlines that hold the whole query, the one that says no more than the
            // query is the one the reader typed ("Sheen and Silverman split" before "... split
            // after four years"): the share of the headline's words that the query holds.
            // Only headlines that hold the whole query are looked at (few, whatever the hits).
            if h.in_headline as usize == query.clauses.len()
                && let Some(d) = index.doc_at(h.doc).filter(|d| !d.headline.is_empty())
            {
                let said = d.headline.iter().filter(|(t, _)| terms.binary_search(t).is_ok()).count();
                h.score *= 1.0 + EXACT_HEADLINE * said as f32 / d.headline.len() as f32;
            }
            if sort == Sort::Best {
                // A short query ("harbour strike") wants the latest; a long one is most often
                // a reader looking for one piece by its headline, and age says little then.
                let fresh = freshness(h.published_at, now);
                h.score *= 1.0 - fresh_weight * (1.0 - fresh);
            }
        }
        match sort {
            Sort::Newest => {
                hits.sort_by(|a, b| b.published_at.cmp(&a.published_at).then(b.article_id.cmp(&a.article_id)))
            }
            _ => hits.sort_by(|a, b| b.score.total_cmp(&a.score).then(b.published_at.cmp(&a.published_at))),
        }
        hits
    }

    /// Rebuilds everything: the index, then every related list (`gazette reindex`).
    pub async fn reindex(&self, db: &Db, mut progress: impl FnMut(&str, usize, usize)) -> anyhow::Result<()> {
        let total = crate::storage::articles::count_published(db).await? as usize;
        let started = Instant::now();
        self.build(db, |done| progress("index", done, total)).await?;
        tracing::info!(articles = self.len(), seconds = started.elapsed().as_secs_f32(), "index built");
        let latest = self.cursor.load(Ordering::Acquire);
        let ids: Vec<i64> = self.index.read().map(|i| i.article_ids()).unwrap_or_default();
        let mut done = 0;
        let (mut computing, mut writing) = (Duration::ZERO, Duration::ZERO);
        let overridden = store::overridden(db).await?;
        for chunk in ids.chunks(1_000) {
            let t = Instant::now();
            let mut choices = HashMap::new();
            for &id in chunk.iter().filter(|id| overridden.contains(id)) {
                choices.insert(id, store::overrides(db, id).await?);
            }
            // Read-only work on the index: spread over the machine's cores.
            let lists = blocking(|| self.related_many(chunk, &choices));
            computing += t.elapsed();
            let t = Instant::now();
            let mut tx = db.begin().await?;
            store::set_lists(&mut tx, &lists).await?;
            tx.commit().await?;
            writing += t.elapsed();
            done += chunk.len();
            progress("related", done, ids.len());
        }
        tracing::info!(
            computing = computing.as_secs_f32(),
            writing = writing.as_secs_f32(),
            "related lists rebuilt"
        );
        store::set_cursor(db, RELATED_JOB, latest).await?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use index::Source;

    const DAY: i64 = 86_400;

    fn engine(articles: &[(i64, i64, &str, &str)]) -> Engine {
        let engine = Engine::new();
        {
            let mut index = engine.index.write().unwrap();
            let fillers = [
                "Council budget vote delayed again",
                "Schools reopen after the winter break",
                "Museum opens a gallery of maps",
                "Rail fares rise in the spring",
                "Library extends its opening hours",
                "Farmers count the cost of the dry summer",
            ];
            for (i, f) in fillers.iter().enumerate() {
                index.add_deferred(&Source {
                    article_id: 1_000 + i as i64,
                    published_at: 400 * DAY,
                    headline: (*f).to_owned(),
                    body: format!("{f}. Residents and officials spoke about plans for the year ahead."),
                    ..Default::default()
                });
            }
            for &(id, day, headline, body) in articles {
                index.add_deferred(&Source {
                    article_id: id,
                    published_at: day * DAY,
                    headline: headline.to_owned(),
                    body: body.to_owned(),
                    ..Default::default()
                });
            }
            index.finish();
        }
        engine
    }

    fn ids(list: &[(i64, f32)]) -> Vec<i64> {
        list.iter().map(|(id, _)| *id).collect()
    }

    #[test]
    fn the_same_text_again_is_left_out_and_a_rewrite_stays() {
        let body = "The tanker Marisol ran aground on the sandbar off Port Calder before dawn. \
                    Coastguard crews pumped fuel from its tanks while the harbour stayed shut. \
                    Pilots said the channel markers had drifted in the storm.";
        let rewrite = "The tanker Marisol ran aground on the sandbar off Port Calder before dawn. \
                       Coastguard crews pumped fuel from its tanks while the harbour stayed shut. \
                       Pilots said the channel markers had drifted during last week's storm.";
        let e = engine(&[
            (1, 100, "Tanker aground off Port Calder", body),
            (2, 100, "Tanker aground off Port Calder", body),
            (3, 101, "Tanker aground off Port Calder", rewrite),
        ]);
        let scored = e.related(1, &[], &[]);
        let related = ids(&scored);
        assert!(!related.contains(&2), "a word-for-word copy is not related reading: {related:?}");
        assert_eq!(related.first(), Some(&3), "another outlet's rewrite of the report is: {related:?}");
    }

    #[test]
    fn headlines_that_name_the_same_event_count() {
        let storm = "Gales shut the bridge to traffic at noon. Engineers will inspect the cables \
                     and the towers, and the council will meet on Friday about the repairs. \
                     Commuters queued for buses along the quay; schools sent pupils home early; \
                     shopkeepers boarded windows; fishermen hauled boats onto the slipway; \
                     forecasters expect the wind to ease by Sunday evening.";
        let (first, second) = storm.split_at(storm.find("Commuters").unwrap());
        let e = engine(&[
            (1, 100, "Storm closes the old bridge", storm),
            (2, 100, "Old bridge closed by storm", second),
            // As much of the text, under another headline.
            (3, 100, "Ferry timetable changes", first),
        ]);
        let related = e.related(1, &[], &[]);
        assert_eq!(ids(&related).first(), Some(&2), "{related:?}");
    }

    #[test]
    fn a_lede_that_tells_the_same_event_counts() {
        // Two reports open with the same event; a third piece shares the first one's long
        // background on the topic but opens with another event.
        let event = "The tanker Marisol ran aground on the sandbar off Port Calder before dawn on \
                     Tuesday, and coastguard crews pumped fuel from its tanks. ";
        let other = "The council approved a new budget for the harbour on Monday after a long \
                     debate about the cost of ferry services. ";
        let background = "Dredging, silt, tides, channel depth, quay repairs, pilot rotas, \
                          berth fees, crane upkeep, mooring chains, buoy lamps, slipway \
                          concrete, warehouse leases, container stacks, tug contracts, \
                          lighthouse wiring, fish market stalls, customs sheds, gantry \
                          rails, bollard paint, fender timber, drainage culverts and \
                          timetables have divided the board for years. ";
        let first = format!("{}{}", event.repeat(6), background.repeat(8));
        let second = format!("{}{}", event.repeat(6), "Divers inspected the hull at noon. ".repeat(4));
        let third = format!("{}{}", other.repeat(6), background.repeat(8));
        let e = engine(&[
            (1, 100, "Port Calder news", &first),
            (2, 100, "Port Calder report", &second),
            (3, 100, "Port Calder report", &third),
        ]);
        let index = e.index.read().unwrap();
        let (one, two, three) = (index.doc(1).unwrap(), index.doc(2).unwrap(), index.doc(3).unwrap());
        assert!(
            Index::cosine(&one.vector, &three.vector) > Index::cosine(&one.vector, &two.vector),
            "the background weighs more in the whole text"
        );
        drop(index);
        let related = e.related(1, &[], &[]);
        assert_eq!(ids(&related).first(), Some(&2), "the same event's report leads: {related:?}");
    }

    #[test]
    fn pieces_that_the_nearest_vouch_for_come_first() {
        let e = engine(&[
            (1, 100, "Lifeboat crew rescue yacht sailors", "The crew brought four sailors ashore."),
            (2, 100, "Yacht sailors rescued by lifeboat", "Four sailors were brought ashore."),
            (3, 100, "Lifeboat station opens to visitors", "Visitors toured the station."),
            (4, 100, "Sailors thank the lifeboat crew", "The sailors thanked their rescuers."),
            (5, 100, "Yacht sailors thank lifeboat", "Four yacht sailors brought ashore thank the crew."),
        ]);
        let index = e.index.read().unwrap();
        let doc = index.doc(1).unwrap();
        let at = |id: i64| (0..12).find(|&d| index.doc_at(d).is_some_and(|x| x.article_id == id)).unwrap();
        // 3 a little ahead of 2 on the first stage; 2 is like the article's other nearest
        // pieces (4 and 5), 3 is not.
        let first = vec![(at(5), 0.6), (at(4), 0.55), (at(3), 0.52), (at(2), 0.5)];
        let related = e.finish(&index, doc, first.clone(), &[], &[]);
        let order = ids(&related);
        let pos = |id| order.iter().position(|x| *x == id).unwrap();
        assert!(pos(2) < pos(3), "{related:?}");
    }

    #[test]
    fn a_headline_that_says_just_the_query_comes_first() {
        let e = engine(&[
            (1, 100, "Silverman and Sheen split", "The couple announced it on Friday."),
            (
                2,
                110,
                "Silverman and Sheen split after four years together",
                "Silverman and Sheen split, their spokesman said; Silverman and Sheen met in 2014.",
            ),
        ]);
        let query = Query::parse("Silverman and Sheen split");
        let hits = e.search(&query, &Filter::default(), Sort::Best, 110 * DAY);
        let order: Vec<i64> = hits.iter().map(|h| h.article_id).collect();
        assert_eq!(order, vec![1, 2], "{hits:?}");
    }
}
