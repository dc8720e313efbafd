//! Sign-in throttles that stop guessing, not the newsroom: waits that double from the last
//! failure (never a lockout counted from the first), and a device that has signed in to an
//! account before is held only to its own count, so guesses from elsewhere or colleagues behind
//! one proxy do not keep its owner out.

use gazette::accounts::{self, SignInError};
use gazette::domain::Role;

use crate::helpers::TestApp;
use crate::on_both_stores;

on_both_stores!(guessing_waits_while_known_devices_sign_in);

const PASSWORD: &str = "a long passphrase";

async fn wait_of(
    app: &TestApp,
    email: &str,
    password: &str,
    address: &str,
    device: Option<&str>,
) -> Option<i64> {
    match accounts::sign_in(&app.db, email, password, address, device).await {
        Ok(_) => None,
        Err(SignInError::Throttled(s)) => Some(s),
        Err(SignInError::Invalid) => Some(0),
        Err(e) => panic!("{e:#}"),
    }
}

async fn age_failures(app: &TestApp, seconds: i64) {
    let mut tx = app.db.begin().await.unwrap();
    gazette::tx_exec!(&mut tx, "UPDATE login_failures SET last_at = last_at - $1", seconds).unwrap();
    tx.commit().await.unwrap();
}

async fn guessing_waits_while_known_devices_sign_in(app: TestApp) {
    accounts::create_user(&app.db, "ed@example.com", "Ed", Role::Editor, PASSWORD).await.unwrap();
    accounts::create_user(&app.db, "co@example.com", "Co", Role::Editor, PASSWORD).await.unwrap();
    let device =
        accounts::sign_in(&app.db, "ed@example.com", PASSWORD, "10.0.0.1", None).await.unwrap().device;

    // One guesser, one address: five free tries, then 30 s, then 60 s from the last failure.
    for _ in 0..5 {
        assert_eq!(wait_of(&app, "ed@example.com", "guess", "203.0.113.9", None).await, Some(0));
    }
    let wait = wait_of(&app, "ed@example.com", PASSWORD, "203.0.113.9", None).await.unwrap();
    assert!((25..=30).contains(&wait), "{wait}");
    age_failures(&app, 31).await;
    assert_eq!(wait_of(&app, "ed@example.com", "guess", "203.0.113.9", None).await, Some(0));
    let wait = wait_of(&app, "ed@example.com", "guess", "203.0.113.9", None).await.unwrap();
    assert!((55..=60).contains(&wait), "doubled: {wait}");
    // The owner, elsewhere, is not held by that address's count.
    assert_eq!(wait_of(&app, "ed@example.com", PASSWORD, "10.0.0.1", None).await, None);

    // Guesses spread over many addresses: the account waits for unknown devices, not the
    // owner's own device.
    for n in 0..25 {
        wait_of(&app, "ed@example.com", "guess", &format!("198.51.100.{n}"), None).await;
    }
    assert!(wait_of(&app, "ed@example.com", PASSWORD, "10.0.0.2", None).await.unwrap() > 0);
    assert_eq!(wait_of(&app, "ed@example.com", PASSWORD, "10.0.0.1", Some(&device)).await, None);
    // A device known to another account counts for nothing here.
    let other =
        accounts::sign_in(&app.db, "co@example.com", PASSWORD, "10.0.0.3", None).await.unwrap().device;
    assert!(wait_of(&app, "ed@example.com", PASSWORD, "10.0.0.2", Some(&other)).await.unwrap() > 0);

    // Everyone behind one proxy address: a guesser trying many accounts makes that address wait,
    // and a colleague whose device is known still signs in from it.
    for n in 0..30 {
        wait_of(&app, &format!("nobody{n}@example.com"), "guess", "192.0.2.1", None).await;
    }
    assert!(wait_of(&app, "co@example.com", PASSWORD, "192.0.2.1", None).await.unwrap() > 0);
    assert_eq!(wait_of(&app, "co@example.com", PASSWORD, "192.0.2.1", Some(&other)).await, None);
    // A quarter of an hour after the last failure, all is forgotten.
    age_failures(&app, 15 * 60).await;
    assert_eq!(wait_of(&app, "ed@example.com", PASSWORD, "10.0.0.2", None).await, None);
}

/// The sign-in form sets the device cookie for the form alone, and the node warns once when
/// proxied requests arrive without `trusted_proxies`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sign_in_form_remembers_the_device() {
    let app = TestApp::sqlite().await;
    accounts::create_user(&app.db, "ed@example.com", "Ed", Role::Editor, PASSWORD).await.unwrap();
    let mut b = crate::admin::Browser::new(&app);
    let r = b.sign_in("ed@example.com", PASSWORD).await;
    assert_eq!(r.status(), 303);
    let cookies: Vec<String> =
        r.headers().get_all("set-cookie").iter().map(|v| v.to_str().unwrap().to_owned()).collect();
    let device = cookies.iter().find(|c| c.starts_with("gazette_device=")).expect("a device cookie");
    assert!(device.contains("Path=/admin/login") && device.contains("HttpOnly"), "{device}");
    assert!(cookies.iter().any(|c| c.starts_with("gazette_session=")), "and the session: {cookies:?}");
    assert_eq!(b.get("/admin/articles").await.0, 200, "signed in");
}
