//! The parsers that read what strangers send, fuzzed: the comment form, WordPress exports,
//! JSON Lines corpora and the JSON dump. Each starts from real inputs (the shared data when
//! present, our own fixtures always), mutates them with a seeded generator (bytes flipped,
//! ranges cut or repeated, hostile strings spliced in, files cut short) and checks that
//! nothing panics, every refusal says what was wrong, and what is accepted renders inert.
//!
//! CI runs a short, fixed run. A longer one, for a release check:
//! `GAZETTE_FUZZ=200000 cargo test --release --test it fuzz -- --nocapture` (iterations per
//! parser; `GAZETTE_FUZZ_SEED=N` for another sequence). An input that panics is written to
//! `target/fuzz-failures/` for replay.

use std::panic::{AssertUnwindSafe, catch_unwind};
use std::path::{Path, PathBuf};

use gazette::domain::comment::{self, CommentInput};
use gazette::web::public::comments::CommentForm;

use crate::helpers::TestApp;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../shared/data");

fn iterations(default: usize) -> usize {
    std::env::var("GAZETTE_FUZZ").ok().and_then(|v| v.parse().ok()).unwrap_or(default)
}

/// xorshift64*: the same sequence on every machine.
struct Rng(u64);

impl Rng {
    fn new(stream: u64) -> Self {
        let seed: u64 =
            std::env::var("GAZETTE_FUZZ_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or(20_261_206);
        Self((seed ^ stream.wrapping_mul(0x9E37_79B9_7F4A_7C15)).max(1))
    }

    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Hostile strings: a few of our own, and every line of the shared lists when present.
fn attacks() -> Vec<String> {
    let mut out: Vec<String> = [
        "<script>alert(1)</script>",
        "\"><img src=x onerror=alert(1)>",
        "javascript:alert(1)",
        "'; DROP TABLE articles; --",
        "{\"$gt\": \"\"}",
        "\u{202E}gnp.exe",
        "Z\u{0351}\u{0360}\u{0361}a\u{0352}\u{0357}l\u{035B}go",
        "\u{0000}\u{FEFF}\u{200B}",
        "]]><![CDATA[",
        "&#x3C;script&#x3E;",
        "%00%ff%c3%28",
        "😀👨‍👩‍👧‍👦",
    ]
    .map(str::to_owned)
    .to_vec();
    let dir = Path::new(SHARED).join("attack-strings");
    let mut files = Vec::new();
    collect(&dir, &mut files);
    for file in files.iter().filter(|f| f.extension().is_none_or(|e| e == "txt")) {
        if let Ok(text) = std::fs::read_to_string(file) {
            out.extend(text.lines().filter(|l| !l.trim().is_empty()).map(str::to_owned));
        }
    }
    out
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else if path.file_name().is_none_or(|n| n != "SOURCE.md") {
            out.push(path);
        }
    }
    out.sort();
}

/// One mutation of `seed`: bytes flipped, a range cut or repeated, a hostile string or a piece
/// of another seed spliced in, or the end cut off.
fn mutate(rng: &mut Rng, seed: &[u8], other: &[u8], attacks: &[String]) -> Vec<u8> {
    let mut data = seed.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(data.len() + 1);
        match rng.below(6) {
            0 if !data.is_empty() => {
                let i = rng.below(data.len());
                data[i] ^= 1 << rng.below(8);
            }
            1 if !data.is_empty() => {
                let end = (at + 1 + rng.below(64)).min(data.len());
                data.drain(at.min(end)..end);
            }
            2 => {
                let end = (at + rng.below(64)).min(data.len());
                let piece = data[at..end].to_vec();
                data.splice(at..at, piece);
            }
            3 => {
                let s = &attacks[rng.below(attacks.len())];
                data.splice(at..at, s.bytes());
            }
            4 if !other.is_empty() => {
                let from = rng.below(other.len());
                let end = (from + rng.below(256)).min(other.len());
                data.splice(at..at, other[from..end].iter().copied());
            }
            _ => data.truncate(at),
        }
    }
    data
}

/// Runs `check` on `iterations` mutations of the seeds; a panic saves its input and fails.
fn fuzz(name: &str, seeds: &[Vec<u8>], iterations: usize, mut check: impl FnMut(&[u8])) {
    assert!(!seeds.is_empty(), "{name}: no seeds");
    let attacks = attacks();
    let mut rng = Rng::new(name.len() as u64 * 7919 + seeds.len() as u64);
    for seed in seeds {
        let result = catch_unwind(AssertUnwindSafe(|| check(seed)));
        assert!(result.is_ok(), "{name}: a seed itself panics");
    }
    for i in 0..iterations {
        let seed = &seeds[rng.below(seeds.len())];
        let other = &seeds[rng.below(seeds.len())];
        let input = mutate(&mut rng, seed, other, &attacks);
        if catch_unwind(AssertUnwindSafe(|| check(&input))).is_err() {
            let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("target/fuzz-failures");
            std::fs::create_dir_all(&dir).unwrap();
            let file = dir.join(format!("{name}-{i}.bin"));
            std::fs::write(&file, &input).unwrap();
            panic!("{name}: input {i} panicked; saved to {}", file.display());
        }
    }
    println!("{name}: {} seeds, {iterations} mutations, no panic", seeds.len());
}

/// What a comment renders to holds no markup but the paragraphs, breaks and links it makes.
fn inert(html: &str) -> bool {
    let mut rest = html;
    while let Some(at) = rest.find('<') {
        let tag = &rest[at..];
        let end = tag.find('>').map_or(tag.len(), |e| e + 1);
        let t = &tag[..end];
        let allowed = ["<p>", "</p>", "<br>", "</a>"].contains(&t)
            || (t.starts_with("<a href=\"http")
                && t.ends_with(" rel=\"nofollow ugc noopener\">")
                && !t[9..t.len() - 30].contains(['"', '<', '>']));
        if !allowed {
            return false;
        }
        rest = &tag[end..];
    }
    true
}

#[test]
fn the_comment_form_takes_any_bytes() {
    let mut seeds: Vec<Vec<u8>> = vec![
        b"article_id=1&comment=Good+reporting&author=Ann&email=ann%40example.com&url=&token=t&homepage="
            .to_vec(),
        b"comment=%E2%82%AC%F0%9F%98%80&author=%C3%A9&email=a%40b.c&url=https%3A%2F%2Fexample.org%2Fx"
            .to_vec(),
        b"comment=%ff%fe&author=&email=".to_vec(),
    ];
    for s in attacks().iter().step_by(97) {
        let enc: String = s.bytes().map(|b| format!("%{b:02X}")).collect();
        seeds.push(format!("comment={enc}&author={enc}&email=a%40b.c&url={enc}").into_bytes());
    }
    let mut accepted = 0;
    fuzz("comment-form", &seeds, iterations(3_000), |body| {
        let Some(form) = CommentForm::parse(body) else { return };
        match CommentInput::new(&form.author, &form.email, &form.url, &form.comment) {
            Ok(input) => {
                accepted += 1;
                let html = comment::render(&input.text);
                assert!(inert(&html), "not inert: {html}");
            }
            Err(problem) => assert!(!problem.to_string().is_empty()),
        }
    });
    assert!(accepted > 0, "some mutations are still comments");
}

/// Seeds for the WordPress reader: our fixture, and the shared exports under 2 MB.
fn wxr_seeds() -> Vec<Vec<u8>> {
    let mut seeds =
        vec![std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/wordpress.xml")).unwrap()];
    let mut files = Vec::new();
    collect(&Path::new(SHARED).join("wxr"), &mut files);
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "xml" || e == "wxr")) {
        if std::fs::metadata(f).is_ok_and(|m| m.len() < 2_000_000) {
            seeds.push(std::fs::read(f).unwrap());
        }
    }
    seeds
}

#[test]
fn the_wordpress_reader_takes_any_export() {
    let seeds = wxr_seeds();
    let mut items = 0usize;
    fuzz("wxr", &seeds, iterations(300), |bytes| {
        let result = gazette::wordpress::stream(bytes, |node| {
            if node.name == "item" {
                items += 1;
                for child in &node.children {
                    if child.name == "content:encoded" {
                        let body = gazette::wordpress::convert_body(&child.text, &Default::default());
                        let clean = gazette::domain::markdown::sanitize_html(&body);
                        assert!(!clean.to_ascii_lowercase().contains("<script"), "{clean}");
                    }
                }
            }
            Ok(())
        });
        match result {
            Ok((_, damaged)) => assert!(damaged.iter().all(|d| !d.is_empty())),
            Err(err) => assert!(!format!("{err:#}").is_empty()),
        }
    });
    assert!(items > 0);
}

/// Seeds for the JSON Lines reader: lines of the shared corpora, and our own.
fn jsonl_seeds() -> Vec<Vec<u8>> {
    let mut seeds: Vec<Vec<u8>> = vec![
        br#"{"id":"a1","title":"Harbour reopens","body":"The harbour reopened.\n\nShips queued.","published":"2026-01-02","category":"news","story_id":"s1","url":null}"#.to_vec(),
        br#"{"id":2,"title":"","body":null,"published":1767312000}"#.to_vec(),
    ];
    let mut files = Vec::new();
    collect(&Path::new(SHARED).join("news-clusters"), &mut files);
    collect(&Path::new(SHARED).join("news-categories"), &mut files);
    for f in files.iter().filter(|f| f.extension().is_some_and(|e| e == "jsonl")) {
        if let Ok(text) = std::fs::read_to_string(f) {
            seeds.extend(text.lines().take(20).map(|l| l.as_bytes().to_vec()));
        }
    }
    seeds
}

#[test]
fn the_json_lines_reader_takes_any_line() {
    let seeds = jsonl_seeds();
    fuzz("jsonl", &seeds, iterations(5_000), |bytes| {
        let text = String::from_utf8_lossy(bytes);
        if let Err(err) = gazette::jsonl::parse_line(&text) {
            assert!(!format!("{err:#}").is_empty());
        }
    });
}

/// The JSON dump: the demo edition exported, then each mutated dump loaded into an empty store,
/// which either takes it whole or refuses it with the line and keeps nothing.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_json_dump_reader_takes_any_dump() {
    let source = TestApp::sqlite().await;
    gazette::demo::load(&source.db).await.unwrap();
    let mut dump = Vec::new();
    gazette::transfer::export(&source.db, &mut dump).await.unwrap();
    let lines: Vec<Vec<u8>> = dump.split(|b| *b == b'\n').map(<[u8]>::to_vec).collect();
    // Each line on its own: the record parser.
    fuzz("dump-lines", &lines, iterations(3_000), |bytes| {
        let _ = serde_json::from_slice::<gazette::transfer::Record>(bytes);
    });
    // Whole dumps into empty stores (fewer: each is a store).
    let seeds = [dump];
    let attacks = attacks();
    let mut rng = Rng::new(77);
    let (mut taken, mut refused) = (0, 0);
    for _ in 0..iterations(6).min(200) {
        let input = mutate(&mut rng, &seeds[0], &seeds[0], &attacks);
        let target = TestApp::sqlite().await;
        match gazette::transfer::import(&target.db, &input[..]).await {
            Ok(_) => taken += 1,
            Err(err) => {
                refused += 1;
                let message = format!("{err:#}");
                assert!(message.contains("line ") || message.contains("dump"), "{message}");
                let (articles,) =
                    gazette::fetch_one!(&target.db, (i64,), "SELECT COUNT(*) FROM articles").unwrap();
                assert_eq!(articles, 0, "a refused dump leaves nothing behind");
            }
        }
    }
    println!("dump: {taken} mutated dumps taken whole, {refused} refused with their line");
}
