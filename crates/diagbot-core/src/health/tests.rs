use std::time::Duration;

use super::*;
use crate::config::MAX_TREND_SAMPLES;
use crate::probe::cgroup::CgroupMemory;
use crate::probe::service::LimitSource;

const MB: u64 = 1_000_000;

fn service(
    name: &str,
    rss: u64,
    restarts: Option<u64>,
    cgroup_kills: Option<u64>,
) -> ServiceStatus {
    ServiceStatus {
        name: name.into(),
        unit: Some(format!("{name}.service")),
        state: Some("active".into()),
        sub_state: None,
        main_pid: Some(908),
        main_start_ticks: Some(1000),
        pids: vec![908],
        rss_bytes: Some(rss),
        memory_limit_bytes: Some(961 * MB),
        memory_limit_source: Some(LimitSource::HostMemory),
        memory_used_percent: None,
        restarts,
        last_result: Some("oom-kill".into()),
        running_secs: None,
        cgroup: cgroup_kills.map(|k| CgroupMemory {
            path: format!("/system.slice/{name}.service"),
            version: 2,
            current_bytes: None,
            limit_bytes: None,
            oom_kills: Some(k),
            procs: vec![],
        }),
        memory_trend: None,
        other_matches: Vec::new(),
        unavailable: vec![],
    }
}

fn obs(minute: f64, services: Vec<ServiceStatus>, oom_kills: u64) -> Observation {
    Observation {
        at_secs: 1_772_186_400.0 + minute * 60.0,
        host_total_bytes: Some(961 * MB),
        host_available_bytes: Some(700 * MB),
        oom_kills: Some(oom_kills),
        services,
    }
}

/// One whole sample: recorded, then settled with the kernel log's `kills`.
fn sample_with(w: &mut Watch, o: &Observation, kills: &[OomKill]) -> Vec<Event> {
    let mut events = w.record(o);
    w.settle(&mut events, kills);
    events
}

fn sample(w: &mut Watch, o: &Observation) -> Vec<Event> {
    sample_with(w, o, &[])
}

fn watch() -> Watch {
    Watch::new(HealthSettings::default())
}

#[test]
fn counters_already_up_at_start_are_not_news() {
    let mut w = watch();
    let events = sample(
        &mut w,
        &obs(0.0, vec![service("bot", 100 * MB, Some(3), Some(2))], 5),
    );
    assert_eq!(events, vec![]);
}

#[test]
fn a_restart_is_reported_once() {
    let mut w = watch();
    sample(
        &mut w,
        &obs(0.0, vec![service("bot", 100 * MB, Some(3), None)], 0),
    );
    let restarted = || ServiceStatus {
        main_pid: Some(1207),
        pids: vec![1207],
        ..service("bot", 100 * MB, Some(4), None)
    };
    let events = sample(&mut w, &obs(1.0, vec![restarted()], 0));
    assert_eq!(
        events,
        vec![
            Event::Restart {
                service: "bot".into(),
                restarts: 4,
                last_result: Some("oom-kill".into()),
                pid: Some(1207),
            },
            Event::Exited {
                service: "bot".into(),
                pid: Some(908),
                last_rss_bytes: Some(100 * MB),
                ran_secs: 0.0,
            }
        ]
    );
    assert_eq!(
        events[0].describe(),
        "bot restarted (restart 4, last result oom-kill), now pid 1207"
    );
    assert_eq!(sample(&mut w, &obs(2.0, vec![restarted()], 0)), vec![]);
}

#[test]
fn oom_kills_are_split_between_services_and_the_host() {
    let mut w = watch();
    sample(
        &mut w,
        &obs(0.0, vec![service("bot", 100 * MB, None, Some(0))], 10),
    );
    // Two kills by the kernel's count; one of them in the bot's cgroup.
    let events = sample(
        &mut w,
        &obs(1.0, vec![service("bot", 100 * MB, None, Some(1))], 12),
    );
    assert_eq!(
        events,
        vec![
            Event::OomKill {
                service: Some("bot".into()),
                victim: None,
                ran_secs: None,
            },
            Event::OomKill {
                service: None,
                victim: None,
                ran_secs: None,
            },
        ]
    );
}

#[test]
fn the_original_bot_is_projected_to_run_out_once() {
    let mut w = watch();
    let series = [
        (0.0, 150),
        (15.0, 240),
        (30.0, 320),
        (50.0, 450),
        (60.0, 550),
    ];
    let mut projected = Vec::new();
    for (minute, mb) in series {
        projected.extend(sample(
            &mut w,
            &obs(minute, vec![service("bot", mb * MB, None, None)], 0),
        ));
    }
    assert_eq!(projected.len(), 1, "{projected:?}");
    let Event::ProjectedOom {
        service: who,
        in_secs,
        text,
        ..
    } = &projected[0]
    else {
        panic!("{projected:?}")
    };
    assert_eq!(who.as_deref(), Some("bot"));
    assert!(*in_secs < 90.0 * 60.0, "{in_secs}");
    assert!(text.contains("MiB/min over 60 min"), "{text}");
    // Still climbing: not said again.
    assert_eq!(
        sample(
            &mut w,
            &obs(61.0, vec![service("bot", 560 * MB, None, None)], 0)
        ),
        vec![]
    );
    let trend = w.trend("bot").unwrap();
    assert!(matches!(trend.trend, Trend::Climbing { .. }), "{trend:?}");
}

#[test]
fn a_sawtooth_is_not_projected() {
    let mut w = watch();
    let mut events = Vec::new();
    for i in 0..60 {
        // Climbs 20 MB a minute, then the collector brings it back every 10 minutes.
        let mb = 200 + 20 * (i % 10);
        events.extend(sample(
            &mut w,
            &obs(i as f64, vec![service("bot", mb * MB, None, None)], 0),
        ));
    }
    assert_eq!(events, vec![]);
    assert!(matches!(w.trend("bot").unwrap().trend, Trend::Flat { .. }));
}

#[test]
fn a_long_window_is_thinned_not_cut() {
    let mut w = Watch::new(HealthSettings {
        sample_interval: Duration::from_secs(1),
        trend_window: Duration::from_secs(3600),
        trend_min_span: Duration::from_secs(10),
        oom_horizon: Duration::from_secs(60),
        ..HealthSettings::default()
    });
    // One every 4 s for an hour: 900 samples.
    for i in 0..900 {
        sample(
            &mut w,
            &obs(
                i as f64 / 15.0,
                vec![service("bot", 100 * MB, None, None)],
                0,
            ),
        );
    }
    let trend = w.trend("bot").unwrap();
    assert!(
        trend.samples <= MAX_TREND_SAMPLES as usize,
        "{}",
        trend.samples
    );
    assert!(
        trend.span_secs > 3000.0,
        "the window is still spanned: {}",
        trend.span_secs
    );
}

#[test]
fn the_ring_is_bounded_by_window_and_count() {
    let mut w = Watch::new(HealthSettings {
        sample_interval: Duration::from_secs(1),
        trend_window: Duration::from_secs(100),
        trend_min_span: Duration::from_secs(10),
        oom_horizon: Duration::from_secs(60),
        ..HealthSettings::default()
    });
    for i in 0..1000 {
        sample(
            &mut w,
            &obs(
                i as f64 / 60.0,
                vec![service("bot", 100 * MB, None, None)],
                0,
            ),
        );
    }
    let trend = w.trend("bot").unwrap();
    assert!(trend.samples <= 101, "{}", trend.samples);
    assert!(trend.span_secs <= 100.0);
    // A service gone from the config is forgotten.
    sample(&mut w, &obs(20.0, vec![], 0));
    assert!(w.trend("bot").is_none());
}

#[test]
fn victims_are_named_from_the_log() {
    let kill = |pid: u32, service: Option<&str>| OomKill {
        time: None,
        pid: Some(pid),
        process: Some("python3".into()),
        rss_bytes: Some(552 * (1 << 20)),
        total_vm_bytes: None,
        cgroup: None,
        constraint: None,
        service: service.map(Into::into),
        restart_counter: None,
        returned_as: None,
        sources: vec!["kernel log".into()],
    };
    let mut events = vec![
        Event::OomKill {
            service: Some("bot".into()),
            victim: None,
            ran_secs: None,
        },
        Event::OomKill {
            service: None,
            victim: None,
            ran_secs: None,
        },
    ];
    name_victims(&mut events, &[kill(1, Some("bot")), kill(2, None)]);
    assert_eq!(
        events[0].describe(),
        "OOM kill in bot: python3 (pid 1) killed at 552 MiB RSS"
    );
    assert_eq!(
        events[1].describe(),
        "OOM kill: python3 (pid 2) killed at 552 MiB RSS"
    );
}

#[test]
fn an_error_burst_is_said_once_and_again_after_it_ends() {
    let mut w = Watch::new(HealthSettings {
        error_burst_lines: 20,
        error_burst_window: Duration::from_secs(300),
        ..HealthSettings::default()
    });
    let t0 = 1_772_186_400.0;
    // 1000 errors already in the logs when diagbot starts: not a burst.
    assert_eq!(w.record_errors("bot", t0, 1000, None), None);
    assert_eq!(w.record_errors("bot", t0 + 30.0, 1010, None), None);
    let burst = w.record_errors("bot", t0 + 60.0, 1025, Some("ERROR db down".into()));
    assert_eq!(
        burst,
        Some(Event::ErrorBurst {
            service: "bot".into(),
            lines: 25,
            window_secs: 300.0,
            last_line: Some("ERROR db down".into()),
            top_groups: Vec::new(),
            more_groups: 0,
        })
    );
    assert_eq!(
        burst.unwrap().describe(),
        "bot: 25 error lines in the last 5 min"
    );
    // Still in the same burst.
    assert_eq!(w.record_errors("bot", t0 + 90.0, 1040, None), None);
    // Quiet for longer than the window: the burst is over ...
    assert_eq!(w.record_errors("bot", t0 + 500.0, 1040, None), None);
    assert_eq!(w.record_errors("bot", t0 + 800.0, 1040, None), None);
    // ... and the next one is said again.
    assert!(w.record_errors("bot", t0 + 830.0, 1070, None).is_some());
    // A rotation that lowers the total is not a burst.
    assert_eq!(w.record_errors("bot", t0 + 860.0, 10, None), None);
}

/// The origin story, as a unit of crypto-bot.service: 150 MB climbing to
/// 550 MB in 60 minutes under a 560 MB cgroup limit, killed there by the OOM
/// killer and restarted by systemd at 150 MB, five times over, sampled every
/// 30 s. `cargo test -p diagbot-core origin_story -- --nocapture` prints the
/// lead time of each warning (BENCHMARKS.md).
#[test]
fn origin_story_warns_before_every_kill_and_finds_the_loop() {
    origin_story(Death::Systemd);
}

/// The same bot matched by process name (no systemd): each death is a PID
/// gone, the kernel log names it, and the next PID is a new instance.
#[test]
fn origin_story_as_a_process_match() {
    origin_story(Death::ProcessGone);
}

#[derive(Clone, Copy, PartialEq)]
enum Death {
    Systemd,
    ProcessGone,
}

fn origin_story(death: Death) {
    const LIMIT: u64 = 560 * MB;
    const CYCLES: u64 = 5;
    let mut w = watch();
    let bot = |cycle: u64, mb: f64| ServiceStatus {
        main_pid: Some(1000 + cycle as u32),
        pids: vec![1000 + cycle as u32],
        main_start_ticks: Some(1000 + cycle * 360_000),
        memory_limit_bytes: Some(LIMIT),
        memory_limit_source: Some(LimitSource::Cgroup),
        ..match death {
            Death::Systemd => service("bot", (mb * MB as f64) as u64, Some(cycle), Some(cycle)),
            Death::ProcessGone => ServiceStatus {
                unit: None,
                last_result: None,
                ..service("bot", (mb * MB as f64) as u64, None, None)
            },
        }
    };
    let kill = |cycle: u64, minute: f64| OomKill {
        time: None,
        pid: Some(1000 + cycle as u32),
        process: Some("python3".into()),
        rss_bytes: Some(550 * MB),
        total_vm_bytes: None,
        cgroup: None,
        constraint: None,
        service: Some("bot".into()),
        restart_counter: None,
        returned_as: None,
        sources: vec![format!("kernel log at minute {minute}")],
    };
    let mut minute = 0.0;
    let mut lead_times = Vec::new();
    // Where the instance's first sample was.
    let mut start = 0.0;
    for cycle in 0..CYCLES {
        let mut warned: Option<(f64, f64)> = None;
        // The climb: every 30 s from 150 MB until the sample before the kill
        // (after a restart, its first sample came with the restart).
        let first = if cycle == 0 { 0 } else { 1 };
        for step in first..120 {
            let mb = 150.0 + 400.0 * (step as f64 / 120.0);
            let events = sample(&mut w, &obs(minute, vec![bot(cycle, mb)], 0));
            for e in &events {
                match e {
                    Event::ProjectedOom { service, .. } if service.as_deref() == Some("bot") => {
                        assert!(
                            warned.is_none(),
                            "warned twice in cycle {cycle}: {events:?}"
                        );
                        println!("{}", e.describe());
                        warned = Some((minute, mb));
                    }
                    Event::RestartLoop { .. } | Event::OomKill { .. } | Event::Exited { .. } => {
                        panic!("cycle {cycle}, minute {minute}: {events:?}")
                    }
                    _ => {}
                }
            }
            if step == 10 && cycle > 0 {
                // Five minutes into a new instance: not "flat", but what it waits for.
                let text = w.trend("bot").unwrap().text;
                println!("{text}");
                let expected = format!(" min ago (pid {}); trend after ", 1000 + cycle);
                assert!(
                    text.starts_with("restarted ")
                        && text.contains(&expected)
                        && text.ends_with(" more samples"),
                    "{text}"
                );
            }
            if step == 119 {
                println!("{}", w.trend("bot").unwrap().text);
            }
            minute += 0.5;
        }
        let (at, mb) = warned.unwrap_or_else(|| panic!("no warning before kill {}", cycle + 1));
        assert!(
            at - start >= 10.0,
            "warned {} min into the instance, before trend_min_span",
            at - start
        );
        let way = (mb - 150.0) / (560.0 - 150.0);
        assert!(
            way <= 0.6,
            "cycle {cycle}: warned {:.0} % of the way to the limit",
            way * 100.0
        );
        lead_times.push((cycle + 1, at - start, mb, minute - at));
        // The kill, and what the next sample says of it.
        let deaths = cycle + 1;
        let events = match death {
            Death::Systemd => {
                start = minute;
                sample(&mut w, &obs(minute, vec![bot(deaths, 150.0)], 0))
            }
            Death::ProcessGone => {
                let gone = ServiceStatus {
                    main_pid: None,
                    pids: vec![],
                    rss_bytes: None,
                    state: Some("not running".into()),
                    ..bot(cycle, 0.0)
                };
                // Missed once, it may be execing; missed twice, it is gone.
                let once = sample(&mut w, &obs(minute, vec![gone.clone()], 0));
                assert!(
                    !once
                        .iter()
                        .any(|e| matches!(e, Event::Exited { .. } | Event::OomKill { .. })),
                    "{once:?}"
                );
                minute += 0.5;
                let events =
                    sample_with(&mut w, &obs(minute, vec![gone], 0), &[kill(cycle, minute)]);
                let text = w.trend("bot").unwrap().text;
                println!("{text}");
                assert!(
                    text.starts_with("not running since ")
                        && text.contains("(last instance climbed +"),
                    "{text}"
                );
                minute += 0.5;
                start = minute;
                let back = sample(&mut w, &obs(minute, vec![bot(deaths, 150.0)], 0));
                assert!(
                    back.iter().any(|e| matches!(e, Event::Started { pid: Some(p), .. } if *p == 1000 + deaths as u32)),
                    "{back:?}"
                );
                events
            }
        };
        minute += 0.5;
        let killed = events.iter().find_map(|e| match e {
            Event::OomKill {
                service: Some(s),
                victim,
                ran_secs,
            } if s == "bot" => Some((victim.clone(), *ran_secs)),
            _ => None,
        });
        let (victim, ran) =
            killed.unwrap_or_else(|| panic!("death {deaths}: no OOM kill in {events:?}"));
        if death == Death::ProcessGone {
            assert_eq!(victim.and_then(|v| v.pid), Some(1000 + cycle as u32));
            assert!(
                !events.iter().any(|e| matches!(e, Event::Exited { .. })),
                "{events:?}"
            );
        }
        assert!(ran.is_some_and(|r| r >= 59.0 * 60.0), "{ran:?}");
        let looped = events.iter().find_map(|e| match e {
            Event::RestartLoop { deaths, .. } => Some(*deaths),
            _ => None,
        });
        let found = w.trend("bot").unwrap().restart_loop;
        if deaths >= 4 {
            assert_eq!(looped, Some(deaths as usize), "death {deaths}: {events:?}");
            let text = found.unwrap().text;
            println!("{text}");
            // The span from the first death to the last: an hour apart each.
            let expected = format!("killed {deaths} times in {} h, each time after climbing ~6.4 MiB/min from ~143 MiB to ~521 MiB (OOM kill each time; pids 1000, ", deaths - 1);
            assert!(text.starts_with(&expected), "{text}");
        } else {
            assert_eq!(looped, None, "death {deaths}: {events:?}");
            assert_eq!(found, None);
        }
    }
    if death == Death::ProcessGone {
        // systemd counts no restarts of a process match: the watch counts its returns.
        assert_eq!(w.returns("bot"), Some(CYCLES));
        for cycle in 0..CYCLES as u32 {
            assert_eq!(w.returned_after("bot", 1000 + cycle), Some(1001 + cycle));
        }
    }
    println!("kill  warned after  at      lead time before the kill");
    for (n, after, mb, lead) in lead_times {
        println!("{n:>4}  {after:>6.1} min  {mb:>4.0} MB  {lead:>5.1} min");
    }
}

/// The host's kill count went up and the kernel log names the bot's process
/// without knowing its service: one OOM kill, the bot's, not two.
#[test]
fn a_host_counted_kill_of_a_services_process_is_said_once() {
    let mut w = watch();
    let alive = || ServiceStatus {
        unit: None,
        running_secs: Some(600.0),
        ..service("bot", 300 * MB, None, None)
    };
    sample(&mut w, &obs(0.0, vec![alive()], 0));
    let gone = ServiceStatus {
        main_pid: None,
        pids: vec![],
        rss_bytes: None,
        ..alive()
    };
    let kill = OomKill {
        time: None,
        pid: Some(908),
        process: Some("python3".into()),
        rss_bytes: Some(300 * MB),
        total_vm_bytes: None,
        cgroup: None,
        constraint: None,
        service: None,
        restart_counter: None,
        returned_as: None,
        sources: vec!["kernel log".into()],
    };
    // The host's count rises while the match misses the process: the kill
    // is the bot's, said once, and the bot is not running.
    let events = sample_with(
        &mut w,
        &obs(1.0, vec![gone.clone()], 1),
        std::slice::from_ref(&kill),
    );
    assert_eq!(events.len(), 1, "{events:?}");
    assert_eq!(
        events[0].describe(),
        "OOM kill in bot: python3 (pid 908) killed at 286 MiB RSS after running 10 min"
    );
    assert!(w
        .trend("bot")
        .unwrap()
        .text
        .starts_with("not running since"));
    assert_eq!(
        sample_with(&mut w, &obs(2.0, vec![gone], 1), &[kill]),
        vec![]
    );
}

/// A wrapper that execs (a pyenv shim) is missed by the match for a sample
/// but keeps its PID and start time: the same instance, not a death.
#[test]
fn a_process_missed_once_while_it_execs_lives_on() {
    let mut w = watch();
    let alive = |mb: u64| ServiceStatus {
        unit: None,
        ..service("bot", mb * MB, None, None)
    };
    let gone = ServiceStatus {
        main_pid: None,
        pids: vec![],
        rss_bytes: None,
        ..alive(0)
    };
    sample(&mut w, &obs(0.0, vec![alive(2)], 0));
    assert_eq!(sample(&mut w, &obs(0.5, vec![gone], 0)), vec![]);
    assert_eq!(sample(&mut w, &obs(1.0, vec![alive(15)], 0)), vec![]);
    assert_eq!(w.trend("bot").unwrap().samples, 2);
}

/// A unit whose main PID systemd does not know (its cgroup's processes are
/// all there is) still has a live trend and slope.
#[test]
fn a_running_service_without_a_main_pid_has_a_slope() {
    let mut w = watch();
    for i in 0..30 {
        let svc = ServiceStatus {
            main_pid: None,
            main_start_ticks: None,
            pids: vec![908, 909],
            ..service("bot", (200 + 5 * i) * MB, None, None)
        };
        sample(&mut w, &obs(i as f64, vec![svc], 0));
    }
    let report = w.trend("bot").unwrap();
    assert!(matches!(report.trend, Trend::Climbing { .. }), "{report:?}");
    assert!(report
        .instance
        .is_some_and(|i| i.running && i.pid.is_none()));
    let slope = w.slopes()[0].1;
    assert!(slope > 80_000.0, "{slope}");
}

/// A watch seeded with samples from before a restart of diagbot has their
/// trend at once, and its counters go on: a restart while diagbot was down
/// is news, the ones before it are not.
#[test]
fn a_seeded_watch_continues_its_trend_and_counters() {
    let past: Vec<PastSample> = (0..12)
        .map(|i| PastSample {
            at_secs: 1_772_186_400.0 + f64::from(i) * 60.0,
            host_used_bytes: Some(261 * MB),
            host_available_bytes: Some(700 * MB),
            oom_kills: Some(5),
            services: vec![PastService {
                name: "bot".into(),
                pid: Some(908),
                rss_bytes: Some((100 + 10 * u64::from(i as u32)) * MB),
                restarts: Some(3),
                cgroup_oom_kills: Some(2),
                limit_bytes: Some(961 * MB),
            }],
        })
        .collect();
    let mut w = watch();
    w.seed(&past, &[]);
    let trend = w.trend("bot").unwrap();
    assert!(matches!(trend.trend, Trend::Climbing { .. }), "{trend:?}");
    assert_eq!(trend.samples, 12);
    // Seeded, its start is its first stored sample's time.
    assert_eq!(w.started_secs("bot"), Some(1_772_186_400.0));
    // The same process, the same counts: nothing new, the trend goes on.
    let live = ServiceStatus {
        running_secs: Some(7200.0),
        ..service("bot", 220 * MB, Some(3), Some(2))
    };
    let same = sample(&mut w, &obs(12.0, vec![live.clone()], 5));
    assert_eq!(same, vec![]);
    assert_eq!(w.trend("bot").unwrap().samples, 13);
    // Its first live sample says when it really started, and that holds: a
    // restart of diagbot does not move a service's start.
    let started = 1_772_186_400.0 + 12.0 * 60.0 - 7200.0;
    assert_eq!(w.started_secs("bot"), Some(started));
    let later = ServiceStatus {
        running_secs: Some(7200.0 + 60.4),
        ..live
    };
    sample(&mut w, &obs(13.0, vec![later], 5));
    assert_eq!(w.started_secs("bot"), Some(started));
    let instance = w.trend("bot").unwrap().instance.unwrap();
    assert_eq!(instance.since_secs, started);
    // One more restart than before the gap: said.
    let restarted = ServiceStatus {
        main_pid: Some(1207),
        pids: vec![1207],
        ..service("bot", 100 * MB, Some(4), Some(2))
    };
    let events = sample(&mut w, &obs(14.0, vec![restarted], 5));
    assert!(
        events
            .iter()
            .any(|e| matches!(e, Event::Restart { restarts: 4, .. })),
        "{events:?}"
    );
}

/// diagbot restarted in the middle of a restart loop: the deaths its store
/// kept are OOM kills still (the store's `oom_kill` events say which), and
/// the loop's span is the deaths', not growing while the service is down.
#[test]
fn a_watch_seeded_in_a_restart_loop_keeps_what_killed_each_death() {
    let t0 = 1_772_186_400.0;
    let sample = |i: u32, pid: u32, mb: u64| PastSample {
        at_secs: t0 + f64::from(i) * 30.0,
        host_used_bytes: Some(261 * MB),
        host_available_bytes: Some(700 * MB),
        oom_kills: Some(5),
        services: vec![PastService {
            name: "bot".into(),
            pid: Some(pid),
            rss_bytes: Some(mb * MB),
            restarts: None,
            cgroup_oom_kills: None,
            limit_bytes: Some(961 * MB),
        }],
    };
    // Six instances of four samples each, each killed; the seventh runs.
    let mut past = Vec::new();
    let mut kills = Vec::new();
    for instance in 0..7u32 {
        for step in 0..4u32 {
            let i = instance * 4 + step;
            past.push(sample(i, 2000 + instance, 100 + 50 * u64::from(step)));
            if step == 0 && instance > 0 {
                // The sample that saw the new process saw the kill too.
                kills.push(PastKill {
                    at_secs: t0 + f64::from(i) * 30.0,
                    service: "bot".into(),
                });
            }
        }
    }
    let mut w = watch();
    w.seed(&past, &kills);
    let looped = w.trend("bot").unwrap().restart_loop.unwrap();
    assert_eq!((looped.deaths, looped.oom_kills), (6, 6), "{looped:?}");
    assert!(
        looped.text.starts_with("killed 6 times in 10 min")
            && looped.text.contains("(OOM kill each time; pids 2000, "),
        "{}",
        looped.text
    );
    // Down for ten minutes: the span stays the deaths'.
    let gone = ServiceStatus {
        unit: None,
        main_pid: None,
        pids: vec![],
        rss_bytes: None,
        ..service("bot", 0, None, None)
    };
    let last = t0 + 27.0 * 30.0;
    for minute in 1..=10 {
        let o = Observation {
            at_secs: last + f64::from(minute) * 60.0,
            services: vec![gone.clone()],
            ..obs(0.0, vec![], 5)
        };
        sample_with(&mut w, &o, &[]);
    }
    let later = w.trend("bot").unwrap().restart_loop.unwrap();
    assert_eq!(later.deaths, 7, "{later:?}");
    assert!(
        later.text.starts_with("died 7 times in 12 min"),
        "{}",
        later.text
    );
    assert!(
        later.text.contains("OOM kill 6 of 7 times"),
        "{}",
        later.text
    );
}

/// `status` probes now, the trend is as of the last sample: a process that
/// replaced the sampled one between them does not get its predecessor's
/// verdict ("over its limit" beside a fresh process at 15 MiB).
#[test]
fn a_status_between_a_restart_and_the_next_sample_does_not_show_the_dead_trend() {
    let mut w = watch();
    for minute in 0..30u32 {
        let mb = 300 + 20 * u64::from(minute);
        sample(
            &mut w,
            &obs(
                f64::from(minute),
                vec![service("bot", mb * MB, Some(0), Some(0))],
                0,
            ),
        );
    }
    let sampled = w.trend("bot").unwrap();
    assert!(
        matches!(sampled.trend, Trend::Climbing { .. }),
        "{sampled:?}"
    );
    assert_eq!(w.trend_now("bot", Some(908)), Some(sampled.clone()));
    let fresh = w.trend_now("bot", Some(1207)).unwrap();
    assert!(
        matches!(fresh.trend, Trend::TooFewSamples { samples: 0, .. }),
        "{fresh:?}"
    );
    assert_eq!(fresh.instance.as_ref().and_then(|i| i.pid), Some(1207));
    assert!(
        fresh
            .text
            .starts_with("pid 1207 is new since the last sample (pid 908 is gone)"),
        "{}",
        fresh.text
    );
}

/// Once explain is sure, the memory alerts say what the memory climbs with.
#[test]
fn memory_alerts_name_what_the_memory_climbs_with() {
    let because =
        Some("it climbs with `Cache size: <num> entries` (r 0.99, about 7.1 MiB each)".to_string());
    let projected = Event::ProjectedOom {
        service: Some("bot".into()),
        in_secs: 600.0,
        text: "+6.4 MiB/min over 10 min, limit 534 MiB reached in about 10 min".into(),
        explained_by: because.clone(),
    };
    assert_eq!(
        projected.describe(),
        "bot may run out of memory: +6.4 MiB/min over 10 min, limit 534 MiB reached in about 10 min; it climbs with `Cache size: <num> entries` (r 0.99, about 7.1 MiB each)"
    );
    let looped = Event::RestartLoop {
        service: "bot".into(),
        deaths: 4,
        text: "killed 4 times in 3 h".into(),
        explained_by: because,
    };
    assert_eq!(
        looped.describe(),
        "bot: killed 4 times in 3 h; it climbs with `Cache size: <num> entries` (r 0.99, about 7.1 MiB each)"
    );
}

#[test]
fn an_error_group_is_its_own_alert_and_says_new_or_back() {
    let new = Event::ErrorGroup {
        service: "crypto-bot".into(),
        id: "1298d872fc13a77e".into(),
        template: "Order <num> rejected: insufficient balance".into(),
        count: 3,
        window_secs: 120.0,
        example: "ERROR Order 7 rejected: insufficient balance".into(),
        back_after_secs: None,
    };
    assert_eq!(
        new.describe(),
        "new error in crypto-bot: `Order <num> rejected: insufficient balance` (3 times in 2 min)"
    );
    assert_eq!(new.kind(), "new_error_group");
    assert_eq!(new.key(), "new_error_group:crypto-bot:1298d872fc13a77e");
    let back = Event::ErrorGroup {
        service: "crypto-bot".into(),
        id: "1298d872fc13a77e".into(),
        template: "Order <num> rejected: insufficient balance".into(),
        count: 1,
        window_secs: 120.0,
        example: String::new(),
        back_after_secs: Some(3.0 * 86400.0),
    };
    assert_eq!(back.kind(), "error_group_back");
    assert_eq!(
        back.describe(),
        "error back in crypto-bot after 72 h without it: `Order <num> rejected: insufficient balance` (once in 2 min)"
    );
    let burst = Event::ErrorBurst {
        service: "bot".into(),
        lines: 25,
        window_secs: 300.0,
        last_line: None,
        top_groups: vec![("db down".into(), 20), ("timeout".into(), 5)],
        more_groups: 0,
    };
    assert_eq!(
        burst.describe(),
        "bot: 25 error lines in the last 5 min; most frequent: `db down` (20), `timeout` (5)"
    );
    let wide = Event::ErrorBurst {
        service: "bot".into(),
        lines: 25,
        window_secs: 300.0,
        last_line: None,
        top_groups: vec![("db down".into(), 20), ("timeout".into(), 5)],
        more_groups: 4,
    };
    assert_eq!(
        wide.describe(),
        "bot: 25 error lines in the last 5 min; most frequent: `db down` (20), `timeout` (5) and 4 more groups"
    );
}
