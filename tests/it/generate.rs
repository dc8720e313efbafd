//! `gazette generate --sample FILE.jsonl`: a synthetic archive made of real sentences, in
//! running stories, the same for the same seed.

use gazette::generate::{Sample, generate_from};

use crate::helpers::TestApp;

/// Written for this test: a small corpus in the `import jsonl` schema.
const CORPUS: &[(&str, &str)] = &[
    (
        "Ferry timetable changes for winter",
        "The harbour ferry will run every forty minutes from November. Officials said the change follows a fall in passengers. Commuters from the east side criticised the decision. A review is promised in the spring.",
    ),
    (
        "Council approves new library wing",
        "The council voted to extend the central library. Work will begin after the book fair in March. The architect said the wing would use local stone. Readers asked for longer opening hours.",
    ),
    (
        "Storm closes the coastal road",
        "High winds closed the coastal road overnight. Police diverted traffic through the hill villages. Engineers will inspect the sea wall this morning. Residents were told to stay indoors.",
    ),
    (
        "Rovers sign a new goalkeeper",
        "Rovers have signed a goalkeeper from the northern league. The manager praised his calm under pressure. Supporters queued for the first training session. He will wear the number one shirt.",
    ),
    (
        "Museum returns a carved figurehead",
        "The maritime museum has returned a carved figurehead to the island. Divers found it near the old lighthouse in the summer. Islanders gathered at the quay to see it arrive. It will be shown in the village hall.",
    ),
];

fn write_corpus(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("sample.jsonl");
    let mut text = String::from("not json at all\n");
    for (i, (title, body)) in CORPUS.iter().enumerate() {
        text.push_str(
            &serde_json::json!({ "id": format!("s{i}"), "title": title, "text": body }).to_string(),
        );
        text.push('\n');
    }
    std::fs::write(&path, text).unwrap();
    path
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sampled_archive_is_made_of_the_corpus_sentences() {
    let dir = tempfile::tempdir().unwrap();
    let sample = Sample::load(&write_corpus(dir.path()), 100).unwrap();
    assert_eq!(sample.len(), 5, "the unreadable line is skipped");
    let sentences: Vec<&str> =
        CORPUS.iter().flat_map(|(_, b)| b.split_inclusive(". ")).map(str::trim).collect();
    let mut headlines = Vec::new();
    for _ in 0..2 {
        let app = TestApp::sqlite().await;
        generate_from(&app.db, 30, 5, Some(&sample)).await.unwrap();
        let rows: Vec<(String, String)> = gazette::fetch_all!(
            &app.db,
            (String, String),
            "SELECT headline, body_text FROM articles ORDER BY external_id"
        )
        .unwrap();
        assert_eq!(rows.len(), 30);
        for (headline, body) in &rows {
            assert!(CORPUS.iter().any(|(t, _)| t == headline), "{headline}");
            assert!(sentences.iter().filter(|s| body.contains(*s)).count() >= 4, "{body}");
        }
        headlines.push(rows.into_iter().map(|r| r.0).collect::<Vec<_>>());
        // Running it again adds nothing.
        generate_from(&app.db, 30, 5, Some(&sample)).await.unwrap();
        let (n,): (i64,) = gazette::fetch_one!(&app.db, (i64,), "SELECT COUNT(*) FROM articles").unwrap();
        assert_eq!(n, 30);
    }
    assert_eq!(headlines[0], headlines[1], "the same seed gives the same archive");
    assert!(Sample::load(&dir.path().join("missing.jsonl"), 10).is_err());
}
