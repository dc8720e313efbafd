//! Whether the database answers. A request that finds it unreachable marks it down; while it is
//! down, requests do not wait on it (the web layer serves the last good copy of a page, or a
//! 503 at once), and a watcher tries it a few times a second until it answers again.

use std::sync::LazyLock;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How often a down database is tried again, and how long each try may take. Requests never
/// wait on a try; a try opens fresh connections (SQLite: the readers and sqlx's), which on a
/// busy machine can take longer than half a second, and a try that never fits its window never
/// brings the site back (seen in CI: a debug build, the whole suite on two cores).
const RETRY_EVERY: Duration = Duration::from_millis(250);
const TRY_FOR: Duration = Duration::from_secs(3);

/// The instant [`Health::outage_seen`] counts from.
static EPOCH: LazyLock<Instant> = LazyLock::new(Instant::now);

#[derive(Debug, Default)]
pub struct Health {
    down: AtomicBool,
    /// When the database was last found down or tried while down (nanoseconds since [`EPOCH`]).
    outage_seen: AtomicU64,
}

impl Health {
    pub fn is_down(&self) -> bool {
        self.down.load(Ordering::Relaxed)
    }

    pub fn mark_down(&self) {
        self.forget_connections();
        if !self.down.swap(true, Ordering::Relaxed) {
            tracing::error!("the database cannot be reached: serving saved pages, refusing writes with 503");
        }
    }

    /// From now on, connections opened before this moment are closed rather than used.
    fn forget_connections(&self) {
        self.outage_seen.fetch_max(nanos(EPOCH.elapsed()), Ordering::Relaxed);
    }

    /// Whether a connection opened `age` ago was open when the database was last found down.
    /// Such a connection is not used again. A SQLite connection keeps the pages it has read,
    /// and in WAL mode it trusts them for as long as the log does not change: pages it read
    /// from a file that could not be read (zeros past the end of a truncated file) would be
    /// served again after the file was restored, the same error forever. A fresh connection
    /// reads the file as it is now.
    pub fn lived_through_outage(&self, age: Duration) -> bool {
        let seen = self.outage_seen.load(Ordering::Relaxed);
        seen != 0 && nanos(EPOCH.elapsed().saturating_sub(age)) <= seen
    }

    fn mark_up(&self) {
        if self.down.swap(false, Ordering::Relaxed) {
            tracing::info!("the database answers again");
        }
    }
}

fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// Whether an error means the database cannot be reached (as opposed to a bad query): the
/// server is down or refusing connections, the pool gave up waiting, the file cannot be read.
pub fn is_unavailable(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        e.downcast_ref::<sqlx::Error>().is_some_and(sqlx_unavailable)
            || e.downcast_ref::<rusqlite::Error>().is_some_and(super::reader::is_unavailable)
    })
}

fn sqlx_unavailable(err: &sqlx::Error) -> bool {
    match err {
        sqlx::Error::PoolTimedOut
        | sqlx::Error::PoolClosed
        | sqlx::Error::Io(_)
        | sqlx::Error::Tls(_)
        | sqlx::Error::WorkerCrashed => true,
        sqlx::Error::Database(db) => {
            let code = db.code().unwrap_or_default();
            // PostgreSQL: shutting down, cannot connect now, connection exceptions, too many
            // connections.
            if code.starts_with("57P") || code.starts_with("08") || code == "53300" {
                return true;
            }
            // SQLite (primary result codes): disk I/O error, corrupt, cannot open, not a
            // database.
            code.parse::<i64>().is_ok_and(|c| matches!(c & 0xff, 10 | 11 | 14 | 26))
        }
        _ => false,
    }
}

impl super::Db {
    pub fn is_down(&self) -> bool {
        self.health.is_down()
    }

    pub fn mark_down(&self) {
        self.health.mark_down();
        self.clear_readers();
    }

    /// Connections opened before now are not used again: the fast readers are closed here,
    /// sqlx's pooled ones as they are next taken (their pools' `before_acquire`).
    fn forget_connections(&self) {
        self.health.forget_connections();
        self.clear_readers();
    }

    fn clear_readers(&self) {
        if let super::Pools::Sqlite { fast, .. } = &self.pools {
            fast.clear();
        }
    }

    /// Tries the database while it is marked down, and marks it up when it answers (every
    /// pool: SQLite's readers and its writer). Runs for the node's lifetime.
    pub async fn watch_health(self) {
        let mut tick = tokio::time::interval(RETRY_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if !self.is_down() {
                continue;
            }
            // Each try on fresh connections, as after it requests will be.
            self.forget_connections();
            if tokio::time::timeout(TRY_FOR, self.ping()).await.is_ok_and(|r| r.is_ok()) {
                self.health.mark_up();
            }
        }
    }

    async fn ping(&self) -> anyhow::Result<()> {
        const SQL: &str = "SELECT count(*) FROM content_events WHERE id < 0";
        match &self.pools {
            super::Pools::Sqlite { read, write, fast } => {
                sqlx::query(SQL).execute(read).await?;
                sqlx::query(SQL).execute(write).await?;
                fast.all::<(i64,)>(SQL, &[])?;
            }
            super::Pools::Postgres(pool) => {
                sqlx::query(SQL).execute(pool).await?;
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unreachable_is_told_from_a_bad_query() {
        assert!(is_unavailable(&anyhow::Error::new(sqlx::Error::PoolTimedOut).context("loading a page")));
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused");
        assert!(is_unavailable(&anyhow::Error::new(sqlx::Error::Io(io))));
        assert!(!is_unavailable(&anyhow::Error::new(sqlx::Error::RowNotFound)));
        assert!(!is_unavailable(&anyhow::anyhow!("a template failed")));
    }

    #[test]
    fn connections_that_lived_through_an_outage_are_not_used_again() {
        let health = Health::default();
        let opened = Instant::now();
        assert!(!health.lived_through_outage(Duration::from_secs(3600)), "no outage yet");
        std::thread::sleep(Duration::from_millis(2));
        health.mark_down();
        assert!(health.lived_through_outage(opened.elapsed()), "open before the outage");
        std::thread::sleep(Duration::from_millis(2));
        let reopened = Instant::now();
        std::thread::sleep(Duration::from_millis(2));
        assert!(!health.lived_through_outage(reopened.elapsed()), "opened after it");
        health.forget_connections();
        assert!(health.lived_through_outage(reopened.elapsed()), "open at the next try");
    }
}
