//! The data directory: private to roamd's user, and where a generated admin credential waits
//! to be seen.
//!
//! The directory is made 0700 and the database files 0600 (SQLite gives its `-wal` and `-shm`
//! files the database file's mode), so other local accounts can read neither messages nor
//! token hashes. A directory or files from an earlier version are tightened at start.
//!
//! A generated admin credential is stored only as a hash. Its secret is written to
//! [`CREDENTIAL_FILE`] (0600) in the data directory and printed at every start until the
//! credential is first used to log in, when the file is deleted: a start that fails (a busy
//! port) loses nothing, and the secret does not stay on disk once someone has it.
use std::{
    fs::{self, DirBuilder, OpenOptions, Permissions},
    io::Write,
    os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt},
    path::{Path, PathBuf},
};

use anyhow::Context;
use roam_domain::{auth::AdminCredential, store::Store};

use crate::config::Config;

/// The file that holds a generated admin credential until its first use.
pub const CREDENTIAL_FILE: &str = "admin-credential";

/// The settings key of the stored admin credential (id and secret hash).
const STORED_CREDENTIAL: &str = "admin_credential";

/// A generated admin credential not yet used: to be shown to the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingCredential {
    pub client_id: String,
    pub client_secret: String,
    /// The file it is kept in until first used.
    pub file: PathBuf,
}

/// Creates the data directory (0700) if missing, and makes an existing one and the database
/// files in it (`db`: SQLite only) private.
pub fn prepare(dir: &Path, db: Option<&Path>) -> anyhow::Result<()> {
    DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .with_context(|| format!("create data dir {}", dir.display()))?;
    fs::set_permissions(dir, Permissions::from_mode(0o700))
        .with_context(|| format!("make {} private", dir.display()))?;
    let Some(db) = db else {
        return Ok(());
    };
    // Create the database file 0600 before SQLite does (it would use the umask, often 0644).
    OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(db)
        .with_context(|| format!("create {}", db.display()))?;
    for suffix in ["", "-wal", "-shm"] {
        let mut name = db.as_os_str().to_owned();
        name.push(suffix);
        let path = PathBuf::from(name);
        if path.exists() {
            fs::set_permissions(&path, Permissions::from_mode(0o600))
                .with_context(|| format!("make {} private", path.display()))?;
        }
    }
    Ok(())
}

/// The configured admin credential, else the one kept in the store (hashed; a plain one from
/// an earlier version is re-stored hashed), else a new one: its hash stored, its secret
/// written to [`CREDENTIAL_FILE`]. Also answers the credential still waiting to be shown.
pub async fn admin_credential(
    store: &dyn Store,
    config: &Config,
) -> anyhow::Result<(AdminCredential, Option<PendingCredential>)> {
    let file = config.data_dir.join(CREDENTIAL_FILE);
    if let (Some(id), Some(secret)) = (&config.client_id, &config.client_secret) {
        return Ok((AdminCredential::new(id, secret), None));
    }
    if let Some(saved) = store.setting(STORED_CREDENTIAL).await?
        && let Some(c) = AdminCredential::from_stored(&saved)
    {
        if AdminCredential::stored_in_plain(&saved) {
            store.put_setting(STORED_CREDENTIAL, &c.to_stored()).await?;
        }
        let shown = pending(&file).filter(|p| c.matches(&p.client_id, &p.client_secret));
        return Ok((c, shown));
    }
    let (c, secret) = AdminCredential::generate();
    let shown = PendingCredential {
        client_id: c.client_id.clone(),
        client_secret: secret,
        file,
    };
    // The file first: if storing fails, the next start generates another and overwrites it.
    write_pending(&shown)?;
    store.put_setting(STORED_CREDENTIAL, &c.to_stored()).await?;
    Ok((c, Some(shown)))
}

fn write_pending(c: &PendingCredential) -> anyhow::Result<()> {
    let mut f = OpenOptions::new()
        .create(true)
        .write(true)
        .truncate(true)
        .mode(0o600)
        .open(&c.file)
        .with_context(|| format!("write {}", c.file.display()))?;
    writeln!(
        f,
        "client_id={}\nclient_secret={}",
        c.client_id, c.client_secret
    )
    .with_context(|| format!("write {}", c.file.display()))?;
    f.sync_all().context("sync the admin credential file")?;
    Ok(())
}

/// The credential in `file`, if it is still there (not yet used).
fn pending(file: &Path) -> Option<PendingCredential> {
    let text = fs::read_to_string(file).ok()?;
    let field = |key: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(key)?.strip_prefix('='))
            .map(str::to_owned)
    };
    Some(PendingCredential {
        client_id: field("client_id")?,
        client_secret: field("client_secret")?,
        file: file.to_owned(),
    })
}

/// Deletes the credential file once the admin credential has logged in.
pub fn forget_when_used(file: PathBuf, mut used: tokio::sync::watch::Receiver<bool>) {
    tokio::spawn(async move {
        if used.wait_for(|u| *u).await.is_ok() {
            match fs::remove_file(&file) {
                Ok(()) => tracing::info!(
                    file = %file.display(),
                    "the generated admin credential has been used: its file is deleted"
                ),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => {
                    tracing::warn!(error = %e, file = %file.display(), "could not delete the admin credential file")
                }
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_directory_and_database_files_are_private() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("data");
        fs::create_dir(&dir).unwrap();
        fs::set_permissions(&dir, Permissions::from_mode(0o755)).unwrap();
        let db = dir.join("roam.db");
        fs::write(dir.join("roam.db-wal"), b"").unwrap();
        fs::set_permissions(dir.join("roam.db-wal"), Permissions::from_mode(0o644)).unwrap();
        prepare(&dir, Some(&db)).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&db), 0o600);
        assert_eq!(mode(&dir.join("roam.db-wal")), 0o600);
    }

    #[test]
    fn a_pending_credential_reads_back() {
        let tmp = tempfile::tempdir().unwrap();
        let c = PendingCredential {
            client_id: "YXA6id".into(),
            client_secret: "YXA6secret".into(),
            file: tmp.path().join(CREDENTIAL_FILE),
        };
        write_pending(&c).unwrap();
        assert_eq!(pending(&c.file), Some(c.clone()));
        let mode = fs::metadata(&c.file).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        fs::remove_file(&c.file).unwrap();
        assert_eq!(pending(&c.file), None);
    }
}
