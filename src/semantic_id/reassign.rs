//! Spreading collisions at the last level. Residual k-means gives items with
//! near-identical embeddings the same L codes, and TIGER (Rajput et al. 2023)
//! then tells them apart by a collision digit that carries no meaning the
//! model could learn from the text. Here the items that share a prefix (their
//! first L − 1 codes) are given distinct last-level codes by a minimum-cost
//! assignment of their residuals to the last level's centroids (squared
//! distance; Hungarian algorithm), so only a prefix with more items than codes
//! still needs digits — and then the load is spread evenly over its codes.
use std::collections::BTreeMap;

/// Prefixes with more items than this are spread greedily (by ascending
/// distance, equal load per code) instead of by the exact assignment, whose
/// cost grows with the cube of the group.
const EXACT_UP_TO: usize = 512;

/// Reassigns `last` (each item's last-level code, nearest centroid) so that
/// items sharing a `prefix` get distinct codes where the `k` codes allow.
/// `residual` holds the items' residuals entering the last level (`[n, d]`),
/// `centroids` the last level's codebook (`[k, d]`). Returns the number of
/// items whose code changed.
pub fn spread(
    prefix: &[Vec<u32>],
    last: &mut [u32],
    residual: &[f32],
    centroids: &[f32],
    k: usize,
    d: usize,
) -> usize {
    let mut groups: BTreeMap<&[u32], Vec<usize>> = BTreeMap::new();
    for (i, p) in prefix.iter().enumerate() {
        groups.entry(p.as_slice()).or_default().push(i);
    }
    let mut moved = 0;
    for items in groups.values() {
        let mut seen = vec![false; k];
        let crowded = items
            .iter()
            .any(|&i| std::mem::replace(&mut seen[last[i] as usize], true));
        if !crowded {
            continue;
        }
        let m = items.len();
        // Each code takes at most `per_code` items: 1 when the prefix has room.
        let per_code = m.div_ceil(k);
        let cost: Vec<f64> = items
            .iter()
            .flat_map(|&i| {
                let r = &residual[i * d..(i + 1) * d];
                (0..k).map(move |j| {
                    let c = &centroids[j * d..(j + 1) * d];
                    r.iter()
                        .zip(c)
                        .map(|(a, b)| f64::from(a - b) * f64::from(a - b))
                        .sum::<f64>()
                })
            })
            .collect();
        let codes = if m <= EXACT_UP_TO {
            // Columns repeated `per_code` times: slot s is code s % k.
            let cols = k * per_code;
            let wide: Vec<f64> = (0..m)
                .flat_map(|r| (0..cols).map(move |s| (r, s)))
                .map(|(r, s)| cost[r * k + s % k])
                .collect();
            min_cost_assignment(&wide, m, cols)
                .into_iter()
                .map(|s| (s % k) as u32)
                .collect::<Vec<u32>>()
        } else {
            greedy_assignment(&cost, m, k, per_code)
        };
        for (&i, c) in items.iter().zip(codes) {
            moved += usize::from(last[i] != c);
            last[i] = c;
        }
    }
    moved
}

/// Rows to distinct columns (`rows ≤ cols`) minimising the summed cost
/// (`cost` row-major `[rows, cols]`): the Hungarian algorithm with
/// potentials, O(rows² · cols). Returns each row's column.
pub fn min_cost_assignment(cost: &[f64], rows: usize, cols: usize) -> Vec<usize> {
    assert!(
        rows <= cols && cost.len() == rows * cols,
        "need rows ≤ cols and a full cost matrix"
    );
    let (mut u, mut v) = (vec![0.0f64; rows + 1], vec![0.0f64; cols + 1]);
    // owner[j]: the row (1-based) holding column j (1-based); 0 = free.
    let mut owner = vec![0usize; cols + 1];
    let mut way = vec![0usize; cols + 1];
    for row in 1..=rows {
        owner[0] = row;
        let mut j0 = 0;
        let mut minv = vec![f64::INFINITY; cols + 1];
        let mut used = vec![false; cols + 1];
        loop {
            used[j0] = true;
            let i0 = owner[j0];
            let (mut delta, mut j1) = (f64::INFINITY, 0);
            for j in 1..=cols {
                if !used[j] {
                    let cur = cost[(i0 - 1) * cols + (j - 1)] - u[i0] - v[j];
                    if cur < minv[j] {
                        minv[j] = cur;
                        way[j] = j0;
                    }
                    if minv[j] < delta {
                        delta = minv[j];
                        j1 = j;
                    }
                }
            }
            for j in 0..=cols {
                if used[j] {
                    u[owner[j]] += delta;
                    v[j] -= delta;
                } else {
                    minv[j] -= delta;
                }
            }
            j0 = j1;
            if owner[j0] == 0 {
                break;
            }
        }
        loop {
            let j1 = way[j0];
            owner[j0] = owner[j1];
            j0 = j1;
            if j0 == 0 {
                break;
            }
        }
    }
    let mut out = vec![0; rows];
    for j in 1..=cols {
        if owner[j] != 0 {
            out[owner[j] - 1] = j - 1;
        }
    }
    out
}

/// Each row to a column, at most `cap` rows per column, taking (row, column)
/// pairs by ascending cost (ties: row, then column).
fn greedy_assignment(cost: &[f64], rows: usize, cols: usize, cap: usize) -> Vec<u32> {
    let mut pairs: Vec<(f64, usize, usize)> = (0..rows)
        .flat_map(|r| (0..cols).map(move |c| (r, c)))
        .map(|(r, c)| (cost[r * cols + c], r, c))
        .collect();
    pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
    let mut out = vec![u32::MAX; rows];
    let mut load = vec![0usize; cols];
    for (_, r, c) in pairs {
        if out[r] == u32::MAX && load[c] < cap {
            out[r] = c as u32;
            load[c] += 1;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::{Rng, SeedableRng};

    /// The cheapest assignment by trying every one (small cases).
    fn brute(cost: &[f64], rows: usize, cols: usize) -> f64 {
        fn go(r: usize, rows: usize, cols: usize, cost: &[f64], used: &mut Vec<bool>) -> f64 {
            if r == rows {
                return 0.0;
            }
            let mut best = f64::INFINITY;
            for c in 0..cols {
                if !used[c] {
                    used[c] = true;
                    best = best.min(cost[r * cols + c] + go(r + 1, rows, cols, cost, used));
                    used[c] = false;
                }
            }
            best
        }
        go(0, rows, cols, cost, &mut vec![false; cols])
    }

    #[test]
    fn hungarian_matches_brute_force() {
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(3);
        for case in 0..200 {
            let rows = 1 + case % 5;
            let cols = rows + case % 3;
            let cost: Vec<f64> = (0..rows * cols)
                .map(|_| f64::from(rng.gen_range(0..20u8)))
                .collect();
            let a = min_cost_assignment(&cost, rows, cols);
            let mut seen = std::collections::HashSet::new();
            assert!(
                a.iter().all(|&c| c < cols && seen.insert(c)),
                "distinct columns"
            );
            let total: f64 = a.iter().enumerate().map(|(r, &c)| cost[r * cols + c]).sum();
            assert_eq!(total, brute(&cost, rows, cols), "case {case}: {cost:?}");
        }
    }

    #[test]
    fn spreading_gives_a_crowded_prefix_distinct_codes() {
        // Three items share prefix [0]: items 0 and 1 nearest centroid 0, item 2 on centroid 2.
        let centroids = [0.0f32, 0.0, 1.0, 0.0, 0.0, 1.0, 5.0, 5.0];
        let residual = [
            0.0f32, 0.0, 0.1, 0.0, 0.0, 1.0, /* prefix [1]: */ 0.0, 0.0,
        ];
        let prefix = vec![vec![0], vec![0], vec![0], vec![1]];
        let mut last = vec![0, 0, 2, 0];
        let moved = spread(&prefix, &mut last, &residual, &centroids, 4, 2);
        // Item 1 moves to its second-nearest code (cost 0.81 instead of 0.01);
        // item 2 keeps its own; the other prefix is untouched.
        assert_eq!(last, vec![0, 1, 2, 0]);
        assert_eq!(moved, 1);
        // More items than codes: each code takes at most ⌈m / k⌉.
        let prefix = vec![vec![0]; 5];
        let residual = [0.0f32; 10];
        let mut last = vec![0; 5];
        spread(&prefix, &mut last, &residual, &centroids, 4, 2);
        let mut load = [0; 4];
        for c in last {
            load[c as usize] += 1;
        }
        assert_eq!(load.iter().max(), Some(&2));
    }
}
