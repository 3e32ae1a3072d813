//! The `genrec` command line: one subcommand per pipeline stage. Arguments are
//! validated into library configs before any work starts; progress bars live
//! here, never in the library.
pub mod baseline;
pub mod common;
pub mod embed;
pub mod evaluate;
pub mod index;
pub mod prepare;
pub mod progress;
pub mod recommend;
pub mod train;
mod train_auto;
mod train_job;

use clap::{Parser, Subcommand};

/// genrec — a generative recommender with semantic IDs.
///
/// Pipeline: prepare → embed → index → train → evaluate / recommend.
/// Every stage writes an artifact that records hashes of what it was built from.
#[derive(Parser, Debug)]
#[command(name = "genrec", version, about, long_about = None, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Turn a raw dataset into time-ordered user sequences and a leave-one-out split.
    Prepare(prepare::Args),
    /// Embed item texts with all-MiniLM-L6-v2 (cached), or import your own embeddings.
    Embed(embed::Args),
    /// Build semantic IDs by residual k-means and print the index's health; `--add` for cold start.
    Index(index::Args),
    /// Train the T5 generator or the verifier (GPU when present, CPU otherwise); `-d <dataset>` alone: both.
    Train(train::Args),
    /// Leave-one-out evaluation with confidence intervals, next to baselines.
    Evaluate(evaluate::Args),
    /// Batch inference: top-K items per user, streamed, shardable.
    Recommend(recommend::Args),
    /// Train (or load from its cache) the SASRec baseline and print its figures.
    Baseline(baseline::Args),
}

pub fn run(cli: Cli) -> anyhow::Result<()> {
    match cli.command {
        Command::Prepare(a) => prepare::run(a),
        Command::Embed(a) => embed::run(a),
        Command::Index(a) => index::run(a),
        Command::Train(a) => train::run(a),
        Command::Evaluate(a) => evaluate::run(a),
        Command::Baseline(a) => baseline::run(a),
        Command::Recommend(a) => recommend::run(a),
    }
}
