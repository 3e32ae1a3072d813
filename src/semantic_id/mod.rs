//! Semantic IDs by residual k-means (RQ-KMeans): level 1 clusters the item
//! embeddings into K codes, each next level clusters the residuals left by the
//! centroids chosen so far. Items sharing all L codes get an extra collision
//! digit 0, 1, 2, … (TIGER, Rajput et al. 2023), so every item has a unique ID
//! of L + 1 tokens. `Scheme::Random` gives random codes of the same shape (the
//! ablation TIGER reports).
mod build;
pub mod collab;
mod health;
mod ids_file;
pub mod kmeans;
pub mod params;
pub mod reassign;
pub mod store;
pub mod trie;
pub mod vocab;

pub use build::build;
pub use health::Health;
pub use params::{default_codebook_size, Collisions, IndexParams, Scheme};

use crate::error::{Error, Result};
use crate::util::hash::Hasher;
pub use kmeans::Backend;
pub use trie::Trie;
pub use vocab::Vocab;

/// The semantic IDs of a catalogue and the codebooks that made them.
#[derive(Debug, Clone)]
pub struct SemanticIds {
    pub params: IndexParams,
    pub dim: usize,
    /// Per level, `[K, dim]` row-major centroids.
    pub centroids: Vec<Vec<f32>>,
    /// Per item, `L` codes then the collision digit.
    pub codes: Vec<Vec<u32>>,
    /// sha256 of the embeddings file the codes were built from.
    pub embeddings_sha256: String,
}

impl SemanticIds {
    pub fn n_items(&self) -> usize {
        self.codes.len()
    }
    pub fn levels(&self) -> usize {
        self.params.levels
    }

    /// Collision digits needed so far (largest digit + 1).
    pub fn digits_used(&self) -> u32 {
        self.codes
            .iter()
            .map(|c| c[self.levels()] + 1)
            .max()
            .unwrap_or(1)
    }

    /// The vocabulary for these IDs: K digit tokens (so `index --add` has room),
    /// or more if a collision group is larger than K.
    pub fn vocab(&self, user_tokens: u32) -> Vocab {
        let k = self.params.codebook_size as u32;
        Vocab::new(
            self.levels() as u32,
            k,
            k.max(self.digits_used()),
            user_tokens,
        )
    }

    /// Token sequence of each item's full ID.
    pub fn item_tokens(&self, vocab: &Vocab) -> Vec<Vec<u32>> {
        self.codes.iter().map(|c| vocab.id_tokens(c)).collect()
    }

    /// The prefix trie over all items' token IDs (optionally only `keep` items).
    pub fn trie(&self, vocab: &Vocab, keep: Option<&dyn Fn(u32) -> bool>) -> Result<Trie> {
        let toks = self.item_tokens(vocab);
        Trie::build(
            toks.iter()
                .enumerate()
                .map(|(i, t)| (i as u32, t.as_slice()))
                .filter(|(i, _)| keep.is_none_or(|f| f(*i))),
        )
        .map_err(Error::Other)
    }

    /// A hash of the codes (and their shape): what checkpoints record.
    pub fn codes_sha256(&self) -> String {
        self.codes_sha256_of(self.n_items())
    }

    /// The hash of the first `n` items' codes: cold-start additions (`add_items`)
    /// append items, so a checkpoint trained before them matches this prefix.
    pub fn codes_sha256_of(&self, n: usize) -> String {
        let mut h = Hasher::new();
        h.field(format!("{}x{}", n, self.levels() + 1).as_bytes());
        for c in &self.codes[..n.min(self.codes.len())] {
            let bytes: Vec<u8> = c.iter().flat_map(|v| v.to_le_bytes()).collect();
            h.field(&bytes);
        }
        h.finish()
    }
}
