//! Faults a real `tailor serve` process must survive: its data directory going away and coming
//! back, and clients that send their headers or bodies too slowly.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

mod common;
use common::Proc;

fn start(dir: &Path, db: &Path, extra: &[&str]) -> Proc {
    std::fs::write(dir.join("catalog.json"), r#"{"version":1,"products":[]}"#).unwrap();
    common::serve(dir, db, &dir.join("catalog.json"), extra)
}

/// One request over a fresh connection; the status and the body.
fn request(addr: &str, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = String::new();
    s.read_to_string(&mut resp).unwrap();
    let status = resp.split(' ').nth(1).unwrap().parse().unwrap();
    let body = resp
        .split_once("\r\n\r\n")
        .map_or("", |(_, b)| b)
        .to_owned();
    (status, body)
}

fn batch(ids: &[u64]) -> String {
    let events: Vec<String> = ids
        .iter()
        .map(|n| {
            format!(
                r#"{{"id":"00000000-0000-4000-8000-{n:012x}","type":"page_view","ts":1700000000000,"shopper":"s1","session":"x1","page":"home"}}"#
            )
        })
        .collect();
    format!(r#"{{"site":"demo","events":[{}]}}"#, events.join(","))
}

/// Event ids stored for the site, read with the server's own store (no server running).
fn stored_ids(db: &Path) -> Vec<String> {
    tailor_server::store::Store::open(db)
        .unwrap()
        .event_ids("demo")
        .unwrap()
}

#[test]
fn a_missing_data_directory_gives_503_and_the_server_recovers_when_it_is_back() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // A plain file where the data directory should be: the database cannot be opened.
    std::fs::write(&data, b"not a directory").unwrap();
    let db = data.join("events.db");
    let p = start(dir.path(), &db, &[]);
    let (status, body) = request(&p.addr, "GET", "/ready", "");
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("STORAGE_UNAVAILABLE"), "{body}");
    assert_eq!(request(&p.addr, "GET", "/health", "").0, 200);
    let (status, body) = request(&p.addr, "POST", "/v1/events", &batch(&[1, 2]));
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("data directory"), "{body}");

    // The directory is fixed: the server opens the database and takes events.
    std::fs::remove_file(&data).unwrap();
    std::fs::create_dir(&data).unwrap();
    assert_eq!(request(&p.addr, "GET", "/ready", "").0, 200);
    let (status, body) = request(&p.addr, "POST", "/v1/events", &batch(&[1, 2]));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""accepted":2"#), "{body}");

    // The directory goes away while the server runs (renamed, as an unmounted volume would
    // vanish): posts are refused, not written to the file the server still holds open.
    let moved = dir.path().join("moved");
    std::fs::rename(&data, &moved).unwrap();
    let (status, body) = request(&p.addr, "POST", "/v1/events", &batch(&[3]));
    assert_eq!(status, 503, "{body}");
    assert_eq!(request(&p.addr, "GET", "/ready", "").0, 503);
    assert!(
        !data.exists(),
        "the server must not create an empty data directory in place of the real one"
    );

    // It comes back: the same database, and new events go into it.
    std::fs::rename(&moved, &data).unwrap();
    assert_eq!(request(&p.addr, "GET", "/ready", "").0, 200);
    let (status, body) = request(&p.addr, "POST", "/v1/events", &batch(&[2, 4]));
    assert_eq!(status, 200, "{body}");
    assert!(body.contains(r#""accepted":1"#), "{body}");
    assert!(body.contains(r#""duplicates":1"#), "{body}");
    drop(p);
    let mut ids = stored_ids(&db);
    ids.sort();
    let want: Vec<String> = [1u64, 2, 4]
        .iter()
        .map(|n| format!("00000000-0000-4000-8000-{n:012x}"))
        .collect();
    assert_eq!(
        ids, want,
        "every acknowledged event once, the refused one not at all"
    );
}

#[test]
fn a_client_that_trickles_its_headers_is_cut_off() {
    let dir = tempfile::tempdir().unwrap();
    let p = start(
        dir.path(),
        &dir.path().join("t.db"),
        &["--header-timeout", "1"],
    );
    let mut slow = TcpStream::connect(&p.addr).unwrap();
    slow.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    // 60 header bytes, one every 100 ms: the whole head would take 6 s, well past the 1 s limit.
    let head = format!(
        "GET /health HTTP/1.1\r\nHost: {}\r\nX-Slow: aaaaaaaaa",
        p.addr
    );
    let started = Instant::now();
    let mut cut_off = false;
    for b in head.bytes().take(60) {
        if slow.write_all(&[b]).is_err() {
            cut_off = true;
            break;
        }
        // Whether the server closed the connection: a read with a short timeout.
        slow.set_read_timeout(Some(Duration::from_millis(100)))
            .unwrap();
        let mut buf = [0u8; 512];
        match slow.read(&mut buf) {
            Ok(_) => {
                // EOF or an error response: either way the server gave up on this client.
                cut_off = true;
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => {
                cut_off = true;
                break;
            }
            Err(_) => {} // timed out: still open
        }
    }
    assert!(
        cut_off,
        "the server kept a trickling client's connection open for {:?}",
        started.elapsed()
    );
    // Other clients are served all along.
    assert_eq!(request(&p.addr, "GET", "/health", "").0, 200);
}

/// Sends a head promising 100 bytes and only the first 10, then reads the answer.
fn trickle(addr: &str, path: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n{{\"site\":\"d"
    );
    s.write_all(req.as_bytes()).unwrap();
    let mut resp = Vec::new();
    let mut buf = [0u8; 1024];
    // Read until the response head and body are in (the server closes or sends it whole).
    while let Ok(n) = s.read(&mut buf) {
        if n == 0 {
            break;
        }
        resp.extend_from_slice(&buf[..n]);
        if String::from_utf8_lossy(&resp).contains("BODY_TIMEOUT") {
            break;
        }
    }
    String::from_utf8_lossy(&resp).into_owned()
}

#[test]
fn a_body_that_never_arrives_gets_408() {
    let dir = tempfile::tempdir().unwrap();
    let p = start(
        dir.path(),
        &dir.path().join("t.db"),
        &["--body-timeout", "1"],
    );
    // An event batch, and a logged-in customer's profile: the same answer, and nothing kept.
    for path in ["/v1/events", "/v1/profiles/demo/customer-0123456789"] {
        let resp = trickle(&p.addr, path);
        assert!(resp.starts_with("HTTP/1.1 408"), "{path}: {resp}");
        assert!(resp.contains("BODY_TIMEOUT"), "{path}: {resp}");
    }
    assert_eq!(
        request(&p.addr, "GET", "/v1/profiles/demo/customer-0123456789", "").0,
        404,
        "a profile that never arrived was stored"
    );
    drop(p);
    assert!(stored_ids(&dir.path().join("t.db")).is_empty());
}

/// `tailor serve` with JSON logs on stderr, the storefront and database in `dir`, plus `extra`
/// options: the process (killed on drop, also when an assertion fails), its address, and its
/// log lines as they come, each checked to be JSON on the way.
fn serve_logging(
    dir: &Path,
    catalog: &Path,
    extra: &[&str],
) -> (Proc, String, std::sync::mpsc::Receiver<serde_json::Value>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_tailor"))
        .args(["serve", "--addr", "127.0.0.1:0", "--log-format", "json"])
        .args(extra)
        .arg("--db")
        .arg(dir.join("t.db"))
        .arg("--catalog")
        .arg(catalog)
        .arg("--www")
        .arg(dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let addr = common::listening_addr(&mut child);
    let mut p = Proc {
        child,
        addr: addr.clone(),
    };
    let (tx, rx) = std::sync::mpsc::channel::<serde_json::Value>();
    let err = BufReader::new(p.child.stderr.take().unwrap());
    std::thread::spawn(move || {
        for line in err.lines().map_while(Result::ok) {
            let v: serde_json::Value = serde_json::from_str(&line)
                .unwrap_or_else(|e| panic!("a log line is not JSON ({e}): {line}"));
            if tx.send(v).is_err() {
                break;
            }
        }
    });
    (p, addr, rx)
}

#[test]
fn logs_are_structured_json_with_one_line_per_request_at_debug() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("catalog.json"),
        r#"{"version":1,"products":[]}"#,
    )
    .unwrap();
    let (_p, addr, rx) = serve_logging(
        dir.path(),
        &dir.path().join("catalog.json"),
        &["--rebuild-every", "0", "--log-level", "debug"],
    );
    assert_eq!(request(&addr, "GET", "/v1/nothing-here", "").0, 404);
    // Wait for the request's log line (each line is checked to be JSON on the way).
    let line = loop {
        let v = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("no request log line");
        if v["fields"]["message"] == "request" {
            break v;
        }
    };
    assert_eq!(line["level"], "DEBUG");
    assert_eq!(line["fields"]["path"], "/v1/nothing-here");
    assert_eq!(line["fields"]["status"], 404);
    assert_eq!(line["fields"]["method"], "GET");
    assert!(line["fields"]["ms"].as_f64().unwrap() >= 0.0);
    assert!(line["timestamp"].is_string());
}

/// `tailor import-catalog` replaces the catalog file while the server runs: the next scheduled
/// check reads it and trains a snapshot from it, and the product pages serve it. A broken file
/// written over it is named in the log, and the catalog read before stays in use.
#[test]
fn a_catalog_replaced_while_the_server_runs_is_read_again_and_a_broken_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let catalog = dir.path().join("catalog.json");
    std::fs::write(&catalog, r#"{"version":1,"products":[]}"#).unwrap();
    std::fs::write(dir.path().join("product.html"), "<h1>{{title}}</h1>").unwrap();
    let (_p, addr, rx) = serve_logging(dir.path(), &catalog, &["--rebuild-every", "1"]);
    // The log line whose message is `message`.
    let until = |message: &str| loop {
        let v = rx
            .recv_timeout(Duration::from_secs(30))
            .unwrap_or_else(|_| panic!("no log line {message:?}"));
        if v["fields"]["message"] == message {
            break v;
        }
    };
    let version = || {
        let (status, body) = request(&addr, "GET", "/v1/snapshot/demo", "");
        assert_eq!(status, 200, "{body}");
        serde_json::from_str::<serde_json::Value>(&body).unwrap()["version"]
            .as_u64()
            .unwrap()
    };
    assert_eq!(version(), 1);
    assert_eq!(request(&addr, "GET", "/products/blue-mug", "").0, 404);

    let feed = dir.path().join("feed.csv");
    std::fs::write(
        &feed,
        "id,title,handle\n7,Blue mug,blue-mug\n8,Red mug,red-mug\n",
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tailor"))
        .args(["import-catalog", "--catalog"])
        .arg(&catalog)
        .arg(&feed)
        .output()
        .unwrap();
    assert!(out.status.success(), "{out:?}");
    let read = until("read the changed catalog");
    assert_eq!(read["fields"]["products"], 2);
    let built = until("rebuilt snapshot");
    assert_eq!(built["fields"]["version"], 2);
    assert_eq!(version(), 2);
    let (status, body) = request(&addr, "GET", "/products/blue-mug", "");
    assert_eq!((status, body.contains("Blue mug")), (200, true), "{body}");

    std::fs::write(&catalog, r#"{"version":3,"products":[{"id":1}]}"#).unwrap();
    let broken = until("the changed catalog cannot be used; the one read before stays");
    let why = broken["fields"]["error"].as_str().unwrap();
    assert!(why.contains("catalog.json"), "{why}");
    assert_eq!(request(&addr, "GET", "/products/red-mug", "").0, 200);
    assert_eq!(version(), 2);
}
