//! Checkpoints under `checkpoints/<run>/`:
//!
//! ```text
//! step-000500/            one complete checkpoint per save
//!   config.json           Hugging Face T5 config      ┐ loadable by
//!   model.safetensors     Hugging Face tensor names   ┘ transformers
//!   vocab.json            the token layout
//!   genrec.json           genrec config, semantic-ID hash, dataset hash, step, validation
//!   optimizer.safetensors AdamW moments + step        ┐ for --resume
//!   trainer.json          step, best score, patience  ┘
//! latest, best            one line each: the directory of that checkpoint
//! verifier                (a generator run of `genrec train -d`) its verifier's run
//! metrics.jsonl, metrics.svg, train.toml
//! ```
//! A checkpoint directory is written under a temporary name and renamed when
//! complete; the `latest`/`best` pointers are replaced atomically afterwards.
//! A kill at any moment therefore leaves the pointers naming complete
//! checkpoints. This module is the format and its inference side (load,
//! resolve, the model card); what only training writes into a checkpoint
//! (optimizer moments, trainer state) the trainer adds through
//! [`save`]'s `training_files`.
use crate::config::{TaskKind, TrainConfig};
use crate::error::{Error, IoContext, Result};
use crate::model::{hf, T5};
use crate::prompt::PromptConfig;
use crate::semantic_id::Vocab;
use crate::util::fsx::{write_atomic, write_json, StagedDir};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tch::{nn, Device};

pub const FORMAT_VERSION: u32 = 1;

/// What a checkpoint was trained for and from (`genrec.json`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct GenrecMeta {
    pub format_version: u32,
    /// What the model was trained for (`"generate"` or `"verify"` in the file).
    pub task: TaskKind,
    /// How the model reads histories: what inference needs of the training
    /// configuration (cards written before it was stored take it from
    /// `train` when loaded).
    #[serde(default)]
    pub prompt: Option<PromptConfig>,
    /// The whole training configuration, for provenance and `--resume`;
    /// inference reads the card's own fields instead.
    pub train: TrainConfig,
    /// Hash of the semantic IDs (`index.json`'s codes_sha256) the model was trained on.
    pub semantic_ids_sha256: String,
    pub dataset_content_sha256: String,
    pub step: usize,
    /// Validation metrics at this step (name → value).
    pub valid: BTreeMap<String, f64>,
    /// Task-specific extras (e.g. the verifier's λ).
    #[serde(default)]
    pub extra: serde_json::Value,
    /// SHA-256 of the other model this one was built from (a verifier: its
    /// generator's weights); `--resume` refuses a run built from another.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub built_from_sha256: Option<String>,
    /// SHA-256 of each weights file of the checkpoint (`model.safetensors`,
    /// a text reader's `head.safetensors`), filled by [`write_card`] and
    /// checked whenever the checkpoint is loaded ([`check_weights`]): a
    /// file changed or swapped since training is an error, not another
    /// model used silently. Empty in cards written before it was recorded.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub weights: BTreeMap<String, String>,
}

/// What verifier training chose on validation, stored in its best
/// checkpoint's card (`extra`): the weight λ of `log P(yes)` and how many of
/// the generator's candidates it reranks, with the sweep behind the choice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerifierChoice {
    pub lambda: f64,
    pub rerank_top: usize,
    /// The generator checkpoint the sweep reranked.
    pub generator: PathBuf,
    /// Validation NDCG@10 after reranking, for each λ tried.
    pub lambda_sweep: Vec<LambdaPoint>,
}

/// One point of a verifier's λ sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LambdaPoint {
    pub lambda: f64,
    #[serde(rename = "valid_ndcg@10")]
    pub valid_ndcg_at_10: f64,
}

impl VerifierChoice {
    /// The choice stored in a card's `extra`, if any.
    pub fn from_extra(extra: &serde_json::Value) -> Option<Self> {
        serde_json::from_value(extra.clone()).ok()
    }

    pub fn to_extra(&self) -> serde_json::Value {
        serde_json::to_value(self).expect("the choice serialises")
    }
}

impl GenrecMeta {
    /// How the model reads histories.
    pub fn prompt(&self) -> PromptConfig {
        self.prompt.unwrap_or_else(|| self.train.data.prompt())
    }

    /// A text-reading verifier's shape (`None`: the model reads semantic IDs).
    pub fn text_reader(&self) -> Option<crate::config::ReaderShape> {
        match self.task {
            TaskKind::Verify => self.train.verify.text_reader(),
            TaskKind::Generate => None,
        }
    }

    /// What a verifier reads (`None`: a generator).
    pub fn verify_reader(&self) -> Option<crate::config::VerifyReader> {
        match self.task {
            TaskKind::Verify => Some(self.train.verify.reader),
            TaskKind::Generate => None,
        }
    }

    /// The prepared dataset the model was trained on.
    pub fn dataset_dir(&self) -> &Path {
        &self.train.data.dataset
    }

    /// The semantic-ID index the model was trained on.
    pub fn index_dir(&self) -> PathBuf {
        self.train.data.index_dir()
    }
}

pub fn step_dir_name(step: usize) -> String {
    format!("step-{step:07}")
}

/// What every checkpoint holds: the model, its token layout and its card.
pub struct Parts<'a> {
    pub model: &'a T5,
    pub vs: &'a nn::VarStore,
    pub vocab: &'a Vocab,
    pub meta: &'a GenrecMeta,
}

/// Writes a complete checkpoint for `step` and points `latest` (and `best`, if
/// `is_best`) at it; prunes checkpoints neither pointer names.
/// `training_files` writes what training adds (optimizer moments, trainer
/// state) into the staging directory it is given, before the checkpoint is
/// committed.
pub fn save(
    run_dir: &Path,
    step: usize,
    parts: &Parts,
    is_best: bool,
    training_files: &dyn Fn(&Path) -> Result<()>,
) -> Result<PathBuf> {
    let name = step_dir_name(step);
    let dest = run_dir.join(&name);
    let staged = StagedDir::new(&dest)?;
    let tmp = staged.path("");
    hf::save_dir(parts.model, parts.vs, &tmp)?;
    parts.vocab.save(&staged.path("vocab.json"))?;
    write_card(&tmp, parts.meta.clone())?;
    training_files(&tmp)?;
    staged.commit()?;
    point_to(run_dir, &name, is_best)?;
    Ok(dest)
}

/// Points `latest` (and `best`, if `is_best`) at the complete checkpoint
/// `run_dir/name`, then prunes checkpoints neither pointer names.
pub fn point_to(run_dir: &Path, name: &str, is_best: bool) -> Result<()> {
    write_atomic(&run_dir.join("latest"), format!("{name}\n").as_bytes())?;
    if is_best {
        write_atomic(&run_dir.join("best"), format!("{name}\n").as_bytes())?;
    }
    prune(run_dir)
}

/// The weights files a card records: every `*.safetensors` of the
/// checkpoint but the optimizer's moments (training state, not the model).
const UNHASHED: &str = "optimizer.safetensors";

/// Writes `meta` as `dir/genrec.json`, recording the SHA-256 of the
/// weights files already in `dir` (write the weights first).
pub fn write_card(dir: &Path, mut meta: GenrecMeta) -> Result<()> {
    meta.weights.clear();
    for e in std::fs::read_dir(dir).at(dir)? {
        let path = e.at(dir)?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if name.ends_with(".safetensors") && name != UNHASHED {
            let sha = crate::util::hash::sha256_file(&path)?;
            meta.weights.insert(name.to_owned(), sha);
        }
    }
    write_json(&dir.join("genrec.json"), &meta)
}

/// Checks the weights files of checkpoint `dir` against the hashes its card
/// records; `hashed` gives files whose hash the caller has already taken
/// (name, SHA-256). Cards without hashes (written before they were
/// recorded) pass.
pub fn check_weights(dir: &Path, meta: &GenrecMeta, hashed: &[(&str, &str)]) -> Result<()> {
    for (name, want) in &meta.weights {
        let path = dir.join(name);
        let got = match hashed.iter().find(|(n, _)| n == name) {
            Some((_, sha)) => (*sha).to_owned(),
            None => crate::util::hash::sha256_file(&path)?,
        };
        if &got != want {
            return Err(Error::Mismatch(format!(
                "{}: SHA-256 {got} is not the {want} its genrec.json recorded when the \
                 checkpoint was written; the file was changed or replaced since — restore \
                 it or train the checkpoint again",
                path.display()
            )));
        }
    }
    Ok(())
}

/// The `model.safetensors` of checkpoint `dir`, read once and checked
/// against its card (what `--resume` continues from).
pub fn read_weights(dir: &Path) -> Result<crate::util::st::StFile> {
    let (file, sha) = crate::util::st::StFile::read_with_sha256(&dir.join("model.safetensors"))?;
    check_weights(dir, &load_meta(dir)?, &[("model.safetensors", &sha)])?;
    Ok(file)
}

pub(crate) fn read_json<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<T> {
    serde_json::from_slice(&std::fs::read(path).at(path)?)
        .map_err(|e| Error::input(path, None, format!("malformed: {e}")))
}

fn pointer(run_dir: &Path, which: &str) -> Option<PathBuf> {
    let s = std::fs::read_to_string(run_dir.join(which)).ok()?;
    let d = run_dir.join(s.trim());
    d.join("genrec.json").exists().then_some(d)
}

fn prune(run_dir: &Path) -> Result<()> {
    let keep: Vec<PathBuf> = ["latest", "best"]
        .iter()
        .filter_map(|w| pointer(run_dir, w))
        .collect();
    for e in std::fs::read_dir(run_dir).at(run_dir)?.flatten() {
        let p = e.path();
        let is_step = p
            .file_name()
            .and_then(|n| n.to_str())
            .is_some_and(|n| n.starts_with("step-"));
        if is_step && p.is_dir() && !keep.contains(&p) {
            std::fs::remove_dir_all(&p).at(&p)?;
        }
    }
    Ok(())
}

/// The `latest` checkpoint of a run (for `--resume`), if any.
pub fn latest(run_dir: &Path) -> Option<PathBuf> {
    pointer(run_dir, "latest")
}

/// Resolves what a user passes as `--checkpoint`: a run directory (its
/// `best`, else `latest`) or a checkpoint directory itself.
pub fn resolve(path: &Path) -> Result<PathBuf> {
    if path.join("genrec.json").exists() {
        return Ok(path.to_path_buf());
    }
    pointer(path, "best").or_else(|| pointer(path, "latest")).ok_or_else(|| {
        Error::input(path, None, "not a checkpoint (no genrec.json) nor a run directory with a `best` or `latest` checkpoint")
    })
}

/// A checkpoint loaded for inference.
pub struct Loaded {
    pub dir: PathBuf,
    pub model: T5,
    pub vs: nn::VarStore,
    pub vocab: Vocab,
    pub meta: GenrecMeta,
    /// SHA-256 of `model.safetensors` (what `built_from_sha256` records).
    pub weights_sha256: String,
}

/// [`load`], refusing a checkpoint trained for another task.
pub fn load_task(path: &Path, task: TaskKind, device: Device) -> Result<Loaded> {
    let ck = load(path, device)?;
    if ck.meta.task != task {
        return Err(Error::Config(format!(
            "{} is a `{}` checkpoint; a `{}` one is needed here",
            ck.dir.display(),
            ck.meta.task.name(),
            task.name()
        )));
    }
    Ok(ck)
}

pub fn load(path: &Path, device: Device) -> Result<Loaded> {
    let dir = resolve(path)?;
    let meta: GenrecMeta = read_json(&dir.join("genrec.json"))?;
    if meta.format_version != FORMAT_VERSION {
        return Err(Error::Mismatch(format!(
            "{}: checkpoint format {} (this genrec reads {FORMAT_VERSION})",
            dir.display(),
            meta.format_version
        )));
    }
    let vocab = Vocab::load(&dir.join("vocab.json"))?;
    let accept = |sha: &str| check_weights(&dir, &meta, &[("model.safetensors", sha)]);
    let (model, vs, weights_sha256) = hf::load_dir_hashed(&dir, device, &accept)?;
    if model.config.vocab_size != i64::from(vocab.size()) {
        return Err(Error::Mismatch(format!(
            "{}: model vocabulary {} ≠ vocab.json {}",
            dir.display(),
            model.config.vocab_size,
            vocab.size()
        )));
    }
    Ok(Loaded {
        dir,
        model,
        vs,
        vocab,
        meta,
        weights_sha256,
    })
}

pub fn load_meta(dir: &Path) -> Result<GenrecMeta> {
    read_json(&dir.join("genrec.json"))
}

/// Rewrites a checkpoint's `genrec.json` (e.g. with the verifier's chosen λ).
pub fn save_meta(dir: &Path, meta: &GenrecMeta) -> Result<()> {
    write_json(&dir.join("genrec.json"), meta)
}

/// The file in a generator's run directory that names the verifier
/// `genrec train -d` trained over it: `evaluate` and `recommend` rerank with
/// that verifier when no `--rerank` is given.
pub const VERIFIER_LINK: &str = "verifier";

/// Records `verifier_run` as the verifier of the run holding the generator
/// checkpoint `generator`: by its name when the two runs are siblings (so
/// the checkpoints directory can move), else by its absolute path.
pub fn link_verifier(generator: &Path, verifier_run: &Path) -> Result<()> {
    let run = run_of(generator)?;
    let verifier_run = std::path::absolute(verifier_run).at(verifier_run)?;
    let target = match verifier_run.file_name() {
        Some(name) if verifier_run.parent() == run.parent() => PathBuf::from(name),
        _ => verifier_run.clone(),
    };
    let line = format!("{}\n", target.display());
    write_atomic(&run.join(VERIFIER_LINK), line.as_bytes())
}

/// The verifier run linked to the run holding the generator checkpoint
/// `generator` ([`link_verifier`]), if one is.
pub fn linked_verifier(generator: &Path) -> Option<PathBuf> {
    let run = run_of(generator).ok()?;
    let s = std::fs::read_to_string(run.join(VERIFIER_LINK)).ok()?;
    // A name is a sibling of the generator's run; an absolute path stays.
    Some(run.parent()?.join(s.trim()))
}

/// The (absolute) run directory holding checkpoint `dir`.
fn run_of(dir: &Path) -> Result<PathBuf> {
    let dir = std::path::absolute(dir).at(dir)?;
    Ok(dir.parent().map_or(dir.clone(), Path::to_path_buf))
}

/// The best checkpoint of the verifier run `verifier`, when that run is
/// finished (its λ stored) and was trained over the generator weights whose
/// SHA-256 is `generator_sha256`; otherwise an error that says which.
pub fn check_built_over(verifier: &Path, generator_sha256: &str) -> Result<PathBuf> {
    let dir = resolve(verifier)?;
    let meta = load_meta(&dir)?;
    if meta.built_from_sha256.as_deref() != Some(generator_sha256) {
        return Err(Error::Mismatch(format!(
            "verifier {} was trained over other generator weights",
            verifier.display()
        )));
    }
    if meta.task != TaskKind::Verify || VerifierChoice::from_extra(&meta.extra).is_none() {
        return Err(Error::Config(format!(
            "{} is not a finished verifier (no λ stored)",
            dir.display()
        )));
    }
    Ok(dir)
}
