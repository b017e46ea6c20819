//! Durable event storage in embedded SQLite.
//!
//! The database runs in WAL mode with `synchronous=FULL`, so a commit that returned is on disk
//! and a `kill -9` right after an acknowledged write loses nothing. Each event id is stored once
//! (`INSERT OR IGNORE` on the primary key), so a client may resend a batch safely.

use rusqlite::{params, Connection};
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
}

/// Result of an insert: how many events were new and how many were already stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct InsertOutcome {
    /// Events written for the first time.
    pub inserted: usize,
    /// Events whose id was already stored (ignored).
    pub duplicates: usize,
}

/// The SQLite event store. Cheap to share behind an `Arc`; calls block, so async code runs
/// them on `spawn_blocking`.
pub struct Store {
    conn: Mutex<Connection>,
}

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
    payload     TEXT    NOT NULL DEFAULT '{}'
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS events_site_kind_item ON events (site, kind, item);
";

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
        Ok(Store {
            conn: Mutex::new(conn),
        })
    }

    fn conn(&self) -> std::sync::MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (the transaction
        // rolls back), so a poisoned lock is safe to reuse.
        self.conn.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Store `events` for `site` in one transaction; returns once it is durably committed.
    pub fn insert_events(
        &self,
        site: &str,
        events: &[StoredEvent],
        received_at: i64,
    ) -> rusqlite::Result<InsertOutcome> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let mut outcome = InsertOutcome::default();
        {
            let mut stmt = tx.prepare_cached(
                "INSERT OR IGNORE INTO events (id, site, kind, item, shopper, session, ts, received_at, payload)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            )?;
            for e in events {
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
                    e.payload
                ])?;
                if n == 1 {
                    outcome.inserted += 1;
                } else {
                    outcome.duplicates += 1;
                }
            }
        }
        tx.commit()?;
        Ok(outcome)
    }

    /// Number of `product_view` events per item for `site`.
    pub fn product_view_counts(&self, site: &str) -> rusqlite::Result<Vec<(u64, u64)>> {
        let conn = self.conn();
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

    /// Total number of stored events for `site`.
    pub fn event_count(&self, site: &str) -> rusqlite::Result<u64> {
        self.conn().query_row(
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
        }
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
                    duplicates: 1
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
