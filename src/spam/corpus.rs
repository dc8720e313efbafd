//! Labelled comment corpora: CSV (RFC 4180), JSON or JSON Lines, columns found by name.

use std::path::Path;
use std::sync::Arc;

use anyhow::{Context, bail};

use super::{Sample, features};

/// One labelled comment from a corpus.
#[derive(Debug, Clone)]
pub struct Labelled {
    /// The corpus's id for it (`COMMENT_ID`, `id`), or its row number.
    pub id: String,
    pub author: String,
    pub text: String,
    pub spam: bool,
    /// Which file of the corpus it came from (a site's own comments: models are calibrated
    /// on files they were not trained on).
    pub group: u32,
    /// The hosts of the site it was left on (see [`load_corpus`]).
    pub site: Arc<[String]>,
}

impl Labelled {
    /// The comment as the filter sees one (a corpus has no emails or websites).
    pub fn sample(&self) -> Sample<'_> {
        Sample { name: &self.author, email: "", url: "", text: &self.text, site: &self.site }
    }

    pub fn features(&self) -> Vec<String> {
        features(&self.sample())
    }
}

/// The columns of YouTube's comments as the YouTube Spam Collection exported them.
const YOUTUBE_COLUMNS: [&str; 5] = ["COMMENT_ID", "AUTHOR", "DATE", "CONTENT", "CLASS"];
/// Where comments in that layout were left: a link to YouTube is a link to the site itself.
const YOUTUBE_HOSTS: [&str; 2] = ["youtube.com", "youtu.be"];

const TEXT_KEYS: &[&str] = &["content", "text", "comment", "comment_text", "body", "message"];
const LABEL_KEYS: &[&str] = &["class", "label", "spam", "is_spam", "category"];
const AUTHOR_KEYS: &[&str] = &["author", "name", "comment_author"];
const ID_KEYS: &[&str] = &["comment_id", "id"];

/// A comment's text as its author wrote it: without the zero-width no-break spaces some
/// sources leave in it, and with the HTML some deliver (YouTube's `<br />`, `<a href>` and
/// entities) turned back into plain text, which is what Gazette's own comments are. A link
/// keeps both its text and its address.
pub(crate) fn clean(text: &str) -> String {
    let text = text.replace('\u{FEFF}', "");
    if !text.contains('<') && !text.contains('&') {
        return text;
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text.as_str();
    while let Some(open) = rest.find('<') {
        out.push_str(&rest[..open]);
        let Some(close) = rest[open..].find('>') else {
            rest = &rest[open..];
            break;
        };
        let tag = &rest[open + 1..open + close];
        if let Some(at) = tag.find("href=\"") {
            let href = &tag[at + 6..];
            out.push(' ');
            out.push_str(href.split('"').next().unwrap_or(""));
        }
        out.push(' ');
        rest = &rest[open + close + 1..];
    }
    out.push_str(rest);
    crate::domain::html_text::decode_entities(&out)
}

fn parse_label(value: &str) -> Option<bool> {
    match value.trim().to_ascii_lowercase().as_str() {
        "1" | "spam" | "true" | "yes" => Some(true),
        "0" | "ham" | "false" | "no" | "not_spam" | "not spam" | "legitimate" => Some(false),
        _ => None,
    }
}

/// Reads labelled comments from a file or, recursively, from the `.csv`, `.jsonl` and `.json`
/// files of a directory. Columns (or keys) are found by name: text in one of `content`, `text`,
/// `comment`, `body`, `message`; the label in `class`, `label`, `spam`, `is_spam` (`1`/`spam`
/// is spam, `0`/`ham` is not); the author, if any, in `author` or `name`.
///
/// `site`: the hosts of the site the comments were left on (links there are the site's own),
/// for files that do not say: one in YouTube's export layout (`COMMENT_ID,AUTHOR,DATE,CONTENT,
/// CLASS`) was left on YouTube.
pub fn load_corpus(path: &Path, site: Option<&[String]>) -> anyhow::Result<Vec<Labelled>> {
    let mut files = Vec::new();
    collect_files(path, &mut files)?;
    files.sort();
    let mut out = Vec::new();
    for (group, file) in files.iter().enumerate() {
        let before = out.len();
        let ext = file.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
        let text = String::from_utf8_lossy(&bytes);
        let mut youtube = false;
        match ext.as_str() {
            "csv" => youtube = read_csv(&text, &mut out).with_context(|| format!("in {}", file.display()))?,
            "jsonl" | "json" => {
                read_json(&text, &mut out).with_context(|| format!("in {}", file.display()))?
            }
            _ => continue,
        }
        let hosts: Arc<[String]> = if youtube {
            YOUTUBE_HOSTS.map(str::to_owned).into()
        } else {
            site.unwrap_or_default().iter().filter_map(|h| super::site_host(h)).collect()
        };
        for c in &mut out[before..] {
            c.group = group as u32;
            c.site = hosts.clone();
        }
        tracing::debug!(file = %file.display(), comments = out.len() - before, "read corpus file");
    }
    if out.is_empty() {
        bail!("no labelled comments found in {}", path.display());
    }
    Ok(out)
}

fn collect_files(path: &Path, files: &mut Vec<std::path::PathBuf>) -> anyhow::Result<()> {
    if path.is_dir() {
        for entry in std::fs::read_dir(path).with_context(|| format!("reading {}", path.display()))? {
            collect_files(&entry?.path(), files)?;
        }
    } else if path.is_file() {
        files.push(path.to_owned());
    } else {
        bail!("{} does not exist", path.display());
    }
    Ok(())
}

fn column(header: &[String], keys: &[&str]) -> Option<usize> {
    keys.iter().find_map(|k| header.iter().position(|h| h.trim().eq_ignore_ascii_case(k)))
}

/// Reads a CSV file's comments; true when its columns are YouTube's export layout.
fn read_csv(text: &str, out: &mut Vec<Labelled>) -> anyhow::Result<bool> {
    let rows = parse_csv(text);
    let Some((header, rows)) = rows.split_first() else { return Ok(false) };
    let text_col = column(header, TEXT_KEYS).context("no text column (content, text, comment ...)")?;
    let label_col = column(header, LABEL_KEYS).context("no label column (class, label, spam ...)")?;
    let author_col = column(header, AUTHOR_KEYS);
    let id_col = column(header, ID_KEYS);
    for (n, row) in rows.iter().enumerate() {
        let (Some(text), Some(label)) = (row.get(text_col), row.get(label_col).and_then(|l| parse_label(l)))
        else {
            continue;
        };
        let author = author_col.and_then(|c| row.get(c)).cloned().unwrap_or_default();
        let id = id_col.and_then(|c| row.get(c)).cloned().unwrap_or_else(|| (n + 2).to_string());
        out.push(Labelled { id, author, text: clean(text), spam: label, group: 0, site: Arc::new([]) });
    }
    Ok(header.iter().map(|h| h.trim()).eq(YOUTUBE_COLUMNS))
}

/// RFC 4180 CSV: quoted fields may hold commas, quotes (doubled) and line breaks.
pub fn parse_csv(text: &str) -> Vec<Vec<String>> {
    let mut rows = Vec::new();
    let mut row = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = text.trim_start_matches('\u{FEFF}').chars().peekable();
    while let Some(c) = chars.next() {
        match (quoted, c) {
            (true, '"') if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            (true, '"') => quoted = false,
            (true, c) => field.push(c),
            (false, '"') if field.is_empty() => quoted = true,
            (false, ',') => row.push(std::mem::take(&mut field)),
            (false, '\n') => {
                row.push(std::mem::take(&mut field));
                rows.push(std::mem::take(&mut row));
            }
            (false, '\r') => {}
            (false, c) => field.push(c),
        }
    }
    if !field.is_empty() || !row.is_empty() {
        row.push(field);
        rows.push(row);
    }
    rows
}

fn read_json(text: &str, out: &mut Vec<Labelled>) -> anyhow::Result<()> {
    let values: Vec<serde_json::Value> = if text.trim_start().starts_with('[') {
        serde_json::from_str(text)?
    } else {
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| serde_json::from_str(l).with_context(|| format!("line {}", i + 1)))
            .collect::<anyhow::Result<_>>()?
    };
    let find = |v: &serde_json::Value, keys: &[&str]| -> Option<String> {
        let obj = v.as_object()?;
        keys.iter().find_map(|k| {
            obj.iter().find(|(name, _)| name.eq_ignore_ascii_case(k)).and_then(|(_, v)| match v {
                serde_json::Value::String(s) => Some(s.clone()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                serde_json::Value::Number(n) => Some(n.to_string()),
                _ => None,
            })
        })
    };
    for v in &values {
        let (Some(text), Some(spam)) =
            (find(v, TEXT_KEYS), find(v, LABEL_KEYS).and_then(|l| parse_label(&l)))
        else {
            continue;
        };
        let id = find(v, ID_KEYS).unwrap_or_else(|| (out.len() + 1).to_string());
        out.push(Labelled {
            id,
            author: find(v, AUTHOR_KEYS).unwrap_or_default(),
            text: clean(&text),
            spam,
            group: 0,
            site: Arc::new([]),
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_from_the_source_becomes_plain_text() {
        let raw = "Best part <a href=\"http://www.youtube.com/watch?v=x&amp;t=2m19s\">2:19</a><br />I&#39;m &lt;3 &amp; &#x1F600;\u{FEFF}";
        assert_eq!(
            clean(raw),
            "Best part  http://www.youtube.com/watch?v=x&t=2m19s 2:19  I'm <3 & \u{1F600}"
        );
        assert_eq!(clean("a & b &bogus; &#99999999;"), "a & b &bogus; &#99999999;");
        assert_eq!(clean("unclosed <b"), "unclosed <b");
    }

    #[test]
    fn csv_with_quotes_and_line_breaks() {
        let rows = parse_csv("AUTHOR,CONTENT,CLASS\r\nann,\"hi, \"\"you\"\"\nthere\",0\nbob,buy,1\n");
        assert_eq!(rows.len(), 3);
        assert_eq!(rows[1][1], "hi, \"you\"\nthere");
        let mut out = Vec::new();
        read_csv("AUTHOR,CONTENT,CLASS\nann,hello,0\nbob,buy,1\n", &mut out).unwrap();
        assert_eq!(out.len(), 2);
        assert!(out[1].spam && !out[0].spam);
        // YouTube's export layout says where the comments were left.
        let youtube = read_csv("COMMENT_ID,AUTHOR,DATE,CONTENT,CLASS\nz1,ann,,hello,0\n", &mut out).unwrap();
        assert!(youtube && out.len() == 3);
    }
}
