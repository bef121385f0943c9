use std::time::Duration;

use super::*;
use crate::probe::cgroup::CgroupMemory;

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
        pids: vec![908],
        rss_bytes: Some(rss),
        memory_limit_bytes: Some(961 * MB),
        memory_limit_source: Some("host memory".into()),
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

fn watch() -> Watch {
    Watch::new(HealthSettings::default())
}

#[test]
fn counters_already_up_at_start_are_not_news() {
    let mut w = watch();
    let events = w.record(&obs(
        0.0,
        vec![service("bot", 100 * MB, Some(3), Some(2))],
        5,
    ));
    assert_eq!(events, vec![]);
}

#[test]
fn a_restart_is_reported_once() {
    let mut w = watch();
    w.record(&obs(0.0, vec![service("bot", 100 * MB, Some(3), None)], 0));
    let events = w.record(&obs(1.0, vec![service("bot", 100 * MB, Some(4), None)], 0));
    assert_eq!(
        events,
        vec![Event::Restart {
            service: "bot".into(),
            restarts: 4,
            last_result: Some("oom-kill".into())
        }]
    );
    assert_eq!(
        events[0].describe(),
        "bot restarted (restart 4, last result oom-kill)"
    );
    assert_eq!(
        w.record(&obs(2.0, vec![service("bot", 100 * MB, Some(4), None)], 0)),
        vec![]
    );
}

#[test]
fn oom_kills_are_split_between_services_and_the_host() {
    let mut w = watch();
    w.record(&obs(0.0, vec![service("bot", 100 * MB, None, Some(0))], 10));
    // Two kills by the kernel's count; one of them in the bot's cgroup.
    let events = w.record(&obs(1.0, vec![service("bot", 100 * MB, None, Some(1))], 12));
    assert_eq!(
        events,
        vec![
            Event::OomKill {
                service: Some("bot".into()),
                victim: None
            },
            Event::OomKill {
                service: None,
                victim: None
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
        projected.extend(w.record(&obs(minute, vec![service("bot", mb * MB, None, None)], 0)));
    }
    assert_eq!(projected.len(), 1, "{projected:?}");
    let Event::ProjectedOom {
        service: who,
        in_secs,
        text,
    } = &projected[0]
    else {
        panic!("{projected:?}")
    };
    assert_eq!(who.as_deref(), Some("bot"));
    assert!(*in_secs < 90.0 * 60.0, "{in_secs}");
    assert!(text.contains("MiB/min over 60 min"), "{text}");
    // Still climbing: not said again.
    assert_eq!(
        w.record(&obs(61.0, vec![service("bot", 560 * MB, None, None)], 0)),
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
        events.extend(w.record(&obs(i as f64, vec![service("bot", mb * MB, None, None)], 0)));
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
        w.record(&obs(
            i as f64 / 15.0,
            vec![service("bot", 100 * MB, None, None)],
            0,
        ));
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
        w.record(&obs(
            i as f64 / 60.0,
            vec![service("bot", 100 * MB, None, None)],
            0,
        ));
    }
    let trend = w.trend("bot").unwrap();
    assert!(trend.samples <= 101, "{}", trend.samples);
    assert!(trend.span_secs <= 100.0);
    // A service gone from the config is forgotten.
    w.record(&obs(20.0, vec![], 0));
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
        sources: vec!["kernel log".into()],
    };
    let mut events = vec![
        Event::OomKill {
            service: Some("bot".into()),
            victim: None,
        },
        Event::OomKill {
            service: None,
            victim: None,
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
            last_line: Some("ERROR db down".into())
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
