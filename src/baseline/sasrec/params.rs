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
    /// Targets (predicted positions) per batch, RecBole's `train_batch_size`:
    /// windows join a batch until it holds this many.
    pub batch_targets: usize,
    /// Targets each window adds (windows slide by this many items); 1 gives
    /// every target its full context, as RecBole trains.
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
            batch_targets: 2048,
            stride: 1,
            max_epochs: 200,
            patience: 10,
            seed: 42,
        }
    }
}

/// Most training windows an epoch may hold before the stride grows: at 50
/// items a window, about a minute an epoch on two CPU cores.
const MAX_WINDOWS_PER_EPOCH: usize = 150_000;

impl SasRecParams {
    /// RecBole's recipe sized to the data: stride 1 (every target with its
    /// full context) when an epoch then holds at most 150,000 windows, else
    /// the smallest stride that brings it under (long histories, e.g.
    /// ML-1M); the other settings are the defaults.
    pub fn for_dataset(ds: &Dataset) -> Self {
        let d = Self::default();
        let stride = (1..d.max_len)
            .find(|&s| super::train::windows(ds, d.max_len, s).len() <= MAX_WINDOWS_PER_EPOCH)
            .unwrap_or(d.max_len);
        Self { stride, ..d }
    }

    pub fn check(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Config(format!("sasrec: {m}")));
        if self.hidden <= 0 || self.heads <= 0 || self.hidden % self.heads != 0 {
            return bad("hidden must be a positive multiple of heads");
        }
        if self.layers == 0
            || self.inner <= 0
            || self.max_len == 0
            || self.batch_targets == 0
            || self.max_epochs == 0
        {
            return bad("layers, inner, max_len, batch_targets and max_epochs must be at least 1");
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
