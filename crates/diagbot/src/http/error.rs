//! Every error the API answers: JSON `{"error": …, "parameter": …}` with its status.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

#[derive(Serialize)]
pub struct ApiError {
    pub error: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub parameter: Option<String>,
    #[serde(skip)]
    pub status: StatusCode,
}

impl ApiError {
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
        ApiError {
            error: error.into(),
            parameter: None,
            status: StatusCode::SERVICE_UNAVAILABLE,
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
