//! `gazette eval loco`: the related-posts model chosen by leave-one-corpus-out. Each labelled
//! story corpus of the shared data takes its turn as the corpus left out: the model is fitted
//! on the others' candidate pairs and scores the one left out, beside the sceptic's baseline
//! (TF-IDF cosine times a time decay) whose time scale is chosen on the same training corpora.
//! Every fold is printed, then the weights fitted on all corpora (the ones shipped in
//! `src/search/model.rs`).

use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};

use super::{Scores, TfIdf, label_of, load_store, read_lines, rows, score_list};
use crate::search::{self, Engine, model};

/// A labelled corpus: its name, file, label field and distractors.
struct Corpus {
    name: &'static str,
    path: PathBuf,
    distractors: Option<PathBuf>,
}

/// One article of a corpus as a query: its candidates with their features, what is relevant,
/// and the baseline's lists at each time scale.
struct Query {
    pool: Vec<(i64, [f32; model::FEATURES])>,
    relevant: HashSet<i64>,
    baseline: Vec<Vec<i64>>,
}

/// Time decays the baseline may choose from: `(floor, days)`, the cosine times
/// `floor + (1 - floor) · exp(-days apart / days)`; `None` is no decay at all. With a floor, an
/// old piece that shares the words keeps part of its score (`gazette eval related`'s own
/// baseline, which scored higher than the plain decay on the story corpora).
const TAUS: [Option<(f32, f32)>; 11] = [
    Some((0.0, 7.0)),
    Some((0.0, 30.0)),
    Some((0.0, 90.0)),
    Some((0.0, 180.0)),
    Some((0.0, 365.0)),
    Some((0.3, 7.0)),
    Some((0.3, 30.0)),
    Some((0.3, 90.0)),
    Some((0.3, 180.0)),
    Some((0.6, 30.0)),
    None,
];
/// Articles scored per corpus, at most (spread evenly over it).
const MAX_QUERIES: usize = 4_000;
/// Ridge of the fit, and the weight each training corpus carries in all (so a large corpus
/// does not outvote the others).
const RIDGE: f64 = 1.0;
const CORPUS_WEIGHT: f32 = 10_000.0;

fn corpora(data: &Path) -> Vec<Corpus> {
    let clusters = data.join("news-clusters");
    vec![
        Corpus { name: "ecbplus", path: clusters.join("ecbplus/ecbplus.jsonl"), distractors: None },
        Corpus {
            name: "giveme5w1h + AllSides distractors",
            path: clusters.join("giveme5w1h-news-cluster/giveme5w1h-news-cluster.jsonl"),
            distractors: Some(data.join("news-categories/allsides-article-bias/allsides_subset.jsonl")),
        },
        Corpus {
            name: "semeval2018-gva-incidents",
            path: clusters.join("semeval2018-gva-incidents/semeval2018-gva-incidents.jsonl"),
            distractors: None,
        },
    ]
}

/// Loads a corpus and gathers its queries.
async fn queries(corpus: &Corpus) -> anyhow::Result<Vec<Query>> {
    let lines = read_lines(&corpus.path)?;
    let dir = tempfile::tempdir()?;
    let keep =
        std::env::var("GAZETTE_EVAL_DIR").ok().map(|d| PathBuf::from(d).join(corpus.name.replace(' ', "-")));
    let db = load_store(keep.as_deref().unwrap_or(dir.path()), &corpus.path, corpus.distractors.as_deref())
        .await?;
    let engine = Engine::in_memory();
    engine.build(&db, |_| {}).await?;
    let rows = rows(&db).await?;
    let by_external: HashMap<&str, usize> =
        rows.iter().enumerate().filter_map(|(i, r)| r.external_id.as_deref().map(|e| (e, i))).collect();
    let mut labels: HashMap<i64, String> = HashMap::new();
    let mut undated: HashSet<i64> = HashSet::new();
    for l in &lines {
        let Some(&i) = by_external.get(format!("jsonl:{}", l.id).as_str()) else { continue };
        if l.published.is_none() {
            undated.insert(rows[i].id);
        }
        if let Some(label) = label_of(l, "story_id") {
            labels.insert(rows[i].id, label);
        }
    }
    if let Some(d) = &corpus.distractors {
        for l in read_lines(d)? {
            if l.published.is_none()
                && let Some(&i) = by_external.get(format!("distractor:{}", l.id).as_str())
            {
                undated.insert(rows[i].id);
            }
        }
    }
    let mut by_label: HashMap<&str, Vec<i64>> = HashMap::new();
    for (id, label) in &labels {
        by_label.entry(label.as_str()).or_default().push(*id);
    }
    let texts: Vec<String> = rows.iter().map(|r| format!("{0} {0} {1}", r.headline, r.body_text)).collect();
    let tfidf = TfIdf::new(&texts);
    let scored: Vec<usize> = (0..rows.len())
        .filter(|&i| labels.get(&rows[i].id).is_some_and(|l| by_label[l.as_str()].len() > 1))
        .collect();
    let step = scored.len().div_ceil(MAX_QUERIES).max(1);
    let mut out = Vec::new();
    for (n, &i) in scored.iter().step_by(step).enumerate() {
        let r = &rows[i];
        let relevant: HashSet<i64> =
            by_label[labels[&r.id].as_str()].iter().copied().filter(|id| *id != r.id).collect();
        let baseline = TAUS
            .iter()
            .map(|tau| {
                let decay = |j: usize| match (tau, undated.contains(&r.id) || undated.contains(&rows[j].id)) {
                    (None, _) => 1.0,
                    (Some(_), true) => 0.5,
                    (Some((floor, t)), false) => {
                        let days = (r.published_at - rows[j].published_at).abs() as f32 / 86_400.0;
                        floor + (1.0 - floor) * (-days / t).exp()
                    }
                };
                tfidf.top_weighted(i, search::RELATED, decay).into_iter().map(|j| rows[j].id).collect()
            })
            .collect();
        out.push(Query { pool: engine.pool(r.id), relevant, baseline });
        if n % 200 == 0 {
            eprint!("\r  {}: {n} queries", corpus.name);
        }
    }
    eprintln!("\r  {}: {} queries", corpus.name, out.len());
    db.close().await;
    Ok(out)
}

fn mean(scores: impl Iterator<Item = (f64, f64, f64)>) -> Scores {
    let mut s = Scores::default();
    for (p, n, rr) in scores {
        s.p6 += p;
        s.ndcg += n;
        s.mrr += rr;
        s.queries += 1;
    }
    let q = s.queries.max(1) as f64;
    s.p6 /= q;
    s.ndcg /= q;
    s.mrr /= q;
    s
}

/// The model's scores on a corpus's queries: each pool ranked by `weights`.
fn model_scores(queries: &[Query], weights: &[f32; model::FEATURES + 1]) -> Scores {
    mean(queries.iter().map(|q| {
        let mut ranked: Vec<(i64, f32)> =
            q.pool.iter().map(|(id, x)| (*id, model::score(x, weights))).collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        let list: Vec<i64> = ranked.into_iter().take(search::RELATED).map(|(id, _)| id).collect();
        score_list(&list, &q.relevant, search::RELATED)
    }))
}

fn baseline_scores(queries: &[Query], tau: usize) -> Scores {
    mean(queries.iter().map(|q| score_list(&q.baseline[tau], &q.relevant, search::RELATED)))
}

/// Share of the relevant articles (at most six a query) that the candidate pools hold.
fn pool_recall(queries: &[Query]) -> f64 {
    let (mut found, mut wanted) = (0usize, 0usize);
    for q in queries {
        let k = q.relevant.len().min(search::RELATED);
        wanted += k;
        found += q.pool.iter().filter(|(id, _)| q.relevant.contains(id)).count().min(k);
    }
    found as f64 / wanted.max(1) as f64
}

fn samples(folds: &[&[Query]]) -> Vec<([f32; model::FEATURES], bool, f32)> {
    let mut out = Vec::new();
    for queries in folds {
        let pairs: usize = queries.iter().map(|q| q.pool.len()).sum();
        let weight = CORPUS_WEIGHT / pairs.max(1) as f32;
        for q in queries.iter() {
            for (id, x) in &q.pool {
                out.push((*x, q.relevant.contains(id), weight));
            }
        }
    }
    out
}

fn tau_name(t: usize) -> String {
    TAUS[t].map_or_else(
        || "none".to_owned(),
        |(floor, d)| {
            if floor > 0.0 {
                format!("{floor} + {} exp(-d/{d})", 1.0 - floor)
            } else {
                format!("exp(-d/{d})")
            }
        },
    )
}

/// `gazette eval loco --data ../shared/data`.
pub async fn loco(data: &Path) -> anyhow::Result<()> {
    let corpora = corpora(data);
    let mut all = Vec::new();
    for c in &corpora {
        all.push(queries(c).await?);
    }
    println!(
        "Leave-one-corpus-out: the model fitted on the other corpora; the baseline (TF-IDF, headline twice"
    );
    println!("and body, cosine x a time decay) with the decay that scored best on the same other corpora.\n");
    println!(
        "| corpus left out | queries | pool recall | Gazette P@6 | nDCG@6 | MRR | baseline P@6 | nDCG@6 | MRR | decay |"
    );
    println!("|---|---|---|---|---|---|---|---|---|---|");
    for (held, c) in corpora.iter().enumerate() {
        let train: Vec<&[Query]> =
            all.iter().enumerate().filter(|(i, _)| *i != held).map(|(_, q)| q.as_slice()).collect();
        let weights = model::fit(&samples(&train), RIDGE);
        let tau = (0..TAUS.len())
            .max_by(|&a, &b| {
                let score = |t| train.iter().map(|q| baseline_scores(q, t).p6).sum::<f64>();
                score(a).total_cmp(&score(b)).then(b.cmp(&a))
            })
            .unwrap_or(0);
        let g = model_scores(&all[held], &weights);
        let b = baseline_scores(&all[held], tau);
        println!(
            "| {} | {} | {:.3} | **{:.3}** | **{:.3}** | {:.3} | {:.3} | {:.3} | {:.3} | {} |",
            c.name,
            g.queries,
            pool_recall(&all[held]),
            g.p6,
            g.ndcg,
            g.mrr,
            b.p6,
            b.ndcg,
            b.mrr,
            tau_name(tau)
        );
        eprintln!("  weights fitted without {}: {weights:?}", c.name);
    }
    println!("\nThe baseline with every decay (the same for every fold; P@6 / nDCG@6):\n");
    println!("| corpus | {} |", (0..TAUS.len()).map(tau_name).collect::<Vec<_>>().join(" | "));
    println!("|---|{}", "---|".repeat(TAUS.len()));
    for (c, q) in corpora.iter().zip(&all) {
        let cells: Vec<String> = (0..TAUS.len())
            .map(|t| {
                let s = baseline_scores(q, t);
                format!("{:.3} / {:.3}", s.p6, s.ndcg)
            })
            .collect();
        println!("| {} | {} |", c.name, cells.join(" | "));
    }
    let every: Vec<&[Query]> = all.iter().map(Vec::as_slice).collect();
    let weights = model::fit(&samples(&every), RIDGE);
    println!("\nFitted on every corpus (what `src/search/model.rs` ships):\n");
    println!("| {} | bias |", model::NAMES.join(" | "));
    println!("|{}---|", "---|".repeat(model::FEATURES));
    println!("| {} |", weights.iter().map(|w| format!("{w:.3}")).collect::<Vec<_>>().join(" | "));
    println!("\n```rust\npub const WEIGHTS: [f32; FEATURES + 1] = {weights:?};\n```");
    println!("\nThe shipped weights on each corpus (fitted on it too: not a held-out figure):\n");
    for (c, q) in corpora.iter().zip(&all) {
        let s = model_scores(q, &model::WEIGHTS);
        println!("- {}: P@6 {:.3}, nDCG@6 {:.3}", c.name, s.p6, s.ndcg);
    }
    Ok(())
}
