//! Training examples of the generator: every prefix of every training
//! sequence (TIGER's sliding window), and the batch of model inputs for a set
//! of them.
use crate::batch::{batch_of, Batch};
use crate::data::dataset::TrainSequence;
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
    split_examples(&ds.train, 0).0
}

/// The training positions split in two: those before each user's last
/// `hold_out` positions (at most half of a user's positions are held out, so
/// short sequences still train), and the held-out ones — positions a
/// generator trained on the first part has never seen a target of
/// (`data.hold_out_last`, read by the verifier's `verify.miner`).
pub fn split_examples(train: &[TrainSequence], hold_out: usize) -> (Vec<Example>, Vec<Example>) {
    let (mut kept, mut held) = (Vec::new(), Vec::new());
    for (u, t) in train.iter().enumerate() {
        let n = t.items.len();
        let h = hold_out.min(n.saturating_sub(1) / 2);
        for p in 1..n {
            let e = Example {
                user: u as u32,
                pos: p as u32,
            };
            if p + h < n {
                kept.push(e);
            } else {
                held.push(e);
            }
        }
    }
    (kept, held)
}

/// Each example's history length in items (what its prompt's length grows
/// with), capped at `max_history`: the key of `optim.length_pool`.
pub fn history_lengths(examples: &[Example], max_history: usize) -> Vec<u16> {
    let cap = max_history.min(u16::MAX as usize) as u32;
    examples.iter().map(|e| e.pos.min(cap) as u16).collect()
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

#[cfg(test)]
mod tests {
    use super::{split_examples, Example};
    use crate::data::dataset::TrainSequence;

    fn seq(n: u32) -> TrainSequence {
        TrainSequence {
            user: format!("u{n}"),
            items: (0..n).collect(),
        }
    }

    /// Each user's last positions are held out, at most half of them; the
    /// two parts together are every position, once.
    #[test]
    fn the_last_positions_are_held_out_at_most_half_of_a_user() {
        let train = [seq(12), seq(5), seq(2), seq(1)];
        let pos = |v: &[Example], u: u32| -> Vec<u32> {
            v.iter().filter(|e| e.user == u).map(|e| e.pos).collect()
        };
        let (kept, held) = split_examples(&train, 3);
        assert_eq!(pos(&kept, 0), (1..9).collect::<Vec<_>>());
        assert_eq!(pos(&held, 0), vec![9, 10, 11]);
        // 4 positions: 2 held out.
        assert_eq!(pos(&kept, 1), vec![1, 2]);
        assert_eq!(pos(&held, 1), vec![3, 4]);
        // One position: kept for training.
        assert_eq!(pos(&kept, 2), vec![1]);
        assert!(pos(&held, 2).is_empty() && pos(&kept, 3).is_empty());
        let (all, none) = split_examples(&train, 0);
        assert!(none.is_empty());
        assert_eq!(all.len(), kept.len() + held.len());
    }
}
