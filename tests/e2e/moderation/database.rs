//! The database a moderation test runs on, and the macro that runs a scenario on each kind.
//!
//! SQLite needs nothing: a file in a temporary folder. PostgreSQL needs a server, named by
//! `LAG_TEST_POSTGRES_URL` (`postgres://postgres@127.0.0.1:5432/test`, say; see the README's
//! Testing section): each test gets a schema of its own in that database, with a random name,
//! so that tests share the server at the same time, and the schema is dropped afterwards,
//! whether the test passed or not.

use std::time::Duration;

use sqlx::{AssertSqlSafe, Connection, Executor, PgConnection};

use super::robot::store::Database;

/// The variable naming the PostgreSQL server.
const POSTGRES_URL: &str = "LAG_TEST_POSTGRES_URL";

/// How long reaching the PostgreSQL server may take before the test fails.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Runs each named scenario, an `async fn(Database)`, as two tests in a module of its name:
/// `sqlite`, and `postgres`, ignored unless the tests are run with `--ignored`.
macro_rules! on_both_databases {
    ($($scenario:ident),* $(,)?) => {$(
        mod $scenario {
            use super::database::TestDatabase;

            #[tokio::test]
            async fn sqlite() {
                let database = TestDatabase::sqlite();
                super::$scenario(database.database.clone()).await;
            }

            #[tokio::test]
            #[ignore = "needs PostgreSQL: set LAG_TEST_POSTGRES_URL (see README, Testing)"]
            async fn postgres() {
                let database = TestDatabase::postgres().await;
                super::$scenario(database.database.clone()).await;
            }
        }
    )*};
}

pub(super) use on_both_databases;

/// A database for one test, removed when dropped.
pub struct TestDatabase {
    /// What the robot is given.
    pub database: Database,
    /// What to remove afterwards.
    cleanup: Cleanup,
}

enum Cleanup {
    /// The SQLite file's folder, removed with it.
    Folder { _folder: tempfile::TempDir },
    /// The PostgreSQL schema, by the server's URL and the schema's name.
    Schema { server: String, schema: String },
}

impl TestDatabase {
    /// An SQLite file in a folder that does not exist yet, so that opening it creates both.
    pub fn sqlite() -> Self {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("nested").join("moderation.sqlite3");
        Self {
            database: Database::Sqlite(path),
            cleanup: Cleanup::Folder { _folder: folder },
        }
    }

    /// A new schema in the database `LAG_TEST_POSTGRES_URL` names; the robot's connections
    /// use it through their search path.
    ///
    /// # Panics
    ///
    /// At once, naming the variable, when it is not set or the server cannot be reached.
    pub async fn postgres() -> Self {
        let server = std::env::var(POSTGRES_URL).unwrap_or_else(|_| {
            panic!(
                "{POSTGRES_URL} is not set: set it to a PostgreSQL database the tests may create \
                 schemas in, e.g. postgres://postgres@127.0.0.1:5432/test (see README, Testing)"
            )
        });
        let schema = format!("moderation_test_{:016x}", rand::random::<u64>());
        let mut admin = connect(&server).await;
        admin
            .execute(AssertSqlSafe(format!("CREATE SCHEMA {schema}")))
            .await
            .unwrap_or_else(|err| panic!("{POSTGRES_URL}: cannot create a schema: {err}"));
        admin.close().await.ok();
        let mut url = url::Url::parse(&server)
            .unwrap_or_else(|err| panic!("{POSTGRES_URL} is not a URL: {err}"));
        // A test needs no commit to survive a crash of the server: commits that do not wait
        // for the disk keep a flood's hundreds of transactions within the kit's patience.
        url.query_pairs_mut()
            .append_pair("options[search_path]", &schema)
            .append_pair("options[synchronous_commit]", "off");
        Self {
            database: Database::Postgres(url.into()),
            cleanup: Cleanup::Schema { server, schema },
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Cleanup::Schema { server, schema } = &self.cleanup else {
            return;
        };
        // Drop runs inside the test's runtime, which cannot be blocked on: the schema is
        // dropped from a thread with a runtime of its own.
        let (server, name) = (server.clone(), schema.clone());
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                let mut admin = connect(&server).await;
                // A robot a failed test left running may still hold a lock in the schema.
                admin.execute("SET lock_timeout = '5s'").await?;
                admin
                    .execute(AssertSqlSafe(format!("DROP SCHEMA {name} CASCADE")))
                    .await?;
                admin.close().await
            })
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("could not drop the test schema {schema}: {dropped:?}");
        }
    }
}

/// A connection to the PostgreSQL server at `url`.
///
/// # Panics
///
/// Naming the variable, when it cannot be made within [`CONNECT_TIMEOUT`].
async fn connect(url: &str) -> PgConnection {
    match tokio::time::timeout(CONNECT_TIMEOUT, PgConnection::connect(url)).await {
        Ok(Ok(connection)) => connection,
        Ok(Err(err)) => panic!("{POSTGRES_URL}: cannot connect to PostgreSQL: {err}"),
        Err(_) => panic!(
            "{POSTGRES_URL}: PostgreSQL did not answer within {}s",
            CONNECT_TIMEOUT.as_secs()
        ),
    }
}
