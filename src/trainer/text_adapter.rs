//! Fitting the text adapter (`eval::adapter`): a linear map of the frozen
//! item text embeddings, from the identity, trained on the pairs (item,
//! the item right after it) of the training sequences by the symmetric
//! in-batch contrastive loss of CLIP (Radford et al. 2021) at temperature
//! `tau` — each pair's adapted embeddings should be nearer each other than
//! any other item of the batch — with AdamW. Deterministic on a CPU: the
//! pairs are shuffled by a seeded generator and nothing reads libtorch's
//! global one.
use crate::data::dataset::TrainSequence;
use crate::embed::bert::l2_normalize;
use crate::error::{Error, Result};
use crate::eval::adapter::TextAdapter;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use tch::{nn, nn::OptimizerConfig, Kind, Tensor};

/// How the adapter is fitted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdapterParams {
    /// Passes over the pairs, at most.
    pub epochs: usize,
    /// Optimiser steps, at most (bounds the time on a large catalogue).
    pub max_steps: usize,
    /// Pairs per step: each pair's negatives are the batch's other items.
    pub batch: usize,
    pub lr: f64,
    /// The softmax temperature of the cosines.
    pub tau: f64,
    pub seed: u64,
}

impl AdapterParams {
    /// Ten passes, at most 20,000 steps of 256 pairs, AdamW at 10⁻³,
    /// temperature 0.05: on a 4,000-user Amazon sample, its text-kNN's
    /// validation NDCG@10 from 0.0363 to 0.0421, in seconds on 2 cores.
    pub fn new(seed: u64) -> Self {
        AdapterParams {
            epochs: 10,
            max_steps: 20_000,
            batch: 256,
            lr: 1e-3,
            tau: 0.05,
            seed,
        }
    }

    /// Refuses settings that cannot fit anything.
    pub fn check(self) -> Result<Self> {
        let bad = |m: &str| Err(Error::Config(format!("text adapter: {m}")));
        if self.batch < 2 {
            return bad("a batch needs at least two pairs");
        }
        if !(self.lr > 0.0 && self.tau > 0.0) {
            return bad("lr and tau must be positive");
        }
        Ok(self)
    }
}

/// The pairs (item, the next one) of `sequences`, an item followed by
/// itself left out (nothing to learn from it).
pub fn next_item_pairs(sequences: &[TrainSequence]) -> Vec<(u32, u32)> {
    sequences
        .iter()
        .flat_map(|s| s.items.windows(2).map(|w| (w[0], w[1])))
        .filter(|(a, b)| a != b)
        .collect()
}

/// The adapter fitted over `emb` (`[N, dim]` row-major, L2-normalised) on
/// `pairs` (item, the item taken after it: [`next_item_pairs`]); the
/// identity when there are fewer than two pairs.
pub fn fit_text_adapter(
    emb: &[f32],
    dim: usize,
    mut pairs: Vec<(u32, u32)>,
    p: AdapterParams,
) -> Result<TextAdapter> {
    let p = p.check()?;
    if pairs.len() < 2 {
        return Ok(TextAdapter::identity(dim));
    }
    let batch = p.batch.min(pairs.len());
    let d = dim as i64;
    let e = Tensor::from_slice(emb).view([-1, d]);
    let vs = nn::VarStore::new(tch::Device::Cpu);
    let root = vs.root();
    let eye = Tensor::eye(d, (Kind::Float, tch::Device::Cpu));
    let w = root.var_copy("weight", &eye);
    let b = root.zeros("bias", &[d]);
    let mut opt = nn::AdamW::default()
        .build(&vs, p.lr)
        .map_err(|e| Error::Other(format!("text adapter: {e}")))?;
    let map = |x: &Tensor| l2_normalize(&(x.matmul(&w.tr()) + &b));
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(p.seed ^ 0x7e47_ada9);
    let per_epoch = pairs.len() / batch;
    let steps = (p.epochs * per_epoch).min(p.max_steps);
    let not_self = Tensor::eye(batch as i64, (Kind::Bool, tch::Device::Cpu)).logical_not();
    let target = Tensor::arange(batch as i64, (Kind::Int64, tch::Device::Cpu));
    for step in 0..steps {
        if step % per_epoch == 0 {
            pairs.shuffle(&mut rng);
        }
        let at = (step % per_epoch) * batch;
        let chunk = &pairs[at..at + batch];
        let ids = |f: fn(&(u32, u32)) -> u32| {
            Tensor::from_slice(&chunk.iter().map(|x| i64::from(f(x))).collect::<Vec<_>>())
        };
        let (ia, ib) = (ids(|x| x.0), ids(|x| x.1));
        let logits =
            map(&e.index_select(0, &ia)).matmul(&map(&e.index_select(0, &ib)).tr()) / p.tau;
        // An item twice in the batch is no negative of itself.
        let twice = (ia
            .unsqueeze(1)
            .eq_tensor(&ia.unsqueeze(0))
            .logical_or(&ib.unsqueeze(1).eq_tensor(&ib.unsqueeze(0))))
        .logical_and(&not_self);
        let logits = logits.masked_fill(&twice, -1e4);
        let loss = (logits.cross_entropy_for_logits(&target)
            + logits.tr().cross_entropy_for_logits(&target))
            / 2.0;
        opt.backward_step(&loss);
    }
    let flat = |t: &Tensor| Vec::<f32>::try_from(t.detach().flatten(0, -1)).expect("f32");
    Ok(TextAdapter {
        dim,
        weight: flat(&w),
        bias: flat(&b),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seqs(items: &[&[u32]]) -> Vec<TrainSequence> {
        items
            .iter()
            .map(|s| TrainSequence {
                user: String::new(),
                items: s.to_vec(),
            })
            .collect()
    }

    #[test]
    fn the_pairs_are_each_item_and_the_next_but_not_an_item_and_itself() {
        let p = next_item_pairs(&seqs(&[&[1, 2, 2, 3], &[4], &[5, 6]]));
        assert_eq!(p, [(1, 2), (2, 3), (5, 6)]);
    }

    /// 40 items at random unit vectors (in 64 dimensions, so that a linear
    /// map can place them anywhere); item `i` is always followed by item
    /// `(i + 1) % 40`, which its text says nothing of.
    fn ring() -> (Vec<f32>, usize, Vec<(u32, u32)>) {
        let (n, dim) = (40usize, 64usize);
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        let raw: Vec<f32> = (0..n * dim)
            .map(|_| rand::Rng::gen_range(&mut rng, -1.0f32..1.0))
            .collect();
        let emb = TextAdapter::identity(dim).apply(&raw);
        let s: Vec<Vec<u32>> = (0..20)
            .map(|k| (0..12).map(|j| ((k * 7 + j) % n) as u32).collect())
            .collect();
        let refs: Vec<&[u32]> = s.iter().map(Vec::as_slice).collect();
        (emb, dim, next_item_pairs(&seqs(&refs)))
    }

    /// How many items have their successor among their two nearest other
    /// items (the cosine is symmetric: the predecessor is as near).
    fn successors_nearest(emb: &[f32], dim: usize) -> usize {
        let n = emb.len() / dim;
        let cos = |a: usize, b: usize| -> f32 {
            (0..dim).map(|k| emb[a * dim + k] * emb[b * dim + k]).sum()
        };
        (0..n)
            .filter(|&i| {
                let mut others: Vec<usize> = (0..n).filter(|&j| j != i).collect();
                others.sort_by(|&a, &b| cos(i, b).total_cmp(&cos(i, a)));
                others[..2].contains(&((i + 1) % n))
            })
            .count()
    }

    #[test]
    fn the_fitted_map_brings_each_item_near_the_one_taken_after_it() {
        let (emb, dim, s) = ring();
        let before = successors_nearest(&emb, dim);
        let p = AdapterParams {
            epochs: 200,
            batch: 32,
            lr: 1e-2,
            ..AdapterParams::new(1)
        };
        let a = fit_text_adapter(&emb, dim, s.clone(), p).unwrap();
        let after = successors_nearest(&a.apply(&emb), dim);
        assert!(before <= 6 && after >= 36, "{before} → {after} of 40");
        // The same seed, the same map (to rounding: BLAS may sum in another
        // order while other tests hold its threads).
        let again = fit_text_adapter(&emb, dim, s.clone(), p).unwrap();
        let most = |x: &[f32], y: &[f32]| {
            x.iter()
                .zip(y)
                .map(|(u, v)| (u - v).abs())
                .fold(0f32, f32::max)
        };
        assert!(most(&again.weight, &a.weight) < 1e-4 && most(&again.bias, &a.bias) < 1e-4);
        // Another seed shuffles the pairs otherwise.
        let other = fit_text_adapter(&emb, dim, s, AdapterParams { seed: 2, ..p }).unwrap();
        assert!(most(&other.weight, &a.weight) > 1e-4);
    }

    #[test]
    fn too_few_pairs_give_the_identity_and_bad_settings_are_refused() {
        let (emb, dim, _) = ring();
        let a = fit_text_adapter(&emb, dim, vec![(1, 2)], AdapterParams::new(0)).unwrap();
        assert_eq!(a, TextAdapter::identity(dim));
        let p = AdapterParams {
            batch: 1,
            ..AdapterParams::new(0)
        };
        assert!(fit_text_adapter(&emb, dim, vec![(1, 2), (2, 3)], p).is_err());
    }
}
