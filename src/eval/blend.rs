//! Weighted reciprocal-rank fusion (Cormack et al. 2009) of several ranked
//! lists per user, and the five-way blend the verifier's stage can apply:
//! the generator's beams, the last item's text neighbours, the sequence
//! verifier's own top items, the items that followed the last ones in the
//! training sequences (`eval::transitions`) and the user's own items again,
//! latest first (re-consumption, RepeatNet's repeat mode: Ren et al. 2019),
//! each list's weight, the rank offset `k` and the text neighbours'
//! popularity nudge chosen on validation (`eval::blend_choice`). Each source
//! knows something the others do not — the generator the semantic-ID paths,
//! the text neighbours what the items say, the verifier (SASRec, trained on
//! every position against every item) the sequence, the transitions which
//! items are taken one after the other, the history which items people take
//! again — and a rank fusion needs no common score scale. The blend is kept
//! only when its paired gain over the verifier's λ-reranking on the
//! validation users has a lower end above zero.
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

    /// How many lists each user's were pooled from.
    pub fn sources(&self) -> usize {
        self.sources
    }

    /// User `u`'s items, and their ranks (`[item * sources + source]`,
    /// from 1; 0: not in that source).
    pub fn user(&self, u: usize) -> (&[u32], &[u32]) {
        let (items, ranks) = &self.users[u];
        (items, ranks)
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
pub const BLEND_SOURCES: [&str; 5] = ["generator", "text", "verifier", "transitions", "history"];

/// The popularity nudges tried for the text neighbours (`β` of
/// [`super::popularity_bias`]; 0: the cosine alone). On validation users, with the
/// other three sources: +0.0055 [+0.0029, +0.0082] NDCG@10 at β = 0.04 on a
/// sparse Beauty sample (4 items a user), nothing on Beauty itself — so β
/// is chosen with the weights, 0 first.
pub const TEXT_NUDGES: [f64; 4] = [0.0, 0.02, 0.04, 0.08];

/// Weights of the generator's beams, the text neighbours, the verifier's
/// own top items, the transitions and the history, the rank offset, for
/// [`reciprocal_rank_fusion`], and the text neighbours' popularity nudge.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Blend {
    /// Generator, text, verifier, transitions, history; they sum to 1. A
    /// blend chosen before the transitions (three weights) or the history
    /// (four) reads with 0 for those.
    #[serde(deserialize_with = "three_to_five")]
    pub weights: [f64; 5],
    pub k: f64,
    /// The text neighbours ranked by `cos + text_nudge · ln(1 + count)`
    /// (0, and for cards written before the nudge: the cosine alone).
    #[serde(default)]
    pub text_nudge: f64,
    /// Every source with the user's own items left out (and so no history
    /// source): where nobody takes an item again, the slots they held go to
    /// items the user may take (cards written before: false).
    #[serde(default)]
    pub unseen_only: bool,
}

fn three_to_five<'de, D: serde::Deserializer<'de>>(d: D) -> Result<[f64; 5], D::Error> {
    let w = Vec::<f64>::deserialize(d)?;
    if !(3..=5).contains(&w.len()) {
        return Err(serde::de::Error::custom(format!(
            "a blend has 3 to 5 weights, not {}",
            w.len()
        )));
    }
    let mut five = [0.0; 5];
    five[..w.len()].copy_from_slice(&w);
    Ok(five)
}

impl Blend {
    /// The settings tried on validation: the generator alone first, then
    /// every weight quadruple of the first four sources on a 0.1 grid of
    /// the simplex at k = 2, 10 and 60, for each of [`TEXT_NUDGES`] (a
    /// nudge only where the text has a weight), then the same with the
    /// history weighted too, then the four-way settings again over the
    /// sources with the user's own items left out ([`Blend::unseen_only`]).
    /// Those without the history come first (ties keep the four-way
    /// setting); where no validation target is in its user's history
    /// `BlendChoice::choose` skips the history's.
    pub fn grid() -> Vec<Blend> {
        let mut g = vec![Blend {
            weights: [1.0, 0.0, 0.0, 0.0, 0.0],
            k: 60.0,
            text_nudge: 0.0,
            unseen_only: false,
        }];
        let tenth = |n: u32| f64::from(n) / 10.0;
        for (history, unseen_only) in [(false, false), (true, false), (false, true)] {
            for text_nudge in TEXT_NUDGES {
                for k in [2.0, 10.0, 60.0] {
                    for w in simplex_tenths() {
                        if (w[4] > 0) != history || (w[1] == 0 && text_nudge > 0.0) {
                            continue;
                        }
                        g.push(Blend {
                            weights: w.map(tenth),
                            k,
                            text_nudge,
                            unseen_only,
                        });
                    }
                }
            }
        }
        g
    }

    /// Where its text nudge stands in [`TEXT_NUDGES`] (the text lists of
    /// `BlendLists` come one per nudge, in that order).
    pub fn nudge_index(&self) -> usize {
        TEXT_NUDGES
            .iter()
            .position(|&n| n == self.text_nudge)
            .expect("a nudge of the grid")
    }

    /// Each user's blended list from the five sources' lists (in the order
    /// of [`BLEND_SOURCES`]), best `top`, with the fused scores.
    pub fn fuse(&self, sources: [&UserLists; 5], top: usize) -> Vec<Vec<(u32, f64)>> {
        reciprocal_rank_fusion(&sources, &self.weights, self.k, top)
    }

    /// The weights as "generator 0.3, text 0.4, …" (sources of weight 0
    /// left out), with the text's popularity nudge when it has one, and
    /// whether the user's own items are left out.
    pub fn describe(&self) -> String {
        let parts: Vec<String> = BLEND_SOURCES
            .iter()
            .zip(self.weights)
            .filter(|&(_, w)| w > 0.0)
            .map(|(s, w)| match s {
                &"text" if self.text_nudge > 0.0 => {
                    format!("{s} {w} (cos + {}·ln(1 + count))", self.text_nudge)
                }
                _ => format!("{s} {w}"),
            })
            .collect();
        format!(
            "{}, k = {}{}",
            parts.join(", "),
            self.k,
            if self.unseen_only {
                ", the user's own items left out"
            } else {
                ""
            }
        )
    }
}

/// One ranked list per user.
pub type UserLists = [Vec<u32>];

/// Every five tenths summing to ten, in lexicographic order.
fn simplex_tenths() -> impl Iterator<Item = [u32; 5]> {
    (0..=10u32).flat_map(|a| {
        (0..=10 - a).flat_map(move |b| {
            (0..=10 - a - b).flat_map(move |c| {
                (0..=10 - a - b - c).map(move |d| [a, b, c, d, 10 - a - b - c - d])
            })
        })
    })
}

/// The history source: each history's distinct items, latest first, best
/// `k`, leaving out what `keep(user, item)` refuses (with `--exclude-seen`
/// that is all of them).
pub fn latest_first(
    histories: &[&[u32]],
    k: usize,
    keep: &dyn Fn(usize, u32) -> bool,
) -> Vec<Vec<u32>> {
    let mut lists = Vec::with_capacity(histories.len());
    for (u, h) in histories.iter().enumerate() {
        let mut out: Vec<u32> = Vec::with_capacity(k.min(h.len()));
        for &it in h.iter().rev().filter(|&&it| keep(u, it)) {
            if out.len() == k {
                break;
            }
            if !out.contains(&it) {
                out.push(it);
            }
        }
        lists.push(out);
    }
    lists
}

/// Each user's first `k` items of `lists` that `keep(user, item)` allows
/// (the generator's beams as a blend source).
pub fn first_kept(
    lists: &[Vec<u32>],
    k: usize,
    keep: &dyn Fn(usize, u32) -> bool,
) -> Vec<Vec<u32>> {
    lists
        .iter()
        .enumerate()
        .map(|(u, l)| l.iter().copied().filter(|&i| keep(u, i)).take(k).collect())
        .collect()
}

/// What the blend's sources may return under [`Blend::unseen_only`]:
/// what `keep(user, item)` allows and, when `unseen_only`, none of the
/// user's own items (those of `histories`); with how many more items each
/// source fetches to make up for them (the longest history; 0 without).
pub fn own_items_rule<'a>(
    histories: &'a [&'a [u32]],
    unseen_only: bool,
    keep: &'a dyn Fn(usize, u32) -> bool,
) -> (usize, impl Fn(usize, u32) -> bool + 'a) {
    let extra = match unseen_only {
        true => histories.iter().map(|h| h.len()).max().unwrap_or(0),
        false => 0,
    };
    let rule = move |u: usize, i: u32| keep(u, i) && !(unseen_only && histories[u].contains(&i));
    (extra, rule)
}

/// The generator's beams the blend reads per user (more when λ reranks more).
pub const BLEND_BEAMS: usize = 20;
/// Items every other source gives the blend per user by default
/// (`verify.blend_depth`; 50 was no better on validation: benches/RESULTS.md,
/// "A deeper pool for the blend").
pub const BLEND_DEPTH: usize = 20;

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
        assert_eq!(g[0].weights, [1.0, 0.0, 0.0, 0.0, 0.0]);
        // Without the history: quadruples of tenths summing to 1, C(13, 3)
        // = 286 per k, of which the C(12, 2) = 66 without text are not
        // tried again nudged. With it: C(14, 4) − 286 = 715 quintuples, of
        // which 286 − 66 = 220 without text.
        // Then the four-way settings again, the user's own items left out.
        let four = 1 + 3 * 286 + (TEXT_NUDGES.len() - 1) * 3 * (286 - 66);
        let five = 3 * 715 + (TEXT_NUDGES.len() - 1) * 3 * (715 - 220);
        assert_eq!(g.len(), four + five + four - 1);
        // The four-way settings first, as before the history.
        assert!(g[..four].iter().all(|b| b.weights[4] == 0.0));
        assert!(g[four..four + five].iter().all(|b| b.weights[4] > 0.0));
        assert!(g[..four + five].iter().all(|b| !b.unseen_only));
        assert!(g[four + five..]
            .iter()
            .all(|b| b.unseen_only && b.weights[4] == 0.0));
        assert!(g.iter().all(|b| b.text_nudge == 0.0 || b.weights[1] > 0.0));
        assert!(g
            .iter()
            .all(|b| (b.weights.iter().sum::<f64>() - 1.0).abs() < 1e-9));
        for one in 0..5 {
            let mut w = [0.0; 5];
            w[one] = 1.0;
            assert!(g.iter().any(|b| b.weights == w), "{w:?}");
        }
        let distinct: std::collections::HashSet<String> =
            g[1..].iter().map(|b| format!("{b:?}")).collect();
        assert_eq!(distinct.len(), g.len() - 1);
    }

    #[test]
    fn a_card_of_three_or_four_weights_reads_with_no_transitions_or_history() {
        let old: Blend =
            serde_json::from_str(r#"{"weights": [0.3, 0.3, 0.4], "k": 10.0}"#).unwrap();
        assert_eq!(old.weights, [0.3, 0.3, 0.4, 0.0, 0.0]);
        assert_eq!(old.text_nudge, 0.0);
        assert!(!old.unseen_only);
        let four: Blend =
            serde_json::from_str(r#"{"weights": [0.3, 0.3, 0.2, 0.2], "k": 10.0}"#).unwrap();
        assert_eq!(four.weights, [0.3, 0.3, 0.2, 0.2, 0.0]);
        for bad in ["[1.0]", "[0.1, 0.1, 0.2, 0.2, 0.2, 0.2]"] {
            let e = serde_json::from_str::<Blend>(&format!(r#"{{"weights": {bad}, "k": 10.0}}"#));
            assert!(
                e.unwrap_err().to_string().contains("3 to 5 weights"),
                "{bad}"
            );
        }
    }

    #[test]
    fn the_history_source_is_the_distinct_items_latest_first() {
        let h: [&[u32]; 3] = [&[1, 2, 3, 2, 4], &[], &[5, 5]];
        let all = latest_first(&h, 10, &|_, _| true);
        assert_eq!(all, [vec![4, 2, 3, 1], vec![], vec![5]]);
        assert_eq!(latest_first(&h, 2, &|_, _| true)[0], [4, 2]);
        // What the request refuses is left out, and the list goes deeper.
        let no_two = latest_first(&h, 2, &|u, i| !(u == 0 && i == 2));
        assert_eq!(no_two[0], [4, 3]);
    }

    #[test]
    fn the_own_items_rule_leaves_out_the_users_items_only_when_asked() {
        let h: [&[u32]; 2] = [&[1, 2, 1], &[3]];
        let lists = [vec![1, 4, 2, 5, 6], vec![1, 3, 7]];
        let not_five = |_: usize, i: u32| i != 5;
        let (extra, keep) = own_items_rule(&h, true, &not_five);
        assert_eq!(extra, 3);
        assert_eq!(first_kept(&lists, 2, &keep), [vec![4, 6], vec![1, 7]]);
        let (extra, keep) = own_items_rule(&h, false, &not_five);
        assert_eq!(extra, 0);
        assert_eq!(first_kept(&lists, 2, &keep), [vec![1, 4], vec![1, 3]]);
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
}
