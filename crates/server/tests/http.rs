//! The sync server over real HTTP on 127.0.0.1, against real SQLite files in temp folders.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tailor_core::snapshot::Snapshot;
use tailor_server::catalog::Catalog;
use tailor_server::limits::Limits;
use tailor_server::store::Store;
use tailor_server::{app, AppState};

const CATALOG: &str = r#"{"version": 5, "products": [
  {"id": 101, "handle": "red-mug", "title": "Red mug", "category": "Kitchen", "price": 4.5, "popularity": 30},
  {"id": 102, "handle": "blue-bag", "title": "Blue bag", "category": "Bags", "price": 9.0, "popularity": 10},
  {"id": 103, "handle": "candle", "title": "Candle", "category": "Candles", "price": 2.0, "popularity": 1}
]}"#;

struct Server {
    base: String,
    shutdown: Option<tokio::sync::oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl Server {
    async fn start(dir: &Path) -> Server {
        std::fs::create_dir_all(dir.join("dist")).unwrap();
        std::fs::create_dir_all(dir.join("www")).unwrap();
        std::fs::write(dir.join("dist/tailor_bg.wasm"), b"\0asm\x01\0\0\0").unwrap();
        std::fs::write(dir.join("www/collection.html"), "<!doctype html><p>hi</p>").unwrap();
        Server::start_with(dir, Limits::default()).await
    }

    async fn start_with(dir: &Path, limits: Limits) -> Server {
        std::fs::create_dir_all(dir.join("dist")).unwrap();
        std::fs::create_dir_all(dir.join("www")).unwrap();
        let mut state = AppState::with_limits(
            "demo".to_owned(),
            Catalog::parse(CATALOG).ok().unwrap(),
            Store::open(&dir.join("events.db")).unwrap(),
            dir.join("dist"),
            dir.join("www"),
            limits,
        );
        state.keep_versions = 3;
        let state = Arc::new(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            tailor_server::net::serve(listener, app(state), Duration::from_secs(10), async {
                let _ = rx.await;
            })
            .await
            .unwrap();
        });
        Server {
            base,
            shutdown: Some(tx),
            task,
        }
    }

    async fn stop(mut self) {
        let _ = self.shutdown.take().unwrap().send(());
        self.task.await.unwrap();
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// The text of `/metrics`.
    async fn metrics(&self, client: &reqwest::Client) -> String {
        let res = client.get(self.url("/metrics")).send().await.unwrap();
        res.text().await.unwrap()
    }
}

fn score(s: &Snapshot, id: u64) -> Option<u8> {
    s.model.ix_of(id).map(|i| s.model.popularity[i as usize])
}

/// A UUID-shaped id, unique per `name`.
fn uuid(name: &str) -> String {
    let h = name.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    format!(
        "{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}",
        h >> 32,
        (h >> 16) & 0xffff,
        h & 0xfff,
        (h >> 4) & 0xfff,
        h & 0xffff_ffff_ffff
    )
}

fn event(id: &str, item: u64) -> serde_json::Value {
    serde_json::json!({"id": uuid(id), "type": "product_view", "item": item,
                       "shopper": "shopper-1", "session": "session-1", "ts": 1_700_000_000_000u64})
}

/// A 429's `Retry-After`, in seconds.
fn retry_after(res: &reqwest::Response) -> u64 {
    res.headers()["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap()
}

async fn post(client: &reqwest::Client, url: &str, body: String, ctype: &str) -> reqwest::Response {
    client
        .post(url)
        .header("content-type", ctype)
        .body(body)
        .send()
        .await
        .unwrap()
}

/// Follow the pointer at /v1/snapshot/demo to the immutable bytes, and decode them.
async fn snapshot(client: &reqwest::Client, s: &Server) -> Snapshot {
    let res = client.get(s.url("/v1/snapshot/demo")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let pointer: serde_json::Value = res.json().await.unwrap();
    let res = client
        .get(s.url(pointer["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/octet-stream");
    Snapshot::decode(&res.bytes().await.unwrap()).unwrap()
}

/// What `tailor build-snapshot` does, against the running server's database file.
fn rebuild(dir: &Path) -> u64 {
    let store = Store::open(&dir.join("events.db")).unwrap();
    let catalog = Catalog::parse(CATALOG).ok().unwrap();
    tailor_server::snapshot::rebuild(&store, &catalog, &Default::default(), "demo", 3)
        .unwrap()
        .version
}

#[tokio::test]
async fn events_change_the_snapshot_and_are_stored_once_across_restarts() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let s = Server::start(dir.path()).await;

    let before = snapshot(&client, &s).await;
    assert_eq!(before.catalog_version, 5);
    assert!(score(&before, 101) > score(&before, 103));

    let events: Vec<_> = (0..60).map(|i| event(&format!("ev-{i}"), 103)).collect();
    let batch = serde_json::json!({"site": "demo", "events": events}).to_string();
    // text/plain, as navigator.sendBeacon sends it.
    let res = post(
        &client,
        &s.url("/v1/events"),
        batch.clone(),
        "text/plain;charset=UTF-8",
    )
    .await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["accepted"], 60);
    assert_eq!(body["duplicates"], 0);

    // Stored events reach shoppers with the next snapshot version.
    assert_eq!(snapshot(&client, &s).await, before);
    assert_eq!(rebuild(dir.path()), 2);
    let after = snapshot(&client, &s).await;
    assert!(
        score(&after, 103) > score(&after, 101),
        "60 views must lift item 103 above 101"
    );

    // The same batch again, and again after a restart on the same database file: no new rows.
    let res = post(
        &client,
        &s.url("/v1/events"),
        batch.clone(),
        "application/json",
    )
    .await;
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(0), Some(60))
    );
    s.stop().await;

    let s = Server::start(dir.path()).await;
    let res = post(&client, &s.url("/v1/events"), batch, "application/json").await;
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (body["accepted"].as_u64(), body["duplicates"].as_u64()),
        (Some(0), Some(60))
    );
    assert_eq!(snapshot(&client, &s).await, after);
    s.stop().await;
}

#[tokio::test]
async fn snapshots_are_versioned_immutable_precompressed_and_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let s = Server::start(dir.path()).await;

    // The first request builds version 1.
    let res = client.get(s.url("/v1/snapshot/demo")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-cache");
    // The version and its build time name it: a database started over counts from 1 again,
    // and its version 1 must differ from the one caches kept.
    let created = Store::open(&dir.path().join("events.db"))
        .unwrap()
        .latest_snapshot("demo")
        .unwrap()
        .unwrap()
        .created_at;
    let etag = format!("\"1.{created}\"");
    assert_eq!(res.headers()["etag"], etag.as_str());
    let pointer: serde_json::Value = res.json().await.unwrap();
    assert_eq!(pointer["version"], 1);
    assert_eq!(pointer["url"], format!("/v1/snapshot/demo/1?t={created}"));

    // Revalidation: the same version and build, and not another database's version 1.
    for (sent, status) in [(etag.as_str(), 304), ("\"1\"", 200), ("\"1.5\"", 200)] {
        let res = client
            .get(s.url("/v1/snapshot/demo"))
            .header("if-none-match", sent)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), status, "{sent}");
    }
    let bytes = client
        .get(s.url(pointer["url"].as_str().unwrap()))
        .send()
        .await
        .unwrap();
    assert_eq!(bytes.headers()["etag"], etag.as_str());

    // The versioned URL: immutable, and brotli, gzip or identity by Accept-Encoding.
    let raw = client
        .get(s.url("/v1/snapshot/demo/1"))
        .header("accept-encoding", "identity")
        .send()
        .await
        .unwrap();
    assert_eq!(
        raw.headers()["cache-control"],
        "public, max-age=31536000, immutable"
    );
    assert!(raw.headers().get("content-encoding").is_none());
    let raw = raw.bytes().await.unwrap();
    Snapshot::decode(&raw).unwrap();
    let br = client
        .get(s.url("/v1/snapshot/demo/1"))
        .header("accept-encoding", "gzip, br")
        .send()
        .await
        .unwrap();
    assert_eq!(br.headers()["content-encoding"], "br");
    assert_eq!(br.headers()["vary"], "Accept-Encoding");
    let br = br.bytes().await.unwrap();
    let mut out = Vec::new();
    brotli::BrotliDecompress(&mut &br[..], &mut out).unwrap();
    assert_eq!(out, raw);
    // A weight of zero, however written, refuses an encoding.
    for refusal in ["gzip, br;q=0", "gzip, br;q=0.0", "gzip, br; q=0.000"] {
        let gz = client
            .get(s.url("/v1/snapshot/demo/1"))
            .header("accept-encoding", refusal)
            .send()
            .await
            .unwrap();
        assert_eq!(gz.headers()["content-encoding"], "gzip", "{refusal}");
    }

    // New versions replace the pointer; only the last 3 are kept.
    for want in 2..=5 {
        assert_eq!(rebuild(dir.path()), want);
    }
    let pointer: serde_json::Value = client
        .get(s.url("/v1/snapshot/demo"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(pointer["version"], 5);
    let gone = client
        .get(s.url("/v1/snapshot/demo/2"))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), 404);
    let body: serde_json::Value = gone.json().await.unwrap();
    assert_eq!(body["error"]["code"], "UNKNOWN_VERSION");
    assert_eq!(
        client
            .get(s.url("/v1/snapshot/demo/3"))
            .send()
            .await
            .unwrap()
            .status(),
        200
    );
    assert_eq!(
        client
            .get(s.url("/v1/snapshot/demo/x"))
            .send()
            .await
            .unwrap()
            .status(),
        404
    );
    s.stop().await;
}

#[tokio::test]
async fn health_and_readiness() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let s = Server::start(dir.path()).await;
    let res = client.get(s.url("/health")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = client.get(s.url("/ready")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    s.stop().await;
}

#[tokio::test]
async fn a_bad_event_is_rejected_alone_and_malformed_json_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let s = Server::start(dir.path()).await;

    let batch = serde_json::json!({"site": "demo", "events": [
        event("good-1", 102),
        {"id": uuid("bad-1"), "type": "teleport", "shopper": "a", "session": "b", "ts": 1},
        event("good-2", 102),
    ]});
    let res = post(
        &client,
        &s.url("/v1/events"),
        batch.to_string(),
        "application/json",
    )
    .await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["accepted"], 2);
    assert_eq!(body["rejected"][0]["index"], 1);
    assert_eq!(
        body["rejected"][0]["error"],
        "unknown event type `teleport`"
    );

    let res = post(
        &client,
        &s.url("/v1/events"),
        r#"{"site":"demo","events":[{"id":"#.into(),
        "application/json",
    )
    .await;
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "MALFORMED_BATCH");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("malformed event batch"));

    let res = post(
        &client,
        &s.url("/v1/events"),
        serde_json::json!({"site": "elsewhere", "events": [event("x", 1)]}).to_string(),
        "application/json",
    )
    .await;
    assert_eq!(res.status(), 404);
    s.stop().await;

    let store = Store::open(&dir.path().join("events.db")).unwrap();
    assert_eq!(store.event_count("demo").unwrap(), 2);
    assert_eq!(store.event_count("elsewhere").unwrap(), 0);
}

#[tokio::test]
async fn oversized_batches_get_413() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let s = Server::start(dir.path()).await;
    let pad = "x".repeat(tailor_server::MAX_BATCH_BYTES);
    let body = format!(r#"{{"site":"demo","events":[],"pad":"{pad}"}}"#);
    let res = post(&client, &s.url("/v1/events"), body, "application/json").await;
    assert_eq!(res.status(), 413);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "BATCH_TOO_LARGE");
    s.stop().await;
    let store = Store::open(&dir.path().join("events.db")).unwrap();
    assert_eq!(store.event_count("demo").unwrap(), 0);
}

#[tokio::test]
async fn serves_the_engine_and_the_storefront_safely() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let s = Server::start(dir.path()).await;

    let res = client.get(s.url("/tailor_bg.wasm")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/wasm");
    assert_eq!(&res.bytes().await.unwrap()[..4], b"\0asm");

    let res = client.get(s.url("/collection.html")).send().await.unwrap();
    assert_eq!(res.headers()["content-type"], "text/html; charset=utf-8");

    let res = client.get(s.url("/")).send().await.unwrap();
    assert_eq!(res.status(), 307);
    assert_eq!(res.headers()["location"], "/collection.html");

    for path in [
        "/../events.db",
        "/%2e%2e/events.db",
        "/.hidden",
        "/tailor.js",
    ] {
        let res = client.get(s.url(path)).send().await.unwrap();
        assert_eq!(res.status(), 404, "{path}");
    }
    let res = client.get(s.url("/tailor.js")).send().await.unwrap();
    assert!(res.text().await.unwrap().contains("make build"));

    let res = client.get(s.url("/v1/snapshot/nope")).send().await.unwrap();
    assert_eq!(res.status(), 404);

    // Stores on other origins load the engine and the snapshot and post events here.
    // The versioned script-tag files too: a tag with `integrity` and `crossorigin` is a CORS
    // request, refused by the browser without the header.
    for path in [
        "/tailor_bg.wasm",
        "/tailor.worker.js",
        "/tailor-0.1.0.js",
        "/tailor-0.1.0.worker.js",
        "/tailor-0.1.0_bg.wasm",
        "/v1/snapshot/demo",
        "/v1/snapshot/demo/1",
    ] {
        let res = client
            .get(s.url(path))
            .header("origin", "http://shop.test")
            .send()
            .await
            .unwrap();
        assert_eq!(res.headers()["access-control-allow-origin"], "*", "{path}");
    }
    let res = client
        .request(reqwest::Method::OPTIONS, s.url("/v1/events"))
        .header("origin", "http://shop.test")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "content-type")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 204);
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    assert_eq!(
        res.headers()["access-control-allow-headers"],
        "content-type"
    );
    // The storefront's own pages are not opened to other origins, nor is a file that only
    // looks versioned from a folder.
    for path in [
        "/collection.html",
        "/x/tailor-0.1.0.js",
        "/tailor-notes.txt",
    ] {
        let res = client.get(s.url(path)).send().await.unwrap();
        assert!(
            res.headers().get("access-control-allow-origin").is_none(),
            "{path}"
        );
    }
    s.stop().await;
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    enc.write_all(bytes).unwrap();
    enc.finish().unwrap()
}

#[tokio::test]
async fn bots_are_stored_flagged_and_never_trained_on() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let s = Server::start(dir.path()).await;
    let batch = serde_json::json!({"site": "demo", "events": [event("bot-1", 103)]}).to_string();
    let res = client
        .post(s.url("/v1/events"))
        .header("user-agent", "Mozilla/5.0 (compatible; Googlebot/2.1)")
        .body(batch)
        .send()
        .await
        .unwrap();
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (body["accepted"].as_u64(), body["bot"].as_bool()),
        (Some(1), Some(true))
    );
    s.stop().await;
    let store = Store::open(&dir.path().join("events.db")).unwrap();
    assert_eq!(store.event_count("demo").unwrap(), 1);
    assert!(store.training_events("demo").unwrap().views.is_empty());
}

#[tokio::test]
async fn foreign_origins_get_202_and_nothing_is_stored() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let limits = Limits {
        // Written as a merchant might: a capital, the default port, a trailing slash. It
        // allows the origin as a browser sends it.
        allowed_origins: vec!["https://Shop.Example:443/".into()],
        ..Limits::default()
    };
    let s = Server::start_with(dir.path(), limits).await;
    let batch =
        |id: &str| serde_json::json!({"site": "demo", "events": [event(id, 101)]}).to_string();
    // Another site, and a sandboxed frame (`null`): dropped.
    for (origin, id) in [("https://evil.example", "f1"), ("null", "f0")] {
        let res = client
            .post(s.url("/v1/events"))
            .header("origin", origin)
            .body(batch(id))
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 202, "{origin}");
        assert_eq!(res.headers()["x-tailor-dropped"], "foreign-origin");
    }
    let res = client
        .post(s.url("/v1/events"))
        .header("origin", "https://shop.example")
        .body(batch("f2"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let metrics = s.metrics(&client).await;
    assert!(
        metrics.contains("tailor_batches_foreign_origin_total 2\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tailor_events_accepted_total 1\n"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tailor_ingest_request_duration_seconds_count 3\n"),
        "{metrics}"
    );
    s.stop().await;
    let store = Store::open(&dir.path().join("events.db")).unwrap();
    assert_eq!(store.event_count("demo").unwrap(), 1);
}

#[tokio::test]
async fn a_site_over_its_rate_limit_gets_429_with_retry_after() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let limits = Limits {
        rate_per_sec: 0.1,
        rate_burst: 2.0,
        ..Limits::default()
    };
    let s = Server::start_with(dir.path(), limits).await;
    let mut statuses = Vec::new();
    for i in 0..3 {
        let batch = serde_json::json!({"site": "demo", "events": [event(&format!("r{i}"), 101)]});
        let res = post(
            &client,
            &s.url("/v1/events"),
            batch.to_string(),
            "text/plain",
        )
        .await;
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            let wait = retry_after(&res);
            assert!((1..=10).contains(&wait), "{wait}");
        }
    }
    assert_eq!(statuses, vec![200, 200, 429]);
    s.stop().await;
}

#[tokio::test]
async fn deletion_requests_have_a_rate_limit_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    // Deletion requests get a tenth of the batches' burst: 2 here.
    let limits = Limits {
        rate_per_sec: 0.1,
        rate_burst: 20.0,
        ..Limits::default()
    };
    let s = Server::start_with(dir.path(), limits).await;
    let mut statuses = Vec::new();
    // A malformed request is refused before it can take a token.
    let res = post(
        &client,
        &s.url("/v1/forget"),
        "{\"site\": \"demo\"}".into(),
        "text/plain",
    )
    .await;
    statuses.push(res.status().as_u16());
    for i in 0..3 {
        let forget = serde_json::json!({"site": "demo", "shopper": format!("f{i}")});
        let res = post(
            &client,
            &s.url("/v1/forget"),
            forget.to_string(),
            "text/plain",
        )
        .await;
        statuses.push(res.status().as_u16());
        if res.status() == 429 {
            let wait = retry_after(&res);
            // (A tenth of 0.1 a second: one every 100 s.)
            assert!((1..=100).contains(&wait), "{wait}");
            let body: serde_json::Value = res.json().await.unwrap();
            assert_eq!(body["error"]["code"], "RATE_LIMITED");
            assert!(
                body["error"]["message"]
                    .as_str()
                    .unwrap()
                    .contains("too many deletion requests"),
                "{body}"
            );
        }
    }
    assert_eq!(statuses, vec![400, 200, 200, 429]);
    // Event batches have their own bucket, which the deletion requests left full.
    let batch = serde_json::json!({"site": "demo", "events": [event("after-forgets", 101)]});
    let res = post(
        &client,
        &s.url("/v1/events"),
        batch.to_string(),
        "text/plain",
    )
    .await;
    assert_eq!(res.status(), 200);
    let metrics = s.metrics(&client).await;
    assert!(
        metrics.contains("tailor_requests_rate_limited_total 1\n"),
        "{metrics}"
    );
    s.stop().await;
}

#[tokio::test]
async fn beyond_the_in_flight_cap_requests_are_shed_at_once() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let limits = Limits {
        max_in_flight: 1,
        ..Limits::default()
    };
    let s = Server::start_with(dir.path(), limits).await;
    // A request whose body never finishes holds the only slot.
    let addr = s.base.trim_start_matches("http://").to_owned();
    let mut slow = std::net::TcpStream::connect(&addr).unwrap();
    slow.write_all(b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{")
        .unwrap();
    // Wait until the server has taken that request in (its permit is held), without sleeping:
    // poll /health until it is refused.
    let client = reqwest::Client::new();
    let mut shed = None;
    for _ in 0..5000 {
        let res = client.get(s.url("/health")).send().await.unwrap();
        if res.status() == 503 {
            shed = Some(res);
            break;
        }
        tokio::task::yield_now().await;
    }
    let res = shed.expect("the second request was never shed");
    assert_eq!(res.headers()["retry-after"], "1");
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "OVERLOADED");
    drop(slow);
    s.stop().await;
}

#[tokio::test]
async fn compressed_batches_are_measured_after_decompression() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let s = Server::start(dir.path()).await;
    let small = serde_json::json!({"site": "demo", "events": [event("gz-1", 101)]}).to_string();
    let res = client
        .post(s.url("/v1/events"))
        .header("content-encoding", "gzip")
        .body(gzip(small.as_bytes()))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    // 1 MB of padding compresses to a few KB, far under the limit on the wire.
    let pad = " ".repeat(1 << 20);
    let bomb = format!(r#"{{"site":"demo","events":[]{pad}}}"#);
    let packed = gzip(bomb.as_bytes());
    assert!(packed.len() < tailor_server::MAX_BATCH_BYTES);
    let res = client
        .post(s.url("/v1/events"))
        .header("content-encoding", "gzip")
        .body(packed)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 413);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "BATCH_TOO_LARGE");
    // A gzip body cut short, and an encoding the server does not read: each refused with its
    // reason, and nothing stored.
    let other = serde_json::json!({"site": "demo", "events": [event("gz-2", 102)]}).to_string();
    let packed = gzip(other.as_bytes());
    for (encoding, body, reason) in [
        (
            "gzip",
            packed[..packed.len() / 2].to_vec(),
            "gzip body does not decompress",
        ),
        (
            "br",
            other.clone().into_bytes(),
            "Content-Encoding `br` is not supported",
        ),
    ] {
        let res = client
            .post(s.url("/v1/events"))
            .header("content-encoding", encoding)
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 400, "{encoding}");
        let body: serde_json::Value = res.json().await.unwrap();
        assert_eq!(body["error"]["code"], "MALFORMED_BATCH");
        let message = body["error"]["message"].as_str().unwrap();
        assert!(message.contains(reason), "{message}");
    }
    s.stop().await;
    let store = Store::open(&dir.path().join("events.db")).unwrap();
    assert_eq!(store.event_count("demo").unwrap(), 1);
}

#[tokio::test]
async fn a_missing_or_wrong_write_key_gets_401() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join("www")).unwrap();
    let client = reqwest::Client::new();
    let mut state = AppState::new(
        "demo".to_owned(),
        Catalog::parse(CATALOG).ok().unwrap(),
        Store::open(&dir.path().join("events.db")).unwrap(),
        dir.path().join("dist"),
        dir.path().join("www"),
    );
    state.write_key = "pk_live_123".into();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app(Arc::new(state))).await.unwrap();
    });
    let send = |key: Option<&str>| {
        let mut batch = serde_json::json!({"site": "demo", "events": [event("k1", 101)]});
        if let Some(k) = key {
            batch["key"] = k.into();
        }
        client
            .post(format!("{base}/v1/events"))
            .body(batch.to_string())
            .send()
    };
    assert_eq!(send(None).await.unwrap().status(), 401);
    let res = send(Some("wrong")).await.unwrap();
    assert_eq!(res.status(), 401);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "UNAUTHORIZED");
    assert_eq!(send(Some("pk_live_123")).await.unwrap().status(), 200);
    task.abort();
}

#[tokio::test]
async fn one_batch_replayed_ten_times_is_stored_once() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let s = Server::start(dir.path()).await;
    let events: Vec<_> = (0..25)
        .map(|i| event(&format!("replay-{i}"), 102))
        .collect();
    let batch = serde_json::json!({"site": "demo", "events": events}).to_string();
    let mut accepted = 0;
    for _ in 0..10 {
        let res = post(&client, &s.url("/v1/events"), batch.clone(), "text/plain").await;
        assert_eq!(res.status(), 200);
        let body: serde_json::Value = res.json().await.unwrap();
        accepted += body["accepted"].as_u64().unwrap();
    }
    assert_eq!(accepted, 25);
    s.stop().await;
    let store = Store::open(&dir.path().join("events.db")).unwrap();
    assert_eq!(store.event_count("demo").unwrap(), 25);
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_gets_413_without_being_buffered_whole() {
    use std::io::{Read, Write};
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let addr = s.base.trim_start_matches("http://").to_owned();
    let result = tokio::task::spawn_blocking(move || {
        let mut conn = std::net::TcpStream::connect(&addr).unwrap();
        conn.set_read_timeout(Some(std::time::Duration::from_secs(10)))
            .unwrap();
        conn.write_all(
            b"POST /v1/events HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n",
        )
        .unwrap();
        // 64 chunks of 8 KiB: 512 KiB offered, twice the limit, with no Content-Length. The
        // server may answer and close before all of it is sent.
        let chunk = vec![b' '; 8192];
        for _ in 0..64 {
            let head = format!("{:x}\r\n", chunk.len());
            if conn.write_all(head.as_bytes()).is_err()
                || conn.write_all(&chunk).is_err()
                || conn.write_all(b"\r\n").is_err()
            {
                break;
            }
        }
        let _ = conn.write_all(b"0\r\n\r\n");
        let mut resp = String::new();
        let _ = conn.read_to_string(&mut resp);
        resp
    })
    .await
    .unwrap();
    assert!(result.starts_with("HTTP/1.1 413"), "{result}");
    assert!(result.contains("BATCH_TOO_LARGE"), "{result}");
    s.stop().await;
}

/// A storage backend that fails every call (the trait lets a test stand in for a database
/// that is down).
struct Down;

impl tailor_server::store::EventStore for Down {
    fn insert_batches(
        &self,
        _: &[(&str, &[tailor_server::store::StoredEvent])],
        _: i64,
    ) -> Result<Vec<tailor_server::store::InsertOutcome>, tailor_server::store::StorageError> {
        Err(tailor_server::store::StorageError("disk I/O error".into()))
    }
    fn event_count(&self, _: &str) -> Result<u64, tailor_server::store::StorageError> {
        Err(tailor_server::store::StorageError("disk I/O error".into()))
    }
    fn ping(&self) -> Result<(), tailor_server::store::StorageError> {
        Err(tailor_server::store::StorageError("disk I/O error".into()))
    }
    fn training_events(
        &self,
        _: &str,
    ) -> Result<tailor_server::store::TrainingEvents, tailor_server::store::StorageError> {
        Err(tailor_server::store::StorageError("disk I/O error".into()))
    }
    fn put_snapshot(
        &self,
        _: &str,
        _: &tailor_server::store::StoredSnapshot,
        _: usize,
    ) -> Result<u64, tailor_server::store::StorageError> {
        Err(tailor_server::store::StorageError("disk I/O error".into()))
    }
    fn latest_snapshot(
        &self,
        _: &str,
    ) -> Result<Option<tailor_server::store::StoredSnapshot>, tailor_server::store::StorageError>
    {
        Err(tailor_server::store::StorageError("disk I/O error".into()))
    }
    fn snapshot(
        &self,
        _: &str,
        _: u64,
    ) -> Result<Option<tailor_server::store::StoredSnapshot>, tailor_server::store::StorageError>
    {
        Err(tailor_server::store::StorageError("disk I/O error".into()))
    }
    fn forget(
        &self,
        _: &str,
        _: &str,
        _: Option<&str>,
    ) -> Result<(u64, u64), tailor_server::store::StorageError> {
        Err(tailor_server::store::StorageError("disk I/O error".into()))
    }
    fn put_profile(
        &self,
        _: &str,
        _: &str,
        _: &str,
        _: i64,
    ) -> Result<(), tailor_server::store::StorageError> {
        Err(tailor_server::store::StorageError("disk I/O error".into()))
    }
    fn profile(
        &self,
        _: &str,
        _: &str,
    ) -> Result<Option<String>, tailor_server::store::StorageError> {
        Err(tailor_server::store::StorageError("disk I/O error".into()))
    }
    fn events(
        &self,
        _: &str,
    ) -> Result<Vec<tailor_core::events::Event>, tailor_server::store::StorageError> {
        Err(tailor_server::store::StorageError("disk I/O error".into()))
    }
}

#[tokio::test]
async fn storage_that_is_down_gives_503_everywhere() {
    let dir = tempfile::tempdir().unwrap();
    let state = AppState::new(
        "demo".to_owned(),
        Catalog::parse(CATALOG).ok().unwrap(),
        Down,
        dir.path().join("dist"),
        dir.path().join("www"),
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(async move {
        axum::serve(listener, app(Arc::new(state))).await.unwrap();
    });
    let client = reqwest::Client::new();
    let res = client.get(format!("{base}/ready")).send().await.unwrap();
    assert_eq!(res.status(), 503);
    let res = client.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(res.status(), 200, "the process itself is alive");
    let batch = serde_json::json!({"site": "demo", "events": [event("down-1", 101)]});
    let res = post(
        &client,
        &format!("{base}/v1/events"),
        batch.to_string(),
        "text/plain",
    )
    .await;
    assert_eq!(res.status(), 503);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "STORAGE_UNAVAILABLE");
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("disk I/O error"));
    let res = client
        .get(format!("{base}/v1/snapshot/demo"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    let forget = serde_json::json!({"site": "demo", "shopper": "s-1"});
    let res = post(
        &client,
        &format!("{base}/v1/forget"),
        forget.to_string(),
        "text/plain",
    )
    .await;
    assert_eq!(res.status(), 503);
    let res = client
        .get(format!("{base}/v1/profiles/demo/0123456789abcdef0123"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 503);
    task.abort();
}

#[tokio::test]
async fn the_openapi_document_is_served_and_covers_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let s = Server::start(dir.path()).await;
    let res = reqwest::get(s.url("/v1/openapi.json")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["content-type"], "application/json");
    assert_eq!(res.headers()["access-control-allow-origin"], "*");
    let doc: serde_json::Value = res.json().await.unwrap();
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let mut paths: Vec<&str> = doc["paths"]
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    paths.sort();
    assert_eq!(
        paths,
        [
            "/admin",
            "/health",
            "/metrics",
            "/ready",
            "/v1/admin/{site}/profiles",
            "/v1/admin/{site}/report",
            "/v1/events",
            "/v1/forget",
            "/v1/openapi.json",
            "/v1/profiles/{site}/{customer}",
            "/v1/snapshot/{site}",
            "/v1/snapshot/{site}/{version}"
        ]
    );
    // Every error code the server can send is documented.
    let text = tailor_server::OPENAPI;
    let src = [
        include_str!("../src/lib.rs"),
        include_str!("../src/admin.rs"),
    ]
    .concat();
    for code in src
        .split('"')
        .filter(|w| w.len() > 3 && w.chars().all(|c| c.is_ascii_uppercase() || c == '_'))
    {
        assert!(
            text.contains(code),
            "error code {code} is missing from docs/openapi.json"
        );
    }
    s.stop().await;
}

/// Two devices of one logged-in customer send their profiles in turn, and a third one whose
/// download of the stored copy failed sends what it saw since: the server joins each with what
/// it holds, so the stored profile has every device's history, and sending one again changes
/// nothing.
#[tokio::test]
async fn a_customer_profile_sent_by_several_devices_keeps_each_history() {
    use tailor_core::events::{Event, EventKind};
    use tailor_core::profile::Profile;
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let s = Server::start(dir.path()).await;
    let url = s.url("/v1/profiles/demo/feedface0123456789abcdef01234567");
    let t0 = 1_700_000_000_000i64;
    let saw = |p: &mut Profile, ts: i64, session: &str, kind: EventKind| {
        p.apply(
            &Event {
                id: "0b7e4c1a-9f2d-4e5b-8c3a-1d2e3f4a5b6c".into(),
                ts,
                shopper: "s".into(),
                session: session.into(),
                kind,
            },
            None,
        )
    };
    let purchase = |order: &str, item: u64, value: f64| EventKind::Purchase {
        order: Some(order.into()),
        lines: vec![tailor_core::events::Line {
            item,
            qty: 1,
            price: value,
        }],
        value,
        currency: None,
    };
    // The phone's history, stored.
    let mut phone = Profile::default();
    saw(&mut phone, t0, "p1", EventKind::ProductView { item: 11 });
    saw(&mut phone, t0 + 10, "p1", purchase("1001", 11, 20.0));
    let res = post(&client, &url, phone.encode_compact(), "text/plain").await;
    assert_eq!(res.status(), 204);
    // The laptop started from it (a GET), and went on.
    let mut laptop =
        Profile::decode_compact(&client.get(&url).send().await.unwrap().text().await.unwrap())
            .unwrap();
    saw(
        &mut laptop,
        t0 + 100,
        "l1",
        EventKind::ProductView { item: 12 },
    );
    saw(&mut laptop, t0 + 110, "l1", purchase("1002", 12, 5.0));
    // Meanwhile the phone went on from its own copy, and sends after the laptop.
    saw(
        &mut phone,
        t0 + 200,
        "p2",
        EventKind::ProductView { item: 13 },
    );
    for p in [&laptop, &phone] {
        let res = post(&client, &url, p.encode_compact(), "text/plain").await;
        assert_eq!(res.status(), 204);
    }
    // A new tablet whose download failed: it started from nothing.
    let mut tablet = Profile::default();
    saw(
        &mut tablet,
        t0 + 300,
        "t1",
        EventKind::ProductView { item: 14 },
    );
    let res = post(&client, &url, tablet.encode_compact(), "text/plain").await;
    assert_eq!(res.status(), 204);
    let text = client.get(&url).send().await.unwrap().text().await.unwrap();
    let stored = Profile::decode_compact(&text).unwrap();
    assert_eq!(
        stored.recent.iter().map(|r| r.0).collect::<Vec<_>>(),
        vec![14, 13, 12, 11]
    );
    assert_eq!(stored.orders, 2);
    assert_eq!(
        stored
            .purchases
            .iter()
            .map(|p| p.order.clone().unwrap())
            .collect::<Vec<_>>(),
        ["1001", "1002"]
    );
    assert!((stored.spend - 25.0).abs() < 1e-9);
    assert_eq!(stored.session.id, "t1");
    assert_eq!(stored.first_seen, t0);
    // The same profile again: nothing changes.
    let res = post(&client, &url, tablet.encode_compact(), "text/plain").await;
    assert_eq!(res.status(), 204);
    assert_eq!(
        client.get(&url).send().await.unwrap().text().await.unwrap(),
        text
    );
    s.stop().await;
}

#[tokio::test]
async fn a_shopper_is_forgotten_and_a_customer_profile_round_trips() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let s = Server::start(dir.path()).await;
    // Two shoppers' events.
    let mut other = event("other-1", 102);
    other["shopper"] = "shopper-2".into();
    let batch = serde_json::json!({"site": "demo", "events": [event("mine-1", 101), event("mine-2", 102), other]});
    let res = post(
        &client,
        &s.url("/v1/events"),
        batch.to_string(),
        "text/plain",
    )
    .await;
    assert_eq!(res.status(), 200);

    // A customer's profile: stored as sent, read back byte for byte.
    let customer = "c0ffee0123456789abcdef0123456789";
    let profile = tailor_core::profile::Profile::default().encode_compact();
    let url = s.url(&format!("/v1/profiles/demo/{customer}"));
    assert_eq!(client.get(&url).send().await.unwrap().status(), 404);
    let res = post(&client, &url, profile.clone(), "text/plain").await;
    assert_eq!(res.status(), 204);
    let res = client.get(&url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-store");
    assert_eq!(res.text().await.unwrap(), profile);
    // Not a profile, a customer id that is not a hash, an oversized profile: precise errors.
    let res = post(&client, &url, "hello".into(), "text/plain").await;
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "BAD_PROFILE");
    let res = client
        .get(s.url("/v1/profiles/demo/1234"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "BAD_CUSTOMER");
    let res = post(&client, &url, "x".repeat(70_000), "text/plain").await;
    assert_eq!(res.status(), 413);

    // Forget shopper-1 and the customer: their data goes, shopper-2's stays.
    let forget = serde_json::json!({"site": "demo", "shopper": "shopper-1", "customer": customer});
    let res = post(
        &client,
        &s.url("/v1/forget"),
        forget.to_string(),
        "text/plain",
    )
    .await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"events": 2, "profiles": 1}));
    assert_eq!(client.get(&url).send().await.unwrap().status(), 404);
    let store = Store::open(&dir.path().join("events.db")).unwrap();
    assert_eq!(store.event_count("demo").unwrap(), 1);
    // A batch of shopper-1's sent before the forget and delivered after it is not stored.
    let late = serde_json::json!({"site": "demo", "events": [event("mine-3", 103)]});
    let res = post(
        &client,
        &s.url("/v1/events"),
        late.to_string(),
        "text/plain",
    )
    .await;
    assert_eq!(res.status(), 200);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(
        (&body["accepted"], &body["forgotten"]),
        (&0.into(), &1.into())
    );
    assert_eq!(store.event_count("demo").unwrap(), 1);
    // Forgetting again deletes nothing; a malformed request says what is wrong.
    let res = post(
        &client,
        &s.url("/v1/forget"),
        forget.to_string(),
        "text/plain",
    )
    .await;
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body, serde_json::json!({"events": 0, "profiles": 0}));
    let res = post(
        &client,
        &s.url("/v1/forget"),
        "{\"site\": \"demo\"}".into(),
        "text/plain",
    )
    .await;
    assert_eq!(res.status(), 400);
    let body: serde_json::Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "MALFORMED_REQUEST");
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("shopper"),
        "{body}"
    );
    s.stop().await;
}

#[tokio::test]
async fn static_files_revalidate_with_an_etag() {
    let dir = tempfile::tempdir().unwrap();
    let client = reqwest::Client::new();
    let s = Server::start(dir.path()).await;
    let res = client.get(s.url("/tailor_bg.wasm")).send().await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["cache-control"], "no-cache");
    let etag = res.headers()["etag"].to_str().unwrap().to_owned();
    let res = client
        .get(s.url("/tailor_bg.wasm"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);
    // A changed file has a new tag and is sent whole.
    std::fs::write(dir.path().join("dist/tailor_bg.wasm"), b"\0asm\x01\0\0\0\0").unwrap();
    let res = client
        .get(s.url("/tailor_bg.wasm"))
        .header("if-none-match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    assert_ne!(res.headers()["etag"].to_str().unwrap(), etag);
    assert_eq!(res.bytes().await.unwrap().len(), 9);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_new_site_s_first_shoppers_share_one_snapshot_build() {
    let dir = tempfile::tempdir().unwrap();
    // Some history, so that a build takes long enough for the requests to meet.
    {
        let store = Store::open(&dir.path().join("events.db")).unwrap();
        let events: Vec<_> = (0..3000u64)
            .map(|n| tailor_server::store::StoredEvent {
                id: format!("00000000-0000-4000-8000-{n:012x}"),
                kind: "product_view".into(),
                item: Some(101 + n % 3),
                shopper: format!("s{}", n / 5),
                session: format!("x{}", n / 5),
                ts: 1_700_000_000_000 + n as i64 * 1000,
                payload: "{}".into(),
                bot: false,
            })
            .collect();
        store.insert_events("demo", &events, 0).unwrap();
    }
    let s = Server::start(dir.path()).await;
    let client = reqwest::Client::new();
    let asks: Vec<_> = (0..8)
        .map(|_| {
            let (client, url) = (client.clone(), s.url("/v1/snapshot/demo"));
            tokio::spawn(async move {
                let res = client.get(url).send().await.unwrap();
                assert_eq!(res.status(), 200);
                res.json::<serde_json::Value>().await.unwrap()["version"].clone()
            })
        })
        .collect();
    let mut versions = Vec::new();
    for ask in asks {
        versions.push(ask.await.unwrap());
    }
    assert!(versions.iter().all(|v| *v == 1), "{versions:?}");
    let metrics = s.metrics(&client).await;
    assert!(
        metrics.contains("tailor_snapshot_builds_total 1\n"),
        "{metrics}"
    );
    s.stop().await;
}

/// A catalog read again stays pending until a snapshot is trained from it: a build that fails
/// (storage down) leaves it for the next scheduled check, and one that succeeds clears it.
#[test]
fn a_catalog_read_again_stays_pending_until_a_build_from_it_succeeds() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("catalog.json");
    std::fs::write(&path, CATALOG).unwrap();
    let stamp = tailor_server::file_stamp(&path);
    let catalog = || Catalog::parse(CATALOG).ok().unwrap();
    let (dist, www) = (dir.path().join("dist"), dir.path().join("www"));
    let down = AppState::new("demo".into(), catalog(), Down, dist.clone(), www.clone())
        .watch_catalog(path.clone(), stamp);
    assert_eq!(down.reload_catalog(), Ok(false), "unchanged");
    assert!(!down.untrained());
    let fewer = CATALOG.replacen("\"version\": 5", "\"version\": 6", 1);
    assert_ne!(fewer, CATALOG);
    std::fs::write(&path, &fewer).unwrap();
    assert_eq!(down.reload_catalog(), Ok(true));
    assert_eq!(down.catalog().version, 6);
    assert!(down.untrained());
    assert!(down.rebuild_if_changed().is_err());
    assert!(down.untrained(), "still pending after a failed build");
    // A file that cannot be used is named once, and the catalog read before stays.
    std::fs::write(&path, "{ not json").unwrap();
    let err = down.reload_catalog().unwrap_err();
    assert!(err.contains("catalog.json"), "{err}");
    assert_eq!(down.reload_catalog(), Ok(false), "once per change");
    assert_eq!(down.catalog().version, 6);

    let store = Store::open(&dir.path().join("events.db")).unwrap();
    let up =
        AppState::new("demo".into(), catalog(), store, dist, www).watch_catalog(path.clone(), None);
    std::fs::write(&path, &fewer).unwrap();
    assert_eq!(up.reload_catalog(), Ok(true), "a file not read before");
    assert!(up.untrained());
    assert!(up.rebuild_if_changed().unwrap().is_some());
    assert!(!up.untrained());
}

/// A forget that deleted as many events as arrived since the latest build still makes the
/// scheduled check train: the count of events alone would say nothing changed, and the served
/// snapshot would keep the forgotten shopper's sessions.
#[test]
fn a_forget_makes_the_scheduled_check_train_even_when_the_count_of_events_is_unchanged() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("events.db");
    let view = |id: &str, shopper: &str, item: u64| {
        let mut e = event(id, item);
        e["shopper"] = shopper.into();
        tailor_server::ingest::validate_event(&e, 1_700_000_000_000).unwrap()
    };
    let writer = Store::open(&path).unwrap();
    writer
        .insert_events(
            "demo",
            &[
                view("a1", "forgotten", 101),
                view("a2", "forgotten", 102),
                view("b1", "stays", 101),
            ],
            0,
        )
        .unwrap();
    let catalog = Catalog::parse(CATALOG).ok().unwrap();
    let state = AppState::new(
        "demo".into(),
        catalog,
        Store::open(&path).unwrap(),
        dir.path().join("dist"),
        dir.path().join("www"),
    );
    assert_eq!(
        state.scheduled_rebuild(true).unwrap().map(|b| b.events),
        Some(3)
    );
    assert!(
        state.scheduled_rebuild(false).unwrap().is_none(),
        "nothing changed"
    );
    // Two events go, two others come: the same count.
    assert_eq!(state.forget("forgotten", None).unwrap(), (2, 0));
    writer
        .insert_events("demo", &[view("c1", "new", 102), view("c2", "new", 103)], 0)
        .unwrap();
    let built = state.scheduled_rebuild(false).unwrap();
    assert_eq!(built.map(|b| b.events), Some(3), "trained after the forget");
    assert!(
        state.scheduled_rebuild(false).unwrap().is_none(),
        "and only once"
    );
}
