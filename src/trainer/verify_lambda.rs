//! Choosing the verifier's weight λ in `log p_gen + λ · log P(yes)` after
//! training: the generator's top candidates of a seeded sample of validation
//! users are reranked for each λ tried, the best NDCG@10 wins (ties keep the
//! earlier λ of the grid, λ = 0 first — the generator alone — unless beaten), and
//! the choice with its sweep is stored in the verifier's card.
use super::{sample_users, Trainer};
use crate::artifact::checkpoint::{self, Loaded};
use crate::data::HeldOut;
use crate::decode::generator::{Generator, Query};
use crate::decode::hit_items;
use crate::error::Result;
use crate::eval::choose_on_validation;
use crate::verify::{rerank_front, Judge, Verifier};
use tch::Device;

/// Each λ of `lambdas` with the NDCG@10 of the held-out users' lists after
/// reranking the generator's top `top` by `log p_gen + λ · log P(yes)`, and
/// the best of them (by the one rule for choices made on validation).
pub fn lambda_sweep(
    gen: &Generator,
    ver: &dyn Judge,
    held: &[HeldOut],
    top: usize,
    lambdas: &[f64],
    batch: usize,
) -> (f64, Vec<(f64, f64)>) {
    let qs: Vec<Query> = held.iter().map(Query::from).collect();
    let tops = gen.generate_batched(&qs, top, batch, &crate::progress::Silent);
    let users: Vec<(&str, &[u32])> = held
        .iter()
        .map(|h| (h.user.as_str(), h.history.as_slice()))
        .collect();
    let yes = ver.log_p_yes_lists(&users, &tops);
    let targets: Vec<u32> = held.iter().map(|h| h.target).collect();
    choose_on_validation(lambdas, &targets, |&l| {
        hit_items(&rerank_front(&tops, &yes, l))
    })
}

/// Chooses λ for `log p_gen + λ · log P(yes)` on the validation users (a
/// seeded sample) with the run's best verifier checkpoint, reranking
/// `generator`'s top candidates, and stores the choice (with its sweep) in
/// that checkpoint's card. Returns the checkpoint's directory and the choice.
pub fn choose_and_store_lambda(
    trainer: &Trainer,
    generator: &Loaded,
    device: Device,
) -> Result<(std::path::PathBuf, checkpoint::VerifierChoice)> {
    let mut best = checkpoint::load(&trainer.run_dir, device)?;
    trainer.attach_item_text(&mut best.model, &best.meta.prompt())?;
    let ver = Verifier {
        model: &best.model,
        vocab: &trainer.vocab,
        item_tokens: &trainer.item_tokens,
        prompt: trainer.cfg.data.prompt(),
    };
    let choice = choose_lambda(trainer, generator, &ver);
    store_choice(&best.dir, &choice)?;
    Ok((best.dir, choice))
}

/// λ chosen for `judge` on the validation users (a seeded sample),
/// reranking `generator`'s top candidates, with the sweep behind it.
pub fn choose_lambda(
    trainer: &Trainer,
    generator: &Loaded,
    judge: &dyn Judge,
) -> checkpoint::VerifierChoice {
    let vc = &trainer.cfg.verify;
    let gen = trainer.generator(
        &generator.model,
        generator.meta.prompt(),
        vc.rerank_top.max(generator.meta.train.eval.beam),
    );
    let held = sample_users(
        &trainer.ds.valid,
        trainer.cfg.eval.max_users,
        trainer.cfg.run.seed,
    );
    let (lambda, sweep) = lambda_sweep(
        &gen,
        judge,
        &held,
        vc.rerank_top,
        &vc.lambdas,
        trainer.cfg.eval.batch_size,
    );
    checkpoint::VerifierChoice {
        lambda,
        rerank_top: vc.rerank_top,
        generator: generator.dir.clone(),
        lambda_sweep: sweep
            .iter()
            .map(|&(lambda, valid_ndcg_at_10)| checkpoint::LambdaPoint {
                lambda,
                valid_ndcg_at_10,
            })
            .collect(),
    }
}

/// Writes a verifier's λ choice into the card of its checkpoint `dir`.
pub fn store_choice(dir: &std::path::Path, choice: &checkpoint::VerifierChoice) -> Result<()> {
    let mut meta = checkpoint::load_meta(dir)?;
    meta.extra = choice.to_extra();
    checkpoint::save_meta(dir, &meta)
}
