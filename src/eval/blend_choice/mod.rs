//! Choosing the five-way blend (`eval::blend`) on validation users: every
//! setting of `Blend::grid` (weights, rank offset, the text neighbours'
//! popularity nudge) fused from lists pooled once per nudge, the best mean
//! NDCG@10 kept — the user's own items left out, the history and the nudge
//! only where they beat the best setting without them with a paired
//! interval above zero — and used only
//! when its paired gain over the verifier's λ-reranking has a lower end
//! above zero (Cormack et al. 2009's fusion, chosen as Hou et al. 2022
//! choose their text-ID mix: on held-out users).
use super::blend::{Blend, Pooled, UserLists, TEXT_NUDGES};
use super::rescore::Rescorer;
use super::{metrics, Estimate, Protocol, TextNeighbours};
use crate::data::HeldOut;
use crate::progress::Progress;
use serde::{Deserialize, Serialize};

/// Each user's lists from the blend's sources, for choosing it: the
/// text neighbours' once per nudge of [`TEXT_NUDGES`], in its order.
#[derive(Clone, Copy)]
pub struct BlendLists<'a> {
    pub beams: &'a UserLists,
    pub texts: &'a [&'a UserLists],
    pub own: &'a UserLists,
    pub next: &'a UserLists,
    /// The user's own items, latest first (`eval::blend::latest_first`).
    pub history: &'a UserLists,
}

/// The blend chosen on validation, stored in the verifier's card
/// (`extra.blend`) and applied by `recommend --rerank` and `evaluate
/// --rerank` when `used`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct BlendChoice {
    pub blend: Blend,
    /// Items each source besides the generator gave (each list's depth).
    pub depth: usize,
    /// The generator's beams the blend read; absent in cards written
    /// when every source gave `depth` (read as `depth`).
    #[serde(default)]
    pub beams: Option<usize>,
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
    /// When the best setting nudged the text toward popular items: its
    /// nudge and its NDCG@10 gain over the best setting by cosine alone
    /// (paired-bootstrap 95 % interval); the nudge is kept only when the
    /// interval's lower end is above zero.
    #[serde(default)]
    pub nudge_gain: Option<(f64, Estimate)>,
    /// When the best setting left the user's own items out of every
    /// source: its NDCG@10 gain over the best setting that keeps them
    /// (paired-bootstrap 95 % interval); they are left out only when the
    /// lower end is above zero.
    #[serde(default)]
    pub unseen_gain: Option<Estimate>,
    /// When the best setting weighted the user's own items: its NDCG@10
    /// gain over the best setting without them (paired-bootstrap 95 %
    /// interval); the history is kept only when the lower end is above zero.
    #[serde(default)]
    pub history_gain: Option<Estimate>,
    /// The ten best settings tried, with their validation NDCG@10.
    pub best_settings: Vec<(Blend, f64)>,
    /// The learned rescoring of the chosen setting's pool, when it beat
    /// the setting's fusion on validation users it was not fitted on
    /// (`eval::rescore`); the blend's lists are then its ranking.
    #[serde(default)]
    pub rescorer: Option<Rescorer>,
    /// The rescoring (fitted on one half, measured on the other, both
    /// ways) against the chosen setting's fusion, NDCG@10, paired-bootstrap
    /// 95 % interval; absent where it was not tried.
    #[serde(default)]
    pub rescore_gain: Option<Estimate>,
    /// The rescoring over the pool with the last item's nearest by words as
    /// a sixth list against the rescoring without (each fitted on one half,
    /// measured on the other, both ways), NDCG@10, paired-bootstrap 95 %
    /// interval; the list is read where the lower end is above zero (the
    /// rescorer then has `eval::rescore::RESCORE_FEATURES_WITH_WORDS`
    /// weights). Absent where it was not tried (no rescoring kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub words_list_gain: Option<Estimate>,
    /// Whether the text neighbours read the embeddings adapted to the
    /// training sequences (`eval::adapter`), and why; absent in cards
    /// written before the adapter (the text as it reads).
    #[serde(default)]
    pub text_adapter: Option<super::adapter::AdapterChoice>,
}

/// The longest list of any user in these sources.
fn deepest<'a>(sources: impl Iterator<Item = &'a UserLists>) -> usize {
    sources
        .flat_map(|s| s.iter())
        .map(Vec::len)
        .max()
        .unwrap_or(0)
}

impl BlendChoice {
    /// The generator's beams the blend reads per user.
    pub fn beam_depth(&self) -> usize {
        self.beams.unwrap_or(self.depth)
    }

    /// The key of the choice in a verifier card's `extra` record.
    pub const KEY: &'static str = "blend";

    /// The choice stored in a card's `extra` record, if any.
    pub fn from_extra(extra: &serde_json::Value) -> Option<BlendChoice> {
        serde_json::from_value(extra.get(Self::KEY)?.clone()).ok()
    }

    /// Chooses on `held` (validation users) given each user's lists from
    /// the five sources (the text's: one per nudge of [`TEXT_NUDGES`], in
    /// its order) — `lists[0]` as they come, `lists[1]` with the user's own
    /// items left out (its history lists empty) — and the verifier's
    /// λ-reranked lists: every setting of [`Blend::grid`], best mean
    /// NDCG@10 (the own items left out, the history and the nudge only
    /// where they beat the best setting without them with a paired
    /// interval above zero), used only when its paired gain over the
    /// reranked lists has a lower end above zero. The sweep shows on
    /// `progress`, a setting a step.
    pub fn choose(
        held: &[HeldOut],
        lists: [&BlendLists; 2],
        reranked: &[Vec<u32>],
        embeddings_sha256: &str,
        progress: &dyn Progress,
    ) -> BlendChoice {
        for l in lists {
            assert_eq!(l.texts.len(), TEXT_NUDGES.len(), "a text list per nudge");
        }
        let targets: Vec<u32> = held.iter().map(|h| h.target).collect();
        // A history that holds no user's target can only push targets down:
        // where nobody takes an item again its settings are not fused at
        // all (the sweep is then the four-way grids, 46 % of the whole).
        let repeats = held
            .iter()
            .zip(lists[0].history)
            .any(|(h, l)| l.contains(&h.target));
        let grid: Vec<Blend> = Blend::grid()
            .into_iter()
            .filter(|b| repeats || b.weights[4] == 0.0)
            .collect();
        // Pooled once per nudge, with the own items and without.
        let pooled: Vec<Vec<Pooled>> = lists
            .iter()
            .map(|l| {
                l.texts
                    .iter()
                    .map(|text| Pooled::new(&[l.beams, text, l.own, l.next, l.history]))
                    .collect()
            })
            .collect();
        let lists_of = |b: &Blend| -> Vec<Vec<u32>> {
            pooled[usize::from(b.unseen_only)][b.nudge_index()]
                .fuse(&b.weights, b.k, 10)
                .into_iter()
                .map(|l| l.into_iter().map(|(i, _)| i).collect())
                .collect()
        };
        progress.start(grid.len() as u64, "choosing the blend (settings)");
        let (best, sweep) = super::choose_on_validation(&grid, &targets, |b| {
            let l = lists_of(b);
            progress.inc(1);
            l
        });
        progress.finish();
        let ndcg_gain = |a: &[Vec<u32>], b: &[Vec<u32>]| {
            super::paired_difference("", &targets, a, b, &Protocol::default()).difference["ndcg@10"]
        };
        let best_where = |keep: &dyn Fn(&Blend) -> bool| {
            sweep
                .iter()
                .filter(|s| keep(&s.0))
                .copied()
                .reduce(|b, s| if s.1 > b.1 { s } else { b })
                .expect("the grid holds settings of each kind")
        };
        let mut chosen = *sweep
            .iter()
            .find(|s| s.0 == best)
            .expect("the best was tried");
        // Keeps `chosen` only where it beats `without` (the best setting
        // without what it adds) with an interval above zero; the gain.
        let gate = |chosen: &mut (Blend, f64), without: (Blend, f64)| {
            let g = ndcg_gain(&lists_of(&chosen.0), &lists_of(&without.0));
            if g.lo <= 0.0 {
                *chosen = without;
            }
            g
        };
        // The own items left out: against the best setting that keeps them
        // (on Yelp-shaped Beauty users, whole histories of 9 items and no
        // item taken twice, +0.0047 [+0.0028, +0.0065] NDCG@10 cross-fitted
        // on validation; on the short sample, 2 items, +0.0001).
        let unseen_gain = chosen
            .0
            .unseen_only
            .then(|| gate(&mut chosen, best_where(&|b| !b.unseen_only)));
        // The history: without the gate a setting weighting it could win
        // by chance as a finer grid of the other four weights.
        let history_gain = (chosen.0.weights[4] > 0.0).then(|| {
            gate(
                &mut chosen,
                best_where(&|b| b.weights[4] == 0.0 && !b.unseen_only),
            )
        });
        // The nudge, against the best setting by cosine alone (with the
        // history weighted or not, as chosen): on a sample of Amazon 2023
        // reviews a nudge chosen by its mean (+0.0014 [−0.0008, +0.0038] on
        // validation) lost 0.0032 NDCG@10 on the test users.
        let (with_history, unseen_only) = (chosen.0.weights[4] > 0.0, chosen.0.unseen_only);
        let nudge_gain = (chosen.0.text_nudge > 0.0).then(|| {
            let nudge = chosen.0.text_nudge;
            let plain = best_where(&|b| {
                b.text_nudge == 0.0
                    && (b.weights[4] > 0.0) == with_history
                    && b.unseen_only == unseen_only
            });
            (nudge, gate(&mut chosen, plain))
        });
        let (chosen, valid_ndcg) = chosen;
        let gain = ndcg_gain(&lists_of(&chosen), reranked);
        // Sorted best first (stable: ties keep the grid's order, as the choice does).
        let mut best_settings = sweep;
        best_settings.sort_by(|a, b| b.1.total_cmp(&a.1));
        best_settings.truncate(10);
        BlendChoice {
            blend: chosen,
            depth: deepest(lists.iter().flat_map(|l| {
                [l.own, l.next, l.history]
                    .into_iter()
                    .chain(l.texts.iter().copied())
            })),
            beams: Some(deepest(lists.iter().map(|l| l.beams))),
            embeddings_sha256: embeddings_sha256.to_owned(),
            valid_users: held.len(),
            valid_ndcg,
            // The paired difference's mean is the difference of the means.
            rerank_ndcg: valid_ndcg - gain.mean,
            valid_gain: gain,
            used: gain.lo > 0.0,
            nudge_gain,
            unseen_gain,
            history_gain,
            best_settings,
            rescorer: None,
            rescore_gain: None,
            words_list_gain: None,
            text_adapter: None,
        }
    }

    /// Each user's top 10 from the best setting of the chosen one's kind
    /// (its rule for the user's own items, its nudge, with or without the
    /// history) by NDCG@10 over the other half of `halves`: the fusion
    /// measured on users it was not chosen on, as the rescoring is
    /// (`eval::rescore::choose_rescorer`). `pooled`: the lists of that kind.
    pub fn cross_fitted(
        &self,
        pooled: &Pooled,
        targets: &[u32],
        halves: &[Vec<usize>; 2],
    ) -> Vec<Vec<u32>> {
        let c = self.blend;
        let kind = |b: &Blend| {
            b.unseen_only == c.unseen_only
                && b.text_nudge == c.text_nudge
                && (b.weights[4] > 0.0) == (c.weights[4] > 0.0)
        };
        let mut half_of = vec![0usize; targets.len()];
        for &u in &halves[1] {
            half_of[u] = 1;
        }
        let mut best = [(f64::NEG_INFINITY, c); 2];
        for b in Blend::grid().into_iter().filter(kind) {
            let mut sum = [0.0; 2];
            for (u, l) in pooled.fuse(&b.weights, b.k, 10).iter().enumerate() {
                let items: Vec<u32> = l.iter().map(|x| x.0).collect();
                sum[half_of[u]] += metrics::ndcg_at(metrics::rank_of(targets[u], &items), 10);
            }
            for (h, s) in sum.into_iter().enumerate() {
                if s > best[h].0 {
                    best[h] = (s, b);
                }
            }
        }
        // The users of each half, ranked by the setting chosen on the other.
        let lists = [1, 0].map(|h| pooled.fuse(&best[h].1.weights, best[h].1.k, 10));
        (0..targets.len())
            .map(|u| lists[half_of[u]][u].iter().map(|x| x.0).collect())
            .collect()
    }

    /// Refuses text neighbours built from other embeddings than the ones
    /// this blend was chosen with.
    pub fn check_neighbours(&self, nn: &TextNeighbours) -> crate::Result<()> {
        nn.check_sha(&self.embeddings_sha256, "the verifier's blend")
    }

    pub fn describe(&self) -> String {
        let g = &self.valid_gain;
        let adapter = self
            .text_adapter
            .as_ref()
            .map_or(String::new(), |a| a.describe());
        format!(
            "blend of the generator's beams, the text neighbours, the verifier's own top {}, the transitions and the user's own items on {} validation users: NDCG@10 {:.4} ({}) against the λ-reranking's {:.4}, paired difference {:+.4} [{:+.4}, {:+.4}] → {}",
            self.depth,
            self.valid_users,
            self.valid_ndcg,
            self.blend.describe(),
            self.rerank_ndcg,
            g.mean,
            g.lo,
            g.hi,
            if self.used { "blended" } else { "the λ-reranking" }
        ) + &self.unseen_gain.map_or(String::new(), |g| {
            format!(
                "; the user's own items left out against kept: {:+.4} [{:+.4}, {:+.4}] → {}",
                g.mean,
                g.lo,
                g.hi,
                if g.lo > 0.0 { "left out" } else { "kept" }
            )
        }) + &self.history_gain.map_or(String::new(), |g| {
            format!(
                "; the user's own items again against none: {:+.4} [{:+.4}, {:+.4}] → {}",
                g.mean,
                g.lo,
                g.hi,
                if g.lo > 0.0 { "weighted" } else { "left out" }
            )
        }) + &self.nudge_gain.map_or(String::new(), |(beta, g)| {
            format!(
                "; the text nudged by popularity (β = {beta}) against the cosine alone: {:+.4} [{:+.4}, {:+.4}] → {}",
                g.mean,
                g.lo,
                g.hi,
                if g.lo > 0.0 { "nudged" } else { "the cosine" }
            )
        }) + &self.rescore_gain.map_or(String::new(), |g| {
            format!(
                "; rescored by ranks, popularity, text cosines, transition counts and shared words (fitted on half the users, measured on the other) against the weights: {:+.4} [{:+.4}, {:+.4}] → {}",
                g.mean,
                g.lo,
                g.hi,
                if self.rescorer.is_some() { "rescored" } else { "the weights" }
            )
        }) + &self.words_list_gain.map_or(String::new(), |g| {
            format!(
                "; the last item's nearest by words as a sixth list of the pool against without: {:+.4} [{:+.4}, {:+.4}] → {}",
                g.mean,
                g.lo,
                g.hi,
                if self.rescorer.as_ref().is_some_and(Rescorer::reads_words_list) {
                    "with them"
                } else {
                    "without"
                }
            )
        }) + &adapter
    }
}

#[cfg(test)]
mod tests;
