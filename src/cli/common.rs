//! What `evaluate` and `recommend` share: loading a generator checkpoint with
//! its dataset and index (and checking they belong together), and the
//! verifier's rerank options.
use anyhow::Context;
use genrec::data::Dataset;
use genrec::decode::generator::attach_item_text;
use genrec::decode::Hit;
use genrec::semantic_id::store::Index;
use genrec::trainer::checkpoint::{self, Loaded};
use genrec::verify::{rerank, Pair, Verifier};
use std::path::PathBuf;
use tch::Device;

/// Where the model and its data come from.
#[derive(clap::Args, Debug, Clone)]
pub struct ModelArgs {
    /// Checkpoint directory, or a run directory (its best checkpoint).
    #[arg(long)]
    pub checkpoint: PathBuf,
    /// Dataset directory (default: the one the checkpoint was trained on).
    #[arg(long)]
    pub dataset: Option<PathBuf>,
    /// Index directory (default: the one the checkpoint was trained on).
    #[arg(long)]
    pub index: Option<PathBuf>,
}

/// Reranking with a verifier.
#[derive(clap::Args, Debug, Clone)]
pub struct RerankArgs {
    /// Rerank the generator's top candidates with this verifier checkpoint.
    #[arg(long)]
    pub rerank: Option<PathBuf>,
    /// Candidates reranked (default: the verifier's `rerank_top`).
    #[arg(long)]
    pub rerank_top: Option<usize>,
    /// Weight of log P(yes) (default: the λ chosen on validation and stored with the verifier).
    #[arg(long)]
    pub lambda: Option<f64>,
}

pub struct Inference {
    pub ck: Loaded,
    pub ds_dir: PathBuf,
    pub ds: Dataset,
    pub index: Index,
    pub item_tokens: Vec<Vec<u32>>,
}

/// Loads checkpoint, dataset and index; refuses an index whose semantic IDs
/// differ from those the checkpoint was trained on.
pub fn load(a: &ModelArgs, device: Device) -> anyhow::Result<Inference> {
    let mut ck = checkpoint::load_task(&a.checkpoint, "generate", device)?;
    let ds_dir = a
        .dataset
        .clone()
        .unwrap_or_else(|| ck.meta.train.data.dataset.clone());
    let ds = Dataset::load(&ds_dir)?;
    ds.check_history(ck.meta.train.data.prompt().history_len())?;
    let index = Index::load(
        &a.index
            .clone()
            .unwrap_or_else(|| ck.meta.train.data.index_dir()),
    )?;
    index.check_dataset(&ds)?;
    let same_codes = index.summary.codes_sha256 == ck.meta.semantic_ids_sha256;
    // Cold-start additions change the codes hash but keep the trained items' IDs.
    let extended = index.summary.added_items > 0
        && index.ids.codes_sha256_of(ds.items.len()) == ck.meta.semantic_ids_sha256;
    anyhow::ensure!(
        same_codes || extended,
        "checkpoint {} was trained on semantic IDs {} but index {} has {}; evaluate with the index it was trained on",
        ck.dir.display(),
        &ck.meta.semantic_ids_sha256[..12.min(ck.meta.semantic_ids_sha256.len())],
        index.dir.display(),
        &index.summary.codes_sha256[..12]
    );
    anyhow::ensure!(
        index.vocab == ck.vocab,
        "the index's vocabulary differs from the checkpoint's"
    );
    attach_item_text(&mut ck.model, &ck.meta.train.data.prompt(), &ds_dir, &index)?;
    let item_tokens = index.ids.item_tokens(&index.vocab);
    Ok(Inference {
        ck,
        ds_dir,
        ds,
        index,
        item_tokens,
    })
}

/// A loaded verifier with its λ and the number of candidates it reranks.
pub struct Reranker {
    pub ck: Loaded,
    pub lambda: f64,
    pub top: usize,
}

impl RerankArgs {
    pub fn load(
        &self,
        inf: &Inference,
        device: Device,
        default_top: usize,
    ) -> anyhow::Result<Option<Reranker>> {
        let Some(p) = &self.rerank else {
            return Ok(None);
        };
        let mut v = checkpoint::load_task(p, "verify", device)?;
        attach_item_text(
            &mut v.model,
            &v.meta.train.data.prompt(),
            &inf.ds_dir,
            &inf.index,
        )?;
        inf.ds
            .check_history(v.meta.train.data.prompt().history_len())?;
        anyhow::ensure!(
            v.meta.semantic_ids_sha256 == inf.ck.meta.semantic_ids_sha256,
            "verifier {} was trained on other semantic IDs than the generator",
            v.dir.display()
        );
        let lambda = self
            .lambda
            .or_else(|| v.meta.extra["lambda"].as_f64())
            .context("the verifier has no stored λ; pass --lambda")?;
        let top = self
            .rerank_top
            .or_else(|| v.meta.extra["rerank_top"].as_u64().map(|x| x as usize))
            .unwrap_or(default_top);
        Ok(Some(Reranker { ck: v, lambda, top }))
    }
}

impl Reranker {
    /// Reranks each user's candidates; all (user, candidate) pairs of the
    /// batch go through the verifier together.
    pub fn apply(
        &self,
        item_tokens: &[Vec<u32>],
        users: &[(&str, &[u32])],
        hits: &[Vec<Hit>],
    ) -> Vec<Vec<Hit>> {
        let ver = Verifier {
            model: &self.ck.model,
            vocab: &self.ck.vocab,
            item_tokens,
            prompt: self.ck.meta.train.data.prompt(),
        };
        let pairs: Vec<Pair> = users
            .iter()
            .zip(hits)
            .flat_map(|(&(user, history), hs)| {
                hs.iter().map(move |x| Pair {
                    user,
                    history,
                    candidate: x.item,
                })
            })
            .collect();
        let yes = ver.log_p_yes(&pairs, 1024);
        let mut at = 0;
        hits.iter()
            .map(|hs| {
                let r = rerank(hs, &yes[at..at + hs.len()], self.lambda);
                at += hs.len();
                r
            })
            .collect()
    }
}
