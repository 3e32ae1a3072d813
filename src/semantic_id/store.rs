//! The index directory written by `genrec index`:
//! `semantic_ids.safetensors` (codes + centroids), `vocab.json`, `index.json`
//! (parameters, health, hashes) and, after cold-start additions,
//! `added_items.jsonl`.
use super::{Health, IndexParams, SemanticIds, Trie, Vocab};
use crate::data::{Dataset, Item};
use crate::error::{Error, IoContext, Result};
use crate::util::fsx::write_atomic;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct IndexSummary {
    pub params: IndexParams,
    pub health: Health,
    /// Width of the clustered vectors (the text embeddings', plus the
    /// collaborative vectors' when `params.collab_weight` > 0).
    pub dim: usize,
    pub items: usize,
    pub added_items: usize,
    pub embeddings_sha256: String,
    pub dataset_content_sha256: String,
    /// The hash a checkpoint records and evaluation checks.
    pub codes_sha256: String,
    pub build_seconds: f64,
}

impl IndexSummary {
    /// Width of the text embeddings the index was built from.
    pub fn text_dim(&self) -> usize {
        if self.params.collab_weight > 0.0 {
            self.dim - self.params.collab_dim
        } else {
            self.dim
        }
    }
}

/// A loaded index directory: IDs, vocabulary and the full item list
/// (dataset items followed by cold-start additions).
pub struct Index {
    pub dir: PathBuf,
    pub ids: SemanticIds,
    pub vocab: Vocab,
    pub summary: IndexSummary,
    pub added: Vec<Item>,
}

impl Index {
    pub fn save(
        dir: &Path,
        ids: &SemanticIds,
        vocab: &Vocab,
        summary: &IndexSummary,
        added: &[Item],
    ) -> Result<()> {
        std::fs::create_dir_all(dir).at(dir)?;
        ids.save(&dir.join("semantic_ids.safetensors"))?;
        vocab.save(&dir.join("vocab.json"))?;
        let mut lines = Vec::new();
        for it in added {
            serde_json::to_writer(&mut lines, it).map_err(|e| Error::Other(e.to_string()))?;
            lines.push(b'\n');
        }
        write_atomic(&dir.join("added_items.jsonl"), &lines)?;
        // index.json last: its presence marks a complete index.
        crate::util::fsx::write_json(&dir.join("index.json"), summary)
    }

    pub fn load(dir: &Path) -> Result<Self> {
        let sp = dir.join("index.json");
        if !sp.exists() {
            return Err(Error::input(
                dir,
                None,
                "not an index directory (no index.json); run `genrec index` first",
            ));
        }
        let summary: IndexSummary = serde_json::from_slice(&std::fs::read(&sp).at(&sp)?)
            .map_err(|e| Error::input(&sp, None, format!("malformed: {e}")))?;
        let ids = SemanticIds::load(&dir.join("semantic_ids.safetensors"))?;
        if ids.codes_sha256() != summary.codes_sha256 {
            return Err(Error::Mismatch(format!(
                "{}: semantic_ids.safetensors does not match index.json (codes hash differs)",
                dir.display()
            )));
        }
        let vocab = Vocab::load(&dir.join("vocab.json"))?;
        let added: Vec<Item> = crate::data::dataset::read_jsonl(&dir.join("added_items.jsonl"))?;
        Ok(Self {
            dir: dir.to_path_buf(),
            ids,
            vocab,
            summary,
            added,
        })
    }

    /// Checks that the index was built for this dataset.
    pub fn check_dataset(&self, ds: &Dataset) -> Result<()> {
        if self.summary.dataset_content_sha256 != ds.manifest.content_sha256 {
            return Err(Error::Mismatch(format!(
                "index {} was built for a different dataset than {} (content hash differs); re-run `genrec embed` and `genrec index`",
                self.dir.display(),
                ds.dir.display()
            )));
        }
        if self.ids.n_items() != ds.items.len() + self.added.len() {
            return Err(Error::Mismatch(format!(
                "index has {} items, dataset {} (+{} added)",
                self.ids.n_items(),
                ds.items.len(),
                self.added.len()
            )));
        }
        Ok(())
    }

    pub fn trie(&self) -> Result<Trie> {
        self.ids.trie(&self.vocab, None)
    }
}
