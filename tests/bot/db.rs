//! Test databases on both backends: a fresh SQLite file, or a fresh PostgreSQL database on the
//! server at `BEACON_TEST_POSTGRES` (default: the local one, trust auth). Without a server the
//! PostgreSQL leg is skipped and says so on stderr, unless `BEACON_REQUIRE_POSTGRES=1` (as in
//! `.ci/run`), which makes a missing server fail the tests.

use std::io::Write as _;
use std::sync::OnceLock;

use sqlx::Connection as _;
use sqlx::postgres::PgConnection;

pub const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// A database that exists for one test and is removed afterwards.
pub struct TestDb {
    pub url: String,
    _dir: Option<tempfile::TempDir>,
    postgres: Option<(String, String)>,
}

impl TestDb {
    pub fn sqlite() -> TestDb {
        let dir = tempfile::tempdir().expect("temp dir");
        let url = format!("sqlite://{}", dir.path().join("beacon.db").display());
        TestDb {
            url,
            _dir: Some(dir),
            postgres: None,
        }
    }

    /// A fresh PostgreSQL database, or `None` when there is no server (and it is allowed).
    pub async fn postgres() -> Option<TestDb> {
        let admin =
            std::env::var("BEACON_TEST_POSTGRES").unwrap_or_else(|_| DEFAULT_POSTGRES.into());
        let mut conn = match PgConnection::connect(&admin).await {
            Ok(c) => c,
            Err(e) => {
                if std::env::var("BEACON_REQUIRE_POSTGRES").is_ok_and(|v| v == "1") {
                    panic!(
                        "BEACON_REQUIRE_POSTGRES=1 but PostgreSQL at {admin} is not reachable: {e}"
                    );
                }
                static SAID: OnceLock<()> = OnceLock::new();
                SAID.get_or_init(|| {
                    // Straight to stderr, past the test harness's capture, so it is seen.
                    let _ = writeln!(
                        std::io::stderr(),
                        "note: PostgreSQL at {admin} is not reachable ({e}); the PostgreSQL leg \
                         of the storage and end-to-end tests is skipped, the SQLite leg runs"
                    );
                });
                return None;
            }
        };
        let name = format!("beacon_test_{}_{}", std::process::id(), fastrand::u64(..));
        sqlx::query(&format!("CREATE DATABASE {name}"))
            .execute(&mut conn)
            .await
            .expect("create a test database");
        let _ = conn.close().await;
        let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
        Some(TestDb {
            url: format!("{base}/{name}"),
            _dir: None,
            postgres: Some((admin, name)),
        })
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some((admin, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs outside any runtime's reach, so a small one of its own does the work.
        let _ = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .ok()?;
            rt.block_on(async {
                let mut conn = PgConnection::connect(&admin).await.ok()?;
                sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                    .execute(&mut conn)
                    .await
                    .ok()
            })
        })
        .join();
    }
}

/// Generates a `sqlite` and a `postgres` test for each listed `async fn(url: String)`.
#[macro_export]
macro_rules! on_both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::db::TestDb::sqlite();
                    super::$name(db.url.clone()).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) = $crate::db::TestDb::postgres().await else { return };
                    super::$name(db.url.clone()).await;
                }
            )*
        }
    };
}
