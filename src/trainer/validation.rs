//! Validation during training: Recall@10 / NDCG@10 of the generator's
//! constrained beam search over a fixed, seeded sample of held-out users.
use crate::data::HeldOut;
use crate::decode::generator::{Generator, Query};
use crate::eval::metrics;
use std::collections::BTreeMap;

/// Validation (or test) Recall@10 / NDCG@10 of a generator over held-out users.
pub fn validate(gen: &Generator, held: &[HeldOut], batch_size: usize) -> BTreeMap<String, f64> {
    per_user(gen, held, batch_size)
        .into_iter()
        .map(|(k, v)| (k, metrics::mean(&v)))
        .collect()
}

/// [`validate`]'s sums instead of means, with the number of users: the
/// parts a data-parallel job's ranks add up.
pub fn validate_sums(
    gen: &Generator,
    held: &[HeldOut],
    batch_size: usize,
) -> (usize, BTreeMap<String, f64>) {
    let sums = per_user(gen, held, batch_size)
        .into_iter()
        .map(|(k, v)| (k, v.iter().sum()))
        .collect();
    (held.len(), sums)
}

/// Each user's Recall@10 and NDCG@10, by metric.
fn per_user(gen: &Generator, held: &[HeldOut], batch_size: usize) -> BTreeMap<String, Vec<f64>> {
    let mut r10 = Vec::with_capacity(held.len());
    let mut n10 = Vec::with_capacity(held.len());
    for chunk in held.chunks(batch_size.max(1)) {
        let qs: Vec<Query> = chunk.iter().map(Query::from).collect();
        let hits = gen.generate(&qs, 10);
        for (h, hs) in chunk.iter().zip(hits) {
            let items: Vec<u32> = hs.iter().map(|x| x.item).collect();
            let r = metrics::rank_of(h.target, &items);
            r10.push(metrics::recall_at(r, 10));
            n10.push(metrics::ndcg_at(r, 10));
        }
    }
    BTreeMap::from([("recall@10".to_string(), r10), ("ndcg@10".to_string(), n10)])
}

/// A fixed, seeded sample of at most `max` held-out users (all when 0).
pub fn sample_users(held: &[HeldOut], max: usize, seed: u64) -> Vec<HeldOut> {
    crate::eval::sample_indices(held.len(), max, seed)
        .into_iter()
        .map(|i| held[i].clone())
        .collect()
}
