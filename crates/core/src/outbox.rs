//! The outbound event queue's policy: what to send, when to retry and what to drop. Pure logic
//! with the clock passed in (`now`, ms) and the randomness passed in (`jitter`, 0..1), so every
//! rule is tested exhaustively here; the browser only does the I/O (storage, `fetch`,
//! `sendBeacon`).
//!
//! - Events wait in order, capped at [`Limits::max_events`] and [`Limits::max_bytes`]; when full
//!   the oldest are dropped and counted.
//! - A token bucket ([`Limits::rate_per_sec`], [`Limits::burst`]) caps a runaway page; events over
//!   it are dropped and counted.
//! - A batch holds at most [`Limits::max_batch_bytes`] of events. A single event larger than
//!   that is dropped and counted.
//! - Nothing is sent while offline, while a batch is in flight, or before the retry time.
//! - The answer decides:
//!   - 2xx: the batch's events are done.
//!   - 408, 429, 5xx other than 501 and 505, and network errors: retry the same events (same
//!     ids) with exponential backoff and jitter, the first after at least 0.5 s, at most 60 s
//!     apart, honouring `Retry-After`. After 12 hours of failing, everything queued is dropped
//!     and counted.
//!   - 413: the batch is split (the next batches hold half as many events, until a success);
//!     a single event that is still refused is dropped and counted.
//!   - Any other 4xx: the batch is dropped and counted.
//! - A batch that never got an answer (the page went away) stays queued and is sent again.

use std::collections::VecDeque;

/// The queue's limits.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Limits {
    /// Most events kept.
    pub max_events: usize,
    /// Most bytes of event JSON kept.
    pub max_bytes: usize,
    /// Most bytes of event JSON in one batch.
    pub max_batch_bytes: usize,
    /// The first retry waits at least this long (ms).
    pub first_retry_ms: i64,
    /// Retries are at most this far apart (ms).
    pub max_retry_ms: i64,
    /// After failing this long (ms), give up on what is queued.
    pub give_up_ms: i64,
    /// Events per second a page may record, sustained.
    pub rate_per_sec: f64,
    /// Events a page may record in a burst.
    pub burst: f64,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_events: 1000,
            max_bytes: 512 * 1024,
            // The whole request, envelope included, must stay under the 64 KiB that browsers
            // allow a keepalive fetch (and a beacon) to carry.
            max_batch_bytes: 63 * 1024,
            first_retry_ms: 500,
            max_retry_ms: 60_000,
            give_up_ms: 12 * 3600 * 1000,
            rate_per_sec: 10.0,
            burst: 100.0,
        }
    }
}

/// Why events were dropped, counted for diagnostics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Dropped {
    /// The queue was full: the oldest went.
    pub overflow: u64,
    /// Over the page's rate limit.
    pub rate_limited: u64,
    /// One event alone was larger than a batch may be.
    pub oversized: u64,
    /// The server refused them (4xx other than 408, 413, 429), or a stored line was not an
    /// event's JSON ([`Outbox::restore`]).
    pub rejected: u64,
    /// Retried for longer than [`Limits::give_up_ms`].
    pub expired: u64,
}

/// How a send ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// An HTTP answer, with `Retry-After` in ms when the server sent one.
    Status {
        /// The status code.
        code: u16,
        /// `Retry-After`, in ms.
        retry_after_ms: Option<i64>,
    },
    /// No answer: offline, DNS, connection reset, CORS, timeout.
    NetworkError,
}

/// A batch to send: the events' JSON joined as a JSON array, and how many of the queue's first
/// events it holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Batch {
    /// `[event, event, ...]`.
    pub events_json: String,
    /// The first `count` queued events.
    pub count: usize,
}

#[derive(Debug, Clone, PartialEq)]
struct Queued {
    json: String,
}

/// The queue and its retry state.
#[derive(Debug, Clone, PartialEq)]
pub struct Outbox {
    limits: Limits,
    queue: VecDeque<Queued>,
    bytes: usize,
    /// Events dropped, by reason.
    pub dropped: Dropped,
    /// The batch in flight: how many of the first events.
    in_flight: Option<usize>,
    failures: u32,
    failing_since: Option<i64>,
    next_try_at: i64,
    /// Most events in a batch: halved by each 413, reset by a success.
    batch_events: usize,
    tokens: f64,
    tokens_at: i64,
}

impl Outbox {
    /// An empty queue.
    pub fn new(limits: Limits) -> Outbox {
        Outbox {
            limits,
            queue: VecDeque::new(),
            bytes: 0,
            dropped: Dropped::default(),
            in_flight: None,
            failures: 0,
            failing_since: None,
            next_try_at: 0,
            batch_events: usize::MAX,
            tokens: limits.burst,
            tokens_at: 0,
        }
    }

    /// Events waiting (including a batch in flight).
    pub fn len(&self) -> usize {
        self.queue.len()
    }

    /// Whether nothing waits.
    pub fn is_empty(&self) -> bool {
        self.queue.is_empty()
    }

    /// The queued events' JSON, oldest first (what the browser persists).
    pub fn events(&self) -> impl Iterator<Item = &str> {
        self.queue.iter().map(|q| q.json.as_str())
    }

    /// When the next send may start (ms); 0 when it may start now.
    pub fn next_try_at(&self) -> i64 {
        self.next_try_at
    }

    /// The queue as stored on the device: one event's JSON per line, oldest first.
    /// (`JSON.stringify` never writes a raw newline, so a line is an event.)
    pub fn to_lines(&self) -> String {
        let mut out = String::with_capacity(self.bytes + self.queue.len());
        for (k, q) in self.queue.iter().enumerate() {
            if k > 0 {
                out.push('\n');
            }
            out.push_str(&q.json);
        }
        out
    }

    /// Count an event that was never queued because it is not valid (one the page made
    /// itself, checked where the queue lives): a device's `rejected`, as a line that cannot be
    /// read back is, so that the merchant sees it.
    pub fn reject(&mut self) {
        self.dropped.rejected += 1;
    }

    /// Put back what [`Outbox::to_lines`] stored on an earlier page (not rate-limited: these
    /// events were accepted already). Empty lines are skipped; the caps still apply. A line
    /// that is not a JSON object (storage damaged, or written by something else) is dropped
    /// and counted as `rejected`: sent, it would make the server refuse its whole batch, and
    /// the good events with it.
    pub fn restore(&mut self, lines: &str) {
        for line in lines.split('\n').filter(|l| !l.trim().is_empty()) {
            if !is_json_object(line) {
                self.dropped.rejected += 1;
                continue;
            }
            self.bytes += line.len();
            self.queue.push_back(Queued {
                json: line.to_owned(),
            });
        }
        while self.queue.len() > self.limits.max_events || self.bytes > self.limits.max_bytes {
            if let Some(q) = self.queue.pop_front() {
                self.bytes -= q.json.len();
                self.dropped.overflow += 1;
            }
        }
    }

    /// Record one event (its JSON) at `now`. Returns false when the rate limit dropped it.
    pub fn push(&mut self, json: String, now: i64) -> bool {
        let elapsed = (now - self.tokens_at).max(0) as f64 / 1000.0;
        self.tokens = (self.tokens + elapsed * self.limits.rate_per_sec).min(self.limits.burst);
        self.tokens_at = now;
        if self.tokens < 1.0 {
            self.dropped.rate_limited += 1;
            return false;
        }
        self.tokens -= 1.0;
        self.bytes += json.len();
        self.queue.push_back(Queued { json });
        while self.queue.len() > self.limits.max_events || self.bytes > self.limits.max_bytes {
            // The oldest goes, unless it is part of the batch in flight (its answer is
            // pending); then the oldest after the batch goes.
            let at = self.in_flight.unwrap_or(0);
            if at >= self.queue.len() {
                break;
            }
            if let Some(q) = self.queue.remove(at) {
                self.bytes -= q.json.len();
                self.dropped.overflow += 1;
            }
        }
        true
    }

    /// The next batch to send, if one may go now: online, nothing in flight, past the retry
    /// time. It is marked in flight until [`Outbox::answered`] or [`Outbox::abandoned`].
    pub fn next_batch(&mut self, now: i64, online: bool) -> Option<Batch> {
        if !online || self.in_flight.is_some() || now < self.next_try_at {
            return None;
        }
        // A single event over the batch limit can never be sent.
        while let Some(first) = self.queue.front() {
            if first.json.len() + 2 > self.limits.max_batch_bytes {
                let q = self.queue.pop_front()?;
                self.bytes -= q.json.len();
                self.dropped.oversized += 1;
            } else {
                break;
            }
        }
        if self.queue.is_empty() {
            return None;
        }
        let mut body = String::from("[");
        let mut count = 0;
        for q in &self.queue {
            let extra = q.json.len() + usize::from(count > 0);
            if count > 0
                && (body.len() + extra + 1 > self.limits.max_batch_bytes
                    || count >= self.batch_events)
            {
                break;
            }
            if count > 0 {
                body.push(',');
            }
            body.push_str(&q.json);
            count += 1;
        }
        body.push(']');
        self.in_flight = Some(count);
        Some(Batch {
            events_json: body,
            count,
        })
    }

    /// The device came back online: the next send may go at once (a wait after network errors
    /// was only waiting for this). The backoff level is kept for later failures.
    pub fn online(&mut self) {
        self.next_try_at = 0;
    }

    /// The batch in flight got no answer and never will (the page went away): its events stay
    /// queued, to be sent again with the same ids.
    pub fn abandoned(&mut self) {
        self.in_flight = None;
    }

    fn remove_front(&mut self, n: usize) {
        for _ in 0..n {
            if let Some(q) = self.queue.pop_front() {
                self.bytes -= q.json.len();
            }
        }
    }

    fn retry_later(&mut self, now: i64, retry_after_ms: Option<i64>, jitter: f64) {
        let since = *self.failing_since.get_or_insert(now);
        if now - since >= self.limits.give_up_ms {
            self.dropped.expired += self.queue.len() as u64;
            self.queue.clear();
            self.bytes = 0;
            self.failures = 0;
            self.failing_since = None;
            self.next_try_at = 0;
            return;
        }
        let exp = self
            .limits
            .first_retry_ms
            .saturating_mul(1i64 << self.failures.min(30));
        let base = exp.min(self.limits.max_retry_ms);
        // Jitter spreads the retries of many tabs over [base, 1.5 base), never below the
        // first-retry floor.
        let jittered = (base as f64 * (1.0 + 0.5 * jitter.clamp(0.0, 1.0))) as i64;
        let wait = jittered
            .min(self.limits.max_retry_ms)
            .max(self.limits.first_retry_ms)
            .max(retry_after_ms.unwrap_or(0).min(self.limits.give_up_ms));
        self.failures += 1;
        self.next_try_at = now + wait;
    }

    /// The answer to the batch in flight, at `now`; `jitter` is a random number in 0..1.
    pub fn answered(&mut self, outcome: Outcome, now: i64, jitter: f64) {
        let Some(count) = self.in_flight.take() else {
            return;
        };
        match outcome {
            Outcome::Status { code, .. } if (200..300).contains(&code) => {
                self.remove_front(count);
                self.failures = 0;
                self.failing_since = None;
                self.next_try_at = 0;
                // A successful send after a split lets batches grow back.
                self.batch_events = usize::MAX;
            }
            Outcome::Status { code: 413, .. } => {
                if count <= 1 {
                    self.remove_front(1);
                    self.dropped.oversized += 1;
                } else {
                    self.batch_events = (count / 2).max(1);
                }
            }
            Outcome::Status {
                code,
                retry_after_ms,
            } if code == 408 || code == 429 || (code >= 500 && code != 501 && code != 505) => {
                self.retry_later(now, retry_after_ms, jitter)
            }
            Outcome::NetworkError => self.retry_later(now, None, jitter),
            Outcome::Status { .. } => {
                self.remove_front(count);
                self.dropped.rejected += count as u64;
            }
        }
    }
}

/// Whether `text` is one JSON object and nothing else (RFC 8259's grammar; the numbers'
/// digits are not checked one by one). Small on purpose: the browser build carries it, and
/// a JSON parser would cost it 2 KB.
pub fn is_json_object(text: &str) -> bool {
    let b = text.as_bytes();
    let mut at = 0;
    skip_space(b, &mut at);
    b.get(at) == Some(&b'{') && json_value(b, &mut at, 0) && {
        skip_space(b, &mut at);
        at == b.len()
    }
}

fn skip_space(b: &[u8], at: &mut usize) {
    while matches!(b.get(*at), Some(b' ' | b'\t' | b'\r' | b'\n')) {
        *at += 1;
    }
}

/// One JSON value at `at`, which ends past it; `depth` bounds the nesting.
fn json_value(b: &[u8], at: &mut usize, depth: u32) -> bool {
    skip_space(b, at);
    let Some(&c) = b.get(*at) else { return false };
    *at += 1;
    match c {
        b'{' | b'[' => {
            let close = if c == b'{' { b'}' } else { b']' };
            if depth > 64 {
                return false;
            }
            skip_space(b, at);
            if b.get(*at) == Some(&close) {
                *at += 1;
                return true;
            }
            loop {
                if c == b'{' {
                    skip_space(b, at);
                    if b.get(*at) != Some(&b'"') || !json_value(b, at, depth) {
                        return false;
                    }
                    skip_space(b, at);
                    if b.get(*at) != Some(&b':') {
                        return false;
                    }
                    *at += 1;
                }
                if !json_value(b, at, depth + 1) {
                    return false;
                }
                skip_space(b, at);
                match b.get(*at) {
                    Some(&b',') => *at += 1,
                    Some(&x) if x == close => {
                        *at += 1;
                        return true;
                    }
                    _ => return false,
                }
            }
        }
        b'"' => loop {
            match b.get(*at) {
                Some(b'"') => {
                    *at += 1;
                    return true;
                }
                Some(b'\\') => *at += 2,
                Some(&x) if x >= 0x20 => *at += 1,
                _ => return false,
            }
        },
        b't' | b'f' | b'n' => {
            let word: &[u8] = match c {
                b't' => b"rue",
                b'f' => b"alse",
                _ => b"ull",
            };
            let ok = b[*at..].starts_with(word);
            *at += word.len();
            ok
        }
        b'-' | b'0'..=b'9' => {
            while matches!(
                b.get(*at),
                Some(b'0'..=b'9' | b'.' | b'e' | b'E' | b'+' | b'-')
            ) {
                *at += 1;
            }
            true
        }
        _ => false,
    }
}

/// Which tab sends when several are open: the holder of a lease that it renews while alive.
/// `lease` is the stored `(tab, renewed_at)`; returns the lease to store, and whether `me`
/// holds it. A lease not renewed for `ttl_ms` (its tab died) passes to the next tab that asks.
pub fn lease(
    current: Option<(&str, i64)>,
    me: &str,
    now: i64,
    ttl_ms: i64,
) -> (Option<(String, i64)>, bool) {
    match current {
        Some((holder, at)) if holder != me && now - at < ttl_ms && now >= at => {
            (Some((holder.to_owned(), at)), false)
        }
        _ => (Some((me.to_owned(), now)), true),
    }
}

#[cfg(test)]
mod tests;
