//! The most-popular baseline and what it and the other rankings need: item
//! popularity in a set of sequences (the training split, or everything
//! known before a split's targets), and each held-out user's earlier items.
use super::Protocol;
use crate::data::dataset::TrainSequence;
use crate::data::HeldOut;
use std::collections::HashSet;

/// Interactions per item in `sequences` (the training split for the bias
/// metric; what [`crate::data::Dataset::known`] gives for the rankings that count).
pub fn popularity(sequences: &[TrainSequence], n_items: usize) -> Vec<f64> {
    let mut c = vec![0f64; n_items];
    for t in sequences {
        for &i in &t.items {
            c[i as usize] += 1.0;
        }
    }
    c
}

/// Items each held-out user interacted with before the target (all of them,
/// not only the truncated input history), from what is known before the
/// split's targets ([`crate::data::Dataset::known`]).
pub fn seen_before(known: &[TrainSequence]) -> Vec<HashSet<u32>> {
    known
        .iter()
        .map(|s| s.items.iter().copied().collect())
        .collect()
}

/// Most-popular baseline: the same list for everyone (minus seen items when excluded).
pub fn most_popular(
    popularity: &[f64],
    held: &[HeldOut],
    seen: &[HashSet<u32>],
    protocol: &Protocol,
    k: usize,
) -> Vec<Vec<u32>> {
    let mut order: Vec<u32> = (0..popularity.len() as u32).collect();
    order.sort_by(|&a, &b| {
        popularity[b as usize]
            .total_cmp(&popularity[a as usize])
            .then(a.cmp(&b))
    });
    held.iter()
        .zip(seen)
        .map(|(_, s)| {
            order
                .iter()
                .copied()
                .filter(|&i| protocol.allows(s, i))
                .take(k)
                .collect()
        })
        .collect()
}
