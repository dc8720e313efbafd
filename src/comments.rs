//! Comments, the domain side: the site's discussion policy, the signed form token, what happens
//! to a submission (checked, judged, stored with its event in one transaction) and the
//! moderators' actions.
//!
//! A submission passes, in order: the article (published, comments open), the form token
//! (signed by this site, for this article, not too old, used once), the fields, the reply
//! target, the rate limits, then the judgement: the honeypot, the reject and hold lists, the
//! link count, the spam filter and the moderation mode decide between approved, pending and
//! spam. Only an approved comment changes what readers see, so only then is an event recorded.

use std::collections::HashMap;

use crate::domain::comment::{self, CommentInput, CommentProblem, CommentState};
use crate::spam::{self, Sample, SpamFilter};
use crate::storage::comments::{self as store, CommentRow, NewComment};
use crate::storage::{Db, now};

/// Who is approved without a moderator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Moderation {
    /// Every comment waits for a moderator.
    HoldAll,
    /// Commenters with an approved comment (by email) are approved; others wait (WordPress's
    /// default).
    ApproveKnown,
    /// Comments that pass every check are approved.
    ApproveAll,
}

impl Moderation {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::HoldAll => "hold-all",
            Self::ApproveKnown => "approve-known",
            Self::ApproveAll => "approve-all",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::HoldAll, Self::ApproveKnown, Self::ApproveAll].into_iter().find(|m| m.as_str() == s)
    }
}

/// The discussion settings (admin: Comments → Settings), read from the site settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Policy {
    pub enabled: bool,
    /// Whether the spam model shipped with Gazette (trained on English comments of other
    /// sites) has a say; off, only what this site's moderators taught counts.
    pub shipped_model: bool,
    /// Whether the filter's spam mark files comments as spam from the start, rather than once
    /// this site's moderators have confirmed it (see [`crate::spam::Mark`]).
    pub spam_mark_from_start: bool,
    pub moderation: Moderation,
    /// Comments with more links than this are held.
    pub max_links: usize,
    /// Lines matched (case-insensitively) in the name, email, website, text and address.
    pub hold_words: Vec<String>,
    pub reject_words: Vec<String>,
    /// Comments close this many days after publication; 0 keeps them open.
    pub close_after_days: i64,
    /// Deepest reply level shown (1 = no replies).
    pub max_depth: i64,
    /// Top-level threads per page.
    pub threads_per_page: usize,
    /// Forms sent sooner than this after the page was served are held.
    pub min_seconds: i64,
    /// Forms older than this are refused (the reader reloads; the text is kept).
    pub max_form_age: i64,
    pub per_address_per_hour: i64,
    pub per_email_per_hour: i64,
    /// Spam and trash are deleted this many days after they were put there.
    pub keep_days: i64,
    /// Spam filter: at or above `hold_above` a comment is held, at or above `spam_above` it is
    /// filed as spam.
    pub hold_above: f64,
    pub spam_above: f64,
}

impl Default for Policy {
    fn default() -> Self {
        Self::from_map(&HashMap::new())
    }
}

/// Settings keys and the form fields that edit them.
pub const SETTINGS: &[(&str, &str)] = &[
    ("comments.enabled", "enabled"),
    ("comments.shipped_model", "shipped_model"),
    ("comments.spam_mark_from_start", "spam_mark_from_start"),
    ("comments.moderation", "moderation"),
    ("comments.max_links", "max_links"),
    ("comments.hold_words", "hold_words"),
    ("comments.reject_words", "reject_words"),
    ("comments.close_after_days", "close_after_days"),
    ("comments.max_depth", "max_depth"),
    ("comments.threads_per_page", "threads_per_page"),
    ("comments.min_seconds", "min_seconds"),
    ("comments.per_address_per_hour", "per_address_per_hour"),
    ("comments.per_email_per_hour", "per_email_per_hour"),
    ("comments.keep_days", "keep_days"),
];

impl Policy {
    pub fn from_map(map: &HashMap<String, String>) -> Self {
        let num = |key: &str, default: i64, range: std::ops::RangeInclusive<i64>| {
            map.get(key)
                .and_then(|v| v.trim().parse::<i64>().ok())
                .filter(|n| range.contains(n))
                .unwrap_or(default)
        };
        let lines = |key: &str| {
            map.get(key)
                .map(|v| {
                    v.lines().map(|l| l.trim().to_lowercase()).filter(|l| !l.is_empty()).collect::<Vec<_>>()
                })
                .unwrap_or_default()
        };
        Self {
            enabled: map.get("comments.enabled").is_none_or(|v| v != "false"),
            shipped_model: map.get("comments.shipped_model").is_none_or(|v| v != "false"),
            spam_mark_from_start: map.get("comments.spam_mark_from_start").is_some_and(|v| v == "true"),
            moderation: map
                .get("comments.moderation")
                .and_then(|m| Moderation::parse(m))
                .unwrap_or(Moderation::ApproveKnown),
            max_links: num("comments.max_links", 2, 0..=100) as usize,
            hold_words: lines("comments.hold_words"),
            reject_words: lines("comments.reject_words"),
            close_after_days: num("comments.close_after_days", 0, 0..=36_500),
            max_depth: num("comments.max_depth", 3, 1..=10),
            threads_per_page: num("comments.threads_per_page", 50, 1..=500) as usize,
            min_seconds: num("comments.min_seconds", 3, 0..=600),
            max_form_age: 2 * 86_400,
            per_address_per_hour: num("comments.per_address_per_hour", 30, 1..=1_000_000),
            per_email_per_hour: num("comments.per_email_per_hour", 10, 1..=1_000_000),
            keep_days: num("comments.keep_days", 30, 1..=3650),
            hold_above: crate::spam::HOLD_ABOVE,
            spam_above: crate::spam::SPAM_ABOVE,
        }
    }

    /// The form values of these settings.
    pub fn to_form(&self) -> HashMap<&'static str, String> {
        HashMap::from([
            ("enabled", self.enabled.to_string()),
            ("shipped_model", self.shipped_model.to_string()),
            ("spam_mark_from_start", self.spam_mark_from_start.to_string()),
            ("moderation", self.moderation.as_str().to_owned()),
            ("max_links", self.max_links.to_string()),
            ("hold_words", self.hold_words.join("\n")),
            ("reject_words", self.reject_words.join("\n")),
            ("close_after_days", self.close_after_days.to_string()),
            ("max_depth", self.max_depth.to_string()),
            ("threads_per_page", self.threads_per_page.to_string()),
            ("min_seconds", self.min_seconds.to_string()),
            ("per_address_per_hour", self.per_address_per_hour.to_string()),
            ("per_email_per_hour", self.per_email_per_hour.to_string()),
            ("keep_days", self.keep_days.to_string()),
        ])
    }

    /// Where a reply to a comment goes: `(parent, thread, depth)`. Beyond the deepest level a
    /// reply joins its parent's level.
    pub fn reply_position(
        &self,
        id: i64,
        parent_id: Option<i64>,
        thread_id: Option<i64>,
        depth: i64,
    ) -> (Option<i64>, Option<i64>, i64) {
        let thread = thread_id.or(Some(id));
        if depth + 1 >= self.max_depth {
            (parent_id.or(Some(id)), thread, depth.min(self.max_depth - 1))
        } else {
            (Some(id), thread, depth + 1)
        }
    }

    /// Whether an article still takes comments: open, and not past the automatic close.
    pub fn open_for(&self, comment_status: &str, published_at: i64, at: i64) -> bool {
        self.enabled
            && comment_status == "open"
            && (self.close_after_days == 0 || at < published_at + self.close_after_days * 86_400)
    }
}

// ---------------------------------------------------------------------------------------------
// The signed form token
// ---------------------------------------------------------------------------------------------

use crate::signing::hmac_sha256;

fn mac(secret: &[u8], article_id: i64, issued: i64, nonce: &str) -> String {
    let message = format!("comment-form|{article_id}|{issued}|{nonce}");
    crate::accounts::hex(&hmac_sha256(secret, message.as_bytes())[..16])
}

/// A fresh token for the comment form of one article: `ISSUED.NONCE.MAC`.
pub fn issue_token(secret: &[u8], article_id: i64, issued: i64) -> String {
    let mut bytes = [0u8; 12];
    getrandom::fill(&mut bytes).expect("the operating system has no random source");
    let nonce = crate::accounts::hex(&bytes);
    format!("{issued}.{nonce}.{}", mac(secret, article_id, issued, &nonce))
}

/// Why a form token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenProblem {
    /// Missing, altered, or for another article.
    Invalid,
    Expired,
}

/// Checks a token; gives its issue time and nonce.
pub fn verify_token(
    secret: &[u8],
    token: &str,
    article_id: i64,
    at: i64,
    max_age: i64,
) -> Result<(i64, String), TokenProblem> {
    let mut parts = token.trim().splitn(3, '.');
    let (Some(issued), Some(nonce), Some(given)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(TokenProblem::Invalid);
    };
    let issued: i64 = issued.parse().map_err(|_| TokenProblem::Invalid)?;
    let expected = mac(secret, article_id, issued, nonce);
    let same = expected.len() == given.len()
        && expected.bytes().zip(given.bytes()).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0;
    if !same || nonce.len() != 24 {
        return Err(TokenProblem::Invalid);
    }
    if at - issued > max_age || issued > at + 60 {
        return Err(TokenProblem::Expired);
    }
    Ok((issued, nonce.to_owned()))
}

// ---------------------------------------------------------------------------------------------
// Submissions
// ---------------------------------------------------------------------------------------------

/// A comment form as posted, plus where it came from.
#[derive(Debug, Clone, Default)]
pub struct Submission {
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub email: String,
    pub url: String,
    pub text: String,
    pub token: String,
    /// The field people cannot see; bots fill it.
    pub honeypot: String,
    pub client_addr: String,
    pub user_agent: String,
    /// The site's own hosts (from `base_url`): the spam filter does not count links there as
    /// links elsewhere.
    pub site_hosts: Vec<String>,
}

/// What became of an accepted submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Visible now.
    Published(i64),
    /// Waiting for a moderator (spam is answered the same way: a bot learns nothing).
    Held(i64),
}

/// Why a submission was refused. Nothing was stored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    #[error("There is no such article.")]
    NoArticle,
    #[error("Comments are closed on this article.")]
    Closed,
    #[error("This form could not be checked. Your comment is below: post it again from here.")]
    BadToken,
    #[error("This form is too old. Your comment is below: post it again from here.")]
    ExpiredToken,
    #[error("This form was already sent once. If you meant to post another comment, do it from here.")]
    Replayed,
    #[error("{0}")]
    Invalid(#[from] CommentProblem),
    #[error("The comment you replied to is not on this article.")]
    BadParent,
    #[error(
        "Too many comments from you in the last hour. Please wait a while and post again; your text is below."
    )]
    TooMany,
    #[error("This comment cannot be posted here.")]
    Rejected,
}

/// Judges and stores one submission.
pub async fn submit(
    db: &Db,
    filter: &SpamFilter,
    policy: &Policy,
    secret: &[u8],
    sub: &Submission,
) -> anyhow::Result<Result<Outcome, Refusal>> {
    let at = now();
    let Some(article) = store::target(db, sub.article_id).await? else {
        return Ok(Err(Refusal::NoArticle));
    };
    if !policy.open_for(&article.comment_status, article.published_at, at) {
        return Ok(Err(Refusal::Closed));
    }
    let (issued, nonce) = match verify_token(secret, &sub.token, article.id, at, policy.max_form_age) {
        Ok(v) => v,
        Err(TokenProblem::Invalid) => return Ok(Err(Refusal::BadToken)),
        Err(TokenProblem::Expired) => return Ok(Err(Refusal::ExpiredToken)),
    };
    let input = match CommentInput::new(&sub.name, &sub.email, &sub.url, &sub.text) {
        Ok(input) => input,
        Err(problem) => return Ok(Err(problem.into())),
    };
    let (parent_id, thread_id, depth) = match sub.parent_id {
        None => (None, None, 0),
        Some(pid) => match store::parent(db, pid).await? {
            Some(p) if p.article_id == article.id && p.status == "approved" => {
                policy.reply_position(p.id, p.parent_id, p.thread_id, p.depth)
            }
            _ => return Ok(Err(Refusal::BadParent)),
        },
    };
    let (by_addr, by_email) = store::recent_from(db, &sub.client_addr, &input.email, at - 3600).await?;
    if by_addr >= policy.per_address_per_hour || by_email >= policy.per_email_per_hour {
        return Ok(Err(Refusal::TooMany));
    }
    let haystack = [&input.name, &input.email, &input.url, &input.text, &sub.client_addr]
        .map(|s| s.to_lowercase())
        .join("\n");
    if policy.reject_words.iter().any(|w| haystack.contains(w.as_str())) {
        return Ok(Err(Refusal::Rejected));
    }
    let score = filter.score(
        &Sample {
            name: &input.name,
            email: &input.email,
            url: &input.url,
            text: &input.text,
            site: &sub.site_hosts,
        },
        policy.shipped_model,
    );
    let mark_files = policy.spam_mark_from_start || filter.mark().confirmed();
    let (status, reason) =
        judge(db, policy, sub, &input, &haystack, (score, mark_files), at - issued).await?;
    let body_html = comment::render(&input.text);
    let mut tx = db.begin().await?;
    if !store::use_nonce(&mut tx, &nonce).await? {
        return Ok(Err(Refusal::Replayed));
    }
    let id = store::insert(
        &mut tx,
        &NewComment {
            article_id: article.id,
            parent_id,
            thread_id,
            depth,
            author_name: &input.name,
            author_email: &input.email,
            author_url: &input.url,
            body: &input.text,
            body_html: &body_html,
            status,
            staff_user_id: None,
            client_addr: &sub.client_addr,
            user_agent: &sub.user_agent,
            spam_score: score.unwrap_or(-1.0),
            hold_reason: &reason,
            external_id: None,
            created_at: at,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(if status == CommentState::Approved { Outcome::Published(id) } else { Outcome::Held(id) }))
}

/// The state a checked comment starts in, and why it is not approved.
async fn judge(
    db: &Db,
    policy: &Policy,
    sub: &Submission,
    input: &CommentInput,
    haystack: &str,
    (score, mark_files): (Option<f64>, bool),
    age: i64,
) -> anyhow::Result<(CommentState, String)> {
    if !sub.honeypot.trim().is_empty() {
        return Ok((CommentState::Spam, "filled in the hidden field that only programs see".into()));
    }
    if let Some(s) = score.filter(|s| *s >= policy.spam_above) {
        let percent = s * 100.0;
        return Ok(if mark_files {
            (CommentState::Spam, format!("spam filter: {percent:.0}% spam"))
        } else {
            (
                CommentState::Pending,
                format!(
                    "spam filter: {percent:.0}% spam (held, not filed: the mark is not yet confirmed here)"
                ),
            )
        });
    }
    if age < policy.min_seconds {
        return Ok((CommentState::Pending, format!("sent {age} s after the page was served")));
    }
    if let Some(w) = policy.hold_words.iter().find(|w| haystack.contains(w.as_str())) {
        return Ok((CommentState::Pending, format!("contains {w:?} (hold list)")));
    }
    let links = comment::count_links(&input.text);
    if links > policy.max_links {
        return Ok((CommentState::Pending, format!("{links} links")));
    }
    // A commenter the site already trusts ("approve known commenters") is not held on the
    // filter's doubt alone, as WordPress trusts a previously approved author; the spam mark
    // above, the hold list and the link limit still apply.
    let known =
        policy.moderation == Moderation::ApproveKnown && store::has_approved(db, &input.email).await?;
    if let Some(s) = score.filter(|s| *s >= policy.hold_above && !known) {
        return Ok((CommentState::Pending, format!("spam filter: {:.0}% spam", s * 100.0)));
    }
    Ok(match policy.moderation {
        Moderation::ApproveAll => (CommentState::Approved, String::new()),
        Moderation::HoldAll => (CommentState::Pending, "every comment is held".into()),
        Moderation::ApproveKnown if known => (CommentState::Approved, String::new()),
        Moderation::ApproveKnown => (CommentState::Pending, "first comment from this email".into()),
    })
}

// ---------------------------------------------------------------------------------------------
// Moderation
// ---------------------------------------------------------------------------------------------

/// Whether a user may moderate comments on an article: editors and administrators everywhere,
/// authors on their own articles, contributors nowhere.
pub async fn may_moderate(
    db: &Db,
    user_id: i64,
    role: crate::domain::Role,
    article_id: i64,
) -> anyhow::Result<bool> {
    use crate::domain::Role;
    Ok(match role {
        Role::Editor | Role::Administrator => true,
        Role::Author => store::owns_article(db, user_id, article_id).await?,
        Role::Contributor => false,
    })
}

/// Moves comments to a state. Marking spam teaches the filter "spam"; approving a comment it
/// had scored as spam-like, or one taken out of spam, teaches it "not spam". Each comment is
/// learned at most once per verdict (a changed verdict is unlearned first).
pub async fn moderate(db: &Db, filter: &SpamFilter, ids: &[i64], to: CommentState) -> anyhow::Result<usize> {
    let mut changed = 0;
    let mut learned: Vec<(Vec<String>, bool, i64)> = Vec::new();
    let mut tx = db.begin().await?;
    for &id in ids {
        let Some(c) = store::find_in(&mut tx, id).await? else { continue };
        if c.status == to.as_str() {
            continue;
        }
        let verdict = match to {
            CommentState::Spam => Some("spam"),
            CommentState::Approved
                if c.status == "spam" || c.spam_score >= 0.5 || !c.learned_as.is_empty() =>
            {
                Some("ham")
            }
            _ => None,
        };
        if let Some(v) = verdict.filter(|v| *v != c.learned_as) {
            let features = features_of(&c);
            if !c.learned_as.is_empty() {
                store::learn(&mut tx, &features, c.learned_as == "spam", -1).await?;
                learned.push((features.clone(), c.learned_as == "spam", -1));
            }
            store::learn(&mut tx, &features, v == "spam", 1).await?;
            learned.push((features, v == "spam", 1));
            store::set_learned(&mut tx, c.id, v).await?;
        }
        store::set_status(&mut tx, &c, to).await?;
        changed += 1;
    }
    tx.commit().await?;
    for (features, spam, delta) in learned {
        filter.learn(&features, spam, delta);
    }
    Ok(changed)
}

/// What a moderator's verdict on a comment teaches: its features and, when the filter had
/// marked it as spam, the mark's token (the site's verdicts on the mark).
fn features_of(c: &CommentRow) -> Vec<String> {
    let mut features = spam::features(&Sample {
        name: &c.author_name,
        email: &c.author_email,
        url: &c.author_url,
        text: &c.body,
        site: &[],
    });
    if c.spam_score >= spam::SPAM_ABOVE {
        features.push(spam::MARK_TOKEN.to_owned());
    }
    features
}

/// A moderator's edit of a comment's author fields and text.
pub async fn edit(
    db: &Db,
    id: i64,
    name: &str,
    email: &str,
    url: &str,
    text: &str,
) -> anyhow::Result<Result<(), CommentProblem>> {
    let input = match CommentInput::new(name, email, url, text) {
        Ok(input) => input,
        Err(p) => return Ok(Err(p)),
    };
    let mut tx = db.begin().await?;
    let Some(c) = store::find_in(&mut tx, id).await? else { anyhow::bail!("no comment {id}") };
    store::update_text(&mut tx, &c, &input, &comment::render(&input.text)).await?;
    tx.commit().await?;
    Ok(Ok(()))
}

/// A staff member's reply: approved at once and marked as staff on the page.
pub async fn staff_reply(
    db: &Db,
    policy: &Policy,
    parent: &CommentRow,
    user: (i64, &str, &str),
    text: &str,
) -> anyhow::Result<Result<i64, CommentProblem>> {
    let (user_id, name, email) = user;
    let input = match CommentInput::new(name, email, "", text) {
        Ok(input) => input,
        Err(p) => return Ok(Err(p)),
    };
    let (parent_id, thread_id, depth) =
        policy.reply_position(parent.id, parent.parent_id, parent.thread_id, parent.depth);
    let mut tx = db.begin().await?;
    // Replying to a comment approves it: a staff answer to a hidden question makes no sense.
    store::set_status(&mut tx, parent, CommentState::Approved).await?;
    let id = store::insert(
        &mut tx,
        &NewComment {
            article_id: parent.article_id,
            parent_id,
            thread_id,
            depth,
            author_name: &input.name,
            author_email: &input.email,
            author_url: "",
            body: &input.text,
            body_html: &comment::render(&input.text),
            status: CommentState::Approved,
            staff_user_id: Some(user_id),
            client_addr: "",
            user_agent: "",
            spam_score: -1.0,
            hold_reason: "",
            external_id: None,
            created_at: now(),
        },
    )
    .await?;
    tx.commit().await?;
    Ok(Ok(id))
}

/// A comment that exists elsewhere (the demo edition, an import): stored as it is, in the
/// given state and at the given time, with its event when approved.
#[derive(Debug, Clone, Default)]
pub struct Existing {
    pub article_id: i64,
    pub parent_id: Option<i64>,
    pub name: String,
    pub email: String,
    pub url: String,
    pub text: String,
    pub created_at: i64,
    pub staff_user_id: Option<i64>,
    pub external_id: Option<String>,
    pub client_addr: String,
}

pub async fn add_existing(db: &Db, c: &Existing, status: CommentState) -> anyhow::Result<i64> {
    let input = CommentInput::new(&c.name, &c.email, &c.url, &c.text)
        .map_err(|p| anyhow::anyhow!("comment by {:?}: {p}", c.name))?;
    add_imported(
        db,
        &Existing { name: input.name, email: input.email, url: input.url, text: input.text, ..c.clone() },
        status,
    )
    .await
}

/// A comment from an import: kept in its state, with what the source had (a name, an email
/// that may be empty, a website only if it is a web address), the text cleaned and rendered.
pub async fn add_imported(db: &Db, c: &Existing, status: CommentState) -> anyhow::Result<i64> {
    let text = comment::clean_text(&c.text);
    let (parent_id, thread_id, depth) = match c.parent_id {
        None => (None, None, 0),
        Some(pid) => {
            let p = store::parent(db, pid)
                .await?
                .ok_or_else(|| anyhow::anyhow!("no comment {pid} to reply to"))?;
            (Some(p.id), p.thread_id.or(Some(p.id)), p.depth + 1)
        }
    };
    let url = if comment::is_web_url(&c.url) { c.url.as_str() } else { "" };
    let mut tx = db.begin().await?;
    let id = store::insert(
        &mut tx,
        &NewComment {
            article_id: c.article_id,
            parent_id,
            thread_id,
            depth,
            author_name: &comment::clean_line(&c.name),
            author_email: &c.email,
            author_url: url,
            body: &text,
            body_html: &comment::render(&text),
            status,
            staff_user_id: c.staff_user_id,
            client_addr: &c.client_addr,
            user_agent: "",
            spam_score: -1.0,
            hold_reason: "",
            external_id: c.external_id.as_deref(),
            created_at: c.created_at,
        },
    )
    .await?;
    tx.commit().await?;
    Ok(id)
}

/// Deletes spam and trash kept longer than the policy says.
pub async fn purge(db: &Db, policy: &Policy) -> anyhow::Result<u64> {
    let at = now();
    let mut tx = db.begin().await?;
    let n = store::purge(&mut tx, at - policy.keep_days * 86_400, at - policy.max_form_age - 3600).await?;
    tx.commit().await?;
    Ok(n)
}

/// The filter of a node: the shipped model plus what this store learned.
pub async fn load_filter(db: &Db) -> anyhow::Result<SpamFilter> {
    let shipped = spam::ShippedModel::load()?.model;
    Ok(SpamFilter::new(shipped, store::model(db, spam::Model::default()).await?))
}

/// Takes in decisions made on other nodes (called now and then).
pub async fn reload_filter(db: &Db, filter: &SpamFilter) -> anyhow::Result<()> {
    filter.replace(store::model(db, spam::Model::default()).await?);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_signed_for_one_article_and_expire() {
        let secret = b"test secret";
        let t = issue_token(secret, 7, 1_000);
        assert!(verify_token(secret, &t, 7, 1_010, 100).is_ok());
        assert_eq!(verify_token(secret, &t, 8, 1_010, 100), Err(TokenProblem::Invalid));
        assert_eq!(verify_token(b"other", &t, 7, 1_010, 100), Err(TokenProblem::Invalid));
        assert_eq!(verify_token(secret, &t, 7, 1_200, 100), Err(TokenProblem::Expired));
        let forged = t.replacen("1000.", "2000.", 1);
        assert_eq!(verify_token(secret, &forged, 7, 2_010, 100), Err(TokenProblem::Invalid));
        assert_eq!(verify_token(secret, "", 7, 1_010, 100), Err(TokenProblem::Invalid));
    }

    #[test]
    fn hmac_matches_rfc_4231() {
        // Test case 2 of RFC 4231.
        let mac = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        assert_eq!(
            crate::accounts::hex(&mac),
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }

    #[test]
    fn automatic_close() {
        let mut p = Policy::default();
        assert!(p.open_for("open", 0, 10 * 86_400));
        p.close_after_days = 7;
        assert!(!p.open_for("open", 0, 10 * 86_400));
        assert!(p.open_for("open", 0, 6 * 86_400));
        assert!(!p.open_for("closed", 0, 0));
    }
}
