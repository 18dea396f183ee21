//! A linearizability checker for the history of one object: the Wing–Gong search that porcupine
//! runs, with its memo of (operations linearized, state) pairs already explored.
//!
//! An operation has a call time and, if its client heard back, a return time and an output. An
//! operation nobody answered (a timeout, a crashed server) is open: it may or may not have taken
//! effect, at any time after its call, so it returns "at infinity" and any output goes.

use std::collections::BTreeSet;
use std::time::Duration;

/// The sequential specification of an object.
pub trait Model {
    /// The object's state.
    type State: Clone + Ord;
    /// What an operation asks.
    type Input;
    /// What an operation answered.
    type Output;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// The state after applying `input` to `state`, if the object could have answered
    /// `output` (`None`: no answer is known, any will do); `None` if it could not.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: Option<&Self::Output>,
    ) -> Option<Self::State>;
}

/// One operation of a history.
#[derive(Debug, Clone, PartialEq)]
pub struct Operation<I, O> {
    /// When the client sent it.
    pub call: Duration,
    /// When the client got its answer; `None` if it never did.
    pub ret: Option<Duration>,
    /// What it asked.
    pub input: I,
    /// What it got; `None` if nothing is known.
    pub output: Option<O>,
}

/// Most operations one history may hold (the search's bit set).
pub const MAX_OPERATIONS: usize = 128;

/// Whether `history` is linearizable under `model`: some order of its operations, consistent
/// with real time (an operation that returned before another was called comes first), that the
/// model accepts with the outputs observed. Histories longer than [`MAX_OPERATIONS`] are refused
/// with an error.
pub fn is_linearizable<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
) -> Result<bool, String> {
    if history.len() > MAX_OPERATIONS {
        return Err(format!(
            "{} operations, more than the checker's {MAX_OPERATIONS}",
            history.len()
        ));
    }
    let mut seen = BTreeSet::new();
    Ok(search(model, history, 0, model.init(), &mut seen))
}

/// Depth-first search: `done` is the set of operations linearized so far, `state` the state
/// they left.
fn search<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    done: u128,
    state: M::State,
    seen: &mut BTreeSet<(u128, M::State)>,
) -> bool {
    let all = if history.len() == MAX_OPERATIONS {
        u128::MAX
    } else {
        (1u128 << history.len()) - 1
    };
    if done == all {
        return true;
    }
    let pending = || (0..history.len()).filter(move |i| done & (1 << i) == 0);
    // No pending operation may go after one that returned before it was called.
    let first_return = pending().filter_map(|i| history[i].ret).min();
    for i in pending() {
        let operation = &history[i];
        if first_return.is_some_and(|ret| operation.call > ret) {
            continue;
        }
        let Some(next) = model.step(&state, &operation.input, operation.output.as_ref()) else {
            continue;
        };
        let done = done | (1 << i);
        if seen.insert((done, next.clone())) && search(model, history, done, next, seen) {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A register: write(v) answers nothing, read answers the value.
    struct Register;

    #[derive(Debug)]
    enum Op {
        Write(u32),
        Read,
    }

    impl Model for Register {
        type State = u32;
        type Input = Op;
        type Output = u32;
        fn init(&self) -> u32 {
            0
        }
        fn step(&self, state: &u32, input: &Op, output: Option<&u32>) -> Option<u32> {
            match input {
                Op::Write(v) => Some(*v),
                Op::Read => output.is_none_or(|out| out == state).then_some(*state),
            }
        }
    }

    fn op(call: u64, ret: Option<u64>, input: Op, output: Option<u32>) -> Operation<Op, u32> {
        Operation {
            call: Duration::from_secs(call),
            ret: ret.map(Duration::from_secs),
            input,
            output,
        }
    }

    #[test]
    fn concurrent_operations_may_go_either_way() {
        let history = [
            op(0, Some(10), Op::Write(1), None),
            op(1, Some(2), Op::Read, Some(0)),
            op(3, Some(4), Op::Read, Some(1)),
        ];
        assert_eq!(is_linearizable(&Register, &history), Ok(true));
    }

    #[test]
    fn a_stale_read_after_a_completed_write_is_caught() {
        let history = [
            op(0, Some(1), Op::Write(1), None),
            op(2, Some(3), Op::Read, Some(0)),
        ];
        assert_eq!(is_linearizable(&Register, &history), Ok(false));
    }

    #[test]
    fn an_open_write_may_or_may_not_have_happened() {
        let took_effect = [
            op(0, None, Op::Write(7), None),
            op(5, Some(6), Op::Read, Some(7)),
        ];
        assert_eq!(is_linearizable(&Register, &took_effect), Ok(true));
        let did_not = [
            op(0, None, Op::Write(7), None),
            op(5, Some(6), Op::Read, Some(0)),
        ];
        assert_eq!(is_linearizable(&Register, &did_not), Ok(true));
        let never_written = [op(5, Some(6), Op::Read, Some(7))];
        assert_eq!(is_linearizable(&Register, &never_written), Ok(false));
    }
}
