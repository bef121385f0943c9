//! What a browser without the token gets: `?token=` checked and turned
//! into the cookie, the login form (401) otherwise; and the form's POST.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::{header, HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Form;

use super::{auth, escape, headers, ASSETS, ASSET_FILES, LOGIN, PAGES};
use crate::settings::Secret;
use crate::state::AppState;

/// What the token check does with a request.
pub enum Gate {
    /// It carries the token (or none is needed, or it needs none).
    Pass,
    /// A page asked for by a browser: this answer instead.
    Respond(Response),
    /// The API's JSON 401.
    Refuse,
}

/// Whether a request tries a token: the form's POST, `?token=` on a page,
/// or a token in its `Authorization` header or cookie. Every way counts
/// against one limit: a way left out would let guessing go on through it.
pub fn is_attempt(method: &Method, uri: &Uri, headers: &HeaderMap) -> bool {
    (uri.path() == LOGIN && method == Method::POST)
        || (PAGES.contains(&uri.path()) && auth::query_token(uri).is_some())
        || auth::presents_token(headers)
}

/// Decides for a request to any route when `http.token` is `token`.
pub fn gate(method: &Method, uri: &Uri, headers: &HeaderMap, token: &Secret) -> Gate {
    if token.is_empty() {
        return Gate::Pass;
    }
    let path = uri.path();
    if PAGES.contains(&path) {
        // `?token=` first, so that it leaves the address bar even when a cookie is there too.
        if let Some(given) = auth::query_token(uri) {
            return Gate::Respond(if token.matches(given.as_bytes()) {
                signed_in(&auth::without_token(uri), token)
            } else {
                form(Some("That is not the token configured."))
            });
        }
    }
    if auth::carries(headers, token) {
        return Gate::Pass;
    }
    // The assets hold no data, and the form checks the token it is given.
    let asset = path
        .strip_prefix(ASSETS)
        .is_some_and(|name| ASSET_FILES.contains(&name));
    if asset || (path == LOGIN && method == Method::POST) {
        return Gate::Pass;
    }
    if PAGES.contains(&path) {
        return Gate::Respond(form(None));
    }
    Gate::Refuse
}

/// `POST /login` with `token=...`: the cookie and back to the page, or the form again.
pub async fn submit(
    State(state): State<Arc<AppState>>,
    Form(fields): Form<BTreeMap<String, String>>,
) -> Response {
    let token = state.settings().http.token.clone();
    let given = fields.get("token").map_or("", String::as_str);
    if token.is_empty() {
        return redirect("/");
    }
    if token.matches(given.as_bytes()) {
        signed_in("/", &token)
    } else {
        form(Some("That is not the token configured."))
    }
}

/// 303 to `to` with the cookie set.
fn signed_in(to: &str, token: &Secret) -> Response {
    let mut response = redirect(to);
    response
        .headers_mut()
        .insert(header::SET_COOKIE, auth::set_cookie(token));
    response
}

fn redirect(to: &str) -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, to.to_string()),
            (header::CACHE_CONTROL, "no-store".to_string()),
        ],
    )
        .into_response()
}

/// The login form, 401, with `problem` said above it.
pub fn form(problem: Option<&str>) -> Response {
    let note = problem.map_or(String::new(), |p| {
        format!(
            r#"<p class="note" id="login-problem">{}</p>"#,
            escape::text(p)
        )
    });
    let html = format!(
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>diagbot: sign in</title><link rel="icon" href="{ASSETS}icon.svg" type="image/svg+xml"><link rel="stylesheet" href="{ASSETS}style.css"></head><body><main class="login"><h1>diagbot</h1><p>This dashboard needs the API token (<code>http.token</code>).</p>{note}<form method="post" action="{LOGIN}"><label>Token <input type="password" name="token" autocomplete="current-password" required autofocus></label> <button type="submit">Sign in</button></form></main></body></html>"#
    );
    let mut response = (StatusCode::UNAUTHORIZED, headers::page(), html).into_response();
    response.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        header::HeaderValue::from_static("Bearer"),
    );
    response
}
