//! What the commands share: device and threads; the options naming a generator
//! checkpoint with its dataset and index, and the verifier's rerank options;
//! loading and its checks are the library's (`genrec::infer`).
use anyhow::Context;
use genrec::data::Known;
use genrec::infer::{Recommender, RerankSpec, Reranker, Source};
use genrec::runtime::{self, DeviceChoice};
use std::path::PathBuf;
use tch::Device;

/// Where the work runs: the options every model-running command shares.
#[derive(clap::Args, Debug, Clone)]
pub struct RuntimeArgs {
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    /// CPU threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
}

impl RuntimeArgs {
    /// Sets the CPU threads and returns the device to run on.
    pub fn start(&self) -> anyhow::Result<Device> {
        runtime::set_threads(self.threads);
        Ok(runtime::device(self.device)?)
    }
}

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

/// How the generator decodes, shared by `evaluate` and `recommend`.
#[derive(clap::Args, Debug, Clone)]
pub struct DecodeArgs {
    /// Beam width (default: twice the list length, at least 20).
    #[arg(long)]
    pub beam: Option<usize>,
    /// Users per beam-search batch.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Never rank an item already in the user's history.
    #[arg(long)]
    pub exclude_seen: bool,
}

impl DecodeArgs {
    /// The beam width for lists of `top_k` items.
    pub fn beam_for(&self, top_k: usize) -> usize {
        self.beam.unwrap_or((2 * top_k).max(20))
    }
}

/// Reranking with a verifier.
#[derive(clap::Args, Debug, Clone)]
pub struct RerankArgs {
    /// Rerank the generator's top candidates with this verifier checkpoint.
    /// Without it, the verifier `genrec train -d` trained over this
    /// generator (named in its run directory's `verifier` file) reranks, when
    /// it was trained over these very weights.
    #[arg(long)]
    pub rerank: Option<PathBuf>,
    /// The generator's own lists (with its text fusion): no verifier, not
    /// even the one `genrec train -d` trained over it.
    #[arg(long, conflicts_with_all = ["rerank", "rerank_top", "lambda", "no_blend"])]
    pub no_rerank: bool,
    /// Candidates reranked (default: the verifier's `rerank_top`).
    #[arg(long)]
    pub rerank_top: Option<usize>,
    /// Weight of log P(yes) (default: the λ chosen on validation and stored
    /// with the verifier). Giving one reranks by λ even where training chose
    /// the blend.
    #[arg(long)]
    pub lambda: Option<f64>,
    /// Rerank the generator's candidates by `log p_gen + λ · log P(yes)` even
    /// where training chose the blend of the generator's beams, the text
    /// neighbours, the sequence verifier's own top items, the item
    /// transitions and the user's own items (README: "the blend"). Where
    /// training found on validation that nobody takes an item again, the
    /// blend leaves the user's own items out (the verifier's card says so);
    /// the λ-reranking does not. Where a learned rescoring of the blend's
    /// candidates (their ranks, popularity and text cosines to the history)
    /// beat its weights on validation users it was not fitted on, the
    /// blend's lists are that rescoring's.
    #[arg(long)]
    pub no_blend: bool,
}

impl ModelArgs {
    /// Loads the generator with its dataset and index (checked to belong together).
    pub fn load(&self, device: Device) -> anyhow::Result<Recommender> {
        let src = Source {
            checkpoint: self.checkpoint.clone(),
            dataset: self.dataset.clone(),
            index: self.index.clone(),
        };
        Ok(Recommender::load(&src, device)?)
    }
}

impl RerankArgs {
    /// The verifier: the one `--rerank` names, else the one `genrec train -d`
    /// linked to the generator (unless `--no-rerank`), else none; its blend
    /// counts what `known` allows.
    pub fn load(
        &self,
        rec: &Recommender,
        device: Device,
        default_top: usize,
        known: Known,
    ) -> anyhow::Result<Option<Reranker>> {
        let linked = self.rerank.is_none();
        let p = match (&self.rerank, self.no_rerank) {
            (Some(p), _) => p.clone(),
            (None, true) => return Ok(None),
            (None, false) => match rec.linked_verifier() {
                Ok(Some(p)) => {
                    genrec::tell!(
                        "reranking with {}, the verifier `genrec train -d` trained over this generator (--no-rerank: the generator's own lists)",
                        p.display()
                    );
                    p
                }
                Ok(None) => return Ok(None),
                Err(e) => {
                    genrec::tell!("not reranking: {e} (genrec train -d <dataset> --task verify trains it again)");
                    return Ok(None);
                }
            },
        };
        let spec = RerankSpec {
            verifier: p,
            lambda: self.lambda,
            top: self.rerank_top,
            no_blend: self.no_blend,
            known,
        };
        let r = Reranker::load(&spec, rec, device, default_top).with_context(|| {
            if linked {
                "the verifier `genrec train -d` linked to this generator (--no-rerank: without it)"
            } else {
                "--rerank"
            }
        })?;
        Ok(Some(r))
    }
}

/// `--shard i/n`: part i (0-based) of n.
pub fn parse_shard(s: &str) -> Result<genrec::util::part::Part, String> {
    genrec::util::part::Part::parse(s)
}
