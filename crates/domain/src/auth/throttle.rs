//! Login throttling: how many password or client-secret guesses one client may make.
//!
//! Login attempts count against two keys: the pair (account, address), and the client's
//! address (an IPv6 address by its /64, which one host usually owns whole) over all accounts.
//! On the pair an attempt counts from its start (so a burst of concurrent guesses at one
//! account is cut short) and is forgiven if it succeeds; on the address only failures count (so
//! many users behind one address, or a load generator, may log in at once). A key over its
//! limit is refused until its window ends, before any password is hashed.
//!
//! There is deliberately no limit per account alone: it would let anyone lock a user out by
//! guessing wrong on purpose. The owner on another address logs in whatever an attacker does.
//!
//! Memory is bounded: at most [`MAX_KEYS`] keys are tracked; when full, keys whose window has
//! ended are dropped, and if none has, the oldest window goes.
use std::{
    collections::HashMap,
    net::IpAddr,
    sync::Mutex,
    time::{Duration, Instant},
};

/// Most keys tracked at once (~100 bytes each).
pub const MAX_KEYS: usize = 100_000;

/// The limits, per window. A limit of 0 turns that check off.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThrottleLimits {
    /// Attempts one address may have failed per window, over all accounts.
    pub per_ip: u32,
    /// Attempts one address may have failed (or in progress) on one account per window.
    pub per_account: u32,
    pub window: Duration,
}

impl Default for ThrottleLimits {
    fn default() -> Self {
        ThrottleLimits {
            per_ip: 30,
            per_account: 10,
            window: Duration::from_secs(60),
        }
    }
}

/// What a login attempt is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum Key {
    Ip(IpAddr),
    Pair(String, Option<IpAddr>),
}

#[derive(Debug, Clone, Copy)]
struct Window {
    start: Instant,
    count: u32,
}

/// The throttle's state; one per server.
#[derive(Debug)]
pub struct Throttle {
    limits: ThrottleLimits,
    windows: Mutex<HashMap<Key, Window>>,
}

/// An attempt refused: retry after this long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Throttled(pub Duration);

/// An attempt let through; tell the throttle how it went with [`Throttle::succeeded`] or
/// [`Throttle::failed`] (one dropped without either stays counted on its pair only).
#[derive(Debug)]
#[must_use]
pub struct Attempt {
    pair: Option<Key>,
    ip: Option<Key>,
}

impl Throttle {
    pub fn new(limits: ThrottleLimits) -> Throttle {
        Throttle {
            limits,
            windows: Mutex::new(HashMap::new()),
        }
    }

    /// Counts an attempt on `account` (a user id, or a marker for the admin grant) from `ip`
    /// (unknown when the transport cannot tell), or refuses it.
    pub fn begin(&self, account: &str, ip: Option<IpAddr>) -> Result<Attempt, Throttled> {
        self.begin_at(account, ip, Instant::now())
    }

    fn begin_at(
        &self,
        account: &str,
        ip: Option<IpAddr>,
        now: Instant,
    ) -> Result<Attempt, Throttled> {
        let ip = ip.map(network);
        let mut keys = Vec::with_capacity(2);
        if self.limits.per_account > 0 {
            keys.push((Key::Pair(account.to_owned(), ip), self.limits.per_account));
        }
        if let (Some(ip), true) = (ip, self.limits.per_ip > 0) {
            keys.push((Key::Ip(ip), self.limits.per_ip));
        }
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        // Refuse if any key is at its limit; only then count, so a refusal costs nothing.
        let window = self.limits.window;
        let mut wait = Duration::ZERO;
        for (key, limit) in &keys {
            if let Some(w) = windows.get(key)
                && now.duration_since(w.start) < window
                && w.count >= *limit
            {
                wait = wait.max(window - now.duration_since(w.start));
            }
        }
        if wait > Duration::ZERO {
            return Err(Throttled(wait));
        }
        let mut attempt = Attempt {
            pair: None,
            ip: None,
        };
        for (key, _) in keys {
            match key {
                Key::Pair(..) => {
                    count(&mut windows, &key, now, window);
                    attempt.pair = Some(key);
                }
                Key::Ip(_) => attempt.ip = Some(key),
            }
        }
        Ok(attempt)
    }

    /// The attempt succeeded: it no longer counts.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = attempt.pair
            && let Some(w) = windows.get_mut(&key)
        {
            w.count = w.count.saturating_sub(1);
        }
    }

    /// The attempt failed: it counts against its address too.
    pub fn failed(&self, attempt: Attempt) {
        self.failed_at(attempt, Instant::now());
    }

    fn failed_at(&self, attempt: Attempt, now: Instant) {
        let mut windows = self.windows.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(key) = attempt.ip {
            count(&mut windows, &key, now, self.limits.window);
        }
    }

    /// Keys tracked now.
    pub fn tracked(&self) -> usize {
        self.windows.lock().map_or(0, |w| w.len())
    }
}

/// Counts one attempt against `key`, in a new window if its last one has ended.
fn count(windows: &mut HashMap<Key, Window>, key: &Key, now: Instant, window: Duration) {
    if !windows.contains_key(key) && windows.len() >= MAX_KEYS {
        make_room(windows, now, window);
    }
    let w = windows.entry(key.clone()).or_insert(Window {
        start: now,
        count: 0,
    });
    if now.duration_since(w.start) >= window {
        *w = Window {
            start: now,
            count: 0,
        };
    }
    w.count += 1;
}

/// The network an address stands for: itself for IPv4, its /64 for IPv6.
fn network(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V4(_) => ip,
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let s = v6.segments();
                IpAddr::V6(std::net::Ipv6Addr::new(s[0], s[1], s[2], s[3], 0, 0, 0, 0))
            }
        },
    }
}

/// Drops the windows that have ended; if none has, the oldest one.
fn make_room(windows: &mut HashMap<Key, Window>, now: Instant, window: Duration) {
    windows.retain(|_, w| now.duration_since(w.start) < window);
    if windows.len() >= MAX_KEYS
        && let Some(oldest) = windows
            .iter()
            .min_by_key(|(_, w)| w.start)
            .map(|(k, _)| k.clone())
    {
        windows.remove(&oldest);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> Option<IpAddr> {
        Some(s.parse().unwrap())
    }

    fn throttle(per_ip: u32, per_account: u32) -> Throttle {
        Throttle::new(ThrottleLimits {
            per_ip,
            per_account,
            window: Duration::from_secs(60),
        })
    }

    #[test]
    fn failures_on_an_account_are_limited_per_address_only() {
        let t = throttle(100, 3);
        let now = Instant::now();
        for _ in 0..3 {
            let _failed = t.begin_at("alice", ip("10.0.0.1"), now).unwrap();
        }
        let refused = t.begin_at("alice", ip("10.0.0.1"), now).unwrap_err();
        assert_eq!(refused, Throttled(Duration::from_secs(60)));
        // The owner elsewhere, and the attacker on another account, are not held up.
        assert!(t.begin_at("alice", ip("10.0.0.2"), now).is_ok());
        assert!(t.begin_at("bob", ip("10.0.0.1"), now).is_ok());
        // Once the window has passed, the address may try again.
        let later = now + Duration::from_secs(61);
        assert!(t.begin_at("alice", ip("10.0.0.1"), later).is_ok());
    }

    #[test]
    fn an_address_is_limited_over_all_accounts() {
        let t = throttle(4, 100);
        let now = Instant::now();
        // Attempts in progress or forgiven do not count against the address...
        for n in 0..10 {
            let a = t.begin_at(&format!("ok{n}"), ip("10.0.0.1"), now).unwrap();
            t.succeeded(a);
        }
        // ...failures do.
        for n in 0..4 {
            let a = t.begin_at(&format!("u{n}"), ip("10.0.0.1"), now).unwrap();
            t.failed_at(a, now);
        }
        let Throttled(wait) = t
            .begin_at("u9", ip("10.0.0.1"), now + Duration::from_secs(10))
            .unwrap_err();
        assert_eq!(wait, Duration::from_secs(50));
        // One host's IPv6 /64 is one address; another /64 is not.
        for _ in 0..4 {
            let a = t.begin_at("x", ip("2001:db8:0:1::1"), now).unwrap();
            t.failed_at(a, now);
        }
        assert!(t.begin_at("y", ip("2001:db8:0:1::ffff"), now).is_err());
        assert!(t.begin_at("y", ip("2001:db8:0:2::1"), now).is_ok());
    }

    #[test]
    fn successes_are_forgiven() {
        let t = throttle(2, 2);
        let now = Instant::now();
        for _ in 0..10 {
            let a = t.begin_at("alice", ip("10.0.0.1"), now).unwrap();
            t.succeeded(a);
        }
        assert!(t.begin_at("alice", ip("10.0.0.1"), now).is_ok());
    }

    #[test]
    fn zero_turns_a_limit_off() {
        let t = throttle(0, 0);
        for _ in 0..100 {
            let a = t.begin("alice", ip("10.0.0.1")).unwrap();
            t.failed(a);
        }
        assert_eq!(t.tracked(), 0);
    }

    #[test]
    fn memory_stays_bounded() {
        let t = throttle(10, 10);
        let now = Instant::now();
        for n in 0..u32::try_from(MAX_KEYS / 2 + 10).unwrap() {
            let a = std::net::Ipv4Addr::from(n);
            let a = t.begin_at("alice", Some(IpAddr::V4(a)), now).unwrap();
            t.failed_at(a, now);
        }
        assert!(t.tracked() <= MAX_KEYS);
    }
}
