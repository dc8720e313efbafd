//! Reader comments: what a commenter may send, and how their plain text becomes safe HTML.
//!
//! Comments are plain text. The rendering escapes everything, makes paragraphs of blank-line
//! separated blocks, turns `http(s)://` and `www.` addresses into `rel="nofollow ugc noopener"`
//! links, and removes what could disturb the page around it: control characters, bidirectional
//! overrides, and towers of combining marks ("Zalgo" text).

/// Longest comment text, in characters (WordPress allows 65,525 bytes; a news comment that
/// needs more is not a comment).
pub const MAX_TEXT_CHARS: usize = 6_000;
pub const MAX_NAME_CHARS: usize = 80;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_URL_CHARS: usize = 300;

/// Moderation state of a comment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum CommentState {
    Pending,
    Approved,
    Spam,
    Trash,
}

impl CommentState {
    pub const ALL: [CommentState; 4] = [Self::Pending, Self::Approved, Self::Spam, Self::Trash];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Approved => "approved",
            Self::Spam => "spam",
            Self::Trash => "trash",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// A comment as a reader (or a staff member replying) submitted it, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommentInput {
    pub name: String,
    pub email: String,
    pub url: String,
    pub text: String,
}

/// What is wrong with a submitted comment, in words for the commenter.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CommentProblem {
    #[error("Write a comment before posting.")]
    EmptyText,
    #[error("The comment is too long: at most {MAX_TEXT_CHARS} characters, please.")]
    TextTooLong,
    #[error("Give a name to show with your comment.")]
    NoName,
    #[error("The name is too long: at most {MAX_NAME_CHARS} characters.")]
    NameTooLong,
    #[error("Give an email address (it is never shown), such as you@example.com.")]
    BadEmail,
    #[error("The website must be an address starting with http:// or https://, or left empty.")]
    BadUrl,
}

impl CommentInput {
    /// Cleans and checks the fields as typed.
    pub fn new(name: &str, email: &str, url: &str, text: &str) -> Result<Self, CommentProblem> {
        let name = clean_line(name);
        let email = email.trim().to_owned();
        let mut url = clean_line(url);
        let text = clean_text(text);
        if text.trim().is_empty() {
            return Err(CommentProblem::EmptyText);
        }
        if text.chars().count() > MAX_TEXT_CHARS {
            return Err(CommentProblem::TextTooLong);
        }
        if name.is_empty() {
            return Err(CommentProblem::NoName);
        }
        if name.chars().count() > MAX_NAME_CHARS {
            return Err(CommentProblem::NameTooLong);
        }
        if !plausible_email(&email) {
            return Err(CommentProblem::BadEmail);
        }
        if !url.is_empty() {
            if !url.contains("://") && !url.contains(char::is_whitespace) && url.contains('.') {
                url = format!("https://{url}");
            }
            if !is_web_url(&url) || url.chars().count() > MAX_URL_CHARS {
                return Err(CommentProblem::BadUrl);
            }
        }
        Ok(Self { name, email: email.to_lowercase(), url, text })
    }
}

fn plausible_email(email: &str) -> bool {
    let Some((local, domain)) = email.rsplit_once('@') else { return false };
    email.len() <= MAX_EMAIL_CHARS
        && !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !email.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"'(),;:\\[]".contains(c))
}

/// An absolute `http(s)` address with a host and nothing that could end an attribute.
pub fn is_web_url(url: &str) -> bool {
    let rest = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host = r.split(['/', '?', '#']).next().unwrap_or("");
        !host.is_empty()
            && host.chars().all(|c| c.is_alphanumeric() || ".-:[]".contains(c))
            && !r.chars().any(|c| c.is_whitespace() || c.is_control() || "<>\"'`\\".contains(c))
    })
}

fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{061C}')
}

fn is_combining(c: char) -> bool {
    matches!(c, '\u{0300}'..='\u{036F}' | '\u{1AB0}'..='\u{1AFF}' | '\u{1DC0}'..='\u{1DFF}'
        | '\u{20D0}'..='\u{20FF}' | '\u{FE20}'..='\u{FE2F}')
}

/// Removes control characters (but newlines), bidirectional controls, invisible fillers, and
/// combining marks beyond two in a row; unifies line ends.
pub fn clean_text(raw: &str) -> String {
    let mut out = String::with_capacity(raw.len());
    let mut marks = 0;
    for c in raw.replace("\r\n", "\n").replace('\r', "\n").chars() {
        if is_combining(c) {
            marks += 1;
            if marks > 2 {
                continue;
            }
        } else {
            marks = 0;
        }
        let keep = match c {
            '\n' => true,
            '\t' => {
                out.push(' ');
                false
            }
            c if c.is_control() || is_bidi_control(c) => false,
            '\u{FEFF}' | '\u{200B}' | '\u{2028}' | '\u{2029}' => false,
            _ => true,
        };
        if keep {
            out.push(c);
        }
    }
    out.trim().to_owned()
}

/// One line: as [`clean_text`], with runs of white space made one space.
pub fn clean_line(raw: &str) -> String {
    clean_text(raw).split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Escapes text for HTML element content and quoted attribute values.
pub fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

/// The number of web addresses in a text (for the "too many links" rule and the spam filter).
pub fn count_links(text: &str) -> usize {
    find_links(text).len()
}

/// Byte ranges of the addresses in `text`: `http://`, `https://` or `www.` up to white space,
/// without trailing punctuation.
fn find_links(text: &str) -> Vec<(usize, usize)> {
    let lower = text.to_ascii_lowercase();
    let mut found = Vec::new();
    let mut at = 0;
    while at < lower.len() {
        let rest = &lower[at..];
        let next = ["https://", "http://", "www."].iter().filter_map(|p| rest.find(p)).min();
        let Some(offset) = next else { break };
        let start = at + offset;
        // Not in the middle of a word ("awww.", "xhttp://").
        let boundary = start == 0 || !lower[..start].chars().next_back().is_some_and(char::is_alphanumeric);
        let mut end = start
            + lower[start..]
                .find(|c: char| c.is_whitespace() || "<>\"'`".contains(c))
                .unwrap_or(lower.len() - start);
        while end > start && lower[..end].ends_with(['.', ',', ';', ':', '!', '?', ')', ']', '}']) {
            // Keep a closing parenthesis that has its opening one inside the address.
            if lower[..end].ends_with(')') && lower[start..end].contains('(') {
                break;
            }
            end -= 1;
        }
        let candidate = &text[start..end];
        let href = if candidate.to_ascii_lowercase().starts_with("www.") {
            format!("https://{candidate}")
        } else {
            candidate.to_owned()
        };
        if boundary && is_web_url(&href) && href.len() > "https://".len() + 3 {
            found.push((start, end));
        }
        at = end.max(start + 1);
        while !text.is_char_boundary(at) {
            at += 1;
        }
    }
    found
}

fn link_into(out: &mut String, address: &str) {
    let href = if address.to_ascii_lowercase().starts_with("www.") {
        format!("https://{address}")
    } else {
        address.to_owned()
    };
    out.push_str("<a href=\"");
    escape_into(out, &href);
    out.push_str("\" rel=\"nofollow ugc noopener\">");
    escape_into(out, address);
    out.push_str("</a>");
}

/// Renders cleaned comment text as HTML: escaped, paragraphs, line breaks, linked addresses.
pub fn render(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 32);
    for paragraph in text.split("\n\n").map(str::trim).filter(|p| !p.is_empty()) {
        out.push_str("<p>");
        let mut first = true;
        for line in paragraph.lines().map(str::trim).filter(|l| !l.is_empty()) {
            if !first {
                out.push_str("<br>\n");
            }
            first = false;
            let mut at = 0;
            for (start, end) in find_links(line) {
                escape_into(&mut out, &line[at..start]);
                link_into(&mut out, &line[start..end]);
                at = end;
            }
            escape_into(&mut out, &line[at..]);
        }
        out.push_str("</p>\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_becomes_escaped_paragraphs_with_links() {
        let html =
            render("Hello <b>world</b> & \"friends\"\nsecond line\n\nSee https://example.com/a?b=1&c=2.");
        assert_eq!(
            html,
            "<p>Hello &lt;b&gt;world&lt;/b&gt; &amp; &quot;friends&quot;<br>\nsecond line</p>\n\
             <p>See <a href=\"https://example.com/a?b=1&amp;c=2\" rel=\"nofollow ugc noopener\">\
             https://example.com/a?b=1&amp;c=2</a>.</p>\n"
        );
        assert!(render("visit www.example.org today").contains("href=\"https://www.example.org\""));
        assert!(!render("javascript:alert(1)").contains("<a"));
        assert!(!render("http://\"onmouseover=alert(1)").contains("<a"));
        assert_eq!(count_links("a https://x.org b http://y.com/z c www.w.net"), 3);
    }

    #[test]
    fn hostile_characters_are_removed() {
        let cleaned = clean_text("a\u{202E}b\u{0000}c\u{200B}d e\u{0301}\u{0301}\u{0301}\u{0301}f\r\ng");
        assert_eq!(cleaned, "abcd e\u{0301}\u{0301}f\ng");
        assert_eq!(clean_line("  Ann \n  Reader\t"), "Ann Reader");
    }

    #[test]
    fn fields_are_checked() {
        let ok = CommentInput::new("Ann", "Ann@Example.com", "example.com/me", "Hi").unwrap();
        assert_eq!(ok.email, "ann@example.com");
        assert_eq!(ok.url, "https://example.com/me");
        assert_eq!(CommentInput::new("Ann", "a@b.c", "", "  \n "), Err(CommentProblem::EmptyText));
        assert_eq!(CommentInput::new("", "a@b.c", "", "x"), Err(CommentProblem::NoName));
        assert_eq!(CommentInput::new("A", "nope", "", "x"), Err(CommentProblem::BadEmail));
        assert_eq!(CommentInput::new("A", "a@b.c", "javascript:alert(1)", "x"), Err(CommentProblem::BadUrl));
        assert_eq!(
            CommentInput::new("A", "a@b.c", "", &"x".repeat(MAX_TEXT_CHARS + 1)),
            Err(CommentProblem::TextTooLong)
        );
    }
}
