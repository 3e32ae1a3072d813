//! Building semantic IDs by residual k-means (or random codes, the ablation),
//! the collision digits, and cold start: codes for items added after the
//! build, by nearest centroid at each level without re-clustering (TIGER).
use super::params::{IndexParams, Scheme};
use super::{kmeans, reassign, SemanticIds};
use crate::error::{Error, Result};
use rand::{Rng, SeedableRng};
use std::collections::HashMap;

/// Builds semantic IDs for `x` (`[n, d]` row-major f32). `on_level` is called
/// after each level (for progress).
pub fn build(
    x: &[f32],
    n: usize,
    d: usize,
    params: &IndexParams,
    embeddings_sha256: &str,
    on_level: &mut dyn FnMut(usize),
) -> Result<SemanticIds> {
    params.check(n)?;
    if x.len() != n * d {
        return Err(Error::Other(format!(
            "embedding buffer has {} values, expected {n}×{d}",
            x.len()
        )));
    }
    let k = params.codebook_size;
    let mut residual = x.to_vec();
    let mut centroids = Vec::with_capacity(params.levels);
    let mut level_codes: Vec<Vec<u32>> = Vec::with_capacity(params.levels);
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(params.seed);
    for level in 0..params.levels {
        let (c, assign) = match params.scheme {
            Scheme::RqKmeans => {
                let cl = kmeans::kmeans(&residual, n, d, &params.kmeans_spec(level))?;
                let mut assign = cl.assignment;
                if params.collisions.spreads(level, params.levels) {
                    let prefix: Vec<Vec<u32>> = (0..n)
                        .map(|i| level_codes.iter().map(|c| c[i]).collect())
                        .collect();
                    reassign::spread(&prefix, &mut assign, &residual, &cl.centroids, k, d);
                }
                (cl.centroids, assign)
            }
            Scheme::Random => {
                let assign: Vec<u32> = (0..n).map(|_| rng.gen_range(0..k as u32)).collect();
                (cluster_means(&residual, &assign, k, d), assign)
            }
        };
        for (i, &a) in assign.iter().enumerate() {
            let cen = &c[a as usize * d..(a as usize + 1) * d];
            for (r, cv) in residual[i * d..(i + 1) * d].iter_mut().zip(cen) {
                *r -= cv;
            }
        }
        centroids.push(c);
        level_codes.push(assign);
        on_level(level + 1);
    }
    let codes = with_collision_digits(&level_codes, n);
    Ok(SemanticIds {
        params: params.clone(),
        dim: d,
        centroids,
        codes,
        embeddings_sha256: embeddings_sha256.into(),
    })
}

fn cluster_means(x: &[f32], assign: &[u32], k: usize, d: usize) -> Vec<f32> {
    let mut sum = vec![0f64; k * d];
    let mut count = vec![0usize; k];
    for (i, &a) in assign.iter().enumerate() {
        count[a as usize] += 1;
        for (s, v) in sum[a as usize * d..(a as usize + 1) * d]
            .iter_mut()
            .zip(&x[i * d..(i + 1) * d])
        {
            *s += f64::from(*v);
        }
    }
    sum.iter()
        .enumerate()
        .map(|(j, s)| {
            if count[j / d] > 0 {
                (s / count[j / d] as f64) as f32
            } else {
                0.0
            }
        })
        .collect()
}

/// The next free collision digit of each prefix of L codes: within a group
/// of items sharing all L codes, items get 0, 1, 2, … in the order they come.
#[derive(Debug, Default)]
pub(crate) struct CollisionDigits(HashMap<Vec<u32>, u32>);

impl CollisionDigits {
    /// The digits taken by existing full IDs (L codes + digit).
    pub(crate) fn of(ids: &[Vec<u32>], levels: usize) -> Self {
        let mut next = HashMap::new();
        for c in ids {
            let e = next.entry(c[..levels].to_vec()).or_insert(0);
            *e = (*e).max(c[levels] + 1);
        }
        Self(next)
    }

    /// Whether some item already has these L codes.
    pub(crate) fn taken(&self, codes: &[u32]) -> bool {
        self.0.contains_key(codes)
    }

    /// `codes` with the next free digit appended.
    pub(crate) fn complete(&mut self, mut codes: Vec<u32>) -> Vec<u32> {
        let digit = self.0.entry(codes.clone()).or_insert(0);
        codes.push(*digit);
        *digit += 1;
        codes
    }
}

/// Appends the collision digit to each item's codes (items in order).
fn with_collision_digits(level_codes: &[Vec<u32>], n: usize) -> Vec<Vec<u32>> {
    let mut digits = CollisionDigits::default();
    (0..n)
        .map(|i| digits.complete(level_codes.iter().map(|c| c[i]).collect()))
        .collect()
}

impl SemanticIds {
    /// Cold start: codes for new embeddings by nearest centroid at each level
    /// (no re-clustering). Where the last level spreads
    /// ([`Collisions::spreads`](super::params::Collisions::spreads): `reassign`,
    /// `balance`), a new item whose codes are taken moves to the nearest free
    /// last-level code of its prefix; otherwise (or when the prefix is full)
    /// it gets the next free collision digit. Returns the new items' full IDs (also appended).
    pub fn add_items(&mut self, x: &[f32]) -> Result<Vec<Vec<u32>>> {
        let d = self.dim;
        if !x.len().is_multiple_of(d) {
            return Err(Error::Other(format!(
                "new embeddings have {} values, not a multiple of the dimension {d}",
                x.len()
            )));
        }
        let n_new = x.len() / d;
        let l = self.levels();
        let mut residual = x.to_vec();
        let mut before_last = Vec::new();
        let mut level_codes = Vec::new();
        for (level, cen) in self.centroids.iter().enumerate() {
            if level + 1 == l {
                before_last = residual.clone();
            }
            let assign = kmeans::assign(&residual, cen, d)?;
            for (i, &a) in assign.iter().enumerate() {
                for (r, c) in residual[i * d..(i + 1) * d]
                    .iter_mut()
                    .zip(&cen[a as usize * d..(a as usize + 1) * d])
                {
                    *r -= c;
                }
            }
            level_codes.push(assign);
        }
        let mut digits = CollisionDigits::of(&self.codes, l);
        let spread = self.params.collisions.spreads(l - 1, l);
        let last = &self.centroids[l - 1];
        let mut out = Vec::with_capacity(n_new);
        for i in 0..n_new {
            let mut id: Vec<u32> = level_codes.iter().map(|c| c[i]).collect();
            if spread && digits.taken(&id) {
                let r = &before_last[i * d..(i + 1) * d];
                let mut by_distance: Vec<(f32, u32)> = last
                    .chunks(d)
                    .enumerate()
                    .map(|(j, c)| {
                        (
                            r.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum(),
                            j as u32,
                        )
                    })
                    .collect();
                by_distance.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let free = by_distance.iter().map(|&(_, j)| j).find(|&j| {
                    let mut t = id.clone();
                    t[l - 1] = j;
                    !digits.taken(&t)
                });
                if let Some(j) = free {
                    id[l - 1] = j;
                }
            }
            let id = digits.complete(id);
            out.push(id.clone());
            self.codes.push(id);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn collision_digits_count_up_within_groups() {
        let codes = with_collision_digits(&[vec![0, 1, 0, 0], vec![2, 2, 2, 3]], 4);
        assert_eq!(
            codes,
            vec![vec![0, 2, 0], vec![1, 2, 0], vec![0, 2, 1], vec![0, 3, 0]]
        );
    }
}
