use crate::helpers::TestApp;

#[tokio::test]
async fn assets_are_served_under_hashed_urls_with_long_caching() {
    let app = TestApp::sqlite().await;
    let html = app.page("/", 200).await;
    let css = html.split("rel=\"stylesheet\" href=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert!(css.starts_with("/static/style.") && css.ends_with(".css"), "{css}");
    let response = app.get(&css).await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.headers()["cache-control"], "public, max-age=31536000, immutable");
    assert_eq!(response.headers()["content-type"], "text/css; charset=utf-8");
    assert_eq!(app.get("/static/style.00000000.css").await.status(), 404);
    assert_eq!(app.get("/static/../Cargo.toml").await.status(), 404);
    let favicon = app.get("/favicon.ico").await;
    assert_eq!(favicon.headers()["content-type"], "image/x-icon");
    let robots = app.page("/robots.txt", 200).await;
    assert!(robots.starts_with("User-agent: *"));
}

#[tokio::test]
async fn pages_carry_security_headers_and_log_nothing_secret() {
    let app = TestApp::sqlite().await;
    let response = app.get("/").await;
    let h = response.headers();
    assert!(h["content-security-policy"].to_str().unwrap().contains("script-src 'self'"));
    assert_eq!(h["x-content-type-options"], "nosniff");
    assert_eq!(app.client.post(format!("{}/", app.base)).send().await.unwrap().status(), 405);
}

#[tokio::test]
async fn pages_are_compressed_for_clients_that_ask() {
    let app = TestApp::sqlite().await;
    app.load_demo().await;
    let gzip =
        app.client.get(format!("{}/", app.base)).header("accept-encoding", "gzip").send().await.unwrap();
    assert_eq!(gzip.headers()["content-encoding"], "gzip");
    let plain = app.get("/").await;
    assert!(plain.headers().get("content-encoding").is_none());
}

#[tokio::test]
async fn a_theme_directory_overrides_templates_and_assets_at_run_time() {
    let theme = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(theme.path().join("templates")).unwrap();
    std::fs::create_dir_all(theme.path().join("static")).unwrap();
    std::fs::write(theme.path().join("static/style.css"), "body { background: #000 }").unwrap();
    let page = std::fs::read_to_string("themes/default/templates/page.html").unwrap();
    std::fs::write(
        theme.path().join("templates/page.html"),
        page.replace("<h1 id=\"page-title\">", "<h1 id=\"page-title\" class=\"custom\">"),
    )
    .unwrap();
    let dir = theme.path().to_owned();
    let app = TestApp::sqlite_with(move |c| c.theme_dir = Some(dir)).await;
    app.load_demo().await;
    assert!(app.page("/about/", 200).await.contains("class=\"custom\""));
    let html = app.page("/", 200).await;
    let css = html.split("rel=\"stylesheet\" href=\"").nth(1).unwrap().split('"').next().unwrap().to_owned();
    assert_eq!(app.page(&css, 200).await, "body { background: #000 }");
}
