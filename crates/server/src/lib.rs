//! # tailor-server
//!
//! The sync server behind Tailor: it stores events from shoppers' browsers in embedded SQLite,
//! builds the store's snapshot from the catalog and those events with `tailor-core`, and serves
//! the snapshot, the browser engine (`/tailor.js`, `/tailor.worker.js`, `/tailor_bg.wasm`) and the
//! demo storefront.
//!
//! Routes:
//! - `POST /v1/events`: a batch of events (`application/json` or `text/plain`, so
//!   `navigator.sendBeacon` needs no CORS preflight);
//! - `GET /v1/snapshot/{site}`: the site's current snapshot (`docs/snapshot-format.md`);
//! - `GET /admin`, `GET /v1/admin/{site}/report`, `GET /v1/admin/{site}/profiles`: the
//!   merchant's dashboard, report and customer export, behind the admin token;
//! - `GET /*`: the engine from the build folder, then the storefront folder.

#![warn(missing_docs)]

pub mod admin;
pub mod bench_cmd;
pub mod cadence_cmd;
pub mod catalog;
pub mod compress;
pub mod config;
pub mod dashboard;
pub mod eval_cmd;
pub mod import;
pub mod ingest;
/// `println!` for a command's results: a reader that has gone away (`tailor eval | head`) ends
/// the command quietly, as a closed pipe ends other command-line tools, instead of a panic; any
/// other failure to write is reported, with exit code 1.
#[macro_export]
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(e) = writeln!(std::io::stdout(), $($arg)*) {
            if e.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            eprintln!("tailor: error: cannot write the output: {e}");
            std::process::exit(1);
        }
    }};
}

pub mod limits;
pub mod net;
pub mod report_cmd;
pub mod snapshot;
pub mod static_files;
pub mod store;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Request, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use catalog::Catalog;
use serde_json::json;
use std::path::PathBuf;
use std::sync::Arc;

/// A file's size and modification time, to notice that it changed (None: it cannot be read).
pub type Stamp = Option<(u64, std::time::SystemTime)>;

/// `path`'s [`Stamp`].
pub fn file_stamp(path: &std::path::Path) -> Stamp {
    let m = std::fs::metadata(path).ok()?;
    Some((m.len(), m.modified().ok()?))
}

/// Largest accepted event batch, in bytes.
pub const MAX_BATCH_BYTES: usize = 256 * 1024;

/// Everything a running server needs.
pub struct AppState {
    /// The one site this server hosts (multi-site configuration comes with `tailor.toml`).
    pub site: String,
    /// The site's catalog (`catalog()`), read again from its file when that changes
    /// (`reload_catalog`).
    catalog: std::sync::RwLock<Arc<Catalog>>,
    /// The catalog's file, and its size and modification time when it was last read.
    catalog_file: std::sync::Mutex<Option<(PathBuf, Stamp)>>,
    /// A change no snapshot has been trained from yet: a catalog read again, or a forget that
    /// deleted events (the count of events alone cannot tell, when as many new ones arrived).
    untrained: std::sync::atomic::AtomicBool,
    /// Durable event storage.
    pub store: Arc<dyn store::EventStore>,
    /// The group committer that writes event batches.
    pub committer: Committer,
    /// Folder with the built engine (`tailor.js`, `tailor.worker.js`, `tailor_bg.wasm`); served
    /// first.
    pub dist: PathBuf,
    /// Folder with the storefront pages.
    pub www: PathBuf,
    /// Snapshot versions kept per site.
    pub keep_versions: usize,
    /// Overload protection settings.
    pub limits: limits::Limits,
    /// The site's rate limit.
    pub bucket: limits::Bucket,
    /// Deletion requests' own rate limit (`limits::forget_bucket`): a flood of them neither
    /// holds the store's writer nor starves event batches.
    pub forget_bucket: limits::Bucket,
    /// Requests in flight.
    pub in_flight: Arc<tokio::sync::Semaphore>,
    /// Counters for `/metrics`.
    pub metrics: limits::Metrics,
    /// Public write key event batches must carry (empty = none).
    pub write_key: String,
    /// The store's configuration, shipped in the snapshot.
    pub store_config: tailor_core::config::StoreConfig,
    /// Theme selectors for the generic adapter, shipped with the snapshot pointer.
    pub adapter: config::AdapterConfig,
    /// Slow-client protection.
    pub timeouts: net::Timeouts,
    /// The admin token of `/admin` and `/v1/admin/...` (empty = those pages are off).
    pub admin_token: String,
    /// Held while a snapshot is trained: one build at a time.
    building: std::sync::Mutex<()>,
}

impl AppState {
    /// A server for one site with default limits.
    pub fn new(
        site: String,
        catalog: Catalog,
        store: impl store::EventStore,
        dist: PathBuf,
        www: PathBuf,
    ) -> AppState {
        AppState::with_limits(site, catalog, store, dist, www, limits::Limits::default())
    }

    /// A server for one site with `limits`.
    pub fn with_limits(
        site: String,
        catalog: Catalog,
        store: impl store::EventStore,
        dist: PathBuf,
        www: PathBuf,
        mut limits: limits::Limits,
    ) -> AppState {
        // Written as browsers send an origin (an entry that is not one stays as it is, and so
        // matches nothing: it never widens the list).
        for o in &mut limits.allowed_origins {
            if let Ok(n) = limits::normalize_origin(o) {
                *o = n;
            }
        }
        let store: Arc<dyn store::EventStore> = Arc::new(store);
        AppState {
            committer: Committer::start(store.clone()),
            site,
            catalog: std::sync::RwLock::new(Arc::new(catalog)),
            catalog_file: std::sync::Mutex::new(None),
            untrained: Default::default(),
            store,
            dist,
            www,
            keep_versions: 5,
            bucket: limits::Bucket::new(limits.rate_per_sec, limits.rate_burst),
            forget_bucket: limits::forget_bucket(&limits),
            in_flight: Arc::new(tokio::sync::Semaphore::new(limits.max_in_flight.max(1))),
            limits,
            metrics: limits::Metrics::default(),
            write_key: String::new(),
            store_config: Default::default(),
            adapter: Default::default(),
            timeouts: net::Timeouts::default(),
            admin_token: String::new(),
            building: std::sync::Mutex::new(()),
        }
    }

    /// The site's catalog as it stands.
    pub fn catalog(&self) -> Arc<Catalog> {
        self.catalog
            .read()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    /// Read the catalog from `path` again whenever it changes (`reload_catalog`): the file
    /// the server loaded at start, which `tailor import-catalog` replaces. `stamp` is the
    /// file's [`file_stamp`] from before it was loaded, so that a change made meanwhile is
    /// read too.
    pub fn watch_catalog(self, path: PathBuf, stamp: Stamp) -> AppState {
        *self.catalog_file.lock().unwrap_or_else(|p| p.into_inner()) = Some((path, stamp));
        self
    }

    /// Whether a catalog was read again, or a forget deleted events, and no snapshot has been
    /// trained since (a build that failed leaves it so, for the next scheduled check).
    pub fn untrained(&self) -> bool {
        self.untrained.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// When the watched catalog file changed since it was last read, read it again: `Ok(true)`
    /// when the new catalog replaced the old one, `Ok(false)` when nothing changed (or no file
    /// is watched), and an error naming the file and what is wrong with it, once per change,
    /// when it cannot be used (the catalog in use stays).
    pub fn reload_catalog(&self) -> Result<bool, String> {
        let mut file = self.catalog_file.lock().unwrap_or_else(|p| p.into_inner());
        let Some((path, seen)) = file.as_mut() else {
            return Ok(false);
        };
        let stamp = file_stamp(path);
        if stamp == *seen {
            return Ok(false);
        }
        *seen = stamp;
        let catalog = Catalog::load(path).map_err(|e| e.to_string())?;
        *self.catalog.write().unwrap_or_else(|p| p.into_inner()) = Arc::new(catalog);
        self.untrained
            .store(true, std::sync::atomic::Ordering::SeqCst);
        Ok(true)
    }

    /// Train and store a new snapshot version (blocking), counting it in the metrics. Builds
    /// run one at a time.
    pub fn rebuild(&self) -> Result<snapshot::Built, store::StorageError> {
        let _one = self.building.lock().unwrap_or_else(|p| p.into_inner());
        self.build(false)?
            .ok_or_else(|| store::StorageError("a build to store was skipped".into()))
    }

    /// As [`AppState::rebuild`], but stores nothing when the snapshot trained is the latest one
    /// byte for byte (`None`).
    pub fn rebuild_if_changed(&self) -> Result<Option<snapshot::Built>, store::StorageError> {
        let _one = self.building.lock().unwrap_or_else(|p| p.into_inner());
        self.build(true)
    }

    /// Delete a shopper's events and a customer's stored profile (`POST /v1/forget`); how many
    /// events and profiles went. The next scheduled check trains without them.
    pub fn forget(
        &self,
        shopper: &str,
        customer: Option<&str>,
    ) -> Result<(u64, u64), store::StorageError> {
        let done = self.store.forget(&self.site, shopper, customer)?;
        if done.0 > 0 {
            self.untrained
                .store(true, std::sync::atomic::Ordering::SeqCst);
        }
        Ok(done)
    }

    /// The scheduled check (`tailor serve --rebuild-every`): read the catalog file again if it
    /// changed, then train a new snapshot when events arrived or were forgotten since the latest
    /// one (`untrained`). `since_start` (the first check) also trains when nothing changed. A
    /// build for anything but new events stores a version only if its bytes differ.
    pub fn scheduled_rebuild(
        &self,
        since_start: bool,
    ) -> Result<Option<snapshot::Built>, store::StorageError> {
        match self.reload_catalog() {
            Ok(true) => {
                let c = self.catalog();
                tracing::info!(
                    version = c.version,
                    products = c.products.len(),
                    "read the changed catalog"
                );
            }
            Ok(false) => {}
            Err(e) => {
                tracing::error!(error = %e, "the changed catalog cannot be used; the one read before stays")
            }
        }
        let events = self.store.event_count(&self.site)?;
        let trained = self
            .store
            .latest_snapshot(&self.site)?
            .map_or(0, |s| s.events);
        // (A change stays untrained until a build from it has stored or matched.)
        if events == trained {
            return if since_start || self.untrained() {
                self.rebuild_if_changed()
            } else {
                Ok(None)
            };
        }
        self.rebuild().map(Some)
    }

    /// The site's latest snapshot, built first when there is none. Requests that find none at
    /// the same time (a new site's first shoppers) wait for one build and share it, instead of
    /// each training its own and pruning the versions the others were just given.
    pub fn latest_or_build(&self) -> Result<store::StoredSnapshot, store::StorageError> {
        if let Some(s) = self.store.latest_snapshot(&self.site)? {
            return Ok(s);
        }
        let _one = self.building.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(s) = self.store.latest_snapshot(&self.site)? {
            return Ok(s);
        }
        self.build(false)?;
        self.store
            .latest_snapshot(&self.site)?
            .ok_or_else(|| store::StorageError("a snapshot was just stored, and is gone".into()))
    }

    /// One build, counted in the metrics when it stored a version (the caller holds
    /// `building`).
    fn build(&self, only_if_changed: bool) -> Result<Option<snapshot::Built>, store::StorageError> {
        use std::sync::atomic::Ordering::{Relaxed, SeqCst};
        let pending = self.untrained.swap(false, SeqCst);
        let b = snapshot::rebuild_when(
            self.store.as_ref(),
            &self.catalog(),
            &self.store_config,
            &self.site,
            self.keep_versions,
            only_if_changed,
        )
        .inspect_err(|_| {
            if pending {
                self.untrained.store(true, SeqCst);
            }
        })?;
        if let Some(b) = &b {
            self.metrics.snapshot_builds.fetch_add(1, Relaxed);
            self.metrics.snapshot_bytes.store(b.bytes as u64, Relaxed);
            self.metrics
                .snapshot_build_micros
                .store((b.seconds * 1e6) as u64, Relaxed);
        }
        Ok(b)
    }
}

/// One batch waiting for the committer.
struct Job {
    site: String,
    events: Vec<store::StoredEvent>,
    received_at: i64,
    reply: tokio::sync::oneshot::Sender<Result<store::InsertOutcome, String>>,
}

/// Group commit: a writer thread takes every batch that is waiting and stores them in one
/// transaction, so concurrent clients share one disk sync. Each request is answered only
/// after the transaction holding its batch has committed.
pub struct Committer {
    queue: std::sync::Mutex<std::sync::mpsc::Sender<Job>>,
}

/// Most batches written in one transaction.
const GROUP_MAX: usize = 64;

impl Committer {
    fn start(store: Arc<dyn store::EventStore>) -> Committer {
        let (tx, rx) = std::sync::mpsc::channel::<Job>();
        std::thread::Builder::new()
            .name("tailor-committer".into())
            .spawn(move || {
                // Ends when every sender is gone (the server state was dropped).
                while let Ok(first) = rx.recv() {
                    let mut jobs = vec![first];
                    while jobs.len() < GROUP_MAX {
                        match rx.try_recv() {
                            Ok(job) => jobs.push(job),
                            Err(_) => break,
                        }
                    }
                    let received_at = jobs.iter().map(|j| j.received_at).max().unwrap_or(0);
                    let batches: Vec<(&str, &[store::StoredEvent])> = jobs
                        .iter()
                        .map(|j| (j.site.as_str(), j.events.as_slice()))
                        .collect();
                    match store.insert_batches(&batches, received_at) {
                        Ok(outcomes) => {
                            for (job, outcome) in jobs.into_iter().zip(outcomes) {
                                let _ = job.reply.send(Ok(outcome));
                            }
                        }
                        Err(e) => {
                            for job in jobs {
                                let _ = job.reply.send(Err(e.to_string()));
                            }
                        }
                    }
                }
            })
            .expect("cannot start the committer thread");
        Committer {
            queue: std::sync::Mutex::new(tx),
        }
    }

    /// Store `events` for `site`; resolves after the durable commit.
    pub async fn store(
        &self,
        site: &str,
        events: Vec<store::StoredEvent>,
        received_at: i64,
    ) -> Result<store::InsertOutcome, String> {
        let (reply, answer) = tokio::sync::oneshot::channel();
        let job = Job {
            site: site.to_owned(),
            events,
            received_at,
            reply,
        };
        let sent = self
            .queue
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .send(job)
            .is_ok();
        if !sent {
            return Err("the event writer has stopped".into());
        }
        answer
            .await
            .unwrap_or_else(|_| Err("the event writer has stopped".into()))
    }
}

/// The HTTP application.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/events", post(post_events).options(events_preflight))
        .route("/v1/snapshot/{site}", get(get_snapshot))
        .route("/v1/snapshot/{site}/{version}", get(get_snapshot_version))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.json", get(openapi))
        .route("/v1/forget", post(post_forget))
        .route(
            "/v1/profiles/{site}/{customer}",
            get(get_profile).post(put_profile),
        )
        .route("/admin", get(admin::page))
        .route("/v1/admin/{site}/report", get(admin::report))
        .route("/v1/admin/{site}/profiles", get(admin::profiles))
        .fallback(static_files::serve)
        .layer(DefaultBodyLimit::max(MAX_BATCH_BYTES))
        .layer(middleware::from_fn(cross_origin))
        .layer(middleware::from_fn_with_state(state.clone(), shed_load))
        .layer(middleware::from_fn(net::log_request))
        .with_state(state)
}

/// Beyond `max_in_flight` requests, answer 503 at once instead of queueing.
async fn shed_load(State(state): State<Arc<AppState>>, req: Request, next: Next) -> Response {
    let Ok(_permit) = state.in_flight.clone().try_acquire_owned() else {
        state
            .metrics
            .requests_shed
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut res = error(
            StatusCode::SERVICE_UNAVAILABLE,
            "OVERLOADED",
            "the server is at capacity; retry shortly".to_owned(),
        );
        res.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
        return res;
    };
    next.run(req).await
}

/// The OpenAPI document of this server (`docs/openapi.json`).
pub const OPENAPI: &str = include_str!("../../../docs/openapi.json");

async fn openapi() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI).into_response()
}

async fn metrics(State(state): State<Arc<AppState>>) -> Response {
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        state.metrics.render(),
    )
        .into_response()
}

/// Whether `path` is public to any origin: the API and the engine files are fetched by stores
/// on other origins (the merchant's pages load them from this server). That includes the
/// versioned script-tag files: a tag with `integrity` and `crossorigin` is a CORS request.
fn is_cross_origin_path(path: &str) -> bool {
    let versioned = path.strip_prefix("/tailor-").is_some_and(|rest| {
        !rest.contains('/') && (rest.ends_with(".js") || rest.ends_with("_bg.wasm"))
    });
    path.starts_with("/v1/")
        || matches!(path, "/tailor.js" | "/tailor.worker.js" | "/tailor_bg.wasm")
        || versioned
}

async fn cross_origin(req: Request, next: Next) -> Response {
    let public = is_cross_origin_path(req.uri().path());
    let mut res = next.run(req).await;
    if public {
        res.headers_mut().insert(
            header::ACCESS_CONTROL_ALLOW_ORIGIN,
            HeaderValue::from_static("*"),
        );
    }
    res
}

/// CORS preflight for `application/json` batches sent with `fetch` from a store's origin.
/// (`sendBeacon` and `text/plain` bodies need none.)
async fn events_preflight() -> Response {
    (
        StatusCode::NO_CONTENT,
        [
            (header::ACCESS_CONTROL_ALLOW_METHODS, "POST"),
            (header::ACCESS_CONTROL_ALLOW_HEADERS, "content-type"),
            (header::ACCESS_CONTROL_MAX_AGE, "86400"),
        ],
    )
        .into_response()
}

/// The 404 `UNKNOWN_SITE` answer, unless `site` is the site this server hosts.
fn unknown_site(state: &AppState, site: &str) -> Option<Response> {
    (site != state.site).then(|| {
        error(
            StatusCode::NOT_FOUND,
            "UNKNOWN_SITE",
            format!("unknown site `{site}`"),
        )
    })
}

fn error(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

pub(crate) fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

async fn post_events(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let t0 = std::time::Instant::now();
    let (parts, body) = req.into_parts();
    let res = ingest_batch(&state, &parts.headers, body).await;
    state.metrics.observe(t0.elapsed().as_secs_f64() * 1000.0);
    res
}

/// The body of `POST /v1/forget`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ForgetRequest {
    site: String,
    shopper: String,
    #[serde(default)]
    customer: Option<String>,
}

/// Longest profile a browser may store on the server, in bytes.
pub const MAX_PROFILE_BYTES: usize = 64 * 1024;

/// A merchant's customer id hash: 16 to 128 letters, digits, `-` or `_` (an HMAC of the
/// customer id in hex or base64url, never the id itself).
fn valid_customer(c: &str) -> bool {
    (16..=128).contains(&c.len())
        && c.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn bad_customer() -> Response {
    error(
        StatusCode::BAD_REQUEST,
        "BAD_CUSTOMER",
        "`customer` must be 16-128 letters, digits, - or _ (an HMAC of the customer id)".into(),
    )
}

/// 429 with `Retry-After`: the site sent more `what` than its rate limit lets through, and one
/// more is let through in `wait` seconds.
fn rate_limited(wait: f64, what: &str, site: &str) -> Response {
    let secs = wait.ceil().clamp(1.0, 3600.0) as u64;
    let mut res = error(
        StatusCode::TOO_MANY_REQUESTS,
        "RATE_LIMITED",
        format!("too many {what} for site `{site}`; retry in {secs} s"),
    );
    res.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_str(&secs.to_string()).unwrap_or(HeaderValue::from_static("1")),
    );
    res
}

/// `POST /v1/forget`: delete a shopper's events, and a logged-in customer's stored profile.
/// The body is `{"site", "shopper", "customer"?}`, sent as text/plain like event batches.
/// Over its rate limit (`forget_bucket`) it answers 429, and the browser keeps the request
/// and sends it again from its next page.
async fn post_forget(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match read_body(body, &parts.headers, 4096, state.timeouts.body).await {
        Ok(b) => b,
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "MALFORMED_REQUEST",
                "the request body is missing, too slow or over 4096 bytes".into(),
            )
        }
    };
    let req: ForgetRequest = match serde_json::from_slice(&body) {
        Ok(r) => r,
        Err(e) => {
            return error(
                StatusCode::BAD_REQUEST,
                "MALFORMED_REQUEST",
                format!("malformed forget request: {e}"),
            )
        }
    };
    if let Some(res) = unknown_site(&state, &req.site) {
        return res;
    }
    if req.shopper.is_empty() || req.shopper.len() > tailor_core::events::MAX_ID_BYTES {
        return error(
            StatusCode::BAD_REQUEST,
            "MALFORMED_REQUEST",
            "`shopper` must be 1-64 bytes".into(),
        );
    }
    if req.customer.as_deref().is_some_and(|c| !valid_customer(c)) {
        return bad_customer();
    }
    // (Taken once the request is known to be well formed: malformed ones cost no token.)
    if let Err(wait) = state.forget_bucket.take() {
        state
            .metrics
            .requests_rate_limited
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        return rate_limited(wait, "deletion requests", &state.site);
    }
    let st = state.clone();
    let done =
        tokio::task::spawn_blocking(move || st.forget(&req.shopper, req.customer.as_deref())).await;
    match done {
        Ok(Ok((events, profiles))) => {
            tracing::info!(events, profiles, "forgot a shopper");
            Json(json!({ "events": events, "profiles": profiles })).into_response()
        }
        Ok(Err(e)) => storage_error(e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string()),
    }
}

/// `GET /v1/profiles/{site}/{customer}`: a logged-in customer's stored profile (the compact
/// text the browser engine keeps), to re-hydrate a device whose storage was wiped.
async fn get_profile(
    State(state): State<Arc<AppState>>,
    UrlPath((site, customer)): UrlPath<(String, String)>,
) -> Response {
    if let Some(res) = unknown_site(&state, &site) {
        return res;
    }
    if !valid_customer(&customer) {
        return bad_customer();
    }
    let st = state.clone();
    let found = tokio::task::spawn_blocking(move || st.store.profile(&st.site, &customer)).await;
    match found {
        Ok(Ok(Some(text))) => (
            [
                (header::CONTENT_TYPE, "text/plain; charset=utf-8"),
                (header::CACHE_CONTROL, "no-store"),
            ],
            text,
        )
            .into_response(),
        Ok(Ok(None)) => error(
            StatusCode::NOT_FOUND,
            "UNKNOWN_PROFILE",
            "no profile is stored for this customer".into(),
        ),
        Ok(Err(e)) => storage_error(e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string()),
    }
}

/// `POST /v1/profiles/{site}/{customer}`: keep a logged-in customer's profile (compact text,
/// sent as text/plain), joined with the one stored before (`Profile::merge`). It is checked
/// with the engine's own reader before it is stored.
async fn put_profile(
    State(state): State<Arc<AppState>>,
    UrlPath((site, customer)): UrlPath<(String, String)>,
    req: Request,
) -> Response {
    if let Some(res) = unknown_site(&state, &site) {
        return res;
    }
    if !valid_customer(&customer) {
        return bad_customer();
    }
    let (parts, body) = req.into_parts();
    let body = match read_body(body, &parts.headers, MAX_PROFILE_BYTES, state.timeouts.body).await {
        Ok(b) => b,
        Err(e) => {
            return body_error(
                e,
                "the profile",
                state.timeouts.body,
                (
                    "PROFILE_TOO_LARGE",
                    format!("a profile is at most {MAX_PROFILE_BYTES} bytes"),
                ),
            )
        }
    };
    let text = match std::str::from_utf8(&body) {
        Ok(t) => t.to_owned(),
        Err(_) => {
            return error(
                StatusCode::BAD_REQUEST,
                "BAD_PROFILE",
                "the profile is not UTF-8 text".into(),
            )
        }
    };
    if let Err(e) = tailor_core::profile::Profile::decode_compact(&text) {
        return error(
            StatusCode::BAD_REQUEST,
            "BAD_PROFILE",
            format!("not a profile: {e}"),
        );
    }
    let st = state.clone();
    let done = tokio::task::spawn_blocking(move || {
        st.store.put_profile(&st.site, &customer, &text, now_ms())
    })
    .await;
    match done {
        Ok(Ok(())) => StatusCode::NO_CONTENT.into_response(),
        Ok(Err(e)) => storage_error(e),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string()),
    }
}

/// Why a request body could not be read.
enum BodyError {
    TooLarge,
    TimedOut,
    Read(String),
}

/// The answer to a body that could not be read: `what` names it ("the event batch"), and
/// `too_large` is the code and message for one over its limit.
fn body_error(
    e: BodyError,
    what: &str,
    timeout: std::time::Duration,
    too_large: (&str, String),
) -> Response {
    match e {
        BodyError::TooLarge => error(StatusCode::PAYLOAD_TOO_LARGE, too_large.0, too_large.1),
        BodyError::TimedOut => error(
            StatusCode::REQUEST_TIMEOUT,
            "BODY_TIMEOUT",
            format!("{what} did not arrive within {} s", timeout.as_secs_f64()),
        ),
        BodyError::Read(e) => error(
            StatusCode::BAD_REQUEST,
            "BAD_BODY",
            format!("cannot read the request body: {e}"),
        ),
    }
}

/// Read at most `limit` bytes of `body` within `timeout`; a longer body is refused as soon as
/// it passes the limit, so the server never buffers much more than `limit`.
async fn read_body(
    body: axum::body::Body,
    headers: &HeaderMap,
    limit: usize,
    timeout: std::time::Duration,
) -> Result<Bytes, BodyError> {
    use http_body_util::BodyExt;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    if declared.is_some_and(|n| n > limit as u64) {
        return Err(BodyError::TooLarge);
    }
    let read = async move {
        let mut body = body;
        let mut buf = Vec::with_capacity(declared.unwrap_or(4096).min(limit as u64) as usize);
        while let Some(frame) = body.frame().await {
            let frame = frame.map_err(|e| BodyError::Read(e.to_string()))?;
            if let Ok(data) = frame.into_data() {
                if buf.len() + data.len() > limit {
                    return Err(BodyError::TooLarge);
                }
                buf.extend_from_slice(&data);
            }
        }
        Ok(Bytes::from(buf))
    };
    tokio::time::timeout(timeout, read)
        .await
        .unwrap_or(Err(BodyError::TimedOut))
}

async fn ingest_batch(
    state: &Arc<AppState>,
    headers: &HeaderMap,
    body: axum::body::Body,
) -> Response {
    use std::sync::atomic::Ordering::Relaxed;
    // A foreign origin's batch is accepted (so the page sees no error) but not stored.
    if let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) {
        // (Entries were checked and written as browsers send an origin when the server started;
        // `null`, from a sandboxed frame, matches none.)
        // (Nothing to compare, and no work per batch, without a list.)
        let allowed = &state.limits.allowed_origins;
        if !allowed.is_empty()
            && !allowed.contains(&limits::normalize_origin(origin).unwrap_or_default())
        {
            state.metrics.batches_foreign.fetch_add(1, Relaxed);
            return (
                StatusCode::ACCEPTED,
                [("x-tailor-dropped", "foreign-origin")],
                Json(json!({ "accepted": 0, "dropped": "foreign origin" })),
            )
                .into_response();
        }
    }
    if let Err(wait) = state.bucket.take() {
        state.metrics.requests_rate_limited.fetch_add(1, Relaxed);
        return rate_limited(wait, "event batches", &state.site);
    }
    let bot = headers
        .get(header::USER_AGENT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(ingest::is_bot);
    let body = match read_body(body, headers, MAX_BATCH_BYTES, state.timeouts.body).await {
        Ok(b) => b,
        Err(e) => {
            return body_error(
                e,
                "the event batch",
                state.timeouts.body,
                (
                    "BATCH_TOO_LARGE",
                    format!(
                        "event batch is larger than {MAX_BATCH_BYTES} bytes; send smaller batches"
                    ),
                ),
            )
        }
    };
    let encoding = headers
        .get(header::CONTENT_ENCODING)
        .map(|v| v.to_str().unwrap_or("?").trim().to_ascii_lowercase());
    let gzipped = encoding.as_deref() == Some("gzip");
    if let Some(other) = encoding.filter(|e| !e.is_empty() && e != "gzip" && e != "identity") {
        return error(
            StatusCode::BAD_REQUEST,
            "MALFORMED_BATCH",
            format!("malformed event batch: Content-Encoding `{other}` is not supported; send the batch as it is, or gzip"),
        );
    }
    let body = if gzipped {
        // Measured after decompression: read at most one byte past the limit.
        use std::io::Read;
        let mut out = Vec::new();
        let mut dec = flate2::read::GzDecoder::new(&body[..]).take(MAX_BATCH_BYTES as u64 + 1);
        if let Err(e) = dec.read_to_end(&mut out) {
            return error(
                StatusCode::BAD_REQUEST,
                "MALFORMED_BATCH",
                format!("malformed event batch: gzip body does not decompress: {e}"),
            );
        }
        if out.len() > MAX_BATCH_BYTES {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "BATCH_TOO_LARGE",
                format!("event batch is larger than {MAX_BATCH_BYTES} bytes once decompressed; send smaller batches"),
            );
        }
        Bytes::from(out)
    } else {
        body
    };
    let batch = match ingest::parse_batch(&body) {
        Ok(b) => b,
        Err(msg) => return error(StatusCode::BAD_REQUEST, "MALFORMED_BATCH", msg),
    };
    if let Some(res) = unknown_site(state, &batch.site) {
        return res;
    }
    if !state.write_key.is_empty() && batch.key.as_deref() != Some(state.write_key.as_str()) {
        let why = if batch.key.is_none() {
            "the batch has no write key (`key`)"
        } else {
            "the batch's write key is not this site's"
        };
        return error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", why.to_owned());
    }
    let reported: u64 = batch
        .dropped
        .values()
        .fold(0u64, |sum, n| sum.saturating_add(*n));
    state
        .metrics
        .device_dropped
        .fetch_add(reported.min(1_000_000), Relaxed);
    let mut good = Vec::with_capacity(batch.events.len());
    let mut rejected = Vec::new();
    let received = now_ms();
    for (index, raw) in batch.events.iter().enumerate() {
        match ingest::validate_event(raw, received) {
            Ok(mut e) => {
                e.bot = bot;
                good.push(e)
            }
            Err(reason) => rejected.push(json!({ "index": index, "error": reason })),
        }
    }
    state
        .metrics
        .events_rejected
        .fetch_add(rejected.len() as u64, Relaxed);
    let outcome = state.committer.store(&state.site, good, now_ms()).await;
    match outcome {
        Ok(o) => {
            state
                .metrics
                .events_accepted
                .fetch_add(o.inserted as u64, Relaxed);
            state
                .metrics
                .events_duplicate
                .fetch_add(o.duplicates as u64, Relaxed);
            Json(json!({
                "accepted": o.inserted,
                "duplicates": o.duplicates,
                "forgotten": o.forgotten,
                "rejected": rejected,
                "bot": bot,
            }))
            .into_response()
        }
        Err(e) => storage_error(format!("events not stored: {e}")),
    }
}

/// Liveness: the process answers.
async fn health() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// Readiness: storage answers a query (a cheap one: probes come every few seconds, also while
/// a snapshot build reads every event).
async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let st = state.clone();
    match tokio::task::spawn_blocking(move || st.store.ping()).await {
        Ok(Ok(_)) => Json(json!({ "status": "ready" })).into_response(),
        Ok(Err(e)) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "STORAGE_UNAVAILABLE",
            format!("storage is not reachable: {e}"),
        ),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string()),
    }
}

/// 503 `STORAGE_UNAVAILABLE` with `Retry-After`: nothing was stored.
fn storage_error(e: impl std::fmt::Display) -> Response {
    let mut res = error(
        StatusCode::SERVICE_UNAVAILABLE,
        "STORAGE_UNAVAILABLE",
        e.to_string(),
    );
    res.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
    res
}

/// `GET /v1/snapshot/{site}`: where the current snapshot is. Answers
/// `{"site", "version", "url", "bytes"}` with `ETag` (and 304 for a matching
/// `If-None-Match`); the bytes themselves are at the immutable `url`. The first request of a
/// site without any snapshot builds one.
async fn get_snapshot(
    State(state): State<Arc<AppState>>,
    UrlPath(site): UrlPath<String>,
    headers: HeaderMap,
) -> Response {
    if let Some(res) = unknown_site(&state, &site) {
        return res;
    }
    let st = state.clone();
    let latest = tokio::task::spawn_blocking(move || st.latest_or_build()).await;
    let latest = match latest {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return storage_error(format!("snapshot storage: {e}")),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string()),
    };
    // The adapter selectors travel with the pointer, so a change to them is a new ETag. The
    // version is named with its build time (`tag`): a database started over counts from 1
    // again, and its version 1 must not match what browsers and CDNs cached of the old one.
    let adapter = &state.adapter;
    let tag = snapshot_tag(&latest);
    let etag = if adapter.is_set() {
        let text = format!(
            "{}\n{}\n{}",
            adapter.grid, adapter.card, adapter.id_attribute
        );
        format!(
            "\"{tag}-{:08x}\"",
            tailor_core::checksum::crc32(text.as_bytes())
        )
    } else {
        format!("\"{tag}\"")
    };
    let headers_out = [
        (header::ETAG, etag.clone()),
        (header::CACHE_CONTROL, "no-cache".to_owned()),
    ];
    let matches = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    if matches {
        return (StatusCode::NOT_MODIFIED, headers_out).into_response();
    }
    (
        headers_out,
        Json(json!({
            "site": site,
            "version": latest.version,
            "url": format!("/v1/snapshot/{site}/{}?t={}", latest.version, latest.created_at),
            "bytes": latest.raw.len(),
            "adapter": adapter.is_set().then_some(adapter),
        })),
    )
        .into_response()
}

/// A snapshot version as its ETags name it: the version and its build time (ms), which tell a
/// version 1 from the version 1 of a database that was started over.
fn snapshot_tag(s: &store::StoredSnapshot) -> String {
    format!("{}.{}", s.version, s.created_at)
}

/// `GET /v1/snapshot/{site}/{version}`: the snapshot bytes, immutable and cacheable for a
/// year, precompressed (brotli or gzip by `Accept-Encoding`).
async fn get_snapshot_version(
    State(state): State<Arc<AppState>>,
    UrlPath((site, version)): UrlPath<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let Ok(version) = version.parse::<u64>() else {
        return error(
            StatusCode::NOT_FOUND,
            "UNKNOWN_VERSION",
            format!("`{version}` is not a snapshot version"),
        );
    };
    if let Some(res) = unknown_site(&state, &site) {
        return res;
    }
    let st = state.clone();
    let found = tokio::task::spawn_blocking(move || st.store.snapshot(&st.site, version)).await;
    let snap = match found {
        Ok(Ok(Some(s))) => s,
        Ok(Ok(None)) => {
            return error(
                StatusCode::NOT_FOUND,
                "UNKNOWN_VERSION",
                format!("snapshot version {version} of `{site}` is not kept (ask /v1/snapshot/{site} for the current one)"),
            )
        }
        Ok(Err(e)) => return storage_error(format!("snapshot storage: {e}")),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string()),
    };
    let accepts = |enc: &str| {
        headers
            .get(header::ACCEPT_ENCODING)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| {
                v.split(',').any(|part| {
                    let mut it = part.split(';');
                    let name = it.next().unwrap_or("").trim();
                    // (`q=0`, `q=0.0`, `q=0.000`: refused; HTTP allows up to three decimals.)
                    let q0 = it.any(|p| {
                        p.trim()
                            .replace(' ', "")
                            .strip_prefix("q=")
                            .and_then(|q| q.parse::<f32>().ok())
                            == Some(0.0)
                    });
                    name == enc && !q0
                })
            })
    };
    let tag = snapshot_tag(&snap);
    let (encoding, body) = if accepts("br") {
        (Some("br"), snap.br)
    } else if accepts("gzip") {
        (Some("gzip"), snap.gz)
    } else {
        (None, snap.raw)
    };
    let mut res = (
        [
            (header::CONTENT_TYPE, "application/octet-stream".to_owned()),
            (
                header::CACHE_CONTROL,
                "public, max-age=31536000, immutable".to_owned(),
            ),
            (header::ETAG, format!("\"{tag}\"")),
            (header::VARY, "Accept-Encoding".to_owned()),
        ],
        body,
    )
        .into_response();
    if let Some(enc) = encoding {
        res.headers_mut()
            .insert(header::CONTENT_ENCODING, HeaderValue::from_static(enc));
    }
    res
}
