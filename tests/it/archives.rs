use crate::helpers::{TestApp, hrefs};
use crate::on_both_stores;

on_both_stores!(
    section_tag_author_and_date_archives_list_stories,
    archives_paginate_and_reject_bad_input,
    static_pages_and_trailing_slashes,
    search_finds_stories_and_survives_odd_queries,
    not_found_page_helps_the_reader,
);

async fn section_tag_author_and_date_archives_list_stories(app: TestApp) {
    app.load_demo().await;
    let politics = app.page("/section/politics/", 200).await;
    assert!(politics.contains("<h1>Politics</h1>"));
    assert!(politics.contains("aria-current=\"page\""), "the menu marks the section");
    assert!(politics.matches("class=\"card\"").count() >= 6);
    let football = app.page("/section/football/", 200).await;
    assert!(football.contains("href=\"/section/sport/\""), "a subsection links its parent");

    let tag = app.page("/tag/calder-swing-bridge/", 200).await;
    assert!(tag.contains("<h1>Calder Swing Bridge</h1>"));
    assert!(tag.matches("class=\"card\"").count() >= 6);

    let author = app.page("/author/maeve-okonjo/", 200).await;
    assert!(author.contains("<h1>Maeve Okonjo</h1>"));
    assert!(author.contains("City editor."), "the bio");

    let article = hrefs(&politics).into_iter().find(|h| h.starts_with("/20")).unwrap();
    let parts: Vec<&str> = article.trim_matches('/').split('/').collect();
    let day = format!("/{}/{}/{}/", parts[0], parts[1], parts[2]);
    assert!(app.page(&day, 200).await.contains(&format!("href=\"{article}\"")));
    assert!(app.page(&format!("/{}/{}/", parts[0], parts[1]), 200).await.contains("class=\"card\""));
    assert!(app.page(&format!("/{}/", parts[0]), 200).await.contains("class=\"card\""));
}

async fn archives_paginate_and_reject_bad_input(app: TestApp) {
    app.load_demo().await; // twelve per page in the demo settings
    let first = app.page("/section/news/", 200).await;
    assert!(first.contains("href=\"/section/news/?page=2\""), "next page link");
    let second = app.page("/section/news/?page=2", 200).await;
    assert!(second.contains("href=\"/section/news/\""));
    app.page("/section/news/?page=50", 404).await;
    app.page("/section/news/?page=two", 400).await;
    for missing in [
        "/section/nope/",
        "/tag/nope/",
        "/author/nope/",
        "/1969/",
        "/2026/00/",
        "/2026/11/31/",
        "/1999/01/01/",
    ] {
        app.page(missing, 404).await;
    }
}

async fn static_pages_and_trailing_slashes(app: TestApp) {
    app.load_demo().await;
    assert!(app.page("/about/", 200).await.contains("About The Harbour Courier"));
    assert!(app.page("/contact/", 200).await.contains("news@harbourcourier.example"));
    assert_eq!(app.redirect("/about", 301).await, "/about/");
    assert_eq!(app.redirect("/section/news?page=2", 301).await, "/section/news/?page=2");
    let home = app.page("/", 200).await;
    assert!(home.contains("href=\"/terms/\""), "footer links the static pages");
}

async fn search_finds_stories_and_survives_odd_queries(app: TestApp) {
    app.load_demo().await;
    let html = app.page("/search?q=swing+bridge", 200).await;
    assert!(html.contains("Swing bridge closed after engineers find crack"));
    let empty = app.page("/search", 200).await;
    assert!(empty.contains("Type a few words"));
    assert!(empty.matches("class=\"card\"").count() >= 3, "latest stories to browse");
    let long = "x".repeat(5000);
    for odd in ["%25", "_", "%5C", "%27%3B+DROP+TABLE+articles%3B--", "%F0%9F%8C%8A", long.as_str()] {
        let html = app.page(&format!("/search?q={odd}"), 200).await;
        assert!(html.contains("Nothing matched") || html.contains("found"), "q={odd}");
    }
    app.page("/search?q=bridge&page=zero", 400).await;
    assert!(app.page("/", 200).await.contains("class=\"card\""), "still there");
}

async fn not_found_page_helps_the_reader(app: TestApp) {
    app.load_demo().await;
    let html = app.page("/no/such/page/at/all/", 404).await;
    assert!(html.contains("Page not found"));
    assert!(html.contains("role=\"search\""));
    assert!(html.matches("class=\"card\"").count() >= 3, "latest stories");
    let response = app.get("/missing-thing/").await;
    assert_eq!(response.headers()["content-type"], "text/html; charset=utf-8");
}
