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
/// epoch's permutation (the last slice of an epoch may be shorter), or, with
/// `lengths`, batches of similar length (see [`Schedule::epoch`]).
#[derive(Debug, Clone, Copy)]
pub struct Schedule<'a> {
    pub n_examples: usize,
    pub batch_size: usize,
    pub seed: u64,
    /// This process's part of each batch (data-parallel ranks).
    pub part: Part,
    /// Each example's length and the sorting pool in batches
    /// (`optim.length_pool`); None: plain slices of the permutation.
    pub lengths: Option<(&'a [u16], usize)>,
}

impl<'a> Schedule<'a> {
    pub fn steps_per_epoch(&self) -> usize {
        self.n_examples.div_ceil(self.batch_size)
    }

    /// The batches of an epoch, in order. With lengths, the epoch's
    /// permutation is cut into pools of `pool` batches, each pool sorted by
    /// length (stably, so ties keep the permutation's order) and cut into
    /// batches, and the batches are shuffled: batches of like lengths in a
    /// random order, every example once per epoch, all fixed by (seed,
    /// epoch) so a resumed run sees the same batches.
    pub fn epoch(&self, epoch: usize) -> Vec<Vec<u32>> {
        let order = epoch_order(self.n_examples, self.seed, epoch);
        let Some((lengths, pool)) = self.lengths.filter(|(_, pool)| *pool > 0) else {
            return order.chunks(self.batch_size).map(<[u32]>::to_vec).collect();
        };
        let mut batches: Vec<Vec<u32>> = Vec::with_capacity(self.steps_per_epoch());
        for chunk in order.chunks(self.batch_size * pool) {
            let mut sorted = chunk.to_vec();
            sorted.sort_by_key(|&i| lengths[i as usize]);
            batches.extend(sorted.chunks(self.batch_size).map(<[u32]>::to_vec));
        }
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(
            !self.seed ^ (epoch as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15),
        );
        batches.shuffle(&mut rng);
        batches
    }

    /// Example indices of every step in `steps` (0-based), with their epoch.
    pub fn iter(self, steps: Range<usize>) -> impl Iterator<Item = (usize, Vec<u32>)> + 'a {
        let mut cached: Option<(usize, Vec<Vec<u32>>)> = None;
        steps.map(move |step| {
            let spe = self.steps_per_epoch();
            let epoch = step / spe;
            if cached.as_ref().map(|c| c.0) != Some(epoch) {
                cached = Some((epoch, self.epoch(epoch)));
            }
            let batches = &cached.as_ref().expect("just set").1;
            (epoch, batches[step % spe].clone())
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
    schedule: Schedule<'env>,
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
    schedule: Schedule<'a>,
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
    schedule: Schedule<'env>,
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
            lengths: None,
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

    #[test]
    fn length_pools_make_like_batches_and_keep_every_example_once() {
        let n = 1000;
        // Lengths 1..=20, the short ones most common (as in Amazon Beauty).
        let lengths: Vec<u16> = (0..n)
            .map(|i| (1 + (i * i * 7) % 400 / 20) as u16)
            .collect();
        let plain = Schedule {
            n_examples: n,
            batch_size: 32,
            seed: 3,
            part: Part::WHOLE,
            lengths: None,
        };
        let pooled = Schedule {
            lengths: Some((&lengths, 8)),
            ..plain
        };
        let spread = |s: &Schedule, epoch| -> f64 {
            let b = s.epoch(epoch);
            let sum: usize = b
                .iter()
                .map(|b| {
                    let l = b.iter().map(|&i| lengths[i as usize]);
                    (l.clone().max().unwrap() - l.min().unwrap()) as usize
                })
                .sum();
            sum as f64 / b.len() as f64
        };
        for epoch in 0..2 {
            let batches = pooled.epoch(epoch);
            assert_eq!(batches.len(), pooled.steps_per_epoch());
            let mut seen: Vec<u32> = batches.concat();
            seen.sort_unstable();
            assert_eq!(
                seen,
                (0..n as u32).collect::<Vec<u32>>(),
                "each example once"
            );
            assert!(batches.iter().all(|b| b.len() <= 32));
            // Pools of 8 batches spread lengths over about 1/8 the range a random batch does.
            let (p, r) = (spread(&pooled, epoch), spread(&plain, epoch));
            assert!(p * 3.0 < r, "pooled spread {p} vs plain {r}");
        }
        assert_ne!(pooled.epoch(0), pooled.epoch(1), "epochs differ");
        assert_eq!(pooled.epoch(1), pooled.epoch(1), "fixed by seed and epoch");
        let all: Vec<(usize, Vec<u32>)> = pooled.iter(0..70).collect();
        let resumed: Vec<(usize, Vec<u32>)> = pooled.iter(40..70).collect();
        assert_eq!(resumed, all[40..].to_vec());
        // A pool of 0 is the plain schedule.
        let off = Schedule {
            lengths: Some((&lengths, 0)),
            ..plain
        };
        assert_eq!(off.epoch(0), plain.epoch(0));
    }
}
