//! `genrec train` as one rank of a data-parallel job (`genrec::dist`, the
//! trainer's `data_parallel`): checks what a job needs before joining it,
//! joins, trains the generator on this rank's part of every batch, and lets
//! rank 0 alone show progress, choose the text fusion and write files.
use super::progress::Bar;
use super::train::{choose_text_fusion, print_summary, Args};
use genrec::config::TaskKind;
use genrec::dist::{Group, JobEnv, JoinOptions};
use genrec::progress::{Progress, Silent};
use genrec::runtime;
use genrec::trainer::{GenerateTask, TrainOptions, Trainer};
use std::time::Duration;

pub fn run(trainer: &Trainer, job: &JobEnv, a: &Args) -> anyhow::Result<()> {
    let cfg = &trainer.cfg;
    let me = format!("rank {} of {}", job.rank, job.world);
    anyhow::ensure!(
        cfg.run.task == TaskKind::Generate,
        "{me}: a data-parallel job trains the generator; train verifiers in one process (unset WORLD_SIZE)"
    );
    anyhow::ensure!(
        !a.choose_text_fusion,
        "{me}: --choose-text-fusion runs in one process (unset WORLD_SIZE)"
    );
    anyhow::ensure!(
        cfg.optim.batch_size.is_multiple_of(job.world),
        "{me}: optim.batch_size {} is the global batch and must divide by the world size {} (each rank takes an equal part)",
        cfg.optim.batch_size,
        job.world
    );
    let opts = JoinOptions {
        backend: a.dist_backend,
        timeout: Duration::from_secs(a.dist_timeout.max(1)),
    };
    let group = Group::join(job, opts, trainer.device.is_cuda())?;
    genrec::tell!(
        "{me}: joined the job at {}:{} ({}), training on {}, {} examples per rank per step",
        job.master_addr,
        job.master_port,
        group.backend(),
        runtime::describe(trainer.device),
        cfg.optim.batch_size / job.world
    );
    let lead = job.rank == 0;
    let (bar, silent) = (Bar::new(), Silent);
    let progress: &dyn Progress = if lead { &bar } else { &silent };
    let train_opts = TrainOptions {
        resume: a.resume,
        restart_if_changed: a.restart_if_changed,
        stop_after: a.stop_after,
    };
    let s = trainer.run_in(
        Some(&group),
        &GenerateTask::new(trainer)?,
        &train_opts,
        progress,
    )?;
    if lead {
        if a.stop_after.is_none() {
            choose_text_fusion(trainer, false)?;
        }
        print_summary(&s);
    } else {
        genrec::say!(
            "{me}: {} steps; weights sha256 {} (identical to rank 0's)",
            s.steps,
            s.weights_sha256.as_deref().unwrap_or("?")
        );
    }
    Ok(())
}
