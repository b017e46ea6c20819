//! The merchant's authenticated pages: the dashboard (`GET /admin`), the report as JSON
//! (`GET /v1/admin/{site}/report`) and the customer export (`GET /v1/admin/{site}/profiles`).
//!
//! Every request needs the site's admin token (`site.admin_token`), given as
//! `Authorization: Bearer TOKEN`, a `tailor_admin=TOKEN` cookie, or a `token=TOKEN` query
//! parameter (so the dashboard opens from a bookmark). Without a configured token the pages are
//! off and every request gets 401.

use crate::report_cmd::{export_text, ExportFormat};
use crate::{error, now_ms, storage_error, unknown_site, AppState};
use axum::extract::{Path as UrlPath, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use std::sync::Arc;

/// The cookie that may carry the admin token.
pub const COOKIE: &str = "tailor_admin";

/// `%XX` and `+` decoding of one query component.
fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = |c: u8| (c as char).to_digit(16);
                match (hex(b[i + 1]), hex(b[i + 2])) {
                    (Some(h), Some(l)) => {
                        out.push((h * 16 + l) as u8);
                        i += 2;
                    }
                    _ => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The value of `key` in a query string.
pub fn query_param(query: Option<&str>, key: &str) -> Option<String> {
    query?.split('&').find_map(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        (decode(k) == key).then(|| decode(v))
    })
}

/// Equality that takes the same time wherever the first difference is.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The token a request carries, from the header, the cookie or the query.
fn presented(headers: &HeaderMap, query: Option<&str>) -> Option<String> {
    if let Some(v) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let mut parts = v.trim().splitn(2, ' ');
        if parts
            .next()
            .is_some_and(|s| s.eq_ignore_ascii_case("bearer"))
        {
            return parts.next().map(|t| t.trim().to_owned());
        }
    }
    for cookies in headers.get_all(header::COOKIE) {
        if let Ok(cookies) = cookies.to_str() {
            for c in cookies.split(';') {
                if let Some((k, v)) = c.trim().split_once('=') {
                    if k == COOKIE {
                        return Some(v.to_owned());
                    }
                }
            }
        }
    }
    query_param(query, "token")
}

/// The 401 answer, unless the request carries the site's admin token.
fn refuse(state: &AppState, headers: &HeaderMap, query: Option<&str>) -> Option<Response> {
    let why = if state.admin_token.is_empty() {
        "the admin pages are off: set site.admin_token in tailor.toml (or --admin-token)"
    } else {
        match presented(headers, query) {
            Some(t) if same(t.as_bytes(), state.admin_token.as_bytes()) => return None,
            Some(_) => "the admin token is wrong",
            None => "an admin token is required (Authorization: Bearer TOKEN)",
        }
    };
    let mut res = error(StatusCode::UNAUTHORIZED, "UNAUTHORIZED", why.to_owned());
    res.headers_mut().insert(
        header::WWW_AUTHENTICATE,
        HeaderValue::from_static("Bearer realm=\"tailor admin\""),
    );
    Some(res)
}

fn private(mut res: Response) -> Response {
    res.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    res
}

/// Run `f` on the blocking pool; storage errors become 503.
async fn blocking<T: Send + 'static>(
    f: impl FnOnce() -> Result<T, crate::store::StorageError> + Send + 'static,
) -> Result<T, Response> {
    match tokio::task::spawn_blocking(f).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(storage_error(format!("events could not be read: {e}"))),
        Err(e) => Err(error(
            StatusCode::INTERNAL_SERVER_ERROR,
            "INTERNAL",
            e.to_string(),
        )),
    }
}

/// `GET /admin`: the dashboard.
pub async fn page(
    State(state): State<Arc<AppState>>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(res) = refuse(&state, &headers, query.as_deref()) {
        return res;
    }
    let st = state.clone();
    let html = blocking(move || {
        let r = crate::report_cmd::report(st.store.as_ref(), &st.site, &st.store_config, now_ms())?;
        let catalog = st.catalog();
        let titles = |id: u64| {
            catalog
                .products
                .iter()
                .find(|p| p.id == id)
                .map(|p| p.title.clone())
        };
        Ok(crate::dashboard::page(&st.site, &r, &titles))
    })
    .await;
    match html {
        Ok(html) => private(
            (
                [
                    (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                    (
                        header::CONTENT_SECURITY_POLICY,
                        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
                    ),
                ],
                html,
            )
                .into_response(),
        ),
        Err(res) => res,
    }
}

/// `GET /v1/admin/{site}/report`: the report as JSON (what `tailor report --json` prints).
pub async fn report(
    State(state): State<Arc<AppState>>,
    UrlPath(site): UrlPath<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(res) = refuse(&state, &headers, query.as_deref()) {
        return res;
    }
    if let Some(res) = unknown_site(&state, &site) {
        return res;
    }
    let st = state.clone();
    let r = blocking(move || {
        crate::report_cmd::report(st.store.as_ref(), &st.site, &st.store_config, now_ms())
    })
    .await;
    match r {
        Ok(r) => private(
            (
                [(header::CONTENT_TYPE, "application/json")],
                serde_json::to_string(&r).unwrap_or_default(),
            )
                .into_response(),
        ),
        Err(res) => res,
    }
}

/// `GET /v1/admin/{site}/profiles?format=csv|jsonl&all=false`: the customer export (what
/// `tailor export-profiles` writes).
pub async fn profiles(
    State(state): State<Arc<AppState>>,
    UrlPath(site): UrlPath<String>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    if let Some(res) = refuse(&state, &headers, query.as_deref()) {
        return res;
    }
    if let Some(res) = unknown_site(&state, &site) {
        return res;
    }
    let format = query_param(query.as_deref(), "format").unwrap_or_else(|| "csv".into());
    let format = match ExportFormat::parse(&format) {
        Ok(f) => f,
        Err(e) => return error(StatusCode::BAD_REQUEST, "BAD_PARAMETER", e),
    };
    let all = match query_param(query.as_deref(), "all").as_deref() {
        None | Some("false") => false,
        Some("true") => true,
        Some(other) => {
            return error(
                StatusCode::BAD_REQUEST,
                "BAD_PARAMETER",
                format!("all must be true or false, got {other:?}"),
            )
        }
    };
    let st = state.clone();
    let records = blocking(move || {
        crate::report_cmd::profiles(
            st.store.as_ref(),
            &st.site,
            &st.catalog(),
            &st.store_config,
            now_ms(),
            all,
        )
    })
    .await;
    match records {
        Ok(records) => private(
            (
                [(header::CONTENT_TYPE, format.content_type())],
                export_text(&records, format),
            )
                .into_response(),
        ),
        Err(res) => res,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_parameters_and_tokens() {
        assert_eq!(
            query_param(Some("a=1&token=x%2By+z"), "token").as_deref(),
            Some("x+y z")
        );
        assert_eq!(query_param(Some("token"), "token").as_deref(), Some(""));
        assert_eq!(query_param(None, "token"), None);
        assert_eq!(decode("100%"), "100%");
        assert_eq!(decode("%zz"), "%zz");
        assert!(same(b"secret", b"secret"));
        assert!(!same(b"secret", b"secreT"));
        assert!(!same(b"secret", b"secrets"));
        let mut h = HeaderMap::new();
        h.insert(header::COOKIE, "a=b; tailor_admin=tok".parse().unwrap());
        assert_eq!(presented(&h, None).as_deref(), Some("tok"));
        h.insert(header::AUTHORIZATION, "Bearer hdr".parse().unwrap());
        assert_eq!(presented(&h, Some("token=q")).as_deref(), Some("hdr"));
    }
}
