//! Out of file descriptors: the answer is partial, said so, never cached,
//! and does not replace a good cached one (issue 11: a scan at the fd limit
//! answered `matches: 0` and was served as a hit for the TTL).
//!
//! One test in its own binary: it lowers this process's fd limit.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::fs;
use std::time::Duration;

use diagbot_core::cache::{CacheConfig, HitOrLoad};
use diagbot_core::diagnostics::Diagnostics;
use diagbot_core::query::Query;
use rustix::process::{setrlimit, Resource};

#[path = "../../../testdata/fd_spare.rs"]
mod fd_spare;
use fd_spare::leave_spare;

#[test]
fn at_the_fd_limit_answers_are_partial_and_never_cached() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["a.log", "b.log", "c.log"] {
        fs::write(dir.path().join(name), "2026-01-27 10:00:00 ERROR bad\n").unwrap();
    }
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(async {
        let config = CacheConfig {
            ttl: Duration::from_secs(300),
            ..CacheConfig::default()
        };
        let diag = Diagnostics::new(config, Default::default());
        let logs = Query::errors(vec![dir.path().to_path_buf()]);
        let good = diag.refresh(&logs).await.unwrap();
        assert_eq!((good.matches, good.partial.clone()), (3, None));
        // Warm the blocking pool's thread before the limit.
        let other = Query::grep("bad", vec![dir.path().to_path_buf()]);

        let restore = leave_spare(1);
        // The directory opens; listing it needs a second descriptor.
        let refreshed = diag.refresh(&logs).await.unwrap();
        let degraded = diag.answer(&other).await.unwrap();
        let again = diag.answer(&other).await.unwrap();
        let cached = diag.answer(&logs).await.unwrap();
        setrlimit(Resource::Nofile, restore).unwrap();

        let reason = refreshed
            .partial
            .clone()
            .unwrap_or_else(|| panic!("not partial: {refreshed:?}"));
        assert!(reason.contains("Too many open files"), "{reason}");
        let (answer, how) = degraded;
        assert!(answer.partial.is_some(), "{answer:?}");
        assert_eq!(how, HitOrLoad::Loaded);
        assert_eq!(again.1, HitOrLoad::Loaded, "a degraded answer was a hit");
        // The good answer cached before stayed.
        assert_eq!(cached.1, HitOrLoad::Hit);
        assert_eq!((cached.0.matches, cached.0.partial.clone()), (3, None));
        assert_eq!(diag.cache().stats().partial, 3);

        // With descriptors again, the question is answered whole, and cached.
        let (whole, how) = diag.answer(&other).await.unwrap();
        assert_eq!(
            (whole.matches, whole.partial.clone(), how),
            (3, None, HitOrLoad::Loaded)
        );
        assert_eq!(diag.answer(&other).await.unwrap().1, HitOrLoad::Hit);
    });
}
