//! The database goes away: a real PostgreSQL server stopped and started again (a private one,
//! so the rest of the suite is not disturbed), and a SQLite file that can no longer be read.
//! Readers get the last good copy of pages the node has (marked stale) or a 503 with
//! `Retry-After`, never a 500, and no request waits a second; a comment or an article sent
//! meanwhile comes back with every word; when the database answers again, so does the site.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use gazette::domain::Role;

use crate::admin::{Browser, PASSWORD, article_form, field};
use crate::helpers::{TestApp, article};

/// GET through the app, timed: every answer must come within a second.
async fn timed_get(app: &TestApp, path: &str) -> reqwest::Response {
    let started = Instant::now();
    let r = app.get(path).await;
    let took = started.elapsed();
    assert!(took < Duration::from_secs(1), "GET {path} took {took:?}");
    r
}

/// What readers and staff get while the database is down, then after it is back.
async fn outage(app: &TestApp, break_db: impl AsyncFnOnce(), mend_db: impl AsyncFnOnce()) {
    app.load_demo().await;
    gazette::accounts::create_user(&app.db, "ed@example.com", "Ed", Role::Editor, PASSWORD).await.unwrap();
    let mut ed = Browser::new(app);
    ed.sign_in("ed@example.com", PASSWORD).await;
    let csrf = ed.csrf().await;
    let article_url = app.redirect("/swing-bridge-closed-after-engineers-find-crack/", 301).await;
    let other_url = app.redirect("/amadi-wins-mayoralty-by-412-votes/", 301).await;
    // Pages this node has rendered: the section's copy is then made stale by a new story.
    let section = app.page("/section/politics/", 200).await;
    app.page(&article_url, 200).await;
    app.publish(article("late-news", "news", &["maeve-okonjo"], 0)).await;
    app.refresh().await;

    break_db().await;
    // A page the node has: its last good copy, marked stale.
    let r = timed_get(app, "/section/politics/").await;
    assert_eq!(r.status(), 200);
    assert_eq!(r.headers()["gazette-stale"], "database-unreachable");
    assert_eq!(r.text().await.unwrap(), section);
    // A page it has not: 503, with when to try again; and again at once (known down now).
    for _ in 0..3 {
        let r = timed_get(app, &other_url).await;
        assert_eq!(r.status(), 503);
        assert_eq!(r.headers()["retry-after"], "5");
        assert!(r.text().await.unwrap().contains("Back in a moment"));
    }
    let r = timed_get(app, "/feed.xml").await;
    assert!(matches!(r.status().as_u16(), 200 | 503), "{}", r.status());
    // Theme files need no database.
    let css = timed_get(app, "/").await.text().await.unwrap();
    let style = css.split("href=\"/static/style.").nth(1).expect("the page links its style sheet");
    let style = style.split('"').next().unwrap();
    assert_eq!(timed_get(app, &format!("/static/style.{style}")).await.status(), 200);

    // A comment sent now is refused with every word kept, and a button to send it again.
    let started = Instant::now();
    let r = app
        .client
        .post(format!("{}/comments", app.base))
        .form(&[
            ("article_id", "1"),
            ("token", ""),
            ("author", "Rowan Pike"),
            ("email", "rowan@example.net"),
            ("comment", "The bridge crack was reported <in March> & ignored."),
        ])
        .send()
        .await
        .unwrap();
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(r.status(), 503);
    assert_eq!(r.headers()["retry-after"], "5");
    let kept = r.text().await.unwrap();
    assert!(kept.contains("Not saved yet") && kept.contains("Send again"), "{kept}");
    assert!(kept.contains("The bridge crack was reported &lt;in March&gt; &amp; ignored."), "{kept}");
    // So is an article an editor saves.
    let started = Instant::now();
    let r = ed
        .post("/admin/articles/new", &article_form(&csrf, "Ferry fares frozen for winter", "draft", "0"))
        .await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(r.status(), 503);
    let kept = r.text().await.unwrap();
    assert!(kept.contains("Ferry fares frozen for winter") && kept.contains("First paragraph."), "{kept}");
    assert_eq!(field(&kept, "_csrf"), csrf, "sent again as it was");

    // Back: the site recovers by itself, and the form sent again is saved.
    mend_db().await;
    let started = Instant::now();
    loop {
        let r = app.get(&other_url).await;
        if r.status() == 200 {
            break;
        }
        assert_eq!(r.status(), 503);
        // Bounded generously: the whole suite runs at once in CI, in a debug build.
        assert!(started.elapsed() < Duration::from_secs(30), "the site did not recover within 30 s");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let r = ed
        .post("/admin/articles/new", &article_form(&csrf, "Ferry fares frozen for winter", "draft", "0"))
        .await;
    assert_eq!(r.status(), 303, "{}", r.text().await.unwrap());
    let fresh = timed_get(app, "/section/politics/").await;
    assert!(fresh.headers().get("gazette-stale").is_none());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sqlite_file_that_cannot_be_read() {
    let app = TestApp::sqlite().await;
    let path: PathBuf = match &app.config.store {
        gazette::storage::StoreLocation::Sqlite(path) => path.clone(),
        other => panic!("not SQLite: {other:?}"),
    };
    // The site is the file and its write-ahead log; both are kept and both come back (a
    // volume that went away and returned). SQLite deletes a log it finds beside an emptied
    // file, so the log cannot be left where it is.
    let wal = PathBuf::from(format!("{}-wal", path.display()));
    let saved = std::sync::Arc::new(std::sync::Mutex::new((Vec::new(), None)));
    let (keep, restore) = (saved.clone(), saved.clone());
    let (p1, p2, w1, w2) = (path.clone(), path.clone(), wal.clone(), wal);
    outage(
        &app,
        async move || {
            // The file loses its contents under the running server: every read that reaches
            // it fails.
            *keep.lock().unwrap() = (std::fs::read(&p1).unwrap(), std::fs::read(&w1).ok());
            std::fs::File::create(&p1).unwrap();
        },
        async move || {
            // Each put back whole, in one step (written beside it, then renamed over it): the
            // node tries the database four times a second and must never find half a file.
            let (file, log) = restore.lock().unwrap().clone();
            let put_back = |path: &PathBuf, bytes: Vec<u8>| {
                let part = PathBuf::from(format!("{}.part", path.display()));
                std::fs::write(&part, bytes).unwrap();
                std::fs::rename(&part, path).unwrap();
            };
            put_back(&p2, file);
            if let Some(log) = log {
                put_back(&w2, log);
            }
        },
    )
    .await;
}

/// A private PostgreSQL server on a free port, run as the `postgres` user.
struct PrivatePostgres {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl PrivatePostgres {
    fn pg_ctl(&self, args: &[&str]) -> bool {
        Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(self.bin.join("pg_ctl"))
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(args)
            .output()
            .is_ok_and(|o| o.status.success())
    }

    fn start() -> Option<Self> {
        let bin = std::fs::read_dir("/usr/lib/postgresql")
            .ok()?
            .filter_map(Result::ok)
            .map(|e| e.path().join("bin"))
            .find(|b| b.join("initdb").exists())?;
        let dir = tempfile::tempdir().ok()?;
        let chown = Command::new("chown").arg("postgres").arg(dir.path()).status().ok()?;
        if !chown.success() {
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0").ok()?.local_addr().ok()?.port();
        let init = Command::new("runuser")
            .args(["-u", "postgres", "--"])
            .arg(bin.join("initdb"))
            .args(["-A", "trust", "-U", "postgres", "-D"])
            .arg(dir.path().join("data"))
            .output()
            .ok()?;
        if !init.status.success() {
            return None;
        }
        let pg = Self { bin, dir, port };
        pg.up().then_some(pg)
    }

    fn up(&self) -> bool {
        let options =
            format!("-p {} -k {} -c listen_addresses=127.0.0.1", self.port, self.dir.path().display());
        self.pg_ctl(&[
            "-w",
            "-o",
            &options,
            "-l",
            &self.dir.path().join("log").display().to_string(),
            "start",
        ])
    }

    fn down(&self) -> bool {
        self.pg_ctl(&["-w", "-m", "fast", "stop"])
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.down();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgresql_server_stopped_and_started_again() {
    if std::env::var_os("GAZETTE_TEST_POSTGRES").is_none() {
        eprintln!("skipped: GAZETTE_TEST_POSTGRES is not set");
        return;
    }
    let Some(pg) = PrivatePostgres::start() else {
        // `.ci/run` runs as root on a machine with PostgreSQL installed: there it starts.
        panic!("could not start a private PostgreSQL server (initdb and pg_ctl as the postgres user)");
    };
    let app =
        TestApp::on_database(&format!("postgres://postgres@127.0.0.1:{}/postgres", pg.port), |_| {}).await;
    let pg = std::sync::Arc::new(pg);
    let (stop, start) = (pg.clone(), pg.clone());
    outage(
        &app,
        async move || assert!(stop.down(), "stopping PostgreSQL"),
        async move || assert!(start.up(), "starting PostgreSQL again"),
    )
    .await;
}
