//! Which links and images a recommendation block may show.
//!
//! Only `http:` and `https:` URLs on the shop's own origin or on a host the store allows (its
//! CDN) pass. Paths (`/products/x`) resolve against the shop's origin; protocol-relative URLs
//! (`//cdn.shopify.com/...`) take `https:`. Everything else (`javascript:`, `data:`, other
//! hosts, URLs with control characters or backslashes, which browsers read leniently) is
//! refused, and the block leaves that link or image out.

/// Hosts allowed for images and links besides the shop's own (Shopify's CDN).
pub const DEFAULT_CDN_HOSTS: &[&str] = &["cdn.shopify.com"];

/// A URL split into what the check needs.
struct Parts<'a> {
    scheme: &'a str,
    host: &'a str,
    rest: &'a str,
}

fn split(url: &str) -> Option<Parts<'_>> {
    // (A char split and a prefix test: the browser engine carries no substring searcher.)
    let (scheme, after) = url.split_once(':')?;
    let after = after.strip_prefix("//")?;
    let end = after.find(['/', '?', '#']).unwrap_or(after.len());
    let (authority, rest) = after.split_at_checked(end)?;
    // No credentials in a shown URL.
    if authority.contains('@') || authority.is_empty() {
        return None;
    }
    Some(Parts {
        scheme,
        host: authority,
        rest,
    })
}

/// The host of `authority` without its port, lowercased.
fn host_name(authority: &str) -> String {
    let name = match authority.rsplit_once(':') {
        Some((h, port)) if port.chars().all(|c| c.is_ascii_digit()) => h,
        _ => authority,
    };
    name.to_ascii_lowercase()
}

/// The URL to put in an `href` or `src`, or `None` when it is not allowed. `shop_origin` is
/// like `https://shop.example` (the page's `location.origin`); `hosts` are extra allowed host
/// names (exact match, no port).
pub fn safe_url(raw: &str, shop_origin: &str, hosts: &[String]) -> Option<String> {
    let url = raw.trim();
    if url.is_empty() || url.chars().any(|c| c.is_control() || c == '\\' || c == ' ') {
        return None;
    }
    let shop = split(shop_origin)?;
    let absolute = if let Some(rest) = url.strip_prefix("//") {
        format!("https://{rest}")
    } else if url.starts_with('/') {
        format!("{}://{}{url}", shop.scheme, shop.host)
    } else {
        url.to_owned()
    };
    let p = split(&absolute)?;
    let scheme = p.scheme.to_ascii_lowercase();
    if scheme != "https" && scheme != "http" {
        return None;
    }
    let host = host_name(p.host);
    let same_origin =
        scheme == shop.scheme.to_ascii_lowercase() && p.host.eq_ignore_ascii_case(shop.host);
    let allowed_host = hosts.iter().any(|h| h.eq_ignore_ascii_case(&host))
        || DEFAULT_CDN_HOSTS.contains(&host.as_str());
    if !(same_origin || allowed_host) {
        return None;
    }
    Some(format!("{scheme}://{}{}", p.host, p.rest))
}

#[cfg(test)]
mod tests {
    use super::*;

    const SHOP: &str = "https://shop.example";

    fn ok(raw: &str) -> Option<String> {
        safe_url(raw, SHOP, &["img.shop-cdn.example".to_owned()])
    }

    #[test]
    fn paths_resolve_on_the_shop() {
        assert_eq!(
            ok("/products/red-mug").as_deref(),
            Some("https://shop.example/products/red-mug")
        );
        assert_eq!(
            ok("https://shop.example/a?b=1#c").as_deref(),
            Some("https://shop.example/a?b=1#c")
        );
    }

    #[test]
    fn cdn_hosts_pass_and_protocol_relative_urls_get_https() {
        assert_eq!(
            ok("//cdn.shopify.com/s/files/x.jpg").as_deref(),
            Some("https://cdn.shopify.com/s/files/x.jpg")
        );
        assert_eq!(
            ok("https://IMG.shop-cdn.example:443/x.png").as_deref(),
            Some("https://IMG.shop-cdn.example:443/x.png")
        );
    }

    #[test]
    fn everything_else_is_refused() {
        for bad in [
            "javascript:alert(1)",
            "JaVaScRiPt:alert(1)",
            " javascript:alert(1)",
            "java\tscript:alert(1)",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:x",
            "https://evil.example/x",
            "https://shop.example.evil.example/x",
            "https://user@shop.example/x",
            "ftp://shop.example/x",
            "http://shop.example/x", // another scheme is another origin
            "/\\evil.example",
            "",
            "   ",
            "relative/path",
        ] {
            assert_eq!(ok(bad), None, "{bad:?} must be refused");
        }
    }

    #[test]
    fn a_bad_shop_origin_refuses_everything_relative() {
        assert_eq!(safe_url("/products/x", "null", &[]), None);
        assert_eq!(
            safe_url("https://cdn.shopify.com/x", "null", &[]),
            None,
            "without a shop origin nothing is trusted"
        );
    }
}
