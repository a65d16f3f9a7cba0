//! What the robot remembers across restarts, in one SQLite file: every match and milestone it
//! has seen (announced, or from before its first start), when it first started, and when its
//! jobs last ran.
//!
//! The poll asks the service only for ids above the highest one seen, so a restart picks up
//! exactly where the robot stopped: what happened while it was down is announced, and nothing
//! is announced twice. An item is written right after its announcement is posted; only a crash
//! between the two could repeat that one announcement.

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use lag_bot::job::JobStore;
use lag_bot::{Error, ErrorKind, async_trait};
use rusqlite::{Connection, OptionalExtension, params};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS seen (
    kind TEXT NOT NULL CHECK (kind IN ('match', 'milestone')),
    id INTEGER NOT NULL,
    announced INTEGER NOT NULL,
    message_id TEXT,
    at_ms INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS job_runs (job TEXT PRIMARY KEY, at_ms INTEGER NOT NULL);
";

/// What the robot announces: a finished match or a milestone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A finished match.
    Match,
    /// A milestone.
    Milestone,
}

impl Kind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Match => "match",
            Self::Milestone => "milestone",
        }
    }
}

/// The robot's memory. Cloning gives another handle on the same database.
#[derive(Debug, Clone)]
pub struct Store {
    conn: Arc<Mutex<Connection>>,
}

impl Store {
    /// Opens (or creates) the database at `path`, and records the first start's time in a new
    /// one.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Config`] when the file cannot be opened as a database.
    pub fn open(path: &Path) -> lag_bot::Result<Self> {
        let open = || -> rusqlite::Result<Connection> {
            let conn = Connection::open(path)?;
            conn.busy_timeout(Duration::from_secs(5))?;
            conn.execute_batch(SCHEMA)?;
            conn.execute(
                "INSERT OR IGNORE INTO meta (key, value) VALUES ('first_start_ms', ?1)",
                params![millis(SystemTime::now())],
            )?;
            Ok(conn)
        };
        let conn = open().map_err(|error| {
            Error::new(
                ErrorKind::Config,
                format!("cannot open the database {}: {error}", path.display()),
            )
        })?;
        Ok(Self {
            conn: Arc::new(Mutex::new(conn)),
        })
    }

    /// When the robot first started with this database: items from before it are history,
    /// not news.
    pub async fn first_start(&self) -> lag_bot::Result<SystemTime> {
        let ms: i64 = self
            .with(|conn| {
                conn.query_row(
                    "SELECT value FROM meta WHERE key = 'first_start_ms'",
                    [],
                    |row| row.get(0),
                )
            })
            .await?;
        Ok(from_millis(ms))
    }

    /// The highest id of `kind` seen so far, 0 when none.
    pub async fn last_seen(&self, kind: Kind) -> lag_bot::Result<u64> {
        let id: i64 = self
            .with(move |conn| {
                conn.query_row(
                    "SELECT COALESCE(MAX(id), 0) FROM seen WHERE kind = ?1",
                    params![kind.as_str()],
                    |row| row.get(0),
                )
            })
            .await?;
        Ok(u64::try_from(id).unwrap_or(0))
    }

    /// Whether item `id` of `kind` was seen.
    pub async fn was_seen(&self, kind: Kind, id: u64) -> lag_bot::Result<bool> {
        let id = to_sql_id(id)?;
        self.with(move |conn| {
            conn.query_row(
                "SELECT 1 FROM seen WHERE kind = ?1 AND id = ?2",
                params![kind.as_str(), id],
                |_| Ok(()),
            )
            .optional()
            .map(|row| row.is_some())
        })
        .await
    }

    /// Records item `id` of `kind`: announced in Lag's message `message_id`, or (with `None`)
    /// left unannounced as history from before the first start.
    pub async fn mark(
        &self,
        kind: Kind,
        id: u64,
        message_id: Option<String>,
    ) -> lag_bot::Result<()> {
        let id = to_sql_id(id)?;
        self.with(move |conn| {
            conn.execute(
                "INSERT OR IGNORE INTO seen (kind, id, announced, message_id, at_ms)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
                params![
                    kind.as_str(),
                    id,
                    message_id.is_some(),
                    message_id,
                    millis(SystemTime::now())
                ],
            )
            .map(drop)
        })
        .await
    }

    /// Runs `work` on the connection on a thread that may block.
    async fn with<T: Send + 'static>(
        &self,
        work: impl FnOnce(&Connection) -> rusqlite::Result<T> + Send + 'static,
    ) -> lag_bot::Result<T> {
        let conn = Arc::clone(&self.conn);
        let done = tokio::task::spawn_blocking(move || {
            let conn = conn.lock().unwrap_or_else(PoisonError::into_inner);
            work(&conn)
        })
        .await
        .map_err(|error| Error::new(ErrorKind::Handler, format!("database task: {error}")))?;
        done.map_err(|error| Error::new(ErrorKind::Handler, format!("database: {error}")))
    }
}

/// The jobs' last runs live in the same file, so that the poll catches up at once after a
/// restart that missed some (see [`lag_bot::job::Missed`]).
#[async_trait]
impl JobStore for Store {
    async fn last_run(&self, job: &str) -> lag_bot::Result<Option<SystemTime>> {
        let job = job.to_owned();
        let ms: Option<i64> = self
            .with(move |conn| {
                conn.query_row(
                    "SELECT at_ms FROM job_runs WHERE job = ?1",
                    params![job],
                    |row| row.get(0),
                )
                .optional()
            })
            .await?;
        Ok(ms.map(from_millis))
    }

    async fn record_run(&self, job: &str, at: SystemTime) -> lag_bot::Result<()> {
        let job = job.to_owned();
        self.with(move |conn| {
            conn.execute(
                "INSERT INTO job_runs (job, at_ms) VALUES (?1, ?2)
                 ON CONFLICT (job) DO UPDATE SET at_ms = excluded.at_ms",
                params![job, millis(at)],
            )
            .map(drop)
        })
        .await
    }
}

fn to_sql_id(id: u64) -> lag_bot::Result<i64> {
    i64::try_from(id)
        .map_err(|_| Error::new(ErrorKind::Decode, format!("the id {id} is too large")))
}

fn millis(at: SystemTime) -> i64 {
    at.duration_since(UNIX_EPOCH).map_or(0, |since| {
        i64::try_from(since.as_millis()).unwrap_or(i64::MAX)
    })
}

fn from_millis(ms: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_millis(u64::try_from(ms).unwrap_or(0))
}
