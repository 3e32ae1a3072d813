//! Weighted reciprocal-rank fusion (Cormack et al. 2009) of several ranked
//! lists per user, and the three-way blend the verifier's stage can apply:
//! the generator's beams, the last item's text neighbours and the sequence
//! verifier's own top items, each list's weight and the rank offset `k`
//! chosen on validation. Each source knows something the others do not —
//! the generator the semantic-ID paths, the text neighbours what the items
//! say, the verifier (SASRec, trained on every position against every item)
//! the sequence — and a rank fusion needs no common score scale. The blend
//! is kept only when its paired gain over the verifier's λ-reranking on the
//! validation users has a lower end above zero.
use super::{Estimate, Protocol, TextNeighbours};
use crate::data::HeldOut;
use serde::{Deserialize, Serialize};

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
    let users = lists.first().map_or(0, |l| l.len());
    assert!(
        lists.iter().all(|l| l.len() == users),
        "every source has a list per user"
    );
    (0..users)
        .map(|u| {
            let mut score: Vec<(u32, f64, (usize, usize))> = Vec::new();
            for (s, (l, &w)) in lists.iter().zip(weights).enumerate() {
                for (r, &it) in l[u].iter().enumerate() {
                    let add = w / (k + (r + 1) as f64);
                    match score.iter_mut().find(|(i, _, _)| *i == it) {
                        Some(e) => e.1 += add,
                        None => score.push((it, add, (s, r))),
                    }
                }
            }
            score.sort_by(|p, q| q.1.total_cmp(&p.1).then(p.2.cmp(&q.2)));
            score
                .into_iter()
                .take(top)
                .map(|(i, s, _)| (i, s))
                .collect()
        })
        .collect()
}

/// Weights of the generator's beams, the text neighbours and the verifier's
/// own top items, and the rank offset, for [`reciprocal_rank_fusion`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Blend {
    /// Generator, text, verifier; they sum to 1.
    pub weights: [f64; 3],
    pub k: f64,
}

impl Blend {
    /// The settings tried on validation: the generator alone first, then
    /// every weight triple on a 0.1 grid of the simplex at k = 2, 10 and 60.
    pub fn grid() -> Vec<Blend> {
        let mut g = vec![Blend {
            weights: [1.0, 0.0, 0.0],
            k: 60.0,
        }];
        for k in [2.0, 10.0, 60.0] {
            for a in 0..=10u32 {
                for b in 0..=(10 - a) {
                    let weights = [
                        f64::from(a) / 10.0,
                        f64::from(b) / 10.0,
                        f64::from(10 - a - b) / 10.0,
                    ];
                    g.push(Blend { weights, k });
                }
            }
        }
        g
    }

    /// Each user's blended list, best `top`, with the fused scores.
    pub fn fuse(
        &self,
        beams: &[Vec<u32>],
        text: &[Vec<u32>],
        verifier: &[Vec<u32>],
        top: usize,
    ) -> Vec<Vec<(u32, f64)>> {
        reciprocal_rank_fusion(&[beams, text, verifier], &self.weights, self.k, top)
    }

    /// [`Blend::fuse`] without the scores.
    pub fn fuse_items(
        &self,
        beams: &[Vec<u32>],
        text: &[Vec<u32>],
        verifier: &[Vec<u32>],
        top: usize,
    ) -> Vec<Vec<u32>> {
        self.fuse(beams, text, verifier, top)
            .into_iter()
            .map(|l| l.into_iter().map(|(i, _)| i).collect())
            .collect()
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
    /// the three sources and the verifier's λ-reranked lists: every setting
    /// of [`Blend::grid`], best mean NDCG@10, used only when its paired gain
    /// over the reranked lists has a lower end above zero.
    pub fn choose(
        held: &[HeldOut],
        (beams, text, verifier): (&UserLists, &UserLists, &UserLists),
        reranked: &[Vec<u32>],
        embeddings_sha256: &str,
    ) -> BlendChoice {
        let targets: Vec<u32> = held.iter().map(|h| h.target).collect();
        let grid = Blend::grid();
        let (best, sweep) = super::choose_on_validation(&grid, &targets, |b| {
            b.fuse_items(beams, text, verifier, 10)
        });
        let lists = best.fuse_items(beams, text, verifier, 10);
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
            depth: beams.iter().chain(text).map(Vec::len).max().unwrap_or(0),
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
        let w = self.blend.weights;
        format!(
            "blend of the generator's beams, the text neighbours and the verifier's own top {} on {} validation users: NDCG@10 {:.4} (weights {}, {}, {}, k {}) against the λ-reranking's {:.4}, paired difference {:+.4} [{:+.4}, {:+.4}] → {}",
            self.depth,
            self.valid_users,
            self.valid_ndcg,
            w[0],
            w[1],
            w[2],
            self.blend.k,
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
        assert_eq!(g[0].weights, [1.0, 0.0, 0.0]);
        assert_eq!(g.len(), 1 + 3 * 66);
        assert!(g
            .iter()
            .all(|b| (b.weights.iter().sum::<f64>() - 1.0).abs() < 1e-9));
        assert!(g.iter().any(|b| b.weights == [0.0, 0.0, 1.0]));
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
        let c = BlendChoice::choose(&held(&targets), (&miss, &miss, &finds), &miss, "sha");
        assert!(c.used, "{}", c.describe());
        assert!(c.blend.weights[2] > 0.0);
        assert!(c.valid_gain.lo > 0.0);
        // When no source beats the reranking, the reranking stays.
        let none = BlendChoice::choose(&held(&targets), (&miss, &miss, &miss), &miss, "sha");
        assert!(!none.used, "{}", none.describe());
        assert_eq!(none.valid_gain.mean, 0.0);
    }
}
