//! A progress bar on stderr for scans that take more than a moment; none at
//! all when stderr is not a terminal.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use chrono::Local;
use diagbot_core::logs::walk::collect_files;
use diagbot_core::{Engine, Query, SearchResult};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A scan shorter than this shows no bar.
const SHOW_AFTER: Duration = Duration::from_millis(300);

pub fn search_with_progress(engine: &Engine, query: &Query) -> anyhow::Result<SearchResult> {
    let now = Local::now().fixed_offset();
    if !std::io::stderr().is_terminal() {
        return Ok(engine.search(query, now, &|_| {})?);
    }
    let (files, _) = collect_files(query.paths());
    let total: u64 = files
        .iter()
        .filter_map(|f| std::fs::metadata(&f.path).ok())
        .map(|m| m.len())
        .sum();
    let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::hidden());
    bar.set_style(
        ProgressStyle::with_template("{bar:30} {bytes}/{total_bytes} {bytes_per_sec} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let started = Instant::now();
    let shown = std::sync::atomic::AtomicBool::new(false);
    let result = engine.search(query, now, &|n| {
        bar.inc(n);
        if !shown.load(std::sync::atomic::Ordering::Relaxed) && started.elapsed() > SHOW_AFTER {
            shown.store(true, std::sync::atomic::Ordering::Relaxed);
            bar.set_draw_target(ProgressDrawTarget::stderr());
        }
    });
    bar.finish_and_clear();
    Ok(result?)
}
