//! What is trained — the `Task` a training run is generic over (examples,
//! batches, loss, validation score, initial weights) — and the generator's
//! task (next-item semantic IDs, P5/TIGER-style), with the helpers tasks
//! share: the teacher-forced loss and copying weights between models.
use super::examples::{history_lengths, make_batch, split_examples, Example};
use super::validation::{sample_users, validate, validate_sums};
use super::Trainer;
use crate::artifact::checkpoint;
use crate::batch::{Batch, Shape};
use crate::config::TaskKind;
use crate::data::HeldOut;
use crate::error::{Error, Result};
use crate::model::{T5Config, T5};
use crate::util::part::Part;
use std::collections::BTreeMap;
use tch::{nn, Device, Kind, Tensor};

/// Copies every variable of `src` that `dst` has too (a model with a
/// history-match bias can start from one without).
pub fn copy_shared(dst: &mut nn::VarStore, src: &nn::VarStore) -> Result<()> {
    let from = src.variables();
    let _g = tch::no_grad_guard();
    for (name, mut v) in dst.variables() {
        if let Some(s) = from.get(&name) {
            if s.size() != v.size() {
                return Err(Error::Mismatch(format!(
                    "`{name}`: shape {:?}, expected {:?}",
                    s.size(),
                    v.size()
                )));
            }
            v.copy_(s);
        }
    }
    Ok(())
}

/// Mean token cross-entropy of a batch (full-vocabulary softmax), as the model trains.
pub fn batch_loss(model: &T5, b: &Batch, train: bool) -> Tensor {
    let mut logits = model.forward_t(&b.ids, &b.mask, b.items.as_ref(), &b.dec, train);
    if let Some(m) = &b.matches {
        logits = m.apply(model, logits);
    }
    let v = logits.size()[2];
    logits
        .to_kind(Kind::Float)
        .view([-1, v])
        .cross_entropy_for_logits(&b.labels.view([-1]))
}

/// Builds a task's batch of examples (indices) on the CPU; shared with the prefetch thread.
pub type BatchBuilder<'a> = Box<dyn Fn(&[u32]) -> Batch + Sync + 'a>;

/// What is trained: examples, batches, loss and the validation score. The
/// training loop, optimiser, checkpoints and resume are shared.
pub trait Task {
    /// What this task trains (recorded in genrec.json).
    fn kind(&self) -> TaskKind;
    fn n_examples(&self) -> usize;
    /// What builds the batch of examples `idx` (indices into
    /// `0..n_examples()`) on the CPU; it runs on the prefetch thread.
    fn batcher(&self) -> BatchBuilder<'_>;
    fn loss(&self, model: &T5, b: &Batch) -> Tensor;
    /// Validation metrics of the current model.
    fn validate(&self, model: &T5) -> BTreeMap<String, f64>;
    /// Part of the validation a data-parallel rank does: (users, per-metric
    /// sums) over its part of the users; None when the task validates on
    /// rank 0 alone.
    fn validate_sums(&self, _model: &T5, _part: Part) -> Option<(usize, BTreeMap<String, f64>)> {
        None
    }
    /// The metric early stopping and `best` follow (higher is better).
    fn score_key(&self) -> &'static str;
    /// Initial weights, after the default initialisation (e.g. from another model).
    fn init(&self, _vs: &mut nn::VarStore) -> Result<()> {
        Ok(())
    }
    /// SHA-256 of the model this one is built from, if any (recorded in
    /// every checkpoint and checked on `--resume`).
    fn built_from(&self) -> Option<String> {
        None
    }
    /// The model this task trains, from the `[model]` section's.
    fn model_config(&self, c: T5Config) -> T5Config {
        c
    }
    /// The shape every batch fits when padded (for CUDA-graph steps), or
    /// None when the task's batches have no fixed bound.
    fn fixed_shape(&self) -> Option<Shape> {
        None
    }
    /// Each example's length, for batches of like lengths
    /// (`optim.length_pool`); None when the task's examples have no
    /// length worth sorting by.
    fn example_lengths(&self) -> Option<Vec<u16>> {
        None
    }
}

/// Next-item generation (the generator).
pub struct GenerateTask<'a> {
    t: &'a Trainer,
    examples: Vec<Example>,
    valid: Vec<HeldOut>,
    /// `run.init_from`, loaded.
    init: Option<checkpoint::Loaded>,
}

impl<'a> GenerateTask<'a> {
    pub fn new(t: &'a Trainer) -> Result<Self> {
        let examples = split_examples(&t.ds.train, t.cfg.data.hold_out_last).0;
        if examples.is_empty() {
            return Err(Error::Config(
                "no training examples: every training sequence is shorter than 2 items (a \
                 held-out user's last two interactions are its validation and test targets, so \
                 only users with 4 or more interactions, and context users with 2, give the \
                 generator an example to learn from)"
                    .into(),
            ));
        }
        let valid = sample_users(&t.ds.valid, t.cfg.eval.max_users, t.cfg.run.seed);
        let init = match &t.cfg.run.init_from {
            Some(p) => {
                let g = t.load_generator(p)?;
                if !t.cfg.model.same_shape(&g.model.config) {
                    return Err(Error::Config(format!(
                        "run.init_from: {} has other model sizes than [model]",
                        g.dir.display()
                    )));
                }
                Some(g)
            }
            None => None,
        };
        Ok(Self {
            t,
            examples,
            valid,
            init,
        })
    }
}

impl Task for GenerateTask<'_> {
    fn kind(&self) -> TaskKind {
        TaskKind::Generate
    }
    fn n_examples(&self) -> usize {
        self.examples.len()
    }
    fn batcher(&self) -> BatchBuilder<'_> {
        let (t, examples) = (self.t, &self.examples);
        Box::new(move |idx: &[u32]| {
            let b: Vec<Example> = idx.iter().map(|&i| examples[i as usize]).collect();
            make_batch(
                &t.ds,
                &t.vocab,
                &t.item_tokens,
                &b,
                &t.cfg.data.prompt(),
                Device::Cpu,
            )
        })
    }
    fn loss(&self, model: &T5, b: &Batch) -> Tensor {
        batch_loss(model, b, true)
    }
    fn fixed_shape(&self) -> Option<Shape> {
        let t = self.t;
        let p = t.cfg.data.prompt();
        Some(Shape::largest(
            &t.vocab,
            &t.item_tokens,
            &p,
            t.cfg.optim.batch_size,
        ))
    }
    fn example_lengths(&self) -> Option<Vec<u16>> {
        Some(history_lengths(&self.examples, self.t.cfg.data.max_history))
    }
    fn validate(&self, model: &T5) -> BTreeMap<String, f64> {
        let t = self.t;
        let gen = t.generator(model, t.cfg.data.prompt(), t.cfg.eval.beam);
        validate(&gen, &self.valid, t.cfg.eval.batch_size)
    }
    fn validate_sums(&self, model: &T5, part: Part) -> Option<(usize, BTreeMap<String, f64>)> {
        let t = self.t;
        let gen = t.generator(model, t.cfg.data.prompt(), t.cfg.eval.beam);
        Some(validate_sums(
            &gen,
            part.of(&self.valid),
            t.cfg.eval.batch_size,
        ))
    }
    fn score_key(&self) -> &'static str {
        "ndcg@10"
    }
    fn init(&self, vs: &mut nn::VarStore) -> Result<()> {
        match &self.init {
            Some(g) => copy_shared(vs, &g.vs),
            None => Ok(()),
        }
    }
    fn built_from(&self) -> Option<String> {
        self.init.as_ref().map(|g| g.weights_sha256.clone())
    }
    /// With a match window, the generator has history-match weights.
    fn model_config(&self, c: T5Config) -> T5Config {
        let levels = (self.t.cfg.data.match_history > 0).then_some(self.t.vocab.id_len() as i64);
        T5Config {
            genrec_history_match_levels: levels,
            ..c
        }
    }
}
