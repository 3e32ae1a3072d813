//! Training the sequence-reading verifier (`verify.reader = "sequence"`,
//! [`crate::verify::sequence`]): SASRec trained as RecBole trains it (Kang &
//! McAuley 2018; every prefix of every training sequence, cross-entropy over
//! the full catalogue, the best epoch by validation NDCG@10) — the harness's
//! SASRec baseline with the run's seed, or with `verify.sequence_text` its
//! item vectors also reading the items' text embeddings (UniSRec's item
//! representation, Hou et al. 2022); either is taken from the dataset's
//! cache when trained before. Its yes/no answers are then checked on the
//! same validation questions as the other verifiers' (AUC against the
//! generator's beams and against random items), the checkpoint is written
//! (`best` and `latest` name it) and λ is chosen on validation.
use super::blend::choose_and_store_blend;
use super::fusion::index_neighbours;
use super::verify_lambda::{choose_lambda, store_choice};
use super::verify_task::VerifyTask;
use super::Trainer;
use crate::artifact::checkpoint::{self, Loaded, VerifierChoice};
use crate::baseline::sasrec::{ItemText, SasRecParams, Trained};
use crate::error::{IoContext, Result};
use crate::eval::BlendChoice;
use crate::progress::Progress;
use crate::util::fsx::{write_atomic, StagedDir};
use crate::verify::sequence::SequenceVerifier;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;

/// What a sequence-verifier run did.
pub struct SequenceRun {
    pub checkpoint: PathBuf,
    /// SASRec's best epoch and the epochs it ran.
    pub best_epoch: usize,
    pub epochs: usize,
    /// SASRec's validation NDCG@10 at its best epoch.
    pub valid_ndcg_at_10: f64,
    /// AUC of the yes/no answers on the validation questions.
    pub valid: BTreeMap<String, f64>,
    pub choice: VerifierChoice,
    /// The five-way blend chosen on validation (`None`: no usable text
    /// embeddings; the λ-reranking stands).
    pub blend: Option<BlendChoice>,
    /// Seconds SASRec's training took (when it was trained, not cached).
    pub train_seconds: f64,
}

/// Trains (or takes from the cache) SASRec on the run's dataset, saves it as
/// a verifier checkpoint, chooses λ reranking `generator`, then the blend
/// of the generator's beams, the text neighbours, SASRec's own top items and
/// the item transitions.
pub fn train_sequence_verifier(
    t: &Trainer,
    generator: &Loaded,
    task: &VerifyTask,
    progress: &dyn Progress,
) -> Result<SequenceRun> {
    let p = SasRecParams {
        seed: t.cfg.run.seed,
        max_epochs: t.cfg.verify.sequence_max_epochs,
        ..SasRecParams::for_dataset(&t.ds)
    };
    // The item vectors read the text where the index's embeddings are here.
    let nn = match t.cfg.verify.sequence_text {
        true => index_neighbours(t)
            .inspect_err(|why| progress.note(&format!("SASRec reads item IDs alone: {why}")))
            .ok(),
        false => None,
    };
    let text = nn.as_ref().map(ItemText::of);
    let Trained {
        model, vs, meta, ..
    } = Trained::load_or_train(&t.cfg.data.dataset, &t.ds, &p, text, t.device, progress)?;
    if meta.text_sha256.is_some() {
        progress.note("SASRec's item vectors read the items' text embeddings (verify.sequence_text), folded into its ID table");
    }
    let verifier = SequenceVerifier::new(model, vs);
    let pairs = task.valid_pairs();
    let histories: Vec<&[u32]> = pairs.iter().map(|q| q.history).collect();
    let candidates: Vec<Vec<u32>> = pairs.iter().map(|q| vec![q.candidate]).collect();
    let scores: Vec<f32> = verifier
        .log_p(&histories, &candidates)
        .into_iter()
        .flatten()
        .collect();
    let valid = task.valid_report(&scores);

    std::fs::create_dir_all(&t.run_dir).at(&t.run_dir)?;
    write_atomic(&t.run_dir.join("train.toml"), t.cfg.to_toml().as_bytes())?;
    let metrics_path = t.run_dir.join("metrics.jsonl");
    let mut metrics = std::fs::File::create(&metrics_path).at(&metrics_path)?;
    for (i, v) in meta.history.iter().enumerate() {
        writeln!(
            metrics,
            "{}",
            serde_json::json!({"epoch": i + 1, "valid": {"ndcg@10": v}})
        )
        .at(&metrics_path)?;
    }
    writeln!(metrics, "{}", serde_json::json!({"valid": valid})).at(&metrics_path)?;

    let name = checkpoint::step_dir_name(meta.best_epoch);
    let dest = t.run_dir.join(&name);
    let staged = StagedDir::new(&dest)?;
    verifier.save(&staged.path(""))?;
    let mut card_valid = valid.clone();
    card_valid.insert("ndcg@10".into(), meta.valid_ndcg_at_10);
    checkpoint::write_card(&staged.path(""), t.meta(task, meta.best_epoch, card_valid))?;
    staged.commit()?;
    checkpoint::point_to(&t.run_dir, &name, true)?;
    let choice = choose_lambda(t, generator, &verifier);
    store_choice(&dest, &choice)?;
    // The blend reads the same embeddings: read here already when SASRec read text.
    let blend = choose_and_store_blend(t, generator, (&verifier, &dest), &choice, nn, progress)?;
    Ok(SequenceRun {
        checkpoint: dest,
        best_epoch: meta.best_epoch,
        epochs: meta.epochs,
        valid_ndcg_at_10: meta.valid_ndcg_at_10,
        valid,
        choice,
        blend,
        train_seconds: meta.train_seconds,
    })
}
