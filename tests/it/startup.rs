//! A store that cannot be opened stops start-up with one clear line.

use std::process::Command;

fn gazette(args: &[&str]) -> (bool, String) {
    let out =
        Command::new(env!("CARGO_BIN_EXE_gazette")).args(args).env("GAZETTE_LOG", "error").output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stderr).trim().to_owned())
}

fn assert_one_line_error(args: &[&str], expect: &[&str]) {
    let (ok, stderr) = gazette(args);
    assert!(!ok, "{args:?} should fail");
    assert_eq!(stderr.lines().count(), 1, "one line, got:\n{stderr}");
    assert!(stderr.starts_with("error: "), "{stderr}");
    for e in expect {
        assert!(stderr.contains(e), "{stderr:?} should mention {e:?}");
    }
}

#[test]
fn a_data_dir_that_is_a_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("not-a-dir");
    std::fs::write(&file, "x").unwrap();
    assert_one_line_error(
        &["--data-dir", file.to_str().unwrap(), "migrate"],
        &["cannot open SQLite database", "not-a-dir"],
    );
}

#[test]
fn a_corrupt_database_file_is_named() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("gazette.db"), vec![0x42u8; 8192]).unwrap();
    assert_one_line_error(
        &["--data-dir", dir.path().to_str().unwrap(), "migrate"],
        &["gazette.db", "not a database"],
    );
}

#[test]
fn postgres_that_is_down_is_named() {
    assert_one_line_error(
        &["--database-url", "postgres://gazette:secret@127.0.0.1:1/news", "migrate"],
        &["cannot open PostgreSQL database", "127.0.0.1:1", "refused"],
    );
    let (_, stderr) = gazette(&["--database-url", "postgres://gazette:secret@127.0.0.1:1/news", "migrate"]);
    assert!(!stderr.contains("secret"), "the password is not printed");
}

#[test]
fn a_missing_postgres_database_is_named() {
    let Ok(url) = std::env::var("GAZETTE_TEST_POSTGRES") else {
        eprintln!("skipped: GAZETTE_TEST_POSTGRES is not set");
        return;
    };
    let server = url.rsplit_once('/').unwrap().0;
    assert_one_line_error(
        &["--database-url", &format!("{server}/gazette_no_such_db"), "migrate"],
        &["gazette_no_such_db", "does not exist"],
    );
}

#[test]
fn bad_options_are_explained() {
    assert_one_line_error(&["--database-url", "mysql://x/y", "migrate"], &["unsupported database URL"]);
    let (ok, stderr) = gazette(&["serve", "--listen", "not-an-address"]);
    assert!(!ok && stderr.contains("--listen"), "{stderr}");
    let out = Command::new(env!("CARGO_BIN_EXE_gazette")).arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&out.stdout);
    for word in ["serve", "migrate", "demo", "generate", "--data-dir", "--database-url", "--config"] {
        assert!(help.contains(word), "--help mentions {word}");
    }
}

#[test]
fn migrate_runs_alone_and_twice() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path().to_str().unwrap();
    let (ok, stderr) = gazette(&["--data-dir", d, "migrate"]);
    assert!(ok, "{stderr}");
    let (ok, stderr) = gazette(&["--data-dir", d, "migrate"]);
    assert!(ok, "{stderr}");
    assert!(dir.path().join("gazette.db").exists());
}
