//! Search and related posts, from one derived index per node.
//!
//! The index (`index.rs`) is a tantivy index under the data directory, opened in milliseconds
//! at start and kept current from the content event log, so every node answers the same way
//! whatever the database (SQLite or PostgreSQL). It is derived data: missing, damaged or of an
//! older format, it is rebuilt from the store in the background while the site serves (search
//! falls back to a plain text scan until it is ready); `gazette reindex` builds a new one
//! beside it and swaps it in. Related lists are computed from it when content changes
//! (`related.rs`) and stored in `related_articles`, so page views only read them; a node claims
//! each stretch of events with a compare-and-set on a shared cursor, so the work is done once
//! however many nodes follow the log.

mod follow;
pub mod index;
pub mod model;
mod query;
mod related;
pub mod text;

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

pub use index::Hit;
use index::{Clause, Fields};
use tantivy::{IndexReader, IndexWriter, ReloadPolicy, Searcher};

use crate::storage::{Db, related as store};

/// Related articles per article.
pub const RELATED: usize = 6;
/// Above this many changed articles in one stretch of events, every list is computed afresh.
const FULL_REBUILD_ABOVE: usize = 300;
/// Name of the related-lists job cursor.
const RELATED_JOB: &str = "related";
/// The file in the index folder that names the index in use.
const CURRENT: &str = "CURRENT";
/// Writer memory while following events, and while building (split among two threads).
const FOLLOW_WRITER_BYTES: usize = 32_000_000;
const BUILD_WRITER_BYTES: usize = 128_000_000;
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
                let terms = index::positioned_terms(part);
                q.highlight.extend(terms.iter().map(|(_, t)| t.clone()));
                match terms.len() {
                    0 => {}
                    1 => q.clauses.push(Clause::Term(terms[0].1.clone())),
                    _ => {
                        // Offsets from the phrase's first kept word.
                        let first = terms[0].0;
                        q.clauses
                            .push(Clause::Phrase(terms.into_iter().map(|(p, t)| (p - first, t)).collect()));
                    }
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

/// One opened index: its folder's name (none in memory), reader and writer.
struct Live {
    name: Option<String>,
    reader: IndexReader,
    writer: std::sync::Mutex<IndexWriter>,
}

/// Inverse document frequencies of related-posts features, read from the index and kept for
/// as long as the index is unchanged (every list computed from one state of the index weighs
/// its features alike, so a list is the same whichever node or round computed it).
#[derive(Default)]
struct IdfCache {
    generation: u64,
    values: HashMap<u64, f32, std::hash::BuildHasherDefault<Prehashed>>,
}

/// A hasher for keys that are already hashes (features' FNV-1a).
#[derive(Default)]
struct Prehashed(u64);

impl std::hash::Hasher for Prehashed {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for &b in bytes {
            self.0 = (self.0 << 8) | u64::from(b);
        }
    }

    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
}

/// Above this many cached frequencies the cache starts again (a few tens of MB at most).
const IDF_CACHE_MAX: usize = 1_000_000;

/// The node's search and related-posts engine.
pub struct Engine {
    /// The index folder (`<data dir>/search`); `None` keeps the index in memory (evaluation).
    root: Option<PathBuf>,
    /// Whether a build replaces the folder `CURRENT` names when it could not be opened (a
    /// node's engine; not `gazette reindex`'s, beside a node that may be serving from it).
    heals: bool,
    fields: Fields,
    schema: tantivy::schema::Schema,
    live: RwLock<Option<Arc<Live>>>,
    ready: AtomicBool,
    /// The newest content event taken into the index.
    cursor: AtomicI64,
    /// Held while events are taken into the index (the node's follower and a caller's `step`
    /// or `reindex` would otherwise take the same events in twice).
    following: tokio::sync::Mutex<()>,
    idf: RwLock<IdfCache>,
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

/// What a commit records beside the documents.
#[derive(serde::Serialize, serde::Deserialize)]
struct Payload {
    format: u32,
    cursor: i64,
}

fn payload(cursor: i64) -> String {
    serde_json::to_string(&Payload { format: index::FORMAT, cursor }).unwrap_or_default()
}

/// Size of a folder's files, in bytes.
fn folder_bytes(dir: &Path) -> u64 {
    std::fs::read_dir(dir)
        .map(|entries| entries.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum())
        .unwrap_or(0)
}

impl Engine {
    /// An engine whose index lives in memory until [`Engine::build`] (evaluation, unit tests).
    pub fn in_memory() -> Self {
        Self::with_root(None)
    }

    /// The engine of a node, its index under `root` (`<data dir>/search`). The index in use
    /// is opened now if it is there and of this format (search answers at once); otherwise
    /// [`Engine::follow`] builds one in the background.
    pub fn open(root: &Path) -> Self {
        let mut engine = Self::with_root(Some(root.to_owned()));
        engine.heals = true;
        match engine.open_current() {
            Ok(Some((live, cursor))) => {
                engine.install(live, cursor);
                engine.remove_old(None);
                tracing::info!(articles = engine.len(), "search index opened");
            }
            Ok(None) => {}
            Err(err) => {
                tracing::warn!(error = %format!("{err:#}"), "search index unreadable; it will be rebuilt")
            }
        }
        engine
    }

    /// An engine that will build a new index under `root` without opening the one in use,
    /// which a running node may be writing to (`gazette reindex`).
    pub fn fresh(root: &Path) -> Self {
        Self::with_root(Some(root.to_owned()))
    }

    fn with_root(root: Option<PathBuf>) -> Self {
        let (schema, fields) = Fields::schema();
        Self {
            heals: false,
            root,
            fields,
            schema,
            live: RwLock::new(None),
            ready: AtomicBool::new(false),
            cursor: AtomicI64::new(0),
            following: tokio::sync::Mutex::new(()),
            idf: RwLock::new(IdfCache::default()),
        }
    }

    /// The folder named by `CURRENT`, opened, with the cursor of its last commit; `None` when
    /// there is none or it is of another format.
    fn open_current(&self) -> anyhow::Result<Option<(Live, i64)>> {
        let Some(root) = &self.root else { return Ok(None) };
        let Ok(name) = std::fs::read_to_string(root.join(CURRENT)) else { return Ok(None) };
        let name = name.trim().to_owned();
        if name.is_empty() || name.contains(['/', '\\']) || name.starts_with('.') {
            anyhow::bail!("{} names no index folder", root.join(CURRENT).display());
        }
        let index = tantivy::Index::open_in_dir(root.join(&name))?;
        let Some(payload) = index.load_metas()?.payload else { return Ok(None) };
        let payload: Payload = serde_json::from_str(&payload)?;
        if payload.format != index::FORMAT || index.schema() != self.schema {
            tracing::info!(format = payload.format, "search index of another format; it will be rebuilt");
            return Ok(None);
        }
        Ok(Some((self.live_of(&index, Some(name), 1, FOLLOW_WRITER_BYTES)?, payload.cursor)))
    }

    fn live_of(
        &self,
        index: &tantivy::Index,
        name: Option<String>,
        threads: usize,
        bytes: usize,
    ) -> anyhow::Result<Live> {
        let reader = index.reader_builder().reload_policy(ReloadPolicy::Manual).try_into()?;
        let writer = index.writer_with_num_threads(threads, bytes)?;
        Ok(Live { name, reader, writer: std::sync::Mutex::new(writer) })
    }

    fn install(&self, live: Live, cursor: i64) {
        if let Ok(mut slot) = self.live.write() {
            *slot = Some(Arc::new(live));
        }
        if let Ok(mut idf) = self.idf.write() {
            *idf = IdfCache::default();
        }
        self.cursor.store(cursor, Ordering::Release);
        self.ready.store(true, Ordering::Release);
    }

    fn live(&self) -> Option<Arc<Live>> {
        self.live.read().ok().and_then(|l| l.clone())
    }

    fn searcher(&self) -> Option<Searcher> {
        self.live().map(|l| l.reader.searcher())
    }

    /// Whether the index is open (until then search falls back to a text scan).
    pub fn is_ready(&self) -> bool {
        self.ready.load(Ordering::Acquire)
    }

    /// Articles in the index.
    pub fn len(&self) -> usize {
        self.searcher().map_or(0, |s| s.num_docs() as usize)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The index's size on disk, in bytes (0 in memory).
    pub fn disk_bytes(&self) -> u64 {
        match (&self.root, self.live().and_then(|l| l.name.clone())) {
            (Some(root), Some(name)) => folder_bytes(&root.join(name)),
            _ => 0,
        }
    }

    /// Inverse document frequency of a related-posts feature, `ln((N + 1) / df)`, cached by
    /// the feature's hash.
    fn idf_of(&self, searcher: &Searcher, hash: u64, feature: &str) -> f32 {
        let mut out = [0.0];
        self.idfs(searcher, &[(hash, feature)], &mut out);
        out[0]
    }

    /// [`Engine::idf_of`] of many features at once (one lock for those already read).
    fn idfs(&self, searcher: &Searcher, features: &[(u64, &str)], out: &mut [f32]) {
        let generation = searcher.generation().generation_id();
        let mut missing = Vec::new();
        match self.idf.read() {
            Ok(cache) if cache.generation == generation => {
                for (i, (h, _)) in features.iter().enumerate() {
                    match cache.values.get(h) {
                        Some(&v) => out[i] = v,
                        None => missing.push(i),
                    }
                }
            }
            _ => missing.extend(0..features.len()),
        }
        if missing.is_empty() {
            return;
        }
        let docs = searcher.num_docs();
        for &i in &missing {
            let term = tantivy::Term::from_field_text(self.fields.features, features[i].1);
            let df = searcher.doc_freq(&term).unwrap_or(0).max(1);
            out[i] = ((docs as f32 + 1.0) / df as f32).ln().max(0.0);
        }
        if let Ok(mut cache) = self.idf.write() {
            if cache.generation != generation || cache.values.len() > IDF_CACHE_MAX {
                *cache = IdfCache { generation, values: HashMap::default() };
            }
            for &i in &missing {
                cache.values.insert(features[i].0, out[i]);
            }
        }
    }

    /// [`Engine::idf_of`] by name (choosing the strongest features of a new document).
    fn idf(&self, searcher: &Searcher, feature: &str) -> f32 {
        self.idf_of(searcher, related::hash(feature), feature)
    }

    /// Builds a fresh index from the store, `progress(done)` after each page, and puts it in
    /// use: on disk in a new folder named by `CURRENT` (the old one is removed), or in memory.
    pub async fn build(&self, db: &Db, mut progress: impl FnMut(usize)) -> anyhow::Result<()> {
        let start_event = crate::storage::events::latest_id(db).await?;
        let name = format!("index-{}", chrono::Utc::now().format("%Y%m%d-%H%M%S-%3f"));
        let index = match &self.root {
            Some(root) => {
                let dir = root.join(&name);
                std::fs::create_dir_all(&dir)?;
                tantivy::Index::create_in_dir(&dir, self.schema.clone())?
            }
            None => tantivy::Index::create_in_ram(self.schema.clone()),
        };
        let threads = std::thread::available_parallelism().map_or(2, std::num::NonZero::get).clamp(1, 2);
        let mut writer: IndexWriter = index.writer_with_num_threads(threads, BUILD_WRITER_BYTES)?;
        // Features' frequencies in what has been read so far choose each article's strongest
        // features for its forward record (their weights are computed when lists are).
        let mut df: HashMap<String, u32> = HashMap::new();
        let mut seen = 0u32;
        let mut after = 0;
        let mut done = 0;
        let fields = self.fields;
        loop {
            let page = store::sources_after(db, after, 2_000).await?;
            let Some(last) = page.last() else { break };
            after = last.article_id;
            done += page.len();
            let (w, d, s) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let analysed: Vec<_> = page.iter().map(index::analyse).collect();
                for a in &analysed {
                    for f in a.features.keys() {
                        *df.entry(f.clone()).or_default() += 1;
                    }
                }
                seen += analysed.len() as u32;
                let n = seen as f32 + 1.0;
                for (src, a) in page.iter().zip(analysed) {
                    let idf = |f: &str| (n / df.get(f).copied().unwrap_or(1) as f32).ln().max(0.0);
                    writer.add_document(index::document(&fields, src, a, idf))?;
                }
                Ok((writer, df, seen))
            })
            .await??;
            (writer, df, seen) = (w, d, s);
            progress(done);
        }
        drop(df);
        let mut prepared = writer.prepare_commit()?;
        prepared.set_payload(&payload(start_event));
        prepared.commit()?;
        writer.wait_merging_threads()?;
        let live = self.live_of(&index, self.root.as_ref().map(|_| name.clone()), 1, FOLLOW_WRITER_BYTES)?;
        let _following = self.following.lock().await;
        // The folder replaced: the one in use, or the one `CURRENT` named when it could not
        // be opened (damaged, or of another format).
        // (`gazette reindex` leaves the folder in use to the node that serves from it, which
        // removes it when it takes up the new one.)
        let old = self.live().and_then(|l| l.name.clone()).or_else(|| {
            let root = self.root.as_ref().filter(|_| self.heals)?;
            Some(std::fs::read_to_string(root.join(CURRENT)).ok()?.trim().to_owned())
        });
        if let Some(root) = &self.root {
            let tmp = root.join(format!("{CURRENT}.tmp"));
            std::fs::write(&tmp, &name)?;
            std::fs::rename(&tmp, root.join(CURRENT))?;
        }
        self.install(live, start_event);
        self.remove_old(old.as_deref());
        // Changes made while building are taken in now.
        self.take_in(db).await?;
        Ok(())
    }

    /// Removes an index folder no longer in use, and builds left behind by a stopped process.
    fn remove_old(&self, old: Option<&str>) {
        let Some(root) = &self.root else { return };
        let current = self.live().and_then(|l| l.name.clone());
        let Ok(entries) = std::fs::read_dir(root) else { return };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if !name.starts_with("index-") || Some(&name) == current.as_ref() {
                continue;
            }
            // Another process may be building one now (`gazette reindex`, whose folder changes
            // every few seconds): only the folder just replaced, or one untouched for ten
            // minutes, is removed.
            let stale = entry
                .metadata()
                .and_then(|m| m.modified())
                .is_ok_and(|t| t.elapsed().is_ok_and(|e| e > Duration::from_secs(600)));
            if (Some(name.as_str()) == old || stale)
                && let Err(err) = std::fs::remove_dir_all(entry.path())
            {
                tracing::warn!(folder = %entry.path().display(), error = %err, "could not remove an old search index");
            }
        }
    }

    /// When another process (`gazette reindex`) has put a new index in use, this node opens it.
    fn follow_current(&self) -> anyhow::Result<()> {
        let Some(root) = &self.root else { return Ok(()) };
        let Ok(name) = std::fs::read_to_string(root.join(CURRENT)) else { return Ok(()) };
        let old = self.live().and_then(|l| l.name.clone());
        if old.as_deref() == Some(name.trim()) {
            return Ok(());
        }
        let opened = match self.open_current() {
            Ok(opened) => opened,
            // The process that built it still holds its writer (`gazette reindex` computing
            // the related lists): taken up at a later round.
            Err(err)
                if err
                    .downcast_ref::<tantivy::TantivyError>()
                    .is_some_and(|e| matches!(e, tantivy::TantivyError::LockFailure(..))) =>
            {
                tracing::debug!("the new search index is still being written; taken up later");
                return Ok(());
            }
            Err(err) => return Err(err),
        };
        if let Some((live, cursor)) = opened {
            self.install(live, cursor);
            self.remove_old(old.as_deref());
            tracing::info!(articles = self.len(), "search index replaced by a rebuilt one");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
