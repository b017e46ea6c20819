//! # tailor-server
//!
//! The sync server behind Tailor: it stores events from shoppers' browsers in embedded SQLite,
//! builds the store's snapshot from the catalog and those events with `tailor-core`, and serves
//! the snapshot, the browser engine (`/tailor.js`, `/tailor_bg.wasm`) and the demo storefront.
//!
//! Routes:
//! - `POST /v1/events`: a batch of events (`application/json` or `text/plain`, so
//!   `navigator.sendBeacon` needs no CORS preflight);
//! - `GET /v1/snapshot/{site}`: the site's current snapshot (`docs/snapshot-format.md`);
//! - `GET /*`: the engine from the build folder, then the storefront folder.

#![warn(missing_docs)]

pub mod cadence_cmd;
pub mod catalog;
pub mod compress;
pub mod eval_cmd;
pub mod import;
pub mod ingest;
pub mod snapshot;
pub mod static_files;
pub mod store;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
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
use store::Store;

/// Largest accepted event batch, in bytes.
pub const MAX_BATCH_BYTES: usize = 256 * 1024;

/// Everything a running server needs.
pub struct AppState {
    /// The one site this server hosts (multi-site configuration comes with `tailor.toml`).
    pub site: String,
    /// The site's catalog.
    pub catalog: Catalog,
    /// Durable event storage.
    pub store: Store,
    /// Folder with the built engine (`tailor.js`, `tailor_bg.wasm`); served first.
    pub dist: PathBuf,
    /// Folder with the storefront pages.
    pub www: PathBuf,
    /// Snapshot versions kept per site.
    pub keep_versions: usize,
}

/// The HTTP application.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/events", post(post_events).options(events_preflight))
        .route("/v1/snapshot/{site}", get(get_snapshot))
        .route("/v1/snapshot/{site}/{version}", get(get_snapshot_version))
        .route("/health", get(health))
        .route("/ready", get(ready))
        .fallback(static_files::serve)
        .layer(DefaultBodyLimit::max(MAX_BATCH_BYTES))
        .layer(middleware::from_fn(cross_origin))
        .with_state(state)
}

/// Whether `path` is public to any origin: the API and the engine files are fetched by stores
/// on other origins (the merchant's pages load them from this server).
fn is_cross_origin_path(path: &str) -> bool {
    path.starts_with("/v1/") || path == "/tailor.js" || path == "/tailor_bg.wasm"
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

fn error(status: StatusCode, code: &str, message: String) -> Response {
    (
        status,
        Json(json!({ "error": { "code": code, "message": message } })),
    )
        .into_response()
}

fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

async fn post_events(
    State(state): State<Arc<AppState>>,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let body = match body {
        Ok(b) => b,
        Err(rej) if rej.status() == StatusCode::PAYLOAD_TOO_LARGE => {
            return error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "BATCH_TOO_LARGE",
                format!("event batch is larger than {MAX_BATCH_BYTES} bytes; send smaller batches"),
            )
        }
        Err(rej) => return error(rej.status(), "BAD_BODY", rej.body_text()),
    };
    let batch = match ingest::parse_batch(&body) {
        Ok(b) => b,
        Err(msg) => return error(StatusCode::BAD_REQUEST, "MALFORMED_BATCH", msg),
    };
    if batch.site != state.site {
        return error(
            StatusCode::NOT_FOUND,
            "UNKNOWN_SITE",
            format!("unknown site `{}`", batch.site),
        );
    }
    let mut good = Vec::with_capacity(batch.events.len());
    let mut rejected = Vec::new();
    for (index, raw) in batch.events.iter().enumerate() {
        match ingest::validate_event(raw) {
            Ok(e) => good.push(e),
            Err(reason) => rejected.push(json!({ "index": index, "error": reason })),
        }
    }
    let st = state.clone();
    let outcome =
        tokio::task::spawn_blocking(move || st.store.insert_events(&st.site, &good, now_ms()))
            .await;
    match outcome {
        Ok(Ok(o)) => Json(json!({
            "accepted": o.inserted,
            "duplicates": o.duplicates,
            "rejected": rejected,
        }))
        .into_response(),
        Ok(Err(e)) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "STORAGE_UNAVAILABLE",
            format!("events not stored: {e}"),
        ),
        Err(e) => error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            format!("events not stored: {e}"),
        ),
    }
}

/// Liveness: the process answers.
async fn health() -> Response {
    Json(json!({ "status": "ok" })).into_response()
}

/// Readiness: storage answers a query.
async fn ready(State(state): State<Arc<AppState>>) -> Response {
    let st = state.clone();
    match tokio::task::spawn_blocking(move || st.store.event_count(&st.site)).await {
        Ok(Ok(_)) => Json(json!({ "status": "ready" })).into_response(),
        Ok(Err(e)) => error(
            StatusCode::SERVICE_UNAVAILABLE,
            "STORAGE_UNAVAILABLE",
            format!("storage is not reachable: {e}"),
        ),
        Err(e) => error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string()),
    }
}

fn storage_error(e: impl std::fmt::Display) -> Response {
    error(
        StatusCode::SERVICE_UNAVAILABLE,
        "STORAGE_UNAVAILABLE",
        format!("snapshot storage: {e}"),
    )
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
    if site != state.site {
        return error(
            StatusCode::NOT_FOUND,
            "UNKNOWN_SITE",
            format!("unknown site `{site}`"),
        );
    }
    let st = state.clone();
    let latest = tokio::task::spawn_blocking(move || {
        if let Some(s) = st.store.latest_snapshot(&st.site)? {
            return Ok(s);
        }
        snapshot::rebuild(&st.store, &st.catalog, &st.site, st.keep_versions)?;
        st.store
            .latest_snapshot(&st.site)
            .map(|s| s.expect("a snapshot was just stored"))
    })
    .await;
    let latest = match latest {
        Ok(Ok(s)) => s,
        Ok(Err(e)) => return storage_error(e),
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string()),
    };
    let etag = format!("\"{}\"", latest.version);
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
            "url": format!("/v1/snapshot/{site}/{}", latest.version),
            "bytes": latest.raw.len(),
        })),
    )
        .into_response()
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
    if site != state.site {
        return error(
            StatusCode::NOT_FOUND,
            "UNKNOWN_SITE",
            format!("unknown site `{site}`"),
        );
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
        Ok(Err(e)) => return storage_error(e),
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
                    let q0 = it.any(|p| p.trim().replace(' ', "") == "q=0");
                    name == enc && !q0
                })
            })
    };
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
            (header::ETAG, format!("\"{}\"", snap.version)),
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
