//! Which checkpoint a `--resume` continues from: the run's latest, if its
//! configuration, semantic IDs and origin match this run's; with
//! `--restart-if-changed` a run that does not match is moved aside.
use super::{Task, TrainOptions, Trainer};
use crate::artifact::checkpoint;
use crate::error::{Error, Result};
use crate::progress::Progress;
use std::path::{Path, PathBuf};

impl Trainer {
    /// Why the checkpoint `dir` cannot be continued with this configuration, if it cannot.
    fn resume_problem(&self, dir: &Path, task: &dyn Task) -> Result<Option<String>> {
        let cfg = &self.cfg;
        let meta = checkpoint::load_meta(dir)?;
        Ok(if meta.task != task.kind() {
            Some(format!(
                "{} is a `{}` checkpoint, not `{}`",
                dir.display(),
                meta.task.name(),
                task.kind().name()
            ))
        } else if meta.train.model != cfg.model
            || meta.train.optim != cfg.optim
            || meta.train.data != cfg.data
            || meta.train.verify != cfg.verify
            || meta.train.run.seed != cfg.run.seed
        {
            Some(format!("{} was trained with another configuration (model, optim, data, verify or seed differ)", dir.display()))
        } else if meta.semantic_ids_sha256 != self.index.summary.codes_sha256 {
            Some(format!(
                "{}: its semantic IDs differ from the index",
                dir.display()
            ))
        } else if meta.built_from_sha256 != task.built_from() {
            Some(format!(
                "{} was built from another generator",
                dir.display()
            ))
        } else {
            None
        })
    }

    /// The checkpoint to continue from, if any.
    pub(super) fn resume_from(
        &self,
        task: &dyn Task,
        opts: &TrainOptions,
        progress: &dyn Progress,
    ) -> Result<Option<PathBuf>> {
        // The checkpoint to continue from, if any: with nothing to resume
        // (never started, or stopped before its first checkpoint) the run
        // starts afresh, so that a scheduler can re-run the same command after
        // a preemption; with restart_if_changed an unfit one is moved aside.
        Ok(match (opts.resume, checkpoint::latest(&self.run_dir)) {
            (false, _) => None,
            (true, None) => {
                progress.note(&format!(
                    "--resume: no checkpoint in {} yet; starting afresh",
                    self.run_dir.display()
                ));
                None
            }
            (true, Some(dir)) => match self.resume_problem(&dir, task)? {
                None => Some(dir),
                Some(why) if opts.restart_if_changed => {
                    let aside = crate::util::fsx::move_aside(&self.run_dir)?;
                    progress.note(&format!(
                        "{why}: moved it to {} and training afresh",
                        aside.display()
                    ));
                    None
                }
                Some(why) => return Err(Error::Mismatch(format!("--resume: {why}"))),
            },
        })
    }
}
