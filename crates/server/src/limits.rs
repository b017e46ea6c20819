//! Protection against overload: a per-site token bucket (429 with `Retry-After`), a cap on
//! requests in flight that sheds the excess at once (503, never an unbounded queue), and the
//! counters `/metrics` reports.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Instant;

/// Limits a server runs with.
#[derive(Debug, Clone, PartialEq)]
pub struct Limits {
    /// Origins allowed to post events (empty = any). Others get 202 and are dropped.
    pub allowed_origins: Vec<String>,
    /// Event batches per second a site may send (sustained).
    pub rate_per_sec: f64,
    /// Batches a site may send in a burst.
    pub rate_burst: f64,
    /// Requests handled at once; more are answered 503 immediately.
    pub max_in_flight: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            allowed_origins: Vec::new(),
            rate_per_sec: 500.0,
            rate_burst: 1000.0,
            max_in_flight: 256,
        }
    }
}

/// An origin as a browser sends it in `Origin`: `scheme://host[:port]`, lowercase, without the
/// scheme's default port or a trailing slash. `allowed_origins` entries are written the same way
/// before they are compared, so `https://Shop.example:443/` allows `https://shop.example`.
/// Anything else (a path, a query, `null`, a missing host) is an error naming what is wrong.
pub fn normalize_origin(origin: &str) -> Result<String, String> {
    let text = origin.trim();
    let (scheme, rest) = text
        .split_once("://")
        .ok_or_else(|| format!("`{text}` is not an origin (expected scheme://host[:port])"))?;
    let scheme = scheme.to_ascii_lowercase();
    if scheme != "http" && scheme != "https" {
        return Err(format!("`{text}`: the scheme must be http or https"));
    }
    let host_port = rest.strip_suffix('/').unwrap_or(rest);
    if host_port.is_empty() || host_port.contains(['/', '?', '#', '@', ' ']) {
        return Err(format!(
            "`{text}` is not an origin: it may hold only a scheme, a host and a port"
        ));
    }
    let host_port = host_port.to_ascii_lowercase();
    let (host, port) = match host_port.rsplit_once(':') {
        // (An IPv6 literal's colons are inside brackets.)
        Some((h, p)) if !p.contains(']') => (h, Some(p)),
        _ => (host_port.as_str(), None),
    };
    if host.is_empty() {
        return Err(format!("`{text}` has no host"));
    }
    let default = if scheme == "https" { "443" } else { "80" };
    match port {
        Some(p) if p.parse::<u16>().is_err() => Err(format!("`{text}`: `{p}` is not a port")),
        Some(p) if p != default => Ok(format!("{scheme}://{host}:{p}")),
        _ => Ok(format!("{scheme}://{host}")),
    }
}

/// A token bucket.
#[derive(Debug)]
pub struct Bucket {
    state: Mutex<(f64, Instant)>,
    rate: f64,
    burst: f64,
}

impl Bucket {
    /// A full bucket.
    pub fn new(rate: f64, burst: f64) -> Bucket {
        Bucket {
            state: Mutex::new((burst, Instant::now())),
            rate,
            burst,
        }
    }

    /// Take one token; on refusal, the seconds until one is available.
    pub fn take(&self) -> Result<(), f64> {
        let mut s = self.state.lock().unwrap_or_else(|p| p.into_inner());
        let now = Instant::now();
        let refill = now.duration_since(s.1).as_secs_f64() * self.rate;
        s.0 = (s.0 + refill).min(self.burst);
        s.1 = now;
        if s.0 >= 1.0 {
            s.0 -= 1.0;
            Ok(())
        } else if self.rate > 0.0 {
            Err((1.0 - s.0) / self.rate)
        } else {
            Err(f64::INFINITY)
        }
    }
}

/// The bucket of a site's deletion requests (`POST /v1/forget`): a tenth of its event batches'
/// rate and burst (one at least), since a shopper asks once where a page sends many batches,
/// and each one is a write of its own to the store.
pub fn forget_bucket(limits: &Limits) -> Bucket {
    Bucket::new(
        limits.rate_per_sec / 10.0,
        (limits.rate_burst / 10.0).max(1.0),
    )
}

/// Upper bounds (ms) of the request latency histogram buckets.
pub const LATENCY_BUCKETS_MS: [f64; 9] = [1.0, 5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 1000.0, 5000.0];

/// Counters for `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Events stored.
    pub events_accepted: AtomicU64,
    /// Events rejected as invalid.
    pub events_rejected: AtomicU64,
    /// Events already stored (resent).
    pub events_duplicate: AtomicU64,
    /// Events devices reported they had to drop (queue overflow, rate limit, ...).
    pub device_dropped: AtomicU64,
    /// Batches dropped for a foreign origin.
    pub batches_foreign: AtomicU64,
    /// Requests shed for overload (503).
    pub requests_shed: AtomicU64,
    /// Event batches and deletion requests refused by their rate limits (429).
    pub requests_rate_limited: AtomicU64,
    /// Snapshot builds.
    pub snapshot_builds: AtomicU64,
    /// Size of the last snapshot built, bytes.
    pub snapshot_bytes: AtomicU64,
    /// Time of the last snapshot build, microseconds.
    pub snapshot_build_micros: AtomicU64,
    latency: [AtomicU64; LATENCY_BUCKETS_MS.len() + 1],
    latency_sum_micros: AtomicU64,
}

impl Metrics {
    /// Record one request's latency.
    pub fn observe(&self, ms: f64) {
        let i = LATENCY_BUCKETS_MS
            .iter()
            .position(|&b| ms <= b)
            .unwrap_or(LATENCY_BUCKETS_MS.len());
        self.latency[i].fetch_add(1, Ordering::Relaxed);
        self.latency_sum_micros
            .fetch_add((ms * 1000.0) as u64, Ordering::Relaxed);
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let g = |c: &AtomicU64| c.load(Ordering::Relaxed);
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, v: u64| {
            out.push_str(&format!(
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}\n"
            ));
        };
        counter(
            "tailor_events_accepted_total",
            "Events stored.",
            g(&self.events_accepted),
        );
        counter(
            "tailor_events_rejected_total",
            "Events rejected as invalid.",
            g(&self.events_rejected),
        );
        counter(
            "tailor_events_duplicate_total",
            "Events already stored.",
            g(&self.events_duplicate),
        );
        counter(
            "tailor_device_events_dropped_total",
            "Events browsers reported dropping before they could be sent (full queue, runaway page, oversized, refused, expired).",
            g(&self.device_dropped),
        );
        counter(
            "tailor_batches_foreign_origin_total",
            "Batches dropped for a foreign origin.",
            g(&self.batches_foreign),
        );
        counter(
            "tailor_requests_shed_total",
            "Requests shed for overload.",
            g(&self.requests_shed),
        );
        counter(
            "tailor_requests_rate_limited_total",
            "Event batches and deletion requests over their rate limits.",
            g(&self.requests_rate_limited),
        );
        counter(
            "tailor_snapshot_builds_total",
            "Snapshot builds.",
            g(&self.snapshot_builds),
        );
        out.push_str(&format!(
            "# HELP tailor_snapshot_bytes Size of the last snapshot built.\n# TYPE tailor_snapshot_bytes gauge\ntailor_snapshot_bytes {}\n",
            g(&self.snapshot_bytes)
        ));
        out.push_str(&format!(
            "# HELP tailor_snapshot_build_seconds Time of the last snapshot build.\n# TYPE tailor_snapshot_build_seconds gauge\ntailor_snapshot_build_seconds {}\n",
            g(&self.snapshot_build_micros) as f64 / 1e6
        ));
        out.push_str("# HELP tailor_ingest_request_duration_seconds Latency of POST /v1/events.\n# TYPE tailor_ingest_request_duration_seconds histogram\n");
        let mut cumulative = 0;
        for (i, b) in LATENCY_BUCKETS_MS.iter().enumerate() {
            cumulative += g(&self.latency[i]);
            out.push_str(&format!(
                "tailor_ingest_request_duration_seconds_bucket{{le=\"{}\"}} {cumulative}\n",
                b / 1000.0
            ));
        }
        cumulative += g(&self.latency[LATENCY_BUCKETS_MS.len()]);
        out.push_str(&format!(
            "tailor_ingest_request_duration_seconds_bucket{{le=\"+Inf\"}} {cumulative}\ntailor_ingest_request_duration_seconds_sum {}\ntailor_ingest_request_duration_seconds_count {cumulative}\n",
            g(&self.latency_sum_micros) as f64 / 1e6
        ));
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_compared_as_browsers_send_them() {
        for (written, sent) in [
            ("https://shop.example", "https://shop.example"),
            ("https://Shop.Example/", "https://shop.example"),
            ("https://shop.example:443", "https://shop.example"),
            ("HTTP://shop.example:80/", "http://shop.example"),
            ("http://127.0.0.1:8080", "http://127.0.0.1:8080"),
            ("https://[::1]:8443", "https://[::1]:8443"),
            ("https://[::1]", "https://[::1]"),
        ] {
            assert_eq!(normalize_origin(written).as_deref(), Ok(sent), "{written}");
        }
        for bad in [
            "shop.example",
            "null",
            "ftp://shop.example",
            "https://shop.example/path",
            "https://shop.example?x",
            "https://",
            "https://shop.example:99999",
            "https://user@shop.example",
        ] {
            assert!(normalize_origin(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn bucket_refuses_past_the_burst_and_says_when() {
        let b = Bucket::new(1.0, 3.0);
        for _ in 0..3 {
            assert!(b.take().is_ok());
        }
        let wait = b.take().unwrap_err();
        assert!(wait > 0.0 && wait <= 1.0, "{wait}");
        assert!(Bucket::new(0.0, 0.0).take().unwrap_err().is_infinite());
    }

    #[test]
    fn renders_prometheus_text() {
        let m = Metrics::default();
        m.events_accepted.fetch_add(3, Ordering::Relaxed);
        m.observe(0.5);
        m.observe(30.0);
        m.observe(9000.0);
        let text = m.render();
        assert!(text.contains("tailor_events_accepted_total 3\n"));
        assert!(text.contains("tailor_ingest_request_duration_seconds_bucket{le=\"0.001\"} 1\n"));
        assert!(text.contains("tailor_ingest_request_duration_seconds_bucket{le=\"0.05\"} 2\n"));
        assert!(text.contains("tailor_ingest_request_duration_seconds_bucket{le=\"+Inf\"} 3\n"));
        assert!(text.contains("tailor_ingest_request_duration_seconds_count 3\n"));
    }
}
