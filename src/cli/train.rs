//! `genrec train`: the generator (a P5-style T5 reading semantic-ID
//! histories, Geng et al. 2022) or, with `--task verify`, the
//! TALLRec-style verifier over it (Bao et al. 2023), from a config file or
//! chosen from the dataset (`train_auto`), on one device or data-parallel.
use super::progress::Bar;
use genrec::config::{TaskKind, TrainConfig, VerifyReader};
use genrec::runtime::{self, DeviceChoice};
use genrec::trainer::{GenerateTask, TrainOptions, Trainer};
use std::path::PathBuf;

/// Trains the generator: every prefix of each user's training sequence
/// (≤ max_history items) → the next item's semantic ID. AdamW with warm-up and
/// decay, gradient clipping, dropout, validation Recall/NDCG@10 by constrained
/// beam search every `eval.every` steps, early stopping on validation NDCG@10.
///
/// Writes checkpoints/<run.name>/: step-N/ checkpoints (HF T5 config.json +
/// model.safetensors, vocab.json, genrec.json, optimizer and trainer state),
/// `best` and `latest` pointers, metrics.jsonl and metrics.svg.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Training configuration (TOML), e.g. train/ml100k.toml. Without one,
    /// `--dataset` picks the configuration from the dataset's size and the
    /// device (README: "train without a config file").
    #[arg(long, short, required_unless_present = "dataset")]
    pub config: Option<PathBuf>,
    /// Prepared dataset to train on (overrides the config's `data.dataset`).
    /// Without --config, the configuration comes from its statistics and the
    /// run is the default pipeline: the generator (`checkpoints/<dataset
    /// name>`), then the sequence verifier over it with λ and the blend
    /// chosen on validation (`<name>-verifier`), linked so that `evaluate`
    /// and `recommend` on the generator use it.
    #[arg(long, short)]
    pub dataset: Option<PathBuf>,
    /// Override any setting: --set optim.lr=0.002 --set eval.every=200 (repeatable).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Continue the run from its latest checkpoint (bit-identical to an
    /// uninterrupted run on CPU); with no checkpoint yet, start it afresh, so a
    /// scheduler can re-run the same command after a preemption.
    #[arg(long)]
    pub resume: bool,
    #[arg(long, value_enum)]
    pub device: Option<DeviceChoice>,
    /// What to train (default: run.task of the config, "generate"). With
    /// --dataset and no --config (default: both, generator then verifier),
    /// `--task generate` trains the generator alone and `--task verify` the
    /// sequence verifier (SASRec) over the generator `genrec train -d`
    /// trained on the same dataset with the same --set
    /// (`<run.checkpoints>/<run.name>`, by default
    /// `checkpoints/<dataset name>`), as `<name>-verifier`: one already
    /// trained over its weights is kept, any other moved aside.
    #[arg(long, value_enum)]
    pub task: Option<TaskKind>,
    /// Shorthands for --set run.name / optim.max_steps / optim.batch_size / optim.lr / eval.every / run.threads.
    #[arg(long)]
    pub name: Option<String>,
    #[arg(long)]
    pub max_steps: Option<usize>,
    #[arg(long)]
    pub batch_size: Option<usize>,
    #[arg(long)]
    pub lr: Option<f64>,
    #[arg(long)]
    pub eval_every: Option<usize>,
    #[arg(long)]
    pub threads: Option<usize>,
    /// With --resume: when the run was trained with another configuration or
    /// other semantic IDs, move it aside to
    /// `<run>.replaced-<unix time>` and train afresh instead of failing.
    #[arg(long, requires = "resume")]
    pub restart_if_changed: bool,
    /// Do not train: (re)choose the text fusion of the run's best generator
    /// checkpoint on validation and store it there (for runs trained before
    /// genrec chose one, or after the dataset's embeddings changed).
    #[arg(long, conflicts_with_all = ["resume", "stop_after"])]
    pub choose_text_fusion: bool,
    /// Stop after this many steps of this invocation (simulates an interruption).
    #[arg(long, hide = true)]
    pub stop_after: Option<usize>,
    /// In a data-parallel job (RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT set
    /// by torchrun, srun or a Kubernetes indexed job; README "Scale out"): the
    /// c10d backend. auto: NCCL when training on CUDA, Gloo on the CPU.
    #[arg(long, value_enum, default_value_t)]
    pub dist_backend: genrec::dist::BackendChoice,
    /// In a data-parallel job: seconds that joining, or one collective, may
    /// wait for the other ranks; a rank that died ends the job with an error
    /// naming it (rank 0 writing checkpoints alone may take 10× this).
    #[arg(long, default_value_t = 300, value_name = "SECONDS")]
    pub dist_timeout: u64,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let quoted = |v: serde_json::Value| format!("\"{}\"", v.as_str().unwrap_or_default());
    let shorthands = [
        ("run.name", a.name.as_ref().map(|v| format!("\"{v}\""))),
        ("optim.max_steps", a.max_steps.map(|v| v.to_string())),
        ("optim.batch_size", a.batch_size.map(|v| v.to_string())),
        ("optim.lr", a.lr.map(|v| format!("{v:e}"))),
        ("eval.every", a.eval_every.map(|v| v.to_string())),
        ("run.threads", a.threads.map(|v| v.to_string())),
        // With a config --task is its run.task; with -d alone it picks the
        // part of the default pipeline (`train_auto::config`).
        (
            "run.task",
            a.task
                .filter(|_| a.config.is_some())
                .map(|t| serde_json::to_value(t).map(quoted))
                .transpose()?,
        ),
        (
            "run.device",
            a.device
                .map(|d| serde_json::to_value(d).map(quoted))
                .transpose()?,
        ),
    ];
    let mut o = a.overrides.clone();
    o.extend(
        shorthands
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}={v}"))),
    );
    if let (Some(_), Some(d)) = (&a.config, &a.dataset) {
        // The dataset's own index, unless --set says otherwise (applied after).
        o.insert(
            0,
            format!(
                "data.index={}",
                toml::Value::String(d.join("index").display().to_string())
            ),
        );
        o.insert(
            0,
            format!(
                "data.dataset={}",
                toml::Value::String(d.display().to_string())
            ),
        );
    }
    // `-d` without a config: the configuration comes from the data, and the
    // run is the default pipeline's (generator, then verifier).
    let auto = a.config.is_none();
    let cfg = match (&a.config, &a.dataset) {
        (Some(c), _) => TrainConfig::load(c, &o)?,
        (None, Some(d)) => super::train_auto::config(d, &a, &o)?,
        (None, None) => anyhow::bail!("give --config <file.toml> or --dataset <prepared dataset>"),
    };
    runtime::set_threads((cfg.run.threads > 0).then_some(cfg.run.threads));
    let job = genrec::dist::JobEnv::from_env()?;
    let device = match (runtime::device(cfg.run.device)?, &job) {
        // One GPU per rank on each machine.
        (tch::Device::Cuda(_), Some(j)) => tch::Device::Cuda(j.local_rank),
        (d, _) => d,
    };
    if auto && cfg.run.task == TaskKind::Verify && job.is_none() && !a.choose_text_fusion {
        return super::train_auto::verifier(cfg, device);
    }
    let trainer = Trainer::new(cfg, device)?;
    let log = match &job {
        Some(j) if j.rank > 0 => format!("train-rank{}.log", j.rank),
        _ => "train.log".into(),
    };
    genrec::util::log::to_or_warn(&trainer.run_dir.join(log));
    if let Some(j) = &job {
        if auto && a.task.is_none() {
            genrec::tell!("a data-parallel job trains the generator only: run `genrec train -d <dataset> --task verify` after it for the verifier");
        }
        return super::train_job::run(&trainer, j, &a);
    }
    genrec::tell!(
        "training {} on {}: {} users ({} context users among them), {} items, vocabulary {}",
        trainer.cfg.run.name,
        runtime::describe(device),
        trainer.ds.train.len(),
        trainer.ds.context().len(),
        trainer.item_tokens.len(),
        trainer.vocab.size()
    );
    if a.choose_text_fusion {
        anyhow::ensure!(
            trainer.cfg.run.task == TaskKind::Generate,
            "--choose-text-fusion is for generator runs"
        );
        return choose_text_fusion(&trainer, true);
    }
    let opts = TrainOptions {
        resume: a.resume,
        restart_if_changed: a.restart_if_changed,
        stop_after: a.stop_after,
    };
    let s = match trainer.cfg.run.task {
        TaskKind::Generate => {
            let s = trainer.run(&GenerateTask::new(&trainer)?, &opts, &Bar::new())?;
            if a.stop_after.is_none() {
                choose_text_fusion(&trainer, false)?;
            }
            s
        }
        TaskKind::Verify => return train_verifier(&trainer, device, &opts),
    };
    print_summary(&s);
    if auto && a.task.is_none() && a.stop_after.is_none() {
        // `train -d`'s second part: the verifier over the generator just
        // trained, with the run's settings and the `--set verify.…` given.
        let cfg = trainer.cfg.clone().verifier_with(&o)?;
        drop(trainer);
        return super::train_auto::verifier(cfg, device);
    }
    Ok(())
}

/// Trains the verifier `trainer` is configured for and chooses its λ (and,
/// for the sequence reader, the blend) on validation.
pub(super) fn train_verifier(
    trainer: &Trainer,
    device: tch::Device,
    opts: &TrainOptions,
) -> anyhow::Result<()> {
    let reader = trainer.cfg.verify.reader;
    if reader != VerifyReader::Ids {
        run_can_start(trainer, opts.resume)?;
    }
    let generator = trainer.load_generator(&trainer.cfg.verify.generator)?;
    let miner = trainer
        .cfg
        .verify
        .miner
        .as_deref()
        .map(|p| trainer.load_generator(p))
        .transpose()?;
    let task = genrec::trainer::verify_task::VerifyTask::new(
        trainer,
        &generator,
        miner.as_ref(),
        &Bar::new(),
    )?;
    match reader {
        VerifyReader::Text => train_text_verifier(trainer, &generator, &task),
        VerifyReader::Sequence => train_sequence_verifier(trainer, &generator, &task),
        VerifyReader::Ids => {
            let s = trainer.run(&task, opts, &Bar::new())?;
            choose_lambda(trainer, &generator, device)?;
            print_summary(&s);
            Ok(())
        }
    }
}

/// The line that ends a training run.
pub(super) fn print_summary(s: &genrec::trainer::TrainSummary) {
    let speed = if s.examples_per_second > 0.0 {
        format!("{:.1} examples/s", s.examples_per_second)
    } else {
        "finished before, nothing to do".into()
    };
    genrec::say!(
        "{} steps ({} parameters, {}), {speed}; best validation {} {:.4} at step {}{}; checkpoints in {}{}",
        s.steps,
        s.parameters,
        s.device,
        s.score_key,
        s.best_score,
        s.best_step,
        if s.stopped_early { " (early stop)" } else { "" },
        s.run_dir.display(),
        s.weights_sha256
            .as_ref()
            .map(|h| format!("; weights sha256 {h} (identical on every rank)"))
            .unwrap_or_default()
    );
}

/// Chooses λ with the best verifier checkpoint (stored there) and prints the sweep.
fn choose_lambda(
    trainer: &Trainer,
    generator: &genrec::artifact::checkpoint::Loaded,
    device: tch::Device,
) -> anyhow::Result<()> {
    let (dir, choice) =
        genrec::trainer::verify_task::choose_and_store_lambda(trainer, generator, device)?;
    print_choice(&dir, &choice);
    Ok(())
}

fn print_choice(dir: &std::path::Path, choice: &genrec::artifact::checkpoint::VerifierChoice) {
    for p in &choice.lambda_sweep {
        genrec::tell!(
            "λ = {:<5} validation NDCG@10 after reranking the top {}: {:.4}",
            p.lambda,
            choice.rerank_top,
            p.valid_ndcg_at_10
        );
    }
    genrec::say!(
        "chose λ = {} (stored in {})",
        choice.lambda,
        dir.join("genrec.json").display()
    );
}

/// A text- or sequence-reading verifier's run (`verify.reader = "text"` or
/// `"sequence"`) is short and not resumable: it starts in an empty run
/// directory.
fn run_can_start(trainer: &Trainer, resume: bool) -> anyhow::Result<()> {
    anyhow::ensure!(
        !resume,
        "--resume: a verifier run with verify.reader = \"{}\" is not resumable; run it again under another run.name",
        trainer.cfg.verify.reader.name()
    );
    anyhow::ensure!(
        !trainer.run_dir.join("latest").exists(),
        "{} already holds a run; choose another run.name or remove it",
        trainer.run_dir.display()
    );
    Ok(())
}

/// Trains the text-reading verifier and prints what it chose.
fn train_text_verifier(
    trainer: &Trainer,
    generator: &genrec::artifact::checkpoint::Loaded,
    task: &genrec::trainer::verify_task::VerifyTask,
) -> anyhow::Result<()> {
    let r =
        genrec::trainer::text_verify::train_text_verifier(trainer, generator, task, &Bar::new())?;
    print_choice(&r.checkpoint, &r.choice);
    genrec::say!(
        "text verifier: best validation AUC {:.4} (hard {:.4}, random {:.4}) at step {}, {:.1} pairs/s; checkpoint {}",
        r.valid["auc"],
        r.valid["auc_hard"],
        r.valid["auc_random"],
        r.best_step,
        r.pairs_per_second,
        r.checkpoint.display()
    );
    Ok(())
}

/// Trains (or takes from the harness's cache) the sequence-reading verifier
/// and prints what it chose.
fn train_sequence_verifier(
    trainer: &Trainer,
    generator: &genrec::artifact::checkpoint::Loaded,
    task: &genrec::trainer::verify_task::VerifyTask,
) -> anyhow::Result<()> {
    let r = genrec::trainer::sequence_verify::train_sequence_verifier(
        trainer,
        generator,
        task,
        &Bar::new(),
    )?;
    print_choice(&r.checkpoint, &r.choice);
    match &r.blend {
        Some(b) => genrec::say!("{}", b.describe()),
        None => genrec::say!("no blend (the λ-reranking stands)"),
    }
    genrec::say!(
        "sequence verifier (SASRec): best epoch {} of {}, validation NDCG@10 {:.4}, {:.0} s of training; yes/no validation AUC {:.4} (hard {:.4}, random {:.4}); checkpoint {}",
        r.best_epoch,
        r.epochs,
        r.valid_ndcg_at_10,
        r.train_seconds,
        r.valid["auc"],
        r.valid["auc_hard"],
        r.valid["auc_random"],
        r.checkpoint.display()
    );
    Ok(())
}

/// Chooses the text fusion of the run's best generator (the library's
/// `trainer::fusion`) and says what came of it.
pub(super) fn choose_text_fusion(trainer: &Trainer, again: bool) -> anyhow::Result<()> {
    use genrec::trainer::fusion::{choose_and_store, FusionOutcome};
    match choose_and_store(trainer, again, &Bar::new())? {
        FusionOutcome::Chosen(c) => genrec::tell!("{}", c.describe()),
        FusionOutcome::ChosenBefore(c) => genrec::tell!("{} (chosen before)", c.describe()),
        FusionOutcome::NoText(why) => {
            genrec::tell!("no text fusion; the generator's lists stand alone: {why}")
        }
    }
    Ok(())
}
