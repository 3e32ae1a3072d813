//! A learned rescoring of the blend's pool: each user's candidates (every
//! item of the five sources' lists) scored by a linear function of what is
//! known of them — each source's rank, the item's popularity, its text
//! cosine to the last item and to the history, how often it followed the
//! last items, and the words its text shares with theirs
//! (`eval::lexical`), and where it was chosen so the rank among the last
//! item's nearest by words, a sixth list that enters only the pool — fitted on the validation
//! users by the top-one softmax of ListNet (Cao et al. 2007: the target's
//! probability among its user's pool), as a learning-to-rank stage over
//! fused candidate lists. Where rank fusion sees only ranks, this sees how
//! close a candidate's text is to what the user read, which no source's rank
//! carries (the text neighbours rank by the last item alone), and how
//! strong a transition is, not only its place. It is kept only when,
//! fitted on one half of the validation users and measured on the other
//! (both ways), it beats the fusion weights chosen the same way with a
//! paired interval above zero (`choose_rescorer`); the words' sixth list
//! is kept only where the rescoring over the pool with it beats the
//! rescoring without, measured the same way (`choose_words_source`).
use super::blend::Pooled;
use super::lexical::Lexical;
use super::metrics::rank_of;
use super::text::{cosines, TextQuery};
use super::transitions::Transitions;
use super::{paired_difference, Estimate, Protocol};
use serde::{Deserialize, Serialize};

/// Features per source: present, and `1 / (k + rank)` at these `k`.
const RANK_OFFSETS: [f64; 3] = [1.0, 5.0, 20.0];
/// History items read for the text profile (latest).
const PROFILE_ITEMS: usize = 10;
/// The features of one candidate: four per source (five sources), then
/// `ln(1 + count) / 10`, the cosine to the last item and to the mean of the
/// last [`PROFILE_ITEMS`], and `ln(1 + c)` of how often it followed the
/// last item and of its transition score (`Transitions::followed`), then
/// the IDF-weighted cosine of its words to the last item's and to those of
/// the last `lexical::PROFILE_ITEMS` ([`Lexical`]).
pub const RESCORE_FEATURES: usize = 5 * 4 + 7;
/// The features of a pool with the words' sixth list: [`RESCORE_FEATURES`],
/// then that list's four rank features.
pub const RESCORE_FEATURES_WITH_WORDS: usize = RESCORE_FEATURES + 4;
/// The features of rescorers fitted before the lexical two: their weights
/// score the first of today's features, which are computed as then.
const FEATURES_BEFORE_WORDS: usize = 5 * 4 + 5;
/// The L2 penalty on the weights (the mean loss per user plus `λ‖w‖²`).
const RIDGE: f64 = 1e-3;

/// What the features read besides the lists: the catalogue's L2-normalised
/// text embeddings (`dim` each), each item's count in what is known, the
/// transitions counted there and the items' words.
#[derive(Clone, Copy)]
pub struct ItemFacts<'a> {
    pub emb: &'a [f32],
    pub dim: usize,
    pub counts: &'a [f64],
    pub transitions: &'a Transitions,
    pub words: &'a Lexical,
}

/// Each user's candidates and their features (`width` per candidate, row
/// after row), candidates in order of first appearance.
pub struct Pool {
    pub items: Vec<u32>,
    pub x: Vec<f64>,
    /// [`RESCORE_FEATURES`], or [`RESCORE_FEATURES_WITH_WORDS`] for a pool
    /// with the words' sixth list.
    pub width: usize,
}

/// The pools of the five sources' lists (`pooled`, in the order of
/// `eval::BLEND_SOURCES`), or of those and the last item's nearest by
/// words as a sixth, for users with these histories (oldest first).
pub fn pool_features(pooled: &Pooled, histories: &[&[u32]], facts: ItemFacts) -> Vec<Pool> {
    let sources = pooled.sources();
    assert!(
        sources == 5 || sources == 6,
        "the five sources' lists, and maybe the words'"
    );
    let width = RESCORE_FEATURES + 4 * (sources - 5);
    let rank_features = |x: &mut Vec<f64>, r: u32| {
        let r = f64::from(r);
        x.push(f64::from(u8::from(r > 0.0)));
        x.extend(RANK_OFFSETS.map(|k| if r > 0.0 { 1.0 / (k + r) } else { 0.0 }));
    };
    let (emb, dim) = (facts.emb, facts.dim);
    let profile = TextQuery {
        window: PROFILE_ITEMS,
        decay: 1.0,
    };
    histories
        .iter()
        .enumerate()
        .map(|(u, h)| {
            let (items, ranks) = pooled.user(u);
            let (to_last, to_profile) = match h.is_empty() {
                true => (vec![0.0; items.len()], vec![0.0; items.len()]),
                false => (
                    cosines(emb, dim, &TextQuery::LAST.vector(emb, dim, h), items),
                    cosines(emb, dim, &profile.vector(emb, dim, h), items),
                ),
            };
            let last = h.last().copied();
            let profile = facts.words.profile(h);
            let mut x = Vec::with_capacity(items.len() * width);
            for (c, &it) in items.iter().enumerate() {
                let r = &ranks[c * sources..(c + 1) * sources];
                r[..5].iter().for_each(|&r| rank_features(&mut x, r));
                x.push(facts.counts[it as usize].ln_1p() / 10.0);
                x.push(f64::from(to_last[c]));
                x.push(f64::from(to_profile[c]));
                let (after_last, score) = facts.transitions.followed(h, it);
                x.push(f64::from(after_last).ln_1p());
                x.push(f64::from(score).ln_1p());
                x.push(last.map_or(0.0, |l| facts.words.cosine(l, it)));
                x.push(facts.words.profile_cosine(&profile, it));
                r[5..].iter().for_each(|&r| rank_features(&mut x, r));
            }
            Pool {
                items: items.to_vec(),
                x,
                width,
            }
        })
        .collect()
}

/// The fitted weights, one per feature.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Rescorer {
    pub weights: Vec<f64>,
}

impl Rescorer {
    /// Whether a stored rescorer reads the features computed here: one
    /// weight per feature of a five-source pool, or of a pool with the
    /// words' sixth list, or one per feature but the lexical two (fitted
    /// before they were computed: it scores as it did then); a card edited
    /// by hand, or written by a genrec with other features, is refused
    /// rather than read short.
    pub fn check(&self) -> std::result::Result<(), String> {
        match self.weights.len() {
            RESCORE_FEATURES | RESCORE_FEATURES_WITH_WORDS | FEATURES_BEFORE_WORDS => Ok(()),
            n => Err(format!(
                "the rescorer has {n} weights; this genrec computes {RESCORE_FEATURES} \
                 features ({RESCORE_FEATURES_WITH_WORDS} with the words' list)"
            )),
        }
    }

    /// Whether it ranks a pool with the last item's nearest by words as a
    /// sixth list (`eval::lexical::Lexical::nearest_lists`).
    pub fn reads_words_list(&self) -> bool {
        self.weights.len() == RESCORE_FEATURES_WITH_WORDS
    }
}

/// Each candidate's `x · w` in a pool (weights fitted without the lexical
/// features leave them out).
fn scores(w: &[f64], p: &Pool) -> Vec<f64> {
    p.x.chunks(p.width)
        .map(|f| f.iter().zip(w).map(|(a, b)| a * b).sum())
        .collect()
}

impl Rescorer {
    /// Each user's best `top` candidates by `x · w`, with their scores;
    /// ties keep the pool's order.
    pub fn rank(&self, pools: &[Pool], top: usize) -> Vec<Vec<(u32, f64)>> {
        pools.iter().map(|p| self.rank_one(p, top)).collect()
    }

    /// One user's best `top` candidates (as [`rank`](Self::rank)).
    pub fn rank_one(&self, p: &Pool, top: usize) -> Vec<(u32, f64)> {
        let mut s: Vec<(usize, f64)> = scores(&self.weights, p).into_iter().enumerate().collect();
        s.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
        s.into_iter()
            .take(top)
            .map(|(i, v)| (p.items[i], v))
            .collect()
    }

    /// Fits the weights on the users `users` of `pools` whose target is in
    /// their pool: the mean over them of `−log softmax(x · w)[target]` plus
    /// `RIDGE · ‖w‖²`, minimised by Newton's method with step halving (the
    /// loss is convex; deterministic).
    pub fn fit(pools: &[Pool], targets: &[u32], users: &[usize]) -> Rescorer {
        let nf = pools.first().map_or(RESCORE_FEATURES, |p| p.width);
        assert!(pools.iter().all(|p| p.width == nf), "pools of one width");
        let data: Vec<(&Pool, usize)> = users
            .iter()
            .filter_map(|&u| rank_of(targets[u], &pools[u].items).map(|r| (&pools[u], r - 1)))
            .collect();
        let n = data.len().max(1) as f64;
        // Loss, and with `second` its gradient and Hessian, at `w`.
        let eval = |w: &[f64], second: bool| {
            let (mut loss, mut g, mut h) = (0.0, vec![0.0; nf], vec![0.0; nf * nf]);
            for &(p, t) in &data {
                let s = scores(w, p);
                let m = s.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                let z: f64 = s.iter().map(|v| (v - m).exp()).sum();
                loss += m + z.ln() - s[t];
                if !second {
                    continue;
                }
                let mut mu = vec![0.0; nf];
                for (f, v) in p.x.chunks(nf).zip(&s) {
                    let q = (v - m).exp() / z;
                    for a in 0..nf {
                        mu[a] += q * f[a];
                        for b in 0..nf {
                            h[a * nf + b] += q * f[a] * f[b];
                        }
                    }
                }
                let xt = &p.x[t * nf..(t + 1) * nf];
                for a in 0..nf {
                    g[a] += mu[a] - xt[a];
                    for b in 0..nf {
                        h[a * nf + b] -= mu[a] * mu[b];
                    }
                }
            }
            let ridge: f64 = w.iter().map(|v| v * v).sum::<f64>() * RIDGE;
            for a in 0..nf {
                g[a] = g[a] / n + 2.0 * RIDGE * w[a];
                for b in 0..nf {
                    h[a * nf + b] /= n;
                }
                h[a * nf + a] += 2.0 * RIDGE;
            }
            (loss / n + ridge, g, h)
        };
        let mut w = vec![0.0; nf];
        for _ in 0..50 {
            let (loss, g, h) = eval(&w, true);
            if g.iter().all(|v| v.abs() < 1e-9) {
                break;
            }
            let d = solve(h, g);
            let mut step = 1.0;
            loop {
                let next: Vec<f64> = w.iter().zip(&d).map(|(a, b)| a - step * b).collect();
                if eval(&next, false).0 <= loss || step < 1e-6 {
                    w = next;
                    break;
                }
                step /= 2.0;
            }
        }
        Rescorer { weights: w }
    }
}

/// `h⁻¹ g` for a symmetric positive definite `h` (`nf × nf`, row-major), by
/// Cholesky.
fn solve(mut h: Vec<f64>, g: Vec<f64>) -> Vec<f64> {
    let f = g.len();
    for j in 0..f {
        let d = (h[j * f + j] - (0..j).map(|k| h[j * f + k].powi(2)).sum::<f64>()).sqrt();
        h[j * f + j] = d;
        for i in j + 1..f {
            let s: f64 = (0..j).map(|k| h[i * f + k] * h[j * f + k]).sum();
            h[i * f + j] = (h[i * f + j] - s) / d;
        }
    }
    let mut y = g;
    for i in 0..f {
        y[i] = (y[i] - (0..i).map(|k| h[i * f + k] * y[k]).sum::<f64>()) / h[i * f + i];
    }
    for i in (0..f).rev() {
        y[i] = (y[i] - (i + 1..f).map(|k| h[k * f + i] * y[k]).sum::<f64>()) / h[i * f + i];
    }
    y
}

/// Each user's top 10 from the fusion chosen on the other half of the
/// users (the halves given).
pub type CrossFitted<'a> = &'a dyn Fn(&[Vec<usize>; 2]) -> Vec<Vec<u32>>;

/// Two halves of `n` users, a seeded split, each in increasing order.
pub fn halves(n: usize, seed: u64) -> [Vec<usize>; 2] {
    let first = super::sample_indices(n, n.div_ceil(2), seed);
    let mut in_first = vec![false; n];
    first.iter().for_each(|&u| in_first[u] = true);
    let second = (0..n).filter(|&u| !in_first[u]).collect();
    [first, second]
}

/// Each user's top 10 by the rescoring fitted on the other half of the
/// users (`halves`).
fn cross_fitted_lists(pools: &[Pool], targets: &[u32], halves: &[Vec<usize>; 2]) -> Vec<Vec<u32>> {
    let mut crossed = vec![Vec::new(); pools.len()];
    for f in 0..2 {
        let r = Rescorer::fit(pools, targets, &halves[1 - f]);
        for &u in &halves[f] {
            crossed[u] = r
                .rank_one(&pools[u], 10)
                .into_iter()
                .map(|(i, _)| i)
                .collect();
        }
    }
    crossed
}

/// A rescoring judged on validation users: kept (fitted on all of them)
/// where its cross-fitted lists beat what it was paired against with an
/// NDCG@10 interval above zero; the gain either way, and the cross-fitted
/// lists and halves behind it, so that a later choice pairs against them
/// without fitting again.
pub struct Chosen {
    pub rescorer: Option<Rescorer>,
    pub gain: Estimate,
    crossed: Vec<Vec<u32>>,
    halves: [Vec<usize>; 2],
}

/// The rescoring of `pools` cross-fitted on `halves` and paired against
/// `against` (each user's top 10).
fn judge(pools: &[Pool], targets: &[u32], halves: [Vec<usize>; 2], against: &[Vec<u32>]) -> Chosen {
    let crossed = cross_fitted_lists(pools, targets, &halves);
    let gain = paired_difference("", targets, &crossed, against, &Protocol::default()).difference
        ["ndcg@10"];
    let all: Vec<usize> = (0..pools.len()).collect();
    Chosen {
        rescorer: (gain.lo > 0.0).then(|| Rescorer::fit(pools, targets, &all)),
        gain,
        crossed,
        halves,
    }
}

/// The rescoring chosen on validation users: fitted on each half of them
/// ([`halves`]) and ranking the other half, paired against the fusion
/// chosen the same way (`fused(halves)`: each user's top 10 from the
/// fusion chosen on the other half), so that neither side is measured on
/// the users it was chosen on; when that NDCG@10 gain's interval is above
/// zero, the weights fitted on all of them.
pub fn choose_rescorer(pools: &[Pool], targets: &[u32], fused: CrossFitted, seed: u64) -> Chosen {
    let halves = halves(pools.len(), seed);
    let against = fused(&halves);
    judge(pools, targets, halves, &against)
}

/// Whether the pool takes the last item's nearest by words as a sixth list:
/// the rescoring over `with` (the same users' pools with that list),
/// fitted on each half of the users and measured on the other, paired
/// against the rescoring `without` it chosen on the same halves
/// ([`choose_rescorer`]'s lists, not fitted again); where that NDCG@10
/// gain's interval is above zero, the rescorer of `with` fitted on all of
/// them.
pub fn choose_words_source(with: &[Pool], without: &Chosen, targets: &[u32]) -> Chosen {
    judge(with, targets, without.halves.clone(), &without.crossed)
}

#[cfg(test)]
mod tests;
