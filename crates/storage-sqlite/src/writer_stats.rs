//! What the writer thread has done, for monitoring: how many jobs each group-commit batch
//! took and how long its `COMMIT` (the fsync) lasted.
//!
//! Cumulative histograms in plain atomics: the writer adds one observation per batch, and
//! whoever exports metrics (roamd's `/metrics`) reads a [`Histogram`] snapshot at scrape time,
//! so this crate needs no metrics library.
use std::{
    sync::atomic::{AtomicU64, Ordering},
    time::Duration,
};

/// Upper bounds of the batch-size buckets (jobs per transaction; the writer takes at most 512).
pub const BATCH_SIZE_BOUNDS: [f64; 10] =
    [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 64.0, 128.0, 256.0, 512.0];
/// Upper bounds of the commit-latency buckets, in seconds.
pub const COMMIT_SECONDS_BOUNDS: [f64; 12] = [
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// One histogram at one moment: as Prometheus exports it.
#[derive(Debug, Clone, PartialEq)]
pub struct Histogram {
    /// Sum of all observations.
    pub sum: f64,
    /// Number of observations.
    pub count: u64,
    /// `(upper bound, observations in this bucket)`: not cumulative, bounds ascending, the
    /// last bound `f64::INFINITY` (what `prometheus-client` encodes).
    pub buckets: Vec<(f64, u64)>,
}

/// Observations in fixed buckets. Values are recorded in integer units (jobs, microseconds)
/// so that the sum stays an atomic integer.
#[derive(Debug)]
struct Buckets<const N: usize> {
    bounds: [f64; N],
    /// Multiplies a bound into recording units.
    unit: f64,
    counts: [AtomicU64; N],
    count: AtomicU64,
    sum: AtomicU64,
}

impl<const N: usize> Buckets<N> {
    fn new(bounds: [f64; N], unit: f64) -> Self {
        Buckets {
            bounds,
            unit,
            counts: std::array::from_fn(|_| AtomicU64::new(0)),
            count: AtomicU64::new(0),
            sum: AtomicU64::new(0),
        }
    }

    fn observe(&self, units: u64) {
        // Counts per bucket are not cumulative here; the snapshot adds them up.
        #[allow(clippy::cast_precision_loss)] // bucket choice only; exact below 2^52
        let value = units as f64;
        if let Some(i) = self.bounds.iter().position(|b| value <= b * self.unit) {
            self.counts[i].fetch_add(1, Ordering::Relaxed);
        }
        self.sum.fetch_add(units, Ordering::Relaxed);
        self.count.fetch_add(1, Ordering::Relaxed);
    }

    fn snapshot(&self) -> Histogram {
        let count = self.count.load(Ordering::Relaxed);
        let mut buckets: Vec<(f64, u64)> = self
            .bounds
            .iter()
            .zip(&self.counts)
            .map(|(b, c)| (*b, c.load(Ordering::Relaxed)))
            .collect();
        let bucketed: u64 = buckets.iter().map(|(_, n)| n).sum();
        buckets.push((f64::INFINITY, count.saturating_sub(bucketed)));
        #[allow(clippy::cast_precision_loss)] // a monitoring figure
        let sum = self.sum.load(Ordering::Relaxed) as f64 / self.unit;
        Histogram {
            sum,
            count,
            buckets,
        }
    }
}

/// The writer's counters, shared between the writer thread and readers of metrics.
#[derive(Debug)]
pub struct WriterStats {
    batch_size: Buckets<10>,
    commit: Buckets<12>,
}

impl Default for WriterStats {
    fn default() -> Self {
        WriterStats {
            batch_size: Buckets::new(BATCH_SIZE_BOUNDS, 1.0),
            commit: Buckets::new(COMMIT_SECONDS_BOUNDS, 1e6),
        }
    }
}

impl WriterStats {
    /// One batch of `jobs` committed (or failed to) after `commit` spent in `COMMIT`.
    pub(crate) fn record_batch(&self, jobs: usize, commit: Duration) {
        self.batch_size
            .observe(u64::try_from(jobs).unwrap_or(u64::MAX));
        self.commit
            .observe(u64::try_from(commit.as_micros()).unwrap_or(u64::MAX));
    }

    /// Jobs per transaction so far.
    pub fn batch_size(&self) -> Histogram {
        self.batch_size.snapshot()
    }

    /// Seconds per `COMMIT` so far.
    pub fn commit_seconds(&self) -> Histogram {
        self.commit.snapshot()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_land_in_their_buckets() {
        let s = WriterStats::default();
        s.record_batch(1, Duration::from_micros(300));
        s.record_batch(3, Duration::from_millis(20));
        let b = s.batch_size();
        assert_eq!((b.count, b.sum), (2, 4.0));
        assert_eq!(b.buckets[0], (1.0, 1)); // le 1
        assert_eq!(b.buckets[1], (2.0, 0));
        assert_eq!(b.buckets[2], (4.0, 1)); // 3 jobs
        assert_eq!(b.buckets.last(), Some(&(f64::INFINITY, 0)));
        let c = s.commit_seconds();
        assert_eq!(c.count, 2);
        assert!((c.sum - 0.0203).abs() < 1e-9, "{}", c.sum);
        assert_eq!(c.buckets[0], (0.0005, 1));
        assert_eq!(c.buckets[4], (0.01, 0));
        assert_eq!(c.buckets[5], (0.025, 1));
        s.record_batch(1, Duration::from_secs(9));
        assert_eq!(s.commit_seconds().buckets.last(), Some(&(f64::INFINITY, 1)));
    }
}
