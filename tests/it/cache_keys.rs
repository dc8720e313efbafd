//! Cache keys that cannot be multiplied: tracking parameters share the clean address's page,
//! unknown parameters are not cached, pages with parameters are stored from their second
//! request, the cache keeps to its byte budget, and Varnish with the shipped VCL files shared
//! links under one copy too.

use crate::helpers::TestApp;

async fn x_cache(app: &TestApp, path: &str) -> (u16, String, String) {
    let r = app.get(path).await;
    let status = r.status().as_u16();
    let hit = r.headers().get("x-cache").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    let policy = r.headers().get("cache-control").map(|v| v.to_str().unwrap().to_owned()).unwrap_or_default();
    (status, hit, policy)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shared_links_hit_the_clean_page_and_floods_fill_nothing() {
    let app = TestApp::sqlite().await;
    app.load_demo().await;
    let cache = app.page_cache.clone().unwrap();
    let article = crate::helpers::hrefs(&app.page("/", 200).await)
        .into_iter()
        .find(|h| h.starts_with("/20"))
        .expect("an article on the front page");

    // The clean address is stored on its first request; every tracking variant is that page.
    for path in ["/", article.as_str()] {
        x_cache(&app, path).await;
        for (i, tracking) in
            ["utm_source=fb&utm_medium=social", "fbclid=IwAR3x", "gclid=1&mc_cid=2", "UTM_Campaign=x"]
                .iter()
                .enumerate()
        {
            let (status, hit, _) = x_cache(&app, &format!("{path}?{tracking}")).await;
            assert_eq!((status, hit.as_str()), (200, "hit"), "{path}?{tracking} ({i})");
        }
    }

    // An unknown parameter: answered, never stored, not for shared caches either.
    for _ in 0..3 {
        let (status, hit, policy) = x_cache(&app, "/?nonce=42").await;
        assert_eq!((status, hit.as_str(), policy.as_str()), (200, "", "private, max-age=60"));
    }

    // A search is stored when it is asked for again, and hit from then on.
    let first = x_cache(&app, "/search?q=harbour&utm_source=x").await;
    assert_eq!((first.0, first.1.as_str()), (200, ""));
    assert!(first.2.starts_with("public"), "{}", first.2);
    assert_eq!(x_cache(&app, "/search?q=harbour").await.1, "", "second request: rendered and stored");
    assert_eq!(x_cache(&app, "/search?q=harbour").await.1, "hit");
    // Parameters in another order are the same page.
    x_cache(&app, "/search?q=harbour&page=1").await;
    x_cache(&app, "/search?page=1&q=harbour").await;
    assert_eq!(x_cache(&app, "/search?page=1&q=harbour").await.1, "hit");

    // A flood of unique searches and tracking links: no page stored for any of them.
    let (_, pages_before) = cache.usage();
    for n in 0..400 {
        assert_eq!(x_cache(&app, &format!("/search?q=word{n}")).await.0, 200);
        assert_eq!(x_cache(&app, &format!("/?utm_source=u{n}")).await.1, "hit");
    }
    let (bytes, pages) = cache.usage();
    assert_eq!(pages, pages_before, "unique searches were stored ({bytes} bytes)");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_page_cache_keeps_to_its_byte_budget() {
    let app = TestApp::sqlite_with(|c| c.page_cache_bytes = 200_000).await;
    app.load_demo().await;
    let cache = app.page_cache.clone().unwrap();
    let links: Vec<String> = crate::helpers::hrefs(&app.page("/", 200).await)
        .into_iter()
        .filter(|h| h.starts_with('/') && !h.starts_with("/static") && !h.starts_with("/media"))
        .collect();
    assert!(links.len() >= 10, "{links:?}");
    let mut most = 0;
    for link in &links {
        app.get(link).await;
        let (bytes, _) = cache.usage();
        most = most.max(bytes);
        assert!(bytes <= 200_000, "{bytes} bytes held after {link}");
    }
    // Compressed bodies arrive from the compressing thread and are counted too.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(cache.usage().0 <= 200_000);
    assert!(most > 50_000, "the budget was never used: {most}");
    // The newest pages are served from memory.
    let last = links.last().unwrap();
    assert_eq!(x_cache(&app, last).await.1, "hit");
}
