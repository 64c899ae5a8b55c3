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
    /// No valid session: answered with `WWW-Authenticate: Bearer`.
    #[error("{0}")]
    Unauthorized(String),
    /// A session whose role or scope does not allow this.
    #[error("{0}")]
    Forbidden(String),
    /// Nothing at this address (unknown layer, unknown id).
    #[error("{0}")]
    NotFound(String),
    /// The body is larger than the route accepts.
    #[error("{0}")]
    TooLarge(String),
    /// The body's media type is not one the route reads.
    #[error("{0}")]
    UnsupportedMediaType(String),
    /// The body was read but breaks the model: every field at fault, with the reason.
    #[error("{}", .0.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Unprocessable(Vec<gridgov_model::ValidationError>),
    /// The write clashes with what is stored (a duplicate code).
    #[error("{0}")]
    Conflict(String),
    /// The feature changed since the client read it (`If-Match` is stale).
    #[error("{0}")]
    PreconditionFailed(String),
    /// A write without `If-Match`.
    #[error("{0}")]
    PreconditionRequired(String),
    /// Too many requests from one client: answered with `Retry-After` (seconds).
    #[error("{detail}")]
    TooManyRequests {
        /// What was exceeded.
        detail: String,
        /// Seconds until a request may succeed.
        retry_after: u64,
    },
    /// An action that must be audited could not be, so it was not done (503).
    #[error("{0}")]
    AuditUnavailable(String),
    /// Something inside the server failed; logged, never shown to the client.
    #[error("internal error: {0}")]
    Internal(String),
    /// The store failed; logged, never shown to the client.
    #[error("store error")]
    Store(#[from] gridgov_store::StoreError),
}

impl From<gridgov_store::WriteError> for ApiError {
    fn from(e: gridgov_store::WriteError) -> Self {
        use gridgov_store::{StoreError, WriteError};
        match e {
            WriteError::Invalid(rejected) => ApiError::Unprocessable(
                rejected.into_iter().map(|r| r.error).collect(),
            ),
            WriteError::Store(StoreError::Stale { layer, id, .. }) => ApiError::PreconditionFailed(
                format!("{layer} feature {id} has changed since it was read; read it again (GET) and retry with its new ETag"),
            ),
            WriteError::Store(e @ StoreError::NotFound { .. }) => ApiError::NotFound(e.to_string()),
            WriteError::Store(StoreError::Conflict(_)) => ApiError::Conflict(
                "a feature with the same id or code already exists".into(),
            ),
            WriteError::Store(e) => ApiError::Store(e),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, title, detail) = match &self {
            ApiError::BadRequest(d) => (StatusCode::BAD_REQUEST, "Bad request", d.clone()),
            ApiError::Unauthorized(d) => {
                let mut r = problem(StatusCode::UNAUTHORIZED, "Unauthorized", d);
                r.headers_mut().insert(
                    header::WWW_AUTHENTICATE,
                    header::HeaderValue::from_static("Bearer realm=\"gridgov\""),
                );
                return r;
            }
            ApiError::Forbidden(d) => (StatusCode::FORBIDDEN, "Forbidden", d.clone()),
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
            ApiError::Unprocessable(errors) => {
                let body = json!({
                    "type": "about:blank",
                    "title": "Unprocessable content",
                    "status": 422,
                    "detail": self.to_string(),
                    "errors": errors.iter().map(|e| json!({
                        "field": e.field,
                        "reason": e.reason,
                    })).collect::<Vec<_>>(),
                });
                return (
                    StatusCode::UNPROCESSABLE_ENTITY,
                    [(header::CONTENT_TYPE, "application/problem+json")],
                    body.to_string(),
                )
                    .into_response();
            }
            ApiError::Conflict(d) => (StatusCode::CONFLICT, "Conflict", d.clone()),
            ApiError::PreconditionFailed(d) => (
                StatusCode::PRECONDITION_FAILED,
                "Precondition failed",
                d.clone(),
            ),
            ApiError::PreconditionRequired(d) => (
                StatusCode::PRECONDITION_REQUIRED,
                "Precondition required",
                d.clone(),
            ),
            ApiError::TooManyRequests {
                detail,
                retry_after,
            } => {
                let mut r = problem(StatusCode::TOO_MANY_REQUESTS, "Too many requests", detail);
                r.headers_mut()
                    .insert(header::RETRY_AFTER, header::HeaderValue::from(*retry_after));
                return r;
            }
            ApiError::AuditUnavailable(d) => {
                tracing::error!(detail = %d, "audit log unavailable");
                (
                    StatusCode::SERVICE_UNAVAILABLE,
                    "Service unavailable",
                    d.clone(),
                )
            }
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
        problem(status, title, &detail)
    }
}

/// A problem+json answer.
fn problem(status: StatusCode, title: &str, detail: &str) -> Response {
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

/// Turns every error answer that is not already a problem into one: axum's own rejections
/// (a duplicated query parameter, a body over the limit, a method the route does not have)
/// and static files not found answer in plain text; clients of this API get problem+json
/// whatever refused them. The original text, short and free of internals, becomes `detail`.
pub async fn problems_everywhere(response: Response) -> Response {
    let status = response.status();
    let is_problem = response
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with("application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return response;
    }
    let (parts, body) = response.into_parts();
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let detail = if text.is_empty() || status.is_server_error() {
        status.canonical_reason().unwrap_or("error").to_owned()
    } else {
        text
    };
    let body = json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut out = (
        status,
        [(header::CONTENT_TYPE, "application/problem+json")],
        body.to_string(),
    )
        .into_response();
    // Keep what tells the client how to proceed (Allow on 405, for one).
    for name in [header::ALLOW, header::RETRY_AFTER, header::WWW_AUTHENTICATE] {
        if let Some(v) = parts.headers.get(&name) {
            out.headers_mut().insert(name, v.clone());
        }
    }
    out
}
