//! SASRec (Kang & McAuley 2018, "Self-Attentive Sequential Recommendation")
//! as RecBole 1.2.1 trains it for its leaderboards, the transformer baseline
//! users of sequential recommenders run: item + learned position embeddings,
//! LayerNorm and dropout, 2 post-LN transformer layers (2 heads, hidden 64,
//! GELU feed-forward 256, dropout 0.5 on states and attention), causal
//! attention over the last 50 items, the state at the last position scored
//! against every item embedding (tied), cross-entropy over the full catalogue,
//! Adam at 1e-3. RecBole makes every prefix of each training sequence an
//! example and runs the network over the whole prefix for the loss at its last
//! position; with causal attention and positions counted from the window's
//! start, the state at position t of a window is exactly that prefix's last
//! state, so here one pass over a window of up to 50 items gives the losses of
//! many prefixes at once (as the original SASRec trains) — for a user's first
//! 50 items. Beyond them every target has its own window of its 50 previous
//! items (stride 1, RecBole's pairs exactly), or on long-history data each
//! window serves `stride` targets, each keeping at least `50 − stride` items
//! of context (`SasRecParams::for_dataset`). A batch holds 2,048 targets, as
//! RecBole's. Epochs run until
//! validation NDCG@10 has not improved for `patience` epochs; the best
//! epoch's weights are kept. Given the items' text embeddings ([`ItemText`])
//! the item vectors also read them (`SasRec::with_text`: a learned projection
//! added to the ID vectors, UniSRec's idea, Hou et al. 2022) — the sequence
//! verifier's `verify.sequence_text`, `genrec baseline --text`; the
//! harness's rival stays RecBole's ID-only SASRec.
//! The text is folded into the ID table after training, so the cached
//! model is a plain SASRec either way.
mod loss;
mod params;
mod train;

pub use crate::model::sasrec::{batch_of, SasRec, SasRecParams};
pub use train::train;

use crate::data::{Dataset, HeldOut};
use crate::error::{Error, Result};
use crate::eval::metrics;
use crate::progress::Progress;
use rand::seq::SliceRandom;
use rand::SeedableRng;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use tch::nn::{self, OptimizerConfig};
use tch::{Device, Tensor};

/// A trained SASRec, loaded from or saved to its cache directory.
pub struct Trained {
    pub model: SasRec,
    pub vs: nn::VarStore,
    pub meta: Meta,
    pub dir: PathBuf,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Meta {
    pub params: SasRecParams,
    pub dataset_content_sha256: String,
    pub best_epoch: usize,
    pub epochs: usize,
    pub valid_ndcg_at_10: f64,
    pub train_seconds: f64,
    /// Validation NDCG@10 after each epoch.
    pub history: Vec<f64>,
    /// The hash of the text embeddings the item vectors read (none: IDs
    /// alone, as RecBole's).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_sha256: Option<String>,
    /// SHA-256 of the cached `model.safetensors`, checked when the cache is
    /// read (none in records written before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weights_sha256: Option<String>,
}

/// The items' text embeddings for SASRec's item vectors: `dim` floats per
/// item in item order (L2-normalised), and their hash.
#[derive(Clone, Copy)]
pub struct ItemText<'a> {
    pub emb: &'a [f32],
    pub dim: usize,
    pub sha256: &'a str,
}

impl<'a> ItemText<'a> {
    /// The embeddings text neighbours search (the dataset's, normalised).
    pub fn of(nn: &'a crate::eval::TextNeighbours) -> Self {
        let (emb, dim) = nn.embeddings();
        ItemText {
            emb,
            dim,
            sha256: nn.sha256(),
        }
    }
}

/// Where the SASRec for these parameters (and text) on this dataset is cached.
pub fn cache_dir(
    dataset_dir: &Path,
    ds: &Dataset,
    p: &SasRecParams,
    text: Option<ItemText>,
) -> PathBuf {
    dataset_dir
        .join("baselines")
        .join(format!("sasrec-{}", p.key(ds, text.map(|t| t.sha256))))
}

impl Trained {
    /// The cached model when there is one for these parameters, this
    /// dataset and this text (none: IDs alone), else trains one (and
    /// caches it).
    pub fn load_or_train(
        dataset_dir: &Path,
        ds: &Dataset,
        p: &SasRecParams,
        text: Option<ItemText>,
        device: Device,
        progress: &dyn Progress,
    ) -> Result<Self> {
        p.check()?;
        let dir = cache_dir(dataset_dir, ds, p, text);
        if dir.join("meta.json").exists() {
            let meta: Meta = serde_json::from_slice(
                &std::fs::read(dir.join("meta.json"))
                    .map_err(|e| Error::input(dir.join("meta.json"), None, e.to_string()))?,
            )
            .map_err(|e| {
                Error::input(
                    dir.join("meta.json"),
                    None,
                    format!("not a SASRec cache record: {e}"),
                )
            })?;
            if meta.params == *p
                && meta.dataset_content_sha256 == ds.manifest.content_sha256
                && meta.text_sha256.as_deref() == text.map(|t| t.sha256)
            {
                let weights = dir.join("model.safetensors");
                if let Some(want) = &meta.weights_sha256 {
                    if crate::util::hash::sha256_file(&weights)? != *want {
                        return Err(Error::Mismatch(format!(
                            "{}: not the weights its meta.json recorded when SASRec was \
                             cached; delete {} to train it again",
                            weights.display(),
                            dir.display()
                        )));
                    }
                }
                let mut vs = nn::VarStore::new(device);
                let model = SasRec::new(&vs.root(), ds.items.len(), p);
                vs.load(&weights)
                    .map_err(|e| Error::input(&weights, None, e.to_string()))?;
                return Ok(Self {
                    model,
                    vs,
                    meta,
                    dir,
                });
            }
        }
        let mut t = train(ds, p, text, device, progress)?;
        std::fs::create_dir_all(&dir).map_err(|e| Error::input(&dir, None, e.to_string()))?;
        let weights = dir.join("model.safetensors");
        t.vs.save(&weights)
            .map_err(|e| Error::input(&weights, None, e.to_string()))?;
        t.meta.weights_sha256 = Some(crate::util::hash::sha256_file(&weights)?);
        crate::util::fsx::write_json(&dir.join("meta.json"), &t.meta)?;
        Ok(Self { dir, ..t })
    }

    /// Top-`k` items (internal ids) for each held-out user; `banned(u, item)`
    /// removes items from user `u`'s ranking.
    pub fn recommend(
        &self,
        held: &[HeldOut],
        k: usize,
        banned: Option<&[HashSet<u32>]>,
    ) -> Vec<Vec<u32>> {
        let histories: Vec<&[u32]> = held.iter().map(|h| h.history.as_slice()).collect();
        self.model.top_items(&histories, k, banned)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_pass_gives_every_prefix_its_own_last_state() {
        let _rng = crate::runtime::global_rng_lock();
        tch::manual_seed(3);
        let vs = nn::VarStore::new(Device::Cpu);
        let p = SasRecParams {
            max_len: 16,
            ..Default::default()
        };
        let m = SasRec::new(&vs.root(), 30, &p);
        let _g = tch::no_grad_guard();
        let items: Vec<u32> = vec![4, 9, 1, 17, 17, 2, 29, 0, 5, 11, 3, 8];
        let (seq, _) = batch_of(&[&items], p.max_len, Device::Cpu);
        let all = m.states(&seq, false);
        for t in 1..=items.len() {
            let (pre, lens) = batch_of(&[&items[..t]], p.max_len, Device::Cpu);
            let last = m.forward_t(&pre, &lens, false);
            let diff = (all.get(0).get(t as i64 - 1) - last.get(0))
                .abs()
                .max()
                .double_value(&[]);
            assert!(diff < 1e-5, "prefix {t}: {diff}");
        }
        // A batch pads on the right; the padding changes nothing before it.
        let (two, lens) = batch_of(&[&items[..5], &items], p.max_len, Device::Cpu);
        let both = m.forward_t(&two, &lens, false);
        let (one, l1) = batch_of(&[&items[..5]], p.max_len, Device::Cpu);
        let alone = m.forward_t(&one, &l1, false);
        assert!((both.get(0) - alone.get(0)).abs().max().double_value(&[]) < 1e-5);
    }

    #[test]
    fn bad_parameters_are_refused() {
        for p in [
            SasRecParams {
                hidden: 63,
                ..Default::default()
            },
            SasRecParams {
                stride: 0,
                ..Default::default()
            },
            SasRecParams {
                dropout: 1.0,
                ..Default::default()
            },
            SasRecParams {
                lr: 0.0,
                ..Default::default()
            },
        ] {
            assert!(p.check().is_err(), "{p:?}");
        }
        assert!(SasRecParams::default().check().is_ok());
    }
}
