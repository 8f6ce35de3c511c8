//! Timing: warm-up and timed calls, baseline and target alternating in rounds, and the
//! latency spreads of the report.

use std::time::{Duration, Instant};

use crate::harness::percentile;

/// Latencies of `iters` calls of `f` after `warmup` untimed ones; `check` sees each result
/// after the clock stopped.
async fn time<T>(
    warmup: usize,
    iters: usize,
    f: &mut impl AsyncFnMut() -> T,
    check: &impl Fn(T),
) -> Vec<Duration> {
    for _ in 0..warmup {
        check(f().await);
    }
    let mut out = Vec::with_capacity(iters);
    for _ in 0..iters {
        let t = Instant::now();
        let r = f().await;
        out.push(t.elapsed());
        check(r);
    }
    out
}

/// Rounds the baseline and the target alternate in, so that both see the same machine (other
/// load on it comes and goes).
pub const ROUNDS: usize = 10;

/// One operation's latencies on the small database (baseline) and on the big one.
pub struct Sample {
    pub base: Vec<Duration>,
    pub big: Vec<Duration>,
}

/// Times `base` and `big` `iters` times each, alternating in [`ROUNDS`] rounds, after a tenth
/// as many untimed calls each.
pub async fn alternate<A, B>(
    iters: usize,
    mut base: impl AsyncFnMut() -> A,
    check_base: impl Fn(A),
    mut big: impl AsyncFnMut() -> B,
    check_big: impl Fn(B),
) -> Sample {
    let (warm, per) = ((iters / 10).max(1), iters.div_ceil(ROUNDS));
    time(warm, 0, &mut base, &check_base).await;
    time(warm, 0, &mut big, &check_big).await;
    let mut s = Sample {
        base: Vec::with_capacity(per * ROUNDS),
        big: Vec::with_capacity(per * ROUNDS),
    };
    for _ in 0..ROUNDS {
        s.base.extend(time(0, per, &mut base, &check_base).await);
        s.big.extend(time(0, per, &mut big, &check_big).await);
    }
    s
}

/// The operations, by name.
pub const OPS: [&str; 4] = [
    "list, page 1 of 50",
    "list, page 2 (cursor)",
    "history newest 50 (cursor -1)",
    "history 50 from mid cursor",
];

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// p50 / p90 / p99 / p99.9 / max, ms.
pub fn spread(v: &[Duration]) -> String {
    let at = |p: f64| ms(percentile(v.to_vec(), p));
    format!(
        "p50 {:.3}  p90 {:.3}  p99 {:.3}  p99.9 {:.3}  max {:.3}",
        at(50.0),
        at(90.0),
        at(99.0),
        at(99.9),
        at(100.0)
    )
}
