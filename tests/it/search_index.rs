//! The search index on disk, as an operator meets it: a restart opens it instead of building
//! it again; a damaged one is rebuilt while the site serves; `gazette reindex` beside a running
//! node builds a new one that the node takes up.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::helpers::Server;

fn gazette(dir: &Path, args: &[&str]) {
    let status = Command::new(env!("CARGO_BIN_EXE_gazette"))
        .arg("--data-dir")
        .arg(dir)
        .args(args)
        .env("GAZETTE_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "gazette {args:?}");
}

fn current(dir: &Path) -> String {
    std::fs::read_to_string(dir.join("search/CURRENT")).unwrap_or_default().trim().to_owned()
}

/// How long until `/search?q=...` answers from the index (its snippets mark the words found:
/// the scan that answers before the index is ready has none).
async fn until_indexed(client: &reqwest::Client, base: &str, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(r) = client.get(format!("{base}/search?q=bridge")).send().await
            && let Ok(text) = r.text().await
            && text.contains("<mark>")
        {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    None
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_index_outlives_a_restart_and_heals_when_damaged() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path();
    gazette(data, &["demo", "--no-pictures"]);
    let args = ["--data-dir", data.to_str().unwrap()];
    gazette::websub::install_tls();
    let client = reqwest::Client::new();

    // First start: no index yet; it is built in the background.
    let node = Server::start(&args, &[]);
    assert!(until_indexed(&client, &node.base, Duration::from_secs(30)).await.is_some(), "first build");
    let first = current(data);
    assert!(first.starts_with("index-") && data.join("search").join(&first).is_dir(), "{first:?}");
    drop(node);

    // A restart opens the same index: search answers from it at once, nothing is rebuilt.
    let node = Server::start(&args, &[]);
    let ready = until_indexed(&client, &node.base, Duration::from_secs(10)).await;
    assert!(ready.is_some_and(|t| t < Duration::from_secs(5)), "restart: {ready:?}");
    assert_eq!(current(data), first, "the index was opened, not rebuilt");

    // `gazette reindex` beside the running node: a new folder, which the node takes up and
    // answers from; the old one is removed.
    gazette(data, &["reindex"]);
    let second = current(data);
    assert_ne!(second, first);
    tokio::time::sleep(Duration::from_secs(3)).await;
    assert!(until_indexed(&client, &node.base, Duration::from_secs(5)).await.is_some(), "after reindex");
    assert!(!data.join("search").join(&first).exists(), "the replaced index is removed");
    drop(node);

    // Damage: the index's files are overwritten. The site serves; the index is rebuilt.
    for entry in std::fs::read_dir(data.join("search").join(&second)).unwrap().flatten() {
        std::fs::write(entry.path(), b"not an index").unwrap();
    }
    let node = Server::start(&args, &[]);
    let front = async {
        for _ in 0..100 {
            if let Ok(r) = client.get(format!("{}/", node.base)).send().await {
                return r.status().as_u16();
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        0
    };
    assert_eq!(front.await, 200, "the site serves with a damaged index");
    assert!(until_indexed(&client, &node.base, Duration::from_secs(30)).await.is_some(), "rebuilt");
    let third = current(data);
    assert!(third != second && data.join("search").join(&third).is_dir(), "{third:?}");

    // An index of another format is rebuilt too (a release that changes the analysis).
    drop(node);
    let meta = data.join("search").join(&third).join("meta.json");
    let text = std::fs::read_to_string(&meta).unwrap();
    std::fs::write(&meta, text.replace("\\\"format\\\":2", "\\\"format\\\":1")).unwrap();
    assert_ne!(std::fs::read_to_string(&meta).unwrap(), text, "the payload names its format: {text}");
    let node = Server::start(&args, &[]);
    assert!(until_indexed(&client, &node.base, Duration::from_secs(30)).await.is_some(), "rebuilt");
    assert_ne!(current(data), third);
}
