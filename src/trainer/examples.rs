//! Training examples of the generator: every prefix of every training
//! sequence (TIGER's sliding window), and the batch of model inputs for a set
//! of them.
use crate::batch::{batch_of, Batch};
use crate::data::Dataset;
use crate::prompt;
use crate::semantic_id::Vocab;
use tch::Device;

/// One training example: user index into `train` and the position of the target.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Example {
    pub user: u32,
    pub pos: u32,
}

/// Every prefix of every training sequence: target `items[pos]`, history before it (pos ≥ 1).
pub fn examples(ds: &Dataset) -> Vec<Example> {
    ds.train
        .iter()
        .enumerate()
        .flat_map(|(u, t)| {
            (1..t.items.len()).map(move |p| Example {
                user: u as u32,
                pos: p as u32,
            })
        })
        .collect()
}

pub fn make_batch(
    ds: &Dataset,
    vocab: &Vocab,
    item_tokens: &[Vec<u32>],
    batch: &[Example],
    prompt_cfg: &prompt::PromptConfig,
    device: Device,
) -> Batch {
    let cases: Vec<(&str, &[u32], u32)> = batch
        .iter()
        .map(|e| {
            let t = &ds.train[e.user as usize];
            (
                t.user.as_str(),
                &t.items[..e.pos as usize],
                t.items[e.pos as usize],
            )
        })
        .collect();
    batch_of(vocab, item_tokens, &cases, prompt_cfg, device)
}
