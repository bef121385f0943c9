//! One `journalctl` run: started in a process group of its own, its stdout
//! read on the caller's thread, and a watchdog that kills the whole group
//! when the read is cancelled or passes its deadline, so neither a hung
//! `journalctl` nor a child it started is left behind.

use std::io::{self, Read};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crate::logs::cancel::Cancel;

/// How much of journalctl's stderr is kept for the error it explains.
const STDERR_KEPT: u64 = 64 << 10;
/// How often the watchdog looks at the cancel flag.
const WATCH_EVERY: Duration = Duration::from_millis(20);

/// Why the watchdog stopped the child.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stopped {
    /// The read was cancelled.
    Cancelled,
    /// The deadline passed.
    TimedOut,
}

/// A running `journalctl`.
pub struct Running {
    child: Child,
    cancel: Cancel,
    deadline: Instant,
    stderr: Option<JoinHandle<String>>,
    watchdog: Option<(mpsc::Sender<()>, JoinHandle<Option<Stopped>>)>,
}

/// How the run ended.
pub struct Ended {
    /// Its exit status (after a kill: killed by a signal).
    pub status: io::Result<ExitStatus>,
    /// What it wrote to stderr (the first 64 KiB).
    pub stderr: String,
    /// Set when the watchdog killed it.
    pub stopped: Option<Stopped>,
}

/// Starts `command args`, to be killed when `cancel` is set or `timeout`
/// passes; returns it and its output, for the caller to read.
pub fn start(
    command: &str,
    args: &[String],
    cancel: &Cancel,
    timeout: Duration,
) -> io::Result<(Running, ChildStdout)> {
    use std::os::unix::process::CommandExt;
    let mut child = Command::new(command)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| io::Error::other("no stdout"))?;
    // Drained aside, so a chatty stderr cannot stall the child while stdout is read.
    let stderr = child.stderr.take().map(|mut err| {
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = (&mut err).take(STDERR_KEPT).read_to_string(&mut text);
            let _ = io::copy(&mut err, &mut io::sink());
            text
        })
    });
    let group = rustix::process::Pid::from_child(&child);
    let (done, done_rx) = mpsc::channel::<()>();
    let deadline = Instant::now() + timeout;
    let watching = cancel.clone();
    let watchdog = std::thread::spawn(move || loop {
        match done_rx.recv_timeout(WATCH_EVERY) {
            Err(mpsc::RecvTimeoutError::Timeout) => {}
            _ => return None,
        }
        let why = if watching.is_cancelled() {
            Stopped::Cancelled
        } else if Instant::now() >= deadline {
            Stopped::TimedOut
        } else {
            continue;
        };
        // The group leader is not reaped before this thread is joined, so
        // its id still names this group.
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
        return Some(why);
    });
    let running = Running {
        child,
        cancel: cancel.clone(),
        deadline,
        stderr,
        watchdog: Some((done, watchdog)),
    };
    Ok((running, stdout))
}

impl Running {
    /// Ends the run: the child and its group are killed if still running
    /// (the caller stopped reading early), then reaped.
    pub fn finish(mut self, stopped_early: bool) -> Ended {
        let mut stopped = self.stop_watchdog();
        if stopped_early || stopped.is_some() {
            self.kill_group();
        }
        // Its output has ended, but it may still hang before it exits.
        let status = loop {
            match self.child.try_wait() {
                Ok(Some(status)) => break Ok(status),
                Ok(None) => {}
                Err(e) => break Err(e),
            }
            if stopped.is_none() && self.cancel.is_cancelled() {
                stopped = Some(Stopped::Cancelled);
            } else if stopped.is_none() && Instant::now() >= self.deadline {
                stopped = Some(Stopped::TimedOut);
            }
            if stopped.is_some() {
                self.kill_group();
                break self.child.wait();
            }
            std::thread::sleep(WATCH_EVERY);
        };
        // The stderr thread ends when every holder of the pipe has exited.
        let stderr = self
            .stderr
            .take()
            .and_then(|h| h.join().ok())
            .unwrap_or_default();
        Ended {
            status,
            stderr,
            stopped,
        }
    }

    fn stop_watchdog(&mut self) -> Option<Stopped> {
        let (done, handle) = self.watchdog.take()?;
        let _ = done.send(());
        handle.join().ok().flatten()
    }

    fn kill_group(&self) {
        let group = rustix::process::Pid::from_child(&self.child);
        let _ = rustix::process::kill_process_group(group, rustix::process::Signal::KILL);
    }
}

impl Drop for Running {
    /// A run dropped without `finish` (a panic while reading) still leaves no child.
    fn drop(&mut self) {
        if self.watchdog.is_some() {
            self.stop_watchdog();
            self.kill_group();
            let _ = self.child.wait();
        }
    }
}
