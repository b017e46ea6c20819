//! The sync server over real HTTP on 127.0.0.1, against real SQLite files in temp folders.

use std::path::Path;
use std::sync::Arc;
use tailor_core::snapshot::Snapshot;
use tailor_server::catalog::Catalog;
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
        let state = Arc::new(AppState {
            site: "demo".to_owned(),
            catalog: Catalog::parse(CATALOG).ok().unwrap(),
            store: Store::open(&dir.join("events.db")).unwrap(),
            dist: dir.join("dist"),
            www: dir.join("www"),
            keep_versions: 3,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(async move {
            axum::serve(listener, app(state))
                .with_graceful_shutdown(async {
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
    tailor_server::snapshot::rebuild(&store, &catalog, "demo", 3)
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
    assert_eq!(res.headers()["etag"], "\"1\"");
    assert_eq!(res.headers()["cache-control"], "no-cache");
    let pointer: serde_json::Value = res.json().await.unwrap();
    assert_eq!(pointer["version"], 1);
    assert_eq!(pointer["url"], "/v1/snapshot/demo/1");

    // Revalidation.
    let res = client
        .get(s.url("/v1/snapshot/demo"))
        .header("if-none-match", "\"1\"")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 304);

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
    let gz = client
        .get(s.url("/v1/snapshot/demo/1"))
        .header("accept-encoding", "gzip, br;q=0")
        .send()
        .await
        .unwrap();
    assert_eq!(gz.headers()["content-encoding"], "gzip");

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
    for path in [
        "/tailor_bg.wasm",
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
    // The storefront's own pages are not opened to other origins.
    let res = client.get(s.url("/collection.html")).send().await.unwrap();
    assert!(res.headers().get("access-control-allow-origin").is_none());
    s.stop().await;
}
