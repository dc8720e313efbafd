//! `gazette import jsonl FILE`: articles from JSON Lines, one object per line, as scrapers and
//! the labelled news corpora write them. Fields (others are ignored):
//!
//! - `id` (string or number): kept as the article's external id; a line whose id is already
//!   in the store is skipped, so a second run changes nothing;
//! - `title` or `headline` (required), `text`, `body` or `content` (required, plain text;
//!   blank lines separate paragraphs; taken as HTML when it holds paragraph, break, division or
//!   link tags, as scrapers often write it), or `html`, `body_html` or `content_html` (HTML,
//!   sanitized like every body); `description`, `standfirst` or `summary`;
//! - `published` or `date`: RFC 3339, `YYYY-MM-DD HH:MM:SS`, `YYYY-MM-DD`, or Unix seconds;
//!   without it the article is dated by its line (the first line newest);
//! - `category` or `section`: the section (created when new); without it, "News";
//! - `author` or `authors` (a name or a list of names): bylines (created when new); without
//!   them, "Staff";
//! - `tags` or `keywords`: a list of names.
//!
//! A record without a headline or a text (real corpora have a few) is skipped, named by its
//! line on standard error, and counted in the summary; the rest is imported. A line that is not
//! JSON at all stops the import with its number (the file is damaged): the lines before it stay
//! imported (each article is its own transaction), and running the command again resumes.

use std::collections::HashMap;
use std::io::BufRead;

use anyhow::{Context, bail};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use serde_json::Value;

use crate::content;
use crate::domain::{ArticleStatus, CommentStatus, NewArticle, NewAuthor, NewSection, Slug};
use crate::storage::{Db, articles};
use crate::{fetch_optional, storage::now};

/// What an import did.
#[derive(Debug, Default)]
pub struct Report {
    pub added: usize,
    pub skipped: usize,
    /// Records left out for lacking a headline or a text: `(line number, what is missing)`.
    pub incomplete: Vec<(usize, String)>,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "imported {} articles; {} were already there", self.added, self.skipped)?;
        if !self.incomplete.is_empty() {
            let lines: Vec<String> = self.incomplete.iter().take(10).map(|(n, _)| n.to_string()).collect();
            let more = if self.incomplete.len() > 10 { ", ..." } else { "" };
            write!(
                f,
                "; {} skipped for lacking a headline or a text (line {}{more})",
                self.incomplete.len(),
                lines.join(", ")
            )?;
        }
        Ok(())
    }
}

/// A record that is JSON with an id but lacks a headline or a text.
#[derive(Debug)]
pub struct Incomplete(pub &'static str);

impl std::fmt::Display for Incomplete {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "no {}", self.0)
    }
}

impl std::error::Error for Incomplete {}

/// One article read from a line.
#[derive(Debug, Clone, PartialEq)]
pub struct Line {
    pub id: String,
    pub title: String,
    pub text: String,
    /// Whether `text` is HTML (an `html` field, or a text with HTML paragraphs in it).
    pub html: bool,
    pub standfirst: String,
    pub published: Option<i64>,
    pub category: Option<String>,
    pub authors: Vec<String>,
    pub tags: Vec<String>,
    /// The whole object, for labels (`story_id`, `category`) in evaluations.
    pub raw: Value,
}

fn string(v: &Value, keys: &[&str]) -> Option<String> {
    keys.iter().find_map(|k| match v.get(*k)? {
        Value::String(s) if !s.trim().is_empty() => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

fn list(v: &Value, keys: &[&str]) -> Vec<String> {
    keys.iter()
        .find_map(|k| match v.get(*k)? {
            Value::String(s) if !s.trim().is_empty() => {
                Some(s.split([',', ';']).map(|p| p.trim().to_owned()).filter(|p| !p.is_empty()).collect())
            }
            Value::Array(items) => Some(
                items
                    .iter()
                    .filter_map(|i| i.as_str().map(|s| s.trim().to_owned()))
                    .filter(|s| !s.is_empty())
                    .collect(),
            ),
            _ => None,
        })
        .unwrap_or_default()
}

/// Reads a time in the forms the corpora use.
pub fn parse_time(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => {
            let s = s.trim();
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.timestamp())
                .ok()
                .or_else(|| DateTime::parse_from_rfc2822(s).map(|t| t.timestamp()).ok())
                .or_else(|| {
                    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S")
                        .map(|t| t.and_utc().timestamp())
                        .ok()
                })
                .or_else(|| {
                    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S")
                        .map(|t| t.and_utc().timestamp())
                        .ok()
                })
                .or_else(|| {
                    NaiveDate::parse_from_str(s.get(..10).unwrap_or(s), "%Y-%m-%d")
                        .ok()
                        .and_then(|d| d.and_hms_opt(12, 0, 0))
                        .map(|t| t.and_utc().timestamp())
                })
                .or_else(|| s.parse::<i64>().ok())
        }
        _ => None,
    }
}

/// Parses one line; the error says what is missing.
pub fn parse_line(text: &str) -> anyhow::Result<Line> {
    let v: Value = serde_json::from_str(text).context("not a JSON object")?;
    if !v.is_object() {
        bail!("not a JSON object");
    }
    let id = string(&v, &["id", "external_id", "guid"]).context("no \"id\"")?;
    let title = string(&v, &["title", "headline"]).ok_or(Incomplete("\"title\" (headline)"))?;
    let (text, html) = match string(&v, &["html", "body_html", "content_html"]) {
        Some(html) => (html, true),
        None => {
            let text = string(&v, &["text", "body", "content"]).ok_or(Incomplete("\"text\" (body)"))?;
            let html = looks_like_html(&text);
            (text, html)
        }
    };
    Ok(Line {
        id,
        title,
        text,
        html,
        standfirst: string(&v, &["description", "standfirst", "summary"]).unwrap_or_default(),
        published: ["published", "date", "published_at"].iter().find_map(|k| v.get(*k).and_then(parse_time)),
        category: string(&v, &["category", "section"]),
        authors: list(&v, &["authors", "author"]),
        tags: list(&v, &["tags", "keywords"]),
        raw: v,
    })
}

/// Whether a text field holds HTML rather than plain text: paragraph, break, division or link
/// tags (a plain text that merely mentions `<` or `a<b` is not).
pub fn looks_like_html(text: &str) -> bool {
    let lower = text.get(..text.len().min(64 * 1024)).unwrap_or(text).to_ascii_lowercase();
    ["<p>", "<p ", "</p>", "<br>", "<br/>", "<br />", "</div>", "</a>", "</li>", "</h2>"]
        .iter()
        .any(|t| lower.contains(t))
}

/// Plain text as Markdown that renders as the same text: paragraphs kept, Markdown's own
/// characters escaped.
pub fn text_to_markdown(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + text.len() / 20);
    for (i, paragraph) in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()).enumerate() {
        if i > 0 {
            out.push_str("\n\n");
        }
        for c in paragraph.replace('\n', " ").chars() {
            if "\\`*_{}[]<>#+-!|~".contains(c) {
                out.push('\\');
            }
            out.push(c);
        }
    }
    out
}

/// Reads every line; articles are added through the domain layer, one transaction each.
pub async fn import(db: &Db, input: impl BufRead, progress: impl FnMut(usize)) -> anyhow::Result<Report> {
    import_as(db, input, "jsonl:", progress).await
}

/// As [`import`], with external ids `PREFIX` + `id` (evaluations keep distractors apart).
pub async fn import_as(
    db: &Db,
    input: impl BufRead,
    prefix: &str,
    mut progress: impl FnMut(usize),
) -> anyhow::Result<Report> {
    let mut report = Report::default();
    let mut sections: HashMap<String, Slug> = HashMap::new();
    let mut authors: HashMap<String, Slug> = HashMap::new();
    let base_time = now() - 3600;
    for (n, line) in input.lines().enumerate() {
        let number = n + 1;
        let line = line.with_context(|| format!("line {number}: cannot read (is the file UTF-8?)"))?;
        if line.trim().is_empty() {
            continue;
        }
        let item = match parse_line(&line) {
            Ok(item) => item,
            Err(err) if err.downcast_ref::<Incomplete>().is_some() => {
                report.incomplete.push((number, err.to_string()));
                continue;
            }
            Err(err) => return Err(err.context(format!("line {number}"))),
        };
        let external = format!("{prefix}{}", item.id);
        if articles::exists_external(db, &external).await? {
            report.skipped += 1;
            continue;
        }
        add(db, &item, &external, base_time - number as i64 * 60, &mut sections, &mut authors)
            .await
            .with_context(|| format!("line {number} (id {})", item.id))?;
        report.added += 1;
        if report.added.is_multiple_of(500) {
            progress(report.added);
        }
    }
    progress(report.added);
    Ok(report)
}

async fn add(
    db: &Db,
    item: &Line,
    external: &str,
    fallback_time: i64,
    sections: &mut HashMap<String, Slug>,
    authors: &mut HashMap<String, Slug>,
) -> anyhow::Result<i64> {
    let category = item.category.clone().unwrap_or_else(|| "News".to_owned());
    let section = match sections.get(&category) {
        Some(s) => s.clone(),
        None => {
            let slug = Slug::from_title(&category);
            content::ensure_section(
                db,
                &NewSection {
                    slug: slug.clone(),
                    name: category.clone(),
                    description: String::new(),
                    parent: None,
                    position: sections.len() as i64,
                },
            )
            .await?;
            sections.insert(category.clone(), slug.clone());
            slug
        }
    };
    let names = if item.authors.is_empty() { vec!["Staff".to_owned()] } else { item.authors.clone() };
    let mut author_slugs = Vec::new();
    for name in names.iter().take(5) {
        let slug = match authors.get(name) {
            Some(s) => s.clone(),
            None => {
                let slug = Slug::from_title(name);
                content::ensure_author(
                    db,
                    &NewAuthor {
                        slug: slug.clone(),
                        name: name.clone(),
                        bio: String::new(),
                        photo_url: None,
                    },
                )
                .await?;
                authors.insert(name.clone(), slug.clone());
                slug
            }
        };
        if !author_slugs.contains(&slug) {
            author_slugs.push(slug);
        }
    }
    let mut slug = Slug::from_title(&item.title);
    let taken =
        fetch_optional!(db, (i64,), "SELECT id FROM articles WHERE slug = $1", slug.as_str())?.is_some();
    if taken || slug.as_str().is_empty() {
        let suffix = format!("{:x}", crate::theme::fnv1a64(item.id.as_bytes()) & 0xff_ffff);
        let candidate = format!("{}-{suffix}", slug.as_str().chars().take(70).collect::<String>());
        slug = Slug::parse(candidate.trim_start_matches('-'))
            .or_else(|_| Slug::parse(&format!("article-{suffix}")))?;
    }
    let article = NewArticle {
        external_id: Some(external.to_owned()),
        slug,
        headline: item.title.clone(),
        standfirst: item.standfirst.clone(),
        body_source: if item.html {
            crate::wordpress::wpautop(&item.text)
        } else {
            text_to_markdown(&item.text)
        },
        excerpt: String::new(),
        status: ArticleStatus::Published,
        author_slugs,
        section_slugs: vec![section],
        tags: item.tags.iter().take(20).cloned().collect(),
        featured_image: None,
        comment_status: CommentStatus::Open,
        published_at: Some(item.published.unwrap_or(fallback_time)),
        sticky: false,
    };
    content::create_article(db, &article).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_and_times() {
        let l = parse_line(
            r#"{"id": 7, "title": "A", "text": "B\n\nC", "published": "2020-05-01", "category": "sport"}"#,
        )
        .unwrap();
        assert_eq!(l.id, "7");
        assert_eq!(l.published, Some(1_588_334_400));
        assert_eq!(l.category.as_deref(), Some("sport"));
        assert!(parse_line(r#"{"id": 1, "text": "x"}"#).unwrap_err().to_string().contains("title"));
        assert!(parse_line("[1]").is_err());
        assert_eq!(parse_time(&Value::from("2020-05-01T10:00:00Z")), Some(1_588_327_200));
    }

    #[test]
    fn plain_text_stays_plain() {
        assert_eq!(text_to_markdown("# not a heading *x*\n\nsecond"), "\\# not a heading \\*x\\*\n\nsecond");
    }
}
