//! The schema and its versions: the table `roam_schema_version` says which scripts a database
//! has had. Nodes starting at once take an advisory lock, so one applies each script and the
//! others then find it applied.
use roam_domain::store::StoreError;
use tokio_postgres::Client;

use crate::rows::engine;

/// The schema scripts: `MIGRATIONS[n]` takes a database from version n to n + 1.
const MIGRATIONS: [&str; 1] = [include_str!("schema.sql")];
const SCHEMA_VERSION: usize = MIGRATIONS.len();

/// Brings the schema up to this build's version, each script in one transaction with its
/// version bump. Refuses a database newer than this build (it would misread it).
pub(crate) async fn apply(c: &Client) -> Result<(), StoreError> {
    c.batch_execute(
        "BEGIN; SELECT pg_advisory_xact_lock(hashtext('roam-migrations:' || current_schema())); \
         CREATE TABLE IF NOT EXISTS roam_schema_version (version INTEGER NOT NULL); COMMIT;",
    )
    .await
    .map_err(engine)?;
    loop {
        c.batch_execute("BEGIN").await.map_err(engine)?;
        let result = step(c).await;
        match result {
            Ok(true) => c.batch_execute("COMMIT").await.map_err(engine)?,
            Ok(false) => {
                c.batch_execute("COMMIT").await.map_err(engine)?;
                return Ok(());
            }
            Err(e) => {
                let _ = c.batch_execute("ROLLBACK").await;
                return Err(e);
            }
        }
    }
}

/// Applies the next script if there is one (inside the caller's transaction): true if it did.
async fn step(c: &Client) -> Result<bool, StoreError> {
    c.execute(
        "SELECT pg_advisory_xact_lock(hashtext('roam-migrations:' || current_schema()))",
        &[],
    )
    .await
    .map_err(engine)?;
    let version: Option<i32> = c
        .query_one("SELECT MAX(version) FROM roam_schema_version", &[])
        .await
        .map_err(engine)?
        .get(0);
    let version = usize::try_from(version.unwrap_or(0))
        .map_err(|_| StoreError::Engine("database schema version is not one roamd sets".into()))?;
    if version > SCHEMA_VERSION {
        return Err(StoreError::Engine(format!(
            "database schema version {version} is newer than this roamd knows ({SCHEMA_VERSION})"
        )));
    }
    let Some(script) = MIGRATIONS.get(version) else {
        return Ok(false);
    };
    c.batch_execute(script).await.map_err(engine)?;
    let next =
        i32::try_from(version + 1).map_err(|_| StoreError::Engine("schema version".into()))?;
    c.execute("DELETE FROM roam_schema_version", &[])
        .await
        .map_err(engine)?;
    c.execute(
        "INSERT INTO roam_schema_version (version) VALUES ($1)",
        &[&next],
    )
    .await
    .map_err(engine)?;
    Ok(true)
}
