//! Markdown to safe HTML and plain text, done once when content is saved.
//!
//! The pipeline: a small pre-pass turns `> [!PULLQUOTE]` blocks into `<aside class="pullquote">`
//! and `> [!FIGURE]` blocks into `<figure>` with a caption and credit, pulldown-cmark renders (no footnotes: they can go superlinear), then ammonia sanitizes with an
//! allow-list: no script, no event handlers, no `javascript:` URLs, no svg or math.

use std::sync::LazyLock;

use pulldown_cmark::{Options, Parser, html};

/// Articles larger than this are refused before parsing (about 400 pages of text).
pub const MAX_SOURCE_BYTES: usize = 1 << 20;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rendered {
    pub html: String,
    /// The text of the final HTML (see [`super::html_text`]): what search, related posts and
    /// word counts read, whether the body was written in Markdown or came in as HTML.
    pub text: String,
    /// The first paragraph outside figures, pull-quotes and quotations: the automatic excerpt.
    pub lead: String,
    pub word_count: i64,
}

/// Length of the automatic excerpt, in characters.
pub const EXCERPT_CHARS: usize = 220;

impl Rendered {
    /// A body's text, lead and word count, taken from its final (sanitized) HTML: the one rule
    /// for rendered Markdown, imported dumps and stores mended by a data migration.
    pub fn from_html(html: String) -> Self {
        let super::html_text::BodyText { text, lead } = super::html_text::body_text(&html);
        let word_count = text.split_whitespace().count() as i64;
        Self { html, text, lead, word_count }
    }

    /// The excerpt teasers show: the editor's when given, else the lead paragraph (or the
    /// first), cut at a word.
    pub fn excerpt_or(&self, given: &str) -> String {
        if !given.trim().is_empty() {
            return given.trim().to_owned();
        }
        excerpt(if self.lead.is_empty() { &self.text } else { &self.lead }, EXCERPT_CHARS)
    }
}

/// Quotations and lists inside each other, on one line, beyond this are refused: the Markdown
/// parser's work grows with the square of the depth (16,000 `>` cost 0.65 s, 100,000 about
/// 40 s), and no article needs more than a few.
pub const MAX_BLOCK_NESTING: usize = 32;
/// HTML elements inside each other beyond this are refused: the HTML parser checks the open
/// elements for each new one, so its work grows with the square of the depth.
pub const MAX_HTML_NESTING: usize = 200;
/// Tags and character references beyond this are refused: the sanitizer spends about a
/// microsecond on each (1 MB of headings is 250,000 of them, a third of a second). The longest
/// post of the shared WordPress exports has 580.
pub const MAX_HTML_MARKUP: usize = 30_000;

/// Why a body cannot be rendered; the message says what to change.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RenderError {
    #[error("the text is too long ({0} bytes; the limit is {MAX_SOURCE_BYTES})")]
    TooLong(usize),
    #[error(
        "line {line} puts {depth} quotations or lists inside each other (the limit is {MAX_BLOCK_NESTING}); \
         remove some of the `>`, `-` or `1.` marks at its start"
    )]
    TooDeep { line: usize, depth: usize },
    #[error(
        "the HTML puts {depth} elements inside each other (the limit is {MAX_HTML_NESTING}); \
         close the elements it opens"
    )]
    HtmlTooDeep { depth: usize },
    #[error(
        "the text makes {count} tags and character references (paragraphs, headings, table cells, \
         `&amp;` ...; the limit is {MAX_HTML_MARKUP}); split it into several articles"
    )]
    TooMuchMarkup { count: usize },
}

static SANITIZER: LazyLock<ammonia::Builder<'static>> = LazyLock::new(|| {
    let mut b = ammonia::Builder::default();
    b.add_tags(["aside", "figure", "figcaption"])
        .add_allowed_classes("aside", ["pullquote"])
        .add_allowed_classes("span", ["credit"])
        .add_tag_attributes("img", ["loading"])
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .link_rel(Some("noopener noreferrer"));
    b
});

fn options() -> Options {
    Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_SMART_PUNCTUATION
}

/// Renders Markdown to sanitized HTML, plain text and a word count.
///
/// Every step is linear in the size of the source, or refused: the source's size, the depth of
/// its quotations and lists, and the depth of the HTML it makes are checked before the step
/// whose work would grow faster ([`RenderError`]).
pub fn render(source: &str) -> Result<Rendered, RenderError> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(RenderError::TooLong(source.len()));
    }
    block_nesting(source)?;
    let source = expand_blocks(source);
    let mut unsafe_html = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(&source, options()));
    let shape = html_shape(&unsafe_html);
    if shape.depth > MAX_HTML_NESTING {
        return Err(RenderError::HtmlTooDeep { depth: shape.depth });
    }
    if shape.markup > MAX_HTML_MARKUP {
        return Err(RenderError::TooMuchMarkup { count: shape.markup });
    }
    Ok(Rendered::from_html(sanitize_html(&unsafe_html)))
}

/// Refuses a line that opens more than [`MAX_BLOCK_NESTING`] quotations and list items: `>`,
/// and `-`, `*`, `+` or a number with `.` or `)` followed by a space, with spaces between.
fn block_nesting(source: &str) -> Result<(), RenderError> {
    for (n, line) in source.lines().enumerate() {
        let (mut depth, bytes, mut i) = (0, line.as_bytes(), 0);
        while i < bytes.len() {
            match bytes[i] {
                b' ' | b'\t' => i += 1,
                b'>' => {
                    depth += 1;
                    i += 1;
                }
                b'-' | b'*' | b'+' if matches!(bytes.get(i + 1), None | Some(b' ' | b'\t')) => {
                    depth += 1;
                    i += 1;
                }
                b'0'..=b'9' => {
                    let digits = bytes[i..].iter().take_while(|b| b.is_ascii_digit()).count();
                    let after = i + digits;
                    if digits <= 9
                        && matches!(bytes.get(after), Some(b'.' | b')'))
                        && matches!(bytes.get(after + 1), None | Some(b' ' | b'\t'))
                    {
                        depth += 1;
                        i = after + 1;
                    } else {
                        break;
                    }
                }
                _ => break,
            }
            if depth > MAX_BLOCK_NESTING {
                return Err(RenderError::TooDeep { line: n + 1, depth: nesting_of(line) });
            }
        }
    }
    Ok(())
}

/// How many `>` and list marks a refused line has (for the message), counted to its first word.
fn nesting_of(line: &str) -> usize {
    line.split(|c: char| c.is_alphabetic())
        .next()
        .unwrap_or("")
        .matches(['>', '-', '*', '+', '.', ')'])
        .count()
}

/// What the sanitizer's work depends on besides length.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    /// The deepest nesting of elements whose end tag may not be left out.
    pub depth: usize,
    /// Tags and character references.
    pub markup: usize,
}

/// The [`Shape`] of HTML, in one pass: elements whose end tag may be left out (`p`, `li`,
/// table cells ...) and void ones (`br`, `img` ...) do not count for depth, comments and quoted
/// attribute values are skipped.
pub fn html_shape(html: &str) -> Shape {
    let (mut depth, mut deepest, bytes, mut i) = (0usize, 0usize, html.as_bytes(), 0);
    let mut markup = html.bytes().filter(|&b| b == b'&').count();
    while let Some(at) = html[i..].find('<') {
        i += at + 1;
        markup += 1;
        if html[i..].starts_with("!--") {
            i = html[i..].find("-->").map_or(bytes.len(), |n| i + n + 3);
            continue;
        }
        let closing = bytes.get(i) == Some(&b'/');
        let start = i + usize::from(closing);
        let len = bytes[start..].iter().take_while(|b| b.is_ascii_alphanumeric()).count();
        if len == 0 || !bytes[start].is_ascii_alphabetic() {
            continue;
        }
        let name = html[start..start + len].to_ascii_lowercase();
        // To the end of the tag, past quoted values.
        let mut j = start + len;
        let mut quote = 0u8;
        while j < bytes.len() {
            match (quote, bytes[j]) {
                (0, b'>') => break,
                (0, q @ (b'"' | b'\'')) => quote = q,
                (q, c) if q == c => quote = 0,
                _ => {}
            }
            j += 1;
        }
        let self_closing = j > 0 && bytes.get(j - 1) == Some(&b'/');
        i = j.min(bytes.len());
        if self_closing || !counts_for_nesting(&name) {
            continue;
        }
        if closing {
            depth = depth.saturating_sub(1);
        } else {
            depth += 1;
            deepest = deepest.max(depth);
        }
    }
    Shape { depth: deepest, markup }
}

fn counts_for_nesting(name: &str) -> bool {
    !matches!(
        name,
        "p" | "li"
            | "dt"
            | "dd"
            | "tr"
            | "td"
            | "th"
            | "thead"
            | "tbody"
            | "tfoot"
            | "colgroup"
            | "caption"
            | "option"
            | "optgroup"
            | "rb"
            | "rt"
            | "rp"
            | "rtc"
            | "area"
            | "base"
            | "br"
            | "col"
            | "embed"
            | "hr"
            | "img"
            | "input"
            | "link"
            | "meta"
            | "source"
            | "track"
            | "wbr"
            | "html"
            | "head"
            | "body"
    )
}

/// Sanitizes HTML from any source (rendered Markdown, imported posts) with the article rules.
pub fn sanitize_html(html: &str) -> String {
    SANITIZER.clean(html).to_string()
}

/// The house blocks, written like quotations that start with a marker line:
///
/// - `> [!PULLQUOTE]` followed by `> text` lines becomes an `<aside class="pullquote">` whose
///   inside is still Markdown.
/// - `> [!FIGURE]` followed by an image line, then caption lines and an optional `Credit:`
///   line, becomes a `<figure>` with a `<figcaption>` (what the editor's "Insert a picture"
///   writes). A library picture in it (`/media/42`) is drawn in every size when the page is.
fn expand_blocks(source: &str) -> String {
    let mut out = String::with_capacity(source.len() + 64);
    let mut lines = source.lines().peekable();
    while let Some(line) = lines.next() {
        if line.trim().eq_ignore_ascii_case("> [!FIGURE]") {
            let mut block = Vec::new();
            while let Some(next) = lines.peek().and_then(|l| l.strip_prefix('>')) {
                block.push(next.trim());
                lines.next();
            }
            match figure(&block) {
                Some(html) => {
                    out.push('\n');
                    out.push_str(&html);
                    out.push_str("\n\n");
                }
                // Not a figure after all: the lines stay a quotation.
                None => {
                    for l in std::iter::once("[!FIGURE]").chain(block) {
                        out.push_str("> ");
                        out.push_str(l);
                        out.push('\n');
                    }
                }
            }
        } else if line.trim().eq_ignore_ascii_case("> [!PULLQUOTE]") {
            out.push_str("<aside class=\"pullquote\">\n\n");
            while let Some(next) = lines.peek().and_then(|l| l.strip_prefix('>')) {
                out.push_str(next.strip_prefix(' ').unwrap_or(next));
                out.push('\n');
                lines.next();
            }
            out.push_str("\n</aside>\n");
        } else {
            out.push_str(line);
            out.push('\n');
        }
    }
    out
}

/// A figure block's HTML on one line (so that it stays one HTML block for the Markdown
/// parser), or None when its first line is not an image.
fn figure(lines: &[&str]) -> Option<String> {
    let (image, rest) = lines.split_first()?;
    if !image.starts_with("![") {
        return None;
    }
    let img = inline_html(image);
    // One picture and nothing else on the line.
    if !img.starts_with("<img ") || !img.ends_with('>') || img.matches('<').count() != 1 {
        return None;
    }
    let mut caption = Vec::new();
    let mut credit = "";
    for line in rest.iter().filter(|l| !l.is_empty()) {
        match line.split_once(':') {
            Some((key, value)) if key.trim().eq_ignore_ascii_case("credit") => credit = value.trim(),
            _ => caption.push(*line),
        }
    }
    let mut html = format!("<figure>{img}");
    if !caption.is_empty() || !credit.is_empty() {
        html.push_str("<figcaption>");
        html.push_str(&inline_html(&caption.join(" ")));
        if !credit.is_empty() {
            if !caption.is_empty() {
                html.push(' ');
            }
            html.push_str("<span class=\"credit\">");
            html.push_str(&inline_html(credit));
            html.push_str("</span>");
        }
        html.push_str("</figcaption>");
    }
    html.push_str("</figure>");
    Some(html)
}

/// One line of Markdown as inline HTML, without its paragraph, on one line.
fn inline_html(markdown: &str) -> String {
    let mut html = String::new();
    html::push_html(&mut html, Parser::new_ext(markdown, options()));
    let html = html.trim();
    let html = html.strip_prefix("<p>").and_then(|h| h.strip_suffix("</p>")).unwrap_or(html);
    html.replace('\n', " ")
}

/// A short summary of plain text: the first paragraph, cut at a word within `max` chars.
pub fn excerpt(text: &str, max: usize) -> String {
    let first = text.split("\n\n").map(str::trim).find(|p| !p.is_empty()).unwrap_or("");
    truncate_words(first, max)
}

/// Cuts at a word boundary within `max` characters, adding an ellipsis when cut.
pub fn truncate_words(s: &str, max: usize) -> String {
    if s.chars().count() <= max {
        return s.to_owned();
    }
    let cut: String = s.chars().take(max).collect();
    let at = cut.rfind(char::is_whitespace).unwrap_or(cut.len());
    let mut out = cut[..at].trim_end_matches([',', ';', ':', '-', ' ']).to_owned();
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_renders_with_quotes_and_pullquotes() {
        let r = render("Para one.\n\n> A block quote.\n\n> [!PULLQUOTE]\n> \"Words that matter.\"\n\nEnd.")
            .unwrap();
        assert!(r.html.contains("<blockquote>"));
        assert!(r.html.contains("<aside class=\"pullquote\">"), "{}", r.html);
        assert!(r.html.contains("“Words that matter.”"));
        assert_eq!(r.word_count, 9);
        assert!(r.text.starts_with("Para one.\n\n"));
    }

    #[test]
    fn hostile_markup_is_removed() {
        let src = r#"<script>alert(1)</script>
<img src=x onerror="alert(1)"> [x](javascript:alert(1)) <a href="JaVaScRiPt:alert(1)">y</a>
<svg><script>alert(1)</script></svg><math><mi>x</mi></math><iframe src="https://e.com"></iframe>
<aside class="evil pullquote" style="position:fixed">z</aside><p onclick="alert(1)">p</p>"#;
        let html = render(src).unwrap().html;
        for bad in [
            "<script",
            "onerror",
            "javascript:",
            "JaVaScRiPt",
            "<svg",
            "<math",
            "<iframe",
            "style=",
            "onclick",
            "evil",
        ] {
            assert!(!html.contains(bad), "{bad} survived in {html}");
        }
    }

    #[test]
    fn figures_have_captions_and_credits() {
        let src = "Before.\n\n> [!FIGURE]\n> ![Boats at the *north* quay](/media/42)\n> The fleet stayed in, \"for once\".\n> Credit: Ana Ruiz / The Courier\n\nAfter.";
        let r = render(src).unwrap();
        assert!(
            r.html.contains(
                "<figure><img src=\"/media/42\" alt=\"Boats at the north quay\"><figcaption>The fleet stayed in, “for once”. <span class=\"credit\">Ana Ruiz / The Courier</span></figcaption></figure>"
            ),
            "{}",
            r.html
        );
        assert!(r.html.contains("<p>After.</p>"));
        // Without a caption; and a block whose first line is no image stays a quotation.
        let bare = render("> [!FIGURE]\n> ![Alt](/media/7)").unwrap().html;
        assert_eq!(bare.trim(), "<figure><img src=\"/media/7\" alt=\"Alt\"></figure>");
        let not = render("> [!FIGURE]\n> Just words.").unwrap().html;
        assert!(not.contains("<blockquote>") && not.contains("Just words."), "{not}");
        // Hostile captions are sanitized like any text.
        let evil = render("> [!FIGURE]\n> ![x](/media/1)\n> <img src=x onerror=alert(1)>\n> Credit: <script>alert(1)</script>").unwrap().html;
        assert!(!evil.contains("onerror") && !evil.contains("<script"), "{evil}");
    }

    #[test]
    fn excerpts_cut_at_words() {
        assert_eq!(excerpt("Short one.\n\nSecond.", 50), "Short one.");
        assert_eq!(truncate_words("one two three four", 12), "one two…");
    }

    #[test]
    fn oversized_source_is_refused() {
        assert!(render(&"a".repeat(MAX_SOURCE_BYTES + 1)).is_err());
    }

    #[test]
    fn deep_nesting_is_refused_with_its_line() {
        let ok = format!("Intro.\n\n{}deep enough", "> ".repeat(MAX_BLOCK_NESTING));
        assert!(render(&ok).unwrap().html.contains("deep enough"));
        let deep = format!("Intro.\n\n{}x", ">".repeat(16_000));
        match render(&deep) {
            Err(RenderError::TooDeep { line: 3, depth }) => assert_eq!(depth, 16_000),
            other => panic!("{other:?}"),
        }
        assert!(matches!(render(&"- ".repeat(50)), Err(RenderError::TooDeep { line: 1, .. })));
        assert!(matches!(render(&"> 1. - ".repeat(20)), Err(RenderError::TooDeep { .. })));
        let html = "<div>".repeat(MAX_HTML_NESTING + 1);
        assert_eq!(render(&html), Err(RenderError::HtmlTooDeep { depth: MAX_HTML_NESTING + 1 }));
        // Unclosed paragraphs and list items close themselves: not nesting.
        assert!(render(&"<p>para ".repeat(5_000)).is_ok());
        assert!(render(&"<ul><li>x</ul>".repeat(5_000)).is_ok());
        // Markup beyond what the sanitizer does in good time, with a count.
        assert_eq!(render(&"# h\n".repeat(20_000)), Err(RenderError::TooMuchMarkup { count: 40_000 }));
        assert!(matches!(render(&"&amp;".repeat(40_000)), Err(RenderError::TooMuchMarkup { .. })));
        // Numbers and dashes inside a sentence are no lists.
        assert!(render(&format!("{}x", "10 - 20 - ".repeat(100))).is_ok());
    }
}
