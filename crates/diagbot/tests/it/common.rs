//! The daemon in-process on 127.0.0.1:0, shared by the test suites that run it.

#![allow(dead_code)] // each suite uses its own part
#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::collections::BTreeMap;
use std::fmt::Debug;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use diagbot::daemon::{self, Control};
use diagbot::settings;
use diagbot::state::AppState;
use serde_json::Value;
use tokio::sync::mpsc;

/// A service log: levels, a traceback, a warning (shared by the test suites).
pub const APP_LOG: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../testdata/app.log"
));

/// What a check passed to [`eventually`] says: `true`, `Some(value)` or
/// `Ok(value)` when the wait is over; `false`, `None` or `Err(seen)` when it
/// is not yet, where `seen` is what the check saw, shown (`{:?}`) in the
/// message when the wait times out.
pub trait Outcome {
    type Value;
    type Seen;
    fn ready(self) -> Result<Self::Value, Self::Seen>;
    fn describe(seen: &Self::Seen) -> Option<String>;
}

impl Outcome for bool {
    type Value = ();
    type Seen = ();
    fn ready(self) -> Result<(), ()> {
        if self {
            Ok(())
        } else {
            Err(())
        }
    }
    fn describe(_: &()) -> Option<String> {
        None
    }
}

impl<T> Outcome for Option<T> {
    type Value = T;
    type Seen = ();
    fn ready(self) -> Result<T, ()> {
        self.ok_or(())
    }
    fn describe(_: &()) -> Option<String> {
        None
    }
}

impl<T, E: Debug> Outcome for Result<T, E> {
    type Value = T;
    type Seen = E;
    fn ready(self) -> Result<T, E> {
        self
    }
    fn describe(seen: &E) -> Option<String> {
        Some(format!("{seen:?}"))
    }
}

/// A state shown as it is (a log, a body, a JSON text) in the message of a
/// wait that timed out, rather than quoted and escaped as `{:?}` shows a
/// `String`.
pub struct Text(pub String);

impl Debug for Text {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// The pause before the next poll: 10 ms at first, then half as long again
/// each time, at most 100 ms.
fn next_pause(pause: Duration) -> Duration {
    (pause * 3 / 2).min(Duration::from_millis(100))
}

fn timed_out(what: &str, deadline: Duration, polls: u32, last: Option<String>) -> ! {
    match last {
        Some(last) => panic!(
            "timed out after {deadline:?} ({polls} polls) waiting for {what}; last seen: {last}"
        ),
        None => panic!("timed out after {deadline:?} ({polls} polls) waiting for {what}"),
    }
}

/// Polls `check` until it is ready (`true`, `Some`, `Ok`; see [`Outcome`])
/// and returns its value. The deadline only guards against a wait that
/// never ends: past it, the test fails naming `what` was awaited and what
/// the check saw last (its `Err`).
pub fn eventually<O: Outcome>(
    what: &str,
    deadline: Duration,
    mut check: impl FnMut() -> O,
) -> O::Value {
    let started = Instant::now();
    let mut pause = Duration::from_millis(10);
    let mut polls = 0;
    loop {
        polls += 1;
        let seen = match check().ready() {
            Ok(value) => return value,
            Err(seen) => seen,
        };
        if started.elapsed() >= deadline {
            timed_out(what, deadline, polls, O::describe(&seen));
        }
        std::thread::sleep(pause);
        pause = next_pause(pause);
    }
}

pub struct TestDaemon {
    pub addr: SocketAddr,
    pub control: mpsc::Sender<Control>,
    thread: Option<std::thread::JoinHandle<anyhow::Result<()>>>,
    pub state: Arc<AppState>,
    /// How many times the daemon has read its configuration file again on
    /// `Control::Reload`, whether the file was good or not.
    reloads_read: Arc<AtomicUsize>,
}

/// The configuration for logs in `logs`; its history file is beside them,
/// so that test daemons never share one (nor write the machine's).
pub fn config_text(logs: &Path, extra: &str) -> String {
    let db = logs
        .parent()
        .unwrap_or(logs)
        .join("history")
        .join("diagbot.db");
    format!(
        "[logs]\npaths = [{:?}]\n[refresh]\ninterval = \"1h\"\nqueries = [ {{ name = \"errors\", kind = \"errors\" }} ]\n[storage]\npath = {:?}\n{extra}",
        logs.display().to_string(),
        db.display().to_string()
    )
}

impl TestDaemon {
    /// Starts a daemon whose configuration is `config_file` (read again on reload).
    pub fn start(config_file: &Path) -> TestDaemon {
        TestDaemon::start_with_log_level(config_file, None)
    }

    /// As [`TestDaemon::start`], with what applies a reloaded `log.level`.
    pub fn start_with_log_level(
        config_file: &Path,
        log_level: Option<diagbot::state::LogLevelSetter>,
    ) -> TestDaemon {
        let env = BTreeMap::new();
        let settings = settings::load(Some(config_file), &env).unwrap();
        let file = config_file.to_path_buf();
        let reloads_read = Arc::new(AtomicUsize::new(0));
        let read = Arc::clone(&reloads_read);
        let (control, rx) = mpsc::channel(4);
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()?;
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
                let state = AppState::with_log_level(settings, log_level);
                ready_tx.send((listener.local_addr()?, Arc::clone(&state)))?;
                let reloader: daemon::Reloader = Box::new(move || {
                    let loaded = settings::load(Some(&file), &BTreeMap::new());
                    read.fetch_add(1, Ordering::SeqCst);
                    loaded
                });
                daemon::run(state, listener, rx, reloader).await
            })
        });
        let (addr, state) = ready_rx.recv_timeout(Duration::from_secs(10)).unwrap();
        TestDaemon {
            addr,
            control,
            thread: Some(thread),
            state,
            reloads_read,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub fn get(&self, path: &str) -> (u16, String) {
        get_with(&self.url(path), None)
    }

    /// Waits (up to 20 s) until the series `name` on `/metrics` reads `value`.
    pub fn wait_for_metric(&self, name: &str, value: f64) {
        eventually(
            &format!("{name} at {value}"),
            std::time::Duration::from_secs(20),
            || {
                let now = metric(&self.get("/metrics").1, name);
                if (now - value).abs() < 1e-9 {
                    Ok(())
                } else {
                    Err(now)
                }
            },
        );
    }

    pub fn json(&self, path: &str) -> Value {
        let (status, body) = self.get(path);
        assert_eq!(status, 200, "{path}: {body}");
        serde_json::from_str(&body).unwrap()
    }

    pub fn wait_for_first_refresh(&self) {
        eventually("the first refresh", Duration::from_secs(20), || {
            metric(&self.get("/metrics").1, "diagbot_refresh_runs_total") >= 1.0
        });
    }

    /// Sends `Control::Reload` and waits until the daemon has read its
    /// configuration file for it; a good file is then being applied, a bad
    /// one was refused (the old settings stay). Reloads are handled in turn,
    /// so every reload sent before this one has been handled as well.
    pub fn reload_and_wait_for_read(&self) {
        let before = self.reloads_read.load(Ordering::SeqCst);
        self.control.blocking_send(Control::Reload).unwrap();
        eventually(
            "the daemon to read its configuration for the reload",
            Duration::from_secs(20),
            || self.reloads_read.load(Ordering::SeqCst) > before,
        );
    }

    pub fn stop(mut self) -> Duration {
        let started = Instant::now();
        self.control.blocking_send(Control::Stop).unwrap();
        self.thread.take().unwrap().join().unwrap().unwrap();
        started.elapsed()
    }
}

impl Drop for TestDaemon {
    fn drop(&mut self) {
        if let Some(thread) = self.thread.take() {
            let _ = self.control.try_send(Control::Stop);
            let _ = thread.join();
        }
    }
}

pub fn get_with(url: &str, token: Option<&str>) -> (u16, String) {
    let agent: ureq::Agent = ureq::Agent::config_builder()
        .http_status_as_error(false)
        .timeout_global(Some(Duration::from_secs(30)))
        .build()
        .into();
    let mut req = agent.get(url);
    if let Some(t) = token {
        req = req.header("Authorization", &format!("Bearer {t}"));
    }
    let mut response = req.call().unwrap();
    let status = response.status().as_u16();
    (status, response.body_mut().read_to_string().unwrap())
}

/// The value of a sample in Prometheus text, after checking every line's form.
pub fn metric(text: &str, name: &str) -> f64 {
    let mut found = None;
    for line in text
        .lines()
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
    {
        let (series, value) = line
            .rsplit_once(' ')
            .unwrap_or_else(|| panic!("bad line {line:?}"));
        let value: f64 = value
            .parse()
            .unwrap_or_else(|_| panic!("bad value in {line:?}"));
        let metric_name = series.split('{').next().unwrap();
        assert!(
            !metric_name.is_empty()
                && metric_name
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':'),
            "bad name in {line:?}"
        );
        if let Some(labels) = series.strip_prefix(metric_name) {
            assert!(
                labels.is_empty() || (labels.starts_with('{') && labels.ends_with('}')),
                "{line:?}"
            );
        }
        if series == name {
            found = Some(value);
        }
    }
    found.unwrap_or(0.0)
}

pub fn setup(extra: &str) -> (tempfile::TempDir, PathBuf, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let logs = dir.path().join("logs");
    std::fs::create_dir(&logs).unwrap();
    std::fs::write(logs.join("app.log"), APP_LOG).unwrap();
    let config_file = dir.path().join("diagbot.toml");
    std::fs::write(&config_file, config_text(&logs, extra)).unwrap();
    (dir, logs, config_file)
}

/// The origin story's last hour, written through the store's own writer
/// into `db` (history ending at `now`): a bot climbing from 150 MiB by
/// 10 MiB a minute, killed at minute 40 at 550 MiB and started again, and
/// the host around it.
pub fn store_origin_hour(db: &Path, now: i64) {
    use diagbot::store::{Limits, Store, StoredEvent, Tick};
    const MIB: f64 = 1048576.0;
    let start = now - 3600 + 30;
    {
        let store = Store::open(
            db,
            64 << 20,
            Limits {
                raw: 2 * 86400,
                five_minutes: 30 * 86400,
                hourly: 365 * 86400,
                max_events: 100_000,
                max_known_groups: 20_000,
            },
            Default::default(),
            Duration::from_secs(60),
        );
        for minute in 0..60i64 {
            let at = start + minute * 60;
            let climb = if minute < 40 { minute } else { minute - 40 };
            let rss = (150.0 + climb as f64 * 10.0) * MIB;
            let mut events = Vec::new();
            if minute == 40 {
                events.push(StoredEvent {
                    time: at - 20,
                    kind: "oom_kill".into(),
                    service: Some("crypto-bot".into()),
                    message: "OOM kill in crypto-bot: python3 (pid 4242) killed at 550 MiB RSS after running 40 min".into(),
                });
                events.push(StoredEvent {
                    time: at,
                    kind: "started".into(),
                    service: Some("crypto-bot".into()),
                    message: "crypto-bot is running again as pid 4400 at 150 MiB".into(),
                });
            }
            store.record(Tick {
                at,
                values: vec![
                    ("service.crypto-bot.rss".into(), rss),
                    ("host.memory_used".into(), 300.0 * MIB + rss),
                    ("host.memory_available".into(), 660.0 * MIB - rss),
                    ("host.swap_used".into(), 20.0 * MIB),
                    ("host.load1".into(), 0.3 + (minute % 7) as f64 / 10.0),
                ],
                events,
            });
        }
        store.flush();
    }
}
