//! Revisions of an article: the list, a readable word-level diff between two, and restoring
//! one into the editor (saving it makes a new revision; nothing is lost).

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Response};
use serde::{Deserialize, Serialize};
use similar::{ChangeTag, TextDiff};

use super::session::Staff;
use crate::storage::articles::{self, RevisionRow};
use crate::web::AppState;
use crate::web::error::{OrNotFound, WebError, WebResult};

#[derive(Debug, Deserialize)]
pub struct CompareQuery {
    a: Option<i64>,
    b: Option<i64>,
}

/// One run of text in a diff: `same`, `removed` or `added`.
#[derive(Debug, Serialize, PartialEq, Eq)]
pub struct Segment {
    kind: &'static str,
    text: String,
}

/// Word-level differences, as runs of unchanged, removed and added text.
pub fn diff(old: &str, new: &str) -> Vec<Segment> {
    let mut out: Vec<Segment> = Vec::new();
    for change in TextDiff::from_words(old, new).iter_all_changes() {
        let kind = match change.tag() {
            ChangeTag::Equal => "same",
            ChangeTag::Delete => "removed",
            ChangeTag::Insert => "added",
        };
        match out.last_mut() {
            Some(last) if last.kind == kind => last.text.push_str(change.value()),
            _ => out.push(Segment { kind, text: change.value().to_owned() }),
        }
    }
    out
}

#[derive(Serialize)]
struct FieldDiff {
    name: &'static str,
    changed: bool,
    segments: Vec<Segment>,
}

#[derive(Serialize)]
struct RevisionView {
    id: i64,
    by: String,
    at: String,
    headline: String,
    status: String,
}

pub async fn list(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Query(q): Query<CompareQuery>,
) -> WebResult<Response> {
    let article = articles::find_for_edit(&app.db, id).await.or_404()?;
    if !staff.role.can_edit(article.created_by == Some(staff.user_id)) {
        return Ok((StatusCode::FORBIDDEN, "You may not see this article's history.").into_response());
    }
    let revisions = articles::revisions(&app.db, id).await?;
    let pick = |want: Option<i64>, default: usize| -> WebResult<Option<&RevisionRow>> {
        match want {
            Some(rid) => revisions.iter().find(|r| r.id == rid).ok_or(WebError::NotFound).map(Some),
            None => Ok(revisions.get(default)),
        }
    };
    let newer = pick(q.b, 0)?;
    let older = pick(q.a, 1)?;
    let fields = match (older, newer) {
        (Some(a), Some(b)) => vec![
            field("Headline", &a.headline, &b.headline),
            field("Slug", &a.slug, &b.slug),
            field("Standfirst", &a.standfirst, &b.standfirst),
            field("Body", &a.body_source, &b.body_source),
        ],
        _ => Vec::new(),
    };
    let site = app.site.get();
    let views = app.views(&site);
    let view = |r: &RevisionRow| RevisionView {
        id: r.id,
        by: r.user_name.clone().unwrap_or_else(|| "an importer or a removed user".into()),
        at: views.time(r.created_at).display,
        headline: r.headline.clone(),
        status: r.status.clone(),
    };
    let body = app.theme.render(
        "admin/revisions.html",
        crate::view! {
            site_name => site.settings.name,
            staff => super::articles::staff_view(&staff),
            article_id => id,
            headline => article.headline,
            revisions => revisions.iter().map(view).collect::<Vec<_>>(),
            older => older.map(view),
            newer => newer.map(view),
            fields => fields,
        },
    )?;
    Ok(Html(body).into_response())
}

fn field(name: &'static str, old: &str, new: &str) -> FieldDiff {
    FieldDiff { name, changed: old != new, segments: diff(old, new) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn word_diffs_group_runs() {
        let d = diff("the council voted on Monday", "the city council voted on Tuesday");
        let added: Vec<&str> = d.iter().filter(|s| s.kind == "added").map(|s| s.text.as_str()).collect();
        let removed: Vec<&str> = d.iter().filter(|s| s.kind == "removed").map(|s| s.text.as_str()).collect();
        assert!(added.concat().contains("city") && added.concat().contains("Tuesday"), "{d:?}");
        assert_eq!(removed.concat(), "Monday");
        assert!(diff("same", "same").iter().all(|s| s.kind == "same"));
    }
}
