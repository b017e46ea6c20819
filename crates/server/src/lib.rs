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

pub mod catalog;
pub mod compress;
pub mod eval_cmd;
pub mod ingest;
pub mod snapshot;
pub mod static_files;
pub mod store;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{header, StatusCode};
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
        .route("/v1/events", post(post_events))
        .route("/v1/snapshot/{site}", get(get_snapshot))
        .fallback(static_files::serve)
        .layer(DefaultBodyLimit::max(MAX_BATCH_BYTES))
        .with_state(state)
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

async fn post_events(State(state): State<Arc<AppState>>, body: Bytes) -> Response {
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
