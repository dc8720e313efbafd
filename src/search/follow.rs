//! Following the content event log: each round takes the changed articles into the index,
//! then, on the node that claims the stretch of events, computes the related lists they change;
//! and the full rebuild (`gazette reindex`).

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use super::{Engine, FULL_REBUILD_ABOVE, RELATED, RELATED_JOB, blocking, index, on_cores, payload};
use crate::storage::{Db, related as store};

impl Engine {
    /// Takes in the content events past the cursor. Returns the ids of changed articles and
    /// the event range `(from, to]` they came from.
    pub async fn catch_up(&self, db: &Db) -> anyhow::Result<(Vec<i64>, i64, i64)> {
        let _following = self.following.lock().await;
        self.take_in(db).await
    }

    /// [`Engine::catch_up`], with `following` held by the caller.
    pub(super) async fn take_in(&self, db: &Db) -> anyhow::Result<(Vec<i64>, i64, i64)> {
        let from = self.cursor.load(Ordering::Acquire);
        let Some(live) = self.live() else { return Ok((Vec::new(), from, from)) };
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
        if !changed.is_empty() {
            let mut sources = Vec::with_capacity(changed.len());
            for &id in &changed {
                sources.push((id, store::source(db, id).await?));
            }
            blocking(|| -> anyhow::Result<()> {
                let searcher = live.reader.searcher();
                let mut writer =
                    live.writer.lock().map_err(|_| anyhow::anyhow!("search index writer poisoned"))?;
                for (id, source) in &sources {
                    writer.delete_term(self.fields.id_term(*id));
                    if let Some(src) = source {
                        let analysed = index::analyse(src);
                        let doc = index::document(&self.fields, src, analysed, |f| self.idf(&searcher, f));
                        writer.add_document(doc)?;
                    }
                }
                let mut prepared = writer.prepare_commit()?;
                prepared.set_payload(&payload(to));
                prepared.commit()?;
                drop(writer);
                live.reader.reload()?;
                Ok(())
            })?;
        }
        self.cursor.store(to, Ordering::Release);
        Ok((changed, from, to))
    }

    /// Follows the event log forever: the index every `every`, and, when this node wins the
    /// claim, the related lists of what changed. Builds the index first when none could be
    /// opened.
    pub async fn follow(self: Arc<Self>, db: Db, every: Duration) {
        if !self.is_ready() {
            let started = Instant::now();
            match self.build(&db, |_| {}).await {
                Ok(()) => tracing::info!(
                    articles = self.len(),
                    seconds = started.elapsed().as_secs_f32(),
                    "search index built"
                ),
                Err(err) => tracing::error!(error = %format!("{err:#}"), "could not build the search index"),
            }
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
        if !self.is_ready() {
            return Ok(());
        }
        self.follow_current()?;
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
            // (Contenders' scores are the most the pair could score from the other side.)
            let contenders = blocking(|| self.contenders(id));
            let ids: Vec<i64> = contenders.iter().map(|c| c.0).collect();
            let floors = store::floors(db, &ids).await?;
            for (other, score) in contenders {
                let enters = floors.get(&other).is_none_or(|&(n, weakest)| n < RELATED || score > weakest);
                if enters {
                    push(other, &mut affected);
                }
            }
        }
        let overridden = store::overridden_among(db, &affected).await?;
        let mut choices = HashMap::new();
        for &id in affected.iter().filter(|id| overridden.contains(id)) {
            choices.insert(id, store::overrides(db, id).await?);
        }
        Ok(blocking(|| self.related_many(&affected, &choices)))
    }

    /// Every article in the index, in id order.
    fn article_ids(&self) -> Vec<i64> {
        let Some(searcher) = self.searcher() else { return Vec::new() };
        let mut ids = Vec::with_capacity(searcher.num_docs() as usize);
        for segment in searcher.segment_readers() {
            let Ok(column) = segment.fast_fields().u64("id") else { continue };
            let column = column.first_or_default_col(0);
            for doc in segment.doc_ids_alive() {
                ids.push(column.get_val(doc) as i64);
            }
        }
        ids.sort_unstable();
        ids
    }

    /// Every article's list, computed on every core.
    async fn all_lists(&self, db: &Db) -> anyhow::Result<Vec<(i64, Vec<(i64, f32)>)>> {
        let ids = self.article_ids();
        let overridden = store::overridden(db).await?;
        let mut choices = HashMap::new();
        for &id in ids.iter().filter(|id| overridden.contains(id)) {
            choices.insert(id, store::overrides(db, id).await?);
        }
        Ok(blocking(|| self.related_many(&ids, &choices)))
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

    /// Rebuilds everything: a new index, then every related list (`gazette reindex`).
    pub async fn reindex(&self, db: &Db, mut progress: impl FnMut(&str, usize, usize)) -> anyhow::Result<()> {
        let total = crate::storage::articles::count_published(db).await? as usize;
        let started = Instant::now();
        self.build(db, |done| progress("index", done, total)).await?;
        tracing::info!(articles = self.len(), seconds = started.elapsed().as_secs_f32(), "index built");
        let latest = self.cursor.load(Ordering::Acquire);
        let ids = self.article_ids();
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
