//! What a training run keeps between steps and across `--resume`
//! (`TrainerState`, written as trainer.json in each checkpoint), what it is
//! told beyond its configuration (`TrainOptions`), and what it reports at the
//! end (`TrainSummary`).
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Trainer state for `--resume` (`trainer.json` in each checkpoint).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainerState {
    pub step: usize,
    pub best_score: f64,
    pub best_step: usize,
    pub evals_since_best: usize,
}

/// Options that are not part of the model's config.
#[derive(Debug, Clone, Default)]
pub struct TrainOptions {
    pub resume: bool,
    /// With `resume`: a run trained with another configuration or other
    /// semantic IDs (or none at all) is moved aside and training starts
    /// afresh, instead of an error.
    pub restart_if_changed: bool,
    /// Stop (as if killed) after this many steps in this process, for tests.
    pub stop_after: Option<usize>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrainSummary {
    pub run_dir: PathBuf,
    pub steps: usize,
    pub best_step: usize,
    pub best_score: f64,
    /// The validation metric `best_score` is.
    pub score_key: String,
    pub examples_per_second: f64,
    pub stopped_early: bool,
    pub device: String,
    pub parameters: i64,
    /// In a data-parallel job: SHA-256 of the final weights, checked
    /// identical on every rank.
    pub weights_sha256: Option<String>,
}

/// A time-boxed run ends before max_steps: when, for the progress line
/// (empty without a time box).
pub(super) fn time_box_note(max_minutes: f64, elapsed: std::time::Duration) -> String {
    if max_minutes <= 0.0 {
        return String::new();
    }
    let left = (max_minutes * 60.0 - elapsed.as_secs_f64()).max(0.0);
    format!(
        " | time box ends in {}:{:02}",
        (left / 60.0) as u64,
        left as u64 % 60
    )
}
