//! The schema and its versions: `PRAGMA user_version` says which scripts a database has had.
use roam_domain::store::StoreError;
use rusqlite::Connection;

use crate::rows::engine;

/// The schema scripts: `MIGRATIONS[n]` takes a database from version n to n + 1. Scripts may
/// call the functions of [`crate::rows::register_functions`].
const MIGRATIONS: [&str; 4] = [
    include_str!("schema.sql"),
    include_str!("schema_v2.sql"),
    include_str!("schema_v3.sql"),
    include_str!("schema_v4.sql"),
];
const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Brings the database up to this build's schema: each version's script, applied in order
/// from the database's version on, each in its own transaction with the version bump. Refuses
/// a database newer than this build (it would misread it).
pub(crate) fn apply(conn: &Connection) -> Result<(), StoreError> {
    let version: i64 = conn
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .map_err(engine)?;
    // (`user_version` is signed: a negative one was set by something else.)
    let version = usize::try_from(version).map_err(|_| {
        StoreError::Engine(format!(
            "database schema version {version} is not one roamd sets"
        ))
    })?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Engine(format!(
            "database schema version {version} is newer than this roamd knows ({SCHEMA_VERSION})"
        )));
    }
    for (v, script) in MIGRATIONS.iter().enumerate().skip(version) {
        conn.execute_batch(&format!(
            "BEGIN; {script} PRAGMA user_version={}; COMMIT;",
            v + 1
        ))
        .map_err(engine)?;
    }
    Ok(())
}
