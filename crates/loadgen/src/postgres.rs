//! A fresh PostgreSQL database for one run of a scenario, dropped afterwards.
use std::collections::HashMap;

use anyhow::Context;
use tokio_postgres::NoTls;

use crate::server::cpu_seconds_of;

/// A database made here: its name and the URL that reaches it.
pub struct TempDb {
    admin_url: String,
    pub name: String,
    pub url: String,
}

impl TempDb {
    /// Creates database `name` through `admin_url` (a URL of the server's `postgres`
    /// database, say); its own URL is `admin_url` with the database name replaced.
    pub async fn create(admin_url: &str, name: &str) -> anyhow::Result<TempDb> {
        let (scheme, base) = admin_url
            .split_once("://")
            .and_then(|(scheme, rest)| Some((scheme, rest.rsplit_once('/')?.0)))
            .context("expected postgres://user@host:port/database")?;
        let db = TempDb {
            admin_url: admin_url.to_owned(),
            name: name.to_owned(),
            url: format!("{scheme}://{base}/{name}"),
        };
        db.execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await?;
        db.execute(&format!("CREATE DATABASE {name}")).await?;
        Ok(db)
    }

    /// Drops the database (its nodes stopped or not: `WITH (FORCE)`).
    pub async fn drop_now(self) -> anyhow::Result<()> {
        let name = self.name.clone();
        self.execute(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
            .await
    }

    /// The CPU time so far of each backend serving this database (the PostgreSQL processes
    /// of its connections, on this machine), by pid.
    pub async fn backend_cpu(&self) -> anyhow::Result<HashMap<u32, f64>> {
        let sql = "SELECT pid FROM pg_stat_activity WHERE datname = $1";
        let rows = self
            .with_client(|c| async move { c.query(sql, &[&self.name]).await })
            .await?;
        let mut cpu = HashMap::new();
        for row in rows {
            let pid = u32::try_from(row.try_get::<_, i32>(0)?)?;
            // A backend that ended since the query is simply left out.
            if let Ok(s) = cpu_seconds_of(pid) {
                cpu.insert(pid, s);
            }
        }
        Ok(cpu)
    }

    async fn execute(&self, sql: &str) -> anyhow::Result<()> {
        self.with_client(|c| async move { c.batch_execute(sql).await })
            .await
            .with_context(|| sql.to_owned())
    }

    /// Runs `f` on a fresh connection through the admin URL.
    async fn with_client<T, F, Fut>(&self, f: F) -> anyhow::Result<T>
    where
        F: FnOnce(tokio_postgres::Client) -> Fut,
        Fut: Future<Output = Result<T, tokio_postgres::Error>>,
    {
        let (client, conn) = tokio_postgres::connect(&self.admin_url, NoTls)
            .await
            .with_context(|| format!("connecting to PostgreSQL at {}", self.admin_url))?;
        let conn = tokio::spawn(conn);
        let r = f(client).await;
        let _ = conn.await;
        Ok(r?)
    }
}

/// The backends' CPU seconds between two readings of [`TempDb::backend_cpu`]: a backend
/// started in between counts whole, one ended in between is missed.
pub fn cpu_between(before: &HashMap<u32, f64>, after: &HashMap<u32, f64>) -> f64 {
    after
        .iter()
        .map(|(pid, now)| now - before.get(pid).copied().unwrap_or(0.0))
        .sum()
}
