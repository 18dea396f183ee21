//! Points on the virtual clock.

use std::fmt;
use std::ops::Add;
use std::ops::AddAssign;
use std::ops::Sub;
use std::ops::SubAssign;
use std::time::Duration;

/// Virtual time starts one day in, so code that computes `now - timeout` early in a run (openraft
/// does, for leases and election deadlines) never underflows.
pub(crate) const EPOCH_NANOS: u64 = 86_400 * 1_000_000_000;

/// A point on the executor's virtual clock, in nanoseconds.
///
/// [`now`](openraft_rt::Instant::now) reads the executor installed on this thread (see
/// `executor::ambient`, where that is implemented, so the clock's values know nothing of who
/// keeps it); it panics outside one, which is the point: nothing may read time that the
/// simulation does not own.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct VirtualInstant(pub(crate) u64);

impl VirtualInstant {
    /// The instant at which every executor starts.
    pub const START: VirtualInstant = VirtualInstant(EPOCH_NANOS);

    /// Time elapsed since the executor started: what the simulation shows as "t=…".
    pub fn since_start(self) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(EPOCH_NANOS))
    }

    /// The instant `elapsed` after the start of the run.
    pub fn from_start(elapsed: Duration) -> Self {
        VirtualInstant::START + elapsed
    }
}

impl fmt::Debug for VirtualInstant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "t+{:?}", self.since_start())
    }
}

/// Durations beyond ~584 years saturate: a timer that far away never fires in a simulation.
fn nanos(duration: Duration) -> u64 {
    u64::try_from(duration.as_nanos()).unwrap_or(u64::MAX)
}

impl Add<Duration> for VirtualInstant {
    type Output = Self;

    fn add(self, rhs: Duration) -> Self {
        VirtualInstant(self.0.saturating_add(nanos(rhs)))
    }
}

impl AddAssign<Duration> for VirtualInstant {
    fn add_assign(&mut self, rhs: Duration) {
        *self = *self + rhs;
    }
}

impl Sub<Duration> for VirtualInstant {
    type Output = Self;

    fn sub(self, rhs: Duration) -> Self {
        VirtualInstant(self.0.saturating_sub(nanos(rhs)))
    }
}

impl SubAssign<Duration> for VirtualInstant {
    fn sub_assign(&mut self, rhs: Duration) {
        *self = *self - rhs;
    }
}

impl Sub<VirtualInstant> for VirtualInstant {
    type Output = Duration;

    /// Saturates at zero, like `std::time::Instant`.
    fn sub(self, rhs: VirtualInstant) -> Duration {
        Duration::from_nanos(self.0.saturating_sub(rhs.0))
    }
}
