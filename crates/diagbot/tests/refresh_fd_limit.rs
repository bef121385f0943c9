//! A refresh at the fd limit: its degraded answer is counted as a failed
//! refresh and the answer cached before is kept (issue 11: the refresh
//! replaced good cached answers with degraded ones and logged `failed=0`).
//!
//! One test in its own binary: it lowers this process's fd limit.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::fs;

use rustix::process::{setrlimit, Resource};

#[path = "../../../testdata/fd_spare.rs"]
mod fd_spare;
use fd_spare::leave_spare;

#[test]
fn a_degraded_refresh_is_a_failed_refresh_and_keeps_the_good_answer() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.log", "b.log", "c.log"] {
        fs::write(dir.path().join(name), "2026-01-27 10:00:00 ERROR bad\n").unwrap();
    }
    let config = format!(
        "[logs]\npaths = [{:?}]\n[refresh]\nqueries = [ {{ name = \"errors\", kind = \"errors\" }} ]\n[storage]\nenabled = false\n",
        dir.path().display().to_string()
    );
    let settings =
        diagbot::settings::load_str(&config, "diagbot.toml", &Default::default()).unwrap();
    let query = settings.core.refresh[0].query.clone();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let state = diagbot::state::AppState::new(settings);
        diagbot::daemon::scheduler::refresh_once(&state).await;
        assert_eq!(state.metrics.refresh_failed.get(), 0);
        let restore = leave_spare(1);
        // The directory opens; listing it needs a second descriptor.
        diagbot::daemon::scheduler::refresh_once(&state).await;
        setrlimit(Resource::Nofile, restore).unwrap();
        assert_eq!(
            state.metrics.refresh_failed.get(),
            1,
            "the degraded refresh was not counted"
        );
        let (cached, _) = state.diag.answer(&query).await.unwrap();
        assert_eq!(cached.matches, 3);
        assert!(cached.partial.is_none());
    });
}
