//! The roamd under test: a separate process, started by the load generator (a fresh data
//! directory, a free loopback port, the send rate limits off) or already running (attached by
//! URL and pid). Its CPU time and memory are read from `/proc/<pid>`, so the figures are the
//! server's own, never the clients'.
use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

use anyhow::{Context, bail};

/// The admin credential every roamd started here gets.
pub const CLIENT_ID: &str = "loadgen";
pub const CLIENT_SECRET: &str = "loadgen-secret";
/// The app every roamd started here serves.
pub const APP_KEY: &str = "roam#bench";

/// How to start a roamd.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The roamd binary.
    pub bin: PathBuf,
    /// Extra `ROAM_*` settings (name without the prefix, lower case, e.g. `max_devices`).
    pub settings: Vec<(String, String)>,
}

/// A roamd under test.
pub struct Roamd {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    pub pid: u32,
    child: Option<Child>,
    launch: Option<Launch>,
    /// The data directory of a roamd started here (removed on drop), kept across restarts.
    data: Option<tempfile::TempDir>,
    listen: String,
}

impl Roamd {
    /// Starts roamd on a fresh data directory and a free loopback port and waits until it
    /// answers `/health`. The send rate limits are off (a load generator is one client
    /// sending as fast as it is asked to); `launch.settings` come on top.
    pub async fn start(launch: Launch) -> anyhow::Result<Roamd> {
        let data = tempfile::Builder::new().prefix("roam-loadgen-").tempdir()?;
        Roamd::start_in(launch, data).await
    }

    /// Starts roamd on the data directory `data` (seeded beforehand, say).
    pub async fn start_in(launch: Launch, data: tempfile::TempDir) -> anyhow::Result<Roamd> {
        let port = TcpListener::bind("127.0.0.1:0")?.local_addr()?.port();
        let listen = format!("127.0.0.1:{port}");
        let mut r = Roamd {
            url: format!("http://{listen}"),
            pid: 0,
            child: None,
            launch: Some(launch),
            data: Some(data),
            listen,
        };
        r.spawn().await?;
        Ok(r)
    }

    /// A roamd started elsewhere: its URL and pid (for `/proc`). It must have the admin
    /// credential [`CLIENT_ID`]/[`CLIENT_SECRET`] and app [`APP_KEY`], and its send rate limits off.
    pub fn attach(url: &str, pid: u32) -> Roamd {
        Roamd {
            url: url.trim_end_matches('/').to_owned(),
            pid,
            child: None,
            launch: None,
            data: None,
            listen: String::new(),
        }
    }

    /// The data directory of a roamd started here.
    pub fn data_dir(&self) -> Option<&Path> {
        self.data.as_ref().map(tempfile::TempDir::path)
    }

    async fn spawn(&mut self) -> anyhow::Result<()> {
        let (Some(launch), Some(data)) = (&self.launch, &self.data) else {
            bail!("this roamd was attached, not started here");
        };
        let mut cmd = Command::new(&launch.bin);
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("ROAM_LISTEN", &self.listen)
            .env("ROAM_DATA_DIR", data.path())
            .env("ROAM_APP_KEY", APP_KEY)
            .env("ROAM_CLIENT_ID", CLIENT_ID)
            .env("ROAM_CLIENT_SECRET", CLIENT_SECRET)
            .env("ROAM_SEND_RATE_PER_CONNECTION", "0")
            .env("ROAM_SEND_RATE_PER_USER", "0")
            .env("ROAM_SEND_BURST", "0")
            .env("ROAM_LOGIN_LIMIT_PER_IP", "0")
            .env("ROAM_LOGIN_LIMIT_PER_ACCOUNT", "0")
            .env("ROAM_MAX_CONNECTIONS", "19000")
            .env("ROAM_LOG_FORMAT", "text")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null());
        for (k, v) in &launch.settings {
            cmd.env(format!("ROAM_{}", k.to_ascii_uppercase()), v);
        }
        let child = cmd
            .spawn()
            .with_context(|| format!("starting {}", launch.bin.display()))?;
        self.pid = child.id();
        self.child = Some(child);
        self.wait_healthy(Duration::from_secs(60)).await
    }

    async fn wait_healthy(&mut self, limit: Duration) -> anyhow::Result<()> {
        let http = reqwest::Client::new();
        let until = Instant::now() + limit;
        loop {
            if let Some(child) = &mut self.child
                && let Some(status) = child.try_wait()?
            {
                bail!("roamd exited at start: {status}");
            }
            if let Ok(r) = http.get(format!("{}/health", self.url)).send().await
                && r.status().is_success()
            {
                return Ok(());
            }
            if Instant::now() > until {
                bail!("roamd did not answer /health within {limit:?}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Kills roamd with SIGKILL (no shutdown, no flush) and reaps it.
    pub fn kill9(&mut self) -> anyhow::Result<()> {
        let Some(mut child) = self.child.take() else {
            bail!("this roamd was attached, not started here");
        };
        child.kill()?;
        child.wait()?;
        Ok(())
    }

    /// Starts roamd again on the same data directory and port (after [`Roamd::kill9`]).
    pub async fn restart(&mut self) -> anyhow::Result<Duration> {
        let began = Instant::now();
        self.spawn().await?;
        Ok(began.elapsed())
    }

    /// The server's CPU time so far (user + system), in seconds, from `/proc/<pid>/stat`.
    pub fn cpu_seconds(&self) -> anyhow::Result<f64> {
        cpu_seconds_of(self.pid)
    }

    /// The server's resident memory now, in bytes, from `/proc/<pid>/status` (VmRSS).
    pub fn rss_bytes(&self) -> anyhow::Result<u64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))?;
        let kib: u64 = status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .context("no VmRSS in /proc/<pid>/status")?
            .trim()
            .trim_end_matches("kB")
            .trim()
            .parse()?;
        Ok(kib * 1024)
    }

    /// An admin client of this roamd.
    pub async fn admin(&self) -> anyhow::Result<roam_sdk::Admin> {
        Ok(roam_sdk::Admin::open(&self.url, APP_KEY, CLIENT_ID, CLIENT_SECRET).await?)
    }
}

impl Drop for Roamd {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A process's CPU time so far (user + system), in seconds, from `/proc/<pid>/stat`.
pub fn cpu_seconds_of(pid: u32) -> anyhow::Result<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat
        .rsplit_once(')')
        .map(|(_, r)| r)
        .context("unexpected /proc/<pid>/stat")?;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of stat(5); `rest` starts at field 3.
    let ticks: u64 = fields
        .get(11..13)
        .context("short /proc/<pid>/stat")?
        .iter()
        .map(|f| f.parse::<u64>())
        .sum::<Result<u64, _>>()?;
    Ok(ticks as f64 / clock_ticks_per_second())
}

/// `sysconf(_SC_CLK_TCK)`: 100 on every Linux this runs on (the kernel's USER_HZ).
fn clock_ticks_per_second() -> f64 {
    100.0
}

/// CPU seconds and wall time spent by the server over a stretch of work.
pub struct CpuMeter {
    cpu0: f64,
    wall0: Instant,
}

impl CpuMeter {
    pub fn start(server: &Roamd) -> anyhow::Result<CpuMeter> {
        CpuMeter::start_all(std::slice::from_ref(server))
    }

    /// The same over several servers (the nodes of a cluster): their CPU time summed.
    pub fn start_all(servers: &[Roamd]) -> anyhow::Result<CpuMeter> {
        Ok(CpuMeter {
            cpu0: cpu_sum(servers)?,
            wall0: Instant::now(),
        })
    }

    /// (server CPU seconds, wall seconds) since [`CpuMeter::start`].
    pub fn read(&self, server: &Roamd) -> anyhow::Result<(f64, f64)> {
        self.read_all(std::slice::from_ref(server))
    }

    /// (CPU seconds summed over `servers`, wall seconds) since [`CpuMeter::start_all`].
    pub fn read_all(&self, servers: &[Roamd]) -> anyhow::Result<(f64, f64)> {
        Ok((
            cpu_sum(servers)? - self.cpu0,
            self.wall0.elapsed().as_secs_f64(),
        ))
    }
}

fn cpu_sum(servers: &[Roamd]) -> anyhow::Result<f64> {
    servers.iter().map(Roamd::cpu_seconds).sum()
}
