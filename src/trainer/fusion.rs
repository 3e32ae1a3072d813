//! After the generator's training: choosing, on the validation users, how
//! the best checkpoint's beams are fused with the last item's text
//! neighbours (`eval::FusionChoice`, weighted reciprocal-rank fusion, kept
//! only when its paired gain is above zero), and storing the choice in that
//! checkpoint's card for `recommend` and `evaluate`.
use super::{sample_users, Trainer};
use crate::artifact::checkpoint;
use crate::decode::generator::Query;
use crate::decode::hit_items;
use crate::error::Result;
use crate::eval::{FusionChoice, TextNeighbours, FUSION_DEPTH};
use crate::progress::Progress;

/// Validation users the text fusion is chosen on, at most (a seeded sample
/// beyond that: enough to see a gain of a few thousandths, and a bounded wait
/// on the CPU).
pub const FUSION_MAX_USERS: usize = 20_000;

/// What [`choose_and_store`] did.
pub enum FusionOutcome {
    /// Chosen now and stored.
    Chosen(FusionChoice),
    /// A choice on the same embeddings and users was stored before (kept).
    ChosenBefore(FusionChoice),
    /// No choice: the dataset's embeddings are missing or not the index's
    /// (the reason); the generator's lists stand alone.
    NoText(String),
}

/// Chooses the text fusion of the run's best generator checkpoint on the
/// validation users (unless a choice on the same embeddings and users is
/// stored and `again` is false) and stores it in that checkpoint's card.
pub fn choose_and_store(
    trainer: &Trainer,
    again: bool,
    progress: &dyn Progress,
) -> Result<FusionOutcome> {
    let g = trainer.load_generator(&trainer.run_dir)?;
    let sha = &trainer.index.summary.embeddings_sha256;
    let held = sample_users(&trainer.ds.valid, FUSION_MAX_USERS, trainer.cfg.run.seed);
    if let Some(c) = FusionChoice::from_extra(&g.meta.extra) {
        if !again && &c.embeddings_sha256 == sha && c.valid_users == held.len() {
            return Ok(FusionOutcome::ChosenBefore(c));
        }
    }
    let mut nn = match index_neighbours(trainer) {
        Ok(nn) => nn,
        Err(why) => return Ok(FusionOutcome::NoText(why)),
    };
    let width = trainer.cfg.eval.beam.max(FUSION_DEPTH);
    let gen = trainer.generator(&g.model, g.meta.prompt(), width);
    progress.note(&format!(
        "the text fusion: the generator's {FUSION_DEPTH} beams against the last item's {FUSION_DEPTH} text neighbours, on {} validation users ({})",
        held.len(),
        crate::runtime::describe(trainer.device)
    ));
    let queries: Vec<Query> = held.iter().map(Query::from).collect();
    progress.start(held.len() as u64, "decoding the validation users");
    let hits = gen.generate_batched(
        &queries,
        FUSION_DEPTH,
        trainer.cfg.eval.batch_size,
        progress,
    );
    progress.finish();
    let choice = FusionChoice::choose(&hit_items(&hits), &held, &mut nn)?;
    let mut meta = g.meta.clone();
    meta.extra[FusionChoice::KEY] = serde_json::to_value(&choice)
        .map_err(|e| crate::Error::Other(format!("the fusion choice: {e}")))?;
    checkpoint::save_meta(&g.dir, &meta)?;
    Ok(FusionOutcome::Chosen(choice))
}

/// The dataset's text neighbours when its embeddings are the ones the index
/// was built from; otherwise why not.
pub(super) fn index_neighbours(trainer: &Trainer) -> std::result::Result<TextNeighbours, String> {
    match TextNeighbours::read(&trainer.cfg.data.dataset) {
        Ok(nn) if nn.sha256() == trainer.index.summary.embeddings_sha256 => Ok(nn),
        Ok(_) => Err("the dataset's embeddings are not the ones the index was built from".into()),
        Err(e) => Err(e.to_string()),
    }
}
