//! The T5 behind [`StepModel`]: encoder once per user, decoder with a KV cache.
use super::StepModel;
use crate::model::{DecoderCache, T5};
use tch::Tensor;

pub struct T5Step<'a> {
    model: &'a T5,
    cache: DecoderCache,
}

impl<'a> T5Step<'a> {
    /// Encodes `ids`/`mask` (`[B, S]`, with the positions' `items` for a
    /// model that reads item text) once and prepares `beams` decoder rows per user.
    pub fn new(
        model: &'a T5,
        ids: &Tensor,
        mask: &Tensor,
        items: Option<&Tensor>,
        beams: usize,
    ) -> Self {
        let enc = model.encode(ids, mask, items, false);
        let cache = model.start_decoding(&enc, mask, beams as i64);
        Self { model, cache }
    }
}

impl StepModel for T5Step<'_> {
    fn step(&mut self, tokens: &Tensor) -> Tensor {
        self.model.decode_step(tokens, &mut self.cache)
    }
    fn reorder(&mut self, rows: &Tensor) {
        self.cache.reorder(rows);
    }
    fn device(&self) -> tch::Device {
        self.model.device()
    }
}
