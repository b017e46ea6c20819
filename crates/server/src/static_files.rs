//! Static files: the built engine from `dist/`, then the storefront from `www/`.

use crate::AppState;
use axum::extract::State;
use axum::http::{header, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Redirect, Response};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The `Content-Type` for a file name. `.wasm` is `application/wasm`, which
/// `WebAssembly.instantiateStreaming` requires.
pub fn content_type(path: &Path) -> &'static str {
    match path.extension().and_then(|e| e.to_str()).unwrap_or("") {
        "html" => "text/html; charset=utf-8",
        "js" | "mjs" => "text/javascript; charset=utf-8",
        "wasm" => "application/wasm",
        "css" => "text/css; charset=utf-8",
        "json" => "application/json",
        "svg" => "image/svg+xml",
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "webp" => "image/webp",
        "ico" => "image/x-icon",
        "txt" | "md" => "text/plain; charset=utf-8",
        _ => "application/octet-stream",
    }
}

/// Map a URL path to a relative file path, refusing anything that could leave the folder.
pub fn safe_relative(url_path: &str) -> Option<PathBuf> {
    let mut out = PathBuf::new();
    for seg in url_path.split('/').filter(|s| !s.is_empty()) {
        if seg.starts_with('.') || seg.contains('\\') || seg.contains('\0') {
            return None;
        }
        out.push(seg);
    }
    if out.as_os_str().is_empty() {
        None
    } else {
        Some(out)
    }
}

/// Fallback handler: serve a file, or 404.
pub async fn serve(
    State(state): State<Arc<AppState>>,
    method: Method,
    uri: Uri,
    headers: axum::http::HeaderMap,
) -> Response {
    if method != Method::GET && method != Method::HEAD {
        return StatusCode::METHOD_NOT_ALLOWED.into_response();
    }
    if uri.path() == "/" {
        // The demo store's home page, when the storefront has one.
        let home = if state.www.join("index.html").is_file() {
            "/index.html"
        } else {
            "/collection.html"
        };
        return Redirect::temporary(home).into_response();
    }
    if uri.path() == "/search" {
        if let Some(page) = search_page(&state, uri.query().unwrap_or("")).await {
            return page;
        }
    }
    if let Some(handle) = uri.path().strip_prefix("/products/") {
        if let Some(page) = product_page(&state, handle).await {
            return page;
        }
    }
    let Some(rel) = safe_relative(uri.path()) else {
        return (StatusCode::NOT_FOUND, "not found\n").into_response();
    };
    for dir in [&state.dist, &state.www] {
        let path = dir.join(&rel);
        match tokio::fs::read(&path).await {
            Ok(bytes) => {
                // Revalidated on every use, answered 304 when unchanged: the browser keeps its
                // copy, and with it V8's compiled code for the engine.
                let etag = format!(
                    "\"{:08x}-{:x}\"",
                    tailor_core::checksum::crc32(&bytes),
                    bytes.len()
                );
                let fresh = headers
                    .get(header::IF_NONE_MATCH)
                    .and_then(|v| v.to_str().ok())
                    .is_some_and(|v| v.split(',').any(|t| t.trim() == etag));
                if fresh {
                    return (
                        StatusCode::NOT_MODIFIED,
                        [
                            (header::ETAG, etag),
                            (header::CACHE_CONTROL, "no-cache".into()),
                        ],
                    )
                        .into_response();
                }
                // The versioned script-tag files never change under their name.
                let versioned = rel.file_name().and_then(|n| n.to_str()).is_some_and(|n| {
                    n.starts_with("tailor-") && (n.ends_with(".js") || n.ends_with(".wasm"))
                });
                let cache = if versioned {
                    "public, max-age=31536000, immutable"
                } else {
                    "no-cache"
                };
                return (
                    [
                        (header::CONTENT_TYPE, content_type(&path).to_owned()),
                        (header::CACHE_CONTROL, cache.to_owned()),
                        (header::ETAG, etag),
                    ],
                    bytes,
                )
                    .into_response();
            }
            Err(_) => continue,
        }
    }
    let engine_file = matches!(
        rel.to_str(),
        Some("tailor.js" | "tailor.worker.js" | "tailor_bg.wasm")
    );
    let hint = if engine_file {
        " (the engine is not built: run `make build`)"
    } else {
        ""
    };
    (StatusCode::NOT_FOUND, format!("not found{hint}\n")).into_response()
}

/// Text for HTML: `&`, `<`, `>`, `"` and `'` escaped.
pub fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The value of `q` in a query string, percent- and plus-decoded.
fn query_param(query: &str, key: &str) -> String {
    let raw = query
        .split('&')
        .find_map(|kv| kv.strip_prefix(key).and_then(|v| v.strip_prefix('=')))
        .unwrap_or("");
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(b) => {
                        out.push(b);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The demo store's search page: `www/search.html` with the query and the matching products
/// as Dawn-style cards, most relevant first (more query words in the title, then the store's
/// popularity), with one article card mixed in as Dawn does. The text relevance is the order.
async fn search_page(state: &AppState, query: &str) -> Option<Response> {
    let template = tokio::fs::read_to_string(state.www.join("search.html"))
        .await
        .ok()?;
    let q = query_param(query, "q");
    let words: Vec<String> = q
        .to_lowercase()
        .split_whitespace()
        .map(str::to_owned)
        .collect();
    let catalog = state.catalog();
    let mut hits: Vec<(usize, f64, &crate::catalog::Product)> = catalog
        .products
        .iter()
        .filter_map(|p| {
            let title = p.title.to_lowercase();
            let n = words.iter().filter(|w| title.contains(w.as_str())).count();
            (n > 0).then_some((n, p.popularity, p))
        })
        .collect();
    hits.sort_by(|a, b| b.0.cmp(&a.0).then(b.1.total_cmp(&a.1)));
    hits.truncate(24);
    let mut cards = String::new();
    for (k, (_, _, p)) in hits.iter().enumerate() {
        if k == 2 {
            cards.push_str(
                "        <li class=\"grid__item\"><div class=\"card card--article\"><h3 class=\"card__heading h5\"><a href=\"/collection.html\">Journal: how we pick our products</a></h3></div></li>\n",
            );
        }
        cards.push_str(&format!(
            "        <li class=\"grid__item\"><div class=\"card\"><h3 class=\"card__heading h5\"><a href=\"/products/{h}\" id=\"CardLink-template--search__main-{id}\" class=\"full-unstyled-link\">{t}</a></h3><div class=\"price\">&pound;{price:.2}</div></div></li>\n",
            h = escape_html(&p.handle),
            id = p.id,
            t = escape_html(&p.title),
            price = p.price,
        ));
    }
    let html = template
        .replace("{{query}}", &escape_html(&q))
        .replace("{{count}}", &hits.len().to_string())
        .replace("{{results}}", &cards);
    Some(
        (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            html,
        )
            .into_response(),
    )
}

/// The demo store's product page for `handle`: `www/product.html` with the catalog product's
/// fields put in (`{{id}}`, `{{handle}}`, `{{title}}`, `{{category}}`, `{{price}}`), escaped.
/// `None` when there is no such product or no template (a plain 404 follows).
async fn product_page(state: &AppState, handle: &str) -> Option<Response> {
    let catalog = state.catalog();
    let product = catalog.products.iter().find(|p| p.handle == handle)?;
    let template = tokio::fs::read_to_string(state.www.join("product.html"))
        .await
        .ok()?;
    let html = template
        .replace("{{id}}", &product.id.to_string())
        .replace("{{handle}}", &escape_html(&product.handle))
        .replace("{{title}}", &escape_html(&product.title))
        .replace("{{category}}", &escape_html(&product.category))
        .replace("{{price}}", &format!("{:.2}", product.price));
    Some(
        (
            [
                (header::CONTENT_TYPE, "text/html; charset=utf-8"),
                (header::CACHE_CONTROL, "no-cache"),
            ],
            html,
        )
            .into_response(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_traversal() {
        assert_eq!(safe_relative("/a/b.html"), Some(PathBuf::from("a/b.html")));
        assert_eq!(safe_relative("/../etc/passwd"), None);
        assert_eq!(safe_relative("/a/../../x"), None);
        assert_eq!(safe_relative("/.git/config"), None);
        assert_eq!(safe_relative("/"), None);
        assert_eq!(safe_relative("/a\\..\\b"), None);
    }

    #[test]
    fn query_values_are_decoded() {
        assert_eq!(query_param("q=red+mug&x=1", "q"), "red mug");
        assert_eq!(query_param("x=1&q=caf%C3%A9%20bag", "q"), "café bag");
        assert_eq!(query_param("q=100%", "q"), "100%");
        assert_eq!(query_param("qq=1", "q"), "");
        assert_eq!(query_param("", "q"), "");
    }

    #[test]
    fn html_is_escaped() {
        assert_eq!(
            escape_html(r#"<img src=x onerror="a('b')">&"#),
            "&lt;img src=x onerror=&quot;a(&#39;b&#39;)&quot;&gt;&amp;"
        );
    }

    #[test]
    fn wasm_is_served_as_application_wasm() {
        assert_eq!(
            content_type(Path::new("x/tailor_bg.wasm")),
            "application/wasm"
        );
        assert_eq!(
            content_type(Path::new("tailor.js")),
            "text/javascript; charset=utf-8"
        );
        assert_eq!(content_type(Path::new("noext")), "application/octet-stream");
    }
}
