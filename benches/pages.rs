//! Server time of uncached pages over a 10,000-article SQLite store.
//!
//! `cargo bench --bench pages` builds the store once under `target/bench-data/` with the
//! synthetic generator (`gazette generate`), then drives the real router in-process (no
//! sockets): the article page rotates over 500 different articles. `uncached_*` turns the page
//! cache off; `cached_*` measures the same pages served from it. Every article has a library
//! picture (40 pictures shared round-robin), so cards and leads are drawn as `<picture>`
//! elements as on a real front page.
//! The figures live in docs/PERFORMANCE.md.

use std::path::PathBuf;
use std::time::Duration;

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use gazette::app::App;
use gazette::config::Config;
use gazette::storage::articles;
use tower::ServiceExt;

const ARTICLES: usize = 10_000;

fn store_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("target/bench-data/10k")
}

async fn prepare(page_cache: usize) -> (gazette::web::Front, Vec<String>) {
    let dir = store_dir();
    let mut config = Config::for_store(&dir, None).unwrap();
    config.page_cache = page_cache;
    let db = gazette::app::open_store(&config).await.unwrap();
    gazette::generate::generate(&db, ARTICLES, 7).await.unwrap(); // adds only what is missing
    give_pictures(&db).await;
    db.close().await;
    let app = App::build(&config).await.unwrap();
    let site = app.state.site.get();
    let urls = articles::latest(&app.state.db, 5_000, 0)
        .await
        .unwrap()
        .iter()
        .step_by(10)
        .map(|c| site.article_url(&c.slug, c.published_at))
        .collect();
    (gazette::web::Front::new(app.state.clone()), urls)
}

/// Forty library pictures (rows only: a page is drawn from what is known at upload, so no file
/// is needed) as the featured pictures of every article, once.
async fn give_pictures(db: &gazette::storage::Db) {
    use gazette::storage::pictures::{self, NewPicture};
    if !pictures::all(db).await.unwrap().is_empty() {
        // (Pages leave out pictures whose files are not made: these count as made.)
        let mut tx = db.begin().await.unwrap();
        gazette::tx_exec!(&mut tx, "UPDATE pictures SET state = 'ready' WHERE state <> 'ready'").unwrap();
        tx.commit().await.unwrap();
        return;
    }
    let mut tx = db.begin().await.unwrap();
    let mut ids = Vec::new();
    for n in 0..40 {
        let new = NewPicture {
            file_name: format!("photo-{n}.jpg"),
            original: format!("originals/new/bench{n}.jpg"),
            hash: format!("bench{n:027}"),
            bytes: 4_000_000,
            width: 6000,
            height: 4000,
            alpha: false,
            alt: format!("A photograph of scene {n}"),
            caption: "A caption of some length, as a newsroom writes them.".into(),
            credit: "Staff photographer".into(),
        };
        ids.push(pictures::create(&mut tx, &new, None).await.unwrap());
    }
    gazette::tx_exec!(&mut tx, "DELETE FROM picture_jobs").unwrap();
    gazette::tx_exec!(&mut tx, "UPDATE pictures SET state = 'ready'").unwrap();
    let (first,) = (ids[0],);
    gazette::tx_exec!(
        &mut tx,
        "UPDATE articles SET featured_image_url = '/media/' || CAST(($1 + id % 40) AS TEXT), \
         featured_image_alt = ''",
        first
    )
    .unwrap();
    tx.commit().await.unwrap();
}

async fn get(router: &gazette::web::Front, path: &str) {
    let response = router.clone().oneshot(Request::get(path).body(Body::empty()).unwrap()).await.unwrap();
    assert_eq!(response.status(), 200, "{path}");
    let _ = axum::body::to_bytes(response.into_body(), usize::MAX).await.unwrap();
}

/// One group: the article page (rotating over 500 articles), the front page, a section page.
fn group(c: &mut Criterion, rt: &tokio::runtime::Runtime, name: &str, page_cache: usize, seconds: u64) {
    let (router, urls) = rt.block_on(prepare(page_cache));
    if page_cache > 0 {
        // Every page once, then time for their brotli and gzip bytes (made off the request
        // path, about 15 ms a page): measured during that work, a hit measures the compressor.
        rt.block_on(async {
            for path in urls.iter().map(String::as_str).chain(["/", "/section/politics/"]) {
                get(&router, path).await;
            }
        });
        std::thread::sleep(Duration::from_secs(12));
    }
    let mut group = c.benchmark_group(name);
    group.measurement_time(Duration::from_secs(seconds)).sample_size(100);
    let mut i = 0;
    group.bench_function("article", |b| {
        b.to_async(rt).iter(|| {
            i = (i + 1) % urls.len();
            let path = urls[i].clone();
            let router = &router;
            async move { get(router, &path).await }
        });
    });
    group.bench_function("front_page", |b| b.to_async(rt).iter(|| get(&router, "/")));
    group.bench_function("section_page", |b| b.to_async(rt).iter(|| get(&router, "/section/politics/")));
    group.finish();
}

fn pages(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    group(c, &rt, "uncached_page_10k_articles", 0, 8);
    // The same pages from the page cache (what a reader usually gets).
    group(c, &rt, "cached_page_10k_articles", 20_000, 5);
}

criterion_group!(benches, pages);
criterion_main!(benches);
