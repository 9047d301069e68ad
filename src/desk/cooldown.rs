//! A per-user flood guard: at most `burst` questions in any `window`.
//!
//! Twenty lines of sliding window did not justify a rate-limiting crate; the state is in memory
//! on purpose (a restart forgives everyone, and nothing acknowledged to a user lives here).

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Cooldown {
    burst: usize,
    window: Duration,
    seen: Mutex<HashMap<(u64, u64), VecDeque<Instant>>>,
}

/// What the guard says about one question.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    Allow,
    /// Too fast: wait this long. `first` is true for the first refusal in a window, so the user
    /// is told once instead of once per message.
    Wait {
        wait: Duration,
        first: bool,
    },
}

impl Cooldown {
    pub fn new(burst: usize, window: Duration) -> Self {
        Cooldown {
            burst: burst.max(1),
            window,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Count a question from `user` in `guild` at `now`.
    pub fn check(&self, guild: u64, user: u64, now: Instant) -> Verdict {
        let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
        if seen.len() > 10_000 {
            seen.retain(|_, times| times.back().is_some_and(|t| now - *t < self.window));
        }
        let times = seen.entry((guild, user)).or_default();
        while times
            .front()
            .is_some_and(|t| now.duration_since(*t) >= self.window)
        {
            times.pop_front();
        }
        if times.len() < self.burst {
            times.push_back(now);
            return Verdict::Allow;
        }
        // Refusals are remembered too (beyond the burst), so a flood keeps the window shut and
        // only the first refusal is announced.
        let first = times.len() == self.burst;
        if times.len() < self.burst * 4 {
            times.push_back(now);
        }
        let wait = self.window - now.duration_since(times[times.len() - self.burst]);
        Verdict::Wait { wait, first }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allows_a_burst_then_asks_to_wait_and_says_so_once() {
        let c = Cooldown::new(3, Duration::from_secs(10));
        let t0 = Instant::now();
        for i in 0..3 {
            assert_eq!(c.check(1, 7, t0 + Duration::from_secs(i)), Verdict::Allow);
        }
        let Verdict::Wait { first, wait } = c.check(1, 7, t0 + Duration::from_secs(3)) else {
            panic!("fourth question in the window should wait");
        };
        assert!(first);
        assert!(wait <= Duration::from_secs(10));
        assert!(matches!(
            c.check(1, 7, t0 + Duration::from_secs(4)),
            Verdict::Wait { first: false, .. }
        ));
        // Another user, and the same user in another server, are not affected.
        assert_eq!(c.check(1, 8, t0), Verdict::Allow);
        assert_eq!(c.check(2, 7, t0), Verdict::Allow);
        // Once the window has passed with no messages, the user may ask again.
        assert_eq!(c.check(1, 7, t0 + Duration::from_secs(60)), Verdict::Allow);
    }
}
