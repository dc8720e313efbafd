//! Pictures on a site of several nodes: two Gazette processes on one PostgreSQL database share
//! an S3-compatible bucket (moto's server, started here on a free port). A picture uploaded
//! through one node is processed by whichever claims its job and shown by the other.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use crate::admin::field;
use crate::helpers::{PgDatabase, Server, new_pg_database};

/// `moto_server`, or `None` (the test says it skipped) when it is not installed; `.ci/run`
/// installs it (`moto[server]` from PyPI) and sets `GAZETTE_REQUIRE_S3`, so there it cannot be
/// skipped.
fn moto_server() -> Option<String> {
    let found = std::env::var_os("PATH")
        .and_then(|paths| std::env::split_paths(&paths).map(|p| p.join("moto_server")).find(|p| p.exists()));
    if found.is_none() {
        assert!(std::env::var_os("GAZETTE_REQUIRE_S3").is_none(), "moto_server is not installed");
        eprintln!("skipped: moto_server is not installed (pip install 'moto[server]')");
    }
    found.map(|p| p.to_string_lossy().into_owned())
}

struct Moto {
    child: Child,
    base: String,
}

impl Moto {
    async fn start(binary: &str) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(binary)
            .args(["-H", "127.0.0.1", "-p", &port.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("starting moto_server");
        let base = format!("http://127.0.0.1:{port}");
        let client = reqwest::Client::new();
        let started = Instant::now();
        while client.get(&base).send().await.is_err() {
            assert!(started.elapsed() < Duration::from_secs(30), "moto_server did not start");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        Self { child, base }
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_picture_uploaded_through_one_node_is_shown_by_the_other_from_the_bucket() {
    let Some(moto) = moto_server() else { return };
    let Some((admin_url, name, url)) = new_pg_database().await else {
        eprintln!("skipped: GAZETTE_TEST_POSTGRES is not set");
        return;
    };
    let _guard = PgDatabase { admin_url, name };
    gazette::websub::install_tls();
    let s3 = Moto::start(&moto).await;
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    assert!(client.put(format!("{}/courier-media", s3.base)).send().await.unwrap().status().is_success());

    let config_dir = tempfile::tempdir().unwrap();
    let config = config_dir.path().join("gazette.toml");
    std::fs::write(
        &config,
        format!(
            "[media]\nstore = \"s3\"\nbucket = \"courier-media\"\nendpoint = \"{}\"\nregion = \"us-east-1\"\n\
             access_key_id = \"courier\"\nsecret_access_key = \"courier-secret\"\nprefix = \"site-one\"\n",
            s3.base
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    let status = Command::new(env!("CARGO_BIN_EXE_gazette"))
        .args(["--database-url", &url, "demo", "--no-pictures"])
        .env("GAZETTE_LOG", "warn")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let node = |dir: &tempfile::TempDir| {
        Server::start(
            &["--config", config, "--database-url", &url, "--data-dir", dir.path().to_str().unwrap()],
            &[],
        )
    };
    let (node_a, node_b) = (node(&dir_a), node(&dir_b));
    let (a, b) = (node_a.base.clone(), node_b.base.clone());
    for n in [&a, &b] {
        let started = Instant::now();
        while client.get(format!("{n}/")).send().await.map(|r| r.status().as_u16()).unwrap_or(0) != 200 {
            assert!(started.elapsed() < Duration::from_secs(30), "{n} did not start");
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    // An editor uploads a picture through node A.
    let jar = crate::nodes::sign_in(&client, &a, "maeve@harbourcourier.example").await;
    let library =
        client.get(format!("{a}/admin/media")).header("cookie", jar.join("; ")).send().await.unwrap();
    let csrf = field(&library.text().await.unwrap(), "_csrf");
    let picture = gazette::media::demo::jpeg(gazette::media::demo::Scene::Lighthouse, 1, 900, 600);
    let form = reqwest::multipart::Form::new()
        .text("_csrf", csrf)
        .text("alt", "The lighthouse on the breakwater")
        .part("files", reqwest::multipart::Part::bytes(picture).file_name("lighthouse.jpg"));
    let r = client
        .post(format!("{a}/admin/media"))
        .header("cookie", jar.join("; "))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let page = r.text().await.unwrap();
    let id: i64 = page
        .split("<a href=\"/admin/media/")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no picture added: {page}"));

    // Node B serves its variants from the bucket once one of the nodes has made them (they are
    // stored one by one: a size may be there while a later crop is still answered 503).
    let served = when_made(&client, &format!("{b}/media/{id}/1/640.avif")).await;
    assert_eq!(served.headers()["content-type"], "image/avif");
    assert!(served.bytes().await.unwrap().len() > 500);
    for n in [&a, &b] {
        for crop in ["16x9", "1x1"] {
            let r = when_made(&client, &format!("{n}/media/{id}/1/{crop}.jpg")).await;
            assert_eq!(r.headers()["content-type"], "image/jpeg");
        }
    }
    // The files are in the bucket, under the configured prefix, not on either node's disk.
    let bucket = gazette::media::store::MediaStore::open(
        &gazette::media::store::MediaConfig {
            store: Some("s3".into()),
            bucket: Some("courier-media".into()),
            endpoint: Some(s3.base.clone()),
            region: Some("us-east-1".into()),
            access_key_id: Some("courier".into()),
            secret_access_key: Some("courier-secret".into()),
            prefix: Some("site-one".into()),
        },
        dir_a.path(),
    )
    .unwrap();
    assert!(bucket.get(&format!("pictures/{id}/1/640.webp")).await.unwrap().is_some());
    assert!(bucket.get(&format!("pictures/{id}/1/1x1.jpg")).await.unwrap().is_some());
    for dir in [&dir_a, &dir_b] {
        assert!(!dir.path().join("media/library/pictures").exists(), "nothing kept on a node's disk");
    }
}

/// `url` once it answers 200; 503 (being made) or 404 (not seen yet by this node) are waited
/// out for up to 90 s, anything else fails the test.
async fn when_made(client: &reqwest::Client, url: &str) -> reqwest::Response {
    let started = Instant::now();
    loop {
        let r = client.get(url).send().await.unwrap();
        match r.status().as_u16() {
            200 => return r,
            503 | 404 if started.elapsed() < Duration::from_secs(90) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            other => panic!("{url} answered {other}"),
        }
    }
}
