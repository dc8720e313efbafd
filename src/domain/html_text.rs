//! Plain text from sanitized HTML, in one linear pass.
//!
//! Every body Gazette stores is HTML in the end: rendered Markdown, a WordPress post (HTML
//! through and through), an imported dump. Search, related posts, teasers and word counts read
//! the text, so it is taken from that final HTML, whatever the source was written in. The input
//! is the sanitizer's output (well-formed, serialized by html5ever), but nothing here relies on
//! it: a stray `<` or an unknown entity is kept as text.

/// What a body's text is made of: all of it, and the lead (the first paragraph that is not in a
/// figure, pull-quote, quotation, table or code block), which makes the automatic excerpt.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct BodyText {
    pub text: String,
    pub lead: String,
}

/// Elements that end a paragraph of text (blank line after them).
fn is_block(name: &str) -> bool {
    matches!(
        name,
        "p" | "div"
            | "h1"
            | "h2"
            | "h3"
            | "h4"
            | "h5"
            | "h6"
            | "li"
            | "dt"
            | "dd"
            | "blockquote"
            | "pre"
            | "figure"
            | "figcaption"
            | "aside"
            | "tr"
            | "table"
            | "ul"
            | "ol"
            | "dl"
            | "hr"
            | "section"
            | "article"
            | "header"
            | "footer"
            | "address"
            | "details"
            | "summary"
    )
}

/// Elements whose text is no lead paragraph.
fn is_aside(name: &str) -> bool {
    matches!(name, "figure" | "aside" | "blockquote" | "table" | "pre" | "ul" | "ol" | "dl")
}

/// The text of `html`: words separated by single spaces, paragraphs by a blank line.
pub fn body_text(html: &str) -> BodyText {
    let mut out = BodyText { text: String::with_capacity(html.len() / 2), lead: String::new() };
    // Text of the paragraph being read, and whether it is inside a figure or the like.
    let mut para = String::new();
    let mut aside_depth: usize = 0;
    let mut para_is_lead = true;
    let bytes = html.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'<' => {
                let Some((len, name, closing)) = tag_at(&html[i..]) else {
                    push_text(&mut para, "<");
                    i += 1;
                    continue;
                };
                i += len;
                let name = name.to_ascii_lowercase();
                if name == "br" {
                    push_text(&mut para, " ");
                    continue;
                }
                if name == "td" || name == "th" {
                    push_text(&mut para, " ");
                    continue;
                }
                if is_block(&name) {
                    end_paragraph(&mut out, &mut para, para_is_lead && aside_depth == 0);
                    if is_aside(&name) {
                        aside_depth = if closing { aside_depth.saturating_sub(1) } else { aside_depth + 1 };
                    }
                    para_is_lead = aside_depth == 0;
                }
            }
            b'&' => {
                let (decoded, len) = entity_at(&html[i..]).unwrap_or(('&', 1));
                let mut buf = [0u8; 4];
                push_text(&mut para, decoded.encode_utf8(&mut buf));
                i += len;
            }
            _ => {
                // Up to the next markup character, in one piece.
                let end = html[i..].find(['<', '&']).map_or(html.len(), |n| i + n);
                push_text(&mut para, &html[i..end]);
                i = end;
            }
        }
    }
    end_paragraph(&mut out, &mut para, para_is_lead && aside_depth == 0);
    out
}

/// Appends text, folding every run of white space into one space.
fn push_text(para: &mut String, text: &str) {
    for c in text.chars() {
        if c.is_whitespace() {
            if !para.is_empty() && !para.ends_with(' ') {
                para.push(' ');
            }
        } else {
            para.push(c);
        }
    }
}

fn end_paragraph(out: &mut BodyText, para: &mut String, lead: bool) {
    let p = para.trim_end();
    if !p.is_empty() {
        if !out.text.is_empty() {
            out.text.push_str("\n\n");
        }
        out.text.push_str(p);
        if lead && out.lead.is_empty() {
            out.lead = p.to_owned();
        }
    }
    para.clear();
}

/// A tag at the start of `s` (`<name ...>`, `</name>`, a comment or a doctype): its length in
/// bytes, its name (empty for comments) and whether it closes. Quoted attribute values may hold
/// `>`. None when `s` does not start a tag.
fn tag_at(s: &str) -> Option<(usize, &str, bool)> {
    if let Some(rest) = s.strip_prefix("<!--") {
        let end = rest.find("-->").map_or(s.len(), |n| 4 + n + 3);
        return Some((end, "", false));
    }
    let b = s.as_bytes();
    let (closing, start) = if b.get(1) == Some(&b'/') { (true, 2) } else { (false, 1) };
    if !b.get(start).is_some_and(|c| c.is_ascii_alphabetic() || *c == b'!') {
        return None;
    }
    let name_end =
        s[start..].find(|c: char| !c.is_ascii_alphanumeric() && c != '!').map_or(s.len(), |n| start + n);
    let name = &s[start..name_end];
    let mut quote = None;
    for (n, c) in s[name_end..].char_indices() {
        match (quote, c) {
            (None, '>') => return Some((name_end + n + 1, name, closing)),
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            _ => {}
        }
    }
    Some((s.len(), name, closing))
}

/// The character reference at the start of `s` (`&amp;`, `&lt;`, `&gt;`, `&quot;`, `&apos;`,
/// `&nbsp;` or numeric) and its length; None when it is none of those. The sanitizer writes no
/// other named references.
pub fn entity_at(s: &str) -> Option<(char, usize)> {
    let end = s.char_indices().take(12).find(|(_, c)| *c == ';').map(|(i, _)| i)?;
    let name = s.get(1..end)?;
    let c = match name {
        "amp" => '&',
        "lt" => '<',
        "gt" => '>',
        "quot" => '"',
        "apos" => '\'',
        "nbsp" => ' ',
        _ => name
            .strip_prefix("#x")
            .or_else(|| name.strip_prefix("#X"))
            .and_then(|h| u32::from_str_radix(h, 16).ok())
            .or_else(|| name.strip_prefix('#').and_then(|d| d.parse().ok()))
            .and_then(char::from_u32)?,
    };
    Some((c, end + 1))
}

/// Text with its character references decoded ([`entity_at`]); anything else left as it is.
pub fn decode_entities(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('&') {
        out.push_str(&rest[..at]);
        rest = &rest[at..];
        match entity_at(rest) {
            Some((c, len)) => {
                out.push(c);
                rest = &rest[len..];
            }
            None => {
                out.push('&');
                rest = &rest[1..];
            }
        }
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paragraphs_words_and_entities() {
        let t = body_text(
            "<h2>Tariffs &amp; trade</h2>\n<p>The port&#8217;s   new\nrules <a href=\"/x\" title=\"a>b\">apply</a>.<br>Today.</p><ul><li>One</li><li>Two</li></ul>",
        );
        assert_eq!(t.text, "Tariffs & trade\n\nThe port’s new rules apply. Today.\n\nOne\n\nTwo");
        assert_eq!(t.lead, "Tariffs & trade");
    }

    #[test]
    fn the_lead_skips_figures_and_quotes() {
        let t = body_text(
            "<figure><img src=\"/m/1\" alt=\"x\"><figcaption>Boats in the harbour.</figcaption></figure>\
             <blockquote><p>Quoted.</p></blockquote><p>First real paragraph.</p><p>Second.</p>",
        );
        assert_eq!(t.lead, "First real paragraph.");
        assert!(
            t.text.starts_with("Boats in the harbour.\n\nQuoted.\n\nFirst real paragraph."),
            "{}",
            t.text
        );
    }

    #[test]
    fn stray_markup_is_text_and_nothing_panics() {
        assert_eq!(body_text("a < b &unknown; c &").text, "a < b &unknown; c &");
        assert_eq!(body_text("<p>x<!-- hidden -->y</p>").text, "xy");
        for s in ["<", "</", "<a", "<a href=\"", "&#", "&#x110000;", "&#99999999999;", "<!--"] {
            let _ = body_text(s);
        }
    }

    #[test]
    fn time_is_linear_in_nesting() {
        // Deep nesting and long runs cost one pass: nothing is kept per open element.
        let deep = "<div>".repeat(100_000) + "word" + &"</div>".repeat(100_000);
        assert_eq!(body_text(&deep).text, "word");
    }
}
