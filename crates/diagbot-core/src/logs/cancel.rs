//! Stopping a scan from outside: a flag observed between chunks, so that no
//! scan outlives a shutdown or the request that wanted it by more than one
//! chunk's read (a `.gz` file's included: the flag is checked on the
//! decompressed side).

use std::io::{self, Read};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A cancellation flag; clones share it. A [`Cancel::child`] is cancelled
/// with its parent or on its own.
#[derive(Debug, Clone, Default)]
pub struct Cancel {
    own: Arc<AtomicBool>,
    parent: Option<Arc<AtomicBool>>,
}

impl Cancel {
    /// A flag that is never set unless [`Cancel::cancel`] is called.
    pub fn new() -> Self {
        Cancel::default()
    }

    /// Sets the flag: scans observing it stop at their next chunk.
    pub fn cancel(&self) {
        self.own.store(true, Ordering::Relaxed);
    }

    /// Whether this flag, or its parent's, is set.
    pub fn is_cancelled(&self) -> bool {
        self.own.load(Ordering::Relaxed)
            || self
                .parent
                .as_ref()
                .is_some_and(|p| p.load(Ordering::Relaxed))
    }

    /// A flag of its own that is also set when this one is (one scan's, under
    /// the engine's).
    pub fn child(&self) -> Cancel {
        Cancel {
            own: Arc::default(),
            parent: Some(Arc::clone(&self.own)),
        }
    }

    /// The error a cancelled read returns.
    pub fn error() -> io::Error {
        io::Error::other(Cancelled)
    }

    /// Whether `e` is that error.
    pub fn is_cancel_error(e: &io::Error) -> bool {
        e.get_ref().is_some_and(|inner| inner.is::<Cancelled>())
    }
}

/// The scan was cancelled (a shutdown, or nobody waits for it any more).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cancelled")]
pub struct Cancelled;

/// A reader that fails with [`Cancelled`] once the flag is set.
pub struct Cancellable<'c, R> {
    inner: R,
    cancel: &'c Cancel,
}

impl<'c, R: Read> Cancellable<'c, R> {
    /// Wraps `inner`, checking `cancel` before each read.
    pub fn new(inner: R, cancel: &'c Cancel) -> Self {
        Cancellable { inner, cancel }
    }
}

impl<R: Read> Read for Cancellable<'_, R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.cancel.is_cancelled() {
            return Err(Cancel::error());
        }
        self.inner.read(buf)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_child_stops_with_its_parent_but_not_the_other_way() {
        let parent = Cancel::new();
        let child = parent.child();
        child.cancel();
        assert!(child.is_cancelled() && !parent.is_cancelled());
        let other = parent.child();
        parent.cancel();
        assert!(other.is_cancelled());
    }

    #[test]
    fn a_cancelled_reader_fails_with_the_cancel_error() {
        let cancel = Cancel::new();
        let mut reader = Cancellable::new(&b"abc"[..], &cancel);
        let mut buf = [0u8; 2];
        assert_eq!(reader.read(&mut buf).unwrap(), 2);
        cancel.cancel();
        let err = reader.read(&mut buf).unwrap_err();
        assert!(Cancel::is_cancel_error(&err));
        assert!(!Cancel::is_cancel_error(&io::Error::other("disk")));
    }
}
