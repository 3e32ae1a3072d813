//! `genrec train`: teacher-forced seq2seq training of the generator on every
//! prefix of each user's training sequence (TIGER's sliding window, at most
//! `max_history` items), AdamW with warm-up then decay, gradient clipping,
//! dropout; validation Recall/NDCG@10 with constrained beam search every N
//! steps, early stopping on NDCG@10, best checkpoint kept; resumable exactly.
pub mod blend;
pub mod data_parallel;
pub mod ema;
pub mod examples;
pub mod fusion;
pub mod graph_set;
pub mod graphed;
pub mod optim;
pub mod plot;
pub mod prefetch;
mod resume;
pub mod sequence_verify;
mod state;
pub mod task;
pub mod text_adapter;
pub mod text_verify;
pub mod validation;
pub mod verify_lambda;
pub mod verify_task;

pub use examples::{examples, history_lengths, make_batch, split_examples, Example};
pub use optim::optimise;
use plot::truncate_metrics;
pub use plot::write_plot;
pub use state::{TrainOptions, TrainSummary, TrainerState};
pub use task::{batch_loss, copy_shared, BatchBuilder, GenerateTask, Task};
pub use validation::{sample_users, validate};

use crate::artifact::checkpoint::{self, GenrecMeta};
use crate::config::{TaskKind, TrainConfig};
use crate::data::Dataset;
use crate::error::{Error, IoContext, Result};
use crate::model::{hf_init, T5};
use crate::progress::Progress;
use crate::semantic_id::store::Index;
use crate::semantic_id::{Trie, Vocab};
use crate::util::fsx::write_json;
use optim::AdamW;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::{nn, Device, Kind, Tensor};

pub use prefetch::epoch_order;

pub use crate::batch::{batch_of, Batch, Matches};

pub struct Trainer {
    pub cfg: TrainConfig,
    pub ds: Dataset,
    pub index: Index,
    pub vocab: Vocab,
    pub item_tokens: Vec<Vec<u32>>,
    pub trie: Trie,
    pub device: Device,
    pub run_dir: PathBuf,
}

impl Trainer {
    /// `model` decoding over this trainer's items and trie with `prompt` and
    /// `width` beams: the model being trained, or a generator checkpoint
    /// (with its own prompt settings).
    pub fn generator<'a>(
        &'a self,
        model: &'a T5,
        prompt: crate::prompt::PromptConfig,
        width: usize,
    ) -> crate::decode::generator::Generator<'a> {
        crate::decode::generator::Generator::beam(
            model,
            &self.vocab,
            &self.item_tokens,
            &self.trie,
            prompt,
            width,
        )
    }

    /// Gives `model` this run's item text table when `prompt` reads item text
    /// (every model training builds or loads goes through here).
    pub fn attach_item_text(
        &self,
        model: &mut T5,
        prompt: &crate::prompt::PromptConfig,
    ) -> Result<()> {
        crate::decode::generator::attach_item_text(
            model,
            prompt,
            &self.cfg.data.dataset,
            &self.index,
        )
    }

    /// A generator checkpoint trained on this trainer's semantic IDs.
    pub fn load_generator(&self, path: &Path) -> Result<checkpoint::Loaded> {
        let mut g = checkpoint::load_task(path, TaskKind::Generate, self.device)?;
        if g.meta.semantic_ids_sha256 != self.index.summary.codes_sha256 {
            return Err(Error::Mismatch(format!(
                "the generator {} was trained on other semantic IDs than {}",
                g.dir.display(),
                self.index.dir.display()
            )));
        }
        self.attach_item_text(&mut g.model, &g.meta.prompt())?;
        Ok(g)
    }

    /// Loads data and index and checks that they belong together, before any training.
    pub fn new(cfg: TrainConfig, device: Device) -> Result<Self> {
        cfg.check()?;
        let ds = Dataset::load(&cfg.data.dataset)?;
        ds.check_history(cfg.data.prompt().history_len())?;
        let index = Index::load(&cfg.data.index_dir())?;
        index.check_dataset(&ds)?;
        if !index.added.is_empty() {
            return Err(Error::Config(
                "train on an index without cold-start additions (they have no interactions)".into(),
            ));
        }
        let vocab = index.vocab.clone();
        let item_tokens = index.ids.item_tokens(&vocab);
        let trie = index.trie()?;
        let run_dir = cfg.run.checkpoints.join(&cfg.run.name);
        Ok(Self {
            cfg,
            ds,
            index,
            vocab,
            item_tokens,
            trie,
            device,
            run_dir,
        })
    }

    fn meta(&self, task: &dyn Task, step: usize, valid: BTreeMap<String, f64>) -> GenrecMeta {
        GenrecMeta {
            format_version: checkpoint::FORMAT_VERSION,
            task: task.kind(),
            prompt: Some(self.cfg.data.prompt()),
            built_from_sha256: task.built_from(),
            train: self.cfg.clone(),
            semantic_ids_sha256: self.index.summary.codes_sha256.clone(),
            dataset_content_sha256: self.ds.manifest.content_sha256.clone(),
            step,
            valid,
            extra: serde_json::Value::Null,
            weights: BTreeMap::new(),
        }
    }

    fn summary(
        &self,
        vs: &nn::VarStore,
        state: &TrainerState,
        task: &dyn Task,
        examples_per_second: f64,
        stopped_early: bool,
    ) -> TrainSummary {
        TrainSummary {
            run_dir: self.run_dir.clone(),
            steps: state.step,
            best_step: state.best_step,
            best_score: state.best_score,
            score_key: task.score_key().to_string(),
            examples_per_second,
            stopped_early,
            device: crate::runtime::describe(self.device),
            parameters: vs
                .trainable_variables()
                .iter()
                .map(|t| t.numel() as i64)
                .sum(),
            weights_sha256: None,
        }
    }

    pub fn run(
        &self,
        task: &dyn Task,
        opts: &TrainOptions,
        progress: &dyn Progress,
    ) -> Result<TrainSummary> {
        self.run_in(None, task, opts, progress)
    }

    /// [`Trainer::run`] as one rank of the data-parallel job `group` (None:
    /// the only process); see `data_parallel`.
    pub fn run_in(
        &self,
        group: Option<&crate::dist::Group>,
        task: &dyn Task,
        opts: &TrainOptions,
        progress: &dyn Progress,
    ) -> Result<TrainSummary> {
        let cfg = &self.cfg;
        let ranks = data_parallel::Ranks::new(group);
        crate::runtime::seed(cfg.run.seed);
        let mut vs = nn::VarStore::new(self.device);
        let mut t5cfg = task.model_config(cfg.model.t5(i64::from(self.vocab.size())));
        // The index records the width of the embeddings it was built from.
        t5cfg.genrec_text_dim = cfg
            .data
            .item_text
            .then_some(self.index.summary.text_dim() as i64);
        let mut model = T5::new(vs.root(), &t5cfg);
        hf_init(&vs, &t5cfg);
        self.attach_item_text(&mut model, &cfg.data.prompt())?;
        task.init(&mut vs)?;
        if self.device.is_cuda() && cfg.run.bf16 {
            model.set_compute_kind(Kind::BFloat16);
        }
        let mut opt = AdamW::for_config(&vs, &cfg.optim).average(cfg.optim.ema);
        let mut state = TrainerState {
            step: 0,
            best_score: f64::NEG_INFINITY,
            best_step: 0,
            evals_since_best: 0,
        };
        let metrics_path = self.run_dir.join("metrics.jsonl");
        let resume_from = match ranks.lead() {
            true => self.resume_from(task, opts, progress)?,
            false => None,
        };
        if let Some(dir) = resume_from {
            let mut f = checkpoint::read_weights(&dir)?;
            crate::util::st::load_into(&vs, &mut f, &dir.join("model.safetensors"), &[])?;
            opt.load(&dir.join("optimizer.safetensors"))?;
            state = checkpoint::read_json(&dir.join("trainer.json"))?;
            truncate_metrics(&metrics_path, state.step)?;
        } else if ranks.lead() {
            if self.run_dir.join("latest").exists() {
                return Err(Error::Config(format!("{} already holds a run; pass --resume to continue it or choose another run.name", self.run_dir.display())));
            }
            std::fs::create_dir_all(&self.run_dir).at(&self.run_dir)?;
            let _ = std::fs::remove_file(&metrics_path);
        }
        ranks.start_from_lead(&mut opt, &mut state)?;
        // Nothing left to do when the resumed run finished (or stopped early) before.
        let early = cfg.eval.patience > 0 && state.evals_since_best >= cfg.eval.patience;
        if state.step >= cfg.optim.max_steps || early {
            let mut summary = self.summary(&vs, &state, task, 0.0, early);
            summary.weights_sha256 = ranks.weights_digest(&opt)?;
            return Ok(summary);
        }
        if ranks.lead() {
            crate::util::fsx::write_atomic(
                &self.run_dir.join("train.toml"),
                cfg.to_toml().as_bytes(),
            )?;
        }

        let n_examples = task.n_examples();
        let lengths = (cfg.optim.length_pool > 0)
            .then(|| task.example_lengths())
            .flatten();
        let schedule = prefetch::Schedule {
            n_examples,
            batch_size: cfg.optim.batch_size,
            seed: cfg.run.seed,
            part: ranks.part(),
            lengths: lengths.as_deref().map(|l| (l, cfg.optim.length_pool)),
        };
        // Rank 0 alone keeps the log (a sink elsewhere).
        let mut log: Box<dyn Write> = match ranks.lead() {
            true => Box::new(
                std::fs::OpenOptions::new()
                    .create(true)
                    .append(true)
                    .open(&metrics_path)
                    .at(&metrics_path)?,
            ),
            false => Box::new(std::io::sink()),
        };
        let score_key = task.score_key();
        let single = ranks.part() == crate::util::part::Part::WHOLE;
        let shape = task.fixed_shape();
        let (wanted, sorted) = (cfg.run.cuda_graphs, schedule.lengths.is_some());
        let mut graphed = graph_set::for_run(wanted, self.device, single, shape, sorted, progress);
        let build = match &graphed {
            Some(g) => g.padding(task.batcher()),
            None => task.batcher(),
        };

        let mut last_valid = String::from("–");
        let mut stopped_early = false;
        let started = Instant::now();
        let mut examples_done = 0usize;
        let first_step = state.step;
        progress.start(
            (cfg.optim.max_steps - first_step.min(cfg.optim.max_steps)) as u64,
            "training",
        );
        std::thread::scope(|scope| -> Result<()> {
            let mut batches = prefetch::batches(
                scope,
                schedule,
                first_step..cfg.optim.max_steps,
                &*build,
                self.device,
            );
            // Loss sums stay on the device: a step that does not log never waits for the GPU.
            let mut loss_sum = Tensor::zeros([], (Kind::Double, self.device));
            let mut loss_n = 0usize;
            while state.step < cfg.optim.max_steps {
                if opts
                    .stop_after
                    .is_some_and(|s| state.step - first_step >= s)
                {
                    break;
                }
                let next = batches
                    .next()
                    .ok_or_else(|| Error::Other("the batch builder thread stopped".into()))?;
                debug_assert_eq!(next.step, state.step);
                // Dropout randomness depends on the step (and rank) only: resuming replays it exactly.
                let seed = ranks.dropout_seed(cfg.run.seed, state.step);
                let mb = next.batch.to_device(self.device);
                let lr = cfg.optim.lr_at(state.step + 1);
                let share = (next.local, next.examples);
                let (loss, gnorm) = match graphed.as_mut() {
                    Some(g) => {
                        let o = (&mut opt, lr, cfg.optim.grad_clip);
                        let out =
                            g.train_step(o, (mb, seed), &|b| task.loss(&model, b), progress)?;
                        (Some(out.loss), out.grad_norm)
                    }
                    None => {
                        tch::manual_seed(seed);
                        let loss = (next.local > 0).then(|| task.loss(&model, &mb));
                        let gnorm =
                            ranks.step(&mut opt, loss.as_ref(), share, cfg.optim.grad_clip, lr)?;
                        (loss, gnorm)
                    }
                };
                state.step += 1;
                examples_done += next.examples;
                // This rank's share of the global batch's mean loss (all of it for one process).
                if let Some(l) = &loss {
                    loss_sum +=
                        l.detach().to_kind(Kind::Double) * (share.0 as f64 / share.1 as f64);
                }
                loss_n += 1;
                progress.inc(1);
                let out_of_time = cfg.run.max_minutes > 0.0
                    && ranks.agree(
                        started.elapsed().as_secs_f64() > cfg.run.max_minutes * 60.0,
                        "agreeing on the time box",
                    )?;
                let last = state.step == cfg.optim.max_steps || out_of_time;
                let validate_now = state.step.is_multiple_of(cfg.eval.every) || last;
                if state.step.is_multiple_of(cfg.run.log_every) || validate_now {
                    // The one read-back: the mean loss since the last log line.
                    let mean = ranks
                        .sum(&loss_sum, "the loss all-reduce")?
                        .double_value(&[])
                        / loss_n as f64;
                    if !mean.is_finite() {
                        return Err(Error::Other(format!("loss became {mean} within the {loss_n} steps up to step {}; lower optim.lr or check the data", state.step)));
                    }
                    let eps = examples_done as f64 / started.elapsed().as_secs_f64();
                    let steps = (state.step - first_step, cfg.optim.max_steps - state.step);
                    let time_box = state::time_note(cfg.run.max_minutes, steps, started.elapsed());
                    progress.set_message(format!(
                        "loss {mean:.3} lr {lr:.2e} {eps:.0} ex/s valid {score_key} {last_valid}{time_box}"
                    ));
                    if state.step.is_multiple_of(cfg.run.log_every) {
                        let gn = gnorm.map_or(0.0, |g| g.double_value(&[]));
                        let line = serde_json::json!({"step": state.step, "epoch": next.epoch, "loss": mean, "lr": lr, "grad_norm": gn, "examples_per_second": eps});
                        writeln!(log, "{line}").at(&metrics_path)?;
                        loss_sum = loss_sum.zeros_like();
                        loss_n = 0;
                    }
                }
                if validate_now {
                    // Validation and the checkpoint see the weights' average, when kept.
                    opt.swap_average();
                    let t0 = Instant::now();
                    let shared = ranks.validate_shared(task, &model)?;
                    if ranks.lead() {
                        let v = shared.unwrap_or_else(|| {
                            let _g = tch::no_grad_guard();
                            task.validate(&model)
                        });
                        let nd = v.get(score_key).copied().unwrap_or(f64::NEG_INFINITY);
                        let improved = nd > state.best_score;
                        if improved {
                            state.best_score = nd;
                            state.best_step = state.step;
                            state.evals_since_best = 0;
                        } else {
                            state.evals_since_best += 1;
                        }
                        last_valid = format!("{nd:.4}");
                        let mut line = serde_json::json!({"step": state.step, "valid_seconds": t0.elapsed().as_secs_f64(), "best": improved});
                        for (k, x) in &v {
                            line[format!("valid_{k}")] = serde_json::json!(x);
                        }
                        writeln!(log, "{line}").at(&metrics_path)?;
                        log.flush().at(&metrics_path)?;
                        progress.note(&format!(
                            "step {}: validation {}{} (best {:.4} at step {})",
                            state.step,
                            v.iter()
                                .map(|(k, x)| format!("{k} {x:.4}"))
                                .collect::<Vec<_>>()
                                .join(", "),
                            if improved { ", new best" } else { "" },
                            state.best_score,
                            state.best_step
                        ));
                        let meta = self.meta(task, state.step, v);
                        let parts = checkpoint::Parts {
                            model: &model,
                            vs: &vs,
                            vocab: &self.vocab,
                            meta: &meta,
                        };
                        checkpoint::save(&self.run_dir, state.step, &parts, improved, &|dir| {
                            opt.save(&dir.join("optimizer.safetensors"))?;
                            write_json(&dir.join("trainer.json"), &state)
                        })?;
                        write_plot(&self.run_dir)?;
                    }
                    opt.swap_average();
                    ranks.after_validation(&opt, &mut state)?;
                    if cfg.eval.patience > 0 && state.evals_since_best >= cfg.eval.patience {
                        stopped_early = true;
                        break;
                    }
                    if out_of_time {
                        break;
                    }
                }
            }
            Ok(())
        })?;
        progress.finish();
        let eps = examples_done as f64 / started.elapsed().as_secs_f64().max(1e-9);
        let mut summary = self.summary(&vs, &state, task, eps, stopped_early);
        summary.weights_sha256 = ranks.weights_digest(&opt)?;
        Ok(summary)
    }
}
