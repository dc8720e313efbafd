//! Two Gazette processes on one PostgreSQL database: an article published through one shows
//! up in the other's search results and related lists within five seconds, without a restart.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::admin::field;
use crate::helpers::{PgDatabase, Server, new_pg_database};

async fn wait_for(client: &reqwest::Client, url: &str, needle: &str, limit: Duration) -> Option<Duration> {
    let started = Instant::now();
    while started.elapsed() < limit {
        if let Ok(r) = client.get(url).send().await
            && let Ok(text) = r.text().await
            && text.contains(needle)
        {
            return Some(started.elapsed());
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    None
}

/// Signs a demo account in on the node at `base`; its session's cookies.
pub async fn sign_in(client: &reqwest::Client, base: &str, email: &str) -> Vec<String> {
    let mut jar = Vec::new();
    let r = client.get(format!("{base}/admin")).send().await.unwrap();
    cookies(&r, &mut jar);
    let token = field(&r.text().await.unwrap(), "login_token");
    let r = client
        .post(format!("{base}/admin/login"))
        .header("cookie", jar.join("; "))
        .form(&[("login_token", token.as_str()), ("email", email), ("password", "courier-demo")])
        .send()
        .await
        .unwrap();
    cookies(&r, &mut jar);
    jar
}

fn cookies(r: &reqwest::Response, jar: &mut Vec<String>) {
    for v in r.headers().get_all("set-cookie") {
        let pair = v.to_str().unwrap().split(';').next().unwrap().to_owned();
        let name = pair.split('=').next().unwrap().to_owned();
        jar.retain(|c| !c.starts_with(&format!("{name}=")));
        jar.push(pair);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_story_published_on_one_node_is_found_on_the_other() {
    let Some((admin_url, name, url)) = new_pg_database().await else {
        eprintln!("skipped: GAZETTE_TEST_POSTGRES is not set");
        return;
    };
    let _guard = PgDatabase { admin_url, name };
    gazette::websub::install_tls();
    let status = Command::new(env!("CARGO_BIN_EXE_gazette"))
        .args(["--database-url", &url, "demo", "--no-pictures"])
        .env("GAZETTE_LOG", "warn")
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success());
    let (dir_a, dir_b) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let node_a = Server::start(&["--database-url", &url, "--data-dir", dir_a.path().to_str().unwrap()], &[]);
    let node_b = Server::start(&["--database-url", &url, "--data-dir", dir_b.path().to_str().unwrap()], &[]);
    let (a, b) = (node_a.base.clone(), node_b.base.clone());
    let client = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
    for node in [&a, &b] {
        let ready =
            wait_for(&client, &format!("{node}/search?q=bridge"), "stories found", Duration::from_secs(20))
                .await;
        assert!(ready.is_some(), "{node} did not start");
    }

    // An editor publishes through node A's admin.
    let jar = sign_in(&client, &a, "maeve@harbourcourier.example").await;
    let editor =
        client.get(format!("{a}/admin/articles/new")).header("cookie", jar.join("; ")).send().await.unwrap();
    let csrf = field(&editor.text().await.unwrap(), "_csrf");
    let r = client
        .post(format!("{a}/admin/articles/new"))
        .header("cookie", jar.join("; "))
        .form(&[
            ("_csrf", csrf.as_str()),
            ("version", "0"),
            ("headline", "Zephyrine crane lifts the new girder onto the swing bridge"),
            ("standfirst", "The repair of the cracked swing bridge reaches its turning point."),
            (
                "body",
                "Engineers used the Zephyrine floating crane to lift the replacement girder onto the swing \
                bridge, whose crack closed the crossing. The bridge repair, the ferries and the east side \
                traders have waited for this lift; the council says the bridge reopens in spring.",
            ),
            ("primary_section", "news"),
            ("authors", "maeve-okonjo"),
            ("tags", "Swing bridge"),
            ("status", "published"),
            ("publish_at", ""),
            ("comments_open", "on"),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(r.status().as_u16(), 303, "{}", r.text().await.unwrap());
    let published = Instant::now();

    // Node B finds it, and shows it among a bridge story's related posts.
    let found = wait_for(
        &client,
        &format!("{b}/search?q=zephyrine"),
        "Zephyrine crane lifts",
        Duration::from_secs(5),
    )
    .await;
    assert!(found.is_some(), "node B's search did not find the story within 5 s");
    let old = client
        .get(format!("{b}/bridge-repair-to-take-at-least-eight-months/"))
        .send()
        .await
        .unwrap()
        .headers()["location"]
        .to_str()
        .unwrap()
        .to_owned();
    let remaining = Duration::from_secs(5).saturating_sub(published.elapsed());
    let listed = wait_for(&client, &format!("{b}{old}"), "Zephyrine crane lifts", remaining).await;
    assert!(listed.is_some(), "node B's related posts did not show the story within 5 s of publication");
    eprintln!("seen on node B after {:?}", published.elapsed());
}
