//! Whether the daemon's loops are still doing their work: each records when
//! its current run began, and the systemd watchdog is pinged only while none
//! has been busy longer than it may be. A scan wedged on a file that never
//! answers then stops the pings, and systemd restarts the daemon — instead
//! of a process that answers pings but nothing else.

use std::sync::Mutex;
use std::time::{Duration, Instant};

/// The loops watched.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Task {
    /// The background refresh.
    Refresh,
    /// The health sampler.
    Sample,
}

impl Task {
    /// Its name in logs.
    pub fn name(self) -> &'static str {
        match self {
            Task::Refresh => "refresh",
            Task::Sample => "health sample",
        }
    }
}

/// When each loop's current run began (`None`: idle).
#[derive(Debug, Default)]
pub struct Heartbeat {
    busy_since: Mutex<[Option<Instant>; 2]>,
}

/// Marks a run; it ends when this is dropped (finished, or abandoned).
pub struct Busy<'a> {
    heartbeat: &'a Heartbeat,
    task: Task,
}

impl Heartbeat {
    /// Marks `task` busy from now until the returned guard is dropped.
    pub fn busy(&self, task: Task) -> Busy<'_> {
        self.slots()[task as usize] = Some(Instant::now());
        Busy {
            heartbeat: self,
            task,
        }
    }

    /// The first task busy for longer than `limit(task)`, and for how long.
    pub fn stalled(
        &self,
        now: Instant,
        limit: impl Fn(Task) -> Duration,
    ) -> Option<(Task, Duration)> {
        let slots = *self.slots();
        [Task::Refresh, Task::Sample].into_iter().find_map(|task| {
            let since = slots[task as usize]?;
            let busy = now.saturating_duration_since(since);
            (busy > limit(task)).then_some((task, busy))
        })
    }

    fn slots(&self) -> std::sync::MutexGuard<'_, [Option<Instant>; 2]> {
        self.busy_since.lock().unwrap_or_else(|p| p.into_inner())
    }
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.heartbeat.slots()[self.task as usize] = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_run_longer_than_its_limit_is_a_stall_until_it_ends() {
        let h = Heartbeat::default();
        let limit = |_| Duration::from_secs(60);
        let t0 = Instant::now();
        assert_eq!(h.stalled(t0, limit), None, "idle is not stalled");
        let run = h.busy(Task::Sample);
        assert_eq!(
            h.stalled(Instant::now() + Duration::from_secs(30), limit),
            None
        );
        let (task, _) = h
            .stalled(Instant::now() + Duration::from_secs(61), limit)
            .unwrap();
        assert_eq!(task, Task::Sample);
        drop(run);
        assert_eq!(
            h.stalled(Instant::now() + Duration::from_secs(61), limit),
            None
        );
    }
}
