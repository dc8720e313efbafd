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
    /// The excerpt a teaser shows when the editor wrote none.
    pub fn auto_excerpt(&self) -> String {
        auto_excerpt(&self.text, &self.lead)
    }
}

/// The automatic excerpt of a body: its lead paragraph (or its first one), cut at a word.
pub fn auto_excerpt(text: &str, lead: &str) -> String {
    excerpt(if lead.is_empty() { text } else { lead }, EXCERPT_CHARS)
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("the text is too long ({0} bytes; the limit is {MAX_SOURCE_BYTES})")]
pub struct TooLong(pub usize);

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
pub fn render(source: &str) -> Result<Rendered, TooLong> {
    if source.len() > MAX_SOURCE_BYTES {
        return Err(TooLong(source.len()));
    }
    let source = expand_blocks(source);
    let mut unsafe_html = String::with_capacity(source.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(&source, options()));
    let html = sanitize_html(&unsafe_html);
    let super::html_text::BodyText { text, lead } = super::html_text::body_text(&html);
    let word_count = text.split_whitespace().count() as i64;
    Ok(Rendered { html, text, lead, word_count })
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
}
