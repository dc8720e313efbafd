//! SQLite reads on the calling thread, for the queries behind public pages.
//!
//! sqlx runs each SQLite connection on a thread of its own: a query is a message to that
//! thread and its rows come back one by one through a channel, so a page's three or four
//! small queries cost a dozen thread switches. Those switches, not SQLite, were most of an
//! uncached page's server time (docs/PERFORMANCE.md). A read that SQLite answers from its
//! page cache in tens of microseconds is cheaper to run where the request already is, as the
//! template is: these connections (rusqlite, on the same libsqlite3 as sqlx) are taken from a
//! small pool, used on the request's thread, and put back.
//!
//! Only reads come here, on read-only connections; every write still goes through sqlx's one
//! writer connection and its transactions. Rows decode with serde by column name
//! ([`serde_rusqlite`]), so a row type derives `serde::Deserialize` beside `sqlx::FromRow`
//! (PostgreSQL still decodes through sqlx). A connection that met an error is closed rather
//! than reused, so a database file that was replaced or repaired is opened afresh.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::Duration;

use anyhow::Context;
use rusqlite::config::DbConfig;
use rusqlite::{Connection, OpenFlags, ToSql};
use serde::de::DeserializeOwned;

/// Idle connections kept for reuse; more are opened when requests need them at once. A
/// connection is held only while a read runs on one thread, never across an `await`, so as
/// many are in use as threads read at the same moment (the runtime's workers, a few more).
const KEEP_IDLE: usize = 16;
/// Each connection's page cache, in KiB (SQLite's negative `cache_size`). Pages are cached per
/// connection and only as they are read; at 32 MB the bench's 500 rotating articles (their rows
/// with overflow pages, related cards, links) no longer fitted and every page was read from the
/// kernel again (0.50 ms an article page against 0.34 ms at 64 MB).
const CACHE_KIB: i64 = 65_536;
/// Prepared statements kept per connection (each page query is a few fixed strings).
const STATEMENTS: usize = 128;

pub struct Readers {
    path: PathBuf,
    idle: Mutex<Vec<Connection>>,
}

impl Readers {
    /// Opens one connection now, so that a file that cannot be read fails at start.
    pub fn open(path: &Path) -> anyhow::Result<Self> {
        let readers = Self { path: path.to_owned(), idle: Mutex::new(Vec::new()) };
        let first = readers.connect().with_context(|| format!("cannot read {}", path.display()))?;
        readers.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).push(first);
        Ok(readers)
    }

    fn connect(&self) -> rusqlite::Result<Connection> {
        let flags =
            OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX | OpenFlags::SQLITE_OPEN_URI;
        let conn = Connection::open_with_flags(&self.path, flags)?;
        conn.busy_timeout(Duration::from_secs(5))?;
        conn.execute_batch(&format!(
            "PRAGMA cache_size = -{CACHE_KIB}; PRAGMA temp_store = memory; PRAGMA query_only = 1;"
        ))?;
        // The bundled SQLite (3.51) plans a statement with the values bound to it (a `LIMIT $n`, a `LIKE`
        // pattern) and prepares it again whenever they are bound anew: every execution of a
        // cached statement. The query-planner stability guarantee plans once, from the SQL;
        // measured on the front page's section blocks, 384 µs a run before, 29 µs after.
        conn.set_db_config(DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
        conn.set_prepared_statement_cache_capacity(STATEMENTS);
        Ok(conn)
    }

    /// Closes every idle connection: after the file was unreadable, each reader starts afresh
    /// (its own page cache and view of the file) rather than one that sat out the outage.
    pub fn clear(&self) {
        self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
    }

    /// Runs `f` on a pooled connection; one that failed is dropped, not pooled again.
    fn with<R>(&self, f: impl FnOnce(&Connection) -> anyhow::Result<R>) -> anyhow::Result<R> {
        let pooled = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner).pop();
        let conn = match pooled {
            Some(c) => c,
            None => self.connect().map_err(anyhow::Error::new)?,
        };
        let result = f(&conn);
        if result.is_ok() {
            let mut idle = self.idle.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
            if idle.len() < KEEP_IDLE {
                idle.push(conn);
            }
        }
        result
    }

    /// Every row of `sql` with `binds` for its `$1`, `$2`… placeholders.
    pub fn all<T: DeserializeOwned>(&self, sql: &str, binds: &[&dyn ToSql]) -> anyhow::Result<Vec<T>> {
        self.with(|conn| {
            let mut statement = conn.prepare_cached(sql)?;
            bind(&mut statement, binds)?;
            let rows = serde_rusqlite::from_rows::<T>(statement.raw_query());
            rows.collect::<Result<Vec<T>, _>>().map_err(row_error)
        })
    }

    /// The first row of `sql`, if any.
    pub fn optional<T: DeserializeOwned>(
        &self,
        sql: &str,
        binds: &[&dyn ToSql],
    ) -> anyhow::Result<Option<T>> {
        self.with(|conn| {
            let mut statement = conn.prepare_cached(sql)?;
            bind(&mut statement, binds)?;
            let mut rows = serde_rusqlite::from_rows::<T>(statement.raw_query());
            rows.next().transpose().map_err(row_error)
        })
    }

    /// The first row of `sql`; no row is an error.
    pub fn one<T: DeserializeOwned>(&self, sql: &str, binds: &[&dyn ToSql]) -> anyhow::Result<T> {
        self.optional(sql, binds)?.context("the query returned no row")
    }
}

/// Binds by placeholder name: SQLite numbers named parameters in order of first appearance,
/// so `$2` before `$1` in a statement must still get the second value.
fn bind(statement: &mut rusqlite::CachedStatement<'_>, binds: &[&dyn ToSql]) -> anyhow::Result<()> {
    statement.clear_bindings();
    for index in 1..=statement.parameter_count() {
        let number = statement
            .parameter_name(index)
            .and_then(|name| name.strip_prefix('$').or_else(|| name.strip_prefix('?')))
            .and_then(|n| n.parse::<usize>().ok())
            .unwrap_or(index);
        let value = binds
            .get(number - 1)
            .with_context(|| format!("placeholder ${number} has no value ({} given)", binds.len()))?;
        statement.raw_bind_parameter(index, value)?;
    }
    Ok(())
}

/// serde_rusqlite wraps SQLite's own errors; unwrap them so that [`is_unavailable`] sees them.
fn row_error(err: serde_rusqlite::Error) -> anyhow::Error {
    match err {
        serde_rusqlite::Error::Rusqlite(e) => anyhow::Error::new(e),
        other => anyhow::Error::new(other),
    }
}

/// Whether a SQLite error means the file cannot be read (as opposed to a bad query): disk I/O
/// error, corrupt, cannot open, not a database.
pub fn is_unavailable(err: &rusqlite::Error) -> bool {
    use rusqlite::ErrorCode::{CannotOpen, DatabaseCorrupt, NotADatabase, SystemIoFailure};
    matches!(err.sqlite_error_code(), Some(CannotOpen | DatabaseCorrupt | NotADatabase | SystemIoFailure))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug, PartialEq)]
    struct Row {
        a: i64,
        b: Option<String>,
    }

    #[test]
    fn binds_by_placeholder_number_and_decodes_by_column_name() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("r.db");
        let w = Connection::open(&path).unwrap();
        w.execute_batch("PRAGMA journal_mode = wal; CREATE TABLE t (a INTEGER, b TEXT); INSERT INTO t VALUES (1, 'x'), (2, NULL), (3, 'z');")
            .unwrap();
        let readers = Readers::open(&path).unwrap();
        // `$2` comes first in the text: it must still take the second value.
        let rows: Vec<Row> = readers
            .all("SELECT b, a FROM t WHERE a <= $2 AND a >= $1 ORDER BY a", &[&2_i64, &3_i64])
            .unwrap();
        assert_eq!(rows, vec![Row { a: 2, b: None }, Row { a: 3, b: Some("z".into()) }]);
        let one: Option<(i64,)> = readers.optional("SELECT count(*) FROM t WHERE b = $1", &[&"x"]).unwrap();
        assert_eq!(one, Some((1,)));
        let none: Option<Row> = readers.optional("SELECT a, b FROM t WHERE a = $1", &[&9_i64]).unwrap();
        assert_eq!(none, None);
        // A bad query is an error, not a panic, and the pool keeps working after it.
        assert!(readers.all::<Row>("SELECT nope FROM t", &[]).is_err());
        assert!(readers.all::<Row>("SELECT a, b FROM t WHERE a = $1", &[]).is_err());
        assert_eq!(readers.all::<Row>("SELECT a, b FROM t", &[]).unwrap().len(), 3);
    }

    #[test]
    fn a_cached_statement_is_not_prepared_again_for_new_values() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.db");
        let w = Connection::open(&path).unwrap();
        w.execute_batch(
            "CREATE TABLE t (a INTEGER PRIMARY KEY, b TEXT); INSERT INTO t (b) VALUES ('x'), ('y'), ('z');",
        )
        .unwrap();
        let readers = Readers::open(&path).unwrap();
        let sql = "SELECT a FROM t WHERE b LIKE $1 ORDER BY a DESC LIMIT $2 OFFSET $3";
        for (limit, offset) in [(1_i64, 0_i64), (2, 1), (3, 0), (1, 2)] {
            let rows: Vec<(i64,)> = readers.all(sql, &[&"%", &limit, &offset]).unwrap();
            assert_eq!(rows.len() as i64, limit.min(3 - offset));
        }
        // Without the planner's stability guarantee SQLite plans around the bound LIMIT and
        // LIKE pattern and prepares the statement again on each run.
        let reprepared = readers
            .with(|conn| Ok(conn.prepare_cached(sql)?.get_status(rusqlite::StatementStatus::RePrepare)))
            .unwrap();
        assert_eq!(reprepared, 0);
    }

    #[test]
    fn a_file_that_is_not_a_database_is_unavailable() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("junk.db");
        std::fs::write(&path, vec![b'x'; 8192]).unwrap();
        let err = Readers::open(&path).and_then(|r| r.all::<(i64,)>("SELECT 1", &[])).unwrap_err();
        assert!(
            err.chain().any(|e| e.downcast_ref::<rusqlite::Error>().is_some_and(is_unavailable)),
            "{err:#}"
        );
    }
}
