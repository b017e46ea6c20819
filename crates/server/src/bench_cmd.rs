//! `tailor bench`: server benchmarks on this machine, over real HTTP on 127.0.0.1 against a
//! real SQLite file in a temporary folder.
//!
//! - ingest: concurrent clients post 50-event batches with keep-alive as fast as answers come
//!   back (throughput), then again at half that rate (latency p50/p99);
//! - build: a snapshot trained from 1,000,000 stored events over 50,000 items.

use crate::catalog::{Catalog, Product};
use crate::store::{Store, StoredEvent};
use crate::{app, AppState};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};

fn catalog(n: u64) -> Catalog {
    Catalog {
        version: 1,
        source: None,
        products: (0..n)
            .map(|i| Product {
                id: 1_000_000 + i,
                handle: format!("p{i}"),
                title: format!("Product {i}"),
                category: format!("C{}", i % 50),
                price: 1.0 + (i % 100) as f64,
                popularity: (i % 97) as f64,
                sku: None,
                vendor: None,
                tags: vec![],
                image: None,
                available: true,
            })
            .collect(),
    }
}

/// One keep-alive HTTP/1.1 connection that posts batches.
struct Conn {
    reader: BufReader<tokio::net::tcp::OwnedReadHalf>,
    writer: tokio::net::tcp::OwnedWriteHalf,
}

impl Conn {
    async fn open(addr: &str) -> std::io::Result<Conn> {
        let s = tokio::net::TcpStream::connect(addr).await?;
        s.set_nodelay(true)?;
        let (r, w) = s.into_split();
        Ok(Conn {
            reader: BufReader::new(r),
            writer: w,
        })
    }

    /// POST `body`; the response status.
    async fn post(&mut self, body: &str) -> std::io::Result<u16> {
        let head = format!(
            "POST /v1/events HTTP/1.1\r\nHost: bench\r\nContent-Type: text/plain\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        self.writer.write_all(head.as_bytes()).await?;
        self.writer.write_all(body.as_bytes()).await?;
        let mut line = String::new();
        self.reader.read_line(&mut line).await?;
        let status = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        let mut len = 0usize;
        loop {
            line.clear();
            self.reader.read_line(&mut line).await?;
            if line == "\r\n" || line.is_empty() {
                break;
            }
            if let Some(v) = line.to_ascii_lowercase().strip_prefix("content-length:") {
                len = v.trim().parse().unwrap_or(0);
            }
        }
        let mut buf = vec![0u8; len];
        self.reader.read_exact(&mut buf).await?;
        Ok(status)
    }
}

fn batch(client: usize, seq: u64, size: usize) -> String {
    let events: Vec<String> = (0..size as u64)
        .map(|k| {
            let n = seq * size as u64 + k;
            format!(
                r#"{{"id":"{:08x}-0000-4000-8000-{:012x}","type":"product_view","item":{},"shopper":"s{client}","session":"c{client}-{}","ts":{}}}"#,
                client,
                n,
                1_000_000 + (n * 7919) % 5000,
                seq / 10,
                1_764_000_000_000u64 + n
            )
        })
        .collect();
    format!(r#"{{"site":"bench","events":[{}]}}"#, events.join(","))
}

/// Results of one ingest run.
pub struct IngestRun {
    /// Events stored per second.
    pub events_per_sec: f64,
    /// Median batch latency (ms).
    pub p50_ms: f64,
    /// 99th percentile batch latency (ms).
    pub p99_ms: f64,
    /// Batches answered other than 200.
    pub errors: u64,
}

async fn drive(
    addr: &str,
    clients: usize,
    seconds: f64,
    rate: Option<f64>,
    offset: u64,
) -> IngestRun {
    let deadline = Instant::now() + Duration::from_secs_f64(seconds);
    let mut tasks = Vec::new();
    for c in 0..clients {
        let addr = addr.to_owned();
        tasks.push(tokio::spawn(async move {
            let mut conn = Conn::open(&addr).await.expect("connect");
            let mut lat = Vec::new();
            let mut errors = 0u64;
            let mut seq = offset;
            // At a fixed rate, each client sends on its own schedule.
            let interval = rate.map(|r| Duration::from_secs_f64(clients as f64 / r));
            let start = Instant::now();
            while Instant::now() < deadline {
                if let Some(iv) = interval {
                    let due = start + iv * (seq - offset) as u32;
                    let now = Instant::now();
                    if due > now {
                        tokio::time::sleep(due - now).await;
                    }
                }
                let body = batch(c, seq, 50);
                let t0 = Instant::now();
                match conn.post(&body).await {
                    Ok(200) => lat.push(t0.elapsed().as_secs_f64() * 1000.0),
                    _ => errors += 1,
                }
                seq += 1;
            }
            (lat, errors)
        }));
    }
    let t0 = Instant::now();
    let mut lat = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.expect("client");
        lat.extend(l);
        errors += e;
    }
    let elapsed = t0.elapsed().as_secs_f64().max(seconds);
    lat.sort_by(|a, b| a.total_cmp(b));
    let pct = |p: f64| {
        lat.get(((lat.len() as f64 - 1.0) * p).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    IngestRun {
        events_per_sec: lat.len() as f64 * 50.0 / elapsed,
        p50_ms: pct(0.5),
        p99_ms: pct(0.99),
        errors,
    }
}

/// Run the ingest benchmark: full speed, then half that rate.
pub fn ingest(clients: usize, seconds: f64) -> Result<(IngestRun, IngestRun), String> {
    let dir = tempfile_dir()?;
    // The store and the accept loop `tailor serve` uses.
    let (store, failed) = crate::store::ReopeningStore::new(&dir.join("bench.db"));
    if let Some(e) = failed {
        return Err(e.to_string());
    }
    let mut state = AppState::new(
        "bench".into(),
        catalog(5000),
        store,
        dir.clone(),
        dir.clone(),
    );
    state.limits.rate_per_sec = f64::INFINITY;
    state.bucket = crate::limits::Bucket::new(1e12, 1e12);
    let rt = tokio::runtime::Runtime::new().map_err(|e| e.to_string())?;
    let result = rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let addr = listener
            .local_addr()
            .map_err(|e| e.to_string())?
            .to_string();
        let server = tokio::spawn(async move {
            let header_timeout = state.timeouts.header;
            let _ = crate::net::serve(
                listener,
                app(Arc::new(state)),
                header_timeout,
                std::future::pending(),
            )
            .await;
        });
        eprintln!("tailor bench: ingest at full speed, {clients} clients, {seconds} s");
        let full = drive(&addr, clients, seconds, None, 0).await;
        eprintln!(
            "tailor bench: ingest at half that rate ({:.0} events/s)",
            full.events_per_sec / 2.0
        );
        let half = drive(
            &addr,
            clients,
            seconds,
            Some(full.events_per_sec / 2.0 / 50.0),
            1 << 32,
        )
        .await;
        server.abort();
        Ok::<_, String>((full, half))
    });
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// Run the snapshot-build benchmark: `events` product views over `items` items.
pub fn build(events: u64, items: u64) -> Result<(f64, crate::snapshot::Built), String> {
    let dir = tempfile_dir()?;
    let store = Store::open(&dir.join("bench.db")).map_err(|e| e.to_string())?;
    let cat = catalog(items);
    eprintln!("tailor bench: storing {events} events over {items} items");
    let mut rng = 0x2545_F491_4F6C_DD1Du64;
    let mut next = move || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let per_session = 8u64;
    let mut n = 0u64;
    while n < events {
        let rows: Vec<StoredEvent> = (0..100_000.min(events - n))
            .map(|k| {
                let i = n + k;
                let session = i / per_session;
                // Sessions browse within one category, with a popular head.
                let cat_ix = (session * 31) % 50;
                let r = next() % 1000;
                let rank = (r * r / 1000) % (items / 50);
                let item = 1_000_000 + (rank * 50 + cat_ix) % items;
                StoredEvent {
                    id: format!("{:016x}{:016x}", i, next()),
                    kind: "product_view".into(),
                    item: Some(item),
                    shopper: format!("s{}", session / 3),
                    session: format!("x{session}"),
                    ts: 1_764_000_000_000 + i as i64 * 1000,
                    payload: "{}".into(),
                    bot: false,
                }
            })
            .collect();
        store
            .insert_events("bench", &rows, 0)
            .map_err(|e| e.to_string())?;
        n += rows.len() as u64;
    }
    eprintln!("tailor bench: training the snapshot");
    let t0 = Instant::now();
    let built = crate::snapshot::rebuild(&store, &cat, &Default::default(), "bench", 2)
        .map_err(|e| e.to_string())?;
    let secs = t0.elapsed().as_secs_f64();
    let _ = std::fs::remove_dir_all(&dir);
    Ok((secs, built))
}

fn tempfile_dir() -> Result<std::path::PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("tailor-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    Ok(dir)
}
