//! The API token in a browser: `?token=` once, or the login form, sets a
//! cookie (HttpOnly, so no script reads it; SameSite=Strict, so no other
//! site's page sends it) that the page and the API then accept as they
//! accept `Authorization: Bearer`.

use axum::http::header::{self, HeaderMap, HeaderValue};
use axum::http::Uri;

use crate::settings::Secret;

/// The cookie's name.
pub const COOKIE: &str = "diagbot_token";

/// The token a request carries as a bearer header or as the cookie, if it
/// is `token`.
pub fn carries(headers: &HeaderMap, token: &Secret) -> bool {
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(bearer_credentials);
    bearer.is_some_and(|t| token.matches(t.as_bytes()))
        || cookie_values(headers).any(|v| hex_decode(v).is_some_and(|t| token.matches(&t)))
}

/// The credentials of an `Authorization` value of the Bearer scheme: the
/// scheme's name is case-insensitive (RFC 9110, 11.1), so `bearer` and
/// `BEARER` are the same; blanks after it are one separator.
fn bearer_credentials(value: &str) -> Option<&str> {
    let (scheme, rest) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| rest.trim_start_matches(' '))
}

/// Whether the request presents a token, right or wrong: an
/// `Authorization` header or our cookie.
pub fn presents_token(headers: &HeaderMap) -> bool {
    headers.contains_key(header::AUTHORIZATION) || cookie_values(headers).next().is_some()
}

/// Every value of our cookie in the request's `Cookie` headers.
fn cookie_values(headers: &HeaderMap) -> impl Iterator<Item = &str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(name, _)| *name == COOKIE)
        .map(|(_, value)| value)
}

/// `Set-Cookie` holding `token` for this browser session. Hex, because a
/// token may hold bytes a cookie value may not.
pub fn set_cookie(token: &Secret) -> HeaderValue {
    let value = format!(
        "{COOKIE}={}; Path=/; HttpOnly; SameSite=Strict",
        hex_encode(token.expose().as_bytes())
    );
    HeaderValue::from_str(&value).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// The `token` query parameter's value, decoded.
pub fn query_token(uri: &Uri) -> Option<String> {
    let query = uri.query()?;
    let params: Vec<(String, String)> = serde_urlencoded::from_str(query).ok()?;
    params
        .into_iter()
        .find(|(k, _)| k == "token")
        .map(|(_, v)| v)
}

/// `uri` without its `token` parameter: where `?token=` redirects to, so
/// the token leaves the address bar and the history.
pub fn without_token(uri: &Uri) -> String {
    let kept: Vec<(String, String)> = uri
        .query()
        .and_then(|q| serde_urlencoded::from_str::<Vec<(String, String)>>(q).ok())
        .unwrap_or_default()
        .into_iter()
        .filter(|(k, _)| k != "token")
        .collect();
    let query = serde_urlencoded::to_string(&kept).unwrap_or_default();
    if query.is_empty() {
        uri.path().to_string()
    } else {
        format!("{}?{query}", uri.path())
    }
}

fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn hex_decode(s: &str) -> Option<Vec<u8>> {
    if s.len() % 2 != 0 {
        return None;
    }
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(s.get(i..i + 2)?, 16).ok())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                header::HeaderName::from_bytes(k.as_bytes()).unwrap_or(header::COOKIE),
                HeaderValue::from_str(v).unwrap_or(HeaderValue::from_static("")),
            );
        }
        h
    }

    #[test]
    fn the_cookie_it_sets_is_accepted_and_others_are_not() {
        let token = Secret::new("s3cret; with=odd \"bytes\"");
        let set = set_cookie(&token);
        let set = set.to_str().unwrap_or_default();
        assert!(
            set.contains("HttpOnly") && set.contains("SameSite=Strict"),
            "{set}"
        );
        let pair = set.split(';').next().unwrap_or_default();
        assert!(carries(
            &headers(&[("cookie", &format!("a=b; {pair}"))]),
            &token
        ));
        assert!(carries(
            &headers(&[("cookie", "a=b"), ("cookie", pair)]),
            &token
        ));
        assert!(!carries(
            &headers(&[("cookie", "diagbot_token=00ff")]),
            &token
        ));
        assert!(!carries(
            &headers(&[("cookie", "diagbot_token=zz")]),
            &token
        ));
        assert!(!carries(&headers(&[]), &token));
        assert!(carries(
            &headers(&[("authorization", "Bearer s3cret; with=odd \"bytes\"")]),
            &token
        ));
        // The scheme's name in any case (issue 26, 11); the token's own case counts.
        for value in [
            "bearer s3cret; with=odd \"bytes\"",
            "BEARER  s3cret; with=odd \"bytes\"",
        ] {
            assert!(
                carries(&headers(&[("authorization", value)]), &token),
                "{value}"
            );
        }
        assert!(!carries(
            &headers(&[("authorization", "Bearer S3CRET; with=odd \"bytes\"")]),
            &token
        ));
        assert!(!carries(
            &headers(&[("authorization", "Basic s3cret")]),
            &token
        ));
    }

    #[test]
    fn the_token_parameter_is_read_and_removed() {
        let uri: Uri = "/dashboard?range=6h&token=a%26b&x=1"
            .parse()
            .unwrap_or_default();
        assert_eq!(query_token(&uri).as_deref(), Some("a&b"));
        assert_eq!(without_token(&uri), "/dashboard?range=6h&x=1");
        let uri: Uri = "/?token=t".parse().unwrap_or_default();
        assert_eq!(without_token(&uri), "/");
    }
}
