//! `--remote URL`: ask a running daemon instead of scanning, and print the
//! same output from its warm cache.

use diagbot_core::query::{Query, QueryKind};
use diagbot_core::SearchResult;

/// Asks the daemon at `base` (for example `http://127.0.0.1:9187`) for `query`'s answer.
/// Without `explicit` sources (paths, units, the journal), the daemon's own
/// configured paths and units are read. A token is taken from
/// `$DIAGBOT_TOKEN`.
pub fn ask(base: &str, query: &Query, explicit: bool) -> anyhow::Result<SearchResult> {
    let (route, mut params): (&str, Vec<(&str, String)>) = match &query.kind {
        QueryKind::Grep {
            pattern,
            ignore_case,
            fixed_strings,
        } => (
            "grep",
            vec![
                ("pattern", pattern.clone()),
                ("ignore_case", ignore_case.to_string()),
                ("fixed_strings", fixed_strings.to_string()),
            ],
        ),
        QueryKind::Errors => ("errors", Vec::new()),
    };
    params.push(("max_lines", query.max_lines.to_string()));
    if let Some(b) = &query.since {
        params.push(("since", b.canonical()));
    }
    if let Some(b) = &query.until {
        params.push(("until", b.canonical()));
    }
    if explicit {
        let paths: Vec<String> = query
            .paths()
            .iter()
            .map(|p| p.display().to_string())
            .collect();
        if !paths.is_empty() {
            params.push(("paths", paths.join(",")));
        }
        for unit in &query.journal.units {
            params.push(("unit", unit.clone()));
        }
        if query.journal.whole {
            params.push(("journal", "true".into()));
        }
    }
    get_json(base, &format!("/api/v1/{route}"), &params)
}

/// GETs `base` + `path` with `params` and reads the JSON answer; an error
/// answer is shown with the daemon's own message.
pub fn get_json<T: serde::de::DeserializeOwned>(
    base: &str,
    path: &str,
    params: &[(&str, String)],
) -> anyhow::Result<T> {
    let url = url_of(base, path)?;
    let mut request = agent(120)
        .get(&url)
        .query_pairs(params.iter().map(|(k, v)| (*k, v.as_str())));
    if let Ok(token) = std::env::var("DIAGBOT_TOKEN") {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let response = request.call().map_err(|e| {
        anyhow::anyhow!("cannot reach the daemon at {url}: {e} (is `diagbot serve` running?)")
    })?;
    read_answer(&url, response)
}

/// POSTs `body` as JSON to `base` + `path` and reads the JSON answer; an
/// error answer is shown with the daemon's own message. A token is taken
/// from `$DIAGBOT_TOKEN`.
pub fn post_json<T: serde::de::DeserializeOwned>(
    base: &str,
    path: &str,
    body: &serde_json::Value,
) -> anyhow::Result<T> {
    let url = url_of(base, path)?;
    let mut request = agent(30)
        .post(&url)
        .header("Content-Type", "application/json");
    if let Ok(token) = std::env::var("DIAGBOT_TOKEN") {
        request = request.header("Authorization", &format!("Bearer {token}"));
    }
    let response = request.send(body.to_string()).map_err(|e| {
        anyhow::anyhow!("cannot reach the daemon at {url}: {e} (is `diagbot serve` running?)")
    })?;
    read_answer(&url, response)
}

/// `base` + `path`, for a plain-HTTP `base` only.
fn url_of(base: &str, path: &str) -> anyhow::Result<String> {
    if !base.starts_with("http://") {
        anyhow::bail!("--remote takes an http:// URL (got {base:?}); put TLS in front of diagbot with a proxy if needed");
    }
    Ok(format!("{}{path}", base.trim_end_matches('/')))
}

/// A client that hands error answers back (their JSON names the problem).
fn agent(timeout_secs: u64) -> ureq::Agent {
    ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(std::time::Duration::from_secs(timeout_secs)))
        .build()
        .into()
}

/// The JSON answer from `url`; an error answer as the daemon's own message.
fn read_answer<T: serde::de::DeserializeOwned>(
    url: &str,
    mut response: ureq::http::Response<ureq::Body>,
) -> anyhow::Result<T> {
    let status = response.status();
    let text = response
        .body_mut()
        .read_to_string()
        .map_err(|e| anyhow::anyhow!("reading the answer from {url}: {e}"))?;
    if !status.is_success() {
        let message = serde_json::from_str::<serde_json::Value>(&text)
            .ok()
            .and_then(|v| v["error"].as_str().map(str::to_string))
            .unwrap_or(text);
        anyhow::bail!("{url} answered {status}: {message}");
    }
    serde_json::from_str(&text)
        .map_err(|e| anyhow::anyhow!("{url} sent an answer diagbot cannot read: {e}"))
}
