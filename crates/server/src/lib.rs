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
pub mod ingest;
pub mod snapshot;
pub mod static_files;
pub mod store;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, Request, State};
use axum::http::{header, HeaderValue, StatusCode};
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
}

/// The HTTP application.
pub fn app(state: Arc<AppState>) -> Router {
    Router::new()
        .route("/v1/events", post(post_events).options(events_preflight))
        .route("/v1/snapshot/{site}", get(get_snapshot))
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

async fn get_snapshot(
    State(state): State<Arc<AppState>>,
    UrlPath(site): UrlPath<String>,
) -> Response {
    if site != state.site {
        return error(
            StatusCode::NOT_FOUND,
            "UNKNOWN_SITE",
            format!("unknown site `{site}`"),
        );
    }
    let st = state.clone();
    let counts = tokio::task::spawn_blocking(move || st.store.product_view_counts(&st.site)).await;
    let counts = match counts {
        Ok(Ok(c)) => c,
        Ok(Err(e)) => {
            return error(
                StatusCode::SERVICE_UNAVAILABLE,
                "STORAGE_UNAVAILABLE",
                format!("cannot read events: {e}"),
            )
        }
        Err(e) => return error(StatusCode::INTERNAL_SERVER_ERROR, "INTERNAL", e.to_string()),
    };
    let bytes = snapshot::build(&state.catalog, &counts).encode();
    (
        [
            (header::CONTENT_TYPE, "application/octet-stream"),
            (header::CACHE_CONTROL, "no-cache"),
        ],
        bytes,
    )
        .into_response()
}
