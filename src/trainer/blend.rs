//! After the sequence verifier's λ is chosen: choosing, on the validation
//! users, the five-way blend (`eval::BlendChoice`: weighted reciprocal-rank
//! fusion of the generator's beams reranked by λ, the last item's text
//! neighbours, the verifier's own top items, the items that followed the
//! last ones in training, `eval::Transitions`, and the user's own items
//! again, latest first), each also with the user's own items left out,
//! and storing it in the verifier's card, where
//! `recommend --rerank` and `evaluate --rerank` find it. It is used only when
//! it beats the λ-reranking with a paired interval above zero; then the
//! learned rescoring of its pool (`eval::rescore`) is tried against it.
use super::fusion::{index_neighbours, FUSION_MAX_USERS};
use super::{sample_users, Trainer};
use crate::artifact::checkpoint::{self, Loaded, VerifierChoice};
use crate::data::dataset::TrainSequence;
use crate::data::{HeldOut, Known, Split};
use crate::decode::generator::Query;
use crate::decode::hit_items;
use crate::error::Result;
use crate::eval::adapter::{AdapterChoice, TextAdapter};
use crate::eval::blend::Pooled;
use crate::eval::{
    choose_rescorer, choose_words_source, first_kept, latest_first, own_items_rule, pool_features,
    popularity, popularity_bias, BlendChoice, BlendLists, ItemFacts, TextQuery, Transitions,
    BLEND_BEAMS, TEXT_NUDGES,
};
use crate::eval::{paired_difference, Estimate, Protocol, TextNeighbours};
use crate::progress::Progress;
use crate::trainer::text_adapter::{fit_text_adapter, next_item_pairs, AdapterParams};
use crate::verify::sequence::SequenceVerifier;
use crate::verify::{rerank_front, Judge};
use std::path::Path;

/// What a source may return for a user (`keep(user, item)`).
type Keep<'a> = &'a dyn Fn(usize, u32) -> bool;

/// Chooses the blend for `verifier` over `generator` (with the λ of
/// `choice`) on a seeded sample of validation users and stores it in the
/// verifier checkpoint `dir`'s card. `read`: the index's text neighbours
/// when the caller has read them already (else they are read here).
/// `Ok(None)` with the reason noted when the dataset's embeddings are
/// missing or not the index's.
pub fn choose_and_store_blend(
    t: &Trainer,
    generator: &Loaded,
    (verifier, dir): (&SequenceVerifier, &Path),
    choice: &VerifierChoice,
    read: Option<TextNeighbours>,
    progress: &dyn Progress,
) -> Result<Option<BlendChoice>> {
    let nn = match read.map_or_else(|| index_neighbours(t), Ok) {
        Ok(nn) => nn,
        Err(why) => {
            progress.note(&format!("no blend: {why}"));
            return Ok(None);
        }
    };
    let held = sample_users(&t.ds.valid, FUSION_MAX_USERS, t.cfg.run.seed);
    // The counts read what is known before the validation targets, as
    // `recommend --split valid` reads it.
    let known = t.ds.known(Known::Before(Split::Valid));
    let (mut nn, adapter) = adapt_text(t, nn, (&held, &known), progress)?;
    let blend_depth = t.cfg.verify.blend_depth;
    let depth = BLEND_BEAMS.max(choice.rerank_top);
    let gen = t.generator(
        &generator.model,
        generator.meta.prompt(),
        t.cfg.eval.beam.max(depth),
    );
    progress.note(&format!(
        "the blend: the generator's {BLEND_BEAMS} beams reranked by λ, the last item's {blend_depth} text neighbours (by cosine, or nudged toward popular items: cos + β·ln(1 + count), β in {TEXT_NUDGES:?}), the verifier's own top {blend_depth}, the {blend_depth} items that most often followed the last ones in training and the user's own latest {blend_depth}, on {} validation users",
        held.len()
    ));
    let queries: Vec<Query> = held.iter().map(Query::from).collect();
    progress.start(held.len() as u64, "decoding the validation users");
    let hits = gen.generate_batched(&queries, depth, t.cfg.eval.batch_size, progress);
    progress.finish();
    let users: Vec<(&str, &[u32])> = held
        .iter()
        .map(|h| (h.user.as_str(), h.history.as_slice()))
        .collect();
    let tops: Vec<Vec<crate::decode::Hit>> = hits
        .iter()
        .map(|hs| hs.iter().take(choice.rerank_top).copied().collect())
        .collect();
    // Three steps: the verifier's yes/no, the text neighbours, the others.
    progress.start(
        3,
        "the blend's sources (the λ-reranking, text, the verifier's own, transitions)",
    );
    let yes = verifier.log_p_yes_lists(&users, &tops);
    progress.inc(1);
    // The generator's list as inference reranks it: the first `rerank_top`
    // by λ, the rest after (`Reranker::apply`).
    let rr = hit_items(&rerank_front(&hits, &yes, choice.lambda));
    let all = |_: usize, _: u32| true;
    let reranked = first_kept(&rr, 10, &all);
    let histories: Vec<&[u32]> = held.iter().map(|h| h.history.as_slice()).collect();
    let counts = popularity(&known, t.ds.items.len());
    // Each source twice: as it comes, and with the user's own items left
    // out (fetched deeper to make up for them) — where nobody takes an item
    // again, their slots may go to items the user may take. The rule is
    // the one inference applies (`infer::blend`).
    let rules = [false, true].map(|unseen_only| own_items_rule(&histories, unseen_only, &all));
    let keeps: [(usize, Keep); 2] = [(rules[0].0, &rules[0].1), (rules[1].0, &rules[1].1)];
    let mut texts: [Vec<Vec<Vec<u32>>>; 2] = Default::default();
    for &beta in &TEXT_NUDGES {
        let mut biased = match beta > 0.0 {
            true => Some(nn.with_bias(&popularity_bias(&counts, beta))?),
            false => None,
        };
        let nn = biased.as_mut().unwrap_or(&mut nn);
        for (lists, (extra, keep)) in texts.iter_mut().zip(keeps) {
            lists.push(nn.search(&histories, TextQuery::LAST, blend_depth, extra, keep)?);
        }
    }
    progress.inc(1);
    let transitions = Transitions::count(t.ds.items.len(), &known);
    let sources = keeps.map(|(extra, keep)| {
        (
            first_kept(&rr, BLEND_BEAMS, keep),
            verifier.own_top(&histories, (blend_depth, extra), keep),
            transitions.top(&histories, blend_depth, keep),
            // Empty where the own items are left out.
            latest_first(&histories, blend_depth, keep),
        )
    });
    progress.inc(1);
    let text_lists = texts
        .each_ref()
        .map(|t| t.iter().map(Vec::as_slice).collect::<Vec<_>>());
    let lists: [BlendLists; 2] = std::array::from_fn(|v| BlendLists {
        beams: &sources[v].0,
        texts: &text_lists[v],
        own: &sources[v].1,
        next: &sources[v].2,
        history: &sources[v].3,
    });
    progress.finish();
    let mut blend = BlendChoice::choose(&held, lists.each_ref(), &reranked, nn.sha256(), progress);
    if blend.used {
        progress.start(
            0,
            "rescoring the blend's pool (fitted on each half of the users, measured on the other)",
        );
        let (emb, dim) = nn.embeddings();
        let words = crate::eval::lexical::Lexical::new(&t.ds.texts());
        let facts = ItemFacts {
            emb,
            dim,
            counts: &counts,
            transitions: &transitions,
            words: &words,
        };
        // The last item's nearest by words, under the chosen setting's
        // rule for the user's own items: the pool's possible sixth list,
        // searched only where the rescoring is kept.
        let (extra, keep) = keeps[usize::from(blend.blend.unseen_only)];
        let near = || words.nearest_lists(&histories, (blend_depth, extra), keep);
        try_rescoring(
            &mut blend,
            (&lists, &near),
            (&held, &histories),
            facts,
            t.cfg.run.seed,
        );
        progress.finish();
    }
    blend.text_adapter = match adapter {
        Some((gain, a)) => Some(AdapterChoice {
            gain,
            file_sha256: a.map(|a| a.save(dir, nn.sha256())).transpose()?,
        }),
        None => None,
    };
    let mut meta = checkpoint::load_meta(dir)?;
    meta.extra[BlendChoice::KEY] = serde_json::to_value(&blend)
        .map_err(|e| crate::Error::Other(format!("the blend choice: {e}")))?;
    checkpoint::save_meta(dir, &meta)?;
    Ok(Some(blend))
}

/// The text adapter's paired gain on validation and the adapter when the
/// blend reads it; none when it was not tried.
type Judged = Option<(Estimate, Option<TextAdapter>)>;

/// The text neighbours the blend reads: `nn` as it reads, or adapted to
/// the training sequences (`eval::adapter`, fitted on `known`) where the
/// adapted text-kNN (last item) beats it on the validation users `held`
/// with a paired NDCG@10 interval above zero; the gain, and the adapter
/// when adapted (none of it under `verify.text_adapter = false`).
fn adapt_text(
    t: &Trainer,
    nn: TextNeighbours,
    (held, known): (&[HeldOut], &[TrainSequence]),
    progress: &dyn Progress,
) -> Result<(TextNeighbours, Judged)> {
    if !t.cfg.verify.text_adapter {
        return Ok((nn, None));
    }
    let (emb, dim) = nn.embeddings();
    let pairs = next_item_pairs(known);
    progress.start(
        0,
        &format!(
            "fitting the text adapter on {} pairs of consecutive training items",
            pairs.len()
        ),
    );
    let adapter = fit_text_adapter(emb, dim, pairs, AdapterParams::new(t.cfg.run.seed))?;
    let mut adapted = nn.with_embeddings(adapter.apply(emb))?;
    progress.finish();
    let histories: Vec<&[u32]> = held.iter().map(|h| h.history.as_slice()).collect();
    let targets: Vec<u32> = held.iter().map(|h| h.target).collect();
    let mut plain = nn;
    let [a, p] = [&mut adapted, &mut plain]
        .map(|n| n.search(&histories, TextQuery::LAST, 10, 0, |_, _| true));
    let gain =
        paired_difference("", &targets, &a?, &p?, &Protocol::default()).difference["ndcg@10"];
    Ok(match gain.lo > 0.0 {
        true => (adapted, Some((gain, Some(adapter)))),
        false => (plain, Some((gain, None))),
    })
}

/// Fits the learned rescoring (`eval::rescore`) over the pool of the chosen
/// setting's lists (its rule for the user's own items, its text nudge) and
/// keeps it in `blend` where it beats the setting's fusion on validation
/// users it was not fitted on; where it is kept, tries the pool with the
/// last item's nearest by words (`near`) as a sixth list, kept where its
/// rescoring beats the five lists' the same way.
fn try_rescoring(
    blend: &mut BlendChoice,
    (lists, near): (&[BlendLists; 2], &dyn Fn() -> Vec<Vec<u32>>),
    (held, histories): (&[HeldOut], &[&[u32]]),
    facts: ItemFacts,
    seed: u64,
) {
    let l = &lists[usize::from(blend.blend.unseen_only)];
    let text = l.texts[blend.blend.nudge_index()];
    let five = [l.beams, text, l.own, l.next, l.history];
    let pooled = Pooled::new(&five);
    let targets: Vec<u32> = held.iter().map(|h| h.target).collect();
    let pools = pool_features(&pooled, histories, facts);
    let fused = |halves: &[Vec<usize>; 2]| blend.cross_fitted(&pooled, &targets, halves);
    let rescoring = choose_rescorer(&pools, &targets, &fused, seed);
    blend.rescore_gain = Some(rescoring.gain);
    if rescoring.rescorer.is_none() {
        blend.rescorer = None;
        return;
    }
    let near = near();
    let six = Pooled::new(&[five.as_slice(), &[&near]].concat());
    let with = pool_features(&six, histories, facts);
    let words = choose_words_source(&with, &rescoring, &targets);
    blend.words_list_gain = Some(words.gain);
    blend.rescorer = words.rescorer.or(rescoring.rescorer);
}
