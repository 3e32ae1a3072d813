//! Ranking metrics for leave-one-out evaluation (one held-out target per
//! user), as pure functions over slices, plus percentile-bootstrap intervals.
use rand::{Rng, SeedableRng};

/// 1-based rank of `target` in `ranked`, if present.
pub fn rank_of(target: u32, ranked: &[u32]) -> Option<usize> {
    ranked.iter().position(|&i| i == target).map(|p| p + 1)
}

/// Recall@K with a single relevant item (= hit rate).
pub fn recall_at(rank: Option<usize>, k: usize) -> f64 {
    match rank {
        Some(r) if r <= k => 1.0,
        _ => 0.0,
    }
}

/// NDCG@K with a single relevant item: 1 / log2(rank + 1) (IDCG = 1).
pub fn ndcg_at(rank: Option<usize>, k: usize) -> f64 {
    match rank {
        Some(r) if r <= k => 1.0 / ((r + 1) as f64).log2(),
        _ => 0.0,
    }
}

/// Reciprocal rank (0 when the target is not in the list).
pub fn reciprocal_rank(rank: Option<usize>) -> f64 {
    rank.map_or(0.0, |r| 1.0 / r as f64)
}

/// Fraction of the catalogue that appears in at least one top-K list.
pub fn coverage(lists: &[Vec<u32>], k: usize, n_items: usize) -> f64 {
    let mut seen = vec![false; n_items];
    for l in lists {
        for &i in l.iter().take(k) {
            if let Some(s) = seen.get_mut(i as usize) {
                *s = true;
            }
        }
    }
    seen.iter().filter(|&&s| s).count() as f64 / n_items.max(1) as f64
}

/// Average popularity (training interactions) of recommended items, per list,
/// divided by the catalogue's mean popularity: 1 = unbiased, > 1 = favours
/// popular items.
pub fn popularity_bias(lists: &[Vec<u32>], k: usize, popularity: &[f64]) -> f64 {
    let mean_pop = popularity.iter().sum::<f64>() / popularity.len().max(1) as f64;
    let per_list: Vec<f64> = lists
        .iter()
        .filter(|l| !l.is_empty())
        .map(|l| {
            let top = &l[..l.len().min(k)];
            top.iter().map(|&i| popularity[i as usize]).sum::<f64>() / top.len() as f64
        })
        .collect();
    if per_list.is_empty() || mean_pop == 0.0 {
        return 0.0;
    }
    per_list.iter().sum::<f64>() / per_list.len() as f64 / mean_pop
}

pub fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Percentile bootstrap 95 % interval of the mean: `n_boot` resamples of the
/// per-user values with replacement, seeded.
pub fn bootstrap_ci(values: &[f64], n_boot: usize, seed: u64) -> (f64, f64) {
    if values.is_empty() || n_boot == 0 {
        return (0.0, 0.0);
    }
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let n = values.len();
    let mut means: Vec<f64> = (0..n_boot)
        .map(|_| (0..n).map(|_| values[rng.gen_range(0..n)]).sum::<f64>() / n as f64)
        .collect();
    means.sort_by(f64::total_cmp);
    let at = |q: f64| means[((q * (n_boot - 1) as f64).round() as usize).min(n_boot - 1)];
    (at(0.025), at(0.975))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hand_computed_cases() {
        let ranked = [7, 3, 9, 1];
        assert_eq!(rank_of(3, &ranked), Some(2));
        assert_eq!(rank_of(4, &ranked), None);
        // A hit at rank 2 gives NDCG 1/log2(3).
        assert!((ndcg_at(Some(2), 10) - 1.0 / 3f64.log2()).abs() < 1e-12);
        assert!((ndcg_at(Some(2), 10) - 0.630_929_753_571_457_4).abs() < 1e-12);
        assert_eq!(ndcg_at(Some(1), 5), 1.0);
        assert_eq!(ndcg_at(Some(6), 5), 0.0);
        assert_eq!(recall_at(Some(5), 5), 1.0);
        assert_eq!(recall_at(Some(6), 5), 0.0);
        assert_eq!(recall_at(None, 10), 0.0);
        assert_eq!(reciprocal_rank(Some(4)), 0.25);
        assert_eq!(reciprocal_rank(None), 0.0);
    }

    #[test]
    fn coverage_and_popularity() {
        let lists = vec![vec![0, 1], vec![1, 2]];
        assert_eq!(coverage(&lists, 2, 4), 0.75);
        assert_eq!(coverage(&lists, 1, 4), 0.5);
        let pop = [4.0, 2.0, 0.0, 2.0]; // mean 2
                                        // list means: (4+2)/2 = 3, (2+0)/2 = 1 → 2 / 2 = 1
        assert_eq!(popularity_bias(&lists, 2, &pop), 1.0);
        assert_eq!(popularity_bias(&[vec![0]], 1, &pop), 2.0);
    }

    #[test]
    fn bootstrap_of_two_users_by_hand() {
        // Two users with values 0 and 1: a resample of two draws has mean 0
        // (1/4), 0.5 (1/2) or 1 (1/4), so the 2.5 % and 97.5 % points of
        // many resamples are 0 and 1.
        assert_eq!(bootstrap_ci(&[0.0, 1.0], 4000, 5), (0.0, 1.0));
        // Three users 0, 0, 1: P(mean = 0) = 8/27 > 2.5 %, P(mean = 1) = 1/27 > 2.5 %.
        assert_eq!(bootstrap_ci(&[0.0, 0.0, 1.0], 4000, 5), (0.0, 1.0));
        // Four users 0, 0, 0, 1: P(mean ≥ 0.75) = 13/256 > 2.5 % but P(mean = 1) = 1/256 < 2.5 %.
        assert_eq!(bootstrap_ci(&[0.0, 0.0, 0.0, 1.0], 4000, 5), (0.0, 0.75));
    }

    #[test]
    fn bootstrap_brackets_the_mean_and_is_seeded() {
        let v: Vec<f64> = (0..500)
            .map(|i| if i % 10 == 0 { 1.0 } else { 0.0 })
            .collect();
        let (lo, hi) = bootstrap_ci(&v, 1000, 1);
        assert!(lo < 0.1 && 0.1 < hi && lo > 0.06 && hi < 0.14, "{lo} {hi}");
        assert_eq!(bootstrap_ci(&v, 1000, 1), (lo, hi));
        assert_eq!(bootstrap_ci(&[0.5; 10], 100, 3), (0.5, 0.5));
    }
}
