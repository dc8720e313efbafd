//! `gazette import wordpress FILE.xml`: a WordPress export (WXR 1.0, 1.1, 1.2).
//!
//! The file is streamed twice, never held in memory: the first pass reads the site's authors,
//! categories, tags and attachments (small), the second imports each `<item>` as it is read, so
//! memory does not grow with the file. Posts become articles (status, local and GMT dates, slug,
//! excerpt, categories as sections with their hierarchy, tags, authors, featured image), pages
//! become static pages, attachments are recorded with their original URLs, comments keep their
//! threading and state (spam and trash stay spam and trash). Bodies stay HTML: Gutenberg block
//! comments are removed, WordPress's paragraph rules (`wpautop`) are applied to classic posts,
//! `[caption]`, `[gallery]` and `[embed]` become HTML, and the result is sanitized like any
//! article. Old addresses (the item's link and its `?p=ID` GUID) answer with a 301.
//!
//! What is transactional: each article with its authors, sections and tags is one transaction;
//! its comments and old addresses follow in a second. A run that stops (a damaged file, a
//! server that went away) leaves whole items; running it again skips what is there and
//! completes the rest: every record carries its WordPress id. Custom post types it does not
//! understand are skipped and counted by type. Malformed XML inside one item skips that item
//! (named with its line in the report); anywhere else it refuses the file before anything is
//! written.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::BufRead;
use std::path::Path;

use anyhow::{Context, bail};
use chrono::{NaiveDateTime, TimeZone};
use quick_xml::events::Event;

use crate::domain::article::FeaturedImage;
use crate::domain::comment::{self as text_comment, CommentState};
use crate::domain::{ArticleStatus, CommentStatus, NewArticle, NewAuthor, NewPage, NewSection, Slug};
use crate::storage::{Db, fetch_all_with_ids, now, placeholders};
use crate::{content, fetch_optional, tx_exec};

/// Elements nested deeper than this are refused (a WordPress export's go six deep).
pub const MAX_XML_DEPTH: usize = 64;

/// An element of the export, with its text and children (one `<item>` at a time).
#[derive(Debug, Default, Clone)]
pub struct Node {
    pub name: String,
    pub attrs: Vec<(String, String)>,
    pub text: String,
    pub children: Vec<Node>,
}

impl Node {
    fn child(&self, name: &str) -> Option<&Node> {
        self.children.iter().find(|c| c.name == name)
    }

    fn get(&self, name: &str) -> &str {
        self.child(name).map_or("", |c| c.text.trim())
    }

    /// The item's identity within its site: its `wp:post_id`, or for exports without ids (old
    /// or hand-made ones) its `guid`, else its title and date, so that two items are never
    /// taken for one.
    fn post_key(&self) -> String {
        match (self.get("wp:post_id"), self.get("guid")) {
            ("", "") => format!("title:{}@{}", self.get("title"), self.get("wp:post_date")),
            ("", guid) => format!("guid:{guid}"),
            (id, _) => id.to_owned(),
        }
    }

    fn attr(&self, name: &str) -> Option<&str> {
        self.attrs.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Cuts the file into `<item>` elements and what lies between them, without parsing: CDATA
/// sections and comments are skipped over (a post may quote `</item>`). Each piece comes with
/// the line it starts on. Memory holds one piece at a time.
struct Pieces<R> {
    input: R,
    buf: Vec<u8>,
    /// How far `buf` has been scanned.
    at: usize,
    line: u64,
    in_item: bool,
    eof: bool,
}

#[derive(Debug, PartialEq, Eq)]
enum Piece {
    /// Whatever is not an item: the channel's head, the space between items, its close.
    Other(Vec<u8>, u64),
    Item(Vec<u8>, u64),
}

impl<R: BufRead> Pieces<R> {
    fn new(input: R) -> Self {
        Self { input, buf: Vec::new(), at: 0, line: 1, in_item: false, eof: false }
    }

    /// Makes at least `n` bytes from `at` available; false at the end of the file.
    fn want(&mut self, n: usize) -> std::io::Result<bool> {
        while self.buf.len() < self.at + n && !self.eof {
            let chunk = self.input.fill_buf()?;
            if chunk.is_empty() {
                self.eof = true;
                break;
            }
            let len = chunk.len();
            self.buf.extend_from_slice(chunk);
            self.input.consume(len);
        }
        Ok(self.buf.len() >= self.at + n)
    }

    fn looking_at(&mut self, s: &[u8]) -> std::io::Result<bool> {
        Ok(self.want(s.len())? && self.buf[self.at..].starts_with(s))
    }

    /// Moves past the next `end` (CDATA, comment); the end of the file stops it too.
    fn skip_past(&mut self, end: &[u8]) -> std::io::Result<()> {
        loop {
            if !self.want(end.len())? {
                self.at = self.buf.len();
                return Ok(());
            }
            if self.buf[self.at..].starts_with(end) {
                self.at += end.len();
                return Ok(());
            }
            self.at += 1;
        }
    }

    fn cut(&mut self, end: usize) -> (Vec<u8>, u64) {
        let piece: Vec<u8> = self.buf.drain(..end).collect();
        self.at -= end;
        let first = self.line;
        self.line += piece.iter().filter(|b| **b == b'\n').count() as u64;
        (piece, first)
    }

    fn next_piece(&mut self) -> std::io::Result<Option<Piece>> {
        loop {
            if !self.want(1)? {
                if self.buf.is_empty() {
                    return Ok(None);
                }
                // An item the file ends inside is not local damage: the file was cut short.
                let (bytes, line) = self.cut(self.buf.len());
                return Ok(Some(Piece::Other(bytes, line)));
            }
            if self.buf[self.at] != b'<' {
                self.at += 1;
                continue;
            }
            if self.looking_at(b"<![CDATA[")? {
                self.skip_past(b"]]>")?;
            } else if self.looking_at(b"<!--")? {
                self.skip_past(b"-->")?;
            } else if !self.in_item && self.looking_at(b"<item")? && self.want(6)? {
                let after = self.buf[self.at + 5];
                if after == b'>' || after.is_ascii_whitespace() {
                    let start = self.at;
                    self.in_item = true;
                    if start > 0 {
                        let (bytes, line) = self.cut(start);
                        return Ok(Some(Piece::Other(bytes, line)));
                    }
                }
                self.at += 1;
            } else if self.in_item && self.looking_at(b"</item")? {
                self.skip_past(b">")?;
                self.in_item = false;
                let (bytes, line) = self.cut(self.at);
                return Ok(Some(Piece::Item(bytes, line)));
            } else {
                self.at += 1;
            }
        }
    }
}

/// What a parse of the file has seen so far; carried from piece to piece.
struct Parse {
    stack: Vec<Node>,
    prefixes: HashSet<String>,
    version: String,
    saw_rss: bool,
}

impl Parse {
    /// Parses one piece, continuing from the state the previous pieces left.
    fn feed(
        &mut self,
        bytes: &[u8],
        first_line: u64,
        each: &mut impl FnMut(Node) -> anyhow::Result<()>,
    ) -> anyhow::Result<()> {
        // A piece may close what earlier pieces opened: the reader is given those openings
        // again first (their events are not ours to handle), so it can check every closing tag.
        let reopened: String = self.stack.iter().map(|n| format!("<{}>", n.name)).collect();
        let mut synthetic = self.stack.len();
        let text = [reopened.as_bytes(), bytes].concat();
        let mut reader = quick_xml::Reader::from_reader(text.as_slice());
        reader.config_mut().trim_text(false);
        let line = |reader: &quick_xml::Reader<&[u8]>| {
            let pos = (reader.buffer_position() as usize).saturating_sub(reopened.len()).min(bytes.len());
            first_line + bytes[..pos].iter().filter(|b| **b == b'\n').count() as u64
        };
        let mut buf = Vec::new();
        loop {
            let event = reader
                .read_event_into(&mut buf)
                .map_err(|e| anyhow::anyhow!("line {}: malformed XML: {e}", line(&reader)))?;
            if synthetic > 0 {
                synthetic -= 1;
                continue;
            }
            match event {
                Event::Start(ref e) | Event::Empty(ref e) => {
                    let name = e.name().as_ref().to_owned();
                    let mut node = Node { name: name.clone(), ..Default::default() };
                    for a in e.attributes() {
                        let a = a.map_err(|err| {
                            anyhow::anyhow!("line {}: bad attribute in <{name}>: {err}", line(&reader))
                        })?;
                        let key = a.key.as_ref().to_owned();
                        let value = a
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .map_err(|err| {
                                anyhow::anyhow!("line {}: bad attribute in <{name}>: {err}", line(&reader))
                            })?
                            .into_owned();
                        if let Some(p) = key.strip_prefix("xmlns:") {
                            self.prefixes.insert(p.to_owned());
                        }
                        node.attrs.push((key, value));
                    }
                    if name == "rss" {
                        self.saw_rss = true;
                    }
                    if let Some((prefix, _)) = name.split_once(':')
                        && !self.prefixes.contains(prefix)
                    {
                        bail!(
                            "line {}: <{name}> uses the namespace prefix {prefix:?}, which the file never declares",
                            line(&reader)
                        );
                    }
                    if matches!(event, Event::Empty(_)) {
                        finish(node, &mut self.stack, &mut self.version, each, line(&reader))?;
                    } else {
                        // WordPress's own elements nest six deep; far deeper is hostile (and a
                        // tree that deep would be dropped by deep recursion).
                        if self.stack.len() >= MAX_XML_DEPTH {
                            bail!(
                                "line {}: elements nested more than {MAX_XML_DEPTH} deep, which no export has",
                                line(&reader)
                            );
                        }
                        self.stack.push(node);
                    }
                }
                Event::End(ref e) => {
                    let closing = e.name();
                    match self.stack.last() {
                        Some(open) if open.name == closing.as_ref() => {}
                        Some(open) => bail!(
                            "line {}: </{}> where </{}> was expected",
                            line(&reader),
                            closing.as_ref(),
                            open.name
                        ),
                        None => bail!("line {}: a closing tag without its opening", line(&reader)),
                    }
                    let node = self.stack.pop().unwrap_or_default();
                    finish(node, &mut self.stack, &mut self.version, each, line(&reader))?;
                }
                Event::Text(t) => {
                    if let Some(top) = self.stack.last_mut() {
                        top.text.push_str(&t.xml10_content());
                    }
                }
                Event::CData(c) => {
                    if let Some(top) = self.stack.last_mut() {
                        top.text.push_str(&c.into_inner());
                    }
                }
                Event::GeneralRef(r) => {
                    let resolved = if r.is_char_ref() {
                        r.resolve_char_ref().ok().flatten().map(String::from)
                    } else {
                        match r.xml10_content().as_ref() {
                            "amp" => Some("&".into()),
                            "lt" => Some("<".into()),
                            "gt" => Some(">".into()),
                            "quot" => Some("\"".into()),
                            "apos" => Some("'".into()),
                            other => bail!("line {}: unknown entity &{other};", line(&reader)),
                        }
                    };
                    if let (Some(top), Some(s)) = (self.stack.last_mut(), resolved) {
                        top.text.push_str(&s);
                    }
                }
                Event::Eof => break,
                _ => {}
            }
            buf.clear();
        }
        Ok(())
    }
}

/// Streams the channel's children one at a time to `each` (the channel's own fields too).
/// Returns the WXR version and the items that could not be read, each with its line and the
/// reason: damage inside one `<item>` skips that item and the rest goes on; damage anywhere
/// else (the channel's head, its structure, a file cut short) is an error that names the line.
pub fn stream(
    input: impl BufRead,
    mut each: impl FnMut(Node) -> anyhow::Result<()>,
) -> anyhow::Result<(String, Vec<String>)> {
    let mut pieces = Pieces::new(input);
    let mut parse = Parse {
        stack: Vec::new(),
        prefixes: ["xml".to_owned()].into_iter().collect(),
        version: String::new(),
        saw_rss: false,
    };
    let mut damaged = Vec::new();
    while let Some(piece) = pieces.next_piece().context("reading the export")? {
        match piece {
            Piece::Other(bytes, line) => parse.feed(&bytes, line, &mut each)?,
            Piece::Item(bytes, line) => {
                let depth = parse.stack.len();
                if depth != 2 {
                    // Not where items belong (rss > channel): the structure itself is wrong.
                    parse.feed(&bytes, line, &mut each)?;
                    continue;
                }
                // An item parses on its own, after its channel: on failure, nothing of it was
                // handed over, and the channel is as it was.
                let mut item: Option<Node> = None;
                let result = parse.feed(&bytes, line, &mut |node: Node| {
                    if node.name == "item" {
                        item = Some(node);
                        Ok(())
                    } else {
                        bail!("<{}> inside an item", node.name)
                    }
                });
                match (result, item) {
                    (Ok(()), Some(node)) if parse.stack.len() == depth => each(node)?,
                    (Ok(()), _) => {
                        parse.stack.truncate(depth);
                        damaged.push(format!(
                            "item at line {line}: its elements do not close properly; skipped"
                        ));
                    }
                    (Err(err), _) => {
                        parse.stack.truncate(depth);
                        let title = item_title(&bytes);
                        damaged.push(format!("item at line {line}{title}: {err:#}; skipped"));
                    }
                }
            }
        }
    }
    if !parse.saw_rss {
        bail!("this is not a WordPress export: there is no <rss> element");
    }
    if let Some(open) = parse.stack.last() {
        bail!("line {}: the file ends inside <{}>", pieces.line, open.name);
    }
    Ok((parse.version, damaged))
}

/// The `<title>` of a damaged item, for the report, as far as it can be read.
fn item_title(bytes: &[u8]) -> String {
    let text = String::from_utf8_lossy(bytes);
    let Some(start) = text.find("<title>") else { return String::new() };
    let rest = &text[start + 7..];
    // An unclosed title is cut after 80 characters (not bytes: a cut inside a character
    // panicked, and took the whole import down; found by tests/it/fuzz.rs).
    let end =
        rest.find("</title>").unwrap_or_else(|| rest.char_indices().nth(80).map_or(rest.len(), |(i, _)| i));
    let title = rest[..end].trim_start_matches("<![CDATA[").trim_end_matches("]]>").trim();
    if title.is_empty() {
        String::new()
    } else {
        format!(" ({:?})", title.chars().take(80).collect::<String>())
    }
}

fn finish(
    node: Node,
    stack: &mut [Node],
    version: &mut String,
    each: &mut impl FnMut(Node) -> anyhow::Result<()>,
    line: u64,
) -> anyhow::Result<()> {
    match stack.len() {
        // A child of <channel> (rss > channel > node): hand it over whole.
        2 => {
            if node.name == "wp:wxr_version" {
                *version = node.text.trim().to_owned();
                if !["1.0", "1.1", "1.2"].contains(&version.as_str()) {
                    bail!(
                        "line {line}: WXR version {version:?} is not one this importer knows (1.0, 1.1, 1.2)"
                    );
                }
            }
            each(node)
        }
        0 | 1 => Ok(()),
        _ => {
            if let Some(parent) = stack.last_mut() {
                parent.children.push(node);
            }
            Ok(())
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Turning WordPress's HTML into Gazette's
// ---------------------------------------------------------------------------------------------

/// Removes Gutenberg's block delimiters (`<!-- wp:paragraph -->`, `<!-- /wp:paragraph -->`).
pub fn strip_block_comments(html: &str) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find("<!--") {
        let after = &rest[start + 4..];
        let body = after.trim_start();
        if body.starts_with("wp:") || body.starts_with("/wp:") {
            out.push_str(&rest[..start]);
            rest = after.find("-->").map_or("", |end| &after[end + 3..]);
        } else {
            out.push_str(&rest[..start + 4]);
            rest = after;
        }
    }
    out.push_str(rest);
    out
}

const BLOCK_TAGS: &[&str] = &[
    "p",
    "div",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "ul",
    "ol",
    "li",
    "blockquote",
    "pre",
    "table",
    "thead",
    "tbody",
    "tr",
    "td",
    "th",
    "figure",
    "figcaption",
    "hr",
    "dl",
    "dt",
    "dd",
    "section",
    "article",
    "aside",
    "header",
    "footer",
    "address",
    "form",
    "fieldset",
    "iframe",
    "object",
    "embed",
    "video",
    "audio",
    "img",
];

fn starts_with_block(s: &str) -> bool {
    let s = s.trim_start();
    let Some(rest) = s.strip_prefix('<') else { return false };
    let rest = rest.strip_prefix('/').unwrap_or(rest);
    let name: String =
        rest.chars().take_while(char::is_ascii_alphanumeric).collect::<String>().to_lowercase();
    BLOCK_TAGS.contains(&name.as_str()) || rest.starts_with("!--")
}

/// WordPress's `wpautop`, in its essentials: blank lines separate paragraphs; text that is not
/// already a block element is wrapped in `<p>`; single line breaks inside a paragraph become
/// `<br>`. Preformatted blocks are left alone.
pub fn wpautop(html: &str) -> String {
    let html = html.replace("\r\n", "\n").replace('\r', "\n");
    if html.trim().is_empty() {
        return String::new();
    }
    // Keep <pre> blocks out of the rules.
    let mut pres = Vec::new();
    let mut text = String::with_capacity(html.len());
    let mut rest = html.as_str();
    while let Some(start) = rest.find("<pre") {
        let Some(end) = rest[start..].find("</pre>") else { break };
        text.push_str(&rest[..start]);
        text.push_str(&format!("\n\n<!--gazette-pre-{}-->\n\n", pres.len()));
        pres.push(rest[start..start + end + 6].to_owned());
        rest = &rest[start + end + 6..];
    }
    text.push_str(rest);
    let mut out = Vec::new();
    for block in text.split("\n\n").map(str::trim).filter(|b| !b.is_empty()) {
        if let Some(n) = block.strip_prefix("<!--gazette-pre-").and_then(|r| r.strip_suffix("-->")) {
            out.push(n.parse::<usize>().ok().and_then(|i| pres.get(i).cloned()).unwrap_or_default());
        } else if starts_with_block(block) {
            out.push(block.to_owned());
        } else {
            out.push(format!("<p>{}</p>", block.lines().map(str::trim).collect::<Vec<_>>().join("<br>\n")));
        }
    }
    out.join("\n\n")
}

/// Attributes of a shortcode's opening tag: `id="x" align='y' width=300`.
fn shortcode_attrs(s: &str) -> HashMap<String, String> {
    let mut out = HashMap::new();
    let mut rest = s.trim();
    while !rest.is_empty() {
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim().to_lowercase();
        let after = rest[eq + 1..].trim_start();
        let (value, next) = match after.chars().next() {
            Some(q @ ('"' | '\'')) => {
                let inner = &after[1..];
                let end = inner.find(q).unwrap_or(inner.len());
                (&inner[..end], inner.get(end + 1..).unwrap_or(""))
            }
            _ => {
                let end = after.find(char::is_whitespace).unwrap_or(after.len());
                (&after[..end], &after[end..])
            }
        };
        out.insert(key, value.to_owned());
        rest = next.trim_start();
    }
    out
}

fn escape(s: &str) -> String {
    let mut out = String::new();
    text_comment::escape_into(&mut out, s);
    out
}

/// `[caption]`, `[gallery]` and `[embed]` as HTML; other shortcodes stay as they are.
pub fn shortcodes(html: &str, attachments: &HashMap<String, String>) -> String {
    let mut out = String::with_capacity(html.len());
    let mut rest = html;
    while let Some(start) = rest.find('[') {
        out.push_str(&rest[..start]);
        let tail = &rest[start + 1..];
        let name: String = tail.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        let Some(close) = tail.find(']') else {
            out.push('[');
            rest = tail;
            continue;
        };
        let attrs = shortcode_attrs(&tail[name.len()..close]);
        let after_open = &tail[close + 1..];
        let closing = format!("[/{name}]");
        match name.as_str() {
            "caption" | "wp_caption" => {
                let (inner, next) = match after_open.find(&closing) {
                    Some(end) => (&after_open[..end], &after_open[end + closing.len()..]),
                    None => (after_open, ""),
                };
                // The image (possibly inside a link) first, the caption text after it.
                let split = inner.rfind('>').map_or(0, |i| i + 1);
                let (media, text) = inner.split_at(split);
                let caption = attrs.get("caption").cloned().unwrap_or_else(|| text.trim().to_owned());
                out.push_str(&format!(
                    "<figure>{}<figcaption>{}</figcaption></figure>",
                    media.trim(),
                    caption
                ));
                rest = next;
            }
            "embed" => {
                let (inner, next) = match after_open.find(&closing) {
                    Some(end) => (&after_open[..end], &after_open[end + closing.len()..]),
                    None => ("", after_open),
                };
                let url = inner.trim();
                if text_comment::is_web_url(url) {
                    out.push_str(&format!("<p><a href=\"{0}\">{0}</a></p>", escape(url)));
                }
                rest = next;
            }
            "gallery" => {
                let ids = attrs.get("ids").cloned().unwrap_or_default();
                let images: Vec<String> = ids
                    .split(',')
                    .filter_map(|id| attachments.get(id.trim()))
                    .map(|url| format!("<img src=\"{}\" alt=\"\">", escape(url)))
                    .collect();
                if !images.is_empty() {
                    out.push_str(&format!("<div class=\"gallery\">{}</div>", images.join("")));
                }
                rest = after_open;
            }
            _ => {
                out.push('[');
                rest = tail;
            }
        }
    }
    out.push_str(rest);
    out
}

/// A WordPress body as Gazette HTML (sanitized later, when the article is stored).
pub fn convert_body(html: &str, attachments: &HashMap<String, String>) -> String {
    let is_blocks = html.contains("<!-- wp:");
    let cleaned = strip_block_comments(html);
    let cleaned = shortcodes(&cleaned, attachments);
    if is_blocks { cleaned.trim().to_owned() } else { wpautop(&cleaned) }
}

/// A comment's HTML as the plain text Gazette keeps: line and paragraph breaks kept, tags
/// dropped, entities decoded.
pub fn comment_text(html: &str) -> String {
    let with_breaks = html
        .replace("<br />", "\n")
        .replace("<br/>", "\n")
        .replace("<br>", "\n")
        .replace("</p>", "\n\n")
        .replace("<p>", "");
    let mut out = String::with_capacity(with_breaks.len());
    let mut in_tag = false;
    for c in with_breaks.chars() {
        match c {
            '<' => in_tag = true,
            '>' if in_tag => in_tag = false,
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let decoded = out
        .replace("&nbsp;", " ")
        .replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&#39;", "'")
        .replace("&#039;", "'")
        .replace("&amp;", "&");
    text_comment::clean_text(&decoded)
}

// ---------------------------------------------------------------------------------------------
// The import
// ---------------------------------------------------------------------------------------------

/// What an import did, for the closing report.
#[derive(Debug, Default)]
pub struct Report {
    pub version: String,
    pub counts: BTreeMap<&'static str, usize>,
    /// Items skipped, by post type or reason.
    pub skipped: BTreeMap<String, usize>,
    /// Items that could not be imported, with why.
    pub problems: Vec<String>,
}

impl Report {
    fn add(&mut self, what: &'static str) {
        *self.counts.entry(what).or_default() += 1;
    }

    fn skip(&mut self, why: String) {
        *self.skipped.entry(why).or_default() += 1;
    }
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "WXR {}", self.version)?;
        for (k, v) in &self.counts {
            writeln!(f, "  {v:>7} {k}")?;
        }
        for (k, v) in &self.skipped {
            writeln!(f, "  {v:>7} skipped: {k}")?;
        }
        for p in &self.problems {
            writeln!(f, "  problem: {p}")?;
        }
        Ok(())
    }
}

/// What the first pass learns about the site.
#[derive(Debug, Default)]
struct Site {
    base: String,
    authors: HashMap<String, (String, String)>,
    categories: Vec<(String, String, String, String)>,
    attachments: HashMap<String, String>,
}

fn parse_wp_time(local: &str, gmt: &str, tz: chrono_tz::Tz) -> Option<i64> {
    let parse = |s: &str| NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%d %H:%M:%S").ok();
    match parse(gmt) {
        Some(t) if !gmt.starts_with("0000") => Some(t.and_utc().timestamp()),
        _ => parse(local).and_then(|t| tz.from_local_datetime(&t).earliest()).map(|t| t.timestamp()),
    }
}

fn slug_or(raw: &str, fallback: &str) -> Slug {
    let decoded = raw.replace("%20", "-");
    Slug::parse(&decoded)
        .unwrap_or_else(|_| Slug::from_title(if fallback.is_empty() { "untitled" } else { fallback }))
}

/// Imports a WordPress export from a file, streaming it twice.
pub async fn import(db: &Db, path: &Path, mut progress: impl FnMut(&Report)) -> anyhow::Result<Report> {
    let open = || -> anyhow::Result<std::io::BufReader<std::fs::File>> {
        Ok(std::io::BufReader::with_capacity(
            1 << 16,
            std::fs::File::open(path).with_context(|| format!("cannot read {}", path.display()))?,
        ))
    };
    // Pass 1: the site's people, categories and attachments.
    let mut site = Site::default();
    let (version, damaged) = stream(open()?, |node| {
        match node.name.as_str() {
            "wp:base_site_url" | "wp:base_blog_url" if site.base.is_empty() => {
                site.base = node.text.trim().to_owned()
            }
            "link" if site.base.is_empty() => site.base = node.text.trim().to_owned(),
            "wp:author" => {
                site.authors.insert(
                    node.get("wp:author_login").to_owned(),
                    (node.get("wp:author_display_name").to_owned(), node.get("wp:author_email").to_owned()),
                );
            }
            "wp:category" => site.categories.push((
                node.get("wp:category_nicename").to_owned(),
                node.get("wp:cat_name").to_owned(),
                node.get("wp:category_parent").to_owned(),
                node.get("wp:category_description").to_owned(),
            )),
            "item" if node.get("wp:post_type") == "attachment" => {
                let url = node.get("wp:attachment_url");
                let url = if url.is_empty() { node.get("guid") } else { url };
                site.attachments.insert(node.get("wp:post_id").to_owned(), url.to_owned());
            }
            _ => {}
        }
        Ok(())
    })?;
    if version.is_empty() {
        bail!("{} has no <wp:wxr_version>: it is not a WordPress export", path.display());
    }
    // Damaged items are named now (each is skipped whole in both passes).
    let mut report = Report { version, problems: damaged, ..Default::default() };
    let tz = crate::site::Settings::from_map(&crate::storage::settings::all(db).await?).timezone;
    let base = site.base.trim_end_matches('/').to_owned();
    let key = |id: &str| format!("wp:{base}:{id}");

    // Sections, parents first (a category may name its parent before or after itself).
    let known: HashMap<String, String> =
        site.categories.iter().map(|(slug, name, _, _)| (slug.clone(), name.clone())).collect();
    let mut done: HashSet<String> = HashSet::new();
    for _ in 0..site.categories.len().max(1) {
        for (slug, name, parent, description) in &site.categories {
            if done.contains(slug)
                || (!parent.is_empty() && known.contains_key(parent) && !done.contains(parent))
            {
                continue;
            }
            let parent = (!parent.is_empty() && done.contains(parent)).then(|| slug_or(parent, parent));
            let section = NewSection {
                slug: slug_or(slug, name),
                name: if name.is_empty() { slug.clone() } else { name.clone() },
                description: description.clone(),
                parent,
                position: done.len() as i64,
            };
            let present = fetch_optional!(
                db,
                (i64,),
                "SELECT id FROM sections WHERE slug = $1",
                section.slug.as_str()
            )?;
            content::ensure_section(db, &section).await?;
            done.insert(slug.clone());
            if present.is_none() {
                report.add("sections");
            }
        }
    }
    for (login, (display, _)) in &site.authors {
        let author = NewAuthor {
            slug: slug_or(login, login),
            name: if display.is_empty() { login.clone() } else { display.clone() },
            bio: String::new(),
            photo_url: None,
        };
        let present =
            fetch_optional!(db, (i64,), "SELECT id FROM authors WHERE slug = $1", author.slug.as_str())?;
        content::ensure_author(db, &author).await?;
        if present.is_none() {
            report.add("authors");
        }
    }

    // Pass 2: the items, one at a time.
    let (sender, mut receiver) = tokio::sync::mpsc::channel::<Node>(16);
    let path_owned = path.to_owned();
    let reader = tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        let file = std::io::BufReader::with_capacity(1 << 16, std::fs::File::open(&path_owned)?);
        stream(file, |node| {
            if node.name == "item" {
                sender.blocking_send(node).map_err(|_| anyhow::anyhow!("the import stopped"))?;
            }
            Ok(())
        })?;
        Ok(())
    });
    while let Some(item) = receiver.recv().await {
        let kind = item.get("wp:post_type").to_owned();
        let title = item.get("title").to_owned();
        let result = match kind.as_str() {
            "post" => import_post(db, &item, &site, &key, tz, &mut report).await,
            "page" => import_page(db, &item, &site, &mut report).await,
            "attachment" => {
                skip_comments(&item, "comment on an attachment", &mut report);
                import_attachment(db, &item, &key, &mut report).await
            }
            other => {
                let kind = if other.is_empty() { "(none)" } else { other };
                report.skip(format!("post type {kind}"));
                skip_comments(&item, &format!("comment on a {kind} item"), &mut report);
                Ok(())
            }
        };
        if let Err(err) = result {
            report.problems.push(format!("{kind} {:?} (id {}): {err:#}", title, item.get("wp:post_id")));
        }
        let total: usize = report.counts.values().sum();
        if total.is_multiple_of(200) {
            progress(&report);
        }
    }
    reader.await??;
    // Featured images whose attachment came after the post were resolved from the first pass.
    progress(&report);
    Ok(report)
}

async fn import_attachment(
    db: &Db,
    item: &Node,
    key: &impl Fn(&str) -> String,
    report: &mut Report,
) -> anyhow::Result<()> {
    let url = item.get("wp:attachment_url");
    let url = if url.is_empty() { item.get("guid") } else { url };
    let external = key(&item.post_key());
    let parent = key(item.get("wp:post_parent"));
    let parent_id = fetch_optional!(db, (i64,), "SELECT id FROM articles WHERE external_id = $1", &parent)?;
    let mut tx = db.begin().await?;
    let n = tx_exec!(
        &mut tx,
        "INSERT INTO attachments (external_id, url, title, article_id, created_at) VALUES ($1, $2, $3, $4, $5) \
         ON CONFLICT (external_id) DO NOTHING",
        &external,
        url,
        item.get("title"),
        parent_id.map(|p| p.0),
        now()
    )?;
    tx.commit().await?;
    if n == 1 {
        report.add("attachments");
    } else {
        report.skip("attachment already imported".into());
    }
    Ok(())
}

/// Counts the comments of an item that is not imported as an article, so the report accounts
/// for every comment in the file.
fn skip_comments(item: &Node, why: &str, report: &mut Report) {
    for c in item.children.iter().filter(|c| c.name == "wp:comment") {
        match c.get("wp:comment_type") {
            kind @ ("pingback" | "trackback") => report.skip(format!("comment type {kind}")),
            _ => report.skip(why.to_owned()),
        }
    }
}

/// At most this many imported pages are linked in the footer; staff choose others under Pages.
const IMPORTED_FOOTER_PAGES: i64 = 8;

async fn import_page(db: &Db, item: &Node, site: &Site, report: &mut Report) -> anyhow::Result<()> {
    // Pages in Gazette are fixed texts (about, contact): they take no comments.
    skip_comments(item, "comment on a page (Gazette pages take no comments)", report);
    if item.get("wp:status") != "publish" {
        report.skip(format!("page ({})", item.get("wp:status")));
        return Ok(());
    }
    let title = item.get("title");
    // The footer links the first few top-level pages (About, Contact): a site's menus are not
    // in the export, and a footer of hundreds of links would weigh on every page.
    let top_level = matches!(item.get("wp:post_parent"), "" | "0");
    let page = NewPage {
        slug: slug_or(item.get("wp:post_name"), title),
        title: if title.is_empty() { "Untitled".into() } else { title.to_owned() },
        body_source: convert_body(item.get("content:encoded"), &site.attachments),
        in_footer: top_level && crate::storage::pages::footer_count(db).await? < IMPORTED_FOOTER_PAGES,
    };
    if fetch_optional!(db, (i64,), "SELECT id FROM pages WHERE slug = $1", page.slug.as_str())?.is_some() {
        report.skip("page already present".into());
        return Ok(());
    }
    content::ensure_page(db, &page).await?;
    report.add("pages");
    Ok(())
}

async fn import_post(
    db: &Db,
    item: &Node,
    site: &Site,
    key: &impl Fn(&str) -> String,
    tz: chrono_tz::Tz,
    report: &mut Report,
) -> anyhow::Result<()> {
    let wp_id = item.get("wp:post_id");
    let external = key(&item.post_key());
    let status = match item.get("wp:status") {
        "publish" => ArticleStatus::Published,
        "future" => ArticleStatus::Scheduled,
        "draft" => ArticleStatus::Draft,
        "pending" => ArticleStatus::Pending,
        "private" => ArticleStatus::Unpublished,
        "trash" => ArticleStatus::Trashed,
        "auto-draft" | "inherit" => {
            report.skip(format!("post ({})", item.get("wp:status")));
            skip_comments(item, &format!("comment on a post ({})", item.get("wp:status")), report);
            return Ok(());
        }
        other => bail!("unknown status {other:?}"),
    };
    let published_at = parse_wp_time(item.get("wp:post_date"), item.get("wp:post_date_gmt"), tz);
    let title = item.get("title");
    // What an export says of a post itself; bylines, sections, tags and the image follow.
    let mut article = NewArticle {
        external_id: Some(external.clone()),
        slug: slug_or(item.get("wp:post_name"), title),
        headline: if title.is_empty() { "(untitled)".into() } else { title.to_owned() },
        standfirst: String::new(),
        body_source: convert_body(item.get("content:encoded"), &site.attachments),
        excerpt: text_comment::clean_line(&comment_text(item.get("excerpt:encoded"))),
        status,
        author_slugs: Vec::new(),
        section_slugs: Vec::new(),
        tags: Vec::new(),
        featured_image: None,
        comment_status: if item.get("wp:comment_status") == "closed" {
            CommentStatus::Closed
        } else {
            CommentStatus::Open
        },
        published_at: published_at.or((status == ArticleStatus::Published).then(now)),
        sticky: item.get("wp:is_sticky") == "1",
    };
    let existing = fetch_optional!(db, (i64,), "SELECT id FROM articles WHERE external_id = $1", &external)?;
    let article_id = if let Some((id,)) = existing {
        // A newer export of the same site: what changed there changes here (the update keeps
        // the bylines, sections and tags it does not name).
        if content::update_imported(db, id, &article).await? {
            report.add("articles updated");
        } else {
            report.skip("post already imported, unchanged".into());
        }
        id
    } else {
        if fetch_optional!(db, (i64,), "SELECT id FROM articles WHERE slug = $1", article.slug.as_str())?
            .is_some()
        {
            // Taken by another post: the WordPress id tells them apart, or, in an export
            // without ids, the first number that is free.
            let base = article.slug.as_str().to_owned();
            let by_id = (!wp_id.is_empty()).then(|| format!("{base}-wp{wp_id}"));
            for candidate in by_id.into_iter().chain((2..10_000).map(|n| format!("{base}-{n}"))) {
                article.slug = Slug::parse(&candidate)?;
                if fetch_optional!(db, (i64,), "SELECT id FROM articles WHERE slug = $1", &candidate)?
                    .is_none()
                {
                    break;
                }
            }
        }
        for c in item.children.iter().filter(|c| c.name == "category") {
            match c.attr("domain") {
                Some("category") => {
                    let s = slug_or(c.attr("nicename").unwrap_or(&c.text), &c.text);
                    if !article.section_slugs.contains(&s) {
                        article.section_slugs.push(s);
                    }
                }
                Some("post_tag") => article.tags.push(c.text.trim().to_owned()),
                _ => {}
            }
        }
        if article.section_slugs.is_empty() {
            article.section_slugs.push(Slug::from_title("Uncategorized"));
        }
        // Categories used by a post but missing from the channel's list (and "Uncategorized").
        for s in &article.section_slugs {
            let name = if s.as_str() == "uncategorized" {
                "Uncategorized".into()
            } else {
                s.as_str().replace('-', " ")
            };
            let section =
                NewSection { slug: s.clone(), name, description: String::new(), parent: None, position: 999 };
            content::ensure_section(db, &section).await?;
        }
        let login = item.get("dc:creator");
        let author = slug_or(login, if login.is_empty() { "staff" } else { login });
        if !site.authors.contains_key(login) {
            let name = if login.is_empty() { "Staff".into() } else { login.to_owned() };
            let byline = NewAuthor { slug: author.clone(), name, bio: String::new(), photo_url: None };
            content::ensure_author(db, &byline).await?;
        }
        article.author_slugs = vec![author];
        article.featured_image = item
            .children
            .iter()
            .filter(|c| c.name == "wp:postmeta")
            .find(|m| m.get("wp:meta_key") == "_thumbnail_id")
            .and_then(|m| site.attachments.get(m.get("wp:meta_value")).cloned())
            .filter(|url| text_comment::is_web_url(url))
            .map(|url| FeaturedImage {
                url,
                alt: String::new(),
                caption: String::new(),
                credit: String::new(),
            });
        let id = content::create_article(db, &article).await?;
        report.add("articles");
        if article.sticky {
            report.add("sticky articles (kept at the top of the front page)");
        }
        id
    };
    import_comments(db, item, article_id, key, tz, report).await?;
    // Old addresses: the item's link (its path) and `?p=ID`.
    let mut paths = if wp_id.is_empty() { Vec::new() } else { vec![format!("/?p={wp_id}")] };
    if let Some(rest) = item.get("link").split_once("://").map(|(_, r)| r)
        && let Some((_, path)) = rest.split_once('/')
    {
        paths.push(format!("/{path}"));
    }
    let mut tx = db.begin().await?;
    for p in paths {
        tx_exec!(
            &mut tx,
            "INSERT INTO redirects (path, article_id) VALUES ($1, $2) ON CONFLICT (path) DO NOTHING",
            &p,
            article_id
        )?;
    }
    tx.commit().await?;
    Ok(())
}

async fn import_comments(
    db: &Db,
    item: &Node,
    article_id: i64,
    key: &impl Fn(&str) -> String,
    tz: chrono_tz::Tz,
    report: &mut Report,
) -> anyhow::Result<()> {
    let mut ids: HashMap<String, i64> = HashMap::new();
    let post = key(&item.post_key());
    let comments: Vec<&Node> = item.children.iter().filter(|c| c.name == "wp:comment").collect();
    // Parents before children, whatever the file's order.
    let mut pending: Vec<&Node> = comments.clone();
    let mut rounds = 0;
    while !pending.is_empty() && rounds < 50 {
        rounds += 1;
        let mut later = Vec::new();
        for c in pending {
            let parent = c.get("wp:comment_parent");
            let parent_id = match parent {
                "" | "0" => None,
                p => match ids.get(p) {
                    Some(id) => Some(*id),
                    None if comments.iter().any(|o| o.get("wp:comment_id") == p) => {
                        later.push(c);
                        continue;
                    }
                    None => None,
                },
            };
            let external = format!("{post}#comment-{}", c.get("wp:comment_id"));
            if let Some((id,)) =
                fetch_optional!(db, (i64,), "SELECT id FROM comments WHERE external_id = $1", &external)?
            {
                ids.insert(c.get("wp:comment_id").to_owned(), id);
                continue;
            }
            let kind = c.get("wp:comment_type");
            if kind == "pingback" || kind == "trackback" {
                report.skip(format!("comment type {kind}"));
                continue;
            }
            let state = match c.get("wp:comment_approved") {
                "1" => CommentState::Approved,
                "spam" => CommentState::Spam,
                "trash" | "post-trashed" => CommentState::Trash,
                _ => CommentState::Pending,
            };
            let text = comment_text(c.get("wp:comment_content"));
            if text.trim().is_empty() {
                report.skip("empty comment".into());
                continue;
            }
            let name = text_comment::clean_line(c.get("wp:comment_author"));
            let url = c.get("wp:comment_author_url");
            let existing = crate::comments::Existing {
                article_id,
                parent_id,
                name: if name.is_empty() { "Anonymous".into() } else { name.chars().take(80).collect() },
                email: c.get("wp:comment_author_email").to_lowercase(),
                url: if text_comment::is_web_url(url) { url.to_owned() } else { String::new() },
                text: text.chars().take(text_comment::MAX_TEXT_CHARS).collect(),
                created_at: parse_wp_time(c.get("wp:comment_date"), c.get("wp:comment_date_gmt"), tz)
                    .unwrap_or_else(now),
                staff_user_id: None,
                external_id: Some(external),
                client_addr: c.get("wp:comment_author_IP").to_owned(),
            };
            let id = crate::comments::add_imported(db, &existing, state).await?;
            ids.insert(c.get("wp:comment_id").to_owned(), id);
            report.add("comments");
        }
        pending = later;
    }
    Ok(())
}

/// Looks up an old WordPress address: the article's current address, if it moved here.
pub async fn redirect_for(db: &Db, path_and_query: &str) -> anyhow::Result<Option<(String, i64)>> {
    Ok(fetch_optional!(
        db,
        (String, i64),
        "SELECT a.slug, a.published_at FROM redirects r JOIN articles a ON a.id = r.article_id \
         WHERE r.path = $1 AND a.status = 'published' AND a.published_at IS NOT NULL",
        path_and_query
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_damaged_items_unclosed_title_is_cut_between_characters() {
        let title = format!("Post with {}", "\u{10417}".repeat(40));
        let item = format!("<item><title>{title}<wp:post_id>7</wp:post_id>");
        let shown = item_title(item.as_bytes());
        assert!(shown.starts_with(" (\"Post with \u{10417}"), "{shown}");
        // And a whole export whose damaged item has one is read, that item skipped.
        let xml = format!(
            "<rss><channel><item><title>Fine</title></item>\n<item><title>{title}<b></item></channel></rss>"
        );
        let (_, damaged) = stream(xml.as_bytes(), |_| Ok(())).unwrap();
        assert_eq!(damaged.len(), 1, "{damaged:?}");
    }

    #[test]
    fn the_file_is_cut_at_items_but_not_inside_cdata_or_comments() {
        let xml = "<rss><channel>\n<items-count>2</items-count><item><title>A</title>\
                   <c><![CDATA[quoting </item> and <item>]]></c><!-- </item> --></item>\n<item >B</item></channel></rss>";
        let mut pieces = Pieces::new(xml.as_bytes());
        let mut out = Vec::new();
        while let Some(p) = pieces.next_piece().unwrap() {
            out.push(match p {
                Piece::Other(b, line) => format!("other@{line}:{}", String::from_utf8(b).unwrap()),
                Piece::Item(b, line) => format!("item@{line}:{}", String::from_utf8(b).unwrap()),
            });
        }
        assert_eq!(
            out,
            [
                "other@1:<rss><channel>\n<items-count>2</items-count>",
                "item@2:<item><title>A</title><c><![CDATA[quoting </item> and <item>]]></c><!-- </item> --></item>",
                "other@2:\n",
                "item@3:<item >B</item>",
                "other@3:</channel></rss>",
            ]
        );
    }

    #[test]
    fn wpautop_and_blocks() {
        assert_eq!(
            wpautop("One\ntwo\n\n<h2>Head</h2>\n\nThree"),
            "<p>One<br>\ntwo</p>\n\n<h2>Head</h2>\n\n<p>Three</p>"
        );
        assert_eq!(wpautop("<pre>a\n\nb</pre>"), "<pre>a\n\nb</pre>");
        assert_eq!(
            strip_block_comments("<!-- wp:paragraph --><p>x</p><!-- /wp:paragraph --><!-- kept -->"),
            "<p>x</p><!-- kept -->"
        );
    }

    #[test]
    fn shortcodes_become_html() {
        let att: HashMap<String, String> = [("7".to_owned(), "https://x.example/a.jpg".to_owned())].into();
        assert_eq!(
            shortcodes("[caption id=\"a\" width=\"3\"]<img src=\"i.jpg\"> Words[/caption]", &att),
            "<figure><img src=\"i.jpg\"><figcaption>Words</figcaption></figure>"
        );
        assert_eq!(
            shortcodes("[gallery ids=\"7,8\"]", &att),
            "<div class=\"gallery\"><img src=\"https://x.example/a.jpg\" alt=\"\"></div>"
        );
        assert!(
            shortcodes("[embed]https://v.example/1[/embed]", &att).contains("href=\"https://v.example/1\"")
        );
        assert_eq!(shortcodes("[unknown x=1] and [1]", &att), "[unknown x=1] and [1]");
        assert_eq!(comment_text("<p>Hi &amp; <b>bye</b></p><p>Two<br />lines</p>"), "Hi & bye\n\nTwo\nlines");
    }
}

// ---------------------------------------------------------------------------------------------
// Export
// ---------------------------------------------------------------------------------------------

/// Text as CDATA (a `]]>` inside is split across two sections).
fn cdata(s: &str) -> String {
    format!("<![CDATA[{}]]>", s.replace("]]>", "]]]]><![CDATA[>"))
}

fn xml_escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[derive(sqlx::FromRow)]
struct ExportArticle {
    id: i64,
    slug: String,
    headline: String,
    body_html: String,
    excerpt: String,
    status: String,
    published_at: Option<i64>,
    created_at: i64,
    comment_status: String,
    sticky: i64,
}

#[derive(sqlx::FromRow)]
struct ExportTerm {
    article_id: i64,
    kind: String,
    slug: String,
    name: String,
}

#[derive(sqlx::FromRow)]
struct ExportComment {
    article_id: i64,
    id: i64,
    parent_id: Option<i64>,
    author_name: String,
    author_email: String,
    author_url: String,
    client_addr: String,
    body_html: String,
    status: String,
    created_at: i64,
}

/// `gazette export wordpress OUT.xml`: WXR 1.2 that WordPress's importer reads: authors,
/// categories (sections, with their parents), tags, posts (articles, with their comments),
/// pages and attachments. Articles are read in pages, so memory stays flat.
pub async fn export(db: &Db, base_url: &str, out: &mut impl std::io::Write) -> anyhow::Result<usize> {
    use crate::fetch_all;
    let settings = crate::site::Settings::from_map(&crate::storage::settings::all(db).await?);
    let tz = settings.timezone;
    let base = base_url.trim_end_matches('/');
    let local = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .unwrap_or_default()
            .with_timezone(&tz)
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    let gmt = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0).unwrap_or_default().format("%Y-%m-%d %H:%M:%S").to_string()
    };
    writeln!(out, "<?xml version=\"1.0\" encoding=\"UTF-8\" ?>")?;
    writeln!(
        out,
        "<rss version=\"2.0\" xmlns:excerpt=\"http://wordpress.org/export/1.2/excerpt/\" \
         xmlns:content=\"http://purl.org/rss/1.0/modules/content/\" xmlns:wfw=\"http://wellformedweb.org/CommentAPI/\" \
         xmlns:dc=\"http://purl.org/dc/elements/1.1/\" xmlns:wp=\"http://wordpress.org/export/1.2/\">\n<channel>"
    )?;
    writeln!(
        out,
        "<title>{}</title>\n<link>{}</link>\n<description>{}</description>",
        xml_escape(&settings.name),
        xml_escape(base),
        xml_escape(&settings.description)
    )?;
    writeln!(
        out,
        "<language>{}</language>\n<wp:wxr_version>1.2</wp:wxr_version>",
        xml_escape(&settings.language)
    )?;
    writeln!(
        out,
        "<wp:base_site_url>{0}</wp:base_site_url>\n<wp:base_blog_url>{0}</wp:base_blog_url>",
        xml_escape(base)
    )?;
    let mut n = 0;
    let authors = fetch_all!(
        db,
        (i64, String, String, Option<String>),
        "SELECT a.id, a.slug, a.name, (SELECT u.email FROM users u WHERE u.author_id = a.id LIMIT 1) FROM authors a ORDER BY a.id"
    )?;
    for (id, slug, name, email) in &authors {
        writeln!(
            out,
            "<wp:author><wp:author_id>{id}</wp:author_id><wp:author_login>{}</wp:author_login><wp:author_email>{}</wp:author_email><wp:author_display_name>{}</wp:author_display_name></wp:author>",
            cdata(slug),
            cdata(email.as_deref().unwrap_or("")),
            cdata(name)
        )?;
        n += 1;
    }
    for (id, slug, name, description, parent) in fetch_all!(
        db,
        (i64, String, String, String, Option<String>),
        "SELECT s.id, s.slug, s.name, s.description, p.slug FROM sections s LEFT JOIN sections p ON p.id = s.parent_id ORDER BY s.id"
    )? {
        writeln!(
            out,
            "<wp:category><wp:term_id>{id}</wp:term_id><wp:category_nicename>{}</wp:category_nicename><wp:category_parent>{}</wp:category_parent><wp:cat_name>{}</wp:cat_name><wp:category_description>{}</wp:category_description></wp:category>",
            cdata(&slug),
            cdata(parent.as_deref().unwrap_or("")),
            cdata(&name),
            cdata(&description)
        )?;
        n += 1;
    }
    for (id, slug, name) in
        fetch_all!(db, (i64, String, String), "SELECT id, slug, name FROM tags ORDER BY id")?
    {
        writeln!(
            out,
            "<wp:tag><wp:term_id>{id}</wp:term_id><wp:tag_slug>{}</wp:tag_slug><wp:tag_name>{}</wp:tag_name></wp:tag>",
            cdata(&slug),
            cdata(&name)
        )?;
        n += 1;
    }
    let site = crate::site::Site::load(db, crate::config::PermalinkStyle::Date).await?;
    let mut after = 0;
    while after < i64::MAX {
        let page = fetch_all!(
            db,
            ExportArticle,
            "SELECT id, slug, headline, body_html, excerpt, status, published_at, created_at, comment_status, \
             sticky FROM articles WHERE id > $1 ORDER BY id LIMIT 500",
            after
        )?;
        let Some(last) = page.last() else { break };
        after = last.id;
        // Bylines, sections, tags and comments of the whole page: two queries, not two per post.
        let ids: Vec<i64> = page.iter().map(|a| a.id).collect();
        let k = ids.len();
        let (l1, l2, l3) = (placeholders(0, k), placeholders(k, k), placeholders(2 * k, k));
        let term_sql = format!(
            "SELECT x.article_id, 'author' AS kind, t.slug, t.name, x.position FROM article_authors x \
               JOIN authors t ON t.id = x.author_id WHERE x.article_id IN ({l1}) \
             UNION ALL SELECT x.article_id, 'section' AS kind, t.slug, t.name, x.position FROM article_sections x \
               JOIN sections t ON t.id = x.section_id WHERE x.article_id IN ({l2}) \
             UNION ALL SELECT x.article_id, 'tag' AS kind, t.slug, t.name, x.position FROM article_tags x \
               JOIN tags t ON t.id = x.tag_id WHERE x.article_id IN ({l3}) ORDER BY 1, 2, 5"
        );
        let thrice: Vec<i64> = ids.iter().chain(&ids).chain(&ids).copied().collect();
        let all_terms: Vec<ExportTerm> = fetch_all_with_ids(db, term_sql, &thrice).await?;
        let comment_sql = format!(
            "SELECT article_id, id, parent_id, author_name, author_email, author_url, client_addr, body_html, \
               status, created_at FROM comments WHERE article_id IN ({l1}) ORDER BY article_id, id"
        );
        let all_comments: Vec<ExportComment> = fetch_all_with_ids(db, comment_sql, &ids).await?;
        for a in page {
            let terms: Vec<&ExportTerm> = all_terms.iter().filter(|t| t.article_id == a.id).collect();
            let when = a.published_at.unwrap_or(a.created_at);
            let status = match a.status.as_str() {
                "published" => "publish",
                "scheduled" => "future",
                "pending" => "pending",
                "unpublished" => "private",
                "trashed" => "trash",
                _ => "draft",
            };
            let link = format!("{base}{}", site.article_url(&a.slug, when));
            writeln!(
                out,
                "<item>\n<title>{}</title>\n<link>{}</link>",
                xml_escape(&a.headline),
                xml_escape(&link)
            )?;
            writeln!(
                out,
                "<pubDate>{}</pubDate>",
                chrono::DateTime::from_timestamp(when, 0).unwrap_or_default().to_rfc2822()
            )?;
            let creator = terms.iter().find(|t| t.kind == "author").map_or("", |t| t.slug.as_str());
            writeln!(
                out,
                "<dc:creator>{}</dc:creator>\n<guid isPermaLink=\"false\">{}/?p={}</guid>",
                cdata(creator),
                xml_escape(base),
                a.id
            )?;
            writeln!(
                out,
                "<content:encoded>{}</content:encoded>\n<excerpt:encoded>{}</excerpt:encoded>",
                cdata(&a.body_html),
                cdata(&a.excerpt)
            )?;
            writeln!(
                out,
                "<wp:post_id>{}</wp:post_id><wp:post_date>{}</wp:post_date><wp:post_date_gmt>{}</wp:post_date_gmt>\
                 <wp:comment_status>{}</wp:comment_status><wp:post_name>{}</wp:post_name><wp:status>{status}</wp:status>\
                 <wp:post_parent>0</wp:post_parent><wp:post_type>post</wp:post_type><wp:is_sticky>{}</wp:is_sticky>",
                a.id,
                local(when),
                if a.published_at.is_some() { gmt(when) } else { "0000-00-00 00:00:00".into() },
                if a.comment_status == "open" { "open" } else { "closed" },
                cdata(&a.slug),
                a.sticky
            )?;
            for t in terms.iter().filter(|t| t.kind == "section" || t.kind == "tag") {
                let domain = if t.kind == "section" { "category" } else { "post_tag" };
                writeln!(
                    out,
                    "<category domain=\"{domain}\" nicename=\"{}\">{}</category>",
                    xml_escape(&t.slug),
                    cdata(&t.name)
                )?;
            }
            for c in all_comments.iter().filter(|c| c.article_id == a.id) {
                let approved = match c.status.as_str() {
                    "approved" => "1",
                    "spam" => "spam",
                    "trash" => "trash",
                    _ => "0",
                };
                writeln!(
                    out,
                    "<wp:comment><wp:comment_id>{}</wp:comment_id><wp:comment_author>{}</wp:comment_author>\
                     <wp:comment_author_email>{}</wp:comment_author_email><wp:comment_author_url>{}</wp:comment_author_url>\
                     <wp:comment_author_IP>{}</wp:comment_author_IP><wp:comment_date>{}</wp:comment_date>\
                     <wp:comment_date_gmt>{}</wp:comment_date_gmt><wp:comment_content>{}</wp:comment_content>\
                     <wp:comment_approved>{approved}</wp:comment_approved><wp:comment_type>comment</wp:comment_type>\
                     <wp:comment_parent>{}</wp:comment_parent></wp:comment>",
                    c.id,
                    cdata(&c.author_name),
                    xml_escape(&c.author_email),
                    xml_escape(&c.author_url),
                    xml_escape(&c.client_addr),
                    local(c.created_at),
                    gmt(c.created_at),
                    cdata(&c.body_html),
                    c.parent_id.unwrap_or(0)
                )?;
            }
            writeln!(out, "</item>")?;
            n += 1;
        }
    }
    for (id, slug, title, body_html, updated_at) in fetch_all!(
        db,
        (i64, String, String, String, i64),
        "SELECT id, slug, title, body_html, updated_at FROM pages WHERE status = 'published' ORDER BY id"
    )? {
        writeln!(
            out,
            "<item>\n<title>{}</title>\n<link>{}/{slug}/</link>\n<content:encoded>{}</content:encoded>\
             <wp:post_id>{}</wp:post_id><wp:post_date>{}</wp:post_date><wp:post_date_gmt>{}</wp:post_date_gmt>\
             <wp:post_name>{}</wp:post_name><wp:status>publish</wp:status><wp:post_type>page</wp:post_type>\n</item>",
            xml_escape(&title),
            xml_escape(base),
            cdata(&body_html),
            // Pages and articles share WordPress's id space: keep them apart.
            1_000_000_000 + id,
            local(updated_at),
            gmt(updated_at),
            cdata(&slug)
        )?;
        n += 1;
    }
    for (id, url, title, article) in fetch_all!(
        db,
        (i64, String, String, Option<i64>),
        "SELECT id, url, title, article_id FROM attachments ORDER BY id"
    )? {
        writeln!(
            out,
            "<item>\n<title>{}</title>\n<wp:post_id>{}</wp:post_id><wp:post_parent>{}</wp:post_parent>\
             <wp:post_type>attachment</wp:post_type><wp:status>inherit</wp:status><wp:attachment_url>{}</wp:attachment_url>\n</item>",
            xml_escape(&title),
            2_000_000_000 + id,
            article.unwrap_or(0),
            xml_escape(&url)
        )?;
        n += 1;
    }
    writeln!(out, "</channel>\n</rss>")?;
    out.flush()?;
    Ok(n)
}
