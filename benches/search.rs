//! Search and related posts at scale.
//!
//! `cargo bench --bench search [-- ARTICLES]` (default 100,000) builds a synthetic store under
//! `target/bench-data/search-N/` once (`gazette generate`: Zipf-like pseudo-words in running
//! stories; with `GAZETTE_BENCH_SAMPLE=FILE.jsonl`, real sentences from that corpus, under
//! `search-N-sampled/`), then measures, on this machine:
//! - a full `reindex`: the index and every related list, written to the store;
//! - the index's and the store's size on disk, and the process's resident memory;
//! - search: engine time and the whole `/search` page (router in-process), p50 and p99, over
//!   400 queries (headline words, two-word and prefix queries);
//! - publishing: a new article, then the node's step that takes it into the index and computes
//!   the related lists it changes (its own and its neighbours'), p50 and p99 over 30 articles;
//! - a restart: the index opened from disk until the oldest article's headline finds it.
//!
//! The figures live in docs/PERFORMANCE.md.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::http::Request;
use gazette::app::App;
use gazette::config::Config;
use gazette::domain::{ArticleStatus, CommentStatus, NewArticle, Slug};
use gazette::search::{Filter, Query, Sort};
use tower::ServiceExt;

/// This process's resident memory, in MB.
fn rss_mb() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmRSS:")).map(str::to_owned))
        .and_then(|l| l.split_whitespace().nth(1).and_then(|kb| kb.parse::<u64>().ok()))
        .map_or(0, |kb| kb / 1024)
}

fn pct(v: &mut [Duration], p: f64) -> f64 {
    v.sort();
    v[((v.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1e3
}

#[tokio::main]
async fn main() {
    tracing_subscriber::fmt().with_env_filter("gazette=info,gazette::http=warn").init();
    let articles: usize = std::env::args()
        .skip(1)
        .find(|a| !a.starts_with("--"))
        .and_then(|a| a.parse().ok())
        .unwrap_or(100_000);
    // GAZETTE_BENCH_SAMPLE=FILE.jsonl: real sentences from a corpus (e.g. one in
    // ../shared/data) instead of pseudo-words, in a store of its own.
    let sample = std::env::var_os("GAZETTE_BENCH_SAMPLE")
        .map(|p| gazette::generate::Sample::load(std::path::Path::new(&p), 50_000).unwrap());
    let name = format!("search-{articles}{}", if sample.is_some() { "-sampled" } else { "" });
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data").join(name);
    let mut config = Config::for_store(&dir, None).unwrap();
    config.page_cache = 0;
    let db = gazette::app::open_store(&config).await.unwrap();
    gazette::generate::generate_from(&db, articles, 11, sample.as_ref()).await.unwrap();

    db.close().await;
    // The app as `gazette serve` builds it: its engine opens the index under the data
    // directory (none yet on a first run) and the reindex builds one there.
    let app = App::build(&config).await.unwrap();
    let state = app.state.clone();
    let engine = state.search.clone();
    let started = Instant::now();
    let mut index_done = None;
    engine
        .reindex(&state.db, |stage, done, total| {
            if stage == "related" && index_done.is_none() {
                index_done = Some(started.elapsed());
            }
            if done == total || done % 20_000 < 500 {
                eprint!("\r{stage}: {done}/{total}    ");
            }
        })
        .await
        .unwrap();
    println!("  of which the index: {:.1} s", index_done.unwrap_or_default().as_secs_f64());
    let reindex = started.elapsed();
    eprintln!();
    let disk: u64 =
        std::fs::read_dir(&dir).unwrap().filter_map(|e| e.ok()?.metadata().ok()).map(|m| m.len()).sum();
    println!(
        "reindex of {} articles: {:.1} s; index on disk {} MB; store on disk {} MB; RSS {} MB",
        engine.len(),
        reindex.as_secs_f64(),
        engine.disk_bytes() / 1_000_000,
        disk / 1_000_000,
        rss_mb()
    );
    let router = gazette::web::Front::new(state.clone());
    let headlines: Vec<(String,)> = gazette::fetch_all!(
        &state.db,
        (String,),
        "SELECT headline FROM articles WHERE status = 'published' ORDER BY id LIMIT 20000"
    )
    .unwrap();
    let mut queries: Vec<String> = Vec::new();
    for (i, (h,)) in headlines.iter().step_by(headlines.len() / 200).enumerate() {
        queries.push(h.clone());
        let words: Vec<&str> = h.split_whitespace().collect();
        queries.push(if i % 2 == 0 {
            format!("{} {}", words[0], words[words.len() - 1])
        } else {
            format!("{}*", &words[2][..words[2].len().min(4)])
        });
    }
    let now = gazette::storage::now();
    let (mut engine_times, mut page_times) = (Vec::new(), Vec::new());
    for q in &queries {
        let t = Instant::now();
        let found = state.search.search(&Query::parse(q), &Filter::default(), Sort::Best, now, 10);
        engine_times.push(t.elapsed());
        std::hint::black_box(found.total);
        let path = format!("/search?q={}", q.replace(' ', "+").replace('*', "%2A"));
        let t = Instant::now();
        let response =
            router.clone().oneshot(Request::get(&path).body(Body::empty()).unwrap()).await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
        let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
        page_times.push(t.elapsed());
    }
    println!(
        "search over {} queries: engine p50 {:.2} ms, p99 {:.2} ms; whole /search page p50 {:.2} ms, p99 {:.2} ms",
        queries.len(),
        pct(&mut engine_times, 0.5),
        pct(&mut engine_times, 0.99),
        pct(&mut page_times, 0.5),
        pct(&mut page_times, 0.99)
    );

    // Publishing: a new piece of an existing story, then one follower step.
    let mut step_times = Vec::new();
    let mut updated = 0;
    for i in 0..30 {
        let (headline, body): (String, String) = gazette::fetch_one!(
            &state.db,
            (String, String),
            "SELECT headline, body_source FROM articles WHERE status = 'published' ORDER BY id LIMIT 1 OFFSET $1",
            ((i * 997) % (engine.len() / 2)) as i64
        )
        .unwrap();
        let slug = Slug::parse(&format!("bench-follow-up-{}-{i}", now)).unwrap();
        let article = NewArticle {
            external_id: None,
            slug,
            headline: format!("Follow-up: {headline}"),
            standfirst: String::new(),
            body_source: body,
            excerpt: String::new(),
            status: ArticleStatus::Published,
            author_slugs: vec![Slug::parse("amara-adeyemi-0").unwrap()],
            section_slugs: vec![Slug::parse("news").unwrap()],
            tags: vec![],
            featured_image: None,
            comment_status: CommentStatus::Open,
            published_at: Some(now),
            sticky: false,
        };
        gazette::content::create_article(&state.db, &article).await.unwrap();
        let t = Instant::now();
        let before = gazette::storage::events::latest_id(&state.db).await.unwrap();
        state.search.step(&state.db).await.unwrap();
        step_times.push(t.elapsed());
        updated += usize::from(gazette::storage::events::latest_id(&state.db).await.unwrap() > before);
    }
    println!(
        "publish -> index + related lists: p50 {:.1} ms, p99 {:.1} ms over 30 articles ({updated} changed other lists)",
        pct(&mut step_times, 0.5),
        pct(&mut step_times, 0.99)
    );
    println!("RSS after searches and publishing: {} MB", rss_mb());

    // A restart: the index is opened from disk, and the oldest article's headline finds it.
    let (oldest_id, oldest): (i64, String) = gazette::fetch_one!(
        &state.db,
        (i64, String),
        "SELECT id, headline FROM articles WHERE status = 'published' ORDER BY published_at, id LIMIT 1"
    )
    .unwrap();
    drop((router, engine, state, app));
    let t = Instant::now();
    let reopened = gazette::search::Engine::open(&dir.join("search"));
    let found = reopened.search(&Query::parse(&oldest), &Filter::default(), Sort::Relevance, now, 10);
    let elapsed = t.elapsed();
    let rank = found.hits.iter().position(|h| h.article_id == oldest_id).map(|r| r + 1);
    println!(
        "restart: index opened and the oldest headline searched in {:.1} ms (found at rank {rank:?} of {} matches)",
        elapsed.as_secs_f64() * 1e3,
        found.total
    );
}
