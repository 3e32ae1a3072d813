//! Choosing the verifier's weight λ in `log p_gen + λ · log P(yes)` after
//! training: the generator's top candidates of a seeded sample of validation
//! users are reranked for each λ tried, the best NDCG@10 wins (ties keep the
//! earlier λ of the grid, λ = 0 first — the generator alone — unless beaten), and
//! the choice with its sweep is stored in the verifier's card.
use super::{sample_users, Trainer};
use crate::artifact::checkpoint::{self, Loaded};
use crate::data::HeldOut;
use crate::decode::generator::{Generator, Query};
use crate::error::Result;
use crate::eval::choose_on_validation;
use crate::verify::{rerank, Verifier};
use tch::Device;

/// Each λ of `lambdas` with the NDCG@10 of the held-out users' lists after
/// reranking the generator's top `top` by `log p_gen + λ · log P(yes)`, and
/// the best of them (by the one rule for choices made on validation).
pub fn lambda_sweep(
    gen: &Generator,
    ver: &Verifier,
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
        tops.iter()
            .zip(&yes)
            .map(|(hits, y)| rerank(hits, y, l).iter().map(|x| x.item).collect())
            .collect()
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
    let vc = &trainer.cfg.verify;
    let gen = trainer.generator(
        &generator.model,
        generator.meta.prompt(),
        vc.rerank_top.max(generator.meta.train.eval.beam),
    );
    let ver = Verifier {
        model: &best.model,
        vocab: &trainer.vocab,
        item_tokens: &trainer.item_tokens,
        prompt: trainer.cfg.data.prompt(),
    };
    let held = sample_users(
        &trainer.ds.valid,
        trainer.cfg.eval.max_users,
        trainer.cfg.run.seed,
    );
    let (lambda, sweep) = lambda_sweep(
        &gen,
        &ver,
        &held,
        vc.rerank_top,
        &vc.lambdas,
        trainer.cfg.eval.batch_size,
    );
    let choice = checkpoint::VerifierChoice {
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
    };
    let mut meta = best.meta.clone();
    meta.extra = choice.to_extra();
    checkpoint::save_meta(&best.dir, &meta)?;
    Ok((best.dir, choice))
}
