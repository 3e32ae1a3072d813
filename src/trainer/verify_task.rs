//! Training the verifier: for each sampled training position, the true next
//! item is a yes; no-examples are hard negatives (items from the generator's
//! own beams that are not the target) and random items, at a configurable
//! ratio. With `verify.objective = "lists"` a training position's target and
//! its negatives form one example: the history is encoded once for the list,
//! and besides each pair's yes/no the target's yes-margin must beat its
//! negatives' under a softmax over the list — the order reranking reads (a
//! listwise loss as in ListNet, Cao et al. 2007; the pointwise answer keeps
//! TALLRec's yes/no meaning). Validation reports AUC for hard and random
//! negatives separately.
//! After training, λ for `log p_gen + λ · log P(yes)` is chosen on the
//! validation split and stored with the verifier.
pub use super::verify_lambda::{choose_and_store_lambda, lambda_sweep};
use super::{examples, sample_users, split_examples, Batch, BatchBuilder, Example, Task, Trainer};
use crate::artifact::checkpoint::Loaded;
use crate::config::VerifyObjective;
use crate::data::HeldOut;
use crate::decode::generator::Query;
use crate::error::{Error, Result};
use crate::model::T5;
use crate::prompt;
use crate::semantic_id::vocab;
use crate::verify::{auc, yes_no_logits, Pair, Verifier};
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use std::collections::BTreeMap;
use tch::{Device, Tensor};

#[derive(Debug, Clone, Copy)]
struct VerifyExample {
    at: Example,
    candidate: u32,
    yes: bool,
}

/// Validation pairs of one user: the target and its negatives.
struct ValidCase {
    held: HeldOut,
    hard: Vec<u32>,
    random: Vec<u32>,
}

pub struct VerifyTask<'a> {
    t: &'a Trainer,
    examples: Vec<VerifyExample>,
    valid: Vec<ValidCase>,
    /// The generator whose candidates are reranked (validation negatives).
    generator: &'a Loaded,
    /// Where the training negatives come from (`verify.miner`, else the
    /// generator); its weights are the starting point when
    /// `verify.init_from_generator`.
    miner: &'a Loaded,
}

fn random_items(rng: &mut impl Rng, n_items: u32, avoid: u32, k: usize) -> Vec<u32> {
    (0..k)
        .map(|_| loop {
            let i = rng.gen_range(0..n_items);
            if i != avoid {
                break i;
            }
        })
        .collect()
}

impl<'a> VerifyTask<'a> {
    /// Mines hard negatives over sampled training positions (with `miner`, a
    /// generator trained with `data.hold_out_last`, over the positions it held
    /// out; else with `generator` over all) and over the validation users
    /// (with `generator`), each as it decodes: its own prompt settings.
    pub fn new(
        t: &'a Trainer,
        generator: &'a Loaded,
        miner: Option<&'a Loaded>,
        progress: &dyn crate::progress::Progress,
    ) -> Result<Self> {
        let vc = &t.cfg.verify;
        let (miner, mut positions) = match miner {
            Some(m) => {
                let k = m.meta.train.data.hold_out_last;
                if k == 0 {
                    return Err(Error::Config(format!(
                        "verify.miner: {} trained on every position (its data.hold_out_last is 0); train the miner with data.hold_out_last = N, or leave verify.miner out",
                        m.dir.display()
                    )));
                }
                if m.meta.dataset_content_sha256 != t.ds.manifest.content_sha256 {
                    return Err(Error::Mismatch(format!(
                        "verify.miner: {} was trained on another dataset than {}",
                        m.dir.display(),
                        t.cfg.data.dataset.display()
                    )));
                }
                (m, split_examples(&t.ds.train, k).1)
            }
            None => (generator, examples(&t.ds)),
        };
        if vc.reader == crate::config::VerifyReader::Ids
            && vc.init_from_generator
            && !t.cfg.model.same_shape(&miner.model.config)
        {
            return Err(Error::Config("verify.init_from_generator needs the verifier's [model] to match the generator's (or set it to false)".into()));
        }
        let mut rng =
            rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(t.cfg.run.seed ^ 0x7665_7269_6679);
        if positions.is_empty() {
            return Err(Error::Config("no training positions".into()));
        }
        positions.shuffle(&mut rng);
        // A sequence reader trains on every position on its own: only the
        // validation questions are mined for it.
        let sequence = vc.reader == crate::config::VerifyReader::Sequence;
        positions.truncate(if sequence {
            0
        } else if vc.max_positions == 0 {
            positions.len()
        } else {
            vc.max_positions
        });
        if sequence {
            progress.note(&format!(
                "verifier: SASRec trains on every position of the training sequences; its yes/no validation asks about the top {} of {}",
                vc.candidates,
                generator.dir.display()
            ));
        } else {
            progress.note(&format!(
                "verifier: {} training positions, hard negatives from {}{}",
                positions.len(),
                miner.dir.display(),
                if vc.miner.is_some() {
                    " (positions it held out)"
                } else {
                    ""
                }
            ));
        }
        let width = vc.candidates.max(t.cfg.eval.beam);
        let mine = t.generator(&miner.model, miner.meta.prompt(), width);
        let n_items = t.item_tokens.len() as u32;
        let lists = vc.objective == VerifyObjective::Lists;
        if !sequence {
            progress.start(positions.len() as u64, "mining hard negatives");
        }
        let mut kept = 0usize;
        let mut ex =
            Vec::with_capacity(positions.len() * (1 + vc.hard_negatives + vc.random_negatives));
        for chunk in positions.chunks(t.cfg.eval.batch_size.max(1)) {
            let qs: Vec<Query> = chunk
                .iter()
                .map(|e| {
                    let s = &t.ds.train[e.user as usize];
                    Query {
                        user: &s.user,
                        history: &s.items[..e.pos as usize],
                    }
                })
                .collect();
            for (e, hits) in chunk.iter().zip(mine.generate(&qs, vc.candidates)) {
                let target = t.ds.train[e.user as usize].items[e.pos as usize];
                if vc.hits_only && !hits.iter().any(|h| h.item == target) {
                    continue;
                }
                kept += 1;
                ex.push(VerifyExample {
                    at: *e,
                    candidate: target,
                    yes: true,
                });
                let mut hard: Vec<u32> = hits
                    .iter()
                    .map(|h| h.item)
                    .filter(|&i| i != target)
                    .collect();
                hard.truncate(vc.candidates);
                hard.shuffle(&mut rng);
                hard.truncate(vc.hard_negatives);
                // A list has a fixed length: fewer beams than asked are made up with random items.
                let short = if lists {
                    vc.hard_negatives - hard.len()
                } else {
                    0
                };
                for &c in &hard {
                    ex.push(VerifyExample {
                        at: *e,
                        candidate: c,
                        yes: false,
                    });
                }
                for c in random_items(&mut rng, n_items, target, vc.random_negatives + short) {
                    ex.push(VerifyExample {
                        at: *e,
                        candidate: c,
                        yes: false,
                    });
                }
            }
            progress.inc(chunk.len() as u64);
        }
        if !sequence {
            progress.finish();
        }
        if vc.hits_only {
            progress.note(&format!(
                "verifier: {kept} of {} positions have their target among the top {} (verify.hits_only)",
                positions.len(),
                vc.candidates
            ));
            if kept == 0 {
                return Err(Error::Config(
                    "verify.hits_only: no training position has its target among the generator's candidates".into(),
                ));
            }
        }
        let held = sample_users(&t.ds.valid, t.cfg.eval.max_users, t.cfg.run.seed);
        let qs: Vec<Query> = held.iter().map(Query::from).collect();
        let gen = t.generator(&generator.model, generator.meta.prompt(), width);
        let tops = gen.generate_batched(
            &qs,
            vc.candidates,
            t.cfg.eval.batch_size,
            &crate::progress::Silent,
        );
        let valid = held
            .iter()
            .zip(tops)
            .map(|(h, hits)| ValidCase {
                held: h.clone(),
                hard: hits
                    .iter()
                    .map(|x| x.item)
                    .filter(|&i| i != h.target)
                    .take(vc.hard_negatives.max(1))
                    .collect(),
                random: random_items(&mut rng, n_items, h.target, vc.hard_negatives.max(1)),
            })
            .collect();
        Ok(Self {
            t,
            examples: ex,
            valid,
            generator,
            miner,
        })
    }
}

impl VerifyTask<'_> {
    /// Training example `i` (see [`Task::n_examples`]): its user, history
    /// and candidates, each with its answer (`true`: yes).
    pub fn example(&self, i: usize) -> (&str, &[u32], Vec<(u32, bool)>) {
        let g = self.t.cfg.verify.pairs_per_example();
        let list = &self.examples[i * g..(i + 1) * g];
        let s = &self.t.ds.train[list[0].at.user as usize];
        let answers = list.iter().map(|e| (e.candidate, e.yes)).collect();
        (&s.user, &s.items[..list[0].at.pos as usize], answers)
    }

    /// The validation questions, user by user: the target, then the hard
    /// and the random negatives.
    pub fn valid_pairs(&self) -> Vec<Pair<'_>> {
        self.valid
            .iter()
            .flat_map(|c| {
                let (user, history) = (c.held.user.as_str(), c.held.history.as_slice());
                std::iter::once(c.held.target)
                    .chain(c.hard.iter().copied())
                    .chain(c.random.iter().copied())
                    .map(move |candidate| Pair {
                        user,
                        history,
                        candidate,
                    })
            })
            .collect()
    }

    /// AUC of the targets against all, the hard and the random negatives,
    /// from the scores of [`VerifyTask::valid_pairs`] in order.
    pub fn valid_report(&self, s: &[f32]) -> BTreeMap<String, f64> {
        let (mut pos, mut hard, mut random) = (Vec::new(), Vec::new(), Vec::new());
        let mut at = 0;
        for c in &self.valid {
            pos.push(s[at]);
            hard.extend_from_slice(&s[at + 1..at + 1 + c.hard.len()]);
            random.extend_from_slice(
                &s[at + 1 + c.hard.len()..at + 1 + c.hard.len() + c.random.len()],
            );
            at += 1 + c.hard.len() + c.random.len();
        }
        let all: Vec<f32> = hard.iter().chain(&random).copied().collect();
        BTreeMap::from([
            ("auc".to_string(), auc(&pos, &all)),
            ("auc_hard".to_string(), auc(&pos, &hard)),
            ("auc_random".to_string(), auc(&pos, &random)),
        ])
    }
}

impl Task for VerifyTask<'_> {
    fn kind(&self) -> crate::config::TaskKind {
        crate::config::TaskKind::Verify
    }
    fn n_examples(&self) -> usize {
        self.examples.len() / self.t.cfg.verify.pairs_per_example()
    }
    /// One encoder row per example; its `verify.pairs_per_example()` pairs are the decoder rows.
    fn batcher(&self) -> BatchBuilder<'_> {
        let (t, examples) = (self.t, &self.examples);
        let g = t.cfg.verify.pairs_per_example();
        Box::new(move |idx: &[u32]| {
            let p = t.cfg.data.prompt();
            let mut cases: Vec<(&str, &[u32])> = Vec::with_capacity(idx.len());
            let rows = idx.len() * g;
            let mut decs = Vec::with_capacity(rows);
            let mut labels = Vec::with_capacity(rows);
            let mut candidates = Vec::with_capacity(rows);
            for &i in idx {
                let list = &examples[i as usize * g..(i as usize + 1) * g];
                let s = &t.ds.train[list[0].at.user as usize];
                cases.push((&s.user, &s.items[..list[0].at.pos as usize]));
                for e in list {
                    decs.push(prompt::decoder_input(&t.item_tokens, e.candidate));
                    candidates.push(i64::from(e.candidate));
                    labels.push(if e.yes { 0i64 } else { 1 });
                }
            }
            let prompt::EncoderBatch { ids, mask, items } = prompt::encoder_batch(
                vocab::TASK_VERIFY,
                &t.vocab,
                &t.item_tokens,
                &p,
                &cases,
                Device::Cpu,
            );
            let (dec, _) = prompt::pad(&decs, Device::Cpu);
            Batch {
                ids,
                mask,
                items,
                dec,
                dec_item: p.item_text.then(|| Tensor::from_slice(&candidates)),
                labels: Tensor::from_slice(&labels),
                matches: None,
            }
        })
    }
    /// Cross-entropy of every pair's yes/no answer; for lists, plus the
    /// softmax cross-entropy of each list's yes-margins (the target first).
    fn loss(&self, model: &T5, b: &Batch) -> Tensor {
        let g = self.t.cfg.verify.pairs_per_example() as i64;
        let mut enc = model.encode(&b.ids, &b.mask, b.items.as_ref(), true);
        let mut mask = b.mask.shallow_clone();
        if g > 1 {
            enc = enc.repeat_interleave_self_int(g, 0, None);
            mask = mask.repeat_interleave_self_int(g, 0, None);
        }
        let dec = model.decode_about(&b.dec, b.dec_item.as_ref(), &enc, &mask, true);
        verify_loss(&yes_no_logits(&model.lm_logits(&dec)), &b.labels, g)
    }
    fn validate(&self, model: &T5) -> BTreeMap<String, f64> {
        let t = self.t;
        let v = Verifier {
            model,
            vocab: &t.vocab,
            item_tokens: &t.item_tokens,
            prompt: t.cfg.data.prompt(),
        };
        self.valid_report(&v.log_p_yes(&self.valid_pairs(), 1024))
    }
    fn score_key(&self) -> &'static str {
        "auc"
    }
    fn init(&self, vs: &mut tch::nn::VarStore) -> Result<()> {
        if self.t.cfg.verify.init_from_generator {
            super::copy_shared(vs, &self.miner.vs)?;
        }
        Ok(())
    }
    fn built_from(&self) -> Option<String> {
        Some(self.generator.weights_sha256.clone())
    }
}

/// The verifier's loss from yes/no logits `[N, 2]` and labels `[N]` (0 = yes):
/// the mean cross-entropy of every answer and, for lists of `group` rows with
/// the target first, the mean softmax cross-entropy of each list's
/// yes-margins (`logit yes − logit no`) with the target as the class.
pub fn verify_loss(yes_no: &Tensor, labels: &Tensor, group: i64) -> Tensor {
    let pairs = yes_no.cross_entropy_for_logits(labels);
    if group == 1 {
        return pairs;
    }
    let margins = (yes_no.select(1, 0) - yes_no.select(1, 1)).view([-1, group]);
    let first = Tensor::zeros([margins.size()[0]], (tch::Kind::Int64, margins.device()));
    pairs + margins.cross_entropy_for_logits(&first)
}

#[cfg(test)]
mod tests {
    use super::verify_loss;
    use tch::Tensor;

    /// The loss by hand: two lists of three rows (target first).
    #[test]
    fn list_loss_is_pair_loss_plus_softmax_over_each_list() {
        let yn = [
            [2.0f64, 0.5],
            [0.0, 1.0],
            [1.0, 1.0],
            [-1.0, 0.0],
            [0.5, 0.0],
            [0.0, 2.0],
        ];
        let labels = [0i64, 1, 1, 0, 1, 1];
        let flat: Vec<f32> = yn.iter().flat_map(|r| [r[0] as f32, r[1] as f32]).collect();
        let t = Tensor::from_slice(&flat).view([6, 2]);
        let l = Tensor::from_slice(&labels);
        let lse = |a: &[f64]| a.iter().map(|x| x.exp()).sum::<f64>().ln();
        let pairs: f64 = yn
            .iter()
            .zip(labels)
            .map(|(r, y)| lse(r) - r[y as usize])
            .sum::<f64>()
            / 6.0;
        let m: Vec<f64> = yn.iter().map(|r| r[0] - r[1]).collect();
        let lists = ((lse(&m[0..3]) - m[0]) + (lse(&m[3..6]) - m[3])) / 2.0;
        let got1 = verify_loss(&t, &l, 1).double_value(&[]);
        let got3 = verify_loss(&t, &l, 3).double_value(&[]);
        assert!((got1 - pairs).abs() < 1e-5, "{got1} vs {pairs}");
        assert!(
            (got3 - pairs - lists).abs() < 1e-5,
            "{got3} vs {}",
            pairs + lists
        );
    }
}
