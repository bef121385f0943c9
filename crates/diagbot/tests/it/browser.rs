//! The dashboard in a real headless Chromium (Debian's `chromium`, driven
//! through `chromedriver` with fantoccini): the charts are drawn, ranges
//! switch in place, the page's script refreshes without a console error or
//! an exception, and the token's login works. Skipped with a note when
//! Chromium is not installed, except in CI (`CI=true`), where that fails.
//! With `DIAGBOT_SCREENSHOT=1` the page is saved as `docs/dashboard.png`.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use axum::http::Method;
use fantoccini::wd::WebDriverCompatibleCommand;
use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::{json, Value};

use crate::common::*;
use crate::dashboard::fixture_daemon;

/// How long any one wait for the page may last before the test fails.
const PATIENCE: Duration = Duration::from_secs(30);

/// The first of `names` on `PATH`.
fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .flat_map(|dir| names.iter().map(move |n| dir.join(n)))
        .find(|p| p.is_file())
}

/// chromedriver and the browser, or `None` after a one-line note; in CI, a failure.
fn tools() -> Option<(PathBuf, PathBuf)> {
    let driver = on_path(&["chromedriver"]);
    let browser = on_path(&["chromium", "chromium-browser"]);
    match (driver, browser) {
        (Some(d), Some(b)) => Some((d, b)),
        _ => {
            let in_ci = std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false");
            assert!(
                !in_ci,
                "chromium and chromedriver are required in CI (.ci/run installs them)"
            );
            eprintln!("note: browser test skipped: chromium or chromedriver is not installed (apt-get install chromium chromium-driver)");
            None
        }
    }
}

/// A chromedriver child, stopped when dropped.
struct Driver(Child);

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Chromedriver's browser log (console messages, uncaught exceptions).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        (Method::POST, Some(json!({ "type": "browser" }).to_string()))
    }
}

/// A DevTools command through chromedriver (`goog/cdp/execute`).
#[derive(Debug)]
struct DevTools {
    command: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for DevTools {
    fn endpoint(
        &self,
        base: &url::Url,
        session: Option<&str>,
    ) -> Result<url::Url, url::ParseError> {
        base.join(&format!(
            "session/{}/goog/cdp/execute",
            session.unwrap_or_default()
        ))
    }

    fn method_and_body(&self, _: &url::Url) -> (Method, Option<String>) {
        (
            Method::POST,
            Some(json!({ "cmd": self.command, "params": self.params }).to_string()),
        )
    }
}

/// One headless Chromium session, driven synchronously.
pub struct Browser {
    client: Client,
    runtime: tokio::runtime::Runtime,
    _driver: Driver,
}

/// What the page shows, read only if a wait times out (for its message).
struct OnTimeout<F: Fn() -> String>(F);

impl<F: Fn() -> String> std::fmt::Debug for OnTimeout<F> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&(self.0)())
    }
}

impl Browser {
    /// A new browser, or `None` where there is none (see [`tools`]).
    pub fn start() -> Option<Browser> {
        let (driver, browser) = tools()?;
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let child = Command::new(driver)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let driver = Driver(child);
        let url = format!("http://127.0.0.1:{port}/");
        eventually("chromedriver to listen", PATIENCE, || {
            std::net::TcpStream::connect(("127.0.0.1", port)).is_ok()
        });
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        let capabilities = json!({
            "goog:chromeOptions": {
                "binary": browser,
                // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--no-first-run", "--window-size=1100,2400"],
            },
            "goog:loggingPrefs": { "browser": "ALL" },
        });
        let Value::Object(capabilities) = capabilities else {
            unreachable!()
        };
        let client = runtime
            .block_on(
                ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
                    .capabilities(capabilities)
                    .connect(&url),
            )
            .unwrap();
        Some(Browser {
            client,
            runtime,
            _driver: driver,
        })
    }

    pub fn goto(&self, url: &str) {
        self.runtime.block_on(self.client.goto(url)).unwrap();
    }

    pub fn url(&self) -> String {
        self.runtime
            .block_on(self.client.current_url())
            .unwrap()
            .to_string()
    }

    /// The value of a JavaScript expression in the page.
    pub fn eval(&self, expression: &str) -> Value {
        self.runtime
            .block_on(
                self.client
                    .execute(&format!("return ({expression});"), vec![]),
            )
            .unwrap()
    }

    /// What `script` (a function body reading `arguments`) returns for `args`.
    pub fn call(&self, script: &str, args: Vec<Value>) -> Value {
        self.runtime
            .block_on(self.client.execute(script, args))
            .unwrap()
    }

    /// Waits until `expression` is true in the page, for at most `PATIENCE`.
    pub fn wait_until(&self, what: &str, expression: &str) {
        eventually(&format!("{what}: {expression}"), PATIENCE, || {
            if self.eval(expression) == Value::Bool(true) {
                Ok(())
            } else {
                // Read only for the message: reading the console empties it.
                Err(OnTimeout(|| {
                    format!(
                        "the page's note: {}\nconsole errors: {:#?}",
                        self.eval("document.getElementById('history-note').textContent"),
                        self.console_errors()
                    )
                }))
            }
        });
    }

    pub fn click(&self, css: &str) {
        self.runtime
            .block_on(async { self.client.find(Locator::Css(css)).await?.click().await })
            .unwrap();
    }

    pub fn type_into(&self, css: &str, text: &str) {
        self.runtime
            .block_on(async {
                self.client
                    .find(Locator::Css(css))
                    .await?
                    .send_keys(text)
                    .await
            })
            .unwrap();
    }

    /// The page as if the system asked for `scheme` (`light` or `dark`).
    pub fn prefer_color_scheme(&self, scheme: &str) {
        let features = json!([{ "name": "prefers-color-scheme", "value": scheme }]);
        self.runtime
            .block_on(self.client.issue_cmd(DevTools {
                command: "Emulation.setEmulatedMedia",
                params: json!({ "features": features }),
            }))
            .unwrap();
    }

    /// Console errors and uncaught exceptions since the last call.
    pub fn console_errors(&self) -> Vec<String> {
        let log = self
            .runtime
            .block_on(self.client.issue_cmd(BrowserLog))
            .unwrap();
        log.as_array()
            .unwrap()
            .iter()
            .filter(|entry| entry["level"] == "SEVERE")
            .map(|entry| entry["message"].as_str().unwrap_or_default().to_string())
            .collect()
    }

    /// The number of points in a chart's line (`class` among `series`).
    pub fn chart_points(&self, chart: &str, class: &str) -> usize {
        let d = self.eval(&format!(
            "document.querySelector('#chart-{chart} path.series.{class}').getAttribute('d')"
        ));
        let d = d.as_str().unwrap();
        d.matches('M').count() + d.matches('L').count()
    }

    /// The hover texts of a chart's markers of `kind`.
    pub fn marker_texts(&self, chart: &str, kind: &str) -> Vec<String> {
        let texts = self.eval(&format!(
            "Array.from(document.querySelectorAll('#chart-{chart} g.marker.{kind} > title')).map((t) => t.textContent)"
        ));
        serde_json::from_value(texts).unwrap()
    }

    /// With `DIAGBOT_SCREENSHOT=1`, the window as `docs/dashboard.png`.
    pub fn screenshot_if_asked(&self) {
        if std::env::var("DIAGBOT_SCREENSHOT").is_ok_and(|v| v == "1") {
            let png = self.runtime.block_on(self.client.screenshot()).unwrap();
            let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/dashboard.png");
            std::fs::write(&path, png).unwrap();
            eprintln!("saved {}", path.display());
        }
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let client = self.client.clone();
        let _ = self.runtime.block_on(client.close());
    }
}

/// What the page shows, element by element, less what moves by itself on a
/// fixture (the CPU, diagbot's own RSS, the trend's sample counts, the time
/// in the hover text of the point now): the
/// served page and the script's redraw of the same range must be equal.
fn drawn(browser: &Browser) -> String {
    let charts = browser.eval(
        "((hoverless) => Array.from(document.querySelectorAll('#charts figure')).map((f) => \
           f.querySelector('figcaption').textContent + '\\n' + \
           Array.from(f.querySelectorAll('svg.chart, svg.chart *')).map((e) => \
             [e.tagName, ...['id', 'class', 'd', 'x1', 'y1', 'x2', 'y2', 'cx', 'cy', 'r', 'x', 'y', 'viewBox', 'aria-label'] \
               .map((a) => e.getAttribute(a)), e.children.length === 0 ? hoverless(e) : ''].join('|')).join('\\n')).join('\\n\\n')) \
           ((e) => e.tagName === 'title' && e.parentNode.classList.contains('point') \
             ? e.textContent.replace(/^\\S+ \\S+ UTC /, 'TIME ') : e.textContent)",
    );
    let host = browser.eval(
        "Array.from(document.querySelectorAll('#status dl dt')).map((dt) => dt.textContent + ': ' + \
           (['cpu', 'diagbot', 'memory trend'].includes(dt.textContent) ? '' : dt.nextElementSibling.textContent)).join('\\n')",
    );
    let services = browser.eval(
        "Array.from(document.querySelectorAll('#status table tr')).map((tr) => \
           Array.from(tr.cells).slice(0, 7).map((c) => c.textContent).join(' | ')).join('\\n')",
    );
    let groups = browser.eval(&format!(
        "({GROUPS_SIGNATURE})(document.getElementById('groups'))"
    ));
    format!(
        "{}\n\n{}\n\n{}\n\n{}",
        host.as_str().unwrap(),
        services.as_str().unwrap(),
        charts.as_str().unwrap(),
        groups.as_str().unwrap()
    )
}

/// A function of a box (`#groups`) giving its elements, one a line, with
/// their attributes and text, then the box's whole text.
const GROUPS_SIGNATURE: &str = "(box) => Array.from(box.querySelectorAll('*')).map((e) => \
       [e.tagName, ...['class', 'title', 'data-id', 'x', 'y', 'width', 'height', 'viewBox', 'aria-label'] \
         .map((a) => e.getAttribute(a)), e.children.length === 0 ? e.textContent : ''].join('|')).join('\\n') \
       + '\\n' + box.textContent";

/// Fails at the first element the two drawings differ in, naming it.
fn same_drawing(script: &str, server: &str) {
    let (a, b): (Vec<&str>, Vec<&str>) = (script.lines().collect(), server.lines().collect());
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(x, y, "element {i} differs: the script's, then the server's");
    }
    assert_eq!(
        a.len(),
        b.len(),
        "the script drew {} lines of elements, the server {}",
        a.len(),
        b.len()
    );
}

/// The `index`th field of each line of a drawing's signature that starts with `prefix`.
fn attribute(signature: &str, prefix: &str, index: usize) -> Vec<String> {
    signature
        .lines()
        .filter(|l| l.starts_with(prefix))
        .map(|l| l.split('|').nth(index).unwrap_or_default().to_string())
        .collect()
}

/// The value labels of each chart in a signature (charts apart by a blank line).
fn y_labels_of(signature: &str) -> Vec<Vec<String>> {
    signature
        .split("\n\n")
        .map(|svg| {
            svg.lines()
                .filter(|l| l.starts_with("text||ylabel|"))
                .map(|l| l.rsplit('|').next().unwrap().to_string())
                .collect()
        })
        .collect()
}

/// Labels like "0 MiB", "200 MiB", "400 MiB": distinct, evenly spaced by 1,
/// 2, 2.5 or 5 × 10^k, in one unit.
fn round_and_distinct(labels: &[String]) {
    let numbers: Vec<f64> = labels
        .iter()
        .map(|l| l.split(' ').next().unwrap().parse().unwrap())
        .collect();
    let units: Vec<&str> = labels
        .iter()
        .map(|l| l.split(' ').nth(1).unwrap_or(""))
        .collect();
    assert!(units.windows(2).all(|u| u[0] == u[1]), "{labels:?}");
    assert_eq!(numbers[0], 0.0, "{labels:?}");
    if numbers.len() < 2 {
        return;
    }
    let step = numbers[1];
    let mut mantissa = step;
    while mantissa >= 10.0 {
        mantissa /= 10.0;
    }
    while mantissa < 1.0 {
        mantissa *= 10.0;
    }
    assert!(
        [1.0, 2.0, 2.5, 5.0]
            .iter()
            .any(|m| (m - mantissa).abs() < 1e-9),
        "{labels:?}"
    );
    for (i, n) in numbers.iter().enumerate() {
        assert!((n - step * i as f64).abs() < 1e-9, "{labels:?}");
    }
}

/// The x-axis labels of a chart, left to right.
fn axis(browser: &Browser, chart: &str) -> Vec<String> {
    serde_json::from_value(browser.eval(&format!(
        "Array.from(document.querySelectorAll('#chart-{chart} text.xlabel')).map((t) => t.textContent)"
    )))
    .unwrap()
}

#[test]
fn the_dashboard_draws_its_charts_and_switches_ranges_in_a_real_browser() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let (_dir, d) = fixture_daemon("");
    browser.goto(&d.url("/?range=1h"));
    // The served charts: the host's three, two services, one query.
    assert_eq!(
        browser.eval("document.querySelectorAll('svg.chart').length"),
        6
    );
    assert_eq!(
        axis(&browser, "service-0"),
        ["-1 h", "-30 min", "now", "+15 min"]
    );
    assert_eq!(
        browser.eval("document.querySelector('#chart-service-0 line.limit title').textContent"),
        "limit: 512.0 MiB"
    );
    // A service named with markup is shown as that text, and ran nothing.
    assert_eq!(
        browser.eval("document.querySelectorAll('#charts figcaption')[4].textContent"),
        "<img src=x onerror=alert('svc')> RSS"
    );
    assert_eq!(browser.eval("document.querySelectorAll('img').length"), 0);
    assert!(browser
        .eval("document.getElementById('history-note').textContent")
        .as_str()
        .unwrap()
        .contains("storage.enabled is false"));
    // The script redraws what the server drew, element by element.
    let served = drawn(&browser);
    assert!(
        served.contains("bot | active (running) | 4242 | 160.0 MiB | 512.0 MiB | 3 | oom-kill"),
        "{served}"
    );
    browser.eval("(window.sameDocument = 'yes')");
    browser.wait_until(
        "a timed refresh",
        "Number(document.body.dataset.redraws) > 0",
    );
    same_drawing(&drawn(&browser), &served);
    // The error groups of the last hour: the two lines of the last 20 minutes.
    assert!(
        served.contains("2 warnings or errors in the last 1h, in 2 groups."),
        "{served}"
    );
    assert!(served.contains("TH||||||||||per 5 min"), "{served}");
    // A range link switches in place: the same document, the new axis, the address follows.
    browser.click(".ranges a[data-range='6h']");
    browser.wait_until(
        "the 6 h axis",
        "document.querySelector('#chart-service-0 text.xlabel').textContent === '-6 h'",
    );
    assert_eq!(browser.eval("window.sameDocument"), "yes");
    assert!(browser.url().ends_with("/?range=6h"), "{}", browser.url());
    assert_eq!(
        browser.eval("document.querySelector('.ranges a.active').dataset.range"),
        "6h"
    );
    assert_eq!(
        axis(&browser, "service-0"),
        ["-6 h", "-3 h", "now", "+90 min"]
    );
    browser.wait_until(
        "the error groups of 6 h",
        "document.querySelector('#groups p').textContent.startsWith('6 warnings or errors in the last 6h')",
    );
    assert_eq!(
        browser.eval("document.querySelectorAll('#groups table.groups tbody tr').length"),
        2
    );
    assert_eq!(
        browser.eval("document.querySelector('#groups tbody tr td code').textContent"),
        "payment <script>alert('log')</script> failed for order <num>"
    );
    // The script's redraw has the server's charts: the same ones, the same limits.
    assert_eq!(
        browser.eval("document.querySelectorAll('svg.chart').length"),
        6
    );
    assert_eq!(
        browser.eval("document.querySelector('#chart-host-memory line.limit title').textContent"),
        "total: 938.5 MiB"
    );
    // And it keeps refreshing (every second here) without a reload.
    let redraws = browser
        .eval("Number(document.body.dataset.redraws)")
        .as_u64()
        .unwrap();
    browser.wait_until(
        "a timed refresh",
        &format!("Number(document.body.dataset.redraws) > {redraws}"),
    );
    assert_eq!(browser.eval("window.sameDocument"), "yes");
    let errors = browser.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

/// The page's script and the server draw the same charts from the same
/// history answer: the origin story's climb, kill and restart, made here.
#[test]
fn the_script_draws_a_history_answer_as_the_server_does() {
    use diagbot::dashboard::charts::{self, Frame};
    use diagbot::dashboard::svg;
    use diagbot::history::model::{EventRecord, HistoryAnswer, Series};
    let Some(browser) = Browser::start() else {
        return;
    };
    let (_dir, d) = fixture_daemon("");
    browser.goto(&d.url("/?range=1h"));
    let mut status_json = d.json("/api/v1/status");
    // The bot climbing toward its limit, as the watch would say after a while.
    status_json["services"][0]["memory_trend"] = json!({
        "trend": { "verdict": "climbing", "bytes_per_sec": 111848.0, "limit_in_secs": 600.0 },
        "samples": 60, "span_secs": 3540.0, "limit_bytes": 536870912u64,
        "latest_bytes": 167772160u64, "instance": null, "restart_loop": null,
        "text": "+6.4 MiB/min over 59 min, limit 512 MiB reached in about 10 min",
        // The number explain is sure of, drawn on the chart's second axis.
        "explained_by": {
            "template": "slots <num>/<num> <script>alert('template')</script>", "variable": 2,
            "r": 0.875, "bytes_per_unit": 7444889.6, "instances": 2, "samples": 58,
            "last_value": 198.0, "source": "bot.log"
        }
    });
    // The other service: 50 MiB with no limit of its own (the host's memory).
    status_json["services"][1]["rss_bytes"] = json!(50u64 << 20);
    status_json["services"][1]["memory_limit_bytes"] = json!(24u64 << 30);
    status_json["services"][1]["memory_limit_source"] = json!("host memory");
    let status: diagbot_core::probe::Status = serde_json::from_value(status_json.clone()).unwrap();
    let now = 1_790_000_000;
    let frame = Frame {
        since: now - 3600,
        now,
        ahead: 900,
    };
    const MIB: f64 = 1048576.0;
    let minutes = |f: &dyn Fn(i64) -> f64| -> Vec<(i64, f64, f64, f64)> {
        (0..60)
            .map(|m| {
                let v = f(m);
                (now - 3600 + m * 60, v * 0.9, v * 1.1, v)
            })
            .collect()
    };
    // The bot stopped from minute 20 to 29 (no samples), and the host's
    // memory has a step without a value (null in the JSON) at minute 50.
    let stopped = |mut points: Vec<(i64, f64, f64, f64)>| {
        points.retain(|p| !(now - 3600 + 20 * 60..now - 3600 + 30 * 60).contains(&p.0));
        points
    };
    let unvalued = |mut points: Vec<(i64, f64, f64, f64)>| {
        points[50].3 = f64::NAN;
        points
    };
    let series = |name: &str, points| Series {
        name: name.into(),
        unit: "bytes".into(),
        step_seconds: 60,
        points,
    };
    let event = |minute: i64, kind: &str, message: &str| EventRecord {
        time: now - 3600 + minute * 60,
        kind: kind.into(),
        service: Some("bot".into()),
        message: message.into(),
    };
    let history = HistoryAnswer {
        series: vec![
            series(
                "host.memory_used",
                unvalued(minutes(&|m| 500.0 * MIB + m as f64 * 0.37 * MIB)),
            ),
            series("host.load1", minutes(&|m| (m % 7) as f64 / 4.0)),
            series(
                "service.bot.rss",
                stopped(minutes(&|m| 150.0 * MIB + (m % 40) as f64 * 6.4 * MIB)),
            ),
            series(
                "log.bot.explained",
                minutes(&|m| 3.0 + 5.0 * (m % 40) as f64 + 0.25),
            ),
            series(
                "query.<script>alert('query')</script>.matches",
                minutes(&|m| (m % 5) as f64),
            ),
        ],
        events: vec![
            event(
                40,
                "oom_kill",
                "OOM kill in bot: python3 (pid 908) killed at 552 MiB RSS <script>alert('event')</script>",
            ),
            event(
                41,
                "restart",
                "bot restarted (restart 4, last result oom-kill)",
            ),
            // Listed, not drawn: the script must leave it off the chart too.
            event(45, "new_error_group", "new error in bot: `order <num> failed`"),
        ],
    };
    let queries = ["<script>alert('query')</script>".to_string()];
    let served: String = charts::build(frame, &status, Some(&history), &queries)
        .iter()
        .map(|c| svg::render(c, frame))
        .collect();
    let compared = browser.call(
        r#"const [frame, status, history, served] = arguments;
         const sig = (svgs) => Array.from(svgs).map((svg) =>
           Array.from(svg.querySelectorAll('*')).concat([svg]).map((e) =>
             [e.tagName, ...['id', 'class', 'd', 'x1', 'y1', 'x2', 'y2', 'cx', 'cy', 'r', 'x', 'y', 'viewBox', 'aria-label']
               .map((a) => e.getAttribute(a)), e.children.length === 0 ? e.textContent : ''].join('|')).join('\n')).join('\n\n');
         const box = document.createElement('div');
         box.innerHTML = served;
         const mine = window.diagbotCharts.build(frame, status, history).map((c) => window.diagbotCharts.render(c, frame));
         return [sig(box.querySelectorAll('svg')), sig(mine)];"#,
        vec![
            json!({ "since": frame.since, "now": frame.now, "ahead": frame.ahead }),
            status_json,
            serde_json::to_value(&history).unwrap(),
            Value::String(served),
        ],
    );
    let (server, script) = (compared[0].as_str().unwrap(), compared[1].as_str().unwrap());
    assert!(server.contains("path||series rss|M72.0,"), "{server}");
    assert!(server.contains("path||series explained|M72.0,"), "{server}");
    assert!(
        server.contains(
            "`slots <num>/<num> <script>alert('template')</script>` (its number 2) (r 0.88)"
        ),
        "{server}"
    );
    assert!(
        server.contains("killed at 552 MiB RSS <script>alert('event')</script>"),
        "{server}"
    );
    same_drawing(script, server);
    // What the drawings show, read from the script's (the same as the server's).
    let x = |t: i64| 72.0 + (t - frame.since) as f64 / 4500.0 * (720.0 - 72.0 - 40.0);
    // The stop and the step without a value break their lines.
    let rss = &attribute(script, "path||series rss|", 3)[0];
    assert_eq!(rss.matches('M').count(), 2, "{rss}");
    assert!(
        rss.contains(&format!("M{:.1},", x(now - 3600 + 30 * 60))),
        "{rss}"
    );
    let used = &attribute(script, "path||series used|", 3)[0];
    assert_eq!(used.matches('M').count(), 2, "{used}");
    // The host's two lines are named in a legend, with the explained number's.
    assert!(script.contains("g||legend used|"), "{script}");
    assert!(script.contains("g||legend available|"), "{script}");
    assert!(script.contains("g||legend explained|"), "{script}");
    // Each chart's value labels are round and distinct.
    for labels in y_labels_of(script) {
        round_and_distinct(&labels);
    }
    // 50 MiB with no limit of its own: its own scale, and "no limit".
    let other = script
        .split("\n\n")
        .find(|svg| svg.contains("chart-service-1"))
        .unwrap();
    assert_eq!(
        y_labels_of(other),
        [vec!["0 MiB", "20 MiB", "40 MiB", "60 MiB"]]
    );
    assert!(other.contains("text||limit-note|"), "{other}");
    assert!(other.contains("|no limit"), "{other}");
    // Each point says its time and value on hover.
    let hover = format!(
        "{} RSS: 156.4 MiB",
        chrono::DateTime::from_timestamp(now - 3600 + 60, 0)
            .unwrap()
            .format("%Y-%m-%d %H:%M:%S UTC")
    );
    assert!(script.contains(&hover), "{hover} in {script}");
    // The refresh query's count: per 5 min over the hour, its dot at its time.
    assert!(script.contains("new matches per 5 min"), "{script}");
    let dot: f64 = attribute(script, "circle||latest matches|", 8)[0]
        .parse()
        .unwrap();
    assert_eq!(format!("{dot:.1}"), format!("{:.1}", x(now - 60)));
    let errors = browser.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

/// The page's script and the server draw the same error groups from the
/// same answer: markup in a template and an example, a group with no
/// level, a new one, one with no time, more groups than the table shows,
/// and groups merged into "other".
#[test]
fn the_script_draws_a_groups_answer_as_the_server_does() {
    use diagbot::dashboard::range::Range;
    use diagbot_core::groups::{GroupSummary, GroupsResult, OtherSummary, Steps};
    let Some(browser) = Browser::start() else {
        return;
    };
    let (_dir, d) = fixture_daemon("");
    browser.goto(&d.url("/?range=24h"));
    let at = |s: &str| chrono::DateTime::parse_from_rfc3339(s).ok();
    let group = |i: u32, template: &str, level: Option<&str>, counts: Vec<u32>| GroupSummary {
        id: format!("{i:016x}"),
        template: template.into(),
        level: level.map(|l| serde_json::from_value(json!(l)).unwrap()),
        count: counts.iter().map(|&c| u64::from(c)).sum::<u64>().max(1),
        share: 0.1,
        first_seen: at("2026-11-28T13:00:00+01:00"),
        last_seen: if i == 3 {
            None
        } else {
            at("2026-11-29T09:15:42.123456789+02:00")
        },
        files: vec!["/var/log/app.log".into()],
        more_files: 0,
        example: format!("<img src=x onerror=alert({i})> & \"{template}\""),
        new: (i == 1).then_some(true),
        previous_count: None,
        counts,
    };
    let mut list = vec![
        group(
            1,
            "payment <script>alert('t')</script> failed <num>",
            Some("error"),
            (0..24).map(|h| h % 5).collect(),
        ),
        group(
            2,
            // Written by an attacker: a terminal escape, a bell, a reversal.
            "no level here \u{1b}[31m\u{7} \u{202e}txt.exe\u{2028}\u{feff}",
            None,
            (0..24).map(|h| if h == 0 { 60 } else { 1 }).collect(),
        ),
        group(3, "timeless <*>", Some("warning"), vec![0; 24]),
    ];
    list.extend((4..16).map(|i| {
        group(
            i,
            &format!("other kind {i}"),
            Some("fatal"),
            (0..24).map(|h| u32::from(h == i)).collect(),
        )
    }));
    let answer = GroupsResult {
        lines_considered: list.iter().map(|g| g.count).sum::<u64>() + 9,
        groups: list,
        other: Some(OtherSummary {
            groups: 3,
            count: 9,
            first_seen: None,
            last_seen: None,
        }),
        lines_read: 1000,
        files_searched: 1,
        bytes_scanned: 1 << 20,
        skipped: vec![],
        // Files the range cannot place, more than the note names, one named with markup.
        warnings: (0..7)
            .map(|i| diagbot_core::query::FileWarning {
                path: format!("/var/log/<b>{i}</b>.log"),
                problem: diagbot_core::query::TimestampProblem::FewTimestamps,
                lines_with_time: 1,
                lines: 10,
            })
            .collect(),
        heap_bytes: 1 << 16,
        steps: Some(Steps {
            start: 1_790_000_000,
            seconds: 3600,
            len: 24,
        }),
        paths: vec![],
        assigned: vec![],
    };
    let empty = GroupsResult {
        groups: vec![],
        other: None,
        lines_considered: 0,
        ..answer.clone()
    };
    // No group's newness known (no [[services]] watch saw them): said.
    let mut unknown = answer.clone();
    for g in &mut unknown.groups {
        g.new = None;
    }
    let served = diagbot::dashboard::groups::render(&Ok(&unknown), Range::Day, "http://x");
    assert!(
        served.contains("Which groups are new is known for the logs of a [[services]] entry"),
        "{served}"
    );
    for answer in [answer, empty, unknown] {
        same_groups(&browser, &answer, Range::Day, &d.url(""));
    }
    let errors = browser.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}

/// The server's and the script's drawing of `answer` are the same.
fn same_groups(
    browser: &Browser,
    answer: &diagbot_core::groups::GroupsResult,
    range: diagbot::dashboard::range::Range,
    daemon: &str,
) {
    use diagbot::dashboard::groups;
    let served = groups::render(&Ok(answer), range, daemon);
    let compared = browser.call(
        &format!(
            r#"const [answer, served, range] = arguments;
             const sig = {GROUPS_SIGNATURE};
             const server = document.createElement('div');
             server.innerHTML = served;
             const script = document.createElement('div');
             script.replaceChildren(...window.diagbotGroups.render(answer, range));
             return [sig(script), sig(server)];"#
        ),
        vec![
            serde_json::to_value(answer).unwrap(),
            Value::String(served),
            Value::String(range.name().into()),
        ],
    );
    let (script, server) = (compared[0].as_str().unwrap(), compared[1].as_str().unwrap());
    assert!(
        server.contains("in 7 files: /var/log/<b>0</b>.log,"),
        "{server}"
    );
    if answer.groups.is_empty() {
        assert!(server.starts_with("P|none|"), "{server}");
    } else {
        assert!(server.contains("TR|||0000000000000001|"), "{server}");
        assert!(
            server.contains("payment <script>alert('t')</script> failed <num>"),
            "{server}"
        );
        assert_eq!(
            server.matches("TR|").count(),
            1 + groups::TOP_GROUPS,
            "{server}"
        );
        assert!(
            server.contains("and 3 groups merged into “other”"),
            "{server}"
        );
        // Shown by name, never acted on; the same in the script's drawing.
        assert!(
            server.contains("no level here \\x1b[31m\\x07 U+202Etxt.exeU+2028U+FEFF"),
            "{server}"
        );
        assert!(
            !server.contains(['\u{1b}', '\u{7}', '\u{202e}']),
            "{server}"
        );
        // The command for all of them asks this daemon.
        assert!(
            server.contains(&format!("diagbot groups --since 24h --remote {daemon}")),
            "{server}"
        );
    }
    same_drawing(script, server);
}

#[test]
fn the_dashboard_signs_in_with_the_token_in_a_real_browser() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let (_dir, d) = fixture_daemon("[http]\ntoken = \"t0ken\"\n");
    // No token: the form, no chart.
    browser.goto(&d.url("/"));
    assert_eq!(browser.eval("document.querySelectorAll('svg').length"), 0);
    browser.type_into("input[name=token]", "wrong");
    browser.click("button[type=submit]");
    browser.wait_until(
        "the form's complaint",
        "document.getElementById('login-problem') !== null",
    );
    browser.type_into("input[name=token]", "t0ken");
    browser.click("button[type=submit]");
    browser.wait_until(
        "the dashboard after signing in",
        "document.querySelectorAll('svg.chart').length === 6",
    );
    // The cookie is not for scripts to read, and the page's own fetches carry it.
    assert_eq!(browser.eval("document.cookie"), "");
    browser.wait_until(
        "a refresh with the cookie",
        "Number(document.body.dataset.redraws) > 0",
    );
    assert_eq!(
        browser
            .eval("/^[0-9]+ answers? in /.test(document.getElementById('cache-size').textContent)"),
        true
    );
    // `?token=` in a fresh session: it leaves the address, the page stays.
    let Some(fresh) = Browser::start() else {
        return;
    };
    fresh.goto(&d.url("/?range=1h&token=t0ken"));
    assert!(fresh.url().ends_with("/?range=1h"), "{}", fresh.url());
    assert_eq!(
        fresh.eval("document.querySelectorAll('svg.chart').length"),
        6
    );
    // The form is served with 401, which the browser logs for the page
    // itself (at `/` and after the wrong token at `/login`); nothing else.
    let unexpected: Vec<String> = browser
        .console_errors()
        .into_iter()
        .chain(fresh.console_errors())
        .filter(|e| {
            let document_401 = e.ends_with(
                "Failed to load resource: the server responded with a status of 401 (Unauthorized)",
            ) && [d.url("/ "), d.url("/login ")]
                .iter()
                .any(|page| e.starts_with(page.as_str()));
            !document_401
        })
        .collect();
    assert!(unexpected.is_empty(), "console errors: {unexpected:#?}");
}

/// The origin story from the store: a bot that climbs, is killed and starts
/// again, drawn from `/api/v1/history` as the page asks it.
#[test]
fn the_origin_story_is_drawn_from_history_in_a_real_browser() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let marker = format!("diagbot-dashboard-test-{}", std::process::id());
    let dir = tempfile::tempdir().unwrap();
    let kern_log = dir.path().join("kern.log");
    std::fs::write(&kern_log, "").unwrap();
    let (_dir, _logs, config_file) = setup(&format!(
        "[system]\nkernel_log = {kern_log:?}\nkmsg = \"\"\njournalctl = \"/nonexistent/journalctl\"\n\
         [health]\nsample_interval = \"100ms\"\ntrend_window = \"60s\"\ntrend_min_span = \"1s\"\noom_horizon = \"1h\"\n\
         [[services]]\nname = \"leaky\"\nprocess = {{ name = \"python3\", cmdline = {marker:?} }}\nmemory_limit = \"120MiB\"\n",
    ));
    let d = TestDaemon::start(&config_file);
    let leak = |marker: &str| {
        Command::new("python3")
            .args(["-c", "import time\nb = []\nfor _ in range(600):\n    b.append(b'x' * (1 << 20))\n    time.sleep(0.05)\ntime.sleep(60)\n", marker])
            .spawn()
            .unwrap()
    };
    // The climb, the kill (the kernel's line, then the process gone), the restart.
    let mut bot = leak(&marker);
    let pid = bot.id();
    eventually("the bot to grow to 60 MiB", PATIENCE, || {
        let rss = d.json("/api/v1/status")["services"][0]["rss_bytes"]
            .as_u64()
            .unwrap_or(0);
        if rss >= 60 << 20 {
            Ok(())
        } else {
            Err(rss)
        }
    });
    let now = chrono::Local::now().format("%b %e %H:%M:%S");
    std::fs::write(
        &kern_log,
        format!("{now} vps kernel: Out of memory: Killed process {pid} (python3) total-vm:900000kB, anon-rss:70000kB, file-rss:0kB, shmem-rss:0kB, UID:0 pgtables:900kB oom_score_adj:0\n"),
    )
    .unwrap();
    bot.kill().unwrap();
    bot.wait().unwrap();
    let mut again = leak(&marker);
    // The page asks for the last hour; so does the test, once the kill is stored.
    let ask = || {
        let until = chrono::Utc::now().timestamp() + 1;
        d.json(&format!(
            "/api/v1/history?series=service.leaky.rss&since={}&until={until}",
            until - 3601
        ))
    };
    let answer = eventually("the kill in the history", PATIENCE, || {
        let answer = ask();
        let killed = answer["events"]
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["kind"] == "oom_kill");
        // A 1 h range is drawn at a 2 s step: a few steps after the kill.
        let points = answer["series"][0]["points"].as_array().map_or(0, Vec::len);
        if killed && points > 5 {
            Ok(answer)
        } else {
            Err(Text(format!("{answer:#}")))
        }
    });
    let stored = answer["series"][0]["points"].as_array().unwrap().len();
    assert!(stored > 5, "{answer:#}");
    browser.goto(&d.url("/?range=1h"));
    // The stored points and the value now, give or take the samples taken in between.
    let drawn = browser.chart_points("service-0", "rss");
    let close = |drawn: usize| {
        drawn + 3 >= stored && drawn <= ask()["series"][0]["points"].as_array().unwrap().len() + 4
    };
    assert!(close(drawn), "drawn {drawn}, stored {stored}");
    let kills = browser.marker_texts("service-0", "oom_kill");
    assert!(
        kills
            .iter()
            .any(|t| t.contains("OOM kill in leaky") && t.contains(&format!("pid {pid}"))),
        "{kills:#?}"
    );
    assert_eq!(
        browser.eval("document.querySelector('#events .oom_kill') !== null"),
        true
    );
    // The script's redraw from the API has them too.
    browser.wait_until("a refresh", "Number(document.body.dataset.redraws) > 0");
    let redrawn = browser.chart_points("service-0", "rss");
    assert!(close(redrawn), "redrawn {redrawn}, stored {stored}");
    assert!(!browser.marker_texts("service-0", "oom_kill").is_empty());
    // Another range places the same samples elsewhere.
    let before = browser
        .eval("document.querySelector('#chart-service-0 path.series.rss').getAttribute('d')");
    browser.click(".ranges a[data-range='24h']");
    browser.wait_until(
        "the 24 h axis (-1 d)",
        "document.querySelector('#chart-service-0 text.xlabel').textContent === '-1 d'",
    );
    let after = browser
        .eval("document.querySelector('#chart-service-0 path.series.rss').getAttribute('d')");
    assert_ne!(before, after);
    let errors = browser.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    again.kill().unwrap();
    again.wait().unwrap();
}

/// The origin story over an hour, as the store keeps it: a bot climbing
/// from 150 MiB to 550 MiB, killed at minute 40, started again. The ticks are
/// written through the store's own writer into the file a real daemon then
/// opens; the page draws them (and `DIAGBOT_SCREENSHOT=1` saves the picture
/// the README shows).
#[test]
fn an_hour_of_the_origin_story_from_the_store_is_drawn_with_its_kill() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("history.db");
    let now = chrono::Utc::now().timestamp();
    store_origin_hour(&db, now);
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    // The bot's log of that hour: rejected orders, slow answers, dropped
    // sockets and, before the kill, a MemoryError.
    let wall = chrono::Utc::now();
    let mut log = String::new();
    for minute in (1..60).rev() {
        let at = (wall - chrono::Duration::minutes(minute)).format("%Y-%m-%d %H:%M:%S,123");
        let lines: &[String] = &[
            format!(
                "{at} ERROR order {} rejected: insufficient balance",
                5000 + minute * 7
            ),
            format!(
                "{at} WARNING exchange answered in {} ms",
                2000 + minute * 13
            ),
            format!("{at} ERROR websocket closed (code 1006), reconnecting"),
        ];
        let every = [2, 5, 9];
        for (line, n) in lines.iter().zip(every) {
            if minute % n == 0 || (minute > 20 && minute < 26) {
                log.push_str(line);
                log.push('\n');
            }
        }
        if minute == 21 {
            log.push_str(&format!("{at} ERROR job failed\nTraceback (most recent call last):\n  File \"bot.py\", line 88, in refresh\nMemoryError\n"));
        }
    }
    std::fs::write(logs.join("crypto-bot.log"), log).unwrap();
    // The host now, on a /proc of its own: a 1 GB VPS, as the stored hour.
    let proc = dir.path().join("proc");
    std::fs::create_dir(&proc).unwrap();
    for (file, text) in [
        ("meminfo", "MemTotal: 961000 kB\nMemFree: 100000 kB\nMemAvailable: 480000 kB\nSwapTotal: 524288 kB\nSwapFree: 503808 kB\n"),
        ("loadavg", "0.42 0.30 0.20 1/100 1234\n"),
        ("vmstat", "oom_kill 1\n"),
        ("uptime", "90061.00 1000.00\n"),
        ("stat", "cpu  100 0 100 1000 0 0 0 0 0 0\n"),
        ("mounts", ""),
    ] {
        std::fs::write(proc.join(file), text).unwrap();
    }
    let sys = dir.path().join("sys");
    let config_file = dir.path().join("diagbot.toml");
    std::fs::write(
        &config_file,
        format!(
            "[logs]\npaths = [{logs:?}]\n[refresh]\ninterval = \"1h\"\nqueries = []\n\
             [system]\nproc_root = {proc:?}\nsys_root = {sys:?}\nkmsg = \"\"\nkernel_log = \"\"\njournalctl = \"/nonexistent/journalctl\"\n\
             [storage]\npath = {db:?}\n\
             [[services]]\nname = \"crypto-bot\"\nprocess = {{ name = \"diagbot-no-such-process\" }}\nmemory_limit = \"600MiB\"\n"
        ),
    )
    .unwrap();
    let d = TestDaemon::start(&config_file);
    browser.goto(&d.url("/?range=1h"));
    let drawn = browser.chart_points("service-0", "rss");
    assert!((60..=62).contains(&drawn), "drawn {drawn} of 60 stored");
    let kills = browser.marker_texts("service-0", "oom_kill");
    assert!(
        kills.iter().any(|t| t.contains("killed at 550 MiB RSS")),
        "{kills:#?}"
    );
    assert!(!browser.marker_texts("service-0", "started").is_empty());
    // The hour's error groups, the rejected orders first, each with its bars.
    assert_eq!(
        browser.eval("document.querySelector('#groups tbody tr td code').textContent"),
        "order <num> rejected: insufficient balance"
    );
    assert_eq!(
        browser.eval("document.querySelectorAll('#groups tbody tr').length"),
        4
    );
    let bars = browser.eval("document.querySelectorAll('#groups tbody tr')[0].querySelectorAll('svg.spark rect').length");
    assert!(bars.as_u64().unwrap() >= 10, "{bars}");
    let errors = browser.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
    browser.screenshot_if_asked();
}

/// What a reader sees on the served page and its redraw: each line named in
/// a legend, round value labels, a value on hover, the quarter hour, and
/// colours that follow a dark system setting.
#[test]
fn the_charts_have_legends_round_ticks_hover_values_and_a_dark_mode_in_a_real_browser() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let (_dir, d) = fixture_daemon("");
    browser.goto(&d.url("/?range=15m"));
    let check = |when: &str| {
        assert_eq!(
            axis(&browser, "service-0"),
            ["-15 min", "-7 min 30 s", "now", "+3 min 45 s"],
            "{when}"
        );
        assert_eq!(
            browser.eval(
                "Array.from(document.querySelectorAll('#chart-host-memory g.legend text')).map((t) => t.textContent)"
            ),
            json!(["used", "available"]),
            "{when}"
        );
        assert_eq!(
            browser.eval("document.querySelectorAll('#chart-host-load g.legend').length"),
            0,
            "{when}: one line needs no legend"
        );
        let labels = browser.eval(
            "Array.from(document.querySelectorAll('svg.chart')).map((svg) => \
               Array.from(svg.querySelectorAll('text.ylabel')).map((t) => t.textContent))",
        );
        let labels: Vec<Vec<String>> = serde_json::from_value(labels).unwrap();
        assert_eq!(labels.len(), 6, "{when}");
        for chart in &labels {
            round_and_distinct(chart);
        }
        // The bot's 160 MiB under its 512 MiB limit, and its value on hover.
        assert_eq!(
            labels[3],
            ["0 MiB", "200 MiB", "400 MiB", "600 MiB"],
            "{when}"
        );
        let hover = browser
            .eval("Array.from(document.querySelectorAll('#chart-service-0 circle.point > title')).map((t) => t.textContent)");
        let hover: Vec<String> = serde_json::from_value(hover).unwrap();
        assert!(
            hover.iter().any(|t| t.ends_with(" UTC RSS: 160.0 MiB")),
            "{when}: {hover:?}"
        );
    };
    check("served");
    let served = drawn(&browser);
    browser.wait_until(
        "a timed refresh",
        "Number(document.body.dataset.redraws) > 0",
    );
    check("redrawn");
    same_drawing(&drawn(&browser), &served);
    // Dark mode: the page and the charts' text change colour.
    let colours = "[getComputedStyle(document.body).backgroundColor, \
                    getComputedStyle(document.querySelector('#chart-host-memory g.legend text')).fill, \
                    getComputedStyle(document.querySelector('#chart-host-memory path.series.used')).stroke]";
    let light = browser.eval(colours);
    browser.prefer_color_scheme("dark");
    assert_eq!(
        browser.eval("matchMedia('(prefers-color-scheme: dark)').matches"),
        true
    );
    let dark = browser.eval(colours);
    for i in 0..3 {
        assert_ne!(light[i], dark[i], "colour {i}: {light} then {dark}");
    }
    assert_eq!(dark[0], "rgb(20, 24, 29)", "{dark}");
    let errors = browser.console_errors();
    assert!(errors.is_empty(), "console errors: {errors:#?}");
}
