//! Headers nobody here has seen: random header grammars (random sequences of
//! header field kinds, separators and time forms) around random message
//! templates with random variables. Grouping must recover the templates
//! exactly (grouping accuracy 1.0), and the learned header must end where
//! the generated one does, on every grammar.

#![allow(clippy::unwrap_used)] // a failed setup step should fail the test loudly

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

use chrono::{Duration, NaiveDate, NaiveDateTime};
use diagbot_core::groups::message::message_span;
use diagbot_core::groups::{self, GroupsQuery, LevelFilter};
use diagbot_core::logs::format::TimeReader;
use diagbot_core::logs::learn::learn_from_lines;
use diagbot_core::logs::timestamp::YearHint;

/// A small deterministic generator (xorshift): the same grammars every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const WORDS: [&str; 20] = [
    "connection",
    "request",
    "block",
    "packet",
    "worker",
    "session",
    "cache",
    "order",
    "payment",
    "user",
    "disk",
    "memory",
    "socket",
    "server",
    "client",
    "job",
    "task",
    "queue",
    "file",
    "commit",
];
const VERBS: [&str; 12] = [
    "failed",
    "started",
    "stopped",
    "received",
    "sent",
    "opened",
    "closed",
    "rejected",
    "accepted",
    "created",
    "deleted",
    "scheduled",
];
const LEVELS: [&str; 4] = ["INFO", "WARN", "ERROR", "DEBUG"];

/// The kinds of header field a grammar is made of.
#[derive(Debug, Clone, Copy)]
enum Field {
    Pid,
    Level,
    LevelLetter,
    Thread,
    Logger,
    Component,
    Host,
    Program,
    Request,
    KeyValue,
}

const FIELDS: [Field; 10] = [
    Field::Pid,
    Field::Level,
    Field::LevelLetter,
    Field::Thread,
    Field::Logger,
    Field::Component,
    Field::Host,
    Field::Program,
    Field::Request,
    Field::KeyValue,
];

fn hex(rng: &mut Rng, digits: usize) -> String {
    // At least one letter: sixteen hex digits that happen to be all decimal
    // read as a number (a masking question, not a header's).
    let mut s: String = (0..digits)
        .map(|_| char::from(b"0123456789abcdef"[rng.below(16)]))
        .collect();
    s.replace_range(0..1, "a");
    s
}

fn variable(kind: usize, rng: &mut Rng) -> String {
    match kind {
        0 => rng.below(100_000).to_string(),
        1 => format!(
            "10.{}.{}.{}:{}",
            rng.below(256),
            rng.below(256),
            rng.below(254) + 1,
            rng.below(60_000) + 1000
        ),
        2 => format!(
            "{}-{}-{}-{}-{}",
            hex(rng, 8),
            hex(rng, 4),
            hex(rng, 4),
            hex(rng, 4),
            hex(rng, 12)
        ),
        3 => format!("/var/lib/{}/{}.dat", rng.pick(&WORDS), rng.below(1000)),
        4 => format!("blk_-{}", rng.next() >> 2),
        _ => format!(
            "job_{}_{:04}",
            1_700_000_000_000 + rng.below(1 << 30),
            rng.below(10_000)
        ),
    }
}

/// A template: words and variable kinds (`Err(kind)`), a word first.
fn template(rng: &mut Rng) -> Vec<Result<&'static str, usize>> {
    let mut tokens = vec![Ok(*rng.pick(&WORDS))];
    for _ in 0..rng.below(5) + 1 {
        tokens.push(match rng.below(10) {
            0..=2 => Err(rng.below(6)),
            3..=4 => Ok(*rng.pick(&VERBS)),
            _ => Ok(*rng.pick(&WORDS)),
        });
    }
    if !tokens.iter().any(Result::is_err) {
        tokens.push(Err(0));
    }
    tokens
}

fn time(form: usize, t: NaiveDateTime) -> String {
    let ms = t.and_utc().timestamp_subsec_millis();
    match form {
        0 => format!("{},{ms:03}", t.format("%Y-%m-%d %H:%M:%S")),
        1 => t.format("%y%m%d %H%M%S").to_string(),
        2 => t.format("%y/%m/%d %H:%M:%S").to_string(),
        3 => format!("{}.{ms:03}", t.format("%m-%d %H:%M:%S")),
        4 => format!("[{}]", t.format("%m.%d %H:%M:%S")),
        // Hours and milliseconds unpadded, as some writers do.
        5 => format!(
            "{}{}:{}:{ms}",
            t.format("%Y%m%d-"),
            t.format("%-H"),
            t.format("%M:%S")
        ),
        _ => t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string(),
    }
}

fn field(kind: Field, rng: &mut Rng, level: &str) -> String {
    match kind {
        Field::Pid => (100 + rng.below(40_000)).to_string(),
        Field::Level => level.to_string(),
        Field::LevelLetter => level[..1].to_string(),
        Field::Thread => {
            let name = rng.pick(&["pool worker", "main", "IPC Server handler", "Thread"]);
            match rng.below(2) {
                0 => format!("[{name} {}]", rng.below(10)),
                _ => format!("[{name} {} on {}]", rng.below(10), 1000 + rng.below(9000)),
            }
        }
        Field::Logger => format!(
            "{}:",
            rng.pick(&[
                "org.example.net.Client",
                "dfs.DataNode$PacketResponder",
                "storage.BlockManager",
                "com.acme.pay.Service"
            ])
        ),
        Field::Component => rng
            .pick(&["CBS", "CSI", "SVC", "NET", "KERNEL"])
            .to_string(),
        Field::Host => format!(
            "{}-{}",
            rng.pick(&["node", "web", "calvisitor"]),
            rng.below(40) + 1
        ),
        Field::Program => format!(
            "{} -",
            rng.pick(&["chrome.exe", "scanner.exe", "svchost.exe"])
        ),
        Field::Request => format!("[req-{} {} - - -]", variable(2, rng), hex(rng, 12)),
        Field::KeyValue => format!("tid={}", rng.below(99) + 1),
    }
}

/// One generated log: its text, each line's template and message offset.
struct Generated {
    text: String,
    truth: Vec<usize>,
    message_at: Vec<usize>,
    grammar: String,
}

fn generate(seed: u64, lines: usize) -> Generated {
    let mut rng = Rng(seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1);
    let form = rng.below(7);
    let mut kinds: Vec<Field> = Vec::new();
    for _ in 0..rng.below(4) + 1 {
        let k = *rng.pick(&FIELDS);
        let is_level = |f: &Field| matches!(f, Field::Level | Field::LevelLetter);
        if !(is_level(&k) && kinds.iter().any(is_level)) {
            kinds.push(k);
        }
    }
    // A name with a colon introduces the message: it stands last (as a
    // logger, a syslog tag or a component with its colon does).
    if let Some(at) = kinds.iter().position(|k| matches!(k, Field::Logger)) {
        let logger = kinds.remove(at);
        kinds.push(logger);
    }
    let pipes = rng.below(3) == 0;
    let mut templates: Vec<Vec<Result<&str, usize>>> = Vec::new();
    while templates.len() < 5 + rng.below(10) {
        let t = template(&mut rng);
        if !templates.contains(&t) {
            templates.push(t);
        }
    }
    let mut t = NaiveDate::from_ymd_opt(2026, 1, 27)
        .unwrap()
        .and_hms_opt(8, 0, 0)
        .unwrap();
    let mut out = Generated {
        text: String::new(),
        truth: Vec::new(),
        message_at: Vec::new(),
        grammar: format!("time form {form}, {kinds:?}, pipes {pipes}"),
    };
    for _ in 0..lines {
        t += Duration::milliseconds(1 + rng.below(5000) as i64);
        let k = rng.below(templates.len());
        let level = LEVELS[k % LEVELS.len()];
        let mut parts = vec![time(form, t)];
        parts.extend(kinds.iter().map(|&f| field(f, &mut rng, level)));
        let sep = if pipes { "|" } else { " " };
        let head = parts.join(sep) + sep;
        let message: Vec<String> = templates[k]
            .iter()
            .map(|tok| match tok {
                Ok(w) => w.to_string(),
                Err(kind) => variable(*kind, &mut rng),
            })
            .collect();
        out.message_at.push(head.len());
        let _ = writeln!(out.text, "{head}{}", message.join(" "));
        out.truth.push(k);
    }
    out
}

/// Grouping accuracy: the share of lines whose group holds exactly the
/// lines of their template.
fn accuracy(truth: &[usize], predicted: &[String]) -> f64 {
    let mut by_truth: HashMap<usize, HashSet<usize>> = HashMap::new();
    let mut by_group: HashMap<&str, HashSet<usize>> = HashMap::new();
    for (i, (t, p)) in truth.iter().zip(predicted).enumerate() {
        by_truth.entry(*t).or_default().insert(i);
        by_group.entry(p.as_str()).or_default().insert(i);
    }
    let right: usize = by_group
        .values()
        .filter(|g| by_truth.values().any(|t| t == *g))
        .map(HashSet::len)
        .sum();
    right as f64 / truth.len() as f64
}

#[test]
fn grouping_recovers_the_templates_of_fifty_generated_header_grammars() {
    let dir = tempfile::tempdir().unwrap();
    let mut failed = Vec::new();
    for seed in 1..=50 {
        let g = generate(seed, 600);
        let path = dir.path().join(format!("g{seed}.log"));
        std::fs::write(&path, &g.text).unwrap();
        let query = GroupsQuery {
            level: LevelFilter::Any,
            assign: true,
            ..GroupsQuery::new(vec![path.clone()])
        };
        let now = chrono::Local::now().fixed_offset();
        let result = groups::run(&query, now, &|_| {}).unwrap();
        let mut predicted = vec![String::new(); g.truth.len()];
        for a in &result.assigned {
            for line in a.first_line..a.first_line + u64::from(a.lines) {
                predicted[line as usize - 1] = result.id_of(a).to_string();
            }
        }
        let ga = accuracy(&g.truth, &predicted);
        // Where the learned header says each line's message starts.
        let lines: Vec<&[u8]> = g.text.lines().map(str::as_bytes).collect();
        let hint = YearHint::new(now.naive_local());
        let learned = learn_from_lines(lines.iter().copied(), &[], &path, hint);
        let reader = TimeReader::new(&learned.format, &[], hint);
        let wrong_split = lines
            .iter()
            .zip(&g.message_at)
            .filter(|(line, at)| {
                let head = reader.read(line);
                message_span(line, &head, head.level(line).is_some()).start != **at
            })
            .count();
        if ga < 1.0 || wrong_split > 0 {
            failed.push(format!(
                "seed {seed} ({}): GA {ga:.3}, {wrong_split} lines split wrong; e.g. {}",
                g.grammar,
                g.text.lines().next().unwrap_or("")
            ));
        }
    }
    assert!(failed.is_empty(), "{}", failed.join("\n"));
}
