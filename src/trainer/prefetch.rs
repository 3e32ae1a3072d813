//! The order of training batches, and a background thread that builds them a
//! bounded queue ahead of the step that needs them, so the host-side work
//! (prompts, padding, history matches, page-locking for an asynchronous copy)
//! stays off the GPU's critical path. The thread builds exactly the batches the
//! loop would build itself, in the same order — each epoch a permutation
//! seeded by (seed, epoch) — so a resumed run sees the same batches.
use super::Batch;
pub use crate::util::part::Part;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use std::ops::Range;
use std::sync::mpsc::{sync_channel, Receiver};
use std::thread::Scope;
use tch::Device;

/// Batches queued ahead of the training step.
pub const DEPTH: usize = 4;

/// The order of examples in an epoch: a permutation seeded by (seed, epoch).
pub fn epoch_order(n: usize, seed: u64, epoch: usize) -> Vec<u32> {
    let mut v: Vec<u32> = (0..n as u32).collect();
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(
        seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
    );
    v.shuffle(&mut rng);
    v
}

/// Which examples each step trains on: epochs of `batch_size` slices of the
/// epoch's permutation (the last slice of an epoch may be shorter).
#[derive(Debug, Clone, Copy)]
pub struct Schedule {
    pub n_examples: usize,
    pub batch_size: usize,
    pub seed: u64,
    /// This process's part of each batch (data-parallel ranks).
    pub part: Part,
}

impl Schedule {
    pub fn steps_per_epoch(&self) -> usize {
        self.n_examples.div_ceil(self.batch_size)
    }

    /// Example indices of every step in `steps` (0-based), with their epoch.
    pub fn iter(self, steps: Range<usize>) -> impl Iterator<Item = (usize, Vec<u32>)> {
        let mut cached: Option<(usize, Vec<u32>)> = None;
        steps.map(move |step| {
            let spe = self.steps_per_epoch();
            let epoch = step / spe;
            if cached.as_ref().map(|c| c.0) != Some(epoch) {
                cached = Some((epoch, epoch_order(self.n_examples, self.seed, epoch)));
            }
            let order = &cached.as_ref().expect("just set").1;
            let b = step % spe;
            (
                epoch,
                order[b * self.batch_size..((b + 1) * self.batch_size).min(self.n_examples)]
                    .to_vec(),
            )
        })
    }
}

/// A batch built ahead, on the CPU (page-locked when the device is CUDA).
pub struct Prefetched {
    pub step: usize,
    pub epoch: usize,
    /// Examples in the global batch.
    pub examples: usize,
    /// Examples in this process's part of it (`batch`).
    pub local: usize,
    pub batch: Batch,
}

/// The batches of `steps` in order: built on a background thread when the
/// device is a GPU (the host work then overlaps the GPU's), inline on the CPU
/// (there is nothing to overlap there: the cores that would build ahead are
/// the ones training; measured on ML-100K, 702 vs 713 examples/s, the same).
pub fn batches<'scope, 'env>(
    scope: &'scope Scope<'scope, 'env>,
    schedule: Schedule,
    steps: Range<usize>,
    build: &'env (dyn Fn(&[u32]) -> Batch + Sync),
    device: Device,
) -> Box<dyn Iterator<Item = Prefetched> + 'env> {
    if device.is_cuda() {
        Box::new(spawn(scope, schedule, steps, build, device).into_iter())
    } else {
        Box::new(built(schedule, steps, build))
    }
}

/// The batches of `steps`, built on the calling thread as they are asked for.
fn built<'a>(
    schedule: Schedule,
    steps: Range<usize>,
    build: &'a (dyn Fn(&[u32]) -> Batch + Sync),
) -> impl Iterator<Item = Prefetched> + 'a {
    let first = steps.start;
    schedule
        .iter(steps)
        .enumerate()
        .map(move |(i, (epoch, idx))| {
            let mine = schedule.part.of(&idx);
            Prefetched {
                step: first + i,
                epoch,
                examples: idx.len(),
                local: mine.len(),
                batch: build(mine),
            }
        })
}

/// Starts the builder thread for `steps`; the receiver yields their batches in
/// order. Dropping the receiver stops the thread at its next batch.
pub fn spawn<'scope, 'env>(
    scope: &'scope Scope<'scope, 'env>,
    schedule: Schedule,
    steps: Range<usize>,
    build: &'env (dyn Fn(&[u32]) -> Batch + Sync),
    device: Device,
) -> Receiver<Prefetched> {
    let (tx, rx) = sync_channel(DEPTH);
    scope.spawn(move || {
        for mut p in built(schedule, steps, build) {
            p.batch = p.batch.pinned(device);
            if tx.send(p).is_err() {
                break;
            }
        }
    });
    rx
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schedule_covers_each_epoch_once_and_resumes_anywhere() {
        let s = Schedule {
            n_examples: 10,
            batch_size: 4,
            seed: 7,
            part: Part::WHOLE,
        };
        assert_eq!(s.steps_per_epoch(), 3);
        let all: Vec<(usize, Vec<u32>)> = s.iter(0..6).collect();
        for epoch in 0..2 {
            let mut seen: Vec<u32> = all
                .iter()
                .filter(|(e, _)| *e == epoch)
                .flat_map(|(_, v)| v.clone())
                .collect();
            seen.sort_unstable();
            assert_eq!(seen, (0..10).collect::<Vec<u32>>());
        }
        assert_eq!(all[2].1.len(), 2, "the last batch of an epoch is shorter");
        assert_ne!(all[0].1, all[3].1, "epochs are shuffled differently");
        let resumed: Vec<(usize, Vec<u32>)> = s.iter(4..6).collect();
        assert_eq!(resumed, all[4..6].to_vec());
    }
}
