//! Durable event storage in embedded SQLite.
//!
//! The database runs in WAL mode with `synchronous=FULL`, so a commit that returned is on disk
//! and a `kill -9` right after an acknowledged write loses nothing. Each event id is stored once
//! (`INSERT OR IGNORE` on the primary key), so a client may resend a batch safely.

use rusqlite::{params, Connection, TransactionBehavior};

/// Every write transaction takes the write lock when it begins. A deferred one that reads
/// first (the tombstones, the latest version) and then writes cannot wait for another process
/// that wrote meanwhile (`tailor build-snapshot` or `import-events` on a database the server
/// has open): SQLite answers SQLITE_BUSY at once, past the busy timeout. An immediate one waits
/// for the lock like any other.
const IMMEDIATE: TransactionBehavior = TransactionBehavior::Immediate;
use std::path::Path;
use std::sync::Mutex;

/// An event accepted for storage.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredEvent {
    /// Client-made unique id.
    pub id: String,
    /// Event type (`page_view`, `product_view`, ...).
    pub kind: String,
    /// Product id, for product events.
    pub item: Option<u64>,
    /// Random shopper id.
    pub shopper: String,
    /// Session id.
    pub session: String,
    /// Client timestamp, milliseconds since the Unix epoch.
    pub ts: i64,
    /// The whole event as JSON.
    pub payload: String,
    /// Sent by a crawler or a headless browser: stored, flagged, never trained on.
    pub bot: bool,
}

/// Result of an insert: how many events were new and how many were already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InsertOutcome {
    /// Events written for the first time.
    pub inserted: usize,
    /// Events whose id was already stored (ignored).
    pub duplicates: usize,
    /// Events of a shopper who was forgotten (`forget`) before they arrived (not stored).
    pub forgotten: usize,
}

/// A storage failure, whatever the backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StorageError(pub String);

impl std::fmt::Display for StorageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for StorageError {}

impl From<rusqlite::Error> for StorageError {
    fn from(e: rusqlite::Error) -> Self {
        StorageError(e.to_string())
    }
}

/// Storage of events and snapshot versions, as the handlers and the snapshot builder use it.
/// [`Store`] (embedded SQLite) implements it; a multi-node deployment can implement it on
/// PostgreSQL without touching the handlers. Every method blocks; async code calls them on
/// `spawn_blocking` (or the group committer's thread).
pub trait EventStore: Send + Sync + 'static {
    /// Store several batches in one durable transaction; each batch's outcome.
    fn insert_batches(
        &self,
        batches: &[(&str, &[StoredEvent])],
        received_at: i64,
    ) -> Result<Vec<InsertOutcome>, StorageError>;
    /// Events stored for `site`.
    fn event_count(&self, site: &str) -> Result<u64, StorageError>;
    /// Whether storage answers, at a cost that does not grow with what it holds and without
    /// waiting for a long read (the readiness probe).
    fn ping(&self) -> Result<(), StorageError>;
    /// What the trainer learns from.
    fn training_events(&self, site: &str) -> Result<TrainingEvents, StorageError>;
    /// Store a snapshot version, keep the last `keep`; the new version number.
    fn put_snapshot(
        &self,
        site: &str,
        snap: &StoredSnapshot,
        keep: usize,
    ) -> Result<u64, StorageError>;
    /// The latest snapshot version.
    fn latest_snapshot(&self, site: &str) -> Result<Option<StoredSnapshot>, StorageError>;
    /// A given snapshot version, if kept.
    fn snapshot(&self, site: &str, version: u64) -> Result<Option<StoredSnapshot>, StorageError>;
    /// Delete a shopper's events (and a customer's stored profile, when given); how many
    /// events and profiles went.
    fn forget(
        &self,
        site: &str,
        shopper: &str,
        customer: Option<&str>,
    ) -> Result<(u64, u64), StorageError>;
    /// Keep a logged-in customer's compact profile (keyed by the merchant's customer id hash),
    /// joined with the one stored before (`Profile::merge`).
    fn put_profile(
        &self,
        site: &str,
        customer: &str,
        profile: &str,
        now: i64,
    ) -> Result<(), StorageError>;
    /// A customer's stored compact profile.
    fn profile(&self, site: &str, customer: &str) -> Result<Option<String>, StorageError>;
    /// Every stored event of `site` not sent by a bot, in time order (for reports and
    /// exports).
    fn events(&self, site: &str) -> Result<Vec<tailor_core::events::Event>, StorageError>;
}

impl EventStore for Store {
    fn insert_batches(
        &self,
        batches: &[(&str, &[StoredEvent])],
        received_at: i64,
    ) -> Result<Vec<InsertOutcome>, StorageError> {
        Ok(Store::insert_batches(self, batches, received_at)?)
    }
    fn event_count(&self, site: &str) -> Result<u64, StorageError> {
        Ok(Store::event_count(self, site)?)
    }
    fn ping(&self) -> Result<(), StorageError> {
        Ok(Store::ping(self)?)
    }
    fn training_events(&self, site: &str) -> Result<TrainingEvents, StorageError> {
        Ok(Store::training_events(self, site)?)
    }
    fn put_snapshot(
        &self,
        site: &str,
        snap: &StoredSnapshot,
        keep: usize,
    ) -> Result<u64, StorageError> {
        Ok(Store::put_snapshot(self, site, snap, keep)?)
    }
    fn latest_snapshot(&self, site: &str) -> Result<Option<StoredSnapshot>, StorageError> {
        Ok(Store::latest_snapshot(self, site)?)
    }
    fn snapshot(&self, site: &str, version: u64) -> Result<Option<StoredSnapshot>, StorageError> {
        Ok(Store::snapshot(self, site, version)?)
    }
    fn forget(
        &self,
        site: &str,
        shopper: &str,
        customer: Option<&str>,
    ) -> Result<(u64, u64), StorageError> {
        Ok(Store::forget(self, site, shopper, customer)?)
    }
    fn put_profile(
        &self,
        site: &str,
        customer: &str,
        profile: &str,
        now: i64,
    ) -> Result<(), StorageError> {
        Ok(Store::put_profile(self, site, customer, profile, now)?)
    }
    fn profile(&self, site: &str, customer: &str) -> Result<Option<String>, StorageError> {
        Ok(Store::profile(self, site, customer)?)
    }
    fn events(&self, site: &str) -> Result<Vec<tailor_core::events::Event>, StorageError> {
        Ok(Store::events(self, site)?)
    }
}

/// The SQLite store at a path, for a long-running server. It survives its data directory
/// going away: when the database cannot be opened, or its file is no longer the one that was
/// opened (the folder was removed, renamed or unmounted), every call fails with a
/// [`StorageError`] (so ingest answers 503 and stores nothing) until the file can be opened
/// again. It never creates the data directory itself: writing into a fresh, empty folder where
/// the real one should be would split the store in two.
pub struct ReopeningStore {
    path: std::path::PathBuf,
    open: Mutex<Option<(std::sync::Arc<Store>, FileId)>>,
}

/// What identifies an open database file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct FileId(u64, u64);

fn file_id(path: &Path) -> std::io::Result<FileId> {
    let m = std::fs::metadata(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::MetadataExt;
        Ok(FileId(m.dev(), m.ino()))
    }
    #[cfg(not(unix))]
    {
        // No inode numbers: only a missing file is noticed.
        let _ = m;
        Ok(FileId(0, 0))
    }
}

impl ReopeningStore {
    /// A store for the database at `path`; tries to open it now, and again on each call
    /// until it succeeds. The error says why the first attempt failed, if it did.
    pub fn new(path: &Path) -> (ReopeningStore, Option<StorageError>) {
        let s = ReopeningStore {
            path: path.to_owned(),
            open: Mutex::new(None),
        };
        let first = s.store().err();
        (s, first)
    }

    /// The open database, opening it if needed and checking that it is still the file at the
    /// configured path.
    fn store(&self) -> Result<std::sync::Arc<Store>, StorageError> {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        let fail = |why: String| StorageError(format!("database {}: {why}", self.path.display()));
        if let Some((store, id)) = open.as_ref() {
            match file_id(&self.path) {
                Ok(now) if now == *id => return Ok(store.clone()),
                Ok(_) => {
                    *open = None;
                    return Err(fail("the file was replaced since it was opened".into()));
                }
                Err(e) => {
                    *open = None;
                    return Err(fail(format!("the file is gone ({e})")));
                }
            }
        }
        match self.path.parent() {
            Some(dir) if !dir.as_os_str().is_empty() && !dir.is_dir() => {
                return Err(fail(format!(
                    "the data directory {} does not exist or is not a directory",
                    dir.display()
                )))
            }
            _ => {}
        }
        let store = Store::open(&self.path).map_err(|e| fail(e.to_string()))?;
        let id = file_id(&self.path).map_err(|e| fail(e.to_string()))?;
        let store = std::sync::Arc::new(store);
        *open = Some((store.clone(), id));
        Ok(store)
    }

    /// Run `f` on the database; an error closes it, so the next call opens it afresh.
    fn with<T>(&self, f: impl FnOnce(&Store) -> rusqlite::Result<T>) -> Result<T, StorageError> {
        let store = self.store()?;
        f(&store).map_err(|e| {
            if let Ok(mut open) = self.open.lock() {
                *open = None;
            }
            StorageError(format!("database {}: {e}", self.path.display()))
        })
    }
}

impl EventStore for ReopeningStore {
    fn insert_batches(
        &self,
        batches: &[(&str, &[StoredEvent])],
        received_at: i64,
    ) -> Result<Vec<InsertOutcome>, StorageError> {
        self.with(|s| s.insert_batches(batches, received_at))
    }
    fn event_count(&self, site: &str) -> Result<u64, StorageError> {
        self.with(|s| s.event_count(site))
    }
    fn ping(&self) -> Result<(), StorageError> {
        self.with(|s| s.ping())
    }
    fn training_events(&self, site: &str) -> Result<TrainingEvents, StorageError> {
        self.with(|s| s.training_events(site))
    }
    fn put_snapshot(
        &self,
        site: &str,
        snap: &StoredSnapshot,
        keep: usize,
    ) -> Result<u64, StorageError> {
        self.with(|s| s.put_snapshot(site, snap, keep))
    }
    fn latest_snapshot(&self, site: &str) -> Result<Option<StoredSnapshot>, StorageError> {
        self.with(|s| s.latest_snapshot(site))
    }
    fn snapshot(&self, site: &str, version: u64) -> Result<Option<StoredSnapshot>, StorageError> {
        self.with(|s| s.snapshot(site, version))
    }
    fn forget(
        &self,
        site: &str,
        shopper: &str,
        customer: Option<&str>,
    ) -> Result<(u64, u64), StorageError> {
        self.with(|s| s.forget(site, shopper, customer))
    }
    fn put_profile(
        &self,
        site: &str,
        customer: &str,
        profile: &str,
        now: i64,
    ) -> Result<(), StorageError> {
        self.with(|s| s.put_profile(site, customer, profile, now))
    }
    fn profile(&self, site: &str, customer: &str) -> Result<Option<String>, StorageError> {
        self.with(|s| s.profile(site, customer))
    }
    fn events(&self, site: &str) -> Result<Vec<tailor_core::events::Event>, StorageError> {
        self.with(|s| s.events(site))
    }
}

/// The SQLite event store. Cheap to share behind an `Arc`; calls block, so async code runs
/// them on `spawn_blocking`.
pub struct Store {
    /// Writes, and the short reads of a request (a snapshot, a profile).
    conn: Mutex<Connection>,
    /// The long reads over every event of a site (training, reports, counts), on a connection
    /// of their own: with WAL a reader never waits for the writer nor holds it up, so a
    /// snapshot build reading a million events (seconds) does not stall the batches arriving
    /// meanwhile.
    reader: Mutex<Connection>,
}

/// Days a forgotten shopper's events are refused (`forget`).
pub const FORGOTTEN_DAYS: i64 = 30;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS events (
    id          TEXT    NOT NULL PRIMARY KEY,
    site        TEXT    NOT NULL,
    kind        TEXT    NOT NULL,
    item        INTEGER,
    shopper     TEXT    NOT NULL,
    session     TEXT    NOT NULL,
    ts          INTEGER NOT NULL,
    received_at INTEGER NOT NULL,
    payload     TEXT    NOT NULL DEFAULT '{}',
    bot         INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_site_kind_item ON events (site, kind, item);
-- A shopper's events, for `forget` (which otherwise reads the whole table under the lock every
-- other request waits on).
CREATE INDEX IF NOT EXISTS events_site_shopper ON events (site, shopper);
-- Shoppers forgotten on request (`forget`): an event of theirs that arrives afterwards (a batch
-- sent before the forget and delivered after it, another tab's) is not stored. The id is a
-- random one the browser replaced when it forgot; only the time of the forget is kept with it,
-- for FORGOTTEN_DAYS.
CREATE TABLE IF NOT EXISTS forgotten (
    site        TEXT    NOT NULL,
    shopper     TEXT    NOT NULL,
    at          INTEGER NOT NULL,
    PRIMARY KEY (site, shopper)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS profiles (
    site        TEXT    NOT NULL,
    customer    TEXT    NOT NULL,
    profile     TEXT    NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (site, customer)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS snapshots (
    site        TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    events      INTEGER NOT NULL,
    raw         BLOB    NOT NULL,
    br          BLOB    NOT NULL,
    gz          BLOB    NOT NULL,
    PRIMARY KEY (site, version)
) WITHOUT ROWID;
";

/// A stored snapshot version.
#[derive(Debug, Clone, PartialEq)]
pub struct StoredSnapshot {
    /// Version number, increasing per site from 1.
    pub version: u64,
    /// When it was built (ms).
    pub created_at: i64,
    /// How many events the site had stored when it was built.
    pub events: u64,
    /// The snapshot bytes.
    pub raw: Vec<u8>,
    /// Brotli-compressed.
    pub br: Vec<u8>,
    /// Gzip-compressed.
    pub gz: Vec<u8>,
}

/// What the trainer needs from the stored events.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct TrainingEvents {
    /// `(session, item, ts ms)` of every product view and recommendation click not from a bot,
    /// in time order.
    pub views: Vec<(String, u64, i64)>,
    /// Items of each stored purchase.
    pub baskets: Vec<Vec<u64>>,
}

impl Store {
    /// Open (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> rusqlite::Result<Store> {
        if let Some(parent) = path.parent() {
            if !parent.as_os_str().is_empty() {
                let _ = std::fs::create_dir_all(parent);
            }
        }
        let conn = Connection::open(path)?;
        conn.pragma_update(None, "journal_mode", "WAL")?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        conn.busy_timeout(std::time::Duration::from_secs(2))?;
        conn.execute_batch(SCHEMA)?;
        // Databases from before the payload column get it added.
        let has_payload = conn
            .prepare("SELECT 1 FROM pragma_table_info('events') WHERE name = 'payload'")?
            .exists([])?;
        if !has_payload {
            conn.execute_batch("ALTER TABLE events ADD COLUMN payload TEXT NOT NULL DEFAULT '{}'")?;
        }
        let has_bot = conn
            .prepare("SELECT 1 FROM pragma_table_info('events') WHERE name = 'bot'")?
            .exists([])?;
        if !has_bot {
            conn.execute_batch("ALTER TABLE events ADD COLUMN bot INTEGER NOT NULL DEFAULT 0")?;
        }
        let reader = Connection::open_with_flags(
            path,
            rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
        )?;
        reader.busy_timeout(std::time::Duration::from_secs(2))?;
        Ok(Store {
            conn: Mutex::new(conn),
            reader: Mutex::new(reader),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (the transaction
        // rolls back), so a poisoned lock is safe to reuse.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn reader(&self) -> std::sync::MutexGuard<'_, Connection> {
        self.reader.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Store `events` for `site` in one transaction; returns once it is durably committed.
    pub fn insert_events(
        &self,
        site: &str,
        events: &[StoredEvent],
        received_at: i64,
    ) -> rusqlite::Result<InsertOutcome> {
        Ok(self.insert_batches(&[(site, events)], received_at)?[0])
    }

    /// Store several batches in one transaction (group commit: one disk sync for all of
    /// them); returns once it is durably committed, with each batch's outcome.
    pub fn insert_batches(
        &self,
        batches: &[(&str, &[StoredEvent])],
        received_at: i64,
    ) -> rusqlite::Result<Vec<InsertOutcome>> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(IMMEDIATE)?;
        let mut outcomes = Vec::with_capacity(batches.len());
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO events (id, site, kind, item, shopper, session, ts, received_at, payload, bot)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
            )?;
            let mut gone =
                tx.prepare_cached("SELECT 1 FROM forgotten WHERE site = ?1 AND shopper = ?2")?;
            for &(site, events) in batches {
                let mut outcome = InsertOutcome::default();
                // (A batch is one shopper's, as a rule: each shopper is looked up once.)
                let mut last: Option<(&str, bool)> = None;
                for e in events {
                    let forgotten = match last {
                        Some((shopper, known)) if shopper == e.shopper => known,
                        _ => {
                            let known = gone.exists(params![site, e.shopper])?;
                            last = Some((e.shopper.as_str(), known));
                            known
                        }
                    };
                    if forgotten {
                        outcome.forgotten += 1;
                        continue;
                    }
                    let item = e.item.map(|i| i as i64);
                    let n = stmt.execute(params![
                        e.id,
                        site,
                        e.kind,
                        item,
                        e.shopper,
                        e.session,
                        e.ts,
                        received_at,
                        e.payload,
                        e.bot
                    ])?;
                    if n == 1 {
                        outcome.inserted += 1;
                    } else {
                        outcome.duplicates += 1;
                    }
                }
                outcomes.push(outcome);
            }
        }
        tx.commit()?;
        Ok(outcomes)
    }

    /// Number of `product_view` events per item for `site`.
    pub fn product_view_counts(&self, site: &str) -> rusqlite::Result<Vec<(u64, u64)>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT item, COUNT(*) FROM events
             WHERE site = ?1 AND kind = 'product_view' AND item IS NOT NULL
             GROUP BY item ORDER BY item",
        )?;
        let rows = stmt.query_map(params![site], |r| {
            Ok((r.get::<_, i64>(0)? as u64, r.get::<_, i64>(1)? as u64))
        })?;
        rows.collect()
    }

    /// Store a new snapshot version for `site` and keep only the latest `keep` versions.
    /// Returns the new version number.
    pub fn put_snapshot(
        &self,
        site: &str,
        snap: &StoredSnapshot,
        keep: usize,
    ) -> rusqlite::Result<u64> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(IMMEDIATE)?;
        let latest: i64 = tx.query_row(
            "SELECT COALESCE(MAX(version), 0) FROM snapshots WHERE site = ?1",
            params![site],
            |r| r.get(0),
        )?;
        let version = latest + 1;
        tx.execute(
            "INSERT INTO snapshots (site, version, created_at, events, raw, br, gz)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                site,
                version,
                snap.created_at,
                snap.events as i64,
                snap.raw,
                snap.br,
                snap.gz
            ],
        )?;
        tx.execute(
            "DELETE FROM snapshots WHERE site = ?1 AND version <= ?2",
            params![site, version - keep.max(1) as i64],
        )?;
        tx.commit()?;
        Ok(version as u64)
    }

    /// Delete every event of `shopper` on `site`, and `customer`'s stored profile when given,
    /// and refuse the shopper's events from now on (`insert_batches`), so that one already on
    /// its way is not stored after the forget. Returns how many events and profiles were
    /// deleted.
    pub fn forget(
        &self,
        site: &str,
        shopper: &str,
        customer: Option<&str>,
    ) -> rusqlite::Result<(u64, u64)> {
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(IMMEDIATE)?;
        let events = tx.execute(
            "DELETE FROM events WHERE site = ?1 AND shopper = ?2",
            params![site, shopper],
        )?;
        // (Kept FORGOTTEN_DAYS: what was on its way when the browser forgot arrives within
        // seconds, and its queue is gone. Older ones go with each forget.)
        let now = crate::now_ms();
        tx.execute(
            "DELETE FROM forgotten WHERE at < ?1",
            params![now - FORGOTTEN_DAYS * 86_400_000],
        )?;
        tx.execute(
            "INSERT OR REPLACE INTO forgotten (site, shopper, at) VALUES (?1, ?2, ?3)",
            params![site, shopper, now],
        )?;
        let profiles = match customer {
            Some(c) => tx.execute(
                "DELETE FROM profiles WHERE site = ?1 AND customer = ?2",
                params![site, c],
            )?,
            None => 0,
        };
        tx.commit()?;
        Ok((events as u64, profiles as u64))
    }

    /// Keep `customer`'s compact profile, joined with the one stored before
    /// (`Profile::merge`: a device that started without the stored copy, or two devices that
    /// each went on from it, lose nothing of the other's history). One the engine cannot read
    /// is stored as sent, and a stored one it cannot read is replaced.
    pub fn put_profile(
        &self,
        site: &str,
        customer: &str,
        profile: &str,
        now: i64,
    ) -> rusqlite::Result<()> {
        use rusqlite::OptionalExtension;
        use tailor_core::profile::Profile;
        let mut conn = self.conn();
        let tx = conn.transaction_with_behavior(IMMEDIATE)?;
        let stored: Option<String> = tx
            .query_row(
                "SELECT profile FROM profiles WHERE site = ?1 AND customer = ?2",
                params![site, customer],
                |r| r.get(0),
            )
            .optional()?;
        let joined = match (
            stored.and_then(|s| Profile::decode_compact(&s).ok()),
            Profile::decode_compact(profile),
        ) {
            (Some(mut p), Ok(sent)) => {
                p.merge(&sent);
                p.encode_compact()
            }
            _ => profile.to_owned(),
        };
        tx.execute(
            "INSERT INTO profiles (site, customer, profile, updated_at) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (site, customer) DO UPDATE SET profile = ?3, updated_at = ?4",
            params![site, customer, joined, now],
        )?;
        tx.commit()
    }

    /// `customer`'s stored compact profile.
    pub fn profile(&self, site: &str, customer: &str) -> rusqlite::Result<Option<String>> {
        use rusqlite::OptionalExtension;
        self.conn()
            .query_row(
                "SELECT profile FROM profiles WHERE site = ?1 AND customer = ?2",
                params![site, customer],
                |r| r.get(0),
            )
            .optional()
    }

    /// The latest snapshot of `site`, if any was built.
    pub fn latest_snapshot(&self, site: &str) -> rusqlite::Result<Option<StoredSnapshot>> {
        self.snapshot_where(site, "ORDER BY version DESC LIMIT 1", None)
    }

    /// Snapshot `version` of `site`, if it is still kept.
    pub fn snapshot(&self, site: &str, version: u64) -> rusqlite::Result<Option<StoredSnapshot>> {
        self.snapshot_where(site, "AND version = ?2", Some(version))
    }

    fn snapshot_where(
        &self,
        site: &str,
        clause: &str,
        version: Option<u64>,
    ) -> rusqlite::Result<Option<StoredSnapshot>> {
        let conn = self.conn();
        let sql = format!(
            "SELECT version, created_at, events, raw, br, gz FROM snapshots WHERE site = ?1 {clause}"
        );
        let mut stmt = conn.prepare_cached(&sql)?;
        let row = |r: &rusqlite::Row<'_>| {
            Ok(StoredSnapshot {
                version: r.get::<_, i64>(0)? as u64,
                created_at: r.get(1)?,
                events: r.get::<_, i64>(2)? as u64,
                raw: r.get(3)?,
                br: r.get(4)?,
                gz: r.get(5)?,
            })
        };
        let mut rows = match version {
            Some(v) => stmt.query_map(params![site, v as i64], row)?,
            None => stmt.query_map(params![site], row)?,
        };
        rows.next().transpose()
    }

    /// Versions of `site` that are kept, oldest first.
    pub fn snapshot_versions(&self, site: &str) -> rusqlite::Result<Vec<u64>> {
        let conn = self.conn();
        let mut stmt =
            conn.prepare_cached("SELECT version FROM snapshots WHERE site = ?1 ORDER BY version")?;
        let rows = stmt.query_map(params![site], |r| r.get::<_, i64>(0).map(|v| v as u64))?;
        rows.collect()
    }

    /// The stored events the trainer learns from.
    pub fn training_events(&self, site: &str) -> rusqlite::Result<TrainingEvents> {
        let conn = self.reader();
        let mut out = TrainingEvents::default();
        let mut stmt = conn.prepare_cached(
            "SELECT session, item, ts FROM events
             WHERE site = ?1 AND kind IN ('product_view', 'rec_click') AND item IS NOT NULL
               AND bot = 0
             ORDER BY ts, id",
        )?;
        let rows = stmt.query_map(params![site], |r| {
            Ok((
                r.get::<_, String>(0)?,
                r.get::<_, i64>(1)? as u64,
                r.get::<_, i64>(2)?,
            ))
        })?;
        for row in rows {
            out.views.push(row?);
        }
        let mut stmt = conn.prepare_cached(
            "SELECT payload FROM events WHERE site = ?1 AND kind = 'purchase' AND bot = 0 ORDER BY ts, id",
        )?;
        let rows = stmt.query_map(params![site], |r| r.get::<_, String>(0))?;
        for payload in rows {
            let payload = payload?;
            if let Ok(v) = serde_json::from_str::<serde_json::Value>(&payload) {
                let items: Vec<u64> = v["lines"]
                    .as_array()
                    .map(|lines| lines.iter().filter_map(|l| l["item"].as_u64()).collect())
                    .unwrap_or_default();
                if !items.is_empty() {
                    out.baskets.push(items);
                }
            }
        }
        Ok(out)
    }

    /// Every stored event of `site` not sent by a bot, parsed from its payload, in time order.
    /// Rows stored before payloads were kept (payload `{}`) are skipped.
    pub fn events(&self, site: &str) -> rusqlite::Result<Vec<tailor_core::events::Event>> {
        let conn = self.reader();
        let mut stmt = conn.prepare_cached(
            "SELECT payload FROM events WHERE site = ?1 AND bot = 0 ORDER BY ts, id",
        )?;
        let rows = stmt.query_map(params![site], |r| r.get::<_, String>(0))?;
        let mut out = Vec::new();
        for payload in rows {
            if let Ok(e) = serde_json::from_str::<tailor_core::events::Event>(&payload?) {
                out.push(e);
            }
        }
        Ok(out)
    }

    /// Every stored event id of `site`, sorted.
    pub fn event_ids(&self, site: &str) -> rusqlite::Result<Vec<String>> {
        let conn = self.reader();
        let mut stmt = conn.prepare("SELECT id FROM events WHERE site = ?1 ORDER BY id")?;
        let rows = stmt.query_map(params![site], |r| r.get(0))?;
        rows.collect()
    }

    /// Whether the database answers: one row of the events table at most, read on the
    /// writer's connection, so a training read (seconds, on the reader's) never holds it up and
    /// its cost does not grow with the events stored (a `COUNT` did, at every probe).
    pub fn ping(&self) -> rusqlite::Result<()> {
        self.conn()
            .prepare_cached("SELECT 1 FROM events LIMIT 1")?
            .query([])?
            .next()
            .map(drop)
    }

    /// Total number of stored events for `site`.
    pub fn event_count(&self, site: &str) -> rusqlite::Result<u64> {
        self.reader().query_row(
            "SELECT COUNT(*) FROM events WHERE site = ?1",
            params![site],
            |r| r.get::<_, i64>(0).map(|n| n as u64),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ev(id: &str, item: u64) -> StoredEvent {
        StoredEvent {
            id: id.to_owned(),
            kind: "product_view".to_owned(),
            item: Some(item),
            shopper: "s".to_owned(),
            session: "x".to_owned(),
            ts: 1,
            payload: "{}".to_owned(),
            bot: false,
        }
    }

    /// `f`'s answer, run on another thread while a long read (a snapshot build's, a report's)
    /// holds the reader's connection, its first row read and the rest still to come.
    fn while_reading<T: Send + 'static>(
        store: &std::sync::Arc<Store>,
        f: impl FnOnce(&Store) -> T + Send + 'static,
    ) -> T {
        let reader = store.reader();
        let mut stmt = reader.prepare("SELECT id FROM events").unwrap();
        let mut rows = stmt.query([]).unwrap();
        assert!(rows.next().unwrap().is_some(), "the read is under way");
        let other = store.clone();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let _ = tx.send(f(&other));
        });
        // (Not a wait for `f`: a bound on it, which `f` queued behind the read would exceed by
        // forever.)
        rx.recv_timeout(std::time::Duration::from_secs(60))
            .expect("it waited for the read to end")
    }

    /// A long read (a snapshot build's, a report's) is on a connection of its own: a batch is
    /// written and committed while it is still going.
    #[test]
    fn a_long_read_holds_up_no_write() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(Store::open(&dir.path().join("t.db")).unwrap());
        store
            .insert_events("demo", &[ev("a", 1), ev("b", 2)], 0)
            .unwrap();
        let inserted = while_reading(&store, |s| {
            s.insert_events("demo", &[ev("c", 3)], 0)
                .map(|o| o.inserted)
        });
        assert_eq!(inserted.unwrap(), 1);
        assert_eq!(store.event_count("demo").unwrap(), 3, "a new read sees it");
    }

    /// The readiness probe's query answers while a long read holds the reader's connection
    /// (a snapshot build reads every event for seconds), and on an empty store too.
    #[test]
    fn a_ping_waits_for_no_long_read() {
        let dir = tempfile::tempdir().unwrap();
        let store = std::sync::Arc::new(Store::open(&dir.path().join("t.db")).unwrap());
        store.ping().unwrap();
        store.insert_events("demo", &[ev("a", 1)], 0).unwrap();
        let answer = while_reading(&store, |s| s.ping());
        assert!(answer.is_ok(), "{answer:?}");
    }

    #[test]
    fn stores_each_id_once_across_reopen() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        {
            let store = Store::open(&path).unwrap();
            let out = store
                .insert_events("demo", &[ev("a", 1), ev("b", 1), ev("a", 1)], 0)
                .unwrap();
            assert_eq!(
                out,
                InsertOutcome {
                    inserted: 2,
                    duplicates: 1,
                    forgotten: 0
                }
            );
        }
        let store = Store::open(&path).unwrap();
        let out = store
            .insert_events("demo", &[ev("b", 1), ev("c", 2)], 0)
            .unwrap();
        assert_eq!(out.inserted, 1);
        assert_eq!(out.duplicates, 1);
        assert_eq!(
            store.product_view_counts("demo").unwrap(),
            vec![(1, 2), (2, 1)]
        );
        assert_eq!(store.product_view_counts("other").unwrap(), vec![]);
        assert_eq!(store.event_count("demo").unwrap(), 3);
    }

    #[test]
    fn keeps_the_last_n_snapshot_versions() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        assert_eq!(store.latest_snapshot("demo").unwrap(), None);
        let snap = |b: u8| StoredSnapshot {
            version: 0,
            created_at: 1,
            events: 0,
            raw: vec![b],
            br: vec![b, 1],
            gz: vec![b, 2],
        };
        for b in 1..=4 {
            store.put_snapshot("demo", &snap(b), 2).unwrap();
        }
        assert_eq!(store.snapshot_versions("demo").unwrap(), vec![3, 4]);
        let latest = store.latest_snapshot("demo").unwrap().unwrap();
        assert_eq!((latest.version, latest.raw.clone()), (4, vec![4]));
        assert_eq!(store.snapshot("demo", 3).unwrap().unwrap().gz, vec![3, 2]);
        assert_eq!(store.snapshot("demo", 1).unwrap(), None);
        assert_eq!(store.latest_snapshot("other").unwrap(), None);
    }

    #[test]
    fn forgetting_a_shopper_reads_only_their_events() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let mut other = ev("b", 2);
        other.shopper = "t".to_owned();
        store
            .insert_events("demo", &[ev("a", 1), other], 0)
            .unwrap();
        let plan: Vec<String> = {
            let conn = store.conn();
            let mut q = conn
                .prepare("EXPLAIN QUERY PLAN DELETE FROM events WHERE site = ?1 AND shopper = ?2")
                .unwrap();
            q.query_map(params!["demo", "s"], |r| r.get::<_, String>(3))
                .unwrap()
                .map(Result::unwrap)
                .collect()
        };
        assert!(
            plan.iter()
                .any(|p| p.contains("USING INDEX events_site_shopper")),
            "{plan:?}"
        );
        assert_eq!(store.forget("demo", "s", None).unwrap(), (1, 0));
        assert_eq!(store.event_count("demo").unwrap(), 1);
    }

    #[test]
    fn a_forgotten_shoppers_events_that_arrive_later_are_not_stored() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.db");
        let store = Store::open(&path).unwrap();
        store.insert_events("demo", &[ev("a", 1)], 0).unwrap();
        assert_eq!(store.forget("demo", "s", None).unwrap(), (1, 0));
        // A batch sent before the forget, delivered after it, mixed with another shopper's
        // events and a second shopper's on another site.
        let mut other = ev("c", 3);
        other.shopper = "t".to_owned();
        let late = [ev("b", 2), other, ev("d", 4)];
        let out = store
            .insert_batches(&[("demo", &late[..]), ("shop2", &[ev("e", 5)][..])], 0)
            .unwrap();
        assert_eq!(
            (out[0].inserted, out[0].duplicates, out[0].forgotten),
            (1, 0, 2)
        );
        assert_eq!(
            (out[1].inserted, out[1].forgotten),
            (1, 0),
            "another site's"
        );
        assert_eq!(store.event_count("demo").unwrap(), 1);
        drop(store);
        // Across a restart too.
        let store = Store::open(&path).unwrap();
        let out = store.insert_events("demo", &[ev("f", 6)], 0).unwrap();
        assert_eq!((out.inserted, out.forgotten), (0, 1));
        assert_eq!(store.event_count("demo").unwrap(), 1);
        // After FORGOTTEN_DAYS the id is let go, with the next forget.
        store
            .conn()
            .execute(
                "UPDATE forgotten SET at = at - ?1",
                params![(FORGOTTEN_DAYS + 1) * 86_400_000],
            )
            .unwrap();
        store.forget("demo", "someone-else", None).unwrap();
        let out = store.insert_events("demo", &[ev("g", 7)], 0).unwrap();
        assert_eq!((out.inserted, out.forgotten), (1, 0));
    }

    #[test]
    fn uses_wal_and_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        let conn = store.conn();
        let mode: String = conn
            .query_row("PRAGMA journal_mode", [], |r| r.get(0))
            .unwrap();
        let sync: i64 = conn
            .query_row("PRAGMA synchronous", [], |r| r.get(0))
            .unwrap();
        assert_eq!(mode, "wal");
        assert_eq!(sync, 2); // FULL
    }
}
