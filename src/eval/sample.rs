//! Fixed, seeded samples of held-out users: the same users for every method
//! compared on them (validation during training, `evaluate --max-users`).
use rand::seq::SliceRandom;
use rand::SeedableRng;

/// Indices of a fixed, seeded sample of at most `max` of `n` users, in
/// ascending order (all when `max` is 0 or at least `n`).
pub fn sample_indices(n: usize, max: usize, seed: u64) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    if max == 0 || max >= n {
        return idx;
    }
    idx.shuffle(&mut rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed));
    let mut keep: Vec<usize> = idx[..max].to_vec();
    keep.sort_unstable();
    keep
}

#[cfg(test)]
mod tests {
    use super::sample_indices;
    #[test]
    fn a_sample_is_fixed_sorted_distinct_and_all_when_small() {
        assert_eq!(sample_indices(5, 0, 1), vec![0, 1, 2, 3, 4]);
        assert_eq!(sample_indices(5, 9, 1), vec![0, 1, 2, 3, 4]);
        let a = sample_indices(1000, 30, 7);
        assert_eq!(a, sample_indices(1000, 30, 7));
        assert_ne!(a, sample_indices(1000, 30, 8));
        assert_eq!(a.len(), 30);
        assert!(a.windows(2).all(|w| w[0] < w[1]));
    }
}
