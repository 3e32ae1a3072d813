//! Next-item generation for a batch of users: prompt building, one encoder
//! pass, constrained beam search. Shared by training-time validation,
//! `evaluate` and `recommend`, so all three rank items identically.
use super::t5_step::T5Step;
use super::{beam_search_banned, Banned, Decoding, Hit};
use crate::model::T5;
use crate::prompt;
use crate::semantic_id::trie::Trie;
use crate::semantic_id::vocab::{self, Vocab};

/// One user's request: original user id (for the hashed user token) and
/// history (internal item ids, oldest first).
#[derive(Debug, Clone, Copy)]
pub struct Query<'q> {
    pub user: &'q str,
    pub history: &'q [u32],
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

impl Generator<'_> {
    /// Top-`top_k` items per query, best first (at most the beam width).
    pub fn generate(&self, queries: &[Query], top_k: usize) -> Vec<Vec<Hit>> {
        self.generate_banned(queries, top_k, None)
    }

    /// [`generate`](Self::generate) that never returns items `banned(query index, item)`.
    pub fn generate_banned(&self, queries: &[Query], top_k: usize, banned: Option<Banned>) -> Vec<Vec<Hit>> {
        if queries.is_empty() {
            return Vec::new();
        }
        let _g = tch::no_grad_guard();
        let inputs: Vec<Vec<u32>> = queries
            .iter()
            .map(|q| prompt::generate_input(self.vocab, self.item_tokens, &self.prompt, q.user, q.history))
            .collect();
        let (ids, mask) = prompt::pad(&inputs, self.model.device());
        let width = self.decoding.width();
        let mut step = T5Step::new(self.model, &ids, &mask, width);
        beam_search_banned(&mut step, queries.len(), width, self.trie, vocab::PAD, vocab::EOS, self.decoding.length_penalty(), top_k, banned)
    }
}
