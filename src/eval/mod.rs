//! Leave-one-out evaluation over the full catalogue (one held-out item per
//! user; Recall@K = hit rate, NDCG@K), with MRR, catalogue coverage and the
//! popularity bias of the recommendations, each with a bootstrap 95 %
//! interval; baselines (most-popular, text kNN) run in the same harness.
pub mod metrics;

use crate::data::{Dataset, HeldOut, Split};
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

/// Scores ranked lists (best first) against targets.
pub fn score_lists(
    method: &str,
    targets: &[u32],
    lists: &[Vec<u32>],
    n_items: usize,
    popularity: &[f64],
    protocol: &Protocol,
    seconds: f64,
) -> MethodResult {
    let ranks: Vec<Option<usize>> = targets
        .iter()
        .zip(lists)
        .map(|(&t, l)| metrics::rank_of(t, l))
        .collect();
    let mut m = BTreeMap::new();
    let mut put = |name: String, vals: Vec<f64>, salt: u64| {
        let (lo, hi) =
            metrics::bootstrap_ci(&vals, protocol.bootstrap, protocol.seed.wrapping_add(salt));
        m.insert(
            name,
            Estimate {
                mean: metrics::mean(&vals),
                lo,
                hi,
            },
        );
    };
    for (i, &k) in KS.iter().enumerate() {
        put(
            format!("recall@{k}"),
            ranks.iter().map(|&r| metrics::recall_at(r, k)).collect(),
            2 * i as u64,
        );
        put(
            format!("ndcg@{k}"),
            ranks.iter().map(|&r| metrics::ndcg_at(r, k)).collect(),
            2 * i as u64 + 1,
        );
    }
    put(
        "mrr".into(),
        ranks.iter().map(|&r| metrics::reciprocal_rank(r)).collect(),
        99,
    );
    MethodResult {
        method: method.to_string(),
        users: targets.len(),
        metrics: m,
        coverage_at_10: metrics::coverage(lists, 10, n_items),
        popularity_bias_at_10: metrics::popularity_bias(lists, 10, popularity),
        seconds,
        users_per_second: if seconds > 0.0 {
            targets.len() as f64 / seconds
        } else {
            f64::INFINITY
        },
    }
}

/// Training interactions per item (the popularity used by baselines and the bias metric).
pub fn popularity(ds: &Dataset, n_items: usize) -> Vec<f64> {
    let mut c = vec![0f64; n_items];
    for t in &ds.train {
        for &i in &t.items {
            c[i as usize] += 1.0;
        }
    }
    c
}

/// Items each held-out user interacted with before the target (all of them,
/// not only the truncated input history).
pub fn seen_before(ds: &Dataset, split: Split) -> Vec<HashSet<u32>> {
    ds.train
        .iter()
        .zip(&ds.valid)
        .map(|(t, v)| {
            let mut s: HashSet<u32> = t.items.iter().copied().collect();
            if split == Split::Test {
                s.insert(v.target);
            }
            s
        })
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
                .filter(|i| !protocol.exclude_seen || !s.contains(i))
                .take(k)
                .collect()
        })
        .collect()
}

/// Text-kNN baseline: items nearest (cosine) to the last history item's text
/// embedding, via a Faiss inner-product index; the query item itself excluded.
pub fn text_knn(
    emb: &[f32],
    dim: usize,
    held: &[HeldOut],
    seen: &[HashSet<u32>],
    protocol: &Protocol,
    k: usize,
) -> crate::Result<Vec<Vec<u32>>> {
    use faiss::Index;
    let err = |e: faiss::error::Error| crate::Error::Other(format!("faiss: {e}"));
    let mut index = faiss::FlatIndex::new_ip(dim as u32).map_err(err)?;
    index.add(emb).map_err(err)?;
    let extra = if protocol.exclude_seen {
        seen.iter().map(HashSet::len).max().unwrap_or(0)
    } else {
        0
    };
    let want = (k + 1 + extra).min(emb.len() / dim);
    let queries: Vec<f32> = held
        .iter()
        .flat_map(|h| {
            let last = *h.history.last().unwrap_or(&0) as usize;
            emb[last * dim..(last + 1) * dim].to_vec()
        })
        .collect();
    let res = index.search(&queries, want).map_err(err)?;
    Ok(held
        .iter()
        .enumerate()
        .map(|(u, h)| {
            let last = h.history.last().copied();
            res.labels[u * want..(u + 1) * want]
                .iter()
                .filter_map(|l| l.get().map(|v| v as u32))
                .filter(|&i| Some(i) != last && (!protocol.exclude_seen || !seen[u].contains(&i)))
                .take(k)
                .collect()
        })
        .collect())
}

/// A Markdown table of results (metric means with their 95 % intervals).
pub fn markdown_table(results: &[MethodResult]) -> String {
    let cols = ["recall@5", "ndcg@5", "recall@10", "ndcg@10", "mrr"];
    let mut s = String::from("| method | users | Recall@5 | NDCG@5 | Recall@10 | NDCG@10 | MRR | coverage@10 | pop. bias@10 | users/s |\n");
    s.push_str("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for r in results {
        s.push_str(&format!("| {} | {} |", r.method, r.users));
        for c in cols {
            let e = r.metrics[c];
            s.push_str(&format!(" {:.4} [{:.4}, {:.4}] |", e.mean, e.lo, e.hi));
        }
        let ups = if r.users_per_second.is_finite() {
            format!("{:.1}", r.users_per_second)
        } else {
            "–".into()
        };
        s.push_str(&format!(
            " {:.3} | {:.2} | {} |\n",
            r.coverage_at_10, r.popularity_bias_at_10, ups
        ));
    }
    s
}
