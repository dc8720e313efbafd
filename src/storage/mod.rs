//! The store: one `Db` over SQLite (embedded, default) or PostgreSQL (shared by several nodes).
//!
//! SQL is written once with `$1` placeholders, which both drivers accept; rows decode into the
//! same structs because both schemas use `BIGINT` for ids and times. The few dialect
//! differences live behind functions marked `DIALECT`.
//!
//! Reads go through [`Db`] helpers (`fetch_all!`, `fetch_optional!`); writes go through a
//! [`Tx`], which every domain change uses so that its content event is recorded in the same
//! transaction (see [`events`]).

pub mod api;
pub mod articles;
pub mod backfill;
pub mod comments;
pub mod events;
pub mod health;
pub mod pages;
pub mod people;
pub mod pictures;
pub mod reader;
pub mod related;
pub mod settings;
pub mod taxonomy;
pub mod tokens;
pub mod users;
pub mod webhooks;

use std::path::{Path, PathBuf};
use std::str::FromStr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};

/// Where the store lives, parsed from `--database-url` / `--data-dir`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    Sqlite(PathBuf),
    Postgres(String),
}

impl StoreLocation {
    /// `postgres://` or `postgresql://` selects PostgreSQL, `sqlite://PATH` or a bare path
    /// selects SQLite; without a URL the store is `DATA_DIR/gazette.db`.
    pub fn resolve(database_url: Option<&str>, data_dir: &Path) -> anyhow::Result<Self> {
        match database_url {
            None => Ok(Self::Sqlite(data_dir.join("gazette.db"))),
            Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
                Ok(Self::Postgres(url.to_owned()))
            }
            Some(url) => {
                let path = url.strip_prefix("sqlite://").or_else(|| url.strip_prefix("sqlite:"));
                match path {
                    Some(p) if !p.is_empty() => Ok(Self::Sqlite(PathBuf::from(p))),
                    _ => bail!(
                        "unsupported database URL {url:?}: use postgres://USER@HOST/DB or sqlite://PATH"
                    ),
                }
            }
        }
    }

    /// A description safe to print: PostgreSQL passwords are hidden.
    pub fn describe(&self) -> String {
        match self {
            Self::Sqlite(p) => format!("SQLite database {}", p.display()),
            Self::Postgres(url) => format!("PostgreSQL database {}", redact_password(url)),
        }
    }
}

fn redact_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.split_once('@') {
        Some((userinfo, host)) => match userinfo.split_once(':') {
            Some((user, _)) => format!("{scheme}://{user}:***@{host}"),
            None => url.to_owned(),
        },
        None => url.to_owned(),
    }
}

#[derive(Clone)]
pub enum Pools {
    Sqlite {
        /// Several connections for readers (WAL lets them run beside the writer).
        read: SqlitePool,
        /// Read-only connections used on the calling thread, for the queries behind public
        /// pages (`read_all!`, `read_optional!`; see [`reader`]).
        fast: Arc<reader::Readers>,
        /// One connection: SQLite has one writer; queueing here beats SQLITE_BUSY.
        write: SqlitePool,
    },
    Postgres(PgPool),
}

/// The database handle shared by the whole app. Cheap to clone.
#[derive(Clone)]
pub struct Db {
    pub pools: Pools,
    queries: Arc<AtomicU64>,
    /// Whether the database answers (shared by every clone).
    health: Arc<health::Health>,
}

impl Db {
    /// Opens (creating a SQLite file and its directory if absent) and checks the connection.
    /// Errors carry one line that names the store and the cause.
    pub async fn connect(location: &StoreLocation) -> anyhow::Result<Self> {
        let what = location.describe();
        let health = Arc::new(health::Health::default());
        let pools = match location {
            StoreLocation::Sqlite(path) => open_sqlite(path, &health).await,
            StoreLocation::Postgres(url) => open_postgres(url).await,
        }
        .with_context(|| format!("cannot open {what}"))?;
        Ok(Self { pools, queries: Arc::new(AtomicU64::new(0)), health })
    }

    /// Applies the embedded migrations of this backend.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        match &self.pools {
            Pools::Sqlite { write, .. } => sqlx::migrate!("migrations/sqlite").run(write).await,
            Pools::Postgres(pool) => sqlx::migrate!("migrations/postgres").run(pool).await,
        }
        .context("running database migrations")
    }

    pub fn is_postgres(&self) -> bool {
        matches!(self.pools, Pools::Postgres(_))
    }

    /// The same pools with a counter of its own, for background tasks, so that
    /// [`Db::query_count`] counts what requests do.
    pub fn background(&self) -> Self {
        Self { pools: self.pools.clone(), queries: Arc::new(AtomicU64::new(0)), health: self.health.clone() }
    }

    /// Number of statements run so far (tests use it to bound queries per page).
    pub fn query_count(&self) -> u64 {
        self.queries.load(Ordering::Relaxed)
    }

    #[doc(hidden)]
    pub fn count_query(&self) {
        self.queries.fetch_add(1, Ordering::Relaxed);
    }

    /// Starts a write transaction. On SQLite it is `BEGIN IMMEDIATE`, so a transaction that
    /// reads before it writes waits for the lock instead of failing with SQLITE_BUSY.
    pub async fn begin(&self) -> anyhow::Result<Tx> {
        self.count_query();
        Ok(match &self.pools {
            Pools::Sqlite { write, .. } => Tx::Sqlite(write.begin_with("BEGIN IMMEDIATE").await?),
            Pools::Postgres(pool) => Tx::Postgres(pool.begin().await?),
        })
    }

    pub async fn close(&self) {
        match &self.pools {
            Pools::Sqlite { read, write, .. } => {
                read.close().await;
                write.close().await;
            }
            Pools::Postgres(pool) => pool.close().await,
        }
    }
}

/// A write transaction on either backend.
pub enum Tx {
    Sqlite(sqlx::Transaction<'static, sqlx::Sqlite>),
    Postgres(sqlx::Transaction<'static, sqlx::Postgres>),
}

impl Tx {
    pub async fn commit(self) -> anyhow::Result<()> {
        match self {
            Tx::Sqlite(t) => t.commit().await?,
            Tx::Postgres(t) => t.commit().await?,
        }
        Ok(())
    }
}

/// A pool's `before_acquire`: a connection that lived through an outage is closed rather than
/// used again. It may hold pages it read from a file that was then restored under it
/// ([`health::Health::lived_through_outage`]).
fn opened_since_outage(
    health: Arc<health::Health>,
) -> impl for<'c> Fn(
    &'c mut sqlx::SqliteConnection,
    sqlx::pool::PoolConnectionMetadata,
) -> futures_util::future::BoxFuture<'c, sqlx::Result<bool>>
+ Send
+ Sync
+ 'static {
    move |_, meta| Box::pin(std::future::ready(Ok(!health.lived_through_outage(meta.age))))
}

async fn open_sqlite(path: &Path, health: &Arc<health::Health>) -> anyhow::Result<Pools> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create directory {}", dir.display()))?;
    }
    let options = SqliteConnectOptions::from_str(&format!("sqlite://{}", path.display()))?
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Normal)
        .foreign_keys(true)
        .busy_timeout(Duration::from_secs(5))
        .pragma("cache_size", "-32000")
        .pragma("temp_store", "memory");
    let write = SqlitePoolOptions::new()
        .max_connections(1)
        .before_acquire(opened_since_outage(health.clone()))
        .test_before_acquire(false)
        .connect_with(options.clone())
        .await
        .map_err(describe_sqlx)?;
    // A corrupt or foreign file opens fine; the first read tells.
    sqlx::query("SELECT count(*) FROM sqlite_master").execute(&write).await.map_err(describe_sqlx)?;
    let readers = std::thread::available_parallelism().map_or(4, |n| n.get() as u32 * 2).max(4);
    // No ping before each use: a SQLite connection is a file handle in this process, not a
    // socket that can go stale, and sqlx's ping is a round trip to the connection's own thread
    // (two thread switches) in front of every query.
    let read = SqlitePoolOptions::new()
        .max_connections(readers)
        .min_connections(1)
        .before_acquire(opened_since_outage(health.clone()))
        .test_before_acquire(false)
        .connect_with(options.read_only(true))
        .await
        .map_err(describe_sqlx)?;
    let fast = Arc::new(reader::Readers::open(path)?);
    Ok(Pools::Sqlite { read, write, fast })
}

async fn open_postgres(url: &str) -> anyhow::Result<Pools> {
    let options = PgConnectOptions::from_str(url).map_err(describe_sqlx)?;
    // One direct connection first: the pool would only report a timeout, not the cause.
    {
        use sqlx::{ConnectOptions, Connection};
        let probe = tokio::time::timeout(Duration::from_secs(10), options.connect())
            .await
            .map_err(|_| anyhow::anyhow!("timed out connecting (is the server up?)"))?
            .map_err(describe_sqlx)?;
        probe.close().await.map_err(describe_sqlx)?;
    }
    let pool = PgPoolOptions::new()
        .max_connections(16)
        // A request never waits longer for a connection: past this, the database counts as
        // unreachable (saved pages are served, writes answer 503) until it answers again.
        .acquire_timeout(Duration::from_millis(800))
        .connect_with(options)
        .await
        .map_err(describe_sqlx)?;
    Ok(Pools::Postgres(pool))
}

/// Turns driver errors into one readable line.
fn describe_sqlx(err: sqlx::Error) -> anyhow::Error {
    match err {
        sqlx::Error::Database(db) => anyhow::anyhow!("{}", db.message()),
        sqlx::Error::Io(io) => anyhow::anyhow!("{io}"),
        sqlx::Error::PoolTimedOut => anyhow::anyhow!("timed out connecting (is the server up?)"),
        other => anyhow::anyhow!("{other}"),
    }
}

/// Runs one query on either backend. Reads use the reader pool on SQLite.
///
/// `fetch_all!(db, Row, "SQL", bind1, bind2)`; likewise `fetch_optional!`, `fetch_one!`.
#[macro_export]
macro_rules! db_read {
    ($method:ident, $db:expr, $ty:ty, $sql:expr $(, $bind:expr)* $(,)?) => {{
        let db: &$crate::storage::Db = $db;
        db.count_query();
        match &db.pools {
            $crate::storage::Pools::Sqlite { read, .. } => {
                sqlx::query_as::<_, $ty>($sql)$(.bind($bind))*.$method(read).await
            }
            $crate::storage::Pools::Postgres(pool) => {
                sqlx::query_as::<_, $ty>($sql)$(.bind($bind))*.$method(pool).await
            }
        }
    }};
}

/// Runs one read on either backend, on SQLite on the calling thread ([`reader`]); rows decode
/// with `serde::Deserialize` there and `sqlx::FromRow` on PostgreSQL. The error is an
/// `anyhow::Error` carrying the driver's own.
///
/// `read_all!(db, Row, "SQL", bind1, bind2)`; likewise `read_optional!`, `read_one!`. For the
/// queries of public pages, where sqlx's hand-offs between threads cost more than SQLite.
#[macro_export]
macro_rules! page_read {
    ($reader:ident, $method:ident, $db:expr, $ty:ty, $sql:expr $(, $bind:expr)* $(,)?) => {{
        let db: &$crate::storage::Db = $db;
        db.count_query();
        match &db.pools {
            $crate::storage::Pools::Sqlite { fast, .. } => {
                fast.$reader::<$ty>($sql, &[$(&$bind as &dyn rusqlite::ToSql),*])
            }
            $crate::storage::Pools::Postgres(pool) => {
                sqlx::query_as::<_, $ty>($sql)$(.bind($bind))*.$method(pool).await.map_err(anyhow::Error::new)
            }
        }
    }};
}

#[macro_export]
macro_rules! read_all {
    ($($args:tt)*) => { $crate::page_read!(all, fetch_all, $($args)*) };
}

#[macro_export]
macro_rules! read_optional {
    ($($args:tt)*) => { $crate::page_read!(optional, fetch_optional, $($args)*) };
}

#[macro_export]
macro_rules! read_one {
    ($($args:tt)*) => { $crate::page_read!(one, fetch_one, $($args)*) };
}

#[macro_export]
macro_rules! fetch_all {
    ($($args:tt)*) => { $crate::db_read!(fetch_all, $($args)*) };
}

#[macro_export]
macro_rules! fetch_optional {
    ($($args:tt)*) => { $crate::db_read!(fetch_optional, $($args)*) };
}

#[macro_export]
macro_rules! fetch_one {
    ($($args:tt)*) => { $crate::db_read!(fetch_one, $($args)*) };
}

/// Runs one statement inside a [`Tx`]: `tx_exec!(tx, "SQL", binds...)` returns rows affected.
#[macro_export]
macro_rules! tx_exec {
    ($tx:expr, $sql:expr $(, $bind:expr)* $(,)?) => {{
        let tx: &mut $crate::storage::Tx = $tx;
        match tx {
            $crate::storage::Tx::Sqlite(t) => {
                sqlx::query($sql)$(.bind($bind))*.execute(&mut **t).await.map(|r| r.rows_affected())
            }
            $crate::storage::Tx::Postgres(t) => {
                sqlx::query($sql)$(.bind($bind))*.execute(&mut **t).await.map(|r| r.rows_affected())
            }
        }
    }};
}

/// Runs one query inside a [`Tx`] and decodes rows: `tx_fetch!(fetch_optional, tx, Row, "SQL", binds...)`.
#[macro_export]
macro_rules! tx_fetch {
    ($method:ident, $tx:expr, $ty:ty, $sql:expr $(, $bind:expr)* $(,)?) => {{
        let tx: &mut $crate::storage::Tx = $tx;
        match tx {
            $crate::storage::Tx::Sqlite(t) => {
                sqlx::query_as::<_, $ty>($sql)$(.bind($bind))*.$method(&mut **t).await
            }
            $crate::storage::Tx::Postgres(t) => {
                sqlx::query_as::<_, $ty>($sql)$(.bind($bind))*.$method(&mut **t).await
            }
        }
    }};
}

/// Runs a statement built at run time (e.g. an `IN` list) with integer parameters, on the
/// reader side. Only for SQL assembled from fixed fragments and placeholders, never from input.
pub async fn fetch_all_with_ids<T>(db: &Db, sql: String, binds: &[i64]) -> anyhow::Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::sqlite::SqliteRow>
        + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow>
        + Send
        + Unpin,
{
    db.count_query();
    Ok(match &db.pools {
        Pools::Sqlite { read, .. } => {
            let mut q = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql));
            for id in binds {
                q = q.bind(*id);
            }
            q.fetch_all(read).await?
        }
        Pools::Postgres(pool) => pg_all_with_ids(pool, sql, binds).await?,
    })
}

/// [`fetch_all_with_ids`] for the queries of public pages: on SQLite on the calling thread
/// (see [`read_all!`]).
pub async fn read_all_with_ids<T>(db: &Db, sql: String, binds: &[i64]) -> anyhow::Result<Vec<T>>
where
    T: serde::de::DeserializeOwned + for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    db.count_query();
    match &db.pools {
        Pools::Sqlite { fast, .. } => {
            let binds: Vec<&dyn rusqlite::ToSql> = binds.iter().map(|b| b as &dyn rusqlite::ToSql).collect();
            fast.all(&sql, &binds)
        }
        Pools::Postgres(pool) => pg_all_with_ids(pool, sql, binds).await,
    }
}

async fn pg_all_with_ids<T>(pool: &PgPool, sql: String, binds: &[i64]) -> anyhow::Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let mut q = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(sql));
    for id in binds {
        q = q.bind(*id);
    }
    Ok(q.fetch_all(pool).await?)
}

/// `$1, $2, ... $n` after `start` placeholders, for `IN (...)` lists.
pub fn placeholders(start: usize, n: usize) -> String {
    (start + 1..=start + n).map(|i| format!("${i}")).collect::<Vec<_>>().join(", ")
}

pub fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn store_location_from_flags() {
        let dir = Path::new("data");
        assert_eq!(StoreLocation::resolve(None, dir).unwrap(), StoreLocation::Sqlite(dir.join("gazette.db")));
        assert_eq!(
            StoreLocation::resolve(Some("sqlite:///tmp/x.db"), dir).unwrap(),
            StoreLocation::Sqlite(PathBuf::from("/tmp/x.db"))
        );
        assert!(matches!(
            StoreLocation::resolve(Some("postgresql://u@h/db"), dir).unwrap(),
            StoreLocation::Postgres(_)
        ));
        assert!(StoreLocation::resolve(Some("mysql://x"), dir).is_err());
    }

    #[test]
    fn passwords_are_not_printed() {
        let loc = StoreLocation::Postgres("postgres://me:secret@db/news".into());
        assert!(!loc.describe().contains("secret"));
        assert!(loc.describe().contains("me:***@db/news"));
    }
}
