//! Collaborative item vectors for semantic IDs. Text alone puts items that
//! read alike under one ID prefix even when different users buy them; the
//! generator then has to tell them apart from the last code. Here items that
//! occur near each other in the training sequences get close vectors: the
//! positive pointwise mutual information of co-occurrence within a window
//! (Levy & Goldberg 2014: PPMI factorisation is what skip-gram item2vec
//! computes implicitly), factorised by a seeded randomized SVD (Halko,
//! Martinsson & Tropp 2011). `genrec index --collab-weight β` appends
//! β × these (L2-normalised) vectors to the text embeddings before the
//! residual k-means, in the spirit of LETTER (Wang et al. 2024) and
//! ColaRec, which mix collaborative signal into the item identifiers.
//! Only training sequences are read (never a validation or test target).
use rand::{Rng, SeedableRng};
use tch::{Device, Kind, Tensor};

/// How the collaborative vectors are made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CollabParams {
    /// Width of the vectors.
    pub dim: usize,
    /// Items at most this many positions apart co-occur.
    pub window: usize,
    /// Power iterations of the randomized SVD.
    pub power_iters: usize,
    pub seed: u64,
}

impl Default for CollabParams {
    fn default() -> Self {
        Self {
            dim: 64,
            window: 5,
            power_iters: 3,
            seed: 42,
        }
    }
}

/// Sparse symmetric PPMI matrix, one row per item: `(column, value)` sorted by column.
pub fn ppmi(n_items: usize, sequences: &[&[u32]], window: usize) -> Vec<Vec<(u32, f64)>> {
    let mut pairs: Vec<(u32, u32)> = Vec::new();
    for s in sequences {
        for (i, &a) in s.iter().enumerate() {
            for &b in s.iter().skip(i + 1).take(window) {
                if a != b {
                    pairs.push((a, b));
                    pairs.push((b, a));
                }
            }
        }
    }
    pairs.sort_unstable();
    let mut rows: Vec<Vec<(u32, f64)>> = vec![Vec::new(); n_items];
    for &(a, b) in &pairs {
        let row = &mut rows[a as usize];
        match row.last_mut() {
            Some(last) if last.0 == b => last.1 += 1.0,
            _ => row.push((b, 1.0)),
        }
    }
    let sums: Vec<f64> = rows.iter().map(|r| r.iter().map(|x| x.1).sum()).collect();
    let total: f64 = sums.iter().sum();
    for (a, row) in rows.iter_mut().enumerate() {
        for e in row.iter_mut() {
            e.1 = (e.1 * total / (sums[a] * sums[e.0 as usize])).ln().max(0.0);
        }
        row.retain(|e| e.1 > 0.0);
    }
    rows
}

/// `A · m` for sparse `A` (n × n) and dense `m` (n × k, row-major).
fn spmm(a: &[Vec<(u32, f64)>], m: &[f64], k: usize) -> Vec<f64> {
    let mut out = vec![0.0; a.len() * k];
    for (i, row) in a.iter().enumerate() {
        let o = &mut out[i * k..(i + 1) * k];
        for &(j, v) in row {
            for (x, y) in o.iter_mut().zip(&m[j as usize * k..(j as usize + 1) * k]) {
                *x += v * y;
            }
        }
    }
    out
}

fn tensor(x: &[f64], rows: usize, cols: usize) -> Tensor {
    Tensor::from_slice(x).view([rows as i64, cols as i64])
}

/// Items' collaborative vectors `[n_items × dim]` (row-major, f32), each row
/// L2-normalised; an item that co-occurs with nothing gets zeros.
pub fn item_vectors(n_items: usize, sequences: &[&[u32]], p: &CollabParams) -> Vec<f32> {
    let a = ppmi(n_items, sequences, p.window);
    let k = (p.dim + 10).min(n_items);
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(p.seed);
    // Any random test matrix finds the range; uniform on [−1, 1] will do.
    let omega: Vec<f64> = (0..n_items * k).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let orth = |y: Vec<f64>| -> Vec<f64> {
        let (q, _) = Tensor::linalg_qr(&tensor(&y, n_items, k), "reduced");
        Vec::<f64>::try_from(&q.contiguous().flatten(0, -1)).expect("f64 tensor")
    };
    let mut q = orth(spmm(&a, &omega, k));
    for _ in 0..p.power_iters {
        q = orth(spmm(&a, &q, k));
    }
    // A ≈ Q B with B = Qᵀ A = (A Q)ᵀ (A is symmetric). B's left singular
    // vectors and values come from the small eigenproblem B Bᵀ = W Λ Wᵀ
    // (eigenvalues ascending: the last `dim` columns, largest first).
    let aq = tensor(&spmm(&a, &q, k), n_items, k);
    let (lambda, w) = Tensor::linalg_eigh(&aq.tr().matmul(&aq), "L");
    let dim = p.dim.min(k) as i64;
    let top = Tensor::arange_start_step(
        k as i64 - 1,
        k as i64 - 1 - dim,
        -1,
        (Kind::Int64, Device::Cpu),
    );
    let u = tensor(&q, n_items, k).matmul(&w.index_select(1, &top));
    // Scaled by √σ = λ^¼ (symmetric factorisation, as for word vectors).
    let v = u * lambda
        .index_select(0, &top)
        .clamp_min(0.0)
        .pow_tensor_scalar(0.25)
        .unsqueeze(0);
    let norm = v
        .norm_scalaropt_dim(2, [1i64].as_slice(), true)
        .clamp_min(1e-12);
    let v = (v / norm).to_kind(Kind::Float).to_device(Device::Cpu);
    let mut out = Vec::<f32>::try_from(&v.contiguous().flatten(0, -1)).expect("f32 tensor");
    let d = dim as usize;
    for (i, row) in a.iter().enumerate() {
        if row.is_empty() {
            out[i * d..(i + 1) * d].fill(0.0);
        }
    }
    // Pad to the asked width when the catalogue is smaller than it.
    if d < p.dim {
        let mut padded = vec![0f32; n_items * p.dim];
        for i in 0..n_items {
            padded[i * p.dim..i * p.dim + d].copy_from_slice(&out[i * d..(i + 1) * d]);
        }
        out = padded;
    }
    out
}

/// The vectors an index with `params` clusters: the text embeddings
/// (`[n × d]`), followed, when `params.collab_weight` > 0, by the weighted
/// collaborative vectors of the training `sequences`; with their width.
pub fn index_vectors(
    text: Vec<f32>,
    d: usize,
    sequences: &[&[u32]],
    params: &super::IndexParams,
) -> (Vec<f32>, usize) {
    if params.collab_weight <= 0.0 {
        return (text, d);
    }
    let cp = CollabParams {
        dim: params.collab_dim,
        seed: params.seed,
        ..CollabParams::default()
    };
    let c = item_vectors(text.len() / d, sequences, &cp);
    (mix(&text, d, &c, cp.dim, params.collab_weight), d + cp.dim)
}

/// [`index_vectors`] for items with no interactions (cold start): the text
/// embeddings followed by a zero collaborative part, when the index has one.
pub fn without_interactions(text: Vec<f32>, d: usize, params: &super::IndexParams) -> Vec<f32> {
    if params.collab_weight <= 0.0 {
        return text;
    }
    text.chunks(d)
        .flat_map(|row| {
            row.iter()
                .copied()
                .chain(std::iter::repeat_n(0.0, params.collab_dim))
        })
        .collect()
}

/// `[text ; weight · collab]` per item (row-major), the vectors the index clusters.
pub fn mix(text: &[f32], d: usize, collab: &[f32], r: usize, weight: f32) -> Vec<f32> {
    let n = text.len() / d;
    let mut out = Vec::with_capacity(n * (d + r));
    for i in 0..n {
        out.extend_from_slice(&text[i * d..(i + 1) * d]);
        out.extend(collab[i * r..(i + 1) * r].iter().map(|v| weight * v));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ppmi_by_hand() {
        // Sequences 0 1 and 0 1 and 2 3: pairs (0,1)×2, (2,3)×1 in both
        // directions; total 6, row sums 2 2 1 1.
        let s: Vec<&[u32]> = vec![&[0, 1], &[0, 1], &[2, 3]];
        let a = ppmi(4, &s, 5);
        assert_eq!(a[0].len(), 1);
        assert!((a[0][0].1 - (2.0f64 * 6.0 / 4.0).ln()).abs() < 1e-12);
        assert!((a[2][0].1 - 6.0f64.ln()).abs() < 1e-12);
        assert_eq!(ppmi(4, &[&[0, 1, 2]], 1)[0], vec![(1, (4.0f64 / 2.0).ln())]);
    }

    #[test]
    fn items_bought_together_get_close_vectors() {
        // Two groups that never meet: {0..5} and {6..11}; item 12 is alone.
        let mut seqs: Vec<Vec<u32>> = Vec::new();
        for r in 0..30u32 {
            seqs.push((0..6).map(|i| (i + r) % 6).collect());
            seqs.push((0..6).map(|i| 6 + (i * 5 + r) % 6).collect());
        }
        let s: Vec<&[u32]> = seqs.iter().map(Vec::as_slice).collect();
        let p = CollabParams {
            dim: 4,
            ..CollabParams::default()
        };
        let v = item_vectors(13, &s, &p);
        let dot = |a: usize, b: usize| -> f32 { (0..4).map(|j| v[a * 4 + j] * v[b * 4 + j]).sum() };
        for (a, b, other) in [(0, 3, 7), (1, 5, 10), (6, 9, 2)] {
            assert!(dot(a, b) > dot(a, other) + 0.5, "{a} {b} vs {other}");
        }
        assert!(v[12 * 4..13 * 4].iter().all(|&x| x == 0.0));
        assert_eq!(v, item_vectors(13, &s, &p), "seeded: the same vectors");
    }
}
