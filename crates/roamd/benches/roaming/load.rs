//! What else keeps the machine busy meanwhile: CPU time from /proc, and the load average.

use std::time::Instant;

/// CPU time, in clock ticks: (used on the whole machine, used by this process, stolen).
fn cpu_ticks() -> (u64, u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let cpu: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|n| n.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let at = |i: usize| cpu.get(i).copied().unwrap_or(0);
    let machine = at(0) + at(1) + at(2) + at(5) + at(6);
    let me = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let fields: Vec<&str> = me
        .rsplit_once(')')
        .map_or("", |(_, rest)| rest)
        .split_whitespace()
        .collect();
    // From the state on (field 3 of proc(5)): utime is field 14, stime field 15.
    let field = |n: usize| fields.get(n - 3).and_then(|f| f.parse::<u64>().ok());
    let own = field(14).unwrap_or(0) + field(15).unwrap_or(0);
    (machine, own, at(7))
}

/// Runs `f` and says how busy other processes kept the machine meanwhile (cores on average;
/// 100 clock ticks a second).
pub async fn watching<T>(what: &str, f: impl Future<Output = T>) -> T {
    let (t, (m0, o0, s0)) = (Instant::now(), cpu_ticks());
    let out = f.await;
    let (m1, o1, s1) = cpu_ticks();
    let secs = t.elapsed().as_secs_f64() * 100.0;
    println!(
        "  {what}: {:.1}s; meanwhile other processes kept {:.2} cores busy on average (this one {:.2}, stolen {:.2})",
        t.elapsed().as_secs_f64(),
        (m1 - m0).saturating_sub(o1 - o0) as f64 / secs,
        (o1 - o0) as f64 / secs,
        (s1 - s0) as f64 / secs,
    );
    out
}

pub fn loadavg() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "?".into())
}
