//! The robot's memory: strikes and the audit log, in an SQLite file or a PostgreSQL database.
//!
//! One store code serves both. sqlx's `Any` driver picks the database by its URL, and every
//! query below is written in the SQL the two share: `$1` parameters, `RETURNING`, `ON
//! CONFLICT`, integers for times (Unix seconds) and flags. Only the schema is written twice
//! ([`schema`](super::schema)), and sqlx's migrator brings a database up to date at start-up.
//!
//! An SQLite file is used through one connection, since SQLite writes one transaction at a
//! time anyway; a PostgreSQL database through a few, so that handlers in several rooms use it
//! at once. Several robots may share a PostgreSQL database: a transaction that changes a
//! member's strikes takes the member's row in `members` first, so theirs take turns.

use std::borrow::Cow;
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, SystemTime};

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, SqlSafeStr, Transaction};

use super::clock::unix_seconds;
use super::schema::{self, Step};

/// Connections to a PostgreSQL database at most.
const POSTGRES_CONNECTIONS: u32 = 5;

/// Where strikes and the audit log are kept.
#[derive(Clone, PartialEq, Eq)]
pub enum Database {
    /// An SQLite file, created on first run (with the folders above it).
    Sqlite(PathBuf),
    /// A PostgreSQL database, by its `postgres://` or `postgresql://` URL.
    Postgres(String),
}

impl Database {
    /// Reads the database setting (`--database` or `MODERATION_DB`): a `postgres://` or
    /// `postgresql://` URL, a `sqlite://` URL, or the path of an SQLite file.
    ///
    /// # Errors
    ///
    /// When the setting is empty, is a URL of another kind, or is not a valid URL of its kind.
    pub fn parse(setting: &str) -> Result<Self, StoreError> {
        let setting = setting.trim();
        if setting.is_empty() {
            return Err(StoreError("the database setting is empty".into()));
        }
        if setting.starts_with("postgres://") || setting.starts_with("postgresql://") {
            sqlx::postgres::PgConnectOptions::from_str(setting)
                .map_err(|err| StoreError(format!("not a PostgreSQL URL: {err}")))?;
            return Ok(Self::Postgres(setting.to_owned()));
        }
        if setting.starts_with("sqlite:") {
            if setting.contains('?') {
                return Err(StoreError(format!(
                    "`{setting}`: options in an SQLite URL are not taken; give the file alone"
                )));
            }
            let options = SqliteConnectOptions::from_str(setting)
                .map_err(|err| StoreError(format!("not an SQLite URL: {err}")))?;
            return Ok(Self::Sqlite(options.get_filename().to_owned()));
        }
        if let Some((scheme, _)) = setting.split_once("://") {
            return Err(StoreError(format!(
                "`{scheme}://` databases are not supported: give a postgres:// URL, a \
                 sqlite:// URL or the path of an SQLite file"
            )));
        }
        Ok(Self::Sqlite(PathBuf::from(setting)))
    }
}

/// The file's path, or the URL with its password hidden.
impl std::fmt::Display for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Sqlite(path) => write!(f, "{}", path.display()),
            Self::Postgres(url) => match url::Url::parse(url) {
                Ok(mut url) if url.password().is_some() => {
                    let _ = url.set_password(Some("***"));
                    write!(f, "{url}")
                }
                _ => f.write_str(url),
            },
        }
    }
}

/// As [`Display`](std::fmt::Display): a URL's password is never printed.
impl std::fmt::Debug for Database {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Database({self})")
    }
}

/// A failure of the database.
#[derive(Debug)]
pub struct StoreError(String);

impl std::fmt::Display for StoreError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "moderation database: {}", self.0)
    }
}

impl std::error::Error for StoreError {}

impl From<sqlx::Error> for StoreError {
    fn from(err: sqlx::Error) -> Self {
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

/// The database, through a pool of connections; cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    database: Database,
}

impl Store {
    /// Opens (or, for SQLite, creates) the database and brings its schema up to date.
    ///
    /// # Errors
    ///
    /// When the database cannot be reached, opened or created, or a migration fails (a
    /// database from a newer version of the robot, say).
    pub async fn open(database: &Database) -> Result<Self, StoreError> {
        sqlx::any::install_default_drivers();
        let (url, connections, steps) = match database {
            Database::Sqlite(path) => {
                if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
                    std::fs::create_dir_all(parent).map_err(|err| {
                        StoreError(format!("cannot create {}: {err}", parent.display()))
                    })?;
                }
                let options = SqliteConnectOptions::new()
                    .filename(path)
                    .create_if_missing(true);
                (options.to_url_lossy().to_string(), 1, schema::SQLITE)
            }
            Database::Postgres(url) => (url.clone(), POSTGRES_CONNECTIONS, schema::POSTGRES),
        };
        let pool = AnyPoolOptions::new()
            .max_connections(connections)
            .connect(&url)
            .await
            .map_err(|err| StoreError(format!("cannot open {database}: {err}")))?;
        if let Database::Sqlite(_) = database {
            // Earlier builds of the robot kept the schema version in SQLite's `user_version`.
            let earlier: i64 = sqlx::query_scalar("PRAGMA user_version")
                .fetch_one(&pool)
                .await?;
            if earlier > 0 {
                return Err(StoreError(format!(
                    "{database} was made by an earlier build of this robot (schema version \
                     {earlier} in SQLite's user_version); move it aside to start afresh"
                )));
            }
            // Readers do not wait for a writer (a second robot on the same file, say).
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        migrator(steps)
            .run(&pool)
            .await
            .map_err(|err| StoreError(format!("cannot migrate {database}: {err}")))?;
        Ok(Self {
            pool,
            database: database.clone(),
        })
    }

    /// Where the database is.
    pub fn database(&self) -> &Database {
        &self.database
    }

    /// The schema version of the database (the number of migrations applied).
    pub async fn schema_version(&self) -> Result<i64, StoreError> {
        let version: Option<i64> =
            sqlx::query_scalar("SELECT MAX(version) FROM _sqlx_migrations WHERE success")
                .fetch_one(&self.pool)
                .await?;
        Ok(version.unwrap_or(0))
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
        let at = unix_seconds(entry.at);
        let mut tx = self.pool.begin().await?;
        // The member's row first: strike changes of one member take turns across robots.
        sqlx::query(
            "INSERT INTO members (member_id, member_name) VALUES ($1, $2) \
             ON CONFLICT (member_id) DO UPDATE SET member_name = excluded.member_name",
        )
        .bind(&entry.member_id)
        .bind(&entry.member_name)
        .execute(&mut *tx)
        .await?;
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO audit (at, rule, member_id, member_name, room_id, message_id, \
             excerpt, action, accepted, edited) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, NULL, $9) RETURNING id",
        )
        .bind(at)
        .bind(&entry.rule)
        .bind(&entry.member_id)
        .bind(&entry.member_name)
        .bind(&entry.room_id)
        .bind(&entry.message_id)
        .bind(&entry.excerpt)
        .bind(action)
        .bind(i64::from(entry.edited))
        .fetch_one(&mut *tx)
        .await?;
        let totals = match strike {
            None => None,
            Some((weight, expiry)) => {
                let before = active_total(&mut tx, &entry.member_id, at).await?;
                let expires_at =
                    at.saturating_add(i64::try_from(expiry.as_secs()).unwrap_or(i64::MAX));
                sqlx::query(
                    "INSERT INTO strikes (member_id, member_name, rule, weight, given_at, \
                     expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
                )
                .bind(&entry.member_id)
                .bind(&entry.member_name)
                .bind(&entry.rule)
                .bind(i64::from(weight))
                .bind(at)
                .bind(expires_at)
                .execute(&mut *tx)
                .await?;
                Some(Totals {
                    before,
                    after: before + weight,
                })
            }
        };
        tx.commit().await?;
        Ok((id, totals))
    }

    /// Completes audit entry `id` with what the robot did and whether Lag accepted it.
    pub async fn settle(
        &self,
        id: i64,
        action: String,
        accepted: Option<bool>,
    ) -> Result<(), StoreError> {
        sqlx::query("UPDATE audit SET action = $2, accepted = $3 WHERE id = $1")
            .bind(id)
            .bind(action)
            .bind(accepted.map(i64::from))
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The member's strikes that count at `now`, newest first.
    pub async fn strikes(
        &self,
        member_id: &str,
        now: SystemTime,
    ) -> Result<Vec<Strike>, StoreError> {
        let rows: Vec<(String, i64, i64, i64)> = sqlx::query_as(
            "SELECT rule, weight, given_at, expires_at FROM strikes \
             WHERE member_id = $1 AND expires_at > $2 AND pardoned_at IS NULL \
             ORDER BY given_at DESC, id DESC",
        )
        .bind(member_id)
        .bind(unix_seconds(now))
        .fetch_all(&self.pool)
        .await?;
        rows.into_iter()
            .map(|(rule, weight, given_at, expires_at)| {
                Ok(Strike {
                    rule,
                    weight: strike_count(weight)?,
                    given_at,
                    expires_at,
                })
            })
            .collect()
    }

    /// Pardons up to `points` of the member's active strikes (all of them for `None`), newest
    /// first; returns how many were pardoned.
    pub async fn pardon(
        &self,
        member_id: &str,
        points: Option<u32>,
        now: SystemTime,
    ) -> Result<u32, StoreError> {
        let now = unix_seconds(now);
        let mut tx = self.pool.begin().await?;
        // Take the member's row first, as `record` does.
        sqlx::query("UPDATE members SET member_name = member_name WHERE member_id = $1")
            .bind(member_id)
            .execute(&mut *tx)
            .await?;
        let active: Vec<(i64, i64)> = sqlx::query_as(
            "SELECT id, weight FROM strikes \
             WHERE member_id = $1 AND expires_at > $2 AND pardoned_at IS NULL \
             ORDER BY given_at DESC, id DESC",
        )
        .bind(member_id)
        .bind(now)
        .fetch_all(&mut *tx)
        .await?;
        let mut left = points.unwrap_or(u32::MAX);
        let mut pardoned = 0;
        for (id, weight) in active {
            if left == 0 {
                break;
            }
            let weight = strike_count(weight)?;
            if weight <= left {
                sqlx::query("UPDATE strikes SET pardoned_at = $2 WHERE id = $1")
                    .bind(id)
                    .bind(now)
                    .execute(&mut *tx)
                    .await?;
                left -= weight;
                pardoned += weight;
            } else {
                sqlx::query("UPDATE strikes SET weight = weight - $2 WHERE id = $1")
                    .bind(id)
                    .bind(i64::from(left))
                    .execute(&mut *tx)
                    .await?;
                pardoned += left;
                left = 0;
            }
        }
        tx.commit().await?;
        Ok(pardoned)
    }

    /// The latest `count` audit entries, newest first.
    pub async fn audit(&self, count: u32) -> Result<Vec<AuditEntry>, StoreError> {
        type Row = (i64, i64, String, String, String, String, Option<i64>);
        let rows: Vec<Row> = sqlx::query_as(
            "SELECT id, at, rule, member_name, excerpt, action, accepted FROM audit \
             ORDER BY id DESC LIMIT $1",
        )
        .bind(i64::from(count))
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(
                |(id, at, rule, member_name, excerpt, action, accepted)| AuditEntry {
                    id,
                    at,
                    rule,
                    member_name,
                    excerpt,
                    action,
                    accepted: accepted.map(|flag| flag != 0),
                },
            )
            .collect())
    }

    /// How many violations the audit log holds for the member (every member for `None`).
    pub async fn audit_count(&self, member_id: Option<&str>) -> Result<u64, StoreError> {
        let count: i64 =
            sqlx::query_scalar("SELECT COUNT(*) FROM audit WHERE $1 IS NULL OR member_id = $1")
                .bind(member_id)
                .fetch_one(&self.pool)
                .await?;
        Ok(u64::try_from(count).unwrap_or(0))
    }
}

/// sqlx's migrator for `steps`, numbered from 1.
fn migrator(steps: &'static [Step]) -> Migrator {
    Migrator::with_migrations(
        steps
            .iter()
            .zip(1..)
            .map(|(&(description, sql), version)| {
                Migration::new(
                    version,
                    Cow::Borrowed(description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

/// The member's active strike total at `now` (Unix seconds).
async fn active_total(
    tx: &mut Transaction<'static, sqlx::Any>,
    member_id: &str,
    now: i64,
) -> Result<u32, StoreError> {
    // PostgreSQL sums integers into a NUMERIC; the cast keeps the total an integer in both.
    let total: i64 = sqlx::query_scalar(
        "SELECT CAST(COALESCE(SUM(weight), 0) AS BIGINT) FROM strikes \
         WHERE member_id = $1 AND expires_at > $2 AND pardoned_at IS NULL",
    )
    .bind(member_id)
    .bind(now)
    .fetch_one(&mut **tx)
    .await?;
    strike_count(total)
}

/// A strike weight or total as the database holds it, as a count.
fn strike_count(value: i64) -> Result<u32, StoreError> {
    u32::try_from(value).map_err(|_| StoreError(format!("a strike count out of range: {value}")))
}
