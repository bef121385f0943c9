//! Generates realistic service logs for benchmarks: Python-logging lines with
//! tracebacks, some syslog lines, a chosen size and error rate. Deterministic
//! (a fixed seed), so two runs write the same bytes.
//!
//! cargo run --release --example genlogs -- OUT SIZE_MIB [ERROR_RATE] [--append]

use std::fs::OpenOptions;
use std::io::{BufWriter, Write};

/// xorshift64*: enough randomness for log text, no dependency.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn chance(&mut self, p: f64) -> bool {
        ((self.next() >> 11) as f64 / (1u64 << 53) as f64) < p
    }
}

const MODULES: [&str; 6] = [
    "bot.trader",
    "bot.api",
    "bot.cache",
    "worker",
    "db.pool",
    "http.client",
];
const INFO: [&str; 6] = [
    "order {n} filled at {p}",
    "fetched {n} candles in {p} ms",
    "cache hit for key user:{n}",
    "heartbeat ok, queue depth {n}",
    "GET /api/v1/orders/{n} 200 {p}ms",
    "connected to exchange session {n}",
];
const WARNINGS: [&str; 3] = [
    "slow response from exchange: {p} ms",
    "retrying request {n} after timeout",
    "queue depth {n} above soft limit",
];
const ERRORS: [&str; 4] = [
    "order {n} rejected: insufficient balance",
    "connection reset by peer while reading from socket {n}",
    "request {n} failed: Timeout after {p} ms",
    "OOM guard: rss {p} MiB above threshold",
];

fn fill(template: &str, rng: &mut Rng) -> String {
    template
        .replace("{n}", &rng.below(1_000_000).to_string())
        .replace("{p}", &rng.below(5000).to_string())
}

fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (Some(out), Some(size)) = (args.first(), args.get(1)) else {
        eprintln!("usage: genlogs OUT SIZE_MIB [ERROR_RATE] [--append]");
        std::process::exit(2);
    };
    let size_mib: f64 = size.parse().expect("SIZE_MIB must be a number");
    let error_rate: f64 = args
        .get(2)
        .filter(|a| !a.starts_with("--"))
        .map_or(0.02, |r| r.parse().expect("ERROR_RATE must be a number"));
    let append = args.iter().any(|a| a == "--append");
    let target = (size_mib * 1024.0 * 1024.0) as u64;
    let file = OpenOptions::new()
        .create(true)
        .write(true)
        .append(append)
        .truncate(!append)
        .open(out)?;
    let mut w = BufWriter::with_capacity(1 << 20, file);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ target ^ u64::from(append));
    let mut written = 0u64;
    let mut second = 1_769_500_000i64;
    while written < target {
        second += rng.below(2) as i64;
        let t = chrono::DateTime::from_timestamp(second, 0).expect("valid time");
        let millis = rng.below(1000);
        let line = if rng.chance(0.05) {
            format!(
                "{} host bot[{}]: {}\n",
                t.format("%b %e %H:%M:%S"),
                rng.below(30000),
                fill(INFO[rng.below(6) as usize], &mut rng)
            )
        } else if rng.chance(error_rate) {
            let mut entry = format!(
                "{},{millis:03} - {} - ERROR - {}\n",
                t.format("%Y-%m-%d %H:%M:%S"),
                MODULES[rng.below(6) as usize],
                fill(ERRORS[rng.below(4) as usize], &mut rng)
            );
            if rng.chance(0.3) {
                entry.push_str("Traceback (most recent call last):\n");
                for depth in 0..3 + rng.below(4) {
                    entry.push_str(&format!(
                        "  File \"/opt/bot/{}.py\", line {}, in handler_{depth}\n    result = call(payload)\n",
                        MODULES[rng.below(6) as usize].replace('.', "/"),
                        rng.below(900) + 1
                    ));
                }
                entry.push_str("ConnectionError: connection reset by peer\n");
            }
            entry
        } else {
            let (level, text) = if rng.chance(0.08) {
                ("WARNING", WARNINGS[rng.below(3) as usize])
            } else if rng.chance(0.1) {
                ("DEBUG", INFO[rng.below(6) as usize])
            } else {
                ("INFO", INFO[rng.below(6) as usize])
            };
            format!(
                "{},{millis:03} - {} - {level} - {}\n",
                t.format("%Y-%m-%d %H:%M:%S"),
                MODULES[rng.below(6) as usize],
                fill(text, &mut rng)
            )
        };
        w.write_all(line.as_bytes())?;
        written += line.len() as u64;
    }
    w.flush()
}
