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

/// The progress line's note on time. A time-boxed run ends before
/// max_steps: when. A run without a time box whose step limit is more than
/// an hour away at this speed (`steps`: done in this process, and left) is
/// told that early stopping may end it sooner and how to bound it: on a CPU
/// a dense catalogue trains the generator for hours (UCI Online Retail: 2 h
/// on 2 cores, benches/RESULTS.md), and the bar's eta is the step limit's.
pub(super) fn time_note(
    max_minutes: f64,
    (done, left): (usize, usize),
    elapsed: std::time::Duration,
) -> String {
    let secs = elapsed.as_secs_f64();
    if max_minutes <= 0.0 {
        let hours_left = left as f64 * secs / done.max(1) as f64 / 3600.0;
        return if done >= 100 && hours_left > 1.0 {
            " | early stopping may end it before the eta; --set run.max_minutes=N bounds it".into()
        } else {
            String::new()
        };
    }
    let left = (max_minutes * 60.0 - secs).max(0.0);
    format!(
        " | time box ends in {}:{:02}",
        (left / 60.0) as u64,
        left as u64 % 60
    )
}

#[cfg(test)]
mod tests {
    use super::time_note;
    use std::time::Duration;

    #[test]
    fn long_runs_are_told_how_to_bound_them() {
        let min = |m: u64| Duration::from_secs(60 * m);
        // 300 steps in 2 minutes, 35,000 left: over 3 hours at this speed.
        assert!(time_note(0.0, (300, 35_000), min(2)).contains("--set run.max_minutes=N"));
        // 20 minutes left, or too few steps to tell: nothing.
        assert_eq!(time_note(0.0, (300, 3_000), min(2)), "");
        assert_eq!(time_note(0.0, (50, 35_000), min(2)), "");
        // With a time box: when it ends.
        assert_eq!(
            time_note(50.0, (300, 35_000), min(2)),
            " | time box ends in 48:00"
        );
    }
}
