use crate::helpers::{TestApp, hrefs};
use crate::on_both_stores;

on_both_stores!(
    front_page_shows_lead_latest_and_section_blocks,
    an_empty_site_says_so_instead_of_failing,
    the_demo_edition_loads_once,
    front_page_pagination_rejects_bad_numbers,
);

async fn front_page_shows_lead_latest_and_section_blocks(app: TestApp) {
    app.load_demo().await;
    let html = app.page("/", 200).await;
    assert!(html.contains("<title>The Harbour Courier</title>"));
    assert!(html.contains("class=\"lead\""), "a lead story");
    assert_eq!(html.matches("class=\"section-block\"").count(), 8, "a block per main section");
    assert!(html.contains("href=\"/?page=2\""), "a link to more");
    assert!(html.contains("<nav class=\"sections-nav\" aria-label=\"Sections\">"));
    // Every article link on the page resolves.
    let articles: Vec<String> = hrefs(&html).into_iter().filter(|h| h.starts_with("/20")).collect();
    assert!(articles.len() >= 20, "{} article links", articles.len());
    for href in articles.iter().take(25) {
        app.page(href, 200).await;
    }
}

async fn an_empty_site_says_so_instead_of_failing(app: TestApp) {
    let html = app.page("/", 200).await;
    assert!(html.contains("No stories yet"));
    app.page("/search?q=anything", 200).await;
    app.page("/nothing-here/", 404).await;
}

async fn the_demo_edition_loads_once(app: TestApp) {
    let first = gazette::demo::load(&app.db).await.unwrap();
    let events = gazette::storage::events::latest_id(&app.db).await.unwrap();
    let second = gazette::demo::load(&app.db).await.unwrap();
    assert!((30..=40).contains(&first.added), "{first}");
    assert_eq!((second.added, second.present), (0, first.added), "{second}");
    assert_eq!(gazette::storage::events::latest_id(&app.db).await.unwrap(), events, "nothing changed");
}

async fn front_page_pagination_rejects_bad_numbers(app: TestApp) {
    app.load_demo().await;
    let page2 = app.page("/?page=2", 200).await;
    assert!(page2.contains("Latest stories"));
    assert!(page2.contains("rel=\"prev\""));
    for bad in ["/?page=abc", "/?page=0", "/?page=-1", "/?page=1e3", "/?page=99999999999999999999"] {
        app.page(bad, 400).await;
    }
    app.page("/?page=999", 404).await;
}
