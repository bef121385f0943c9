//! The dashboard over HTTP, as a browser without JavaScript sees it: the
//! page with its charts, ranges as links, history's absence said, markup
//! from the configuration shown as text; and the token: `?token=` once,
//! the login form, the cookie the API accepts too.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::path::Path;
use std::time::Duration;

use crate::common::*;

/// A service and a refresh query whose names are markup, on a fixture
/// `/proc` (memory, load, the unit's process at 160 MiB) and units read
/// through a fake `systemctl`.
pub fn fixture_config(root: &Path, logs: &Path, http: &str) -> String {
    use std::os::unix::fs::PermissionsExt;
    let proc = root.join("proc");
    std::fs::create_dir_all(&proc).unwrap();
    std::fs::write(
        proc.join("meminfo"),
        "MemTotal: 961000 kB\nMemFree: 1000 kB\nMemAvailable: 400000 kB\nSwapTotal: 524288 kB\nSwapFree: 262144 kB\n",
    )
    .unwrap();
    std::fs::write(proc.join("loadavg"), "0.42 0.30 0.20 1/100 1234\n").unwrap();
    std::fs::write(proc.join("vmstat"), "oom_kill 0\n").unwrap();
    std::fs::write(proc.join("uptime"), "90061.00 1000.00\n").unwrap();
    std::fs::write(proc.join("stat"), "cpu  100 0 100 1000 0 0 0 0 0 0\n").unwrap();
    std::fs::write(proc.join("mounts"), "").unwrap();
    // The unit's main process: python3 at 160 MiB.
    crate::health::process(
        root,
        4242,
        &["python3", "bot.py"],
        160 << 10,
        1000,
        "0::/system.slice/bot.service\n",
    );
    let show = root.join("show.txt");
    std::fs::write(&show, "LoadState=loaded\nActiveState=active\nSubState=running\nMainPID=4242\nNRestarts=3\nResult=oom-kill\nControlGroup=/system.slice/bot.service\n").unwrap();
    let systemctl = root.join("systemctl");
    std::fs::write(&systemctl, format!("#!/bin/sh\ncat {show:?}\n")).unwrap();
    std::fs::set_permissions(&systemctl, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!(
        "[logs]\npaths = [{logs:?}]\n\
         [refresh]\ninterval = \"1h\"\nqueries = [ {{ name = \"<script>alert('query')</script>\", kind = \"errors\" }} ]\n\
         [system]\nproc_root = {proc:?}\nsys_root = {sys:?}\nkmsg = \"\"\nkernel_log = \"\"\n\
         systemctl = {systemctl:?}\njournalctl = \"/nonexistent/journalctl\"\n\
         [health]\nsample_interval = \"1s\"\n\
         [storage]\nenabled = false\n\
         {http}\n\
         [[services]]\nname = \"bot\"\nunit = \"bot.service\"\nmemory_limit = \"512MiB\"\n\
         [[services]]\nname = \"<img src=x onerror=alert('svc')>\"\nunit = \"other.service\"\n",
        sys = root.join("sys"),
    )
}

/// A daemon on the fixture, with `http` added to its configuration.
pub fn fixture_daemon(http: &str) -> (tempfile::TempDir, TestDaemon) {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("app.log"), APP_LOG).unwrap();
    std::fs::write(logs.join("recent.log"), recent_log(chrono::Utc::now())).unwrap();
    let config_file = dir.path().join("diagbot.toml");
    std::fs::write(&config_file, fixture_config(dir.path(), &logs, http)).unwrap();
    let d = TestDaemon::start(&config_file);
    // The first sample gives the host's trend line: a page served before it
    // would lack the line that the script's redraw then shows.
    let trend = || -> serde_json::Value {
        let (_, body) = get_with(&d.url("/api/v1/status"), token_of(http));
        serde_json::from_str::<serde_json::Value>(&body).unwrap_or_default()["host_memory_trend"]
            .clone()
    };
    eventually("the first sample", Duration::from_secs(60), || {
        !trend().is_null()
    });
    (dir, d)
}

/// Errors and warnings of the last hours (the dashboard's error groups),
/// one with markup in its message: two groups, and a bar for each hour
/// they were seen in.
pub fn recent_log(now: chrono::DateTime<chrono::Utc>) -> String {
    let at = |minutes_ago: i64| {
        (now - chrono::Duration::minutes(minutes_ago)).format("%Y-%m-%dT%H:%M:%SZ")
    };
    [
        (
            290,
            "ERROR payment <script>alert('log')</script> failed for order 1001",
        ),
        (
            160,
            "ERROR payment <script>alert('log')</script> failed for order 1002",
        ),
        (170, "WARNING disk /var is 91% full"),
        (
            150,
            "ERROR payment <script>alert('log')</script> failed for order 1003",
        ),
        (
            20,
            "ERROR payment <script>alert('log')</script> failed for order 1004",
        ),
        (10, "WARNING disk /var is 95% full"),
    ]
    .iter()
    .map(|(ago, message)| format!("{} {message}\n", at(*ago)))
    .collect()
}

/// The token an `[http]` snippet sets, if any.
fn token_of(http: &str) -> Option<&str> {
    let rest = http.split("token = \"").nth(1)?;
    rest.split('"').next()
}

/// One request without following redirects: status, the headers asked for, body.
fn request(
    method: &str,
    url: &str,
    headers: &[(&str, &str)],
    body: Option<&str>,
    want: &[&str],
) -> (u16, Vec<Option<String>>, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .max_redirects(0)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut response = if method == "POST" {
        let mut req = agent.post(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.header("Content-Type", "application/x-www-form-urlencoded")
            .send(body.unwrap_or(""))
            .unwrap()
    } else {
        let mut req = agent.get(url);
        for (k, v) in headers {
            req = req.header(*k, *v);
        }
        req.call().unwrap()
    };
    let found = want
        .iter()
        .map(|h| {
            response
                .headers()
                .get(*h)
                .map(|v| v.to_str().unwrap().to_string())
        })
        .collect();
    let status = response.status().as_u16();
    (status, found, response.body_mut().read_to_string().unwrap())
}

#[test]
fn the_page_shows_charts_without_javascript_and_says_why_history_is_missing() {
    let (_dir, d) = fixture_daemon("");
    let (code, headers, html) = request(
        "GET",
        &d.url("/"),
        &[],
        None,
        &["content-type", "content-security-policy"],
    );
    assert_eq!(code, 200, "{html}");
    assert_eq!(headers[0].as_deref(), Some("text/html; charset=utf-8"));
    assert!(headers[1].as_deref().unwrap().contains("script-src 'self'"));
    // Host memory, swap, load, two services, one query: six charts.
    assert_eq!(html.matches(r#"class="chart""#).count(), 6, "{html}");
    for id in [
        "host-memory",
        "host-swap",
        "host-load",
        "service-0",
        "service-1",
        "query-0",
    ] {
        assert!(
            html.contains(&format!(r#"id="chart-{id}""#)),
            "{id}: {html}"
        );
    }
    // The fixture's values now: 961000 kB total, load 0.42, the unit's limit.
    assert!(html.contains("<title>total: 938.5 MiB</title>"), "{html}");
    assert!(html.contains("<title>load1: 0.42</title>"), "{html}");
    assert!(html.contains("<title>limit: 512.0 MiB</title>"), "{html}");
    assert!(html.contains("<title>RSS: 160.0 MiB</title>"), "{html}");
    assert!(
        html.contains("History is unavailable (history is off: storage.enabled is false)"),
        "{html}"
    );
    assert!(
        html.contains("<td>bot</td><td>active (running)</td>"),
        "{html}"
    );
    // Markup in a service's and a query's name is text: our two scripts and no other element.
    assert_eq!(html.matches("<script").count(), 2, "{html}");
    assert!(!html.contains("<img"), "{html}");
    assert!(html.contains("&lt;img src=x onerror=alert(&#39;svc&#39;)&gt; RSS"));
    assert!(
        html.contains("&lt;script&gt;alert(&#39;query&#39;)&lt;/script&gt;: new matches per hour")
    );
    // The error groups of the last 6 h, most lines first, the markup in a
    // log line shown as text, with a bar for each hour a group was seen in.
    assert!(
        html.contains("6 warnings or errors in the last 6h, in 2 groups."),
        "{html}"
    );
    let payment = html.find("<code title=\"20").expect("a group's row");
    assert!(
        html[payment..].starts_with("<code title=\"") && html[payment..].contains("failed for order 1004\">payment &lt;script&gt;alert(&#39;log&#39;)&lt;/script&gt; failed for order &lt;num&gt;</code>"),
        "{html}"
    );
    let rows: Vec<&str> = html.split("<tr data-id=").skip(1).collect();
    assert_eq!(rows.len(), 2, "{html}");
    assert!(
        rows[0].contains("<td>error</td>") && rows[0].contains("<td>4</td>"),
        "{}",
        rows[0]
    );
    assert!(
        rows[0].contains("aria-label=\"4 in all, at most 2 per hour\""),
        "{}",
        rows[0]
    );
    // 290, 160 and 150, and 20 minutes ago: three hours with a bar.
    assert_eq!(rows[0].matches("<rect").count(), 3, "{}", rows[0]);
    assert!(
        rows[1].contains("<td>warning</td>") && rows[1].contains("<td>2</td>"),
        "{}",
        rows[1]
    );
    // The same at /dashboard; the range is in the axis.
    let (code, _, other) = request("GET", &d.url("/dashboard?range=1h"), &[], None, &[]);
    assert_eq!(code, 200);
    assert!(
        other.contains(">-1 h<") && !other.contains(">-6 h<"),
        "{other}"
    );
    assert!(html.contains(">-6 h<"), "6 h by default: {html}");
    let (_, _, month) = request("GET", &d.url("/?range=30d"), &[], None, &[]);
    assert!(month.contains(">-30 d<") && month.contains(r#"data-range="30d" class="active""#));
    let (code, _, unknown) = request("GET", &d.url("/?range=2y"), &[], None, &[]);
    assert_eq!(code, 200);
    assert!(unknown.contains("No range 2y: showing 6h."), "{unknown}");
    // The assets, embedded.
    let (code, headers, script) = request(
        "GET",
        &d.url("/dashboard/assets/app.js"),
        &[],
        None,
        &["content-type"],
    );
    assert_eq!(
        (code, headers[0].as_deref()),
        (200, Some("text/javascript; charset=utf-8"))
    );
    assert!(script.contains("/api/v1/history?series="));
    let (code, _, style) = request("GET", &d.url("/dashboard/assets/style.css"), &[], None, &[]);
    assert_eq!(code, 200);
    assert!(style.contains("svg.chart"));
}

#[test]
fn without_the_token_a_browser_gets_the_login_form_and_no_data() {
    let (_dir, d) = fixture_daemon("[http]\ntoken = \"t0ken\"\n");
    for path in ["/", "/dashboard?range=1h"] {
        let (code, _, html) = request("GET", &d.url(path), &[], None, &[]);
        assert_eq!(code, 401, "{path}");
        assert!(
            html.contains(r#"<form method="post" action="/login">"#),
            "{html}"
        );
        assert!(
            !html.contains("<svg") && !html.contains("<td>") && !html.contains("MiB"),
            "{html}"
        );
    }
    let (code, headers, html) = request("GET", &d.url("/?token=t0ke"), &[], None, &["set-cookie"]);
    assert_eq!(code, 401);
    assert!(html.contains("That is not the token configured."), "{html}");
    assert_eq!(headers[0], None);
    // The API stays JSON.
    let (code, _, body) = request("GET", &d.url("/api/v1/status"), &[], None, &[]);
    assert_eq!(code, 401);
    assert!(body.contains("missing or wrong bearer token"), "{body}");
    // A wrong cookie is no token.
    let (code, _, _) = request(
        "GET",
        &d.url("/api/v1/status"),
        &[("Cookie", "diagbot_token=74306b656e30")],
        None,
        &[],
    );
    assert_eq!(code, 401);
    let (code, _, html) = request(
        "POST",
        &d.url("/login"),
        &[],
        Some("token=nope"),
        &["set-cookie"],
    );
    assert_eq!(code, 401);
    assert!(html.contains("That is not the token configured."), "{html}");
    // The assets hold no data and load without it (the form uses the style sheet).
    assert_eq!(
        request("GET", &d.url("/dashboard/assets/style.css"), &[], None, &[]).0,
        200
    );
}

#[test]
fn the_token_given_once_becomes_a_cookie_that_the_page_and_the_api_accept() {
    let (_dir, d) = fixture_daemon("[http]\ntoken = \"t0ken\"\n");
    let (code, headers, _) = request(
        "GET",
        &d.url("/?range=1h&token=t0ken"),
        &[],
        None,
        &["location", "set-cookie"],
    );
    assert_eq!(code, 303);
    assert_eq!(
        headers[0].as_deref(),
        Some("/?range=1h"),
        "the token leaves the address"
    );
    let set = headers[1].clone().unwrap();
    assert!(
        set.contains("HttpOnly") && set.contains("SameSite=Strict") && set.contains("Path=/"),
        "{set}"
    );
    let cookie = set.split(';').next().unwrap().to_string();
    let (code, _, html) = request(
        "GET",
        &d.url("/?range=1h"),
        &[("Cookie", &cookie)],
        None,
        &[],
    );
    assert_eq!(code, 200);
    assert!(html.contains(r#"id="chart-service-0""#), "{html}");
    let (code, _, body) = request(
        "GET",
        &d.url("/api/v1/status"),
        &[("Cookie", &cookie)],
        None,
        &[],
    );
    assert_eq!(code, 200, "{body}");
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["services"][0]["name"],
        "bot"
    );
    // The form does the same.
    let (code, headers, _) = request(
        "POST",
        &d.url("/login"),
        &[],
        Some("token=t0ken"),
        &["location", "set-cookie"],
    );
    assert_eq!(code, 303);
    assert_eq!(headers[0].as_deref(), Some("/"));
    assert_eq!(
        headers[1].as_deref().map(|s| s.split(';').next().unwrap()),
        Some(cookie.as_str())
    );
    // The bearer header still opens everything.
    assert_eq!(get_with(&d.url("/dashboard"), Some("t0ken")).0, 200);
}

/// A page that cannot wait for its error groups is served without them and
/// says why, and the grouping goes on into the cache: the script's next
/// refresh (the same question) finds it there, and does not start it again.
#[test]
fn a_page_served_before_its_groups_are_counted_leaves_them_counting() {
    use diagbot::dashboard::{groups_query, range::Range, read_groups};
    use diagbot_core::cache::HitOrLoad;
    let (_dir, d) = fixture_daemon("");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        // Another grouping runs (it holds the one turn there is): the page's waits.
        let turn = d.state.groups_in_flight.acquire().await.unwrap();
        let served = read_groups(&d.state, Range::Week, Duration::from_millis(200)).await;
        let why = served.expect_err("no turn to count in");
        assert!(why.contains("still being counted"), "{why}");
        drop(turn);
        let (answer, how) =
            diagbot::grouping::answer(&d.state, groups_query(&d.state, Range::Week), false)
                .await
                .unwrap();
        assert!(
            matches!(how, HitOrLoad::Hit | HitOrLoad::Joined),
            "the page's grouping was stopped: {how:?}"
        );
        assert_eq!(answer.lines_considered, 6, "{answer:?}");
    });
}
