//! `TestApp`: the real application on 127.0.0.1 with port 0, over a fresh store.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use gazette::app::App;
use gazette::config::{Config, PermalinkStyle};
use gazette::content;
use gazette::domain::{ArticleStatus, CommentStatus, NewArticle, NewAuthor, NewSection, Slug};
use gazette::site::SiteHandle;
use gazette::storage::Db;
use tokio::sync::oneshot;

pub struct TestApp {
    pub base: String,
    pub db: Db,
    pub site: SiteHandle,
    pub search: std::sync::Arc<gazette::search::Engine>,
    pub page_cache: Option<std::sync::Arc<gazette::web::cache::PageCache>>,
    pub config: Config,
    pub client: reqwest::Client,
    stop: Option<oneshot::Sender<()>>,
    _dir: tempfile::TempDir,
    pg: Option<PgDatabase>,
}

/// A throw-away PostgreSQL database, dropped with the test.
pub struct PgDatabase {
    pub admin_url: String,
    pub name: String,
}

impl Drop for PgDatabase {
    fn drop(&mut self) {
        let (admin_url, name) = (self.admin_url.clone(), self.name.clone());
        // Drop runs outside any runtime we may block on: use a thread with its own.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
            rt.block_on(async {
                use sqlx::Connection;
                if let Ok(mut conn) = sqlx::PgConnection::connect(&admin_url).await {
                    let sql = format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)");
                    let _ = sqlx::query(sqlx::AssertSqlSafe(sql)).execute(&mut conn).await;
                }
            });
        })
        .join();
    }
}

fn unique_name() -> String {
    static COUNTER: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    format!("gazette_test_{}_{}_{}", std::process::id(), COUNTER.fetch_add(1, Ordering::Relaxed), nanos)
}

/// The URL of a new, empty PostgreSQL database, or None without `GAZETTE_TEST_POSTGRES`.
pub async fn new_pg_database() -> Option<(String, String, String)> {
    let admin_url = std::env::var("GAZETTE_TEST_POSTGRES").ok().filter(|u| !u.is_empty())?;
    let name = unique_name();
    use sqlx::Connection;
    let mut conn = sqlx::PgConnection::connect(&admin_url)
        .await
        .expect("GAZETTE_TEST_POSTGRES is set but the server cannot be reached");
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\"")))
        .execute(&mut conn)
        .await
        .expect("creating a test database");
    let url = match admin_url.rsplit_once('/') {
        Some((server, _))
            if server.contains("://") && server.split("://").nth(1).is_some_and(|r| !r.is_empty()) =>
        {
            format!("{server}/{name}")
        }
        _ => panic!("GAZETTE_TEST_POSTGRES must look like postgres://USER@HOST:PORT/DB"),
    };
    Some((admin_url, name, url))
}

impl TestApp {
    pub async fn sqlite() -> Self {
        Self::start(None, |_| {}).await
    }

    pub async fn postgres() -> Option<Self> {
        let (admin_url, name, url) = new_pg_database().await?;
        let mut app = Self::start(Some(url), |_| {}).await;
        app.pg = Some(PgDatabase { admin_url, name });
        Some(app)
    }

    /// Another node on an existing database (PostgreSQL), with a tweak to the configuration.
    pub async fn on_database(url: &str, tweak: impl FnOnce(&mut Config)) -> Self {
        Self::start(Some(url.to_owned()), tweak).await
    }

    /// Same store kind as `self`, started with a tweak to the configuration.
    pub async fn sqlite_with(tweak: impl FnOnce(&mut Config)) -> Self {
        Self::start(None, tweak).await
    }

    async fn start(database_url: Option<String>, tweak: impl FnOnce(&mut Config)) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let mut config = Config::for_store(dir.path(), database_url.as_deref()).unwrap();
        tweak(&mut config);
        let app = App::build(&config).await.expect("building the app");
        let base = format!("http://{}", app.local_addr().unwrap());
        let db = app.state.db.clone();
        let site = app.state.site.clone();
        let search = app.state.search.clone();
        let page_cache = app.state.page_cache.clone();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(app.run(async {
            let _ = stopped.await;
        }));
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(20))
            .build()
            .unwrap();
        Self { base, db, site, search, page_cache, config, client, stop: Some(stop), _dir: dir, pg: None }
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client.get(format!("{}{path}", self.base)).send().await.unwrap()
    }

    /// GET, assert the status, return the body.
    pub async fn page(&self, path: &str, status: u16) -> String {
        let response = self.get(path).await;
        let got = response.status().as_u16();
        let body = response.text().await.unwrap();
        assert_eq!(got, status, "GET {path} answered {got}:\n{}", &body[..body.len().min(600)]);
        body
    }

    /// The `Location` of a redirect, asserting its status.
    pub async fn redirect(&self, path: &str, status: u16) -> String {
        let response = self.get(path).await;
        assert_eq!(response.status().as_u16(), status, "GET {path}");
        response.headers()["location"].to_str().unwrap().to_owned()
    }

    pub async fn load_demo(&self) {
        gazette::demo::load(&self.db).await.expect("loading the demo edition");
        self.refresh().await;
    }

    /// Makes the running app take in content written directly to the store (the app's own
    /// follower would within a second; tests should not wait for it).
    pub async fn refresh(&self) {
        self.site.refresh(&self.db).await.expect("refreshing the site snapshot");
        for _ in 0..500 {
            if self.search.is_ready() {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // The app's own follower may be computing the same stretch of events: wait until the
        // related lists of everything indexed are written, by whichever got there first.
        for _ in 0..500 {
            self.search.step(&self.db).await.expect("following content events for search");
            if !self.search.related_pending(&self.db).await.expect("reading the related cursor") {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        // Writing the related lists records their own events: take those in too, so that the
        // app's follower finds nothing new and no cached page is dropped under a test's feet.
        self.site.refresh(&self.db).await.expect("refreshing the site snapshot");
    }

    /// A small newsroom: sections, authors, and a helper to publish.
    pub async fn newsroom(&self) {
        for (i, name) in ["News", "Politics", "Sport"].iter().enumerate() {
            content::ensure_section(
                &self.db,
                &NewSection {
                    slug: Slug::from_title(name),
                    name: (*name).to_owned(),
                    description: format!("{name} desk"),
                    parent: None,
                    position: i as i64,
                },
            )
            .await
            .unwrap();
        }
        for name in ["Ada Reporter", "Ben Writer", "Cy Editor", "Di Columnist"] {
            content::ensure_author(
                &self.db,
                &NewAuthor {
                    slug: Slug::from_title(name),
                    name: name.to_owned(),
                    bio: format!("{name} writes."),
                    photo_url: None,
                },
            )
            .await
            .unwrap();
        }
    }

    pub async fn publish(&self, article: NewArticle) -> i64 {
        content::create_article(&self.db, &article).await.expect("publishing")
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
    }
}

/// A published article in `section` by `authors`, `days_ago` days old.
pub fn article(slug: &str, section: &str, authors: &[&str], days_ago: i64) -> NewArticle {
    NewArticle {
        external_id: None,
        slug: Slug::parse(slug).unwrap(),
        headline: format!("Headline of {slug}"),
        standfirst: format!("Standfirst of {slug}."),
        body_source: format!("First paragraph of {slug}.\n\n> A quotation.\n\nSecond paragraph."),
        excerpt: String::new(),
        status: ArticleStatus::Published,
        author_slugs: authors.iter().map(|a| Slug::parse(a).unwrap()).collect(),
        section_slugs: vec![Slug::parse(section).unwrap()],
        tags: vec!["Harbour".into()],
        featured_image: None,
        comment_status: CommentStatus::Open,
        published_at: Some(chrono::Utc::now().timestamp() - days_ago * 86_400 - 3600),
        sticky: false,
    }
}

pub fn slug_permalinks(config: &mut Config) {
    config.permalink = PermalinkStyle::Slug;
}

/// Pulls every `href="..."` value out of a page.
pub fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"").skip(1).filter_map(|s| s.split('"').next()).map(str::to_owned).collect()
}

/// A `gazette serve` process of the real binary on a free port, killed (SIGKILL) when dropped,
/// even when an assertion fails first.
pub struct Server {
    pub child: std::process::Child,
    pub base: String,
}

impl Server {
    /// `gazette ARGS... serve EXTRA... --listen 127.0.0.1:PORT`.
    pub fn start(args: &[&str], extra: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_gazette"))
            .args(args)
            .arg("serve")
            .args(extra)
            .arg("--listen")
            .arg(format!("127.0.0.1:{port}"))
            .env("GAZETTE_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap();
        Self { child, base: format!("http://127.0.0.1:{port}") }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A small PNG picture, different per `seed`.
pub fn png(seed: u8) -> Vec<u8> {
    let img = image::RgbImage::from_fn(48, 32, |x, y| image::Rgb([x as u8 * 5, y as u8 * 7, seed]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}
