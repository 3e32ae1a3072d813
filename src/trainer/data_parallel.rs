//! The trainer as one rank of a data-parallel job (synchronous SGD over
//! shards of each global batch, as PyTorch's DistributedDataParallel; Goyal
//! et al. 2017): every rank builds the same schedule of global batches and
//! trains on its contiguous part of each; its loss is weighted by its share of
//! the batch, so the all-reduced sum of gradients is the gradient of the
//! global batch's mean loss, and clipping and AdamW then run identically on
//! every rank. The ranks share validation (each its part of the users); rank 0 alone reads and writes checkpoints and logs;
//! it broadcasts the starting state (so `--resume` needs no shared
//! filesystem) and every decision the others must share. With no job (one
//! process) every method here is the single-process path, unchanged.
use super::optim::{optimise, optimise_shared, AdamW};
use super::{Task, TrainerState};
use crate::dist::Group;
use crate::error::Result;
use crate::model::T5;
use crate::util::part::Part;
use std::collections::BTreeMap;
use std::time::Duration;
use tch::Tensor;

/// How long the other ranks wait for rank 0 to finish checkpointing (and,
/// for a task whose validation does not split, validating) alone, as a
/// multiple of the collective timeout.
const VALIDATION_WAIT: u32 = 10;

#[derive(Clone, Copy)]
pub struct Ranks<'a> {
    group: Option<&'a Group>,
}

impl<'a> Ranks<'a> {
    pub fn new(group: Option<&'a Group>) -> Self {
        Self { group }
    }

    /// Whether this process reads and writes the run's files (rank 0, or the only process).
    pub fn lead(&self) -> bool {
        self.group.is_none_or(|g| g.rank() == 0)
    }

    pub fn rank(&self) -> usize {
        self.group.map_or(0, Group::rank)
    }

    /// This rank's part of every global batch.
    pub fn part(&self) -> Part {
        self.group.map_or(Part::WHOLE, |g| Part {
            index: g.rank(),
            of: g.world(),
        })
    }

    /// The seed of this step's dropout masks: rank 0's is the single
    /// process's, so a job of one equals a single process.
    pub fn dropout_seed(&self, seed: u64, step: usize) -> i64 {
        (seed as i64)
            .wrapping_mul(1_000_003)
            .wrapping_add(step as i64)
            .wrapping_add((self.rank() as i64).wrapping_mul(0x2545_f491_4f6c_dd1d))
    }

    /// One optimisation step on this rank's part (`local` of `global`
    /// examples; `loss` is its mean loss, absent when the part is empty).
    /// Returns the gradient norm before clipping (the global batch's).
    pub fn step(
        &self,
        opt: &mut AdamW,
        loss: Option<&Tensor>,
        share: (usize, usize),
        grad_clip: f64,
        lr: f64,
    ) -> Result<Option<Tensor>> {
        let Some(g) = self.group else {
            let loss = loss.expect("one process always has examples");
            return Ok(optimise(opt, loss, grad_clip, lr));
        };
        let weighted = loss.map(|l| l * (share.0 as f64 / share.1 as f64));
        optimise_shared(opt, weighted.as_ref(), grad_clip, lr, &mut |grads| {
            g.all_reduce_sum(grads, "the gradient all-reduce")
        })
    }

    /// The global batch's mean of per-rank values weighted by share (as
    /// `step` weights losses): sums them over the ranks.
    pub fn sum(&self, t: &Tensor, what: &str) -> Result<Tensor> {
        match self.group {
            None => Ok(t.shallow_clone()),
            Some(g) => {
                let t = t.copy();
                g.all_reduce_sum(&t, what)?;
                Ok(t)
            }
        }
    }

    /// Rank 0's answer to a yes/no question every rank must agree on
    /// (e.g. whether the time box is over).
    pub fn agree(&self, mine: bool, what: &str) -> Result<bool> {
        match self.group {
            None => Ok(mine),
            Some(g) => {
                let mut x = [f64::from(u8::from(mine))];
                g.broadcast_f64s(&mut x, what)?;
                Ok(x[0] != 0.0)
            }
        }
    }

    /// Rank 0's starting point on every rank: weights, optimizer moments and
    /// step count, trainer state (whether the run had finished follows from it).
    pub fn start_from_lead(&self, opt: &mut AdamW, state: &mut TrainerState) -> Result<()> {
        let Some(g) = self.group else {
            return Ok(());
        };
        let mut x = state_words(state, opt.t);
        g.broadcast_f64s(&mut x, "sharing rank 0's starting state")?;
        (*state, opt.t) = from_words(&x);
        let _g = tch::no_grad_guard();
        for b in opt.buffers() {
            g.broadcast(b, 0, "sharing rank 0's weights and optimizer state")?;
        }
        Ok(())
    }

    /// In a job, validation shared by the ranks when the task splits it:
    /// every rank validates its part of the users and the sums are added up;
    /// the means, on every rank. None: validate on rank 0 alone (one process,
    /// or a task that does not split).
    pub fn validate_shared(
        &self,
        task: &dyn Task,
        model: &T5,
    ) -> Result<Option<BTreeMap<String, f64>>> {
        let Some(g) = self.group else {
            return Ok(None);
        };
        let Some((users, sums)) = ({
            let _g = tch::no_grad_guard();
            task.validate_sums(model, self.part())
        }) else {
            return Ok(None);
        };
        let mut x: Vec<f64> = std::iter::once(users as f64)
            .chain(sums.values().copied())
            .collect();
        let t = Tensor::from_slice(&x).to_device(g.control_device());
        g.all_reduce_sum(&t, "the validation all-reduce")?;
        x = Vec::<f64>::try_from(t.to_device(tch::Device::Cpu))
            .map_err(crate::error::Error::Torch)?;
        let n = x[0].max(1.0);
        Ok(Some(
            sums.keys()
                .cloned()
                .zip(x[1..].iter().map(|s| s / n))
                .collect(),
        ))
    }

    /// After rank 0 validated (and checkpointed): its trainer state on every
    /// rank, and a check that the weights are identical everywhere.
    pub fn after_validation(&self, opt: &AdamW, state: &mut TrainerState) -> Result<()> {
        let Some(g) = self.group else {
            return Ok(());
        };
        let mut x = state_words(state, opt.t);
        let wait = g
            .timeout()
            .saturating_mul(VALIDATION_WAIT)
            .max(Duration::from_secs(60));
        g.broadcast_f64s_within(&mut x, "waiting for rank 0's validation", wait)?;
        *state = from_words(&x).0;
        g.check_identical(opt.buffers()[0], "the weights")
            .map(|_| ())
    }

    /// The weights' SHA-256 (checked identical on every rank), for the
    /// summary of a job; None for one process.
    pub fn weights_digest(&self, opt: &AdamW) -> Result<Option<String>> {
        self.group
            .map(|g| g.check_identical(opt.buffers()[0], "the final weights"))
            .transpose()
    }
}

/// The trainer state and AdamW's step count as numbers (exact: counts below 2^53).
fn state_words(s: &TrainerState, t: u64) -> [f64; 5] {
    [
        s.step as f64,
        s.best_score,
        s.best_step as f64,
        s.evals_since_best as f64,
        t as f64,
    ]
}

fn from_words(x: &[f64; 5]) -> (TrainerState, u64) {
    (
        TrainerState {
            step: x[0] as usize,
            best_score: x[1],
            best_step: x[2] as usize,
            evals_since_best: x[3] as usize,
        },
        x[4] as u64,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_travels_as_words_exactly() {
        let s = TrainerState {
            step: 123_456,
            best_score: 0.098_765_432_1,
            best_step: 120_000,
            evals_since_best: 3,
        };
        let (back, t) = from_words(&state_words(&s, 987_654));
        assert_eq!((back, t), (s, 987_654));
        let one = Ranks::new(None);
        assert!(one.lead());
        assert_eq!(one.part(), Part::WHOLE);
        assert_eq!(
            one.dropout_seed(7, 3),
            7 * 1_000_003 + 3,
            "one process keeps its seeds"
        );
    }
}
