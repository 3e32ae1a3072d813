//! SASRec's training schedule sized to a dataset (RecBole's recipe) and the
//! cache key its parameters give with the dataset; the parameters themselves
//! are [`crate::model::sasrec::SasRecParams`].
use super::SasRecParams;
use crate::data::Dataset;
use crate::util::hash::Hasher;

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

    /// The cache key: these parameters, the dataset's content and, when the
    /// item vectors read text, the embeddings' hash (without text the key
    /// is what it was before text could be read).
    pub(super) fn key(&self, ds: &Dataset, text_sha256: Option<&str>) -> String {
        let mut h = Hasher::new();
        h.field(
            serde_json::to_string(self)
                .expect("params serialise")
                .as_bytes(),
        );
        h.field(ds.manifest.content_sha256.as_bytes());
        if let Some(sha) = text_sha256 {
            h.field(b"text");
            h.field(sha.as_bytes());
        }
        h.finish()[..16].to_string()
    }
}
