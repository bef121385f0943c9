//! Every error the API answers: JSON `{"error": …, "parameter": …}` with its status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

use crate::present::refusal::Refusal;

#[derive(Serialize)]
pub struct ApiError {
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    #[serde(skip)]
    pub status: StatusCode,
}

impl ApiError {
    /// An answer of `status` saying `error`, with no parameter at fault.
    pub fn new(status: StatusCode, error: impl Into<String>) -> Self {
        ApiError {
            error: error.into(),
            parameter: None,
            status,
        }
    }

    pub fn bad(parameter: &str, error: impl Into<String>) -> Self {
        ApiError {
            error: error.into(),
            parameter: Some(parameter.to_string()),
            status: StatusCode::BAD_REQUEST,
        }
    }
}

impl ApiError {
    /// 503: the daemon cannot answer now (stopping, out of resources); `Retry-After` is set.
    pub fn unavailable(error: impl Into<String>) -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, error)
    }
}

impl ApiError {
    /// 500: the daemon failed at its own part (an answer it could not write).
    pub fn internal(error: impl Into<String>) -> Self {
        ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, error)
    }
}

/// The one place a refusal becomes a status: the asker's fault is 400 with the
/// parameter; the rest is 503.
impl From<Refusal> for ApiError {
    fn from(refusal: Refusal) -> Self {
        let status = match refusal {
            Refusal::Bad { .. } => StatusCode::BAD_REQUEST,
            Refusal::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError {
            parameter: refusal.parameter().map(str::to_string),
            error: refusal.to_string(),
            status,
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let retry = self.status == StatusCode::SERVICE_UNAVAILABLE;
        let mut response = (self.status, Json(&self)).into_response();
        if retry {
            response.headers_mut().insert(
                axum::http::header::RETRY_AFTER,
                axum::http::HeaderValue::from_static("1"),
            );
        }
        response
    }
}
