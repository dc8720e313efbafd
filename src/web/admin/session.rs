//! Signing in and out, the `Staff` extractor, and CSRF tokens.

use std::net::SocketAddr;

use axum::Form;
use axum::extract::{ConnectInfo, FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Redirect, Response};
use serde::Deserialize;

use crate::accounts::{self, SignInError};
use crate::domain::Role;
use crate::storage::users;
use crate::web::AppState;
use crate::web::error::WebError;

pub const SESSION_COOKIE: &str = "gazette_session";
const LOGIN_COOKIE: &str = "gazette_login";
/// A device that has signed in before (see [`accounts::sign_in`]); sent to the sign-in form only.
const DEVICE_COOKIE: &str = "gazette_device";

/// A signed-in staff member. Handlers that take it are reachable only with a live session;
/// without one, the browser is sent to the sign-in page.
#[derive(Debug, Clone)]
pub struct Staff {
    pub user_id: i64,
    pub name: String,
    pub role: Role,
    pub csrf: String,
    token: String,
}

impl Staff {
    pub fn actor(&self) -> crate::content::Actor {
        crate::content::Actor { user_id: self.user_id, role: self.role }
    }

    /// Checks the form's token against the session's, in constant time.
    pub fn check_csrf(&self, token: &str) -> Result<(), ExpiredForm> {
        if constant_time_eq(token.as_bytes(), self.csrf.as_bytes()) { Ok(()) } else { Err(ExpiredForm) }
    }
}

/// A form whose CSRF token does not match the session's: refused, nothing changed.
#[derive(Debug)]
pub struct ExpiredForm;

impl IntoResponse for ExpiredForm {
    fn into_response(self) -> Response {
        (StatusCode::FORBIDDEN, "This form has expired. Go back, reload the page and try again.")
            .into_response()
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v.to_owned())
}

impl FromRequestParts<AppState> for Staff {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, app: &AppState) -> Result<Self, Self::Rejection> {
        let to_login = || Redirect::to("/admin").into_response();
        let token = cookie(&parts.headers, SESSION_COOKIE).ok_or_else(to_login)?;
        let session = accounts::session(&app.db, &token)
            .await
            .map_err(|e| WebError::Internal(e).into_response())?
            .ok_or_else(to_login)?;
        Ok(Staff {
            user_id: session.user_id,
            role: session.role.parse().unwrap_or(Role::Contributor),
            name: session.name,
            csrf: session.csrf_token,
            token,
        })
    }
}

fn secure(app: &AppState) -> &'static str {
    if app.base_url.as_deref().is_some_and(|u| u.starts_with("https://")) { "; Secure" } else { "" }
}

fn device_cookie(app: &AppState, value: &str) -> (header::HeaderName, HeaderValue) {
    let cookie = format!(
        "{DEVICE_COOKIE}={value}; Path=/admin/login; HttpOnly; SameSite=Strict; Max-Age={}{}",
        accounts::DEVICE_SECS,
        secure(app)
    );
    (header::SET_COOKIE, HeaderValue::from_str(&cookie).unwrap_or(HeaderValue::from_static("")))
}

fn set_cookie(app: &AppState, name: &str, value: &str, max_age: i64) -> (header::HeaderName, HeaderValue) {
    let cookie = format!("{name}={value}; Path=/; HttpOnly; SameSite=Lax; Max-Age={max_age}{}", secure(app));
    (header::SET_COOKIE, HeaderValue::from_str(&cookie).unwrap_or(HeaderValue::from_static("")))
}

/// `/admin`: the dashboard when signed in, else the sign-in form (or, on a fresh site, how to
/// create the first administrator).
pub async fn home(State(app): State<AppState>, headers: HeaderMap) -> Response {
    if let Some(token) = cookie(&headers, SESSION_COOKIE)
        && let Ok(Some(_)) = accounts::session(&app.db, &token).await
    {
        return Redirect::to("/admin/articles").into_response();
    }
    login_page(&app, None, "", StatusCode::OK).await
}

async fn login_page(app: &AppState, error: Option<String>, email: &str, status: StatusCode) -> Response {
    let users = match users::count(&app.db).await {
        Ok(n) => n,
        Err(e) => return WebError::Internal(e).into_response(),
    };
    let token = accounts::random_token();
    let site = app.site.get();
    let body = app.theme.render(
        "admin/login.html",
        crate::view! {
            site_name => site.settings.name,
            no_users => users == 0,
            login_token => token,
            error => error,
            email => email,
        },
    );
    match body {
        Ok(body) => (status, [set_cookie(app, LOGIN_COOKIE, &token, 3600)], Html(body)).into_response(),
        Err(e) => WebError::Internal(e).into_response(),
    }
}

#[derive(Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    login_token: String,
}

pub async fn login(
    State(app): State<AppState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
    Form(form): Form<LoginForm>,
) -> Response {
    let expected = cookie(&headers, LOGIN_COOKIE).unwrap_or_default();
    if expected.is_empty() || !constant_time_eq(expected.as_bytes(), form.login_token.as_bytes()) {
        return login_page(
            &app,
            Some("The sign-in form expired. Please try again.".into()),
            &form.email,
            StatusCode::FORBIDDEN,
        )
        .await;
    }
    let address = app.client_addr(peer, &headers);
    let device = cookie(&headers, DEVICE_COOKIE);
    match accounts::sign_in(&app.db, &form.email, &form.password, &address, device.as_deref()).await {
        Ok(session) => (
            axum::response::AppendHeaders([
                set_cookie(&app, SESSION_COOKIE, &session.token, accounts::ABSOLUTE_SECS),
                device_cookie(&app, &session.device),
            ]),
            Redirect::to("/admin/articles"),
        )
            .into_response(),
        Err(SignInError::Internal(e)) => WebError::Internal(e).into_response(),
        Err(e @ SignInError::Throttled(_)) => {
            login_page(&app, Some(e.to_string()), &form.email, StatusCode::TOO_MANY_REQUESTS).await
        }
        Err(e) => login_page(&app, Some(e.to_string()), &form.email, StatusCode::UNAUTHORIZED).await,
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(rename = "_csrf")]
    csrf: String,
}

pub async fn logout(State(app): State<AppState>, staff: Staff, Form(form): Form<CsrfForm>) -> Response {
    if let Err(refused) = staff.check_csrf(&form.csrf) {
        return refused.into_response();
    }
    if let Err(e) = accounts::sign_out(&app.db, &staff.token).await {
        return WebError::Internal(e).into_response();
    }
    ([set_cookie(&app, SESSION_COOKIE, "", 0)], Redirect::to("/admin")).into_response()
}
