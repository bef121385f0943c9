use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::time::Instant;

use super::*;
use crate::testing::eventually;

/// An executable script at `dir/journalctl` that runs `body` under sh.
fn fake_journalctl(dir: &Path, body: &str) -> Journal {
    let path = dir.join("journalctl");
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    Journal::system(path.display().to_string())
}

fn read_all(journal: &Journal, cancel: &Cancel) -> Result<(Vec<Entry>, ReadSummary), JournalError> {
    let mut entries = Vec::new();
    let summary = journal.read(&Request::default(), 4096, cancel, |e| {
        entries.push(e);
        ControlFlow::Continue(())
    })?;
    Ok((entries, summary))
}

/// Whether a process whose command line holds `marker` runs.
fn running(marker: &str) -> bool {
    std::fs::read_dir("/proc").unwrap().flatten().any(|p| {
        std::fs::read(p.path().join("cmdline"))
            .is_ok_and(|c| String::from_utf8_lossy(&c).contains(marker))
    })
}

/// Waits until no process whose command line holds `marker` is left (a
/// killed process takes a moment to go); fails the test naming `what`.
fn wait_gone(marker: &str, what: &str) {
    eventually(what, Duration::from_secs(10), || {
        (!running(marker)).then_some(())
    });
}

#[test]
fn each_value_is_one_argument_and_the_pattern_a_literal() {
    let journal = Journal::system("journalctl").in_directory("/j d".into());
    let request = Request {
        units: vec!["bot.service".into()],
        since_us: Some(1_767_000_000_250_000),
        until_us: Some(-1),
        grep: Some(pcre_literal("a.b (c) \\d")),
        after_cursor: Some("s=1;i=2".into()),
    };
    let args = journal.args(&request);
    for want in [
        "--directory=/j d",
        "--unit=bot.service",
        "--since=@1767000000.250000",
        "--until=@-1.999999",
        "--case-sensitive=true",
        "--grep=a\\.b\\ \\(c\\)\\ \\\\d",
        "--after-cursor=s=1;i=2",
        "--output=export",
    ] {
        assert!(args.iter().any(|a| a == want), "{want} not in {args:?}");
    }
}

#[test]
fn priorities_map_to_levels_as_journalctl_names_them_and_a_message_header_stands_in() {
    let levels: Vec<_> = (0..=7).map(priority_level).collect();
    use Level::*;
    assert_eq!(
        levels,
        [Fatal, Fatal, Fatal, Error, Warning, Info, Info, Debug]
    );
    let entry = |priority, message: &str| Entry {
        priority,
        message: message.as_bytes().to_vec(),
        ..Entry::default()
    };
    assert_eq!(entry(Some(6), "ERROR: not this").level(), Some(Info));
    assert_eq!(
        entry(None, "ERROR:root:payment failed").level(),
        Some(Error)
    );
    assert_eq!(entry(None, "all fine\nERROR later").level(), None);
    // A line of a service's stdout has journald's priority (info): its own
    // stated level wins; a service that set its priority is taken at its word.
    let stream = |message: &str| Entry {
        from_stream: true,
        ..entry(Some(6), message)
    };
    assert_eq!(stream("ERROR:root:payment failed").level(), Some(Error));
    assert_eq!(
        stream("Traceback (most recent call last):").level(),
        Some(Error)
    );
    assert_eq!(stream("refresh done").level(), Some(Info));
    assert_eq!(
        entry(Some(6), "ERROR:root:payment failed").level(),
        Some(Info)
    );
    let warned = Entry {
        from_stream: true,
        ..entry(Some(4), "ERROR:root:x")
    };
    assert_eq!(warned.level(), Some(Warning));
}

#[test]
fn the_senders_time_wins_over_the_journals() {
    let entry = Entry {
        realtime_us: Some(1_767_000_001_000_000),
        source_realtime_us: Some(1_767_000_000_500_000),
        ..Entry::default()
    };
    assert_eq!(entry.time().unwrap().timestamp_millis(), 1_767_000_000_500);
    let entry = Entry {
        source_realtime_us: None,
        ..entry
    };
    assert_eq!(entry.time().unwrap().timestamp_millis(), 1_767_000_001_000);
}

#[test]
fn a_missing_journalctl_is_not_available() {
    let journal = Journal::system("/nonexistent/journalctl");
    let err = read_all(&journal, &Cancel::new()).unwrap_err();
    assert!(matches!(err, JournalError::NotAvailable(_)), "{err}");
    assert!(err
        .to_string()
        .starts_with("journal: not available (cannot run /nonexistent/journalctl"));
}

#[test]
fn permission_denied_names_the_group_to_join() {
    let dir = tempfile::tempdir().unwrap();
    let journal = fake_journalctl(
        dir.path(),
        "echo 'Failed to open journal: Permission denied' >&2; exit 1",
    );
    let err = read_all(&journal, &Cancel::new()).unwrap_err();
    assert!(matches!(err, JournalError::PermissionDenied(_)));
    assert!(
        err.to_string().contains("systemd-journal (or adm)"),
        "{err}"
    );
    // Run as a user who sees only their own journal: answered, with a note.
    let journal = fake_journalctl(
        dir.path(),
        "printf '__CURSOR=a\\nMESSAGE=mine\\n\\n'; \
         echo 'Hint: You are currently not seeing messages from other users and the system.' >&2",
    );
    let (entries, summary) = read_all(&journal, &Cancel::new()).unwrap();
    assert_eq!(entries.len(), 1);
    assert!(summary.note.unwrap().contains("systemd-journal (or adm)"));
}

#[test]
fn a_crash_mid_stream_is_an_error_not_a_short_answer() {
    let dir = tempfile::tempdir().unwrap();
    let journal = fake_journalctl(
        dir.path(),
        "printf '__CURSOR=a\\nMESSAGE=one\\n\\n__CURSOR=b\\nMESS'; kill -SEGV $$",
    );
    let err = read_all(&journal, &Cancel::new()).unwrap_err();
    assert_eq!(
        err,
        JournalError::Failed("killed by signal 11 mid-stream".into())
    );
}

#[test]
fn a_hung_journalctl_and_its_children_are_killed_at_the_deadline() {
    let dir = tempfile::tempdir().unwrap();
    let marker = format!("hang-{}", std::process::id());
    let mut journal = fake_journalctl(
        dir.path(),
        &format!(
            "printf '__CURSOR=a\\nMESSAGE=one\\n\\n'; sh -c 'sleep 300; echo {marker}' & wait"
        ),
    );
    journal.timeout = Duration::from_millis(300);
    let started = Instant::now();
    let err = read_all(&journal, &Cancel::new()).unwrap_err();
    assert_eq!(err, JournalError::TimedOut(journal.timeout));
    assert!(started.elapsed() < Duration::from_secs(60));
    wait_gone(&marker, "the child of journalctl to be gone");
}

#[test]
fn a_cancelled_read_stops_and_leaves_no_child() {
    let dir = tempfile::tempdir().unwrap();
    let marker = format!("cancel-{}", std::process::id());
    let journal = fake_journalctl(
        dir.path(),
        &format!("sh -c 'sleep 300; echo {marker}' & wait"),
    );
    let cancel = Cancel::new();
    let stopper = cancel.clone();
    let waiter = std::thread::spawn(move || {
        // Cancelled mid-read: once journalctl's child runs.
        eventually("journalctl's child to run", Duration::from_secs(20), || {
            running(&marker).then_some(())
        });
        stopper.cancel();
        marker
    });
    let err = read_all(&journal, &cancel).unwrap_err();
    let marker = waiter.join().unwrap();
    assert_eq!(err, JournalError::Cancelled);
    wait_gone(&marker, "the cancelled read's child to be gone");
}

#[test]
fn a_reader_that_stops_early_leaves_no_child() {
    let dir = tempfile::tempdir().unwrap();
    let marker = format!("early-{}", std::process::id());
    let journal = fake_journalctl(
        dir.path(),
        &format!(
            "printf '__CURSOR=a\\nMESSAGE=one\\n\\n'; sh -c 'sleep 300; echo {marker}' & wait"
        ),
    );
    let summary = journal
        .read(&Request::default(), 100, &Cancel::new(), |_| {
            ControlFlow::Break(())
        })
        .unwrap();
    assert_eq!(summary.entries, 1);
    wait_gone(&marker, "the stopped read's child to be gone");
}

#[test]
fn a_pattern_literal_matches_itself_in_pcre2_terms() {
    assert_eq!(pcre_literal("abc"), "abc");
    assert_eq!(pcre_literal("a+b"), "a\\+b");
    assert_eq!(pcre_literal("é$"), "é\\$");
}

/// journalctl exits 1, silently, when `--grep` matches nothing: no entries,
/// not a failure. Without `--grep`, an exit 1 is one.
#[test]
fn no_match_for_grep_is_an_empty_answer_not_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let journal = fake_journalctl(dir.path(), "exit 1");
    let grep = Request {
        grep: Some("absent".into()),
        ..Request::default()
    };
    let summary = journal
        .read(&grep, 100, &Cancel::new(), |_| ControlFlow::Continue(()))
        .unwrap();
    assert_eq!(summary.entries, 0);
    let err = read_all(&journal, &Cancel::new()).unwrap_err();
    assert_eq!(err, JournalError::Failed("exit status 1".into()));
}
