//! The integration suite: one binary, the real app on a free port, a fresh store per test.
//!
//! Every test in `on_both_stores!` runs twice: on a new SQLite file, and on a new PostgreSQL
//! database when `GAZETTE_TEST_POSTGRES` holds a server URL (it prints that it skipped
//! otherwise). `.ci/run` always sets it.

mod helpers;

mod access;
mod admin;
mod api;
mod api_admin;
mod archives;
mod article;
mod bounded_work;
mod cache_keys;
mod changes;
mod comments;
mod feeds;
mod front_page;
mod fuzz;
mod generate;
mod http_cache;
mod imported_text;
mod listings;
mod media;
mod media_fetch;
mod media_s3;
mod nodes;
mod outage;
mod regressions;
mod search;
mod search_index;
mod serving;
mod startup;
mod static_files;
mod throttles;
mod transfer;
mod webhooks;
mod wordpress;
mod wordpress_shared;

/// Declares `name::sqlite` and `name::postgres` tests that call `async fn name(app: TestApp)`.
#[macro_export]
macro_rules! on_both_stores {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$name($crate::helpers::TestApp::sqlite().await).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                match $crate::helpers::TestApp::postgres().await {
                    Some(app) => super::$name(app).await,
                    None => eprintln!("skipped: GAZETTE_TEST_POSTGRES is not set"),
                }
            }
        }
    )*};
}
