//! SASRec's hyper-parameters (RecBole 1.2.1's defaults) and training
//! schedule, checked before any work, and the cache key they give with the
//! dataset.
use crate::data::Dataset;
use crate::error::{Error, Result};
use crate::util::hash::Hasher;
use serde::{Deserialize, Serialize};

/// SASRec's hyper-parameters (RecBole's defaults) and its training schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SasRecParams {
    pub hidden: i64,
    pub layers: usize,
    pub heads: i64,
    pub inner: i64,
    pub dropout: f64,
    pub attention_dropout: f64,
    /// Most recent items read.
    pub max_len: usize,
    pub lr: f64,
    /// Windows (of up to `max_len` + 1 items) per batch.
    pub batch_size: usize,
    /// Targets each window adds (windows slide by this many items).
    pub stride: usize,
    pub max_epochs: usize,
    /// Epochs without a better validation NDCG@10 before stopping.
    pub patience: usize,
    pub seed: u64,
}

impl Default for SasRecParams {
    fn default() -> Self {
        Self {
            hidden: 64,
            layers: 2,
            heads: 2,
            inner: 256,
            dropout: 0.5,
            attention_dropout: 0.5,
            max_len: 50,
            lr: 1e-3,
            // Chosen on ML-100K validation: 200 windows (best NDCG@10 0.0661 at
            // epoch 42) over 32 (0.0648 at epoch 6).
            batch_size: 200,
            stride: 10,
            max_epochs: 200,
            patience: 10,
            seed: 42,
        }
    }
}

impl SasRecParams {
    pub fn check(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Config(format!("sasrec: {m}")));
        if self.hidden <= 0 || self.heads <= 0 || self.hidden % self.heads != 0 {
            return bad("hidden must be a positive multiple of heads");
        }
        if self.layers == 0
            || self.inner <= 0
            || self.max_len == 0
            || self.batch_size == 0
            || self.max_epochs == 0
        {
            return bad("layers, inner, max_len, batch_size and max_epochs must be at least 1");
        }
        if self.stride == 0 || self.stride > self.max_len {
            return bad("stride must be in 1..=max_len");
        }
        if !(0.0..1.0).contains(&self.dropout) || !(0.0..1.0).contains(&self.attention_dropout) {
            return bad("dropout rates must be in [0, 1)");
        }
        if self.lr.is_nan() || self.lr <= 0.0 {
            return bad("lr must be positive");
        }
        Ok(())
    }

    /// The cache key: these parameters and the dataset's content.
    pub(super) fn key(&self, ds: &Dataset) -> String {
        let mut h = Hasher::new();
        h.field(
            serde_json::to_string(self)
                .expect("params serialise")
                .as_bytes(),
        );
        h.field(ds.manifest.content_sha256.as_bytes());
        h.finish()[..16].to_string()
    }
}
