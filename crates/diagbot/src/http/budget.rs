//! A byte budget for answers in flight. The cache bounds what it keeps, but
//! an answer also lives while it is serialised and sent: 200 clients asking
//! for 1000 long lines each would hold 200 copies at once. Each answer takes
//! its worst-case size from this budget before it is computed and gives it
//! back when its last byte is sent; past the budget, requests wait (within
//! `http.request_timeout`) instead of growing the daemon.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use axum::body::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use diagbot_core::query::MAX_LINE_TEXT;

/// Bytes of answers in flight at once: two answers of 1000 long lines, or
/// hundreds of small ones (bench/flood.py measures the daemon under a flood).
pub const IN_FLIGHT_BYTES: usize = 12 << 20;
/// Units the semaphore counts in.
const UNIT: usize = 1 << 10;

/// The budget, shared by every request.
#[derive(Clone)]
pub struct Budget(Arc<Semaphore>);

impl Default for Budget {
    fn default() -> Self {
        Budget(Arc::new(Semaphore::new(IN_FLIGHT_BYTES / UNIT)))
    }
}

impl Budget {
    /// Waits until an answer of up to `max_lines` lines fits.
    pub async fn reserve(&self, max_lines: usize) -> Option<OwnedSemaphorePermit> {
        let units = worst_case(max_lines)
            .div_ceil(UNIT)
            .min(IN_FLIGHT_BYTES / UNIT);
        let units = u32::try_from(units).unwrap_or(u32::MAX);
        Arc::clone(&self.0).acquire_many_owned(units).await.ok()
    }

    /// Bytes free now.
    pub fn available(&self) -> usize {
        self.0.available_permits() * UNIT
    }
}

/// The most an answer of `max_lines` lines can take: each line's text (cut to
/// `MAX_LINE_TEXT`), its path and fields, twice (the result and its JSON,
/// where escaping can double the text), and the counts around them.
fn worst_case(max_lines: usize) -> usize {
    const PER_LINE: usize = 2 * (2 * MAX_LINE_TEXT + 512);
    16 * 1024 + max_lines * PER_LINE
}

/// A response body that gives its reservation back when it is dropped (sent,
/// or the client went away).
pub struct Budgeted {
    bytes: Option<Bytes>,
    _permit: Option<OwnedSemaphorePermit>,
}

impl Budgeted {
    pub fn new(bytes: Vec<u8>, permit: Option<OwnedSemaphorePermit>) -> Self {
        Budgeted {
            bytes: Some(Bytes::from(bytes)),
            _permit: permit,
        }
    }
}

impl Body for Budgeted {
    type Data = Bytes;
    type Error = std::convert::Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Poll::Ready(self.bytes.take().map(|b| Ok(Frame::data(b))))
    }

    fn is_end_stream(&self) -> bool {
        self.bytes.is_none()
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::with_exact(self.bytes.as_ref().map_or(0, |b| b.len() as u64))
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[tokio::test]
    async fn answers_past_the_budget_wait_until_one_is_sent() {
        let budget = Budget::default();
        let one = worst_case(1000);
        let fit = IN_FLIGHT_BYTES / one;
        assert!(fit >= 2, "{fit} answers of 1000 lines fit");
        let mut bodies = Vec::new();
        for _ in 0..fit {
            let permit = budget.reserve(1000).await;
            bodies.push(Budgeted::new(vec![b'x'; 10], permit));
        }
        assert!(budget.available() < one);
        let waiting = tokio::spawn({
            let budget = budget.clone();
            async move { budget.reserve(1000).await.is_some() }
        });
        tokio::task::yield_now().await;
        assert!(!waiting.is_finished(), "the next answer waits");
        // One answer sent (its body dropped): the one waiting goes on.
        bodies.pop();
        assert!(waiting.await.unwrap());
        // Small answers still fit beside big ones.
        assert!(worst_case(20) < one / 10);
    }
}
