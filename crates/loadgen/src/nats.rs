//! Counts the messages on a NATS subject with a bare subscriber speaking the NATS text
//! protocol over TCP: how many publishes a cluster's nodes made, with no monitoring port
//! (`/varz`) and no client library needed.
use std::sync::{
    Arc,
    atomic::{AtomicU64, Ordering},
};

use anyhow::{Context, bail};
use tokio::{
    io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader},
    net::TcpStream,
    task::JoinHandle,
};

/// The subject prefix of the cluster serving `app_key` (`org#app`): `roam.<org>.<app>`, any
/// character that means something in a subject (`.`, `*`, `>`, blanks) as `_` (as roamd does).
pub fn subject_prefix(app_key: &str) -> String {
    let token = |s: &str| -> String {
        s.chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                    c
                } else {
                    '_'
                }
            })
            .collect()
    };
    let (org, app) = app_key.split_once('#').unwrap_or((app_key, ""));
    format!("roam.{}.{}", token(org), token(app))
}

/// A subscriber counting what arrives on one subject (stops when dropped).
pub struct Counter {
    count: Arc<AtomicU64>,
    task: JoinHandle<()>,
}

impl Counter {
    /// Subscribes to `subject` at `url` (`nats://host:port`); answers once the server has
    /// the subscription (a PING answered after the SUB).
    pub async fn subscribe(url: &str, subject: &str) -> anyhow::Result<Counter> {
        let addr = url.trim().trim_start_matches("nats://");
        let stream = TcpStream::connect(addr)
            .await
            .with_context(|| format!("connecting to NATS at {url}"))?;
        let (rd, mut wr) = stream.into_split();
        let mut rd = BufReader::new(rd);
        let mut line = String::new();
        rd.read_line(&mut line).await?;
        if !line.starts_with("INFO") {
            bail!("{url} is not a NATS server: {}", line.trim());
        }
        let hello = format!(
            "CONNECT {{\"verbose\":false,\"pedantic\":false,\"name\":\"roam-loadgen\"}}\r\n\
             SUB {subject} 1\r\nPING\r\n"
        );
        wr.write_all(hello.as_bytes()).await?;
        loop {
            line.clear();
            if rd.read_line(&mut line).await? == 0 {
                bail!("NATS closed the connection at subscribing");
            }
            match line.trim_end() {
                "PONG" => break,
                "PING" => wr.write_all(b"PONG\r\n").await?,
                l if l.starts_with("-ERR") => bail!("NATS refused the subscription: {l}"),
                _ => {}
            }
        }
        let count = Arc::new(AtomicU64::new(0));
        let counted = count.clone();
        let task = tokio::spawn(async move {
            // Ends with the connection (or a protocol surprise): the count stops there.
            let _ = read_on(rd, wr, &counted).await;
        });
        Ok(Counter { count, task })
    }

    /// Messages received so far.
    pub fn count(&self) -> u64 {
        self.count.load(Ordering::Relaxed)
    }
}

impl Drop for Counter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn read_on(
    mut rd: BufReader<tokio::net::tcp::OwnedReadHalf>,
    mut wr: tokio::net::tcp::OwnedWriteHalf,
    count: &AtomicU64,
) -> anyhow::Result<()> {
    let mut line = String::new();
    let mut payload = Vec::new();
    loop {
        line.clear();
        if rd.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let l = line.trim_end();
        if l.starts_with("MSG ") || l.starts_with("HMSG ") {
            // `MSG <subject> <sid> [reply] <bytes>`, `HMSG … <header bytes> <total bytes>`:
            // the last field is what follows, then CRLF.
            let n: usize = l
                .rsplit(' ')
                .next()
                .and_then(|f| f.parse().ok())
                .with_context(|| format!("unexpected NATS line {l}"))?;
            payload.resize(n + 2, 0);
            rd.read_exact(&mut payload).await?;
            count.fetch_add(1, Ordering::Relaxed);
        } else if l == "PING" {
            wr.write_all(b"PONG\r\n").await?;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_prefix_is_made_of_the_app_key() {
        assert_eq!(subject_prefix("roam#bench"), "roam.roam.bench");
        assert_eq!(subject_prefix("a.b#c d"), "roam.a_b.c_d");
    }

    /// On the NATS at `ROAM_TEST_NATS_URL` (default nats://127.0.0.1:4222), as the cluster's
    /// own tests: publishes on the subject are counted, payloads that look like protocol
    /// lines are skipped whole, other subjects are not counted.
    #[tokio::test]
    async fn a_counter_counts_the_messages_on_its_subject() {
        let url =
            std::env::var("ROAM_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".into());
        let subject = format!("loadgen.test.{}", std::process::id());
        let counter = Counter::subscribe(&url, &subject).await.unwrap();
        let stream = TcpStream::connect(url.trim_start_matches("nats://"))
            .await
            .unwrap();
        let (rd, mut wr) = stream.into_split();
        let mut out = String::from("CONNECT {\"verbose\":false}\r\n");
        let tricky = "x\r\nMSG a 1 3\r\nPING";
        for i in 0..5 {
            let body = if i % 2 == 0 { tricky } else { "" };
            out += &format!("PUB {subject} {}\r\n{body}\r\n", body.len());
        }
        out += &format!("PUB {subject}.other 1\r\nx\r\nPING\r\n");
        wr.write_all(out.as_bytes()).await.unwrap();
        let mut rd = BufReader::new(rd);
        let mut line = String::new();
        while line.trim_end() != "PONG" {
            line.clear();
            assert!(rd.read_line(&mut line).await.unwrap() > 0, "NATS hung up");
        }
        for _ in 0..200 {
            if counter.count() >= 5 {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        assert_eq!(counter.count(), 5);
    }
}
