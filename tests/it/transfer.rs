//! `export json` / `import json`: a site moves from SQLite to PostgreSQL and nothing is lost;
//! a damaged file changes nothing and names its line.

use gazette::config::Config;
use gazette::storage::Db;
use gazette::transfer;

use crate::helpers::{PgDatabase, TestApp, new_pg_database};

async fn dump(db: &Db) -> String {
    let mut out = Vec::new();
    transfer::export(db, &mut out).await.unwrap();
    String::from_utf8(out).unwrap()
}

async fn fresh_store(dir: &std::path::Path, url: Option<&str>) -> Db {
    gazette::app::open_store(&Config::for_store(dir, url).unwrap()).await.unwrap()
}

/// The store a site moves to: a fresh PostgreSQL database when the suite has a server (dropped
/// with the guard), else a second SQLite file.
async fn target_store(dir: &std::path::Path) -> (Db, Option<PgDatabase>) {
    match new_pg_database().await {
        Some((admin_url, name, url)) => {
            (fresh_store(dir, Some(&url)).await, Some(PgDatabase { admin_url, name }))
        }
        None => {
            eprintln!(
                "skipped the PostgreSQL half: GAZETTE_TEST_POSTGRES is not set; moving SQLite to SQLite"
            );
            (fresh_store(dir, None).await, None)
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_site_moves_from_sqlite_to_postgres_and_back_unchanged() {
    let app = TestApp::sqlite().await;
    app.load_demo().await;
    gazette::accounts::create_user(
        &app.db,
        "ed@example.com",
        "Ed Itor",
        gazette::domain::Role::Editor,
        "a long password",
    )
    .await
    .unwrap();
    let first = dump(&app.db).await;
    assert!(first.lines().count() > 35 + 9 + 5, "{} records", first.lines().count());

    let dir = tempfile::tempdir().unwrap();
    let (target, _guard) = target_store(dir.path()).await;
    let report = transfer::import(&target, first.as_bytes()).await.unwrap();
    assert_eq!(report.counts["articles"], 35, "{report}");
    assert_eq!(report.counts["comments"], 11, "{report}");
    let second = dump(&target).await;
    assert_eq!(first, second, "the dump of the copy equals the dump of the original");
    // Accounts work after the move: the password hash travelled.
    assert!(
        gazette::accounts::sign_in(&target, "ed@example.com", "a long password", "t", None).await.is_ok()
    );
    // A second import into a store with content is refused.
    let err = transfer::import(&target, first.as_bytes()).await.unwrap_err();
    assert!(format!("{err:#}").contains("empty store"), "{err:#}");
    target.close().await;
}

#[tokio::test]
async fn a_damaged_dump_names_its_line_and_changes_nothing() {
    let app = TestApp::sqlite().await;
    app.load_demo().await;
    let good = dump(&app.db).await;
    let dir = tempfile::tempdir().unwrap();
    let target = fresh_store(dir.path(), None).await;

    let mut lines: Vec<&str> = good.lines().collect();
    lines[40] = "{\"type\":\"article\", this is not json";
    let err = transfer::import(&target, lines.join("\n").as_bytes()).await.unwrap_err();
    assert!(format!("{err:#}").starts_with("line 41:"), "{err:#}");

    let broken_ref =
        good.replacen("\"primary_section\":\"news\"", "\"primary_section\":\"no-such-section\"", 1);
    let err = transfer::import(&target, broken_ref.as_bytes()).await.unwrap_err();
    assert!(format!("{err:#}").contains("unknown section \"no-such-section\""), "{err:#}");

    let err = transfer::import(&target, "{\"type\":\"tag\",\"slug\":\"a\",\"name\":\"A\"}\n".as_bytes())
        .await
        .unwrap_err();
    assert!(format!("{err:#}").contains("does not start with a Gazette export header"), "{err:#}");
    let err = transfer::import(
        &target,
        "{\"type\":\"header\",\"format\":\"gazette-export\",\"version\":99}\n".as_bytes(),
    )
    .await
    .unwrap_err();
    assert!(format!("{err:#}").contains("version 99"), "{err:#}");
    let err = transfer::import(&target, "".as_bytes()).await.unwrap_err();
    assert!(format!("{err:#}").contains("empty"), "{err:#}");

    // Nothing was half-written: the store is still empty and takes the good dump.
    assert_eq!(gazette::storage::articles::count_published(&target).await.unwrap(), 0);
    transfer::import(&target, good.as_bytes()).await.unwrap();
    assert_eq!(gazette::storage::articles::count_published(&target).await.unwrap(), 35);
}

#[test]
fn the_commands_round_trip_through_files() {
    let dir = tempfile::tempdir().unwrap();
    let d = |n: &str| dir.path().join(n).to_str().unwrap().to_owned();
    let run = |args: &[&str]| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_gazette"))
            .args(args)
            .env("GAZETTE_LOG", "error")
            .output()
            .unwrap();
        assert!(out.status.success(), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    run(&["--data-dir", &d("a"), "demo", "--no-pictures"]);
    assert!(run(&["--data-dir", &d("a"), "export", "json", &d("site.jsonl")]).contains("exported"));
    assert!(run(&["--data-dir", &d("b"), "import", "json", &d("site.jsonl")]).contains("35 articles"));
    let bad = std::process::Command::new(env!("CARGO_BIN_EXE_gazette"))
        .args(["--data-dir", &d("c"), "import", "json", &d("missing.jsonl")])
        .output()
        .unwrap();
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("cannot read"));
}

/// A site moved in from WordPress keeps, through the dump, what only it has: old addresses,
/// attachments, the state of its media copies, and editors' related-post choices.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_imported_site_moves_with_its_old_addresses_attachments_and_related_choices() {
    let app = TestApp::sqlite().await;
    let fixture = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/wordpress.xml");
    gazette::wordpress::import(&app.db, std::path::Path::new(fixture), |_| {}).await.unwrap();
    // The old host is unreachable: the attempt is recorded (and travels).
    let options =
        gazette::remote_media::Options { timeout: std::time::Duration::from_secs(2), ..Default::default() };
    let store = gazette::media::store::MediaStore::open(&app.config.media, &app.config.data_dir).unwrap();
    let fetched = gazette::remote_media::fetch(&app.db, &store, &app.config.data_dir, &options, |_, _| {})
        .await
        .unwrap();
    assert_eq!(fetched.failed.len(), 1, "{fetched}");
    let id = |slug: &'static str| {
        let db = app.db.clone();
        async move { gazette::fetch_one!(&db, (i64,), "SELECT id FROM articles WHERE slug = $1", slug).unwrap().0 }
    };
    let (library, bridge) = (id("library-budget").await, id("bridge-works").await);
    let mut tx = app.db.begin().await.unwrap();
    gazette::storage::related::set_override(&mut tx, library, bridge, Some("pin")).await.unwrap();
    tx.commit().await.unwrap();
    app.refresh().await;

    let first = dump(&app.db).await;
    for kind in ["related_choice", "redirect", "attachment", "remote_media"] {
        assert!(first.contains(&format!("{{\"type\":\"{kind}\"")), "no {kind} record in the dump");
    }
    let dir = tempfile::tempdir().unwrap();
    let (target, _guard) = target_store(dir.path()).await;
    let report = transfer::import(&target, first.as_bytes()).await.unwrap();
    assert_eq!(report.counts["old addresses"], 5, "{report}");
    assert_eq!(dump(&target).await, first, "the copy's dump equals the original's");
    let moved = gazette::wordpress::redirect_for(&target, "/?p=10").await.unwrap();
    assert_eq!(moved.map(|m| m.0).as_deref(), Some("library-budget"), "old addresses still answer");
    let library =
        gazette::fetch_one!(&target, (i64,), "SELECT id FROM articles WHERE slug = 'library-budget'")
            .unwrap()
            .0;
    let (pins, _) = gazette::storage::related::overrides(&target, library).await.unwrap();
    assert_eq!(pins.len(), 1, "the editor's pin travelled");
    target.close().await;
}

/// `gazette import jsonl`: records without a headline or a text are named by their line,
/// skipped and counted; the rest is imported. A line that is not JSON stops the import there,
/// keeping what came before, and a second run resumes without doubling anything.
#[test]
fn a_jsonl_import_skips_incomplete_records_and_names_them() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let data = data.to_str().unwrap();
    let file = dir.path().join("corpus.jsonl");
    let lines = [
        r#"{"id": "a", "title": "Ferry service resumes", "body": "The ferry ran again at dawn.", "published": "2024-03-01"}"#,
        r#"{"id": "b", "title": "", "body": "A record with an empty headline."}"#,
        r#"{"id": "c", "title": "A headline without a text"}"#,
        "",
        r#"{"id": "d", "headline": "Harbour dredging starts", "text": "Dredgers arrived on Monday.", "published": "2024-03-02"}"#,
    ];
    std::fs::write(&file, lines.join("\n")).unwrap();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_gazette"))
            .args(args)
            .env("GAZETTE_LOG", "error")
            .output()
            .unwrap()
    };
    let out = run(&["--data-dir", data, "import", "jsonl", file.to_str().unwrap()]);
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.contains("imported 2 articles; 0 were already there; 2 skipped for lacking a headline or a text (line 2, 3)"),
        "{stdout}"
    );
    assert!(stderr.contains("line 2: skipped, no \"title\""), "{stderr}");
    assert!(stderr.contains("line 3: skipped, no \"text\""), "{stderr}");

    // A damaged line stops the import with its number; the good line before it is kept.
    let damaged = dir.path().join("damaged.jsonl");
    std::fs::write(
        &damaged,
        [
            r#"{"id": "e", "title": "Lighthouse keeper retires", "body": "After forty years."}"#,
            r#"{"id": "f", "title": "Cut off"#,
            r#"{"id": "g", "title": "Never reached", "body": "Past the damage."}"#,
        ]
        .join("\n"),
    )
    .unwrap();
    let out = run(&["--data-dir", data, "import", "jsonl", damaged.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("line 2"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = run(&["--data-dir", data, "import", "jsonl", file.to_str().unwrap()]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("imported 0 articles; 2 were already there"));
    let out = run(&["--data-dir", data, "export", "json", dir.path().join("dump.jsonl").to_str().unwrap()]);
    assert!(out.status.success());
    let dump = std::fs::read_to_string(dir.path().join("dump.jsonl")).unwrap();
    for kept in ["Ferry service resumes", "Harbour dredging starts", "Lighthouse keeper retires"] {
        assert!(dump.contains(kept), "{kept} is in the store");
    }
    assert!(!dump.contains("Never reached"));
}
