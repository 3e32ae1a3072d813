//! The index's parameters (linfa-style: plain values, checked against the
//! catalogue before any work) and the default codebook size.
use super::kmeans::{self, Backend};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// Residual k-means over the embeddings
    RqKmeans,
    /// Random codes of the same shape (ablation)
    Random,
}

/// What happens to items that residual k-means gives the same L codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Collisions {
    /// Each keeps its nearest codes; a collision digit 0, 1, 2, … tells them apart (TIGER)
    #[default]
    Digit,
    /// Items sharing a prefix get distinct last-level codes by minimum-cost
    /// assignment; the digit only where a prefix has more items than codes
    Reassign,
    /// As `reassign`, and at every level below the first the items sharing
    /// their codes so far are spread evenly over that level's codes
    /// (balanced k-means within each parent, as OneRec balances its codes)
    Balance,
}

impl Collisions {
    /// Whether level `level` (0-based) of `levels` spreads the items that
    /// share their earlier codes over its codes ([`super::reassign::spread`]).
    pub fn spreads(self, level: usize, levels: usize) -> bool {
        level > 0
            && match self {
                Collisions::Digit => false,
                Collisions::Reassign => level + 1 == levels,
                Collisions::Balance => true,
            }
    }
}

/// Index parameters; [`IndexParams::check`] validates them against the data
/// before any work starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexParams {
    pub levels: usize,
    pub codebook_size: usize,
    pub backend: Backend,
    pub scheme: Scheme,
    pub seed: u64,
    pub max_iter: usize,
    pub tolerance: f32,
    /// k-means fits on at most this many points per centroid, then assigns
    /// every item (0: fits on all items; indexes built before this existed).
    #[serde(default)]
    pub max_points_per_centroid: usize,
    #[serde(default)]
    pub collisions: Collisions,
    /// Weight of the collaborative vectors appended to the text embeddings
    /// before clustering ([`collab`]); 0: text alone.
    #[serde(default)]
    pub collab_weight: f32,
    /// Width of the collaborative vectors (when `collab_weight` > 0).
    #[serde(default)]
    pub collab_dim: usize,
}

impl IndexParams {
    /// Defaults: 3 levels, K from [`default_codebook_size`], Faiss k-means
    /// (at most 256 points per centroid, as Faiss recommends), RQ-KMeans,
    /// collisions reassigned, collaborative vectors (64 wide) at weight 1
    /// beside the text, seed 42 (benches/RESULTS.md has the measurements
    /// behind each choice).
    pub fn for_catalogue(n_items: usize) -> Self {
        Self {
            levels: 3,
            codebook_size: default_codebook_size(n_items),
            backend: Backend::Faiss,
            scheme: Scheme::RqKmeans,
            seed: 42,
            max_iter: 100,
            tolerance: 1e-4,
            max_points_per_centroid: 256,
            collisions: Collisions::Reassign,
            // Validation NDCG@10, paired: ML-100K 0.0797 → 0.0926, Beauty (CPU
            // recipe) 0.0280 → 0.0356 (benches/RESULTS.md).
            collab_weight: 1.0,
            collab_dim: 64,
        }
    }

    /// The k-means fit of level `level`.
    pub fn kmeans_spec(&self, level: usize) -> kmeans::KmeansSpec {
        kmeans::KmeansSpec {
            backend: self.backend,
            k: self.codebook_size,
            max_iter: self.max_iter,
            tolerance: self.tolerance,
            seed: self.seed.wrapping_add(level as u64),
            max_points_per_centroid: self.max_points_per_centroid,
        }
    }

    pub fn check(&self, n_items: usize) -> Result<()> {
        if self.levels == 0 {
            return Err(Error::Config("levels must be at least 1".into()));
        }
        if self.codebook_size < 2 || self.codebook_size > 65_536 {
            return Err(Error::Config(format!(
                "codebook size must be in 2..=65536, got {}",
                self.codebook_size
            )));
        }
        if self.codebook_size > n_items {
            return Err(Error::Config(format!(
                "codebook size {} exceeds the number of items {n_items}; choose a smaller --codebook-size",
                self.codebook_size
            )));
        }
        if self.max_iter == 0 {
            return Err(Error::Config("max_iter must be at least 1".into()));
        }
        if self.tolerance.is_nan() || self.tolerance < 0.0 {
            return Err(Error::Config("tolerance must be ≥ 0".into()));
        }
        if !self.collab_weight.is_finite() || self.collab_weight < 0.0 {
            return Err(Error::Config("collab weight must be a number ≥ 0".into()));
        }
        if self.collab_weight > 0.0 && self.collab_dim == 0 {
            return Err(Error::Config("collab dim must be at least 1".into()));
        }
        Ok(())
    }
}

/// K = 256 (TIGER) for catalogues of at least 8,192 items (≥ 32 items per
/// level-1 code); smaller catalogues get the largest power of two ≤ N/32, at
/// least 16 (ML-100K, 1,682 items: K = 32).
pub fn default_codebook_size(n_items: usize) -> usize {
    if n_items >= 256 * 32 {
        256
    } else {
        let target = (n_items / 32).max(1);
        (1usize << (usize::BITS - 1 - target.leading_zeros()))
            .max(16)
            .min(n_items.max(2))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_k() {
        assert_eq!(default_codebook_size(12_101), 256);
        assert_eq!(default_codebook_size(1_682), 32);
        assert_eq!(default_codebook_size(100), 16);
    }
}
