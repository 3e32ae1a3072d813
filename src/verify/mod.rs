//! TALLRec-style verifier (Bao et al. 2023): a yes/no question about a (user
//! history, candidate item) pair. The encoder reads
//! `<verify> <user> [history IDs] <eos>`, the decoder `<pad> [candidate ID]`,
//! and the logits after the candidate's last token are read at `<yes>` and
//! `<no>`: P(yes) is the softmax over those two. (The candidate sits in the
//! decoder rather than after a `<sep>` in the encoder: T5's cross-attention
//! has no positions, so a candidate inside the encoder input is only told
//! apart from the same tokens in the history by what the encoder learns about
//! `<sep>` — measured: a verifier in that layout stayed at chance. In the
//! decoder it is read directly, each user's history is encoded once for all
//! of its candidates, and the verifier can start from the generator's
//! weights.) The generator's top-N candidates are reranked by
//! `log p_gen + λ · log P(yes)` (filter-then-rerank: the generator prunes, the
//! verifier judges the hard candidates). A separate checkpoint, so the
//! generator is untouched and λ = 0 reproduces it exactly. A verifier that
//! reads item text (`data.item_text`) adds the cached text embedding of each
//! history item to its encoder position and that of the candidate to every
//! decoder position (the generator's projection, shared), so candidates with
//! alike IDs — collisions, near neighbours in the index — are told apart by
//! what they are.

pub mod sequence;
pub mod text;

use crate::decode::Hit;
use crate::model::T5;
use crate::prompt::{self, PromptConfig};
use crate::semantic_id::vocab::{self, Vocab};
use tch::{Kind, Tensor};

/// A verifier model with what it needs to build prompts.
pub struct Verifier<'a> {
    pub model: &'a T5,
    pub vocab: &'a Vocab,
    pub item_tokens: &'a [Vec<u32>],
    pub prompt: PromptConfig,
}

/// One (user, history, candidate) question.
#[derive(Debug, Clone, Copy)]
pub struct Pair<'p> {
    pub user: &'p str,
    pub history: &'p [u32],
    pub candidate: u32,
}

/// Yes/no logits `[B, 2]` from decoder logits `[B, T, V]` (last position).
pub fn yes_no_logits(logits: &Tensor) -> Tensor {
    let idx =
        Tensor::from_slice(&[i64::from(vocab::YES), i64::from(vocab::NO)]).to(logits.device());
    logits
        .select(1, -1)
        .index_select(1, &idx)
        .to_kind(Kind::Float)
}

impl Verifier<'_> {
    /// log P(yes) for each pair. Pairs of the same user in a row share one
    /// encoder pass (the history is encoded once, then every candidate is
    /// decoded against it); at most `batch_size` pairs are decoded at once.
    pub fn log_p_yes(&self, pairs: &[Pair], batch_size: usize) -> Vec<f32> {
        let _g = tch::no_grad_guard();
        let dev = self.model.device();
        let mut out = Vec::with_capacity(pairs.len());
        for chunk in pairs.chunks(batch_size.max(1)) {
            // Runs of consecutive pairs with the same user and history.
            let mut groups: Vec<(usize, usize)> = Vec::new();
            for (i, p) in chunk.iter().enumerate() {
                match groups.last_mut() {
                    Some((s, n)) if chunk[*s].user == p.user && chunk[*s].history == p.history => {
                        *n += 1
                    }
                    _ => groups.push((i, 1)),
                }
            }
            let cases: Vec<(&str, &[u32])> = groups
                .iter()
                .map(|&(s, _)| (chunk[s].user, chunk[s].history))
                .collect();
            let prompt::EncoderBatch { ids, mask, items } = prompt::encoder_batch(
                vocab::TASK_VERIFY,
                self.vocab,
                self.item_tokens,
                &self.prompt,
                &cases,
                dev,
            );
            let enc = self.model.encode(&ids, &mask, items.as_ref(), false);
            let counts =
                Tensor::from_slice(&groups.iter().map(|g| g.1 as i64).collect::<Vec<_>>()).to(dev);
            let enc = enc.repeat_interleave_self_tensor(&counts, 0, None);
            let mask = mask.repeat_interleave_self_tensor(&counts, 0, None);
            let decs: Vec<Vec<u32>> = chunk
                .iter()
                .map(|p| prompt::decoder_input(self.item_tokens, p.candidate))
                .collect();
            let (dec, _) = prompt::pad(&decs, dev);
            // A verifier that reads item text reads the candidate's too.
            let about = self.prompt.item_text.then(|| {
                let c: Vec<i64> = chunk.iter().map(|p| i64::from(p.candidate)).collect();
                Tensor::from_slice(&c).to(dev)
            });
            let logits = self.model.lm_logits(&self.model.decode_about(
                &dec,
                about.as_ref(),
                &enc,
                &mask,
                false,
            ));
            let lp = yes_no_logits(&logits)
                .log_softmax(-1, Kind::Float)
                .select(1, 0)
                .to_device(tch::Device::Cpu);
            out.extend(Vec::<f32>::try_from(lp).expect("f32"));
        }
        out
    }

    /// log P(yes) of each user's candidates, one list per user (all pairs
    /// scored together, each user's history encoded once).
    pub fn log_p_yes_lists(&self, users: &[(&str, &[u32])], hits: &[Vec<Hit>]) -> Vec<Vec<f32>> {
        let pairs: Vec<Pair> = users
            .iter()
            .zip(hits)
            .flat_map(|(&(user, history), hs)| {
                hs.iter().map(move |x| Pair {
                    user,
                    history,
                    candidate: x.item,
                })
            })
            .collect();
        let mut flat = self.log_p_yes(&pairs, 1024).into_iter();
        hits.iter()
            .map(|hs| flat.by_ref().take(hs.len()).collect())
            .collect()
    }
}

/// What reranking asks of a verifier: log P(yes) of each user's candidates.
pub trait Judge {
    /// One list per user (`users[i]` with `hits[i]`), in the hits' order.
    fn log_p_yes_lists(&self, users: &[(&str, &[u32])], hits: &[Vec<Hit>]) -> Vec<Vec<f32>>;
}

impl Judge for Verifier<'_> {
    fn log_p_yes_lists(&self, users: &[(&str, &[u32])], hits: &[Vec<Hit>]) -> Vec<Vec<f32>> {
        Verifier::log_p_yes_lists(self, users, hits)
    }
}

/// Reranks hits by `score + λ · log P(yes)` (stable: ties keep the generator's
/// order). With λ = 0 the order is the generator's, exactly.
pub fn rerank(hits: &[Hit], log_p_yes: &[f32], lambda: f64) -> Vec<Hit> {
    let mut v: Vec<Hit> = hits
        .iter()
        .zip(log_p_yes)
        .map(|(h, &ly)| Hit {
            item: h.item,
            score: if lambda == 0.0 {
                h.score
            } else {
                h.score + (lambda as f32) * ly
            },
        })
        .collect();
    v.sort_by(|a, b| b.score.total_cmp(&a.score));
    v
}

/// Each user's list with its first candidates (as many as that user has
/// log P(yes) for) [`rerank`]ed by λ and the rest kept after them in their
/// order: the λ-reranking of the depth λ was chosen for, and the list the
/// blend reads as the generator's.
pub fn rerank_front(hits: &[Vec<Hit>], log_p_yes: &[Vec<f32>], lambda: f64) -> Vec<Vec<Hit>> {
    hits.iter()
        .zip(log_p_yes)
        .map(|(hs, ly)| {
            let n = ly.len().min(hs.len());
            let mut v = rerank(&hs[..n], &ly[..n], lambda);
            v.extend_from_slice(&hs[n..]);
            v
        })
        .collect()
}

/// Area under the ROC curve: the probability that a random positive scores
/// above a random negative (ties count ½).
pub fn auc(pos: &[f32], neg: &[f32]) -> f64 {
    if pos.is_empty() || neg.is_empty() {
        return f64::NAN;
    }
    let mut all: Vec<(f32, bool)> = pos
        .iter()
        .map(|&s| (s, true))
        .chain(neg.iter().map(|&s| (s, false)))
        .collect();
    all.sort_by(|a, b| a.0.total_cmp(&b.0));
    // Mann–Whitney U with average ranks for ties.
    let mut rank_sum = 0.0;
    let mut i = 0;
    while i < all.len() {
        let mut j = i;
        while j < all.len() && all[j].0 == all[i].0 {
            j += 1;
        }
        let avg = (i + j + 1) as f64 / 2.0; // ranks i+1..=j
        rank_sum += avg * all[i..j].iter().filter(|x| x.1).count() as f64;
        i = j;
    }
    let (np, nn) = (pos.len() as f64, neg.len() as f64);
    (rank_sum - np * (np + 1.0) / 2.0) / (np * nn)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn auc_hand_cases() {
        assert_eq!(auc(&[3.0, 4.0], &[1.0, 2.0]), 1.0);
        assert_eq!(auc(&[1.0], &[2.0]), 0.0);
        assert_eq!(auc(&[1.0], &[1.0]), 0.5);
        // pos {1, 3}, neg {2}: one of two pairs ordered right.
        assert_eq!(auc(&[1.0, 3.0], &[2.0]), 0.5);
        assert!((auc(&[2.0, 3.0, 1.5], &[1.0, 2.5]) - 4.0 / 6.0).abs() < 1e-12);
    }
    #[test]
    fn lambda_zero_keeps_order() {
        let hits = vec![
            Hit {
                item: 3,
                score: -1.0,
            },
            Hit {
                item: 1,
                score: -1.0,
            },
            Hit {
                item: 2,
                score: -2.0,
            },
        ];
        let r = rerank(&hits, &[-5.0, f32::NEG_INFINITY, 0.0], 0.0);
        assert_eq!(r, hits);
        let r = rerank(&hits, &[-5.0, -0.1, 0.0], 1.0);
        assert_eq!(r.iter().map(|h| h.item).collect::<Vec<_>>(), vec![1, 2, 3]);
    }
}
