//! The robot's memory: strikes and the audit log, in an SQLite database file.
//!
//! The file is created on first run, and its schema is versioned: [`MIGRATIONS`] lists every
//! step from an empty file to the current schema, and `rusqlite_migration` applies the ones a
//! file has not had yet (it keeps the version in SQLite's `user_version`), so a database made by
//! an older version of the robot is brought up to date at start-up. Add a step to change the
//! schema; never edit one that has shipped.
//!
//! SQLite calls block, so they never run on the async runtime: one thread owns the connection
//! and runs the calls sent to it in order, and [`Store`]'s methods await the answer. The queue
//! to that thread is bounded: when it is full, callers wait for room, so a flood slows the
//! handlers down instead of growing memory.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use rusqlite::{Connection, params};
use rusqlite_migration::{M, Migrations};
use tokio::sync::{mpsc, oneshot};

use super::clock::unix_seconds;

/// Calls waiting for the database thread at most.
const QUEUE: usize = 256;

/// The schema, one step per version. Step 2 shows how a shipped schema grows: a new column,
/// filled in for the rows that already exist.
pub const MIGRATIONS: &[M<'static>] = &[
    M::up(
        "CREATE TABLE strikes (
             id INTEGER PRIMARY KEY,
             member_id TEXT NOT NULL,
             member_name TEXT NOT NULL,
             rule TEXT NOT NULL,
             weight INTEGER NOT NULL CHECK (weight > 0),
             given_at INTEGER NOT NULL,
             expires_at INTEGER NOT NULL,
             pardoned_at INTEGER
         );
         CREATE INDEX strikes_by_member ON strikes (member_id, expires_at);
         CREATE TABLE audit (
             id INTEGER PRIMARY KEY,
             at INTEGER NOT NULL,
             rule TEXT NOT NULL,
             member_id TEXT NOT NULL,
             member_name TEXT NOT NULL,
             room_id TEXT NOT NULL,
             message_id TEXT NOT NULL,
             excerpt TEXT NOT NULL,
             action TEXT NOT NULL,
             accepted INTEGER
         );",
    ),
    M::up(
        "ALTER TABLE audit ADD COLUMN edited INTEGER NOT NULL DEFAULT 0;
         CREATE INDEX audit_by_member ON audit (member_id, at);",
    ),
];

/// A failure of the database.
#[derive(Debug)]
pub struct StoreError(String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "moderation database: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

impl From<rusqlite::Error> for StoreError {
    fn from(err: rusqlite::Error) -> Self {
        StoreError(err.to_string())
    }
}

impl From<StoreError> for lag_bot::Error {
    fn from(err: StoreError) -> Self {
        lag_bot::Error::handler(err)
    }
}

/// A violation as the audit log first records it, before anything is asked of Lag.
#[derive(Debug, Clone)]
pub struct NewEntry {
    /// When it happened.
    pub at: SystemTime,
    /// The rule broken.
    pub rule: String,
    /// The member's user id.
    pub member_id: String,
    /// The member's username.
    pub member_name: String,
    /// The room.
    pub room_id: String,
    /// The message.
    pub message_id: String,
    /// The start of the message's text.
    pub excerpt: String,
    /// Whether the message was an edit.
    pub edited: bool,
}

/// An entry of the audit log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    /// Its number.
    pub id: i64,
    /// When, in Unix seconds.
    pub at: i64,
    /// The rule broken.
    pub rule: String,
    /// The member's username.
    pub member_name: String,
    /// The start of the message's text.
    pub excerpt: String,
    /// What the robot did, in words.
    pub action: String,
    /// Whether Lag accepted what the robot asked of it: `Some(true)` (deleted, or the warning
    /// was posted), `Some(false)` (refused), `None` (nothing was asked of Lag, or not yet).
    pub accepted: Option<bool>,
}

/// A strike that still counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Strike {
    /// The rule broken.
    pub rule: String,
    /// How many strikes it is worth.
    pub weight: u32,
    /// When it was given, in Unix seconds.
    pub given_at: i64,
    /// When it stops counting, in Unix seconds.
    pub expires_at: i64,
}

/// Strike totals around a new strike.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Totals {
    /// Active strikes before it.
    pub before: u32,
    /// Active strikes with it.
    pub after: u32,
}

type Job = Box<dyn FnOnce(&mut Connection) + Send>;

/// The database, owned by its thread; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    jobs: mpsc::Sender<Job>,
    path: PathBuf,
}

impl Store {
    /// Opens (or creates) the database at `path`, brings its schema up to date and starts the
    /// thread that owns it.
    ///
    /// # Errors
    ///
    /// When the file cannot be opened or created, or a migration fails (a file from a newer
    /// version of the robot, say).
    pub fn open(path: &Path) -> Result<Self, StoreError> {
        if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            std::fs::create_dir_all(parent)
                .map_err(|err| StoreError(format!("cannot create {}: {err}", parent.display())))?;
        }
        let mut connection = Connection::open(path)
            .map_err(|err| StoreError(format!("cannot open {}: {err}", path.display())))?;
        // A second robot (a restart overlapping the old one) waits for the other's writes.
        connection.busy_timeout(Duration::from_secs(5))?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        Migrations::from_slice(MIGRATIONS)
            .to_latest(&mut connection)
            .map_err(|err| StoreError(format!("cannot migrate {}: {err}", path.display())))?;

        let (jobs, mut queue) = mpsc::channel::<Job>(QUEUE);
        std::thread::Builder::new()
            .name("moderation-db".into())
            .spawn(move || {
                while let Some(job) = queue.blocking_recv() {
                    job(&mut connection);
                }
            })
            .map_err(|err| StoreError(format!("cannot start the database thread: {err}")))?;
        Ok(Self {
            jobs,
            path: path.to_owned(),
        })
    }

    /// Where the database file is.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Runs `call` on the database thread and returns its answer.
    async fn call<R: Send + 'static>(
        &self,
        call: impl FnOnce(&mut Connection) -> rusqlite::Result<R> + Send + 'static,
    ) -> Result<R, StoreError> {
        let (answer, answered) = oneshot::channel();
        let job: Job = Box::new(move |connection| {
            let _ = answer.send(call(connection));
        });
        self.jobs
            .send(job)
            .await
            .map_err(|_| StoreError("the database thread has stopped".into()))?;
        answered
            .await
            .map_err(|_| StoreError("the database thread has stopped".into()))?
            .map_err(StoreError::from)
    }

    /// The schema version of the open file (the number of migrations applied).
    pub async fn schema_version(&self) -> Result<u32, StoreError> {
        self.call(|c| c.pragma_query_value(None, "user_version", |row| row.get(0)))
            .await
    }

    /// Records a violation in the audit log, with `action` as what the robot is about to do,
    /// and, when `strike` holds a weight and an expiry, gives the member that strike, in one
    /// transaction. Returns the entry's number and, for a strike, the totals around it.
    pub async fn record(
        &self,
        entry: NewEntry,
        action: String,
        strike: Option<(u32, Duration)>,
    ) -> Result<(i64, Option<Totals>), StoreError> {
        self.call(move |c| {
            let tx = c.transaction()?;
            let at = unix_seconds(entry.at);
            tx.execute(
                "INSERT INTO audit (at, rule, member_id, member_name, room_id, message_id, \
                 excerpt, action, accepted, edited) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, NULL, ?9)",
                params![
                    at,
                    entry.rule,
                    entry.member_id,
                    entry.member_name,
                    entry.room_id,
                    entry.message_id,
                    entry.excerpt,
                    action,
                    entry.edited
                ],
            )?;
            let id = tx.last_insert_rowid();
            let totals = match strike {
                None => None,
                Some((weight, expiry)) => {
                    let before = active_total(&tx, &entry.member_id, at)?;
                    let expires_at = at.saturating_add(i64::try_from(expiry.as_secs()).unwrap_or(i64::MAX));
                    tx.execute(
                        "INSERT INTO strikes (member_id, member_name, rule, weight, given_at, \
                         expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                        params![entry.member_id, entry.member_name, entry.rule, weight, at, expires_at],
                    )?;
                    Some(Totals {
                        before,
                        after: before + weight,
                    })
                }
            };
            tx.commit()?;
            Ok((id, totals))
        })
        .await
    }

    /// Completes audit entry `id` with what the robot did and whether Lag accepted it.
    pub async fn settle(
        &self,
        id: i64,
        action: String,
        accepted: Option<bool>,
    ) -> Result<(), StoreError> {
        self.call(move |c| {
            c.execute(
                "UPDATE audit SET action = ?2, accepted = ?3 WHERE id = ?1",
                params![id, action, accepted],
            )
            .map(drop)
        })
        .await
    }

    /// The member's strikes that count at `now`, newest first.
    pub async fn strikes(
        &self,
        member_id: &str,
        now: SystemTime,
    ) -> Result<Vec<Strike>, StoreError> {
        let member_id = member_id.to_owned();
        let now = unix_seconds(now);
        self.call(move |c| {
            let mut query = c.prepare_cached(
                "SELECT rule, weight, given_at, expires_at FROM strikes \
                 WHERE member_id = ?1 AND expires_at > ?2 AND pardoned_at IS NULL \
                 ORDER BY given_at DESC, id DESC",
            )?;
            let rows = query.query_map(params![member_id, now], |row| {
                Ok(Strike {
                    rule: row.get(0)?,
                    weight: row.get(1)?,
                    given_at: row.get(2)?,
                    expires_at: row.get(3)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// Pardons up to `points` of the member's active strikes (all of them for `None`), newest
    /// first; returns how many were pardoned.
    pub async fn pardon(
        &self,
        member_id: &str,
        points: Option<u32>,
        now: SystemTime,
    ) -> Result<u32, StoreError> {
        let member_id = member_id.to_owned();
        let now = unix_seconds(now);
        self.call(move |c| {
            let tx = c.transaction()?;
            let active: Vec<(i64, u32)> = {
                let mut query = tx.prepare(
                    "SELECT id, weight FROM strikes \
                     WHERE member_id = ?1 AND expires_at > ?2 AND pardoned_at IS NULL \
                     ORDER BY given_at DESC, id DESC",
                )?;
                let rows = query.query_map(params![member_id, now], |row| {
                    Ok((row.get(0)?, row.get(1)?))
                })?;
                rows.collect::<rusqlite::Result<_>>()?
            };
            let mut left = points.unwrap_or(u32::MAX);
            let mut pardoned = 0;
            for (id, weight) in active {
                if left == 0 {
                    break;
                }
                if weight <= left {
                    tx.execute(
                        "UPDATE strikes SET pardoned_at = ?2 WHERE id = ?1",
                        params![id, now],
                    )?;
                    left -= weight;
                    pardoned += weight;
                } else {
                    tx.execute(
                        "UPDATE strikes SET weight = weight - ?2 WHERE id = ?1",
                        params![id, left],
                    )?;
                    pardoned += left;
                    left = 0;
                }
            }
            tx.commit()?;
            Ok(pardoned)
        })
        .await
    }

    /// The latest `count` audit entries, newest first.
    pub async fn audit(&self, count: u32) -> Result<Vec<AuditEntry>, StoreError> {
        self.call(move |c| {
            let mut query = c.prepare_cached(
                "SELECT id, at, rule, member_name, excerpt, action, accepted FROM audit \
                 ORDER BY id DESC LIMIT ?1",
            )?;
            let rows = query.query_map(params![count], |row| {
                Ok(AuditEntry {
                    id: row.get(0)?,
                    at: row.get(1)?,
                    rule: row.get(2)?,
                    member_name: row.get(3)?,
                    excerpt: row.get(4)?,
                    action: row.get(5)?,
                    accepted: row.get(6)?,
                })
            })?;
            rows.collect()
        })
        .await
    }

    /// How many violations the audit log holds for the member (every member for `None`).
    pub async fn audit_count(&self, member_id: Option<&str>) -> Result<u64, StoreError> {
        let member_id = member_id.map(str::to_owned);
        let count: i64 = self
            .call(move |c| {
                c.query_row(
                    "SELECT COUNT(*) FROM audit WHERE ?1 IS NULL OR member_id = ?1",
                    params![member_id],
                    |row| row.get(0),
                )
            })
            .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

/// The member's active strike total at `now` (Unix seconds).
fn active_total(c: &Connection, member_id: &str, now: i64) -> rusqlite::Result<u32> {
    c.query_row(
        "SELECT COALESCE(SUM(weight), 0) FROM strikes \
         WHERE member_id = ?1 AND expires_at > ?2 AND pardoned_at IS NULL",
        params![member_id, now],
        |row| row.get(0),
    )
}
