//! A synthetic archive for benchmarks: `gazette generate --articles 10000`. Deterministic for a
//! seed; text is drawn from a built-in vocabulary and 40,000 pseudo-words with Zipf-like
//! frequencies (so posting lists are as long as in real news text), in running stories of about
//! six articles sharing rare words and a person. Nothing is downloaded or copied.

use std::io::Write;

use crate::content;
use crate::domain::{ArticleStatus, CommentStatus, NewArticle, NewAuthor, NewSection, Slug};
use crate::storage::{Db, articles, now};

const SECTIONS: &[&str] =
    &["News", "Politics", "World", "Business", "Science", "Culture", "Sport", "Opinion"];

const WORDS: &[&str] = &[
    "council",
    "harbour",
    "minister",
    "budget",
    "river",
    "station",
    "report",
    "school",
    "court",
    "hospital",
    "festival",
    "market",
    "energy",
    "union",
    "police",
    "ferry",
    "museum",
    "election",
    "museum",
    "league",
    "coach",
    "season",
    "airport",
    "housing",
    "tenants",
    "rail",
    "bridge",
    "inquiry",
    "workers",
    "farmers",
    "storm",
    "drought",
    "reservoir",
    "theatre",
    "orchestra",
    "exports",
    "prices",
    "wages",
    "climate",
    "research",
    "university",
    "students",
    "mayor",
    "province",
    "border",
    "treaty",
    "summit",
    "vote",
    "parliament",
    "campaign",
    "witnesses",
    "engineers",
    "contract",
    "deadline",
    "plan",
    "proposal",
    "residents",
    "district",
    "coast",
    "island",
    "village",
    "factory",
    "shipyard",
    "turbines",
    "fishing",
    "quota",
    "vaccine",
    "clinic",
    "nurses",
    "teachers",
    "strike",
    "agreement",
    "talks",
    "leaders",
    "officials",
    "data",
    "survey",
    "study",
    "scientists",
    "telescope",
    "satellite",
    "library",
    "archive",
];
const VERBS: &[&str] = &[
    "approves",
    "rejects",
    "delays",
    "announces",
    "questions",
    "backs",
    "opens",
    "closes",
    "reviews",
    "warns",
    "expands",
    "cuts",
    "defends",
    "launches",
    "wins",
    "loses",
    "signs",
];
const CONNECTORS: &[&str] = &[
    "said on Tuesday that",
    "told reporters that",
    "confirmed that",
    "argued that",
    "insisted that",
    "wrote in a statement that",
    "expects that",
    "doubts that",
];
const NAMES: &[&str] = &[
    "Amara", "Bruno", "Chen", "Dara", "Elif", "Farid", "Greta", "Hugo", "Ines", "Jonas", "Kofi", "Lena",
    "Mateo", "Nadia", "Oskar", "Priya", "Quinn", "Rosa", "Sami", "Tomas",
];
const SURNAMES: &[&str] = &[
    "Adeyemi", "Berg", "Costa", "Dubois", "Eriksen", "Fischer", "Garcia", "Haddad", "Ito", "Jansen",
    "Kowalski", "Larsen", "Moreau", "Novak", "Okafor", "Petrov", "Rossi", "Silva",
];

/// xorshift64*: small, fast, deterministic.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[self.below(items.len())]
    }
}

fn capitalize(s: &str) -> String {
    let mut c = s.chars();
    c.next().map(|f| f.to_uppercase().chain(c).collect()).unwrap_or_default()
}

const SYLLABLES: &[&str] = &[
    "ba", "ce", "di", "fo", "gu", "ha", "ke", "li", "mo", "nu", "pa", "re", "si", "to", "vu", "wa", "xe",
    "yo", "za", "bri", "cla", "dro", "fle", "gra", "ple", "sto", "tri", "lan", "mer", "son", "ton", "vel",
    "dor", "kin", "ral", "sen", "tam", "bel", "cor", "nis",
];
/// Size of the pseudo-word vocabulary.
const VOCABULARY: u64 = 40_000;

/// The pseudo-word of rank `k` (a pronounceable string unique to `k`).
fn word_of(mut k: u64) -> String {
    let mut w = String::new();
    loop {
        w.push_str(SYLLABLES[(k % SYLLABLES.len() as u64) as usize]);
        k /= SYLLABLES.len() as u64;
        if k == 0 {
            break;
        }
    }
    w.push_str(SYLLABLES[(w.len() * 7) % SYLLABLES.len()]);
    w
}

/// A word with natural-language-like frequencies: rank k drawn log-uniformly (Zipf-like), so a
/// few words are everywhere and most are rare, as in news text.
fn zipf_word(rng: &mut Rng) -> String {
    let u = (rng.next() % 1_000_000) as f64 / 1_000_000.0;
    word_of((VOCABULARY as f64).powf(u) as u64)
}

/// What the articles of one running story share: a few rare words and a person.
struct Story {
    words: Vec<String>,
    person: String,
}

impl Story {
    fn new(id: usize) -> Self {
        let mut rng = Rng((id as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
        Story {
            words: (0..8).map(|_| word_of(2_000 + rng.next() % (VOCABULARY - 2_000))).collect(),
            person: format!("{} {}", rng.pick(NAMES), rng.pick(SURNAMES)),
        }
    }
}

fn sentence(rng: &mut Rng, story: &Story) -> String {
    let who = if rng.below(3) == 0 {
        story.person.clone()
    } else {
        format!("{} {}", rng.pick(NAMES), rng.pick(SURNAMES))
    };
    let mut words = vec![who, rng.pick(CONNECTORS).to_owned(), "the".to_owned()];
    let word = |rng: &mut Rng| match rng.below(10) {
        0..=5 => zipf_word(rng),
        6..=7 => rng.pick(WORDS).to_owned(),
        _ => story.words[rng.below(story.words.len())].clone(),
    };
    for _ in 0..(6 + rng.below(10)) {
        words.push(word(rng));
    }
    words.push(rng.pick(VERBS).to_owned());
    for _ in 0..(3 + rng.below(6)) {
        words.push(word(rng));
    }
    format!("{}.", words.join(" "))
}

fn body(rng: &mut Rng, story: &Story) -> String {
    let paragraphs = 5 + rng.below(6);
    let mut out = String::new();
    for p in 0..paragraphs {
        if p == 2 {
            out.push_str(&format!("> \u{201c}{}\u{201d}\n\n", sentence(rng, story)));
        }
        let sentences = 2 + rng.below(3);
        let para: Vec<String> = (0..sentences).map(|_| sentence(rng, story)).collect();
        out.push_str(&para.join(" "));
        out.push_str("\n\n");
    }
    out
}

/// Real text to draw from instead of pseudo-words (`gazette generate --sample FILE.jsonl`):
/// the headlines and sentences of a corpus in the JSON Lines schema of `import jsonl`, read at
/// run time (nothing of it is kept in the repository).
pub struct Sample {
    /// (headline, sentences) of each usable article.
    articles: Vec<(String, Vec<String>)>,
}

impl Sample {
    /// Reads up to `max` articles with at least three sentences; unreadable lines are skipped.
    pub fn load(path: &std::path::Path, max: usize) -> anyhow::Result<Self> {
        use std::io::BufRead;
        let file =
            std::fs::File::open(path).map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
        let mut articles = Vec::new();
        for line in std::io::BufReader::new(file).lines() {
            let Ok(item) = crate::jsonl::parse_line(&line?) else { continue };
            let sentences = sentences(&item.text);
            if sentences.len() >= 3 {
                articles.push((item.title, sentences));
            }
            if articles.len() >= max {
                break;
            }
        }
        anyhow::ensure!(!articles.is_empty(), "{} has no articles with text to sample", path.display());
        Ok(Self { articles })
    }

    pub fn len(&self) -> usize {
        self.articles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.articles.is_empty()
    }
}

/// Sentences of plain text: cut after `.`, `?` or `!` followed by a space and a capital.
fn sentences(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = 0;
    let chars: Vec<(usize, char)> = text.char_indices().collect();
    for w in chars.windows(3) {
        let [(_, a), (_, b), (i, c)] = [w[0], w[1], w[2]];
        if matches!(a, '.' | '?' | '!') && b.is_whitespace() && c.is_uppercase() {
            let s = text[start..i].trim();
            if s.split_whitespace().count() >= 4 {
                out.push(s.to_owned());
            }
            start = i;
        }
    }
    let last = text[start..].trim();
    if last.split_whitespace().count() >= 4 {
        out.push(last.to_owned());
    }
    out
}

/// An article of running story `story` made of the sample's text: the story's own articles
/// give its headline and most sentences (so a story's pieces share their words, names and
/// places), other articles the rest.
fn sampled(rng: &mut Rng, sample: &Sample, story: usize) -> (String, String, String) {
    let n = sample.articles.len();
    let own = |k: usize| &sample.articles[(story * 3 + k) % n];
    let (headline, _) = own(rng.below(3));
    let pick = |rng: &mut Rng| {
        let (_, s) = if rng.below(10) < 7 { own(rng.below(3)) } else { &sample.articles[rng.below(n)] };
        s[rng.below(s.len())].clone()
    };
    let standfirst = pick(rng);
    let mut body = String::new();
    for p in 0..(4 + rng.below(5)) {
        if p == 2 {
            body.push_str(&format!("> \u{201c}{}\u{201d}\n\n", pick(rng)));
        }
        let para: Vec<String> = (0..2 + rng.below(3)).map(|_| pick(rng)).collect();
        body.push_str(&crate::jsonl::text_to_markdown(&para.join(" ")));
        body.push_str("\n\n");
    }
    (headline.clone(), standfirst, body)
}

/// Makes sure the `count` articles of this seed exist (and the sections, authors and tags they
/// use): running it again with the same seed adds nothing.
pub async fn generate(db: &Db, count: usize, seed: u64) -> anyhow::Result<()> {
    generate_from(db, count, seed, None).await
}

/// [`generate`], with the text drawn from a sample of real articles when one is given.
pub async fn generate_from(db: &Db, count: usize, seed: u64, sample: Option<&Sample>) -> anyhow::Result<()> {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    for (i, name) in SECTIONS.iter().enumerate() {
        let section = NewSection {
            slug: Slug::from_title(name),
            name: (*name).to_owned(),
            description: format!("{name} from around the region."),
            parent: None,
            position: i as i64,
        };
        content::ensure_section(db, &section).await?;
    }
    let mut authors = Vec::new();
    for i in 0..30 {
        let name = format!("{} {}", NAMES[i % NAMES.len()], SURNAMES[(i * 7) % SURNAMES.len()]);
        let author = NewAuthor {
            slug: Slug::from_title(&format!("{name} {i}")),
            name: name.clone(),
            bio: format!("{name} reports for the desk."),
            photo_url: None,
        };
        content::ensure_author(db, &author).await?;
        authors.push(author.slug);
    }
    let tags: Vec<String> = (0..200)
        .map(|i| {
            format!(
                "{} {}",
                capitalize(WORDS[i % WORDS.len()]),
                capitalize(WORDS[(i * 13 + 5) % WORDS.len()])
            )
        })
        .collect();
    let section_slugs: Vec<Slug> = SECTIONS.iter().map(|s| Slug::from_title(s)).collect();
    let newest = now() - 3600;
    let span = 3 * 365 * 86_400;
    let started = std::time::Instant::now();
    for i in 0..count {
        // Running stories of about six pieces each.
        let story_id = rng.below(count.div_ceil(6));
        let story = Story::new(story_id);
        // (The order of draws is the same as before samples existed: a seed's archive stays.)
        let (headline, text) = match sample {
            Some(sample) => {
                let (headline, standfirst, body) = sampled(&mut rng, sample, story_id);
                (headline, Some((standfirst, body)))
            }
            None => {
                let headline = format!(
                    "{} {} {} {}",
                    capitalize(rng.pick(WORDS)),
                    rng.pick(VERBS),
                    story.words[rng.below(story.words.len())],
                    zipf_word(&mut rng)
                );
                (headline, None)
            }
        };
        let mut sections = vec![section_slugs[rng.below(section_slugs.len())].clone()];
        if rng.below(3) == 0 {
            sections.push(section_slugs[rng.below(section_slugs.len())].clone());
        }
        let external_id = format!("{}:{seed}:{i}", if sample.is_some() { "sampled" } else { "generated" });
        if articles::exists_external(db, &external_id).await? {
            continue;
        }
        let (standfirst, body_source) =
            text.unwrap_or_else(|| (sentence(&mut rng, &story), body(&mut rng, &story)));
        let article = NewArticle {
            external_id: Some(external_id),
            slug: Slug::parse(&format!(
                "{}-{}{seed}-{i}",
                Slug::from_title(&headline.chars().take(80).collect::<String>()),
                if sample.is_some() { "s" } else { "" }
            ))?,
            headline,
            standfirst,
            body_source,
            excerpt: String::new(),
            status: ArticleStatus::Published,
            author_slugs: (0..1 + rng.below(2)).map(|_| authors[rng.below(authors.len())].clone()).collect(),
            section_slugs: sections,
            tags: (0..2 + rng.below(4)).map(|_| tags[rng.below(tags.len())].clone()).collect(),
            featured_image: None,
            comment_status: CommentStatus::Open,
            published_at: Some(newest - (rng.next() % span as u64) as i64),
            sticky: false,
        };
        content::create_article(db, &article).await?;
        if (i + 1) % 500 == 0 || i + 1 == count {
            print!("\rgenerated {}/{count} articles ({:.0?})", i + 1, started.elapsed());
            let _ = std::io::stdout().flush();
        }
    }
    println!();
    Ok(())
}
