//! Decoding: trie-constrained beam search batched over users and beams
//! (TIGER's constrained generation, Hugging Face's `prefix_allowed_tokens_fn`
//! semantics), and greedy decoding. The model sits behind [`StepModel`], so the
//! search is tested with scripted scores and no model.
pub mod beam;
pub mod generator;
pub mod t5_step;

pub use beam::{
    beam_search, beam_search_with, greedy, hit_items, scored_hits, Banned, BeamOutput, Constraints,
    Greedy, Hit, Prior, Search,
};

use serde::{Deserialize, Serialize};
use tch::Tensor;

/// How to decode.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Decoding {
    /// One beam (constrained greedy).
    Greedy,
    /// `width` beams; scores are `sum log p / len^length_penalty`.
    Beam { width: usize, length_penalty: f64 },
}

impl Decoding {
    pub fn width(&self) -> usize {
        match self {
            Decoding::Greedy => 1,
            Decoding::Beam { width, .. } => *width,
        }
    }
    pub fn length_penalty(&self) -> f64 {
        match self {
            Decoding::Greedy => 0.0,
            Decoding::Beam { length_penalty, .. } => *length_penalty,
        }
    }
}

/// One decoder step of a model, for `rows` sequences decoded in lock-step.
pub trait StepModel {
    /// Logits `[rows, V]` (any device) for the next token after `tokens` (`[rows]` i64,
    /// the previous token of each row; the decoder start token on the first call).
    fn step(&mut self, tokens: &Tensor) -> Tensor;
    /// Keeps rows `rows` (`[rows]` i64 on the model's device) in this order.
    fn reorder(&mut self, rows: &Tensor);
    fn device(&self) -> tch::Device;
}
