//! No acknowledged event is lost: a real `tailor serve` process is killed with SIGKILL at
//! seeded random moments while a client streams batches; after a restart on the same database file,
//! every event id the client saw acknowledged is stored exactly once.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

mod common;
use common::Proc;

fn start(dir: &std::path::Path) -> Proc {
    common::serve(dir, &dir.join("events.db"), &dir.join("catalog.json"), &[])
}

/// POST one batch over a plain TCP connection; `Some(status)` when a response came back.
fn post(addr: &str, body: &str) -> Option<u16> {
    let mut s = TcpStream::connect(addr).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    let req = format!(
        "POST /v1/events HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).ok()?;
    let mut resp = String::new();
    s.read_to_string(&mut resp).ok()?;
    resp.split(' ').nth(1)?.parse().ok()
}

fn uuid(n: u64) -> String {
    format!("00000000-0000-4000-8000-{n:012x}")
}

#[test]
fn acknowledged_events_survive_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("catalog.json"),
        r#"{"version":1,"products":[{"id":1,"handle":"a","title":"A"}]}"#,
    )
    .unwrap();
    let mut acked: Vec<u64> = Vec::new();
    let mut next = 0u64;
    // A seeded generator picks the moment of each kill: after k acknowledged batches, while
    // the client keeps streaming (so a batch is usually in flight when the kill lands).
    let mut seed = 0x9e37_79b9_7f4a_7c15u64;
    let mut rand = move |n: u64| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed % n
    };
    for round in 0..6u64 {
        let mut p = start(dir.path());
        let kill_after = 1 + rand(8) as usize;
        let (tx, rx) = std::sync::mpsc::channel::<Vec<u64>>();
        let addr = p.addr.clone();
        let first = next;
        let client = std::thread::spawn(move || {
            let mut next = first;
            loop {
                let ids: Vec<u64> = (next..next + 20).collect();
                next += 20;
                let events: Vec<String> = ids
                    .iter()
                    .map(|&i| {
                        format!(
                            r#"{{"id":"{}","type":"product_view","item":1,"shopper":"s","session":"r{round}","ts":{i}}}"#,
                            uuid(i)
                        )
                    })
                    .collect();
                let body = format!(r#"{{"site":"demo","events":[{}]}}"#, events.join(","));
                match post(&addr, &body) {
                    Some(200) => {
                        if tx.send(ids).is_err() {
                            return next;
                        }
                    }
                    // The server is gone: the stream ends.
                    _ => return next,
                }
            }
        });
        for _ in 0..kill_after {
            acked.extend(rx.recv().expect("the client stopped before the kill"));
        }
        p.child.kill().unwrap(); // SIGKILL, mid-stream
        p.child.wait().unwrap();
        next = client.join().unwrap();
        // Acknowledgements that raced the kill count too: the client saw them.
        acked.extend(rx.try_iter().flatten());
    }
    assert!(acked.len() >= 6 * 20);

    // Restart: every acknowledged id is stored, exactly once.
    let p = start(dir.path());
    let conn = rusqlite::Connection::open(dir.path().join("events.db")).unwrap();
    for &i in &acked {
        let n: i64 = conn
            .query_row(
                "SELECT COUNT(*) FROM events WHERE id = ?1",
                [uuid(i)],
                |r| r.get(0),
            )
            .unwrap();
        assert_eq!(n, 1, "event {i} stored {n} times");
    }
    let mut p = p;
    p.child.kill().unwrap();
    p.child.wait().unwrap();
}
