use super::*;

fn ev(n: usize) -> String {
    format!(r#"{{"id":"e{n}"}}"#)
}

fn ok() -> Outcome {
    Outcome::Status {
        code: 200,
        retry_after_ms: None,
    }
}

fn status(code: u16) -> Outcome {
    Outcome::Status {
        code,
        retry_after_ms: None,
    }
}

fn filled(n: usize) -> Outbox {
    let mut o = Outbox::new(Limits::default());
    for i in 0..n {
        assert!(o.push(ev(i), 0));
    }
    o
}

#[test]
fn a_2xx_completes_the_batch_in_order() {
    let mut o = filled(3);
    let b = o.next_batch(0, true).unwrap();
    assert_eq!(b.events_json, r#"[{"id":"e0"},{"id":"e1"},{"id":"e2"}]"#);
    assert_eq!(b.count, 3);
    assert!(
        o.next_batch(0, true).is_none(),
        "one batch in flight at a time"
    );
    o.answered(ok(), 10, 0.0);
    assert!(o.is_empty());
    assert!(o.next_batch(10, true).is_none());
}

#[test]
fn every_status_code_is_classified_as_specified() {
    for code in 100..600u16 {
        let mut o = filled(2);
        o.next_batch(0, true).unwrap();
        o.answered(status(code), 0, 0.0);
        let retry = code == 408 || code == 429 || (code >= 500 && code != 501 && code != 505);
        match code {
            200..=299 => assert!(o.is_empty(), "{code}"),
            413 => {
                // Split: nothing dropped, and the next batch is smaller.
                assert_eq!(o.len(), 2, "{code}");
                assert_eq!(o.dropped, Dropped::default());
            }
            _ if retry => {
                assert_eq!(o.len(), 2, "{code} keeps the events");
                assert!(o.next_try_at() >= 500, "{code} waits");
                assert_eq!(o.dropped, Dropped::default());
            }
            400..=499 | 501 | 505 => {
                assert!(o.is_empty(), "{code} drops");
                assert_eq!(o.dropped.rejected, 2, "{code} counts");
            }
            _ => {
                // 1xx and 3xx never reach a fetch caller; they are refused like other
                // non-2xx answers the server would not send.
                assert!(o.is_empty(), "{code}");
            }
        }
    }
}

#[test]
fn backoff_doubles_from_half_a_second_to_a_minute_with_jitter() {
    for (jitter, want) in [
        (
            0.0,
            vec![500, 1000, 2000, 4000, 8000, 16000, 32000, 60000, 60000],
        ),
        (
            1.0,
            vec![750, 1500, 3000, 6000, 12000, 24000, 48000, 60000, 60000],
        ),
    ] {
        let mut o = filled(1);
        let mut now = 0;
        let mut waits = Vec::new();
        for _ in 0..want.len() {
            assert!(o.next_batch(now, true).is_some());
            o.answered(Outcome::NetworkError, now, jitter);
            waits.push(o.next_try_at() - now);
            assert!(
                o.next_batch(o.next_try_at() - 1, true).is_none(),
                "not before"
            );
            now = o.next_try_at();
        }
        assert_eq!(waits, want, "jitter {jitter}");
    }
}

#[test]
fn retry_after_is_honoured() {
    let mut o = filled(1);
    o.next_batch(0, true).unwrap();
    o.answered(
        Outcome::Status {
            code: 429,
            retry_after_ms: Some(30_000),
        },
        0,
        0.0,
    );
    assert_eq!(o.next_try_at(), 30_000);
    assert!(o.next_batch(29_999, true).is_none());
    let b = o.next_batch(30_000, true).unwrap();
    assert_eq!(b.events_json, r#"[{"id":"e0"}]"#, "the same event, same id");
}

#[test]
fn after_twelve_hours_of_failures_the_queue_is_given_up() {
    let mut o = filled(5);
    let mut now = 0;
    let mut sends = 0;
    while !o.is_empty() {
        o.next_batch(now, true).unwrap();
        o.answered(status(503), now, 0.5);
        now = o.next_try_at().max(now + 1);
        sends += 1;
        assert!(sends < 10_000);
    }
    assert_eq!(o.dropped.expired, 5);
    assert!(now >= 12 * 3600 * 1000);
    // About 12 h at one try a minute.
    assert!((700..=760).contains(&sends), "{sends}");
}

#[test]
fn success_resets_the_backoff() {
    let mut o = filled(2);
    o.next_batch(0, true).unwrap();
    o.answered(Outcome::NetworkError, 0, 0.0);
    let t = o.next_try_at();
    o.next_batch(t, true).unwrap();
    o.answered(ok(), t, 0.0);
    o.push(ev(9), t);
    assert_eq!(o.next_try_at(), 0);
    assert!(o.next_batch(t, true).is_some());
}

#[test]
fn nothing_goes_while_offline_and_coming_online_sends_at_once() {
    let mut o = filled(1);
    assert!(o.next_batch(0, false).is_none());
    assert!(o.next_batch(0, true).is_some());
    // The send failed: the network is gone. A retry waits...
    o.answered(Outcome::NetworkError, 0, 0.0);
    assert!(o.next_batch(0, true).is_none());
    // ...until the device says it is online again.
    o.online();
    assert!(o.next_batch(1, true).is_some());
}

#[test]
fn batches_stay_under_64_kb_and_a_giant_event_is_dropped() {
    let mut o = Outbox::new(Limits {
        rate_per_sec: 1e9,
        burst: 1e9,
        ..Limits::default()
    });
    let big = format!(r#"{{"id":"x","pad":"{}"}}"#, "a".repeat(70 * 1024));
    o.push(big, 0);
    let mid = |n: usize| format!(r#"{{"id":"m{n}","pad":"{}"}}"#, "b".repeat(10 * 1024));
    for n in 0..20 {
        o.push(mid(n), 0);
    }
    let mut sent = 0;
    while let Some(b) = o.next_batch(0, true) {
        assert!(b.events_json.len() <= 64 * 1024, "{}", b.events_json.len());
        assert!(b.count >= 1);
        sent += b.count;
        o.answered(ok(), 0, 0.0);
    }
    assert_eq!(sent, 20);
    assert_eq!(o.dropped.oversized, 1);
}

#[test]
fn a_413_splits_until_one_event_and_then_drops_it() {
    let mut o = filled(8);
    let mut sizes = Vec::new();
    for _ in 0..20 {
        let Some(b) = o.next_batch(0, true) else {
            break;
        };
        sizes.push(b.count);
        o.answered(status(413), 0, 0.0);
    }
    // 8 events fit one batch; each 413 halves it until one event, which is dropped.
    assert_eq!(&sizes[..4], &[8, 4, 2, 1], "{sizes:?}");
    assert!(o.dropped.oversized >= 1);
    assert_eq!(
        o.len() as u64 + o.dropped.oversized,
        8,
        "every event is queued or counted"
    );
}

#[test]
fn when_full_the_oldest_are_dropped_and_counted() {
    let mut o = Outbox::new(Limits {
        rate_per_sec: 1e9,
        burst: 1e9,
        ..Limits::default()
    });
    for i in 0..1005 {
        o.push(ev(i), 0);
    }
    assert_eq!(o.len(), 1000);
    assert_eq!(o.dropped.overflow, 5);
    assert_eq!(o.events().next(), Some(ev(5).as_str()));
    // By bytes too: 512 KB.
    let mut o = Outbox::new(Limits {
        rate_per_sec: 1e9,
        burst: 1e9,
        ..Limits::default()
    });
    let kb = |n: usize| format!(r#"{{"id":"k{n}","pad":"{}"}}"#, "c".repeat(1000));
    for i in 0..600 {
        o.push(kb(i), 0);
    }
    let bytes: usize = o.events().map(str::len).sum();
    assert!(bytes <= 512 * 1024);
    assert_eq!(o.len() as u64 + o.dropped.overflow, 600);
}

#[test]
fn a_runaway_page_is_capped_at_ten_a_second_after_a_burst_of_a_hundred() {
    let mut o = Outbox::new(Limits::default());
    let accepted = (0..150).filter(|&i| o.push(ev(i), 0)).count();
    assert_eq!(accepted, 100);
    assert_eq!(o.dropped.rate_limited, 50);
    // One second later, ten more.
    let accepted = (0..20).filter(|&i| o.push(ev(i), 1000)).count();
    assert_eq!(accepted, 10);
}

#[test]
fn a_batch_without_an_answer_is_sent_again_with_the_same_ids() {
    let mut o = filled(3);
    let first = o.next_batch(0, true).unwrap();
    o.abandoned();
    let again = o.next_batch(0, true).unwrap();
    assert_eq!(first, again);
}

#[test]
fn events_recorded_during_a_send_wait_for_the_next_batch() {
    let mut o = filled(2);
    let b = o.next_batch(0, true).unwrap();
    o.push(ev(7), 0);
    o.answered(ok(), 0, 0.0);
    assert_eq!(b.count, 2);
    let next = o.next_batch(0, true).unwrap();
    assert_eq!(next.events_json, format!("[{}]", ev(7)));
}

#[test]
fn one_tab_sends_and_a_dead_tab_is_replaced_within_ten_seconds() {
    let ttl = 10_000;
    let (l, a) = lease(None, "tab-a", 0, ttl);
    assert!(a);
    let l = l.unwrap();
    let (l2, b) = lease(Some((&l.0, l.1)), "tab-b", 5_000, ttl);
    assert!(!b, "tab a is alive");
    assert_eq!(l2.as_ref().unwrap().0, "tab-a");
    let (l3, a_again) = lease(Some((&l.0, l.1)), "tab-a", 6_000, ttl);
    assert!(a_again, "the holder renews");
    let l3 = l3.unwrap();
    assert_eq!(l3.1, 6_000);
    // Tab a dies: no renewal. Tab b takes over once the lease is 10 s old.
    let (_, b) = lease(Some((&l3.0, l3.1)), "tab-b", 15_999, ttl);
    assert!(!b);
    let (l4, b) = lease(Some((&l3.0, l3.1)), "tab-b", 16_000, ttl);
    assert!(b);
    assert_eq!(l4.unwrap().0, "tab-b");
    // A lease from the future (a clock change) is not trusted.
    let (_, c) = lease(Some(("tab-a", 99_999)), "tab-c", 1_000, ttl);
    assert!(c);
}

/// Random operations from a seeded generator: every accepted event ends up delivered exactly
/// once, dropped and counted, or still queued; none is both.
#[test]
fn no_event_is_lost_or_delivered_twice_under_random_failures() {
    let mut seed = 0xfeed_f00d_u64;
    let mut rnd = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for round in 0..50 {
        let mut o = Outbox::new(Limits {
            max_events: 40,
            max_batch_bytes: 200,
            ..Limits::default()
        });
        let mut now = 0i64;
        let mut accepted = 0u64;
        let mut delivered: Vec<String> = Vec::new();
        let mut in_flight: Option<Batch> = None;
        for step in 0..400 {
            now += rnd(400) as i64;
            match rnd(6) {
                0 | 1 => {
                    let pad = "p".repeat(rnd(150) as usize);
                    if o.push(format!(r#"{{"id":"r{round}s{step}","p":"{pad}"}}"#), now) {
                        accepted += 1;
                    }
                }
                2 => {
                    if in_flight.is_none() {
                        in_flight = o.next_batch(now, rnd(5) > 0);
                    }
                }
                3 => {
                    if let Some(b) = in_flight.take() {
                        let code = [200, 200, 204, 413, 429, 500, 503, 400, 408][rnd(9) as usize];
                        if (200..300).contains(&code) {
                            let inner = &b.events_json[1..b.events_json.len() - 1];
                            let ids: Vec<String> = inner
                                .split(r#"{"id":""#)
                                .skip(1)
                                .map(|s| s.split('"').next().unwrap().to_owned())
                                .collect();
                            assert_eq!(ids.len(), b.count);
                            delivered.extend(ids);
                        }
                        o.answered(status(code), now, rnd(1000) as f64 / 1000.0);
                    }
                }
                4 => {
                    if in_flight.take().is_some() {
                        o.abandoned();
                    }
                }
                _ => {
                    if in_flight.take().is_some() {
                        o.answered(Outcome::NetworkError, now, 0.3);
                    }
                }
            }
        }
        let mut unique = delivered.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(
            unique.len(),
            delivered.len(),
            "delivered twice in round {round}"
        );
        let d = o.dropped;
        let dropped = d.overflow + d.oversized + d.rejected + d.expired;
        assert_eq!(
            delivered.len() as u64 + dropped + o.len() as u64,
            accepted,
            "round {round}: every accepted event is accounted for"
        );
    }
}

#[test]
fn an_invalid_event_is_counted_as_rejected_and_never_queued() {
    let mut o = Outbox::new(Limits::default());
    o.push(ev(0), 0);
    o.reject();
    o.reject();
    assert_eq!(o.len(), 1, "nothing is queued for it");
    assert_eq!(
        o.dropped,
        Dropped {
            rejected: 2,
            ..Dropped::default()
        }
    );
}

#[test]
fn a_damaged_stored_line_is_dropped_alone_and_the_batch_stays_valid() {
    let good = format!("{}\n{}", ev(0), ev(1));
    // A line cut in half, a stray word, a JSON value that is not an event, and the good ones.
    let stored = format!("{}\n{{\"id\":\"x\n{}\nnot json\n[1,2]\n\"s\"", ev(0), ev(1));
    let mut o = Outbox::new(Limits::default());
    o.restore(&stored);
    assert_eq!(o.to_lines(), good, "the good events are kept, in order");
    assert_eq!(o.dropped.rejected, 4, "each damaged line is counted");
    assert_eq!(o.len(), 2);
    // What goes out is one valid JSON batch holding both events.
    let batch = o.next_batch(0, true).unwrap();
    let body: serde_json::Value = serde_json::from_str(&batch.events_json).unwrap();
    assert_eq!(body.as_array().map(Vec::len), Some(2));
}

#[test]
fn the_stored_form_round_trips_and_is_capped() {
    let mut o = filled(3);
    o.next_batch(0, true).unwrap();
    let stored = o.to_lines();
    assert_eq!(
        stored,
        format!("{}\n{}\n{}", ev(0), ev(1), ev(2)),
        "in-flight events are kept"
    );
    let mut back = Outbox::new(Limits::default());
    back.restore(&stored);
    assert_eq!(back.to_lines(), stored);
    assert_eq!(
        back.dropped,
        Dropped::default(),
        "restoring is not rate-limited"
    );
    let mut many = String::new();
    for i in 0..1200 {
        many.push_str(&ev(i));
        many.push('\n');
    }
    let mut capped = Outbox::new(Limits::default());
    capped.restore(&many);
    assert_eq!(capped.len(), 1000);
    assert_eq!(capped.dropped.overflow, 200);
    assert_eq!(
        capped.events().next(),
        Some(ev(200).as_str()),
        "the newest are kept"
    );
}

#[test]
fn the_json_check_accepts_every_object_a_parser_accepts_and_no_cut_line() {
    let rich = r#"{"id":"00000000-0000-4000-8000-000000000001","type":"add_to_cart","ts":1700000000000,"item":42,"price":-12.5e0,"tags":["a","b"],"ok":true,"n":null}"#;
    let valid = [
        ev(7),
        rich.to_owned(),
        r#"{}"#.to_owned(),
        r#" { "a" : [ 1, -2.5e+3, true, false, null, { "b": [] } ], "c\"\\\u00e9": "x\ny" } "#
            .to_owned(),
        "{\"q\":\"caf\u{e9} \u{1f600}\"}".to_owned(),
    ];
    for text in &valid {
        assert!(is_json_object(text), "{text}");
        // Every line cut short (storage that ran out mid-write) is refused.
        for cut in (0..text.trim_end().len()).filter(|&k| text.is_char_boundary(k)) {
            assert!(!is_json_object(&text[..cut]), "{:?}", &text[..cut]);
        }
    }
    for text in [
        "",
        "[1]",
        "\"s\"",
        "1",
        "{\"a\":1}}",
        "{\"a\":1} x",
        "{\"a\" 1}",
        "{a:1}",
        "{\"a\":tru}",
        "{\"a\":\"line\nbreak\"}",
        "{\"a\":1,}",
        "{,}",
    ] {
        assert!(!is_json_object(text), "{text:?}");
    }
    let deep = format!("{}{}", "{\"a\":[".repeat(100), "]}".repeat(100));
    assert!(!is_json_object(&deep), "nesting is bounded");
    // One byte changed anywhere in an event: whatever a JSON parser still reads as an object,
    // this check keeps too, so no good event is ever dropped as damaged.
    let line = rich.to_owned();
    for k in 0..line.len() {
        for with in [b'"', b'{', b'}', b',', b':', b'1', b' ', b'\\', b'x'] {
            let mut bytes = line.clone().into_bytes();
            bytes[k] = with;
            let Ok(text) = String::from_utf8(bytes) else {
                continue;
            };
            let parsed =
                serde_json::from_str::<serde_json::Value>(&text).is_ok_and(|v| v.is_object());
            if parsed {
                assert!(is_json_object(&text), "{text}");
            }
        }
    }
}
