//! The one error type of the HTTP API: RFC 9457 problem+json bodies, no internal detail.

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

/// An error answered to a client.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is malformed (a bad parameter); names the parameter.
    #[error("{0}")]
    BadRequest(String),
    /// Nothing at this address (unknown layer, unknown id).
    #[error("{0}")]
    NotFound(String),
    /// The body is larger than the route accepts.
    #[error("{0}")]
    TooLarge(String),
    /// The body's media type is not one the route reads.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// Something inside the server failed; logged, never shown to the client.
    #[error("internal error: {0}")]
    Internal(String),
    /// The store failed; logged, never shown to the client.
    #[error("store error")]
    Store(#[from] gridgov_store::StoreError),
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, title, detail) = match &self {
            ApiError::BadRequest(d) => (StatusCode::BAD_REQUEST, "Bad request", d.clone()),
            ApiError::NotFound(d) => (StatusCode::NOT_FOUND, "Not found", d.clone()),
            ApiError::TooLarge(d) => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "Payload too large",
                d.clone(),
            ),
            ApiError::UnsupportedMediaType(d) => (
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "Unsupported media type",
                d.clone(),
            ),
            ApiError::Internal(e) => {
                tracing::error!(error = %e, "internal error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error",
                    "the server failed; the error has been logged".to_owned(),
                )
            }
            ApiError::Store(e) => {
                tracing::error!(error = %e, "store error");
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Internal error",
                    "the store could not answer; the error has been logged".to_owned(),
                )
            }
        };
        let body = json!({
            "type": "about:blank",
            "title": title,
            "status": status.as_u16(),
            "detail": detail,
        });
        (
            status,
            [(header::CONTENT_TYPE, "application/problem+json")],
            body.to_string(),
        )
            .into_response()
    }
}
