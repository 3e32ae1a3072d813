//! Leave-one-out evaluation over the full catalogue (one held-out item per
//! user; Recall@K = hit rate, NDCG@K), with MRR, catalogue coverage and the
//! popularity bias of the recommendations, each with a bootstrap 95 %
//! interval; baselines (most-popular, text kNN) run in the same harness, and
//! each method's difference to a reference (the generator, or an earlier
//! run's lists) comes with a paired-bootstrap interval over the same users.
pub mod adapter;
pub mod blend;
pub mod blend_choice;
pub mod lexical;
pub mod metrics;
pub mod name_mix;
mod popular;
pub mod rescore;
pub mod sample;
pub mod segments;
mod table;
pub mod text;
pub mod transitions;

pub use blend::{
    first_kept, latest_first, own_items_rule, Blend, BLEND_BEAMS, BLEND_DEPTH, BLEND_SOURCES,
    TEXT_NUDGES,
};
pub use blend_choice::{BlendChoice, BlendLists};
pub use popular::{most_popular, popularity, seen_before};
pub use rescore::{
    choose_rescorer, choose_words_source, pool_features, Chosen, ItemFacts, Rescorer,
};
pub use sample::sample_indices;
pub use table::markdown_table;
pub use transitions::{transition_baseline, Transitions, TRANSITIONS_NAME};

pub use text::{
    cosines, fuse, popularity_bias, text_knn, Candidate, FusionChoice, RankFusion, TextNeighbours,
    TextQuery, FUSION_DEPTH,
};

use crate::data::{Dataset, HeldOut};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};

/// A metric's mean over users and its bootstrap 95 % interval.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Estimate {
    pub mean: f64,
    pub lo: f64,
    pub hi: f64,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct MethodResult {
    pub method: String,
    pub users: usize,
    /// "recall@5", "ndcg@5", "recall@10", "ndcg@10", "mrr" (per user, with intervals).
    pub metrics: BTreeMap<String, Estimate>,
    /// Fraction of the catalogue in some top-10 list.
    pub coverage_at_10: f64,
    /// Mean popularity of top-10 items over the catalogue's mean popularity.
    pub popularity_bias_at_10: f64,
    pub seconds: f64,
    pub users_per_second: f64,
    /// Differences to reference methods over the same users (this − reference).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub paired: Vec<Paired>,
}

/// `method − reference` for each metric over the same users: the mean
/// difference and its paired-bootstrap 95 % interval (users resampled
/// together, so the variation both methods share cancels out; two separate
/// intervals that overlap say little about a difference).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Paired {
    pub reference: String,
    pub difference: BTreeMap<String, Estimate>,
}

/// How held-out users are ranked.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq)]
pub struct Protocol {
    /// Remove every item the user interacted with before the target from the
    /// ranking (RecBole does this for general models; its sequential models
    /// and TIGER/P5 on Beauty do not).
    pub exclude_seen: bool,
    pub bootstrap: usize,
    pub seed: u64,
}

impl Protocol {
    /// Whether `item` may be in the list of a user who has seen `seen`.
    pub fn allows(&self, seen: &HashSet<u32>, item: u32) -> bool {
        !self.exclude_seen || !seen.contains(&item)
    }

    /// How many candidates beyond `k` to fetch so that `k` remain after
    /// [`allows`](Self::allows) (the most items a user has seen, or none).
    pub fn extra(&self, seen: &[HashSet<u32>]) -> usize {
        if self.exclude_seen {
            seen.iter().map(HashSet::len).max().unwrap_or(0)
        } else {
            0
        }
    }
}

impl Default for Protocol {
    fn default() -> Self {
        Self {
            exclude_seen: false,
            bootstrap: 1000,
            seed: 0,
        }
    }
}

pub const KS: [usize; 2] = [5, 10];

/// 1-based rank of each user's target in their list (None: not in it).
pub fn ranks(targets: &[u32], lists: &[Vec<u32>]) -> Vec<Option<usize>> {
    targets
        .iter()
        .zip(lists)
        .map(|(&t, l)| metrics::rank_of(t, l))
        .collect()
}

/// Each metric's per-user values, with the bootstrap salt that keeps its
/// resamples apart from the others'.
fn per_user(ranks: &[Option<usize>]) -> Vec<(String, Vec<f64>, u64)> {
    let mut out = Vec::new();
    for (i, &k) in KS.iter().enumerate() {
        out.push((
            format!("recall@{k}"),
            ranks.iter().map(|&r| metrics::recall_at(r, k)).collect(),
            2 * i as u64,
        ));
        out.push((
            format!("ndcg@{k}"),
            ranks.iter().map(|&r| metrics::ndcg_at(r, k)).collect(),
            2 * i as u64 + 1,
        ));
    }
    out.push((
        "mrr".into(),
        ranks.iter().map(|&r| metrics::reciprocal_rank(r)).collect(),
        99,
    ));
    out
}

fn estimate(values: &[f64], protocol: &Protocol, salt: u64) -> Estimate {
    let (lo, hi) =
        metrics::bootstrap_ci(values, protocol.bootstrap, protocol.seed.wrapping_add(salt));
    Estimate {
        mean: metrics::mean(values),
        lo,
        hi,
    }
}

/// Scores ranked lists (best first) against targets; `popularity` has one
/// entry per catalogue item (its length is the catalogue's size).
pub fn score_lists(
    method: &str,
    targets: &[u32],
    lists: &[Vec<u32>],
    popularity: &[f64],
    protocol: &Protocol,
    seconds: f64,
) -> MethodResult {
    let metrics = per_user(&ranks(targets, lists))
        .into_iter()
        .map(|(name, vals, salt)| (name, estimate(&vals, protocol, salt)))
        .collect();
    MethodResult {
        method: method.to_string(),
        users: targets.len(),
        metrics,
        coverage_at_10: metrics::coverage(lists, 10, popularity.len()),
        popularity_bias_at_10: metrics::popularity_bias(lists, 10, popularity),
        seconds,
        users_per_second: if seconds > 0.0 {
            targets.len() as f64 / seconds
        } else {
            f64::INFINITY
        },
        paired: Vec::new(),
    }
}

/// `lists − reference_lists` for every metric, paired over the same users
/// (both in the order of `targets`).
pub fn paired_difference(
    reference: &str,
    targets: &[u32],
    lists: &[Vec<u32>],
    reference_lists: &[Vec<u32>],
    protocol: &Protocol,
) -> Paired {
    assert_eq!(
        lists.len(),
        reference_lists.len(),
        "paired lists cover the same users"
    );
    let a = per_user(&ranks(targets, lists));
    let b = per_user(&ranks(targets, reference_lists));
    let difference = a
        .into_iter()
        .zip(b)
        .map(|((name, x, salt), (_, y, _))| {
            let d: Vec<f64> = x.iter().zip(&y).map(|(x, y)| x - y).collect();
            (name, estimate(&d, protocol, salt))
        })
        .collect();
    Paired {
        reference: reference.to_string(),
        difference,
    }
}

/// An earlier evaluation's per-user top-10 lists (`recs-<split>.jsonl`, as
/// `evaluate` writes it: one `{"user", "items": [original ids]}` per line), in
/// the order of `held`; every held-out user must be there and every item in
/// the dataset.
pub fn read_lists(
    path: &std::path::Path,
    ds: &Dataset,
    held: &[HeldOut],
) -> crate::Result<Vec<Vec<u32>>> {
    use std::collections::HashMap;
    let text = std::fs::read_to_string(path)
        .map_err(|e| crate::Error::input(path, None, format!("cannot read: {e}")))?;
    let item_of: HashMap<&str, u32> = ds
        .items
        .iter()
        .map(|it| (it.original_id.as_str(), it.id))
        .collect();
    let mut by_user: HashMap<String, Vec<u32>> = HashMap::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let bad = |m: String| crate::Error::input(path, Some(i + 1), m);
        #[derive(Deserialize)]
        struct Row {
            user: String,
            items: Vec<String>,
        }
        let row: Row = serde_json::from_str(line)
            .map_err(|e| bad(format!("expected {{\"user\", \"items\": [...]}}: {e}")))?;
        let items = row
            .items
            .iter()
            .map(|it| {
                item_of
                    .get(it.as_str())
                    .copied()
                    .ok_or_else(|| bad(format!("item {it} is not in this dataset")))
            })
            .collect::<crate::Result<Vec<u32>>>()?;
        by_user.insert(row.user, items);
    }
    held.iter()
        .map(|h| {
            by_user.remove(&h.user).ok_or_else(|| {
                crate::Error::input(
                    path,
                    None,
                    format!("no list for user {} (another split or dataset?)", h.user),
                )
            })
        })
        .collect()
}

/// The λ of `grid` whose fused lists have the best mean NDCG@10 against
/// `targets` (the validation split's; ties go to the smaller λ), with the
/// NDCG@10 of every λ tried.
pub fn choose_lambda(
    cands: &[Vec<Candidate>],
    targets: &[u32],
    grid: &[f32],
) -> (f32, Vec<(f32, f64)>) {
    choose_on_validation(grid, targets, |&l| fuse(cands, l, 10))
}

/// The setting of `grid` whose lists have the best mean NDCG@10 against
/// `targets` (a validation split's), ties going to the earlier one, with the
/// NDCG@10 of every setting tried: one rule for every choice made on validation.
pub fn choose_on_validation<T: Copy>(
    grid: &[T],
    targets: &[u32],
    lists_of: impl Fn(&T) -> Vec<Vec<u32>>,
) -> (T, Vec<(T, f64)>) {
    assert!(!grid.is_empty(), "nothing to choose from");
    let sweep: Vec<(T, f64)> = grid
        .iter()
        .map(|g| {
            let v: Vec<f64> = ranks(targets, &lists_of(g))
                .into_iter()
                .map(|r| metrics::ndcg_at(r, 10))
                .collect();
            (*g, metrics::mean(&v))
        })
        .collect();
    let best = sweep
        .iter()
        .skip(1)
        .fold(sweep[0], |b, &(g, n)| if n > b.1 { (g, n) } else { b });
    (best.0, sweep)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paired_difference_by_hand() {
        let protocol = Protocol {
            bootstrap: 4000,
            seed: 5,
            ..Protocol::default()
        };
        let targets = [1, 2, 3, 4];
        // Both hit user 0 at rank 1; only `a` hits user 1 (rank 2); nobody hits users 2 and 3.
        let a = vec![vec![1, 9], vec![9, 2], vec![9], vec![]];
        let b = vec![vec![1, 9], vec![9, 8], vec![9], vec![]];
        let p = paired_difference("b", &targets, &a, &b, &protocol);
        let r = p.difference["recall@10"];
        // Per-user differences 0, 1, 0, 0: mean 1/4; the bootstrap of four
        // users (three 0, one 1) has its 2.5 % and 97.5 % points at 0 and 3/4.
        assert_eq!((r.mean, r.lo, r.hi), (0.25, 0.0, 0.75));
        let n = p.difference["ndcg@10"];
        assert!((n.mean - 0.25 / 3f64.log2()).abs() < 1e-12);
        assert_eq!(p.difference["mrr"].mean, 0.125);
        let same = paired_difference("a", &targets, &a, &a, &protocol);
        assert!(same
            .difference
            .values()
            .all(|e| (e.mean, e.lo, e.hi) == (0.0, 0.0, 0.0)));
    }

    #[test]
    fn generator_and_text_fusion_by_hand() {
        let c = |item, logp, cos| Candidate { item, logp, cos };
        let cands = vec![vec![c(1, -1.0, 0.0), c(2, -1.5, 0.9), c(3, -4.0, 1.0)]];
        assert_eq!(
            fuse(&cands, 0.0, 3),
            vec![vec![1, 2, 3]],
            "λ = 0: the generator's order"
        );
        assert_eq!(
            fuse(&cands, 1.0, 3),
            vec![vec![2, 1, 3]],
            "-1.5 + 0.9 > -1.0"
        );
        assert_eq!(
            fuse(&cands, 10.0, 2),
            vec![vec![2, 3]],
            "-1.5 + 9 > -4 + 10 > -1 + 0"
        );
        assert_eq!(
            fuse(&cands, 30.0, 2),
            vec![vec![3, 2]],
            "-4 + 30 > -1.5 + 27"
        );
        // Target 2: NDCG@10 is 1/log2(3) at λ = 0, 1 at λ = 1 and 10, and
        // 1/log2(3) again at λ = 30; the smaller λ wins the tie.
        let (l, sweep) = choose_lambda(&cands, &[2], &[0.0, 1.0, 10.0, 30.0]);
        assert_eq!(l, 1.0);
        assert!((sweep[0].1 - 1.0 / 3f64.log2()).abs() < 1e-12 && sweep[2].1 == 1.0);
        assert!((sweep[3].1 - 1.0 / 3f64.log2()).abs() < 1e-12);
        let q = TextQuery::RECENT.vector(&[1.0, 0.0, 0.0, 1.0, 0.6, 0.8], 2, &[0, 1]);
        assert_eq!(q, vec![0.5, 1.0], "last item weight 1, the one before 0.5");
        let cs = cosines(&[1.0, 0.0, 0.0, 1.0, 0.6, 0.8], 2, &q, &[0, 1, 2]);
        assert!((cs[1] - 1.0 / 1.25f32.sqrt()).abs() < 1e-6 && cs[2] > cs[1]);
    }

    #[test]
    fn reciprocal_rank_fusion_by_hand() {
        // a: 1 2 3, b: 3 4 → 1: 1/61, 2: 1/62, 3: 1/63 + 1/61, 4: 1/62 (× ½).
        let rrf = RankFusion::RRF;
        let f = rrf.fuse(&[vec![1, 2, 3]], &[vec![3, 4]], 3);
        assert_eq!(
            f,
            vec![vec![3, 1, 2]],
            "3 is in both; 2 and 4 tie, the first list's goes first"
        );
        assert_eq!(rrf.fuse(&[vec![]], &[vec![5]], 3), vec![vec![5]]);
        let (a, b) = (vec![vec![1, 2, 3]], vec![vec![4, 5, 3]]);
        let only = |weight| RankFusion { weight, k: 2.0 }.fuse(&a, &b, 3);
        assert_eq!(only(1.0), a, "w = 1: list a");
        assert_eq!(only(0.0), b, "w = 0: list b");
        // w = ¾, k = 2: 1: .75/3 = .25, 2: .75/4 = .1875, 4: .25/3 ≈ .083,
        // 3: .75/5 + .25/5 = .2 → 1 3 2.
        assert_eq!(
            RankFusion {
                weight: 0.75,
                k: 2.0
            }
            .fuse(&a, &b, 3),
            vec![vec![1, 3, 2]]
        );
        // Validation picks the setting that puts each target first; the
        // generator alone (first in the grid) wins a tie.
        let grid = [
            RankFusion {
                weight: 1.0,
                k: 2.0,
            },
            RankFusion {
                weight: 0.0,
                k: 2.0,
            },
        ];
        let (best, sweep) = choose_on_validation(&grid, &[4], |g| g.fuse(&a, &b, 10));
        assert_eq!(best.weight, 0.0);
        assert_eq!(sweep[1].1, 1.0);
        let (best, _) = choose_on_validation(&grid, &[3], |g| g.fuse(&a, &b, 10));
        assert_eq!(best.weight, 1.0, "target third in both lists: a tie");
    }

    #[test]
    fn the_table_shows_paired_rows() {
        let protocol = Protocol::default();
        let targets = [1, 2];
        let a = vec![vec![1], vec![2]];
        let b = vec![vec![1], vec![3]];
        let mut r = score_lists("a", &targets, &a, &[1.0; 4], &protocol, 1.0);
        r.paired
            .push(paired_difference("b", &targets, &a, &b, &protocol));
        let t = markdown_table(&[r]);
        assert!(t.contains("| a | b | +0.5000 [+0.0000, +1.0000] |"), "{t}");
    }
}
