//! Next-item generation for a batch of users: prompt building, one encoder
//! pass, constrained beam search. Shared by training-time validation,
//! `evaluate` and `recommend`, so all three rank items identically.
use super::t5_step::T5Step;
use super::{beam_search_with, Banned, Constraints, Decoding, Hit, Search};
use crate::batch;
use crate::error::{Error, Result};
use crate::model::T5;
use crate::prompt;
use crate::semantic_id::store::Index;
use crate::semantic_id::trie::Node;
use crate::semantic_id::trie::Trie;
use crate::semantic_id::vocab::{self, Vocab};
use std::collections::HashMap;
use std::path::Path;

/// Gives `model` the item text it reads, when its checkpoint's prompt names
/// items (`data.item_text`): the embeddings the index was built from.
pub fn attach_item_text(
    model: &mut T5,
    prompt: &prompt::PromptConfig,
    dataset_dir: &Path,
    index: &Index,
) -> Result<()> {
    if !prompt.item_text {
        return Ok(());
    }
    let table = crate::embed::item_text_table(dataset_dir, &index.summary.embeddings_sha256)?;
    model.set_item_text(&table).map_err(Error::Mismatch)
}

/// One user's request: original user id (for the hashed user token) and
/// history (internal item ids, oldest first).
#[derive(Debug, Clone, Copy)]
pub struct Query<'q> {
    pub user: &'q str,
    pub history: &'q [u32],
}

impl<'q> From<&'q crate::data::HeldOut> for Query<'q> {
    fn from(h: &'q crate::data::HeldOut) -> Self {
        Query {
            user: &h.user,
            history: &h.history,
        }
    }
}

pub struct Generator<'a> {
    pub model: &'a T5,
    pub vocab: &'a Vocab,
    /// Token ID of every item (index = internal item id).
    pub item_tokens: &'a [Vec<u32>],
    pub trie: &'a Trie,
    pub prompt: prompt::PromptConfig,
    pub decoding: Decoding,
}

impl<'a> Generator<'a> {
    /// `model` decoding by beam search (`width` beams, no length penalty;
    /// the search every front end runs) over the items of `trie`.
    pub fn beam(
        model: &'a T5,
        vocab: &'a Vocab,
        item_tokens: &'a [Vec<u32>],
        trie: &'a Trie,
        prompt: prompt::PromptConfig,
        width: usize,
    ) -> Self {
        Generator {
            model,
            vocab,
            item_tokens,
            trie,
            prompt,
            decoding: Decoding::Beam {
                width,
                length_penalty: 0.0,
            },
        }
    }

    /// Top-`top_k` items per query, best first (at most the beam width).
    pub fn generate(&self, queries: &[Query], top_k: usize) -> Vec<Vec<Hit>> {
        self.generate_banned(queries, top_k, None)
    }

    /// [`generate`](Self::generate) over many queries, `batch` at a time,
    /// reporting each batch to `progress`.
    pub fn generate_batched(
        &self,
        queries: &[Query],
        top_k: usize,
        batch: usize,
        progress: &dyn crate::progress::Progress,
    ) -> Vec<Vec<Hit>> {
        queries
            .chunks(batch.max(1))
            .flat_map(|c| {
                let hits = self.generate(c, top_k);
                progress.inc(c.len() as u64);
                hits
            })
            .collect()
    }

    /// [`generate`](Self::generate) that never returns items `banned(query index, item)`.
    pub fn generate_banned(
        &self,
        queries: &[Query],
        top_k: usize,
        banned: Option<Banned>,
    ) -> Vec<Vec<Hit>> {
        if queries.is_empty() {
            return Vec::new();
        }
        let _g = tch::no_grad_guard();
        let cases: Vec<(&str, &[u32])> = queries.iter().map(|q| (q.user, q.history)).collect();
        let enc = prompt::encoder_batch(
            vocab::TASK_GENERATE,
            self.vocab,
            self.item_tokens,
            &self.prompt,
            &cases,
            self.model.device(),
        );
        let width = self.decoding.width();
        let mut step = T5Step::new(self.model, &enc.ids, &enc.mask, enc.items.as_ref(), width);
        let biases = self.history_match(queries);
        let lookup = |u: usize, node: Node| biases.as_ref().and_then(|b| b[u].get(&node).copied());
        let prior: Option<super::Prior> = if biases.is_some() {
            Some(&lookup)
        } else {
            None
        };
        let search = Search {
            batch: queries.len(),
            width,
            start: vocab::PAD,
            eos: vocab::EOS,
            length_penalty: self.decoding.length_penalty(),
            top_k,
        };
        beam_search_with(&mut step, self.trie, &search, Constraints { banned, prior })
    }

    /// `log p(ID + eos)` of the given items for each query, by teacher forcing
    /// with the history-match bias: the score the beam search gives an item
    /// it finds, for items it may not have found (`items[q]` for query `q`).
    pub fn score(&self, queries: &[Query], items: &[Vec<u32>]) -> Vec<Vec<f32>> {
        let _g = tch::no_grad_guard();
        let cases: Vec<(&str, &[u32], u32)> = queries
            .iter()
            .zip(items)
            .flat_map(|(q, its)| its.iter().map(move |&i| (q.user, q.history, i)))
            .collect();
        let mut flat = Vec::with_capacity(cases.len());
        for chunk in cases.chunks(256) {
            let b = batch::batch_of(
                self.vocab,
                self.item_tokens,
                chunk,
                &self.prompt,
                self.model.device(),
            );
            let lp = batch::target_logprobs(self.model, &b).to_device(tch::Device::Cpu);
            flat.extend(Vec::<f32>::try_from(&lp).expect("f32 scores"));
        }
        let mut it = flat.into_iter();
        items
            .iter()
            .map(|its| it.by_ref().take(its.len()).collect())
            .collect()
    }

    /// For each query, the history-match bias of every trie node its last
    /// `match_history` items pass through: with `c` of them under a node at
    /// level `k`, `w[k, 0] + w[k, 1] · ln(1 + c)`, as in training. None when
    /// the model has no such bias.
    fn history_match(&self, queries: &[Query]) -> Option<Vec<HashMap<Node, f32>>> {
        if self.prompt.match_history == 0 {
            return None;
        }
        let w = self.model.history_match_weights()?;
        let biases = queries
            .iter()
            .map(|q| {
                let mut counts: HashMap<Node, (usize, u32)> = HashMap::new();
                for &i in &q.history[q.history.len().saturating_sub(self.prompt.match_history)..] {
                    let mut node = self.trie.root();
                    for (level, &tok) in self
                        .item_tokens
                        .get(i as usize)
                        .map(Vec::as_slice)
                        .unwrap_or(&[])
                        .iter()
                        .enumerate()
                    {
                        let Some(c) = self.trie.step(node, tok) else {
                            break;
                        };
                        node = c;
                        counts.entry(c).or_insert((level, 0)).1 += 1;
                    }
                }
                counts
                    .into_iter()
                    .map(|(node, (k, c))| (node, w[k * 2] + w[k * 2 + 1] * (c as f32).ln_1p()))
                    .collect()
            })
            .collect();
        Some(biases)
    }
}
