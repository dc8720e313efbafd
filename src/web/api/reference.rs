//! The API's description: `/api/openapi.json` (OpenAPI 3.1, generated from the route table) and
//! `/api/docs`, the same description as a readable page of the site (no script, nothing
//! fetched from elsewhere).

use std::sync::LazyLock;

use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use super::OPENAPI;
use crate::web::AppState;
use crate::web::error::WebResult;

static JSON: LazyLock<String> =
    LazyLock::new(|| serde_json::to_string_pretty(&*OPENAPI).unwrap_or_else(|_| "{}".to_owned()));

/// `GET /api/openapi.json`
pub async fn openapi_json(State(app): State<AppState>) -> Response {
    let mut response = JSON.as_str().into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    h.insert(header::CACHE_CONTROL, app.cache_policy.clone());
    if let Some(origin) = &app.api_cors {
        h.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    }
    response
}

#[derive(Serialize)]
struct Operation {
    method: String,
    path: String,
    summary: String,
    description: String,
    anchor: String,
    parameters: Vec<Parameter>,
    responses: Vec<(String, String, String)>,
}

#[derive(Serialize)]
struct Parameter {
    name: String,
    place: String,
    kind: String,
    required: bool,
    description: String,
}

#[derive(Serialize)]
struct SchemaView {
    name: String,
    description: String,
    fields: Vec<(String, String, String)>,
}

/// A description's text as HTML: escaped, with `code` spans.
fn text(v: &Value, key: &str) -> String {
    html(v.get(key).and_then(Value::as_str).unwrap_or_default())
}

/// Text with `code` spans as HTML (escaped).
fn html(raw: &str) -> String {
    let escaped = raw.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let mut out = String::with_capacity(escaped.len() + 32);
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            out.push_str("<code>");
            out.push_str(part);
            out.push_str("</code>");
        } else {
            out.push_str(part);
        }
    }
    // An odd count: the last span was never closed; close it rather than break the page.
    if escaped.matches('`').count() % 2 == 1 {
        out.push_str("</code>");
    }
    out
}

/// A schema's type in a few words: `string (date-time)`, `array of TermRef`, `Picture or null`.
fn kind(v: &Value) -> String {
    if let Some(r) = v.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_owned();
    }
    if let Some(options) = v.get("oneOf").or_else(|| v.get("anyOf")).and_then(Value::as_array) {
        return options.iter().map(kind).collect::<Vec<_>>().join(" or ");
    }
    let ty = match v.get("type") {
        Some(Value::Array(types)) => types.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" or "),
        Some(Value::String(t)) => t.clone(),
        _ => "object".to_owned(),
    };
    if ty.starts_with("array") {
        return format!("array of {}", v.get("items").map_or_else(|| "values".to_owned(), kind));
    }
    match v.get("format").and_then(Value::as_str) {
        Some(f) => format!("{ty} ({f})"),
        None => ty,
    }
}

/// The description, flattened for the page.
fn views() -> (Vec<Operation>, Vec<SchemaView>) {
    let spec = serde_json::to_value(&*OPENAPI).unwrap_or_default();
    let mut operations = Vec::new();
    if let Some(paths) = spec.get("paths").and_then(Value::as_object) {
        for (path, item) in paths {
            let Some(item) = item.as_object() else { continue };
            for (method, op) in item {
                let parameters = op
                    .get("parameters")
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .map(|p| Parameter {
                        name: text(p, "name"),
                        place: text(p, "in"),
                        kind: p.get("schema").map(kind).unwrap_or_default(),
                        required: p.get("required").and_then(Value::as_bool).unwrap_or(false),
                        description: text(p, "description"),
                    })
                    .collect();
                let responses = op
                    .get("responses")
                    .and_then(Value::as_object)
                    .into_iter()
                    .flatten()
                    .map(|(status, r)| {
                        let body = r
                            .get("content")
                            .and_then(Value::as_object)
                            .and_then(|c| c.values().next())
                            .and_then(|m| m.get("schema"))
                            .map(kind)
                            .unwrap_or_default();
                        (status.clone(), text(r, "description"), body)
                    })
                    .collect();
                operations.push(Operation {
                    anchor: format!("{method}-{}", path.trim_matches('/').replace(['/', '{', '}'], "-")),
                    method: method.to_uppercase(),
                    path: path.clone(),
                    summary: text(op, "summary"),
                    description: text(op, "description"),
                    parameters,
                    responses,
                });
            }
        }
    }
    operations.sort_by(|a, b| a.path.cmp(&b.path));
    let mut schemas = Vec::new();
    if let Some(all) = spec.pointer("/components/schemas").and_then(Value::as_object) {
        for (name, schema) in all {
            let required: Vec<&str> = schema
                .get("required")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .collect();
            let fields = schema
                .get("properties")
                .and_then(Value::as_object)
                .into_iter()
                .flatten()
                .map(|(field, v)| {
                    let mut k = kind(v);
                    if !required.contains(&field.as_str()) {
                        k.push_str(", optional");
                    }
                    (field.clone(), k, text(v, "description"))
                })
                .collect();
            schemas.push(SchemaView { name: name.clone(), description: text(schema, "description"), fields });
        }
    }
    (operations, schemas)
}

/// `GET /api/docs`: the reference as a page of the site.
pub async fn page(State(app): State<AppState>) -> WebResult<Response> {
    let site = app.site.get();
    let views = app.views(&site);
    let (operations, schemas) = views_cached();
    let body = app.theme.render(
        "api.html",
        crate::view! {
            site => views.site(),
            meta => views.meta("API reference", "The JSON API of this site", "/api/docs"),
            title => OPENAPI.info.title,
            description => html(OPENAPI.info.description.as_deref().unwrap_or_default()),
            version => OPENAPI.info.version,
            operations => operations,
            schemas => schemas,
        },
    )?;
    Ok(crate::web::html_page(body))
}

fn views_cached() -> &'static (Vec<Operation>, Vec<SchemaView>) {
    static VIEWS: LazyLock<(Vec<Operation>, Vec<SchemaView>)> = LazyLock::new(views);
    &VIEWS
}
