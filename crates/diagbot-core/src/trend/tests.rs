use super::*;

const MB: f64 = 1_000_000.0;
const MIB: f64 = (1 << 20) as f64;

fn series(points: &[(f64, f64)]) -> Vec<Sample> {
    points
        .iter()
        .map(|&(minute, mb)| Sample {
            at_secs: minute * 60.0,
            bytes: mb * MB,
        })
        .collect()
}

/// Every 30 s for `minutes`, the value `f(minute)` in MB.
fn sampled(minutes: f64, f: impl Fn(f64) -> f64) -> Vec<Sample> {
    let n = (minutes * 2.0) as usize;
    series(
        &(0..=n)
            .map(|i| (i as f64 / 2.0, f(i as f64 / 2.0)))
            .collect::<Vec<_>>(),
    )
}

#[test]
fn the_original_bot_is_a_leak_with_an_oom_within_90_minutes() {
    // 150 MB growing to 550 MB in an hour on a 961 MB host.
    let s = series(&[
        (0.0, 150.0),
        (15.0, 240.0),
        (30.0, 320.0),
        (50.0, 450.0),
        (60.0, 550.0),
    ]);
    let trend = analyse(&s, Some(961.0 * MB));
    let Trend::Climbing {
        bytes_per_sec,
        limit_in_secs,
    } = trend.clone()
    else {
        panic!("not a leak: {trend:?}");
    };
    let mb_per_min = bytes_per_sec * 60.0 / MB;
    assert!((6.0..=7.0).contains(&mb_per_min), "{mb_per_min} MB/min");
    let minutes = limit_in_secs.unwrap() / 60.0;
    assert!(minutes < 90.0, "OOM in {minutes} min");
    let text = trend.describe(3600.0, Some(961.0 * MB), Some(550.0 * MB));
    assert!(
        text.starts_with("+6.0 MiB/min over 60 min, limit 916 MiB reached in about 66 min"),
        "{text}"
    );
}

#[test]
fn a_flat_series_is_flat() {
    let s = sampled(60.0, |m| {
        200.0 + if (m as u64) % 2 == 0 { 0.3 } else { -0.3 }
    });
    assert!(matches!(analyse(&s, Some(961.0 * MB)), Trend::Flat { .. }));
}

#[test]
fn a_garbage_collected_sawtooth_is_not_a_leak() {
    // Climbs 60 MB over 10 minutes, then the collector brings it back.
    let s = sampled(60.0, |m| 200.0 + 6.0 * (m % 10.0));
    let trend = analyse(&s, Some(961.0 * MB));
    assert!(matches!(trend, Trend::Flat { .. }), "{trend:?}");
}

#[test]
fn a_sawtooth_on_a_rising_floor_is_a_leak() {
    let s = sampled(60.0, |m| 200.0 + 2.0 * m + 6.0 * (m % 10.0));
    let trend = analyse(&s, Some(961.0 * MB));
    assert!(matches!(trend, Trend::Climbing { .. }), "{trend:?}");
}

#[test]
fn too_few_samples_give_no_verdict_and_say_so() {
    let s = series(&[(0.0, 150.0), (5.0, 240.0), (8.0, 320.0)]);
    let trend = analyse(&s, None);
    assert_eq!(
        trend,
        Trend::TooFewSamples {
            samples: 3,
            span_secs: 480.0,
            need_span_secs: 600.0
        }
    );
    assert_eq!(
        trend.describe(480.0, None, None),
        "no trend yet: 3 samples over 8 min (it needs at least 5, spanning 10 min)"
    );
    assert!(matches!(
        analyse(&[], None),
        Trend::TooFewSamples { samples: 0, .. }
    ));
    let one = analyse(&s[..1], None);
    assert_eq!(
        one.describe(0.0, None, None),
        "no trend yet: 1 sample over 0 s (it needs at least 5, spanning 10 min)"
    );
}

#[test]
fn falling_memory_is_falling() {
    let s = sampled(30.0, |m| 500.0 - 3.0 * m);
    assert!(matches!(analyse(&s, None), Trend::Falling { .. }));
}

#[test]
fn one_spike_does_not_make_a_leak() {
    let mut s = sampled(60.0, |_| 300.0);
    s[100].bytes = 900.0 * MB;
    assert!(matches!(analyse(&s, Some(961.0 * MB)), Trend::Flat { .. }));
    assert_eq!(theil_sen(&s), 0.0);
}

#[test]
fn a_limit_already_passed_is_reached_now() {
    let s = sampled(20.0, |m| 100.0 + 10.0 * m);
    let Trend::Climbing { limit_in_secs, .. } = analyse(&s, Some(50.0 * MIB)) else {
        panic!("not climbing");
    };
    assert_eq!(limit_in_secs, Some(0.0));
}

#[test]
fn many_samples_are_thinned_for_the_slope_and_read_the_same() {
    // 256 samples over an hour, climbing 2 MB a minute with noise.
    let s: Vec<Sample> = (0..256)
        .map(|i| {
            let minute = i as f64 * 60.0 / 256.0;
            let noise = if i % 7 == 0 { 30.0 } else { 0.0 };
            Sample {
                at_secs: minute * 60.0,
                bytes: (200.0 + 2.0 * minute + noise) * MB,
            }
        })
        .collect();
    let slope = theil_sen(&s) * 60.0 / MB;
    assert!((slope - 2.0).abs() < 0.05, "{slope} MB/min");
}

#[test]
fn past_the_limit_is_over_it_never_reached_in_0_s() {
    let s = sampled(20.0, |m| 300.0 + 6.0 * m);
    let limit = 400.0 * MIB;
    let latest = s.last().unwrap().bytes;
    let trend = analyse(&s, Some(limit));
    let text = trend.describe(1200.0, Some(limit), Some(latest));
    assert_eq!(
        text,
        "+5.7 MiB/min over 20 min, over its limit of 400 MiB by 1 MiB"
    );
    // A flat service past a configured limit is said to be over it too.
    let flat = Trend::Flat { bytes_per_sec: 0.0 };
    assert_eq!(
        flat.describe(600.0, Some(limit), Some(limit + 20.0 * MIB)),
        "flat over 10 min, over its limit of 400 MiB by 20 MiB"
    );
}

/// `status --remote` reads what the daemon writes, whatever the verdict:
/// every variant round-trips through the client's types.
#[test]
fn every_trend_report_round_trips_through_json() {
    let variants = [
        Trend::TooFewSamples {
            samples: 3,
            span_secs: 60.0,
            need_span_secs: 600.0,
        },
        Trend::Flat { bytes_per_sec: 0.5 },
        Trend::Falling {
            bytes_per_sec: -20.0,
        },
        Trend::Climbing {
            bytes_per_sec: 110_000.0,
            limit_in_secs: Some(3000.0),
        },
        Trend::Climbing {
            bytes_per_sec: 110_000.0,
            limit_in_secs: None,
        },
    ];
    for trend in variants {
        for running in [true, false] {
            let report = TrendReport {
                text: trend.describe(60.0, Some(400.0 * MIB), Some(150.0 * MIB)),
                trend: trend.clone(),
                samples: 3,
                span_secs: 60.0,
                limit_bytes: Some(400 << 20),
                latest_bytes: running.then_some(150 << 20),
                instance: Some(InstanceReport::new(
                    Some(908),
                    running,
                    1_772_186_400.0,
                    !running,
                )),
                restart_loop: (!running).then(|| RestartLoop {
                    deaths: 4,
                    oom_kills: 4,
                    over_secs: 14_400.0,
                    climb_bytes_per_sec: Some(110_000.0),
                    text: "killed 4 times in 3 h".into(),
                }),
                explained_by: None,
            };
            let json = serde_json::to_string(&report).unwrap();
            let back: TrendReport =
                serde_json::from_str(&json).unwrap_or_else(|e| panic!("{e}: {json}"));
            assert_eq!(back, report, "{json}");
            let value: serde_json::Value = serde_json::from_str(&json).unwrap();
            assert!(value["trend"]["verdict"].is_string(), "{json}");
        }
    }
}
