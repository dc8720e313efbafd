//! The article page's comment region (threads, pages, the form) and `POST /comments`.
//!
//! An article page is the same for every reader (caches keep it), so its form carries no token.
//! The theme's script asks `GET /comments/token` for one when the reader starts writing.
//! Without JavaScript, the first post comes back as a page with the comment filled in and a
//! token, to post from there; then the answer is a 303 back to the new comment's anchor, or to
//! a notice that it is held. A refused form comes back filled in, with a fresh token and the
//! reason, so nothing typed is lost.

use std::collections::HashMap;
use std::net::SocketAddr;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};

use crate::comments::{self, Outcome, Policy, Refusal, Submission};
use crate::storage::articles::ArticleRow;
use crate::storage::comments::{self as store, PublicComment};
use crate::web::AppState;
use crate::web::error::WebResult;
use crate::web::views::{TimeView, Views};

/// The article page's query: which page of threads, which comment is being answered, and the
/// notice after posting.
#[derive(Debug, Deserialize, Default)]
pub struct ArticleQuery {
    pub cpage: Option<String>,
    pub replyto: Option<String>,
    pub comment: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommentView {
    pub id: i64,
    pub author: String,
    /// The commenter's website, when given (links get `rel="nofollow ugc"`).
    pub author_url: String,
    pub staff: bool,
    pub time: TimeView,
    pub body_html: String,
    pub reply_url: String,
    pub replies: Vec<CommentView>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CommentsView {
    pub article_id: i64,
    pub open: bool,
    pub count: i64,
    pub threads: Vec<CommentView>,
    pub page: usize,
    pub pages: usize,
    pub prev_url: Option<String>,
    pub next_url: Option<String>,
    /// The comment being answered (`?replyto=ID`), with its author.
    pub reply_to: Option<(i64, String)>,
    pub cancel_reply_url: String,
    /// `?comment=held`: the reader's comment waits for a moderator.
    pub held: bool,
    /// Empty: a public page is the same for every reader. The theme's script asks
    /// `/comments/token` for one when the reader starts writing; without it, the first post
    /// comes back as a page to confirm, with a token (see [`post`]).
    pub token: String,
}

/// The comment region of an article page.
pub async fn region(
    app: &AppState,
    views: &Views<'_>,
    article: &ArticleRow,
    url: &str,
    query: &ArticleQuery,
) -> WebResult<CommentsView> {
    let policy = &views.site.settings.comments;
    let rows = if article.comment_count > 0 {
        store::approved_for_article(&app.db, article.id).await?
    } else {
        Vec::new()
    };
    let page = match query.cpage.as_deref() {
        None | Some("") => 1,
        Some(s) => s.parse::<usize>().ok().filter(|n| (1..=10_000).contains(n)).unwrap_or(1),
    };
    let reply_to = query
        .replyto
        .as_deref()
        .and_then(|s| s.parse::<i64>().ok())
        .and_then(|id| rows.iter().find(|c| c.id == id))
        .map(|c| (c.id, c.author_name.clone()));
    let page_url = |p: usize| if p <= 1 { url.to_owned() } else { format!("{url}?cpage={p}") };
    let reply_url = |id: i64| {
        let base = page_url(page);
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}replyto={id}#respond")
    };
    let threads = threads(&rows, |c| CommentView {
        id: c.id,
        author: c.author_name.clone(),
        author_url: c.author_url.clone(),
        staff: c.staff_user_id.is_some(),
        time: views.time(c.created_at),
        body_html: c.body_html.clone(),
        reply_url: reply_url(c.id),
        replies: Vec::new(),
    });
    let per_page = policy.threads_per_page;
    let pages = threads.len().div_ceil(per_page).max(1);
    let page = page.min(pages);
    let shown = threads.into_iter().skip((page - 1) * per_page).take(per_page).collect();
    Ok(CommentsView {
        article_id: article.id,
        open: article.status == "published"
            && policy.open_for(&article.comment_status, article.published_at, crate::storage::now()),
        count: rows.len() as i64,
        threads: shown,
        page,
        pages,
        prev_url: (page > 1).then(|| format!("{}#comments", page_url(page - 1))),
        next_url: (page < pages).then(|| format!("{}#comments", page_url(page + 1))),
        reply_to,
        cancel_reply_url: format!("{}#respond", page_url(page)),
        held: query.comment.as_deref() == Some("held"),
        token: String::new(),
    })
}

/// Builds threads from comments in time order. A reply whose parent is not shown joins its
/// thread's first comment, or becomes a thread of its own: an approved comment is never lost.
fn threads(rows: &[PublicComment], view: impl Fn(&PublicComment) -> CommentView) -> Vec<CommentView> {
    let shown: HashMap<i64, &PublicComment> = rows.iter().map(|c| (c.id, c)).collect();
    let mut children: HashMap<i64, Vec<&PublicComment>> = HashMap::new();
    let mut roots = Vec::new();
    for c in rows {
        match shown_parent(c, &shown) {
            Some(p) => children.entry(p).or_default().push(c),
            None => roots.push(c),
        }
    }
    fn build(
        c: &PublicComment,
        children: &HashMap<i64, Vec<&PublicComment>>,
        view: &dyn Fn(&PublicComment) -> CommentView,
        depth: usize,
    ) -> CommentView {
        let mut v = view(c);
        // Depth is bounded when comments are stored; this guards against loops in old data.
        if depth < 12 {
            v.replies = children.get(&c.id).map_or_else(Vec::new, |kids| {
                kids.iter().map(|k| build(k, children, view, depth + 1)).collect()
            });
        }
        v
    }
    roots.into_iter().map(|c| build(c, &children, &view, 0)).collect()
}

/// The comment a comment is shown under: its parent, else its thread's first comment, when
/// that is shown; `None` for the start of a thread.
fn shown_parent(c: &PublicComment, shown: &HashMap<i64, &PublicComment>) -> Option<i64> {
    c.parent_id
        .filter(|p| shown.contains_key(p))
        .or_else(|| c.thread_id.filter(|t| *t != c.id && shown.contains_key(t)))
}

/// The comment form as posted (names as in the theme's form).
#[derive(Debug, Default)]
pub struct CommentForm {
    pub article_id: String,
    pub parent_id: String,
    pub comment: String,
    pub author: String,
    pub email: String,
    pub url: String,
    pub token: String,
    /// The honeypot: hidden from people, tempting to programs.
    pub homepage: String,
}

impl CommentForm {
    /// Reads `application/x-www-form-urlencoded` strictly: text that is not UTF-8 is refused
    /// rather than silently replaced.
    pub fn parse(body: &[u8]) -> Option<Self> {
        let mut form = Self::default();
        for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
            let mut kv = pair.splitn(2, |b| *b == b'=');
            let key = percent_decode(kv.next()?)?;
            let value = percent_decode(kv.next().unwrap_or_default())?;
            let slot = match key.as_str() {
                "article_id" => &mut form.article_id,
                "parent_id" => &mut form.parent_id,
                "comment" => &mut form.comment,
                "author" => &mut form.author,
                "email" => &mut form.email,
                "url" => &mut form.url,
                "token" => &mut form.token,
                "homepage" => &mut form.homepage,
                _ => continue,
            };
            *slot = value;
        }
        Some(form)
    }
}

fn percent_decode(raw: &[u8]) -> Option<String> {
    let mut out = Vec::with_capacity(raw.len());
    let mut i = 0;
    while i < raw.len() {
        match raw[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = raw.get(i + 1..i + 3)?;
                out.push(u8::from_str_radix(std::str::from_utf8(hex).ok()?, 16).ok()?);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).ok()
}

/// Largest comment form accepted (the text limit is far below; this stops floods early).
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// `POST /comments`.
pub async fn post(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> WebResult<Response> {
    let form = match body
        .map_err(|r| r.status())
        .and_then(|b| CommentForm::parse(&b).ok_or(StatusCode::BAD_REQUEST))
    {
        Ok(form) => form,
        Err(status) => return Ok(unreadable(status)),
    };
    let Ok(article_id) = form.article_id.trim().parse::<i64>() else {
        return Ok((StatusCode::BAD_REQUEST, "The comment form names no article.").into_response());
    };
    let parent_id = match form.parent_id.trim() {
        "" | "0" => None,
        s => match s.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                return Ok((StatusCode::BAD_REQUEST, "The comment replied to is not valid.").into_response());
            }
        },
    };
    let site = app.site.get();
    let policy = &site.settings.comments;
    let submission = Submission {
        article_id,
        parent_id,
        name: form.author.clone(),
        email: form.email.clone(),
        url: form.url.clone(),
        text: form.comment.clone(),
        token: form.token.clone(),
        honeypot: form.homepage.clone(),
        client_addr: app.client_addr(peer, &headers),
        user_agent: headers
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .chars()
            .take(300)
            .collect(),
        site_hosts: app.base_url.as_deref().and_then(crate::spam::site_host).into_iter().collect(),
    };
    match comments::submit(&app.db, &app.spam, policy, &site.secret, &submission).await? {
        Ok(outcome) => {
            let target = store::target(&app.db, article_id).await?;
            let url = target.map_or_else(|| "/".to_owned(), |t| site.article_url(&t.slug, t.published_at));
            let location = match outcome {
                Outcome::Published(id) => {
                    app.content_changed().await;
                    let page = page_of(&app, policy, article_id, id).await?;
                    // `comment=ID` makes it an address no cache holds: the reader's browser may
                    // keep the article itself for a minute, from before the comment.
                    let query = if page > 1 {
                        format!("?cpage={page}&comment={id}")
                    } else {
                        format!("?comment={id}")
                    };
                    format!("{url}{query}#comment-{id}")
                }
                Outcome::Held(_) => format!("{url}?comment=held#respond"),
            };
            if wants_json(&headers) {
                return Ok(axum::Json(serde_json::json!({ "location": location })).into_response());
            }
            Ok((StatusCode::SEE_OTHER, [(header::LOCATION, location)]).into_response())
        }
        Err(refusal) if wants_json(&headers) => Ok(refused_json(&app, policy, &submission, refusal).await?),
        // A form sent from a page without its script: nothing is wrong, it needs its token.
        Err(Refusal::BadToken) if submission.token.trim().is_empty() => {
            refused(&app, policy, &submission, Refusal::BadToken, true).await
        }
        Err(refusal) => refused(&app, policy, &submission, refusal, false).await,
    }
}

/// The theme's script posts the form in place and asks for JSON; a plain form post gets the
/// redirect and pages.
fn wants_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"))
}

/// The HTTP status of a refusal.
fn refusal_status(refusal: &Refusal) -> StatusCode {
    match refusal {
        Refusal::NoArticle => StatusCode::NOT_FOUND,
        Refusal::Closed | Refusal::Rejected => StatusCode::FORBIDDEN,
        Refusal::BadToken | Refusal::ExpiredToken => StatusCode::BAD_REQUEST,
        Refusal::Replayed => StatusCode::CONFLICT,
        Refusal::Invalid(_) | Refusal::BadParent => StatusCode::UNPROCESSABLE_ENTITY,
        Refusal::TooMany => StatusCode::TOO_MANY_REQUESTS,
    }
}

/// Whether the reader may correct the form and send it again, and a fresh token for that.
async fn retry(
    app: &AppState,
    policy: &Policy,
    sub: &Submission,
    refusal: &Refusal,
) -> anyhow::Result<(Option<crate::storage::comments::CommentTarget>, bool, String)> {
    let site = app.site.get();
    let target = store::target(&app.db, sub.article_id).await?;
    let can_retry = !matches!(refusal, Refusal::Closed | Refusal::Rejected | Refusal::NoArticle)
        && target
            .as_ref()
            .is_some_and(|t| policy.open_for(&t.comment_status, t.published_at, crate::storage::now()));
    let token = comments::issue_token(&site.secret, sub.article_id, crate::storage::now());
    Ok((target, can_retry, token))
}

/// A refused comment, for the script: the reason, whether to try again, a fresh token. The
/// form stays as the reader filled it.
async fn refused_json(
    app: &AppState,
    policy: &Policy,
    sub: &Submission,
    refusal: Refusal,
) -> WebResult<Response> {
    let (_, can_retry, token) = retry(app, policy, sub, &refusal).await?;
    let status = refusal_status(&refusal);
    // In place, the form stays on the page and gets the fresh token: no "below" to point to.
    let error = match &refusal {
        Refusal::BadToken | Refusal::ExpiredToken | Refusal::Replayed => {
            "This form had to be renewed before it could be sent. Please post your comment again.".to_owned()
        }
        other => other.to_string(),
    };
    let body = serde_json::json!({ "error": error, "can_retry": can_retry, "token": token });
    let mut response = (status, axum::Json(body)).into_response();
    if refusal == Refusal::TooMany {
        response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("3600"));
    }
    Ok(response)
}

/// `GET /comments/token?article=ID`: a fresh form token, asked for by the theme's script when
/// a reader starts writing. Never cached.
pub async fn token(
    State(app): State<AppState>,
    axum::extract::Query(q): axum::extract::Query<TokenQuery>,
) -> WebResult<Response> {
    let site = app.site.get();
    let policy = &site.settings.comments;
    let Some(id) = q.article.as_deref().and_then(|a| a.trim().parse::<i64>().ok()) else {
        return Ok(token_refusal(StatusCode::BAD_REQUEST, "Name the article: ?article=ID."));
    };
    let open = store::target(&app.db, id)
        .await?
        .map(|t| policy.open_for(&t.comment_status, t.published_at, crate::storage::now()));
    let response = match open {
        None => token_refusal(StatusCode::NOT_FOUND, "There is no such article."),
        Some(false) => token_refusal(StatusCode::FORBIDDEN, "Comments are closed on this article."),
        Some(true) => axum::Json(serde_json::json!({
            "token": comments::issue_token(&site.secret, id, crate::storage::now())
        }))
        .into_response(),
    };
    Ok(no_store(response))
}

#[derive(Debug, Deserialize)]
pub struct TokenQuery {
    article: Option<String>,
}

fn token_refusal(status: StatusCode, message: &str) -> Response {
    (status, axum::Json(serde_json::json!({ "error": message }))).into_response()
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// The page of threads a comment appears on.
async fn page_of(app: &AppState, policy: &Policy, article_id: i64, id: i64) -> anyhow::Result<usize> {
    let rows = store::approved_for_article(&app.db, article_id).await?;
    let shown: HashMap<i64, &PublicComment> = rows.iter().map(|c| (c.id, c)).collect();
    // Up to the start of its thread (depth is bounded when stored; the bound guards old data).
    let mut root = id;
    for _ in 0..12 {
        match shown.get(&root).and_then(|c| shown_parent(c, &shown)) {
            Some(parent) => root = parent,
            None => break,
        }
    }
    let index =
        rows.iter().filter(|c| shown_parent(c, &shown).is_none()).position(|c| c.id == root).unwrap_or(0);
    Ok(index / policy.threads_per_page + 1)
}

fn unreadable(status: StatusCode) -> Response {
    let (status, message) = if status == StatusCode::PAYLOAD_TOO_LARGE {
        (
            StatusCode::PAYLOAD_TOO_LARGE,
            "This comment is far too long to post (at most 6,000 characters).".to_owned(),
        )
    } else {
        (
            StatusCode::BAD_REQUEST,
            "The comment form could not be read: it must be sent as a web form, in UTF-8 text.".to_owned(),
        )
    };
    crate::web::error::WebError::BadRequest(message).into_response().map_status(status)
}

trait MapStatus {
    fn map_status(self, status: StatusCode) -> Response;
}

impl MapStatus for Response {
    fn map_status(mut self, status: StatusCode) -> Response {
        *self.status_mut() = status;
        if let Some(page) = self.extensions_mut().get_mut::<crate::web::error::ErrorPage>() {
            page.status = status;
        }
        self
    }
}

/// A refused comment: the reason and the form again, filled in, with a fresh token. With
/// `confirm`, the form came without a token (no script ran): the same page asks the reader to
/// check the comment and post it.
async fn refused(
    app: &AppState,
    policy: &Policy,
    sub: &Submission,
    refusal: Refusal,
    confirm: bool,
) -> WebResult<Response> {
    let (status, message) = match confirm {
        true => (StatusCode::OK, "Check your comment below, then post it.".to_owned()),
        false => (refusal_status(&refusal), refusal.to_string()),
    };
    let (target, can_retry, token) = retry(app, policy, sub, &refusal).await?;
    let site = app.site.get();
    let views = app.views(&site);
    let article_url = target.as_ref().map(|t| site.article_url(&t.slug, t.published_at));
    let body = app.theme.render(
        "comment_problem.html",
        crate::view! {
            site => views.site(),
            meta => views.meta("Your comment", "", "/comments").noindex(),
            message => message,
            confirm => confirm,
            article_url => article_url,
            can_retry => can_retry,
            form => serde_json::json!({
                "article_id": sub.article_id,
                "parent_id": sub.parent_id,
                "author": sub.name,
                "email": sub.email,
                "url": sub.url,
                "comment": sub.text,
                "token": token,
            }),
        },
    )?;
    let mut response = (status, Html(body)).into_response();
    let headers = response.headers_mut();
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    if refusal == Refusal::TooMany {
        headers.insert(header::RETRY_AFTER, HeaderValue::from_static("3600"));
    }
    Ok(response)
}
