//! `/admin/webhooks` (administrators): subscriptions, their signing secrets, and the log of
//! every delivery and attempt, with "Send again". Deliveries themselves are `crate::webhooks`.

use std::collections::HashMap;

use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Serialize;

use super::articles::staff_view;
use super::forms::require;
use super::session::Staff;
use crate::domain::Role;
use crate::storage::webhooks as store;
use crate::web::AppState;
use crate::web::error::{WebError, WebResult};

fn time(unix: i64) -> String {
    chrono::DateTime::from_timestamp(unix, 0)
        .map(|t| t.format("%-d %b %Y %H:%M:%S UTC").to_string())
        .unwrap_or_default()
}

#[derive(Serialize)]
struct HookView {
    id: i64,
    url: String,
    events: Vec<String>,
    active: bool,
    created: String,
}

fn hook_view(h: &store::WebhookRow) -> HookView {
    HookView {
        id: h.id,
        url: h.url.clone(),
        events: h.events.split_whitespace().map(str::to_owned).collect(),
        active: h.active != 0,
        created: time(h.created_at),
    }
}

fn csrf_of(pairs: &[(String, String)]) -> &str {
    pairs.iter().find(|(k, _)| k == "_csrf").map_or("", |(_, v)| v.as_str())
}

async fn list_page(app: &AppState, staff: &Staff, error: Option<String>) -> WebResult<Response> {
    let hooks: Vec<HookView> = store::all(&app.db).await?.iter().map(hook_view).collect();
    let body = app.theme.render(
        "admin/webhooks.html",
        crate::view! {
            site_name => app.site.get().settings.name,
            staff => staff_view(staff),
            hooks => hooks,
            kinds => crate::webhooks::EVENTS,
            allow_private => app.webhooks.allow_private,
            error => error,
        },
    )?;
    let status = if error.is_some() { StatusCode::UNPROCESSABLE_ENTITY } else { StatusCode::OK };
    Ok((status, Html(body)).into_response())
}

/// `GET /admin/webhooks`
pub async fn list(State(app): State<AppState>, staff: Staff) -> WebResult<Response> {
    if let Some(refused) = require(&staff, Role::Administrator) {
        return Ok(refused);
    }
    list_page(&app, &staff, None).await
}

/// `POST /admin/webhooks`: a new subscription.
pub async fn create(
    State(app): State<AppState>,
    staff: Staff,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    if let Some(refused) = require(&staff, Role::Administrator) {
        return Ok(refused);
    }
    if let Err(refused) = staff.check_csrf(csrf_of(&pairs)) {
        return Ok(refused.into_response());
    }
    let url = pairs.iter().find(|(k, _)| k == "url").map_or("", |(_, v)| v.trim()).to_owned();
    let mut events: Vec<&str> =
        pairs.iter().filter(|(k, _)| k == "events").map(|(_, v)| v.as_str()).collect();
    if let Err(why) = crate::webhooks::check_url(&url) {
        return list_page(&app, &staff, Some(why)).await;
    }
    if let Some(bad) = events.iter().find(|e| **e != "*" && !crate::webhooks::EVENTS.contains(e)) {
        return list_page(&app, &staff, Some(format!("There is no event {bad:?}."))).await;
    }
    if events.contains(&"*") {
        events = vec!["*"];
    }
    if events.is_empty() {
        return list_page(&app, &staff, Some("Choose the events to send.".into())).await;
    }
    let secret = crate::webhooks::new_secret()?;
    let mut tx = app.db.begin().await?;
    let id = store::create(&mut tx, &url, &events.join(" "), &secret, staff.user_id).await?;
    tx.commit().await?;
    Ok(Redirect::to(&format!("/admin/webhooks/{id}")).into_response())
}

#[derive(Serialize)]
struct AttemptView {
    at: String,
    status: Option<i64>,
    response: String,
    duration_ms: i64,
}

#[derive(Serialize)]
struct DeliveryView {
    id: i64,
    event: String,
    subject_id: i64,
    state: String,
    attempts: Vec<AttemptView>,
    created: String,
    next_attempt: Option<String>,
}

/// `GET /admin/webhooks/{id}`: its secret, and its latest deliveries with every attempt.
pub async fn show(State(app): State<AppState>, staff: Staff, Path(id): Path<i64>) -> WebResult<Response> {
    if let Some(refused) = require(&staff, Role::Administrator) {
        return Ok(refused);
    }
    let hook = store::get(&app.db, id).await?.ok_or(WebError::NotFound)?;
    let deliveries = store::deliveries(&app.db, id, 50).await?;
    let ids: Vec<i64> = deliveries.iter().map(|d| d.id).collect();
    let mut attempts: HashMap<i64, Vec<AttemptView>> = HashMap::new();
    for a in store::attempts(&app.db, &ids).await? {
        attempts.entry(a.delivery_id).or_default().push(AttemptView {
            at: time(a.at),
            status: a.status,
            response: a.response,
            duration_ms: a.duration_ms,
        });
    }
    let deliveries: Vec<DeliveryView> = deliveries
        .into_iter()
        .map(|d| DeliveryView {
            attempts: attempts.remove(&d.id).unwrap_or_default(),
            next_attempt: (d.state == "pending").then(|| time(d.next_attempt_at)),
            id: d.id,
            event: d.kind,
            subject_id: d.subject_id,
            state: d.state,
            created: time(d.created_at),
        })
        .collect();
    let body = app.theme.render(
        "admin/webhook.html",
        crate::view! {
            site_name => app.site.get().settings.name,
            staff => staff_view(&staff),
            hook => hook_view(&hook),
            secret => hook.secret,
            deliveries => deliveries,
        },
    )?;
    Ok(([("cache-control", "no-store")], Html(body)).into_response())
}

/// `POST /admin/webhooks/{id}`: `action` pause, resume or delete.
pub async fn change(
    State(app): State<AppState>,
    staff: Staff,
    Path(id): Path<i64>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    if let Some(refused) = require(&staff, Role::Administrator) {
        return Ok(refused);
    }
    if let Err(refused) = staff.check_csrf(csrf_of(&pairs)) {
        return Ok(refused.into_response());
    }
    store::get(&app.db, id).await?.ok_or(WebError::NotFound)?;
    let action = pairs.iter().find(|(k, _)| k == "action").map_or("", |(_, v)| v.as_str());
    let mut tx = app.db.begin().await?;
    match action {
        "pause" => store::set_active(&mut tx, id, false).await?,
        "resume" => store::set_active(&mut tx, id, true).await?,
        "delete" => store::delete(&mut tx, id).await?,
        _ => return Err(WebError::BadRequest("Pause, resume or delete.".into())),
    }
    tx.commit().await?;
    let to = if action == "delete" { "/admin/webhooks".to_owned() } else { format!("/admin/webhooks/{id}") };
    Ok(Redirect::to(&to).into_response())
}

/// `POST /admin/webhooks/{id}/deliveries/{delivery}`: send it again now.
pub async fn redeliver(
    State(app): State<AppState>,
    staff: Staff,
    Path((id, delivery)): Path<(i64, i64)>,
    Form(pairs): Form<Vec<(String, String)>>,
) -> WebResult<Response> {
    if let Some(refused) = require(&staff, Role::Administrator) {
        return Ok(refused);
    }
    if let Err(refused) = staff.check_csrf(csrf_of(&pairs)) {
        return Ok(refused.into_response());
    }
    let d =
        store::delivery(&app.db, delivery).await?.filter(|d| d.webhook_id == id).ok_or(WebError::NotFound)?;
    let mut tx = app.db.begin().await?;
    store::redeliver(&mut tx, d.id).await?;
    tx.commit().await?;
    app.webhooks_wake.notify_one();
    Ok(Redirect::to(&format!("/admin/webhooks/{id}")).into_response())
}
