//! The storage conformance suite against the PostgreSQL engine, and the checks only a
//! multi-writer engine needs. Each test gets a fresh schema in the database named by
//! `ROAM_TEST_DATABASE_URL` (default: the local server's `test` database), dropped when the
//! run ends (and any left by an earlier, interrupted run, at the start).
//! `cargo test -p roam-storage-postgres --test conformance -- FILTER`.
#![allow(
    clippy::unwrap_used,
    reason = "a test suite: a panic is a failed test with its location"
)]
use std::{
    process::ExitCode,
    sync::{
        Arc,
        atomic::{AtomicU64, Ordering},
    },
};

use roam_conformance::{Engine, Trial, prelude::*};
use roam_storage_postgres::{Options, PgStore};

/// Every schema this suite makes starts so, followed by the process id: a run drops its own
/// at the end and those of runs that no longer exist at the start.
const PREFIX: &str = "roam_ct_";

fn url() -> String {
    std::env::var("ROAM_TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

fn main() -> ExitCode {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    runtime.block_on(drop_schemas(|pid| {
        pid == std::process::id() || !std::path::Path::new(&format!("/proc/{pid}")).exists()
    }));
    let code = roam_conformance::run_with(PgEngine::default(), postgres_only());
    runtime.block_on(drop_schemas(|pid| pid == std::process::id()));
    code
}

/// Drops the suite's schemas whose process `doomed` says is done with them.
async fn drop_schemas(doomed: impl Fn(u32) -> bool) {
    let (client, connection) = tokio_postgres::connect(&url(), tokio_postgres::NoTls)
        .await
        .expect("the test database (ROAM_TEST_DATABASE_URL) answers");
    tokio::spawn(connection);
    let rows = client
        .query(
            "SELECT nspname FROM pg_namespace WHERE nspname LIKE $1",
            &[&format!("{PREFIX}%")],
        )
        .await
        .unwrap();
    for row in rows {
        let name: String = row.get(0);
        let pid = name[PREFIX.len()..]
            .split('_')
            .next()
            .and_then(|p| p.parse::<u32>().ok());
        if pid.is_some_and(&doomed) {
            client
                .batch_execute(&format!("DROP SCHEMA {name} CASCADE"))
                .await
                .unwrap();
        }
    }
}

/// Each test's store in a schema of its own.
#[derive(Default)]
struct PgEngine {
    next: AtomicU64,
}

impl Engine for PgEngine {
    type Place = String;

    async fn place(&self) -> Result<String, StoreError> {
        let n = self.next.fetch_add(1, Ordering::Relaxed);
        Ok(format!("{PREFIX}{}_{n}", std::process::id()))
    }

    async fn open(&self, schema: &String) -> Result<Arc<dyn Store>, StoreError> {
        Ok(Arc::new(
            PgStore::connect(
                &url(),
                Options {
                    pool_size: 4,
                    schema: Some(schema.clone()),
                    ..Options::default()
                },
            )
            .await?,
        ))
    }
}

fn postgres_only() -> Vec<Trial> {
    Vec::new()
}
