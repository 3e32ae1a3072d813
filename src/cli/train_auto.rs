//! `genrec train -d <dataset>` without a config file: the configuration
//! chosen from the dataset's statistics and the device
//! (`TrainConfig::for_dataset`), and the default pipeline's second part —
//! the sequence verifier (SASRec; TALLRec-style yes/no answers, Bao et al.
//! 2023) over the generator just trained, with its λ and blend chosen on
//! validation, linked to the generator's run so that `evaluate` and
//! `recommend` use it without being told.
use super::train::{train_verifier, Args};
use anyhow::Context;
use genrec::artifact::checkpoint;
use genrec::config::{TaskKind, TrainConfig};
use genrec::runtime;
use genrec::trainer::{TrainOptions, Trainer};
use std::path::Path;

/// The configuration for dataset `d`: chosen from its size and the device,
/// the verifier's with `--task verify`, then `overrides`.
pub(super) fn config(d: &Path, a: &Args, overrides: &[String]) -> anyhow::Result<TrainConfig> {
    let ds = genrec::data::Dataset::load(d)?;
    let device = runtime::device(a.device.unwrap_or_default())?;
    anyhow::ensure!(
        !a.overrides
            .iter()
            .any(|s| s.trim_start().starts_with("run.task")),
        "with -d and no --config, choose the part with --task, not --set run.task"
    );
    let auto = TrainConfig::for_dataset(d, &ds.manifest.stats, device.is_cuda());
    // The generator's configuration whatever the part; the verifier's over
    // it, as `train -d`'s second part.
    let mut cfg = auto.with_overrides(overrides)?;
    if a.task == Some(TaskKind::Verify) {
        cfg = cfg.verifier_with(overrides)?;
    }
    let written = cfg.run.checkpoints.join(&cfg.run.name);
    if cfg.run.task == TaskKind::Verify {
        genrec::tell!(
            "no --config: the {} verifier over {}, λ chosen reranking its top {} (written to {}/train.toml)",
            cfg.verify.reader.name(),
            cfg.verify.generator.display(),
            cfg.verify.rerank_top,
            written.display()
        );
    } else {
        let st = &ds.manifest.stats;
        genrec::tell!(
            "no --config: for {} users and {} interactions{} on {}: d_model {}, {}+{} layers, batch {}, lr {}, validation every {} steps on {} users, early stop after {} without improvement (written to {}/train.toml); then the {} verifier over it{}",
            st.users,
            st.interactions,
            match st.context_users {
                0 => String::new(),
                n => format!(" (and {n} context users' {})", st.context_interactions),
            },
            runtime::describe(device),
            cfg.model.d_model,
            cfg.model.num_layers,
            cfg.model.num_decoder_layers,
            cfg.optim.batch_size,
            cfg.optim.lr,
            cfg.eval.every,
            cfg.eval.max_users,
            cfg.eval.patience,
            written.display(),
            cfg.clone().verifier().verify.reader.name(),
            if a.task.is_some() { " (not now: --task generate)" } else { "" }
        );
    }
    Ok(cfg)
}

/// Trains the verifier of `cfg` over its generator (the best checkpoint of
/// `verify.generator`) and links it to the generator's run. A verifier run
/// already trained over these very generator weights is kept; any other
/// one in its place (another generator's, an unfinished one) is moved aside.
pub(super) fn verifier(cfg: TrainConfig, device: tch::Device) -> anyhow::Result<()> {
    let generator = checkpoint::resolve(&cfg.verify.generator).with_context(|| {
        format!(
            "the verifier is trained over a generator: train it first (genrec train -d {} --task generate)",
            cfg.data.dataset.display()
        )
    })?;
    let weights = generator.join("model.safetensors");
    let sha = genrec::util::hash::sha256_file(&weights)?;
    let run_dir = cfg.run.checkpoints.join(&cfg.run.name);
    let generator_run = cfg.verify.generator.clone();
    let linked = |run: &Path| -> anyhow::Result<()> {
        checkpoint::link_verifier(&generator, run)?;
        genrec::tell!(
            "linked: `genrec evaluate` and `genrec recommend` with --checkpoint {} now rerank with {} (--no-rerank: the generator's own lists)",
            generator_run.display(),
            run.display()
        );
        Ok(())
    };
    if run_dir.exists() {
        match checkpoint::check_built_over(&run_dir, &sha) {
            Ok(best) => {
                genrec::tell!(
                    "{} was trained over this generator ({}): kept",
                    best.display(),
                    generator.display()
                );
                return linked(&run_dir);
            }
            Err(why) => {
                let aside = genrec::util::fsx::move_aside(&run_dir)?;
                genrec::tell!(
                    "{why}: moved it to {} and training it afresh",
                    aside.display()
                );
            }
        }
    }
    genrec::util::log::to_or_warn(&run_dir.join("train.log"));
    let trainer = Trainer::new(cfg, device)?;
    train_verifier(&trainer, device, &TrainOptions::default())?;
    linked(&trainer.run_dir)
}
