use super::progress::Bar;
use genrec::runtime::{self, DeviceChoice};
use genrec::trainer::config::TrainConfig;
use genrec::trainer::{TrainOptions, Trainer};
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
    /// Training configuration (TOML), e.g. train/ml100k.toml.
    #[arg(long, short)]
    pub config: PathBuf,
    /// Override any setting: --set optim.lr=0.002 --set eval.every=200 (repeatable).
    #[arg(long = "set", value_name = "SECTION.KEY=VALUE")]
    pub overrides: Vec<String>,
    /// Continue the run from its latest checkpoint (bit-identical to an uninterrupted run on CPU).
    #[arg(long)]
    pub resume: bool,
    #[arg(long, value_enum)]
    pub device: Option<DeviceChoice>,
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
    /// Stop after this many steps of this invocation (simulates an interruption).
    #[arg(long, hide = true)]
    pub stop_after: Option<usize>,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let mut o = a.overrides.clone();
    if let Some(v) = &a.name {
        o.push(format!("run.name=\"{v}\""));
    }
    if let Some(v) = a.max_steps {
        o.push(format!("optim.max_steps={v}"));
    }
    if let Some(v) = a.batch_size {
        o.push(format!("optim.batch_size={v}"));
    }
    if let Some(v) = a.lr {
        o.push(format!("optim.lr={v:e}"));
    }
    if let Some(v) = a.eval_every {
        o.push(format!("eval.every={v}"));
    }
    if let Some(v) = a.threads {
        o.push(format!("run.threads={v}"));
    }
    if let Some(d) = a.device {
        o.push(format!("run.device=\"{}\"", serde_json::to_value(d)?.as_str().unwrap_or("auto")));
    }
    let cfg = TrainConfig::load(&a.config, &o)?;
    runtime::set_threads((cfg.run.threads > 0).then_some(cfg.run.threads));
    let device = runtime::device(cfg.run.device)?;
    let trainer = Trainer::new(cfg, device)?;
    eprintln!(
        "training {} on {}: {} users, {} items, vocabulary {}",
        trainer.cfg.run.name,
        runtime::describe(device),
        trainer.ds.train.len(),
        trainer.item_tokens.len(),
        trainer.vocab.size()
    );
    let s = trainer.run(&TrainOptions { resume: a.resume, stop_after: a.stop_after }, &Bar::new())?;
    println!(
        "{} steps ({} parameters, {}), {:.1} examples/s; best validation NDCG@10 {:.4} at step {}{}; checkpoints in {}",
        s.steps,
        s.parameters,
        s.device,
        s.examples_per_second,
        s.best_valid_ndcg10,
        s.best_step,
        if s.stopped_early { " (early stop)" } else { "" },
        s.run_dir.display()
    );
    Ok(())
}
