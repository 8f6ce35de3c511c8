//! What roamd's own `/metrics` says about its SQLite writer: read between the windows of a long
//! run to tell whether send latency follows the commit (fsync) time.
use anyhow::Context;

use crate::server::Roamd;

/// The writer's cumulative commit-time histogram at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Commits {
    /// Commits so far.
    pub count: f64,
    /// Seconds spent in them.
    pub seconds: f64,
    /// Commits that took over 25 ms.
    pub slow: f64,
}

/// The histogram's name in `/metrics`.
const NAME: &str = "roam_sqlite_writer_commit_seconds";
/// The bucket bound that separates a slow commit.
const SLOW_BOUND: &str = "0.025";

impl Commits {
    /// Reads them from `server`'s `/metrics` with an admin `token`.
    pub async fn read(server: &Roamd, token: &str) -> anyhow::Result<Commits> {
        let text = reqwest::Client::new()
            .get(format!("{}/metrics", server.url))
            .bearer_auth(token)
            .send()
            .await?
            .error_for_status()?
            .text()
            .await?;
        Commits::parse(&text).with_context(|| format!("no {NAME} in /metrics"))
    }

    /// From Prometheus text: `_count`, `_sum` and the cumulative bucket at [`SLOW_BOUND`].
    fn parse(text: &str) -> Option<Commits> {
        let value = |prefix: &str| {
            text.lines()
                .find_map(|l| l.strip_prefix(prefix))
                .and_then(|v| v.trim().parse::<f64>().ok())
        };
        let count = value(&format!("{NAME}_count "))?;
        let fast = value(&format!("{NAME}_bucket{{le=\"{SLOW_BOUND}\"}} "))?;
        Some(Commits {
            count,
            seconds: value(&format!("{NAME}_sum "))?,
            slow: count - fast,
        })
    }

    /// What happened between `earlier` and `self`: (commits, mean ms, share over 25 ms).
    pub fn since(&self, earlier: &Commits) -> (f64, f64, f64) {
        let n = self.count - earlier.count;
        if n <= 0.0 {
            return (0.0, 0.0, 0.0);
        }
        (
            n,
            1000.0 * (self.seconds - earlier.seconds) / n,
            (self.slow - earlier.slow) / n,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_commit_histogram_is_read_from_prometheus_text() {
        let text = "# TYPE roam_sqlite_writer_commit_seconds histogram\n\
            roam_sqlite_writer_commit_seconds_sum 1.5\n\
            roam_sqlite_writer_commit_seconds_count 100\n\
            roam_sqlite_writer_commit_seconds_bucket{le=\"0.01\"} 80\n\
            roam_sqlite_writer_commit_seconds_bucket{le=\"0.025\"} 90\n";
        let c = Commits::parse(text).unwrap();
        assert_eq!(
            c,
            Commits {
                count: 100.0,
                seconds: 1.5,
                slow: 10.0
            }
        );
        let later = Commits {
            count: 150.0,
            seconds: 2.5,
            slow: 20.0,
        };
        assert_eq!(later.since(&c), (50.0, 20.0, 0.2));
        assert_eq!(Commits::parse("other 1\n"), None);
    }
}
