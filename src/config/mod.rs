//! Training configuration: typed TOML (`train/<name>.toml`) with defaults,
//! unknown keys rejected, every key overridable from the command line with
//! `--set section.key=value`, and checked before any work starts.
mod auto;
mod overrides;
mod verify;

use crate::error::{Error, IoContext, Result};
use crate::model::{FeedForward, T5Config};
use crate::runtime::DeviceChoice;
use overrides::apply_override;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};
pub use verify::{ReaderShape, TextHead, VerifyConfig, VerifyObjective, VerifyReader};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields, default)]
pub struct TrainConfig {
    pub run: RunConfig,
    pub data: DataConfig,
    pub model: ModelConfig,
    pub optim: OptimConfig,
    pub eval: EvalConfig,
    /// Only for `--task verify`.
    pub verify: VerifyConfig,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunConfig {
    /// Run name: checkpoints go to `<checkpoints>/<name>/`.
    pub name: String,
    pub checkpoints: PathBuf,
    pub seed: u64,
    /// "generate" (the generator) or "verify" (the yes/no verifier).
    pub task: TaskKind,
    pub device: DeviceChoice,
    /// CPU threads for libtorch (0: one per core).
    pub threads: usize,
    /// bf16 mixed precision on CUDA (weights and optimizer stay f32).
    pub bf16: bool,
    /// Training-log interval in steps.
    pub log_every: usize,
    /// Stop (validating and checkpointing first) after this many minutes of
    /// training in this invocation (0: no limit).
    pub max_minutes: f64,
    /// Start the generator from this checkpoint's weights (same model sizes
    /// and semantic IDs), e.g. a run with shorter histories.
    pub init_from: Option<PathBuf>,
    /// On a GPU, capture the training step once as a CUDA graph and replay
    /// it (one launch per step instead of thousands; batches padded to one
    /// shape). The generator in one process only; elsewhere ignored.
    pub cuda_graphs: bool,
}

impl Default for RunConfig {
    fn default() -> Self {
        Self {
            name: "run".into(),
            checkpoints: "checkpoints".into(),
            seed: 42,
            task: TaskKind::Generate,
            device: DeviceChoice::Auto,
            threads: 0,
            bf16: true,
            log_every: 50,
            max_minutes: 0.0,
            init_from: None,
            cuda_graphs: true,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum TaskKind {
    /// The generator: history → next item's semantic ID
    Generate,
    /// The TALLRec-style yes/no verifier used for reranking
    Verify,
}

impl TaskKind {
    /// The name in genrec.json and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            TaskKind::Generate => "generate",
            TaskKind::Verify => "verify",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct DataConfig {
    /// Prepared dataset directory (`genrec prepare`).
    pub dataset: PathBuf,
    /// Index directory (`genrec index`); default `<dataset>/index`.
    pub index: Option<PathBuf>,
    /// History items in each input (TIGER: 20).
    pub max_history: usize,
    /// Put the hashed user token in the prompt (TIGER: yes).
    pub user_token: bool,
    /// "tokens": one encoder position per token (TIGER); "summed": one per
    /// item, the sum of its tokens' embeddings (long histories for less).
    pub item_input: crate::prompt::ItemInput,
    /// Most recent history items the generator's history-match bias reads
    /// (0: no such bias, as in TIGER). Can exceed `max_history`: the bias
    /// costs a lookup, not encoder positions.
    pub match_history: usize,
    /// The generator reads the items' text: the embeddings the index was
    /// built from (`<dataset>/embeddings.safetensors`), through a learned
    /// projection added to every encoder position of a history item.
    pub item_text: bool,
    /// Generator runs: leave each user's last N training positions out of
    /// training (at most half of a user's positions). Such a generator is a
    /// verifier's `verify.miner`: its beams on positions it never trained on
    /// are the hard negatives, as the generator's beams are at inference.
    pub hold_out_last: usize,
}

impl Default for DataConfig {
    fn default() -> Self {
        Self {
            dataset: PathBuf::new(),
            index: None,
            max_history: 20,
            user_token: true,
            item_input: Default::default(),
            match_history: 0,
            item_text: false,
            hold_out_last: 0,
        }
    }
}

impl DataConfig {
    pub fn prompt(&self) -> crate::prompt::PromptConfig {
        crate::prompt::PromptConfig {
            max_history: self.max_history,
            user_token: self.user_token,
            item_input: self.item_input,
            match_history: self.match_history,
            item_text: self.item_text,
        }
    }

    pub fn index_dir(&self) -> PathBuf {
        self.index
            .clone()
            .unwrap_or_else(|| self.dataset.join("index"))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct ModelConfig {
    pub d_model: i64,
    pub d_kv: i64,
    pub d_ff: i64,
    pub num_layers: i64,
    pub num_decoder_layers: i64,
    pub num_heads: i64,
    pub dropout: f64,
    /// Dropout on attention probabilities (default: `dropout`, as in T5).
    pub attention_dropout: Option<f64>,
    pub feed_forward: FeedForward,
    pub relative_attention_num_buckets: i64,
    pub relative_attention_max_distance: i64,
}

impl Default for ModelConfig {
    /// TIGER's size.
    fn default() -> Self {
        let t = T5Config::tiger(0);
        Self {
            d_model: t.d_model,
            d_kv: t.d_kv,
            d_ff: t.d_ff,
            num_layers: t.num_layers,
            num_decoder_layers: t.decoder_layers(),
            num_heads: t.num_heads,
            dropout: t.dropout_rate,
            attention_dropout: None,
            feed_forward: t.feed_forward_proj,
            relative_attention_num_buckets: t.relative_attention_num_buckets,
            relative_attention_max_distance: t.relative_attention_max_distance,
        }
    }
}

impl ModelConfig {
    /// Whether a model with config `t` has the weights' shapes of this one.
    pub fn same_shape(&self, t: &T5Config) -> bool {
        t.d_model == self.d_model
            && t.num_layers == self.num_layers
            && t.decoder_layers() == self.num_decoder_layers
            && t.d_ff == self.d_ff
            && t.num_heads == self.num_heads
            && t.d_kv == self.d_kv
            && t.feed_forward_proj == self.feed_forward
            && t.relative_attention_num_buckets == self.relative_attention_num_buckets
    }

    pub fn t5(&self, vocab_size: i64) -> T5Config {
        T5Config {
            d_model: self.d_model,
            d_kv: self.d_kv,
            d_ff: self.d_ff,
            num_layers: self.num_layers,
            num_decoder_layers: Some(self.num_decoder_layers),
            num_heads: self.num_heads,
            dropout_rate: self.dropout,
            attention_dropout_rate: self.attention_dropout,
            feed_forward_proj: self.feed_forward,
            relative_attention_num_buckets: self.relative_attention_num_buckets,
            relative_attention_max_distance: self.relative_attention_max_distance,
            ..T5Config::tiger(vocab_size)
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Schedule {
    /// Linear warm-up, then lr · sqrt(warmup / step) (TIGER, T5).
    InverseSqrt,
    /// Linear warm-up, then cosine decay to 0 at max_steps.
    Cosine,
    /// Linear warm-up, then constant.
    Constant,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OptimConfig {
    pub lr: f64,
    pub schedule: Schedule,
    pub warmup_steps: usize,
    pub weight_decay: f64,
    pub beta1: f64,
    pub beta2: f64,
    pub eps: f64,
    /// Clip the global gradient norm to this (0: off).
    pub grad_clip: f64,
    pub batch_size: usize,
    pub max_steps: usize,
    /// Batches of similar history length (0: off): each epoch's shuffled
    /// examples are sorted by history length within pools of this many
    /// batches and the batches shuffled, so a batch pads to less (short
    /// histories are the norm in product catalogues).
    pub length_pool: usize,
    /// Validate and checkpoint an exponential moving average of the
    /// weights with this decay instead of the weights themselves (0: off;
    /// `trainer::ema`): training goes on from the raw weights.
    pub ema: f64,
}

impl Default for OptimConfig {
    fn default() -> Self {
        Self {
            lr: 1e-3,
            schedule: Schedule::InverseSqrt,
            warmup_steps: 1000,
            weight_decay: 0.035,
            beta1: 0.9,
            beta2: 0.999,
            eps: 1e-8,
            grad_clip: 1.0,
            batch_size: 256,
            max_steps: 20_000,
            length_pool: 0,
            ema: 0.0,
        }
    }
}

impl OptimConfig {
    /// Learning rate at a 1-based step.
    pub fn lr_at(&self, step: usize) -> f64 {
        let w = self.warmup_steps.max(1) as f64;
        let s = step.max(1) as f64;
        if s <= w {
            return self.lr * s / w;
        }
        match self.schedule {
            Schedule::InverseSqrt => self.lr * (w / s).sqrt(),
            Schedule::Constant => self.lr,
            Schedule::Cosine => {
                let t = ((s - w) / (self.max_steps as f64 - w).max(1.0)).min(1.0);
                self.lr * 0.5 * (1.0 + (std::f64::consts::PI * t).cos())
            }
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EvalConfig {
    /// Validate (and checkpoint) every this many steps.
    pub every: usize,
    /// Beam width for validation.
    pub beam: usize,
    /// Stop after this many validations without a better NDCG@10 (0: never).
    pub patience: usize,
    /// Validate on at most this many users (0: all), a fixed seeded sample.
    pub max_users: usize,
    /// Users per beam-search batch.
    pub batch_size: usize,
}

impl Default for EvalConfig {
    fn default() -> Self {
        Self {
            every: 1000,
            beam: 20,
            patience: 5,
            max_users: 0,
            batch_size: 64,
        }
    }
}

impl TrainConfig {
    /// Reads a TOML file and applies `section.key=value` overrides.
    pub fn load(path: &Path, overrides: &[String]) -> Result<Self> {
        let text = std::fs::read_to_string(path).at(path)?;
        let value: toml::Value = toml::from_str(&text)
            .map_err(|e| Error::input(path, None, format!("invalid TOML: {e}")))?;
        Self::from_value(value, overrides, &path.display().to_string())
    }

    /// `self` with `--set` overrides applied, checked.
    pub fn with_overrides(&self, overrides: &[String]) -> Result<Self> {
        let value = toml::Value::try_from(self).map_err(|e| Error::Other(e.to_string()))?;
        Self::from_value(value, overrides, "the configuration")
    }

    fn from_value(mut value: toml::Value, overrides: &[String], source: &str) -> Result<Self> {
        for o in overrides {
            apply_override(&mut value, o)?;
        }
        let cfg: Self = value.try_into().map_err(|e: toml::de::Error| {
            Error::Config(format!("{source}: invalid training config: {e}"))
        })?;
        cfg.check()?;
        Ok(cfg)
    }

    pub fn check(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Config(m.to_string()));
        if self.run.name.is_empty() || self.run.name.contains('/') {
            return bad("run.name must be a non-empty name without '/'");
        }
        if self.data.dataset.as_os_str().is_empty() {
            return bad("data.dataset is required");
        }
        if self.data.max_history == 0 {
            return bad("data.max_history must be at least 1");
        }
        if self.optim.batch_size == 0 || self.optim.max_steps == 0 {
            return bad("optim.batch_size and optim.max_steps must be at least 1");
        }
        if !(0.0..1.0).contains(&self.optim.ema) {
            return bad("optim.ema must be at least 0 and below 1");
        }
        if self.optim.lr.is_nan() || self.optim.lr <= 0.0 {
            return bad("optim.lr must be positive");
        }
        if self.eval.every == 0 || self.eval.beam == 0 || self.eval.batch_size == 0 {
            return bad("eval.every, eval.beam and eval.batch_size must be at least 1");
        }
        if self.model.d_model <= 0 || self.model.num_heads <= 0 || self.model.d_kv <= 0 {
            return bad("model sizes must be positive");
        }
        if self.run.task == TaskKind::Verify {
            if self.data.hold_out_last > 0 {
                return bad("data.hold_out_last is for generator runs: a verifier takes its held-out positions from verify.miner's");
            }
            self.verify.check().map_err(Error::Config)?;
        }
        self.model.t5(1).check()
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("config serialises")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn overrides_and_unknown_keys() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("c.toml");
        std::fs::write(&p, "[data]\ndataset = \"x\"\n[optim]\nlr = 0.5\n").unwrap();
        let c = TrainConfig::load(
            &p,
            &[
                "optim.batch_size=8".into(),
                "run.name=abc".into(),
                "model.feed_forward=\"gated-gelu\"".into(),
            ],
        )
        .unwrap();
        assert_eq!(
            (c.optim.lr, c.optim.batch_size, c.run.name.as_str()),
            (0.5, 8, "abc")
        );
        assert_eq!(c.model.feed_forward, FeedForward::GatedGelu);
        std::fs::write(&p, "[data]\ndataset = \"x\"\nmax_hist = 3\n").unwrap();
        let e = TrainConfig::load(&p, &[]).unwrap_err().to_string();
        assert!(e.contains("max_hist"), "{e}");
        std::fs::write(&p, "[data]\ndataset = \"x\"\n").unwrap();
        assert!(TrainConfig::load(&p, &["optim.lr=-1".into()]).is_err());
    }
    #[test]
    fn schedules() {
        let o = OptimConfig {
            lr: 1.0,
            warmup_steps: 100,
            max_steps: 1100,
            ..Default::default()
        };
        assert_eq!(o.lr_at(50), 0.5);
        assert_eq!(o.lr_at(100), 1.0);
        assert_eq!(o.lr_at(400), 0.5);
        let c = OptimConfig {
            schedule: Schedule::Cosine,
            ..o.clone()
        };
        assert!((c.lr_at(600) - 0.5).abs() < 1e-12);
        assert!(c.lr_at(1100).abs() < 1e-12);
    }
}
