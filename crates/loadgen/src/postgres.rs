//! A fresh PostgreSQL database for one run of a scenario, dropped afterwards.
use anyhow::Context;
use tokio_postgres::NoTls;

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

    async fn execute(&self, sql: &str) -> anyhow::Result<()> {
        let (client, conn) = tokio_postgres::connect(&self.admin_url, NoTls)
            .await
            .with_context(|| format!("connecting to PostgreSQL at {}", self.admin_url))?;
        let conn = tokio::spawn(conn);
        let r = client
            .batch_execute(sql)
            .await
            .with_context(|| sql.to_owned());
        drop(client);
        let _ = conn.await;
        r
    }
}
