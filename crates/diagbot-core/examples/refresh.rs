//! Measures an incremental refresh against the full scan it replaces:
//! scans FILE, appends APPEND_MIB of log lines to it, refreshes, and prints
//! the bytes each read and the time each took.
//!
//! cargo run --release -p diagbot-core --example refresh -- FILE [APPEND_MIB]

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use diagbot_core::engine::Engine;
use diagbot_core::query::Query;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let file = PathBuf::from(args.next().ok_or("usage: refresh FILE [APPEND_MIB]")?);
    let append_mib: usize = args.next().map_or(Ok(1), |a| a.parse())?;
    let engine = Engine::incremental(Default::default());
    let mut query = Query::grep("ERROR", vec![file.clone()]);
    query.max_lines = 20;
    let now = || chrono::Local::now().fixed_offset();

    // Tails are kept from a query's second run on (as for the daemon's refresh queries).
    engine.search(&query, now(), &|_| {})?;
    let started = Instant::now();
    let full = engine.search(&query, now(), &|_| {})?;
    let full_time = started.elapsed();

    let line = "2026-01-27 12:00:00,000 - worker - ERROR - appended after the first scan\n";
    let appended = line.repeat((append_mib << 20) / line.len());
    std::fs::OpenOptions::new()
        .append(true)
        .open(&file)?
        .write_all(appended.as_bytes())?;

    let started = Instant::now();
    let refreshed = engine.search(&query, now(), &|_| {})?;
    let refresh_time = started.elapsed();

    println!(
        "full scan:  {} bytes read, {} matches, {:.1} ms",
        full.bytes_scanned,
        full.matches,
        full_time.as_secs_f64() * 1e3
    );
    println!("appended:   {} bytes", appended.len());
    println!(
        "refresh:    {} bytes read, {} matches, {:.2} ms",
        refreshed.bytes_scanned,
        refreshed.matches,
        refresh_time.as_secs_f64() * 1e3
    );
    println!(
        "refresh / full time: {:.2} %",
        100.0 * refresh_time.as_secs_f64() / full_time.as_secs_f64()
    );
    let expected = full.matches + (appended.len() / line.len()) as u64;
    if refreshed.matches != expected || refreshed.bytes_scanned != appended.len() as u64 {
        return Err(format!(
            "refresh wrong: {} matches (expected {expected}), {} bytes read",
            refreshed.matches, refreshed.bytes_scanned
        )
        .into());
    }
    Ok(())
}
