//! Weighted reciprocal-rank fusion (Cormack et al. 2009) of several ranked
//! lists per user, and the four-way blend the verifier's stage can apply:
//! the generator's beams, the last item's text neighbours, the sequence
//! verifier's own top items and the items that followed the last ones in
//! the training sequences (`eval::transitions`), each list's weight and the
//! rank offset `k` chosen on validation. Each source knows something the
//! others do not — the generator the semantic-ID paths, the text neighbours
//! what the items say, the verifier (SASRec, trained on every position
//! against every item) the sequence, the transitions which items are taken
//! one after the other — and a rank fusion needs no common score scale. The
//! blend is kept only when its paired gain over the verifier's λ-reranking
//! on the validation users has a lower end above zero.
use super::{Estimate, Protocol, TextNeighbours};
use crate::data::HeldOut;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Each user's items from several ranked lists with their rank in each
/// (from 1; 0: not in that list), in the order they first appear (by list,
/// then rank): fused under many weightings without searching the lists again.
pub struct Pooled {
    sources: usize,
    /// Per user: the items, and their ranks `[item * sources + source]`.
    users: Vec<(Vec<u32>, Vec<u32>)>,
}

impl Pooled {
    pub fn new(lists: &[&[Vec<u32>]]) -> Self {
        let users = lists.first().map_or(0, |l| l.len());
        assert!(
            lists.iter().all(|l| l.len() == users),
            "every source has a list per user"
        );
        let sources = lists.len();
        let users = (0..users)
            .map(|u| {
                let mut at: HashMap<u32, usize> = HashMap::new();
                let (mut items, mut ranks) = (Vec::new(), Vec::new());
                for (s, l) in lists.iter().enumerate() {
                    for (r, &it) in l[u].iter().enumerate() {
                        let i = *at.entry(it).or_insert_with(|| {
                            items.push(it);
                            ranks.resize(ranks.len() + sources, 0);
                            items.len() - 1
                        });
                        let slot = &mut ranks[i * sources + s];
                        if *slot == 0 {
                            *slot = r as u32 + 1;
                        }
                    }
                }
                (items, ranks)
            })
            .collect();
        Pooled { sources, users }
    }

    /// Each user's fusion: an item scores `Σ w_s / (k + rank_s)` over the
    /// sources it is in, best `top` with their scores. Ties (an item of a
    /// source of weight 0 scores 0 from it) keep the order of first
    /// appearance: the earlier source, then its rank.
    pub fn fuse(&self, weights: &[f64], k: f64, top: usize) -> Vec<Vec<(u32, f64)>> {
        assert_eq!(self.sources, weights.len(), "one weight per source");
        self.users
            .iter()
            .map(|(items, ranks)| {
                let mut score: Vec<(usize, f64)> = (0..items.len())
                    .map(|i| {
                        let rs = &ranks[i * self.sources..(i + 1) * self.sources];
                        let s = rs
                            .iter()
                            .zip(weights)
                            .filter(|(&r, _)| r > 0)
                            .fold(0.0, |acc, (&r, &w)| acc + w / (k + f64::from(r)));
                        (i, s)
                    })
                    .collect();
                score.sort_by(|p, q| q.1.total_cmp(&p.1).then(p.0.cmp(&q.0)));
                score
                    .into_iter()
                    .take(top)
                    .map(|(i, s)| (items[i], s))
                    .collect()
            })
            .collect()
    }
}

/// Each user's fusion of `lists` (one ranked list per source per user):
/// an item scores `Σ w_s / (k + rank_s)` over the sources it is in (ranks
/// from 1), best `top` with their scores. Ties (an item of a source of
/// weight 0 scores 0 from it) keep the earlier source's order, then its rank.
pub fn reciprocal_rank_fusion(
    lists: &[&[Vec<u32>]],
    weights: &[f64],
    k: f64,
    top: usize,
) -> Vec<Vec<(u32, f64)>> {
    assert_eq!(lists.len(), weights.len(), "one weight per source");
    Pooled::new(lists).fuse(weights, k, top)
}

/// The blend's sources, in the order of [`Blend::weights`].
pub const BLEND_SOURCES: [&str; 4] = ["generator", "text", "verifier", "transitions"];

/// Weights of the generator's beams, the text neighbours, the verifier's
/// own top items and the transitions, and the rank offset, for
/// [`reciprocal_rank_fusion`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Blend {
    /// Generator, text, verifier, transitions; they sum to 1. A blend chosen
    /// before the transitions (three weights) reads with a fourth of 0.
    #[serde(deserialize_with = "three_or_four")]
    pub weights: [f64; 4],
    pub k: f64,
}

fn three_or_four<'de, D: serde::Deserializer<'de>>(d: D) -> Result<[f64; 4], D::Error> {
    let w = Vec::<f64>::deserialize(d)?;
    match w[..] {
        [a, b, c] => Ok([a, b, c, 0.0]),
        [a, b, c, e] => Ok([a, b, c, e]),
        _ => Err(serde::de::Error::custom(format!(
            "a blend has 3 or 4 weights, not {}",
            w.len()
        ))),
    }
}

impl Blend {
    /// The settings tried on validation: the generator alone first, then
    /// every weight quadruple on a 0.1 grid of the simplex at k = 2, 10 and 60.
    pub fn grid() -> Vec<Blend> {
        let mut g = vec![Blend {
            weights: [1.0, 0.0, 0.0, 0.0],
            k: 60.0,
        }];
        let tenth = |n: u32| f64::from(n) / 10.0;
        for k in [2.0, 10.0, 60.0] {
            for a in 0..=10u32 {
                for b in 0..=(10 - a) {
                    for c in 0..=(10 - a - b) {
                        let weights = [tenth(a), tenth(b), tenth(c), tenth(10 - a - b - c)];
                        g.push(Blend { weights, k });
                    }
                }
            }
        }
        g
    }

    /// Each user's blended list from the four sources' lists (in the order
    /// of [`BLEND_SOURCES`]), best `top`, with the fused scores.
    pub fn fuse(&self, sources: [&UserLists; 4], top: usize) -> Vec<Vec<(u32, f64)>> {
        reciprocal_rank_fusion(&sources, &self.weights, self.k, top)
    }

    /// The weights as "generator 0.3, text 0.4, …" (sources of weight 0 left out).
    pub fn describe(&self) -> String {
        let parts: Vec<String> = BLEND_SOURCES
            .iter()
            .zip(self.weights)
            .filter(|&(_, w)| w > 0.0)
            .map(|(s, w)| format!("{s} {w}"))
            .collect();
        format!("{}, k = {}", parts.join(", "), self.k)
    }
}

/// One ranked list per user.
pub type UserLists = [Vec<u32>];

/// Items each source gives the blend, per user.
pub const BLEND_DEPTH: usize = 20;

/// The blend chosen on validation, stored in the verifier's card
/// (`extra.blend`) and applied by `recommend --rerank` and `evaluate
/// --rerank` when `used`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BlendChoice {
    pub blend: Blend,
    /// Items each source gave (each list's depth).
    pub depth: usize,
    /// The embeddings file the text neighbours came from.
    pub embeddings_sha256: String,
    pub valid_users: usize,
    /// Validation NDCG@10 of the best blend, and of the λ-reranking.
    pub valid_ndcg: f64,
    pub rerank_ndcg: f64,
    /// Best blend − λ-reranking, NDCG@10, paired-bootstrap 95 % interval.
    pub valid_gain: Estimate,
    /// Whether the blend replaces the λ-reranking (the gain's lower end is
    /// above zero).
    pub used: bool,
    /// The ten best settings tried, with their validation NDCG@10.
    pub best_settings: Vec<(Blend, f64)>,
}

impl BlendChoice {
    /// The key of the choice in a verifier card's `extra` record.
    pub const KEY: &'static str = "blend";

    /// The choice stored in a card's `extra` record, if any.
    pub fn from_extra(extra: &serde_json::Value) -> Option<BlendChoice> {
        serde_json::from_value(extra.get(Self::KEY)?.clone()).ok()
    }

    /// Chooses on `held` (validation users) given each user's lists from
    /// the four sources and the verifier's λ-reranked lists: every setting
    /// of [`Blend::grid`], best mean NDCG@10, used only when its paired gain
    /// over the reranked lists has a lower end above zero.
    pub fn choose(
        held: &[HeldOut],
        sources: [&UserLists; 4],
        reranked: &[Vec<u32>],
        embeddings_sha256: &str,
    ) -> BlendChoice {
        let targets: Vec<u32> = held.iter().map(|h| h.target).collect();
        let grid = Blend::grid();
        let pooled = Pooled::new(&sources);
        let lists_of = |b: &Blend| -> Vec<Vec<u32>> {
            pooled
                .fuse(&b.weights, b.k, 10)
                .into_iter()
                .map(|l| l.into_iter().map(|(i, _)| i).collect())
                .collect()
        };
        let (best, sweep) = super::choose_on_validation(&grid, &targets, lists_of);
        let lists = lists_of(&best);
        let paired = super::paired_difference(
            "the verifier's reranking",
            &targets,
            &lists,
            reranked,
            &Protocol::default(),
        );
        let gain = paired.difference["ndcg@10"];
        // Sorted best first (stable: ties keep the grid's order, as the choice does).
        let mut best_settings = sweep;
        best_settings.sort_by(|a, b| b.1.total_cmp(&a.1));
        best_settings.truncate(10);
        let valid_ndcg = best_settings[0].1;
        BlendChoice {
            blend: best,
            depth: sources
                .iter()
                .flat_map(|s| s.iter())
                .map(Vec::len)
                .max()
                .unwrap_or(0),
            embeddings_sha256: embeddings_sha256.to_owned(),
            valid_users: held.len(),
            valid_ndcg,
            // The paired difference's mean is the difference of the means.
            rerank_ndcg: valid_ndcg - gain.mean,
            valid_gain: gain,
            used: gain.lo > 0.0,
            best_settings,
        }
    }

    /// Refuses text neighbours built from other embeddings than the ones
    /// this blend was chosen with.
    pub fn check_neighbours(&self, nn: &TextNeighbours) -> crate::Result<()> {
        nn.check_sha(&self.embeddings_sha256, "the verifier's blend")
    }

    pub fn describe(&self) -> String {
        let g = &self.valid_gain;
        format!(
            "blend of the generator's beams, the text neighbours, the verifier's own top {} and the transitions on {} validation users: NDCG@10 {:.4} ({}) against the λ-reranking's {:.4}, paired difference {:+.4} [{:+.4}, {:+.4}] → {}",
            self.depth,
            self.valid_users,
            self.valid_ndcg,
            self.blend.describe(),
            self.rerank_ndcg,
            g.mean,
            g.lo,
            g.hi,
            if self.used { "blended" } else { "the λ-reranking" }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fusion_by_hand() {
        // User 0: a = [1, 2, 3], b = [3, 4], c = [].
        let a = vec![vec![1, 2, 3]];
        let b = vec![vec![3, 4]];
        let c = vec![vec![]];
        let got = reciprocal_rank_fusion(&[&a, &b, &c], &[0.5, 0.5, 0.0], 1.0, 10);
        // 3: 0.5/4 + 0.5/2 = 0.375; 1: 0.25; 4: 0.5/3; 2: 0.5/3 (a's item first).
        let items: Vec<u32> = got[0].iter().map(|x| x.0).collect();
        assert_eq!(items, [3, 1, 2, 4]);
        assert!((got[0][0].1 - 0.375).abs() < 1e-12);
        // A source of weight 0 only fills the list after the others.
        let only_b = reciprocal_rank_fusion(&[&a, &b], &[0.0, 1.0], 1.0, 10);
        assert_eq!(
            only_b[0].iter().map(|x| x.0).collect::<Vec<_>>(),
            [3, 4, 1, 2]
        );
    }

    #[test]
    fn the_grid_starts_with_the_generator_and_covers_the_simplex() {
        let g = Blend::grid();
        assert_eq!(g[0].weights, [1.0, 0.0, 0.0, 0.0]);
        // Quadruples of tenths summing to 1: C(13, 3) = 286 per k.
        assert_eq!(g.len(), 1 + 3 * 286);
        assert!(g
            .iter()
            .all(|b| (b.weights.iter().sum::<f64>() - 1.0).abs() < 1e-9));
        assert!(g.iter().any(|b| b.weights == [0.0, 0.0, 1.0, 0.0]));
        assert!(g.iter().any(|b| b.weights == [0.0, 0.0, 0.0, 1.0]));
    }

    #[test]
    fn a_card_of_three_weights_reads_with_no_transitions() {
        let old: Blend =
            serde_json::from_str(r#"{"weights": [0.3, 0.3, 0.4], "k": 10.0}"#).unwrap();
        assert_eq!(old.weights, [0.3, 0.3, 0.4, 0.0]);
        let bad = serde_json::from_str::<Blend>(r#"{"weights": [1.0], "k": 10.0}"#);
        assert!(bad.unwrap_err().to_string().contains("3 or 4 weights"));
    }

    #[test]
    fn pooled_fusion_is_the_fusion_of_the_lists() {
        // Pooled once, fused under several weightings: each the same as
        // scoring the lists afresh by hand.
        let a = vec![vec![1, 2, 3], vec![7]];
        let b = vec![vec![3, 4], vec![8, 7]];
        let p = Pooled::new(&[&a, &b]);
        let by_hand = |w: [f64; 2], k: f64| -> Vec<Vec<u32>> {
            (0..2)
                .map(|u| {
                    let mut s: Vec<(u32, f64, usize)> = Vec::new();
                    for (src, (l, wt)) in [&a, &b].iter().zip(w).enumerate() {
                        for (r, &it) in l[u].iter().enumerate() {
                            match s.iter_mut().find(|e| e.0 == it) {
                                Some(e) => e.1 += wt / (k + (r + 1) as f64),
                                None => s.push((it, wt / (k + (r + 1) as f64), src * 100 + r)),
                            }
                        }
                    }
                    s.sort_by(|x, y| y.1.total_cmp(&x.1).then(x.2.cmp(&y.2)));
                    s.into_iter().map(|e| e.0).collect()
                })
                .collect()
        };
        for (w, k) in [([0.5, 0.5], 1.0), ([0.9, 0.1], 60.0), ([0.0, 1.0], 2.0)] {
            let got: Vec<Vec<u32>> = p
                .fuse(&w, k, 10)
                .into_iter()
                .map(|l| l.into_iter().map(|x| x.0).collect())
                .collect();
            assert_eq!(got, by_hand(w, k), "{w:?} {k}");
        }
    }

    fn held(targets: &[u32]) -> Vec<HeldOut> {
        targets
            .iter()
            .enumerate()
            .map(|(u, &t)| HeldOut {
                user: u.to_string(),
                history: vec![100],
                target: t,
            })
            .collect()
    }

    #[test]
    fn a_source_that_finds_the_targets_is_blended_in_and_noise_is_not() {
        let n = 300u32;
        // The generator and the text find nothing; the verifier ranks every
        // user's target second; the reranked lists miss it.
        let targets: Vec<u32> = (0..n).map(|u| 1000 + u).collect();
        let miss: Vec<Vec<u32>> = (0..n).map(|u| vec![u, u + 1, u + 2]).collect();
        let finds: Vec<Vec<u32>> = (0..n).map(|u| vec![u + 5, 1000 + u]).collect();
        let c = BlendChoice::choose(&held(&targets), [&miss, &miss, &finds, &miss], &miss, "sha");
        assert!(c.used, "{}", c.describe());
        assert!(c.blend.weights[2] > 0.0);
        assert!(c.valid_gain.lo > 0.0);
        // The same from the transitions.
        let t = BlendChoice::choose(&held(&targets), [&miss, &miss, &miss, &finds], &miss, "sha");
        assert!(t.used && t.blend.weights[3] > 0.0, "{}", t.describe());
        // When no source beats the reranking, the reranking stays.
        let none = BlendChoice::choose(&held(&targets), [&miss, &miss, &miss, &miss], &miss, "sha");
        assert!(!none.used, "{}", none.describe());
        assert_eq!(none.valid_gain.mean, 0.0);
    }
}
