//! Choosing the verifier's weight λ in `log p_gen + λ · log P(yes)` after
//! training: the generator's top candidates of a seeded sample of validation
//! users are reranked for each λ tried, the best NDCG@10 wins (ties keep the
//! smaller λ, so λ = 0 — the generator alone — is kept unless beaten), and
//! the choice with its sweep is stored in the verifier's card.
use super::{sample_users, Trainer};
use crate::artifact::checkpoint::{self, Loaded};
use crate::data::HeldOut;
use crate::decode::generator::{Generator, Query};
use crate::error::Result;
use crate::eval::metrics;
use crate::verify::{rerank, Pair, Verifier};
use tch::Device;

/// NDCG@10 on held-out users after reranking the generator's top `top` by
/// `log p_gen + λ · log P(yes)`, for each λ in `lambdas`.
#[allow(clippy::too_many_arguments)]
pub fn lambda_sweep(
    gen: &Generator,
    ver: &Verifier,
    held: &[HeldOut],
    top: usize,
    lambdas: &[f64],
    batch: usize,
) -> Vec<(f64, f64)> {
    let qs: Vec<Query> = held.iter().map(Query::from).collect();
    let tops = gen.generate_batched(&qs, top, batch, &crate::progress::Silent);
    let pairs: Vec<Pair> = held
        .iter()
        .zip(&tops)
        .flat_map(|(h, hits)| {
            hits.iter().map(move |x| Pair {
                user: &h.user,
                history: &h.history,
                candidate: x.item,
            })
        })
        .collect();
    let flat = ver.log_p_yes(&pairs, 1024);
    let mut at = 0;
    let yes: Vec<&[f32]> = tops
        .iter()
        .map(|hits| {
            let y = &flat[at..at + hits.len()];
            at += hits.len();
            y
        })
        .collect();
    lambdas
        .iter()
        .map(|&l| {
            let nd: Vec<f64> = held
                .iter()
                .zip(tops.iter().zip(&yes))
                .map(|(h, (hits, y))| {
                    let items: Vec<u32> = rerank(hits, y, l).iter().map(|x| x.item).collect();
                    metrics::ndcg_at(metrics::rank_of(h.target, &items), 10)
                })
                .collect();
            (l, metrics::mean(&nd))
        })
        .collect()
}

/// The verifier settings stored in its checkpoint's `genrec.json` (`extra`).
pub fn choose_lambda(sweep: &[(f64, f64)]) -> f64 {
    sweep
        .iter()
        .fold((0.0, f64::NEG_INFINITY), |best, &(l, s)| {
            if s > best.1 + 1e-12 {
                (l, s)
            } else {
                best
            }
        })
        .0
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
    let sweep = lambda_sweep(
        &gen,
        &ver,
        &held,
        vc.rerank_top,
        &vc.lambdas,
        trainer.cfg.eval.batch_size,
    );
    let choice = checkpoint::VerifierChoice {
        lambda: choose_lambda(&sweep),
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
