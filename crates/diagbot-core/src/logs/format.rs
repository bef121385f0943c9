//! A file's timestamp format, once learned, and reading its lines with it.
//!
//! A line is read with the file's format first, at the place the format says
//! (a field or a time key): one parse, no search, and a number elsewhere in
//! the message cannot be taken for the time. Only when that fails (a
//! continuation line, a line from another writer) is the line searched.

use crate::logs::level::{header_level, Level};
use crate::logs::timestamp::grammar::{
    read_at, read_fixed, DateForm, DateOrder, EpochUnit, Layout, Reading, ZoneStyle,
};
use crate::logs::timestamp::search::{locate, Anchor};
use crate::logs::timestamp::{find_line_timestamp_preferring, LineTime, YearHint};
use crate::logs::user_format::CompiledUserFormat;

/// How a file writes its timestamps.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum FileFormat {
    /// Nothing learned (no timestamp in the first lines): each line is searched on its own.
    #[default]
    Unknown,
    /// A built-in form learned from the file's first lines.
    Builtin(BuiltinFormat),
    /// A user-defined format whose glob matches the file.
    User(UserChoice),
}

/// A user format chosen for a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UserChoice {
    /// Index in the query's list of user formats.
    pub index: usize,
    /// The user format's name.
    pub name: String,
    /// Where its timestamps stand, for a format without a regex.
    pub anchor: Option<Anchor>,
}

/// A built-in form at a place in the line, with its date fields' order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BuiltinFormat {
    /// Where in the line the timestamp stands.
    pub anchor: Anchor,
    /// The form of the date and time.
    pub layout: Layout,
    /// Which date field is the day, month or year.
    pub order: DateOrder,
    /// How the first sampled line wrote its fraction and zone: for the name only.
    pub frac_digits: u8,
    /// The fraction's separator (`.` or `,`), as sampled.
    pub frac_sep: u8,
    /// How the zone is written, as sampled.
    pub zone: ZoneStyle,
    /// The header learned from the same lines: where the message starts.
    pub header: Option<crate::logs::header::HeaderShape>,
}

impl BuiltinFormat {
    /// The timestamp at the format's place in `line`, if it is written in the format's layout.
    pub fn read(&self, line: &[u8], hint: &YearHint) -> Option<LineTime> {
        match self.read_place(line, hint) {
            Placed::Time(time) => Some(time),
            _ => None,
        }
    }

    /// What stands at the format's place in `line`.
    #[inline(always)]
    fn read_place(&self, line: &[u8], hint: &YearHint) -> Placed {
        let Some(start) = locate(line, self.anchor) else {
            return Placed::Nothing;
        };
        let reading = read_fixed(line, start, &self.layout).or_else(|| read_at(line, start));
        let Some(reading) = reading else {
            return Placed::Nothing;
        };
        if reading.layout != self.layout {
            return Placed::Other(start, reading);
        }
        match reading.resolve(self.order, hint) {
            Some(time) => Placed::Time(LineTime {
                time,
                start,
                end: reading.end,
            }),
            None => Placed::Nothing,
        }
    }

    /// A readable description: `iso8601 yyyy-MM-dd HH:mm:ss,SSS`, `syslog MMM d HH:mm:ss`,
    /// `epoch seconds (field 5)`, `dd/MM/yyyy HH:mm:ss`.
    pub fn name(&self) -> String {
        let mut name = describe(self);
        match self.anchor {
            Anchor::Field { index: 0, .. } => {}
            Anchor::Field { index, .. } => name.push_str(&format!(" (field {})", index + 1)),
            Anchor::Key(key) => name.push_str(&format!(" (key {})", key.name())),
        }
        name
    }
}

/// What stands at a format's place in a line.
enum Placed {
    Time(LineTime),
    /// A timestamp in another layout, starting at this offset.
    Other(usize, Reading),
    Nothing,
}

impl FileFormat {
    /// The format's name, for `files[].timestamp_format`.
    pub fn name(&self) -> Option<String> {
        match self {
            FileFormat::Unknown => None,
            FileFormat::Builtin(f) => Some(f.name()),
            FileFormat::User(u) => Some(u.name.clone()),
        }
    }
}

/// What reading a line's head gave.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineHead {
    /// The line's timestamp and where it stands, if it has one.
    pub time: Option<LineTime>,
    /// The file's format read the time (rather than the search).
    pub by_format: bool,
    /// A user format's `level` group: `Some(level)` overrides the header rules.
    pub given_level: Option<Option<Level>>,
    /// The file's learned header, when the file's format read the time.
    pub header: Option<crate::logs::header::HeaderShape>,
}

impl LineHead {
    /// The level of `line` (whose head this is): a user format's `level`
    /// group, or else the header rules around the timestamp.
    pub fn level(&self, line: &[u8]) -> Option<Level> {
        if let Some(level) = self.given_level {
            return level;
        }
        // The per-line rules first (remembered per header: cheap); where
        // they find none, the field where the file's learned header states
        // its level (past a thread name with blanks, after five fields).
        header_level(line, self.time.map(|t| (t.start, t.end))).or_else(|| {
            let (shape, t) = self.header.zip(self.time)?;
            crate::logs::header::header_level(line, t.end, shape)
        })
    }
}

/// Reads the timestamps of one file's lines.
#[derive(Debug, Clone, Copy)]
pub struct TimeReader<'a> {
    format: &'a FileFormat,
    users: &'a [CompiledUserFormat],
    hint: YearHint,
}

impl<'a> TimeReader<'a> {
    /// A reader of lines written in `format`, with `users` the query's compiled
    /// user formats and `hint` the year rule of the file.
    pub fn new(format: &'a FileFormat, users: &'a [CompiledUserFormat], hint: YearHint) -> Self {
        TimeReader {
            format,
            users,
            hint,
        }
    }

    /// Whether the file's lines were seen to have timestamps: then a line
    /// without one continues the event above it.
    pub fn has_timestamps(&self) -> bool {
        *self.format != FileFormat::Unknown
    }

    /// The year rule of the file: its modification time.
    pub fn hint(&self) -> &YearHint {
        &self.hint
    }

    /// The file's format.
    pub fn format(&self) -> &FileFormat {
        self.format
    }

    /// The timestamp of `line`: by the file's format, else by the search.
    pub fn read(&self, line: &[u8]) -> LineHead {
        let mut prefer = None;
        match self.format {
            FileFormat::Builtin(f) => {
                match f.read_place(line, &self.hint) {
                    Placed::Time(time) => {
                        return LineHead {
                            time: Some(time),
                            by_format: true,
                            given_level: None,
                            header: f.header,
                        }
                    }
                    // Another form at the very start of the line is what the
                    // search would find first: no need to read it twice.
                    Placed::Other(0, reading) => {
                        if let Some(time) = reading.resolve_alone(&self.hint) {
                            return LineHead {
                                time: Some(LineTime {
                                    time,
                                    start: 0,
                                    end: reading.end,
                                }),
                                by_format: false,
                                given_level: None,
                                header: None,
                            };
                        }
                    }
                    _ => {}
                }
                prefer = Some((f.layout, f.order));
            }
            FileFormat::User(choice) => {
                let format = self.users.get(choice.index);
                if let Some(r) = format.and_then(|u| u.read(line, choice.anchor, &self.hint)) {
                    return LineHead {
                        time: Some(r.time),
                        by_format: true,
                        given_level: r.level,
                        header: None,
                    };
                }
            }
            FileFormat::Unknown => {}
        }
        LineHead {
            time: find_line_timestamp_preferring(line, &self.hint, prefer),
            by_format: false,
            given_level: None,
            header: None,
        }
    }

    /// Just the instant of `line`'s timestamp.
    pub fn instant(&self, line: &[u8]) -> Option<chrono::DateTime<chrono::FixedOffset>> {
        self.read(line).time.and_then(|t| t.time.to_datetime())
    }
}

/// The family and pattern of a built-in format, in the letters of Unicode
/// date patterns (`yyyy`, `MM`, `dd`, `MMM`, `EEE`, `HH`, `h`, `mm`, `ss`, `SSS`, `a`).
fn describe(f: &BuiltinFormat) -> String {
    let l = &f.layout;
    let unit = match l.date {
        DateForm::Epoch(EpochUnit::Seconds) => Some("seconds"),
        DateForm::Epoch(EpochUnit::Millis) => Some("milliseconds"),
        DateForm::Epoch(EpochUnit::Micros) => Some("microseconds"),
        DateForm::Epoch(EpochUnit::Nanos) => Some("nanoseconds"),
        _ => None,
    };
    if let Some(unit) = unit {
        return format!("epoch {unit}");
    }
    let family = match l.date {
        DateForm::YearFirst if l.date_sep == b'-' && matches!(l.date_time_sep, b'T' | b' ') => {
            "iso8601 "
        }
        DateForm::Compact8 if l.date_time_sep == b'T' => "iso8601 basic ",
        DateForm::MonthNameDay if l.year_after_time => "ctime ",
        DateForm::MonthNameDay if !l.weekday => "syslog ",
        DateForm::DayMonthName if l.date_sep == b'/' && l.date_time_sep == b':' => "common log ",
        _ => "",
    };
    let s = char::from(l.date_sep);
    let year = if l.short_year { "yy" } else { "yyyy" };
    let date = match (l.date, f.order) {
        (DateForm::YearFirst, _) => format!("yyyy{s}MM{s}dd"),
        (DateForm::YearLast, DateOrder::Mdy) => format!("MM{s}dd{s}{year}"),
        (DateForm::YearLast, _) => format!("dd{s}MM{s}{year}"),
        (DateForm::TwoDigitTriple, DateOrder::Ymd) => format!("yy{s}MM{s}dd"),
        (DateForm::TwoDigitTriple, DateOrder::Dmy) => format!("dd{s}MM{s}yy"),
        (DateForm::TwoDigitTriple, DateOrder::Mdy) => format!("MM{s}dd{s}yy"),
        (DateForm::DayMonthName, _) => format!("dd{s}MMM{s}{year}"),
        (DateForm::MonthNameDayYear, _) if l.date_sep == b',' => "MMM d, yyyy".to_string(),
        (DateForm::MonthNameDayYear, _) => format!("MMM{s}d{s}yyyy"),
        (DateForm::YearMonthName, _) => format!("yyyy{s}MMM{s}dd"),
        (DateForm::MonthNameDay, _) if l.year_after_time => format!("MMM{s}dd"),
        (DateForm::MonthNameDay, _) => format!("MMM{s}d"),
        (DateForm::NumericPair, DateOrder::Dmy) => format!("dd{s}MM"),
        (DateForm::NumericPair, _) => format!("MM{s}dd"),
        (DateForm::Compact8, _) => "yyyyMMdd".to_string(),
        (DateForm::Compact6, _) => "yyMMdd".to_string(),
        (DateForm::Compact4, _) => "MMdd".to_string(),
        (DateForm::Epoch(_), _) => String::new(),
    };
    let weekday = if l.weekday { "EEE " } else { "" };
    let between = match l.date_time_sep {
        0 => String::new(),
        b'T' => "'T'".to_string(),
        b => char::from(b).to_string(),
    };
    let t = if l.time_sep == 0 {
        String::new()
    } else {
        char::from(l.time_sep).to_string()
    };
    let hours = if l.clock12 { "h" } else { "HH" };
    let mut time = format!("{hours}{t}mm");
    if l.seconds {
        time.push_str(&format!("{t}ss"));
    }
    if f.frac_digits > 0 {
        time.push(char::from(f.frac_sep));
        time.push_str(&"S".repeat(usize::from(f.frac_digits)));
    }
    if l.clock12 {
        time.push_str(" a");
    }
    time.push_str(match f.zone {
        ZoneStyle::None => "",
        ZoneStyle::Z => "'Z'",
        ZoneStyle::Offset => "xx",
        ZoneStyle::OffsetColon => "xxx",
        ZoneStyle::Name => " zzz",
    });
    let year_after = if l.year_after_time { " yyyy" } else { "" };
    format!("{family}{weekday}{date}{between}{time}{year_after}")
}
