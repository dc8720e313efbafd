//! `gazette eval related` and `gazette eval search`: load a labelled corpus (and unlabelled
//! distractors) into a fresh temporary store through the real import, run the real engine (the
//! same code path as the site: `Engine::reindex` writes the related lists that article pages
//! read), and score it and two baselines. docs/RELEVANCE.md has the method and the figures.

use std::collections::HashMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;

pub mod loco;

use crate::jsonl::{self, Line};
use crate::search::{self, Engine, Filter, Sort, text};
use crate::storage::{Db, related};

/// Scores of one system.
#[derive(Debug, Clone, Default)]
pub struct Scores {
    pub name: String,
    pub p6: f64,
    pub ndcg: f64,
    pub mrr: f64,
    pub queries: usize,
}

impl std::fmt::Display for Scores {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "| {} | {:.3} | {:.3} | {:.3} | {} |",
            self.name, self.p6, self.ndcg, self.mrr, self.queries
        )
    }
}

fn read_lines(path: &Path) -> anyhow::Result<Vec<Line>> {
    let file = std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?;
    let mut out = Vec::new();
    for (n, line) in std::io::BufReader::new(file).lines().enumerate() {
        let line = line.with_context(|| format!("{} line {}", path.display(), n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        match jsonl::parse_line(&line) {
            Ok(l) => out.push(l),
            // Left out by the import too.
            Err(err) if err.downcast_ref::<jsonl::Incomplete>().is_some() => {}
            Err(err) => return Err(err.context(format!("{} line {}", path.display(), n + 1))),
        }
    }
    Ok(out)
}

fn label_of(line: &Line, label: &str) -> Option<String> {
    match line.raw.get(label)? {
        serde_json::Value::String(s) if !s.is_empty() => Some(s.clone()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// A fresh store with the corpus (`jsonl:` ids) and distractors (`distractor:` ids).
async fn load_store(dir: &Path, corpus: &Path, distractors: Option<&Path>) -> anyhow::Result<Db> {
    let config = crate::config::Config::for_store(dir, None)?;
    let db = crate::app::open_store(&config).await?;
    let open = |p: &Path| -> anyhow::Result<std::io::BufReader<std::fs::File>> {
        Ok(std::io::BufReader::new(
            std::fs::File::open(p).with_context(|| format!("cannot read {}", p.display()))?,
        ))
    };
    eprintln!("loading {}", corpus.display());
    jsonl::import_as(&db, open(corpus)?, "jsonl:", |n| eprint!("\r  {n} articles")).await?;
    eprintln!();
    if let Some(d) = distractors {
        eprintln!("loading distractors {}", d.display());
        jsonl::import_as(&db, open(d)?, "distractor:", |n| eprint!("\r  {n} articles")).await?;
        eprintln!();
    }
    Ok(db)
}

#[derive(sqlx::FromRow)]
struct Row {
    id: i64,
    external_id: Option<String>,
    primary_section_id: i64,
    published_at: i64,
    headline: String,
    body_text: String,
}

async fn rows(db: &Db) -> anyhow::Result<Vec<Row>> {
    Ok(crate::fetch_all!(
        db,
        Row,
        "SELECT id, external_id, primary_section_id, published_at, headline, body_text FROM articles \
         WHERE status = 'published' ORDER BY id"
    )?)
}

/// P@k (k = min(6, R)), nDCG@6 and reciprocal rank of one ranked list.
fn score_list(list: &[i64], relevant: &std::collections::HashSet<i64>, cutoff: usize) -> (f64, f64, f64) {
    let r = relevant.len();
    let k = cutoff.min(r).max(1);
    let hits_k = list.iter().take(k).filter(|id| relevant.contains(id)).count();
    let mut dcg = 0.0;
    let mut rr = 0.0;
    for (i, id) in list.iter().take(cutoff).enumerate() {
        if relevant.contains(id) {
            dcg += 1.0 / ((i + 2) as f64).log2();
            if rr == 0.0 {
                rr = 1.0 / (i + 1) as f64;
            }
        }
    }
    let ideal: f64 = (0..cutoff.min(r)).map(|i| 1.0 / ((i + 2) as f64).log2()).sum();
    (hits_k as f64 / k as f64, if ideal > 0.0 { dcg / ideal } else { 0.0 }, rr)
}

/// Plain TF-IDF cosine over headline and body: lower-cased words, no stemming, stop words out.
struct TfIdf {
    vectors: Vec<Vec<(u32, f32)>>,
    postings: HashMap<u32, Vec<(usize, f32)>>,
}

impl TfIdf {
    fn new(texts: &[String]) -> Self {
        let mut dict: HashMap<String, u32> = HashMap::new();
        let mut counts: Vec<HashMap<u32, f32>> = Vec::with_capacity(texts.len());
        let mut df: HashMap<u32, f32> = HashMap::new();
        for t in texts {
            let mut c: HashMap<u32, f32> = HashMap::new();
            for w in text::words(t) {
                let w = w.to_lowercase();
                // scikit-learn's default tokens: two characters or more.
                if w.chars().count() < 2 || text::is_stopword(&w) {
                    continue;
                }
                let n = dict.len() as u32;
                let id = *dict.entry(w).or_insert(n);
                *c.entry(id).or_default() += 1.0;
            }
            for id in c.keys() {
                *df.entry(*id).or_default() += 1.0;
            }
            counts.push(c);
        }
        let n = texts.len() as f32;
        let mut vectors = Vec::with_capacity(counts.len());
        let mut postings: HashMap<u32, Vec<(usize, f32)>> = HashMap::new();
        for (doc, c) in counts.into_iter().enumerate() {
            let mut v: Vec<(u32, f32)> =
                // scikit-learn's TfidfVectorizer(sublinear_tf=True): smoothed idf, plus one.
                c.into_iter().map(|(id, tf)| (id, (1.0 + tf.ln()) * (((1.0 + n) / (1.0 + df[&id])).ln() + 1.0))).collect();
            let norm = v.iter().map(|(_, w)| w * w).sum::<f32>().sqrt().max(1e-6);
            for (id, w) in &mut v {
                *w /= norm;
                postings.entry(*id).or_default().push((doc, *w));
            }
            vectors.push(v);
        }
        Self { vectors, postings }
    }

    fn top(&self, doc: usize, k: usize) -> Vec<usize> {
        self.top_weighted(doc, k, |_| 1.0)
    }

    /// The `k` best by cosine times `weight(other)`.
    fn top_weighted(&self, doc: usize, k: usize, weight: impl Fn(usize) -> f32) -> Vec<usize> {
        let mut acc: HashMap<usize, f32> = HashMap::new();
        for (id, w) in &self.vectors[doc] {
            for (other, ow) in &self.postings[id] {
                if *other != doc {
                    *acc.entry(*other).or_default() += w * ow;
                }
            }
        }
        let mut v: Vec<(usize, f32)> = acc.into_iter().map(|(d, s)| (d, s * weight(d))).collect();
        v.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        v.into_iter().take(k).map(|(d, _)| d).collect()
    }
}

/// `gazette eval related`.
pub async fn related(
    corpus: &Path,
    label: &str,
    distractors: Option<&Path>,
    dump: Option<&PathBuf>,
) -> anyhow::Result<Vec<Scores>> {
    let lines = read_lines(corpus)?;
    let dir = tempfile::tempdir()?;
    let keep = std::env::var("GAZETTE_EVAL_DIR").ok().map(PathBuf::from);
    let db = load_store(keep.as_deref().unwrap_or(dir.path()), corpus, distractors).await?;
    let engine = Engine::in_memory();
    let started = std::time::Instant::now();
    engine.reindex(&db, |stage, done, total| eprint!("\r{stage}: {done}/{total}     ")).await?;
    eprintln!("\nreindexed in {:.1} s", started.elapsed().as_secs_f64());
    let rows = rows(&db).await?;
    let by_external: HashMap<&str, usize> =
        rows.iter().enumerate().filter_map(|(i, r)| r.external_id.as_deref().map(|e| (e, i))).collect();
    let labels: HashMap<i64, String> = lines
        .iter()
        .filter_map(|l| {
            let i = by_external.get(format!("jsonl:{}", l.id).as_str())?;
            Some((rows[*i].id, label_of(l, label)?))
        })
        .collect();
    let texts: Vec<String> = rows.iter().map(|r| format!("{} {}", r.headline, r.body_text)).collect();
    let tfidf = TfIdf::new(&texts);
    // The sceptic's baseline: headline twice and body, cosine times a decay with the days apart
    // (0.5 when either date is missing from the corpus; the store's fallback dates are not used).
    let texts: Vec<String> = rows.iter().map(|r| format!("{0} {0} {1}", r.headline, r.body_text)).collect();
    let tfidf_twice = TfIdf::new(&texts);
    let mut undated: std::collections::HashSet<String> =
        lines.iter().filter(|l| l.published.is_none()).map(|l| format!("jsonl:{}", l.id)).collect();
    if let Some(d) = distractors {
        undated.extend(
            read_lines(d)?.iter().filter(|l| l.published.is_none()).map(|l| format!("distractor:{}", l.id)),
        );
    }
    let dates: Vec<Option<i64>> = rows
        .iter()
        .map(|r| (!r.external_id.as_ref().is_some_and(|e| undated.contains(e))).then_some(r.published_at))
        .collect();
    let decay = |a: usize, b: usize| match (dates[a], dates[b]) {
        (Some(x), Some(y)) => 0.3 + 0.7 * (-((x - y).abs() as f32 / 86_400.0) / 30.0).exp(),
        _ => 0.5,
    };
    let mut by_section: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, r) in rows.iter().enumerate() {
        by_section.entry(r.primary_section_id).or_default().push(i);
    }
    for list in by_section.values_mut() {
        list.sort_by(|a, b| {
            rows[*b].published_at.cmp(&rows[*a].published_at).then(rows[*b].id.cmp(&rows[*a].id))
        });
    }
    let mut systems = vec![
        Scores { name: "Gazette".into(), ..Default::default() },
        Scores { name: "latest in the same section".into(), ..Default::default() },
        Scores { name: "TF-IDF cosine (headline + body)".into(), ..Default::default() },
        Scores {
            name: "TF-IDF x time decay (headline twice + body, tau 30 days)".into(),
            ..Default::default()
        },
    ];
    let mut dump_out = match dump {
        Some(p) => Some(std::io::BufWriter::new(std::fs::File::create(p)?)),
        None => None,
    };
    // The corpus's own ids (without the `jsonl:` / `distractor:` prefix), by article id.
    let externals: HashMap<i64, &str> = rows
        .iter()
        .filter_map(|r| {
            let e = r.external_id.as_deref()?;
            Some((r.id, e.split_once(':').map_or(e, |(_, rest)| rest)))
        })
        .collect();
    let external = |id: i64| externals.get(&id).copied().unwrap_or_default().to_owned();
    for (i, r) in rows.iter().enumerate() {
        let Some(l) = labels.get(&r.id) else { continue };
        let relevant: std::collections::HashSet<i64> =
            labels.iter().filter(|(id, other)| **id != r.id && *other == l).map(|(id, _)| *id).collect();
        if relevant.is_empty() {
            continue;
        }
        let gazette = related::list(&db, r.id).await?;
        let latest: Vec<i64> = by_section[&r.primary_section_id]
            .iter()
            .filter(|j| **j != i)
            .take(search::RELATED)
            .map(|j| rows[*j].id)
            .collect();
        let cosine: Vec<i64> = tfidf.top(i, search::RELATED).into_iter().map(|j| rows[j].id).collect();
        let decayed: Vec<i64> = tfidf_twice
            .top_weighted(i, search::RELATED, |j| decay(i, j))
            .into_iter()
            .map(|j| rows[j].id)
            .collect();
        for (system, list) in systems.iter_mut().zip([&gazette, &latest, &cosine, &decayed]) {
            let (p, n, rr) = score_list(list, &relevant, search::RELATED);
            system.p6 += p;
            system.ndcg += n;
            system.mrr += rr;
            system.queries += 1;
        }
        if let Some(out) = dump_out.as_mut() {
            let related: Vec<String> = gazette.iter().map(|id| external(*id)).collect();
            serde_json::to_writer(
                &mut *out,
                &serde_json::json!({ "id": external(r.id), "related": related }),
            )?;
            out.write_all(b"\n")?;
        }
    }
    for s in &mut systems {
        let n = s.queries.max(1) as f64;
        s.p6 /= n;
        s.ndcg /= n;
        s.mrr /= n;
    }
    db.close().await;
    Ok(systems)
}

/// `gazette eval search`: known-item MRR and story nDCG@10, for Gazette and a WordPress-style
/// baseline (every word somewhere in the headline or text, newest first).
pub async fn search(
    corpus: &Path,
    label: &str,
    max_queries: usize,
    dump: Option<&Path>,
) -> anyhow::Result<Vec<(String, f64, f64, usize, usize)>> {
    let mut dump_out = dump.map(std::fs::File::create).transpose()?.map(std::io::BufWriter::new);
    let lines = read_lines(corpus)?;
    let dir = tempfile::tempdir()?;
    let db = load_store(dir.path(), corpus, None).await?;
    let engine = Engine::in_memory();
    engine.build(&db, |_| {}).await?;
    let rows = rows(&db).await?;
    let by_external: HashMap<String, usize> =
        rows.iter().enumerate().filter_map(|(i, r)| r.external_id.clone().map(|e| (e, i))).collect();
    let lowered: Vec<String> =
        rows.iter().map(|r| format!("{}\n{}", r.headline, r.body_text).to_lowercase()).collect();
    let labels: HashMap<usize, String> = lines
        .iter()
        .filter_map(|l| Some((*by_external.get(&format!("jsonl:{}", l.id))?, label_of(l, label)?)))
        .collect();
    let step = (rows.len() / max_queries.max(1)).max(1);
    let now = crate::storage::now();
    let (mut g_mrr, mut w_mrr, mut g_ndcg, mut w_ndcg, mut known, mut story) = (0.0, 0.0, 0.0, 0.0, 0, 0);
    for i in (0..rows.len()).step_by(step) {
        let r = &rows[i];
        let query = search::Query::parse(&r.headline);
        let gazette: Vec<i64> = engine
            .search(&query, &Filter::default(), Sort::Best, now, 100)
            .hits
            .into_iter()
            .map(|h| h.article_id)
            .collect();
        let words: Vec<String> = r.headline.split_whitespace().map(str::to_lowercase).collect();
        let mut wp: Vec<usize> =
            (0..rows.len()).filter(|j| words.iter().all(|w| lowered[*j].contains(w.as_str()))).collect();
        wp.sort_by(|a, b| {
            rows[*b].published_at.cmp(&rows[*a].published_at).then(rows[*b].id.cmp(&rows[*a].id))
        });
        let wp: Vec<i64> = wp.into_iter().take(100).map(|j| rows[j].id).collect();
        let rank =
            |list: &[i64]| list.iter().position(|id| *id == r.id).map_or(0.0, |p| 1.0 / (p + 1) as f64);
        g_mrr += rank(&gazette);
        w_mrr += rank(&wp);
        if let Some(out) = dump_out.as_mut() {
            let at = |list: &[i64]| list.iter().position(|id| *id == r.id).map(|p| p + 1);
            let external = r.external_id.as_deref().unwrap_or_default();
            let line = serde_json::json!({
                "id": external.strip_prefix("jsonl:").unwrap_or(external),
                "query": r.headline,
                "gazette": at(&gazette),
                "baseline": at(&wp),
            });
            writeln!(out, "{line}")?;
        }
        known += 1;
        if let Some(l) = labels.get(&i) {
            let relevant: std::collections::HashSet<i64> = labels
                .iter()
                .filter(|(j, other)| **j != i && *other == l)
                .map(|(j, _)| rows[*j].id)
                .collect();
            if !relevant.is_empty() {
                let without =
                    |list: &[i64]| list.iter().copied().filter(|id| *id != r.id).collect::<Vec<_>>();
                g_ndcg += score_list(&without(&gazette), &relevant, 10).1;
                w_ndcg += score_list(&without(&wp), &relevant, 10).1;
                story += 1;
            }
        }
    }
    let k = known.max(1) as f64;
    let s = story.max(1) as f64;
    db.close().await;
    Ok(vec![
        ("Gazette".to_owned(), g_mrr / k, g_ndcg / s, known, story),
        ("WordPress-style (all words, newest first)".to_owned(), w_mrr / k, w_ndcg / s, known, story),
    ])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn metrics() {
        let rel: std::collections::HashSet<i64> = [1, 2].into_iter().collect();
        let (p, n, rr) = score_list(&[1, 9, 2, 8, 7, 6], &rel, 6);
        assert!((p - 0.5).abs() < 1e-9, "P@min(6,R=2) counts the first two");
        assert!(n > 0.9 && n < 1.0);
        assert!((rr - 1.0).abs() < 1e-9);
        assert_eq!(score_list(&[9, 8], &rel, 6), (0.0, 0.0, 0.0));
    }
}
