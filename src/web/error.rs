//! Errors of the web layer.
//!
//! Which error where: storage returns `anyhow::Result<Option<T>>` (missing is not an error);
//! handlers turn "missing" into [`WebError::NotFound`] and bad input into
//! [`WebError::BadRequest`] with a message for the reader; anything else is
//! [`WebError::Internal`], logged once here with its context and shown as a plain 500 page.
//! The `render_error_pages` middleware renders the themed page for each.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

#[derive(Debug, thiserror::Error)]
pub enum WebError {
    #[error("not found")]
    NotFound,
    #[error("{0}")]
    BadRequest(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

/// Marks a response whose body the error-page middleware should render.
#[derive(Debug, Clone)]
pub struct ErrorPage {
    pub status: StatusCode,
    pub message: String,
}

impl IntoResponse for WebError {
    fn into_response(self) -> Response {
        let (status, message) = match self {
            WebError::NotFound => (StatusCode::NOT_FOUND, "That page does not exist.".to_owned()),
            WebError::BadRequest(msg) => (StatusCode::BAD_REQUEST, msg),
            WebError::Internal(err) if crate::storage::health::is_unavailable(&err) => {
                tracing::warn!(error = %format!("{err:#}"), "the database cannot be reached");
                let mut response = super::outage::unavailable();
                response.extensions_mut().insert(super::outage::DatabaseDown);
                return response;
            }
            WebError::Internal(err) => {
                tracing::error!(error = %format!("{err:#}"), "internal error");
                (StatusCode::INTERNAL_SERVER_ERROR, "Something went wrong on our side.".to_owned())
            }
        };
        let mut response = (status, message.clone()).into_response();
        response.extensions_mut().insert(ErrorPage { status, message });
        response
    }
}

pub type WebResult<T> = Result<T, WebError>;

/// `Option` from storage to a 404.
pub trait OrNotFound<T> {
    fn or_404(self) -> WebResult<T>;
}

impl<T> OrNotFound<T> for anyhow::Result<Option<T>> {
    fn or_404(self) -> WebResult<T> {
        self?.ok_or(WebError::NotFound)
    }
}
