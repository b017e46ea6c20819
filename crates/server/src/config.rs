//! `tailor.toml`: the server's configuration. Every option and its default is documented in
//! `config.example.toml` at the repository root, and a test checks that file against
//! [`ServerConfig::default`].

use serde::Deserialize;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use tailor_core::config::StoreConfig;

/// The whole configuration file.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ServerConfig {
    /// Address to listen on.
    pub addr: SocketAddr,
    /// SQLite database file.
    pub db: PathBuf,
    /// Storefront folder.
    pub www: PathBuf,
    /// Folder with the built engine.
    pub dist: PathBuf,
    /// Snapshot versions kept.
    pub keep_versions: usize,
    /// Seconds between scheduled snapshot rebuilds (0 = only on `tailor build-snapshot`).
    pub rebuild_every_secs: u64,
    /// Requests handled at once; more are answered 503 at once.
    pub max_in_flight: usize,
    /// Seconds a client has to send its request line and headers.
    pub header_timeout_secs: f64,
    /// Seconds a client has to send an event batch's or a profile's body.
    pub body_timeout_secs: f64,
    /// Log format on stderr: `text` or `json`.
    pub log_format: String,
    /// Log level: `error`, `warn`, `info`, `debug` (one line per request) or `trace`.
    pub log_level: String,
    /// The site.
    pub site: SiteConfig,
}

/// One site.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SiteConfig {
    /// The site key (`data-site`).
    pub key: String,
    /// Public write key event batches must carry (`"key"` in the batch); empty = none needed.
    pub write_key: String,
    /// Origins allowed to post events; empty = any.
    pub allowed_origins: Vec<String>,
    /// Catalog JSON file.
    pub catalog: PathBuf,
    /// Event batches per second, sustained.
    pub rate_per_sec: f64,
    /// Event batches in a burst.
    pub rate_burst: f64,
    /// Bearer token for the merchant's pages (`/admin`, `/v1/admin/...`); empty = those pages
    /// are off (401).
    pub admin_token: String,
    /// Segments, experiments, placements and banners; shipped to browsers in the snapshot.
    pub store: StoreConfig,
    /// Selectors for a theme the built-in adapters do not know; shipped to browsers with the
    /// snapshot pointer.
    pub adapter: AdapterConfig,
}

/// The generic adapter's selectors, for a theme that is neither Dawn-like nor WooCommerce and
/// cannot add `data-tailor-*` attributes to its markup.
#[derive(Debug, Clone, PartialEq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)]
pub struct AdapterConfig {
    /// CSS selector of the product grid's container, e.g. `"div.catalog-list"`; empty = unused.
    pub grid: String,
    /// CSS selector a product card (a direct child of the grid) matches, e.g. `"article.tile"`.
    pub card: String,
    /// The card attribute that holds the numeric product id.
    pub id_attribute: String,
}

impl Default for AdapterConfig {
    fn default() -> Self {
        AdapterConfig {
            grid: String::new(),
            card: String::new(),
            id_attribute: "data-product-id".into(),
        }
    }
}

impl AdapterConfig {
    /// Whether selectors are set.
    pub fn is_set(&self) -> bool {
        !self.grid.is_empty()
    }
}

impl Default for ServerConfig {
    fn default() -> Self {
        ServerConfig {
            addr: SocketAddr::from(([127, 0, 0, 1], 8080)),
            db: PathBuf::from("tailor.db"),
            www: PathBuf::from("www"),
            dist: PathBuf::from("dist"),
            keep_versions: 5,
            rebuild_every_secs: 300,
            max_in_flight: 256,
            header_timeout_secs: 10.0,
            body_timeout_secs: 10.0,
            log_format: "text".into(),
            log_level: "info".into(),
            site: SiteConfig::default(),
        }
    }
}

impl Default for SiteConfig {
    fn default() -> Self {
        SiteConfig {
            key: "demo".into(),
            write_key: String::new(),
            allowed_origins: Vec::new(),
            catalog: PathBuf::from("www/catalog.json"),
            rate_per_sec: 500.0,
            rate_burst: 1000.0,
            admin_token: String::new(),
            store: StoreConfig::default(),
            adapter: AdapterConfig::default(),
        }
    }
}

impl ServerConfig {
    /// Parse and validate TOML.
    pub fn parse(text: &str) -> Result<ServerConfig, String> {
        let c: ServerConfig = toml::from_str(text).map_err(|e| e.to_string())?;
        c.validate()?;
        Ok(c)
    }

    /// Check values that parse but make no sense.
    pub fn validate(&self) -> Result<(), String> {
        let c = self;
        if c.site.key.is_empty() {
            return Err("site.key must not be empty".into());
        }
        for origin in &c.site.allowed_origins {
            crate::limits::normalize_origin(origin)
                .map_err(|e| format!("site.allowed_origins: {e}"))?;
        }
        for (name, secs) in [
            ("header_timeout_secs", c.header_timeout_secs),
            ("body_timeout_secs", c.body_timeout_secs),
        ] {
            if !(secs > 0.0 && secs <= 3600.0) {
                return Err(format!(
                    "{name} must be between 0 and 3600 seconds, got {secs}"
                ));
            }
        }
        if !matches!(c.log_format.as_str(), "text" | "json") {
            return Err(format!(
                "log_format must be \"text\" or \"json\", got {:?}",
                c.log_format
            ));
        }
        if parse_level(&c.log_level).is_none() {
            return Err(format!(
                "log_level must be one of error, warn, info, debug, trace; got {:?}",
                c.log_level
            ));
        }
        if c.keep_versions == 0 {
            return Err("keep_versions must be at least 1".into());
        }
        if !c.site.admin_token.is_empty() && c.site.admin_token.len() < 16 {
            return Err(
                "site.admin_token must be at least 16 characters (or empty to turn the admin pages off)"
                    .into(),
            );
        }
        if !(c.site.rate_per_sec >= 0.0 && c.site.rate_burst >= 1.0) {
            return Err("site.rate_per_sec must be >= 0 and site.rate_burst >= 1".into());
        }
        c.site
            .store
            .validate()
            .and_then(|()| c.site.store.check_names())
            .map_err(|e| format!("site.store: {e}"))?;
        let a = &c.site.adapter;
        if a.grid.is_empty() != a.card.is_empty() {
            return Err("site.adapter: set both `grid` and `card` selectors, or neither".into());
        }
        let attr_ok = !a.id_attribute.is_empty()
            && a.id_attribute
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
        if !attr_ok {
            return Err(format!(
                "site.adapter.id_attribute must be an attribute name (letters, digits, - and _), got {:?}",
                a.id_attribute
            ));
        }
        Ok(())
    }

    /// Load `path`.
    pub fn load(path: &Path) -> Result<ServerConfig, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read config {}: {e}", path.display()))?;
        ServerConfig::parse(&text).map_err(|e| format!("config {}: {e}", path.display()))
    }
}

/// A log level by name.
pub fn parse_level(name: &str) -> Option<tracing::Level> {
    match name.to_ascii_lowercase().as_str() {
        "error" => Some(tracing::Level::ERROR),
        "warn" => Some(tracing::Level::WARN),
        "info" => Some(tracing::Level::INFO),
        "debug" => Some(tracing::Level::DEBUG),
        "trace" => Some(tracing::Level::TRACE),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_example_file_documents_the_real_defaults() {
        let text = include_str!("../../../config.example.toml");
        assert_eq!(ServerConfig::parse(text).unwrap(), ServerConfig::default());
        // Every option of the file is written out (commented values would not be checked).
        for key in [
            "addr",
            "db",
            "www",
            "dist",
            "keep_versions",
            "rebuild_every_secs",
            "max_in_flight",
            "header_timeout_secs",
            "body_timeout_secs",
            "log_format",
            "log_level",
            "key",
            "write_key",
            "allowed_origins",
            "catalog",
            "rate_per_sec",
            "rate_burst",
            "admin_token",
        ] {
            assert!(
                text.lines()
                    .any(|l| l.trim_start().starts_with(&format!("{key} ="))),
                "config.example.toml does not set `{key}`"
            );
        }
    }

    #[test]
    fn errors_name_the_option() {
        let e = ServerConfig::parse("keep_version = 3").unwrap_err();
        assert!(e.contains("unknown field `keep_version`"), "{e}");
        let e = ServerConfig::parse("[site.adapter]\ngrid = \"div.list\"").unwrap_err();
        assert_eq!(
            e,
            "site.adapter: set both `grid` and `card` selectors, or neither"
        );
        let e = ServerConfig::parse(
            "[site.adapter]\ngrid = \"div.list\"\ncard = \"article\"\nid_attribute = \"a b\"",
        )
        .unwrap_err();
        assert!(e.starts_with("site.adapter.id_attribute must be"), "{e}");
        let e = ServerConfig::parse("[site]\nkey = \"\"").unwrap_err();
        assert_eq!(e, "site.key must not be empty");
        let e = ServerConfig::parse("[site]\nallowed_origins = [\"https://shop.example/cart\"]")
            .unwrap_err();
        assert_eq!(
            e,
            "site.allowed_origins: `https://shop.example/cart` is not an origin: it may hold only a scheme, a host and a port"
        );
        let e = ServerConfig::parse("[site.store.experiments]\nholdout_share = 2.0").unwrap_err();
        assert!(
            e.starts_with("site.store: experiments.holdout_share 2"),
            "{e}"
        );
        let c = ServerConfig::parse(
            "addr = \"127.0.0.1:9000\"\n[site]\nkey = \"shop\"\n[[site.store.placements]]\nname = \"pdp\"\nplacement = \"similar\"\n",
        )
        .unwrap();
        assert_eq!(c.site.key, "shop");
        assert_eq!(c.site.store.placements[0].n, 12);
    }
}
