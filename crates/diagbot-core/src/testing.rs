//! What the unit tests share: waiting for a condition rather than for a
//! time (the binary's integration tests have their own, in `tests/it/common.rs`).

use std::future::Future;
use std::time::{Duration, Instant};

/// The pause before the next poll: 10 ms at first, then half as long again
/// each time, at most 100 ms.
fn next_pause(pause: Duration) -> Duration {
    (pause * 3 / 2).min(Duration::from_millis(100))
}

/// Polls `check` until it returns `Some`, and returns its value. The
/// deadline only guards against a wait that never ends: past it, the test
/// fails naming `what` was awaited.
pub fn eventually<T>(what: &str, deadline: Duration, mut check: impl FnMut() -> Option<T>) -> T {
    let started = Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        if let Some(value) = check() {
            return value;
        }
        if started.elapsed() >= deadline {
            panic!("timed out after {deadline:?} waiting for {what}");
        }
        std::thread::sleep(pause);
        pause = next_pause(pause);
    }
}

/// [`eventually`] for async tests: the pause between polls is
/// `tokio::time::sleep`'s (the runtime's other tasks go on).
pub async fn eventually_async<T, F: Future<Output = Option<T>>>(
    what: &str,
    deadline: Duration,
    mut check: impl FnMut() -> F,
) -> T {
    let started = Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        if let Some(value) = check().await {
            return value;
        }
        if started.elapsed() >= deadline {
            panic!("timed out after {deadline:?} waiting for {what}");
        }
        tokio::time::sleep(pause).await;
        pause = next_pause(pause);
    }
}
