//! [`Seeded`]: a small deterministic random source (SplitMix64) for the process tests' choices,
//! and [`seed_from_env`], which takes the seed from an environment variable to replay a run.

use std::time::SystemTime;
use std::time::UNIX_EPOCH;

/// A deterministic stream of random numbers: the same seed gives the same choices.
#[derive(Clone, Debug)]
pub struct Seeded {
    state: u64,
}

impl Seeded {
    /// A stream starting from `seed`.
    pub fn new(seed: u64) -> Seeded {
        Seeded { state: seed }
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `low..high` (`low` if the range is empty).
    pub fn range(&mut self, low: u64, high: u64) -> u64 {
        if high <= low {
            return low;
        }
        low + self.next_u64() % (high - low)
    }

    /// An index below `len` (`len` > 0).
    pub fn index(&mut self, len: usize) -> usize {
        self.range(0, len as u64) as usize
    }

    /// True with probability `percent` / 100.
    pub fn percent(&mut self, percent: u64) -> bool {
        self.range(0, 100) < percent
    }

    /// A new stream for a helper (a writer thread), independent of this one's later draws.
    pub fn fork(&mut self) -> Seeded {
        Seeded::new(self.next_u64())
    }
}

/// The seed in environment variable `var` (decimal, or hex with `0x`), or a fresh one from the
/// clock; printed either way, with how to replay it.
pub fn seed_from_env(var: &str) -> u64 {
    let given = std::env::var(var).ok().and_then(|text| {
        let text = text.trim();
        match text.strip_prefix("0x") {
            Some(hex) => u64::from_str_radix(hex, 16).ok(),
            None => text.parse().ok(),
        }
    });
    let seed = given.unwrap_or_else(|| {
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |elapsed| elapsed.as_nanos() as u64)
    });
    println!("seed {seed} (replay the same choices with {var}={seed})");
    seed
}

/// A whole number from environment variable `var`, or `default` if it is unset or not a number.
pub fn number_from_env(var: &str, default: u64) -> u64 {
    std::env::var(var)
        .ok()
        .and_then(|text| text.trim().parse().ok())
        .unwrap_or(default)
}
