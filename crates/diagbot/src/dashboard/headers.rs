//! The headers every dashboard response carries: HTML, never cached (it
//! holds live figures, and may sit behind a token), and a content security
//! policy that lets nothing run or load but the page's own script and style,
//! a second wall behind the escaping.

use axum::http::header::{self, HeaderName};

/// The headers of an HTML page.
pub fn page() -> [(HeaderName, &'static str); 4] {
    [
        (header::CONTENT_TYPE, "text/html; charset=utf-8"),
        (header::CACHE_CONTROL, "no-store"),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'",
        ),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
    ]
}
