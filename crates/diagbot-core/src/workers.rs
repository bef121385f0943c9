//! Scan threads: how many a search uses and at what CPU priority, and the
//! pool that runs one job per file on them.
//!
//! The pool is scoped to one search (threads start and end with it), so an
//! idle daemon holds no scan threads and a thread's lowered priority never
//! leaks into other work. Results come back with their item's index, so the
//! caller can put what it lists back in the items' order: answers do not
//! depend on the thread count.

use std::num::NonZeroUsize;

/// How many threads a search uses, and whether they run at a lower CPU priority.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScanThreads {
    /// Threads scanning files at once (at least 1).
    pub count: NonZeroUsize,
    /// The nice value scan threads take (`None`: the caller's). Lowering a
    /// thread's priority needs no privilege; on Linux its I/O priority
    /// follows (best-effort class, level `(nice + 20) / 5`) unless the
    /// process sets one.
    pub nice: Option<i32>,
}

/// The nice value of the daemon's scan threads: a refresh yields the CPU to
/// the services it watches.
pub const DAEMON_NICE: i32 = 10;

impl ScanThreads {
    /// One thread: the caller's.
    pub const ONE: ScanThreads = ScanThreads {
        count: NonZeroUsize::MIN,
        nice: None,
    };

    /// `count` threads at the caller's priority (0 reads as 1).
    pub fn new(count: usize) -> Self {
        ScanThreads {
            count: NonZeroUsize::new(count).unwrap_or(NonZeroUsize::MIN),
            nice: None,
        }
    }

    /// As many threads as the machine has cores: for a command run by hand, like ripgrep.
    pub fn all_cores() -> Self {
        ScanThreads::new(cores())
    }

    /// The daemon's default: one thread on a machine of up to two cores (a
    /// small VPS, where the watched service needs the other), else half the
    /// cores; at nice [`DAEMON_NICE`].
    pub fn daemon_default() -> Self {
        ScanThreads::daemon(daemon_count(cores()))
    }

    /// `count` threads at the daemon's lower priority.
    pub fn daemon(count: usize) -> Self {
        ScanThreads {
            nice: Some(DAEMON_NICE),
            ..ScanThreads::new(count)
        }
    }
}

/// The daemon's thread count on a machine of `cores` cores.
pub fn daemon_count(cores: usize) -> usize {
    if cores <= 2 {
        1
    } else {
        cores / 2
    }
}

/// The cores this process may run on.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, NonZeroUsize::get)
}

/// Runs `work` on every item, on up to `threads.count` threads, handing items
/// out in `order` (indices into `items`; the largest first keeps threads busy
/// to the end), and gives each result to `done` on the calling thread as soon
/// as it is ready, with the item's index. Results are not held back for
/// each other: the caller merges them as they come, so memory grows with the
/// threads, not with the items. A panic in `work` is resumed on the caller,
/// as it would be on one thread.
pub fn for_each_done<T, R, W, D>(
    items: &[T],
    order: &[usize],
    threads: ScanThreads,
    work: W,
    mut done: D,
) where
    T: Sync,
    R: Send,
    W: Fn(&T) -> R + Sync,
    D: FnMut(usize, R),
{
    let threads = ScanThreads {
        count: threads
            .count
            .min(NonZeroUsize::new(items.len()).unwrap_or(NonZeroUsize::MIN)),
        ..threads
    };
    pipeline(
        threads,
        |push| order.iter().for_each(|&i| push(&items[i])),
        work,
        // The pipeline numbers items as they are made: the k-th is `order[k]`.
        |k, result| done(order[k], result),
    );
}

/// As [`for_each_done`], for items that `produce` makes one at a time on
/// the calling thread (a directory walk that opens each file it finds):
/// each item is handed to a scan thread as soon as it is made, and `done`
/// gets each result, with the item's place in the production order, on the
/// calling thread. At most about two items per thread wait or run at once,
/// so what items hold (an open file) stays bounded.
pub fn pipeline<T, R, P, W, D>(threads: ScanThreads, produce: P, work: W, mut done: D)
where
    T: Send,
    R: Send,
    P: FnOnce(&mut dyn FnMut(T)),
    W: Fn(T) -> R + Sync,
    D: FnMut(usize, R),
{
    let workers = threads.count.get();
    if workers <= 1 {
        if let Some(nice) = threads.nice {
            lower_priority(nice);
        }
        let mut next = 0;
        produce(&mut |item| {
            done(next, work(item));
            next += 1;
        });
        return;
    }
    let (items, waiting) = std::sync::mpsc::sync_channel::<(usize, T)>(workers);
    let waiting = std::sync::Mutex::new(waiting);
    let (finished, results) = std::sync::mpsc::channel::<(usize, R)>();
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..workers)
            .map(|_| {
                let finished = finished.clone();
                let (waiting, work) = (&waiting, &work);
                scope.spawn(move || {
                    if let Some(nice) = threads.nice {
                        lower_priority(nice);
                    }
                    loop {
                        // The lock is held only to take the next item, not while working on it.
                        let next = match waiting.lock() {
                            Ok(receiver) => receiver.recv(),
                            Err(_) => break,
                        };
                        let Ok((i, item)) = next else { break };
                        if finished.send((i, work(item))).is_err() {
                            break;
                        }
                    }
                })
            })
            .collect();
        drop(finished);
        let mut next = 0;
        produce(&mut |item| {
            // A closed channel means every worker stopped (one panicked): the join below says so.
            let _ = items.send((next, item));
            next += 1;
            while let Ok((i, result)) = results.try_recv() {
                done(i, result);
            }
        });
        drop(items);
        for (i, result) in results {
            done(i, result);
        }
        for handle in handles {
            if let Err(panic) = handle.join() {
                std::panic::resume_unwind(panic);
            }
        }
    });
}

/// Sets the calling thread's nice value (on Linux, `setpriority` on a thread
/// id affects that thread only). Best effort: a thread already nicer than
/// `nice` keeps its value (raising priority back needs privilege anyway).
fn lower_priority(nice: i32) {
    let tid = rustix::thread::gettid();
    let current = rustix::process::getpriority_process(Some(tid)).unwrap_or(0);
    if current < nice {
        let _ = rustix::process::setpriority_process(Some(tid), nice);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_item_is_done_once_with_its_index_whatever_the_threads() {
        let items: Vec<u64> = (0..100).collect();
        // Handed out largest first, as the engine does.
        let order: Vec<usize> = (0..100).rev().collect();
        for count in [1, 2, 3, 8, 200] {
            let mut got = vec![None; items.len()];
            for_each_done(
                &items,
                &order,
                ScanThreads::new(count),
                |n| n * 2,
                |i, r| {
                    assert!(got[i].is_none(), "item {i} done twice");
                    got[i] = Some(r);
                },
            );
            let want: Vec<_> = items.iter().map(|n| Some(n * 2)).collect();
            assert_eq!(got, want, "{count}");
        }
    }

    #[test]
    fn scan_threads_run_at_the_lower_priority_and_the_caller_keeps_its_own() {
        // On a thread of its own: one scan thread is the calling thread, which keeps its nice value.
        std::thread::spawn(one_scan_thread_is_the_caller_at_the_lower_priority)
            .join()
            .unwrap();
        let tid = rustix::thread::gettid();
        let before = rustix::process::getpriority_process(Some(tid)).unwrap_or(0);
        let items = [(); 4];
        let mut seen = Vec::new();
        let nice_of_this_thread =
            |_: &()| rustix::process::getpriority_process(Some(rustix::thread::gettid()));
        for_each_done(
            &items,
            &[0, 1, 2, 3],
            ScanThreads::daemon(2),
            nice_of_this_thread,
            |_, nice| seen.push(nice.unwrap_or(0)),
        );
        assert_eq!(seen.len(), 4);
        assert!(
            seen.iter().all(|&n| n == DAEMON_NICE.max(before)),
            "{seen:?}"
        );
        let after = rustix::process::getpriority_process(Some(tid)).unwrap_or(0);
        assert_eq!(after, before);
    }

    fn one_scan_thread_is_the_caller_at_the_lower_priority() {
        let caller = rustix::thread::gettid();
        let mut ran_on = Vec::new();
        for_each_done(
            &[(); 3],
            &[0, 1, 2],
            ScanThreads::daemon(1),
            |_| rustix::thread::gettid(),
            |_, tid| ran_on.push(tid),
        );
        assert_eq!(ran_on, [caller; 3]);
        let nice = rustix::process::getpriority_process(Some(caller)).unwrap_or(0);
        assert!(nice >= DAEMON_NICE, "{nice}");
    }

    #[test]
    fn a_pipeline_does_every_item_once_with_its_place_whatever_the_threads() {
        for count in [1, 2, 3, 8] {
            let mut got = vec![None; 50];
            pipeline(
                ScanThreads::new(count),
                |push| (0..50u64).for_each(push),
                |n| n * 3,
                |i, r| {
                    assert!(got[i].is_none(), "item {i} done twice");
                    got[i] = Some(r);
                },
            );
            let want: Vec<_> = (0..50u64).map(|n| Some(n * 3)).collect();
            assert_eq!(got, want, "{count}");
        }
    }

    #[test]
    fn the_daemon_leaves_small_machines_a_core() {
        assert_eq!(daemon_count(1), 1);
        assert_eq!(daemon_count(2), 1);
        assert_eq!(daemon_count(4), 2);
        assert_eq!(daemon_count(16), 8);
    }
}
