//! Token sequences the model reads and writes (P5-style prompts over the one
//! vocabulary):
//!
//! * generate: `<gen> <user> [ID of h_1] … [ID of h_n] <eos>` → `[ID of next] <eos>`
//! * verify:   `<verify> <user> [IDs of history] <eos>`, decoder `<pad> [ID of candidate]` →
//!   `<yes>` / `<no>` read after the candidate's last token
//!
//! where `[ID]` is an item's L codes plus its collision digit.
//!
//! With [`ItemInput::Summed`] the encoder reads one position per item instead
//! of one per token: the embeddings of an item's L+1 tokens are added (the
//! tokens are typed by level, so the sum keeps which code sits where). A
//! history of 50 items is then 52 positions instead of 202, which is what
//! lets a long history fit a CPU budget.
use crate::semantic_id::vocab::{self, Vocab};
use serde::{Deserialize, Serialize};
use tch::{Device, Kind, Tensor};

/// How the encoder reads a history item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ItemInput {
    /// One position per token (P5 / TIGER).
    #[default]
    Tokens,
    /// One position per item: the sum of its tokens' embeddings.
    Summed,
}

/// How histories become prompts (stored in every checkpoint's card).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct PromptConfig {
    /// Only the last `max_history` items are used.
    pub max_history: usize,
    /// Whether the hashed user token is part of the prompt (TIGER: yes).
    pub user_token: bool,
    /// Tokens or items as encoder positions.
    pub item_input: ItemInput,
    /// History items the history-match bias looks at (0: none; see
    /// `T5::history_match_values`).
    pub match_history: usize,
    /// Whether encoder positions name their history item (see
    /// [`encoder_items`]), for a model that adds the item's text embedding.
    pub item_text: bool,
}

impl PromptConfig {
    /// How many of the most recent history items the model reads.
    pub fn history_len(&self) -> usize {
        self.max_history.max(self.match_history)
    }

    /// Tokens per encoder position: 1, or an item ID's length when summed.
    pub fn width(&self, vocab: &Vocab) -> usize {
        match self.item_input {
            ItemInput::Tokens => 1,
            ItemInput::Summed => vocab.id_len(),
        }
    }
}

/// Input tokens for next-item generation; `history` holds item ids (oldest first).
pub fn generate_input(
    vocab: &Vocab,
    item_tokens: &[Vec<u32>],
    p: &PromptConfig,
    user: &str,
    history: &[u32],
) -> Vec<u32> {
    encoder_input(vocab::TASK_GENERATE, vocab, item_tokens, p, user, history)
}

/// `<task> [<user>] [IDs of the last max_history items] <eos>`, flat; with
/// summed items every position is `width` tokens (a special token is padded
/// with `<pad>`, which adds nothing).
fn encoder_input(
    task: u32,
    vocab: &Vocab,
    item_tokens: &[Vec<u32>],
    p: &PromptConfig,
    user: &str,
    history: &[u32],
) -> Vec<u32> {
    let h = &history[history.len().saturating_sub(p.max_history)..];
    let w = p.width(vocab);
    let mut v = Vec::with_capacity((3 + h.len()) * vocab.id_len());
    let special = |v: &mut Vec<u32>, t: u32| {
        v.push(t);
        v.extend(std::iter::repeat_n(vocab::PAD, w - 1));
    };
    special(&mut v, task);
    if p.user_token {
        special(&mut v, vocab.user_token(user));
    }
    for &i in h {
        debug_assert_eq!(item_tokens[i as usize].len() % w, 0);
        v.extend_from_slice(&item_tokens[i as usize]);
    }
    special(&mut v, vocab::EOS);
    v
}

/// The most encoder positions a prompt of `p` can have: a full history of
/// items with the longest ID. What fixed-shape batches pad to.
pub fn max_encoder_positions(vocab: &Vocab, item_tokens: &[Vec<u32>], p: &PromptConfig) -> usize {
    let longest = item_tokens.iter().map(Vec::len).max().unwrap_or(0);
    2 + usize::from(p.user_token) + p.max_history * longest / p.width(vocab)
}

/// The history item at each encoder position of the prompt
/// [`encoder_batch`] builds for `history` (under either task), `none` at
/// the task, user and end positions: one entry per token, or per item when
/// summed.
pub fn encoder_items(
    vocab: &Vocab,
    item_tokens: &[Vec<u32>],
    p: &PromptConfig,
    history: &[u32],
    none: i64,
) -> Vec<i64> {
    let h = &history[history.len().saturating_sub(p.max_history)..];
    let w = p.width(vocab);
    let mut v = vec![none; 1 + usize::from(p.user_token)];
    for &i in h {
        v.extend(std::iter::repeat_n(
            i64::from(i),
            item_tokens[i as usize].len() / w,
        ));
    }
    v.push(none);
    v
}

/// The padded `[B, S]` item of every encoder position for these histories
/// (see [`encoder_items`]; padding and non-item positions hold the number
/// of items), or None when the prompt does not name items.
pub fn pad_encoder_items<'h>(
    vocab: &Vocab,
    item_tokens: &[Vec<u32>],
    p: &PromptConfig,
    histories: impl ExactSizeIterator<Item = &'h [u32]>,
    device: Device,
) -> Option<Tensor> {
    if !p.item_text {
        return None;
    }
    let none = item_tokens.len() as i64;
    let rows: Vec<Vec<i64>> = histories
        .map(|h| encoder_items(vocab, item_tokens, p, h, none))
        .collect();
    let s = rows.iter().map(Vec::len).max().unwrap_or(1);
    let mut flat = vec![none; rows.len() * s];
    for (r, row) in rows.iter().enumerate() {
        flat[r * s..r * s + row.len()].copy_from_slice(row);
    }
    Some(
        Tensor::from_slice(&flat)
            .view([rows.len() as i64, s as i64])
            .to(device),
    )
}

/// The padded encoder input of a batch: ids and mask (see [`pad_encoder`])
/// and, when the prompt names items, the item at each position (see
/// [`pad_encoder_items`]).
pub struct EncoderBatch {
    pub ids: Tensor,
    pub mask: Tensor,
    pub items: Option<Tensor>,
}

/// The encoder input for `(user, history)` cases under the task token
/// `task` (`vocab::TASK_GENERATE`, or `vocab::TASK_VERIFY` for the yes/no
/// verifier, whose candidate goes to the decoder, see [`decoder_input`]):
/// what every caller of the encoder feeds it, built in one place.
pub fn encoder_batch(
    task: u32,
    vocab: &Vocab,
    item_tokens: &[Vec<u32>],
    p: &PromptConfig,
    cases: &[(&str, &[u32])],
    device: Device,
) -> EncoderBatch {
    let inputs: Vec<Vec<u32>> = cases
        .iter()
        .map(|&(user, history)| encoder_input(task, vocab, item_tokens, p, user, history))
        .collect();
    let (ids, mask) = pad_encoder(&inputs, p, vocab, device);
    let items = pad_encoder_items(vocab, item_tokens, p, cases.iter().map(|c| c.1), device);
    EncoderBatch { ids, mask, items }
}

/// Pads encoder inputs built with `p`: ids `[B, S]` (or `[B, S, width]` for
/// summed items) and mask `[B, S]`.
pub fn pad_encoder(
    seqs: &[Vec<u32>],
    p: &PromptConfig,
    vocab: &Vocab,
    device: Device,
) -> (Tensor, Tensor) {
    let (ids, mask) = pad(seqs, device);
    let w = p.width(vocab) as i64;
    if w == 1 {
        return (ids, mask);
    }
    let b = ids.size()[0];
    // A position's first token is never <pad>, so it carries the mask.
    (
        ids.view([b, -1, w]),
        mask.view([b, -1, w]).select(2, 0).contiguous(),
    )
}

/// The history-match features of a target ID: `(level k, token, count)` for
/// every token that extends `id[..k]` to the prefix of `count` of the last
/// `match_history` history items (the gold prefix, as in teacher forcing).
pub fn history_matches(
    item_tokens: &[Vec<u32>],
    p: &PromptConfig,
    history: &[u32],
    id: &[u32],
) -> Vec<(usize, u32, u32)> {
    let h = &history[history.len().saturating_sub(p.match_history)..];
    let mut out = Vec::new();
    let mut level: Vec<(u32, u32)> = Vec::new();
    for k in 0..id.len() {
        level.clear();
        for &i in h {
            let t = &item_tokens[i as usize];
            if t.len() > k && t[..k] == id[..k] {
                match level.iter_mut().find(|(tok, _)| *tok == t[k]) {
                    Some((_, c)) => *c += 1,
                    None => level.push((t[k], 1)),
                }
            }
        }
        out.extend(level.iter().map(|&(tok, c)| (k, tok, c)));
    }
    out
}

/// Decoder input for an item: `<pad>` (the start token) then its ID. The
/// verifier reads its answer at the last position.
pub fn decoder_input(item_tokens: &[Vec<u32>], item: u32) -> Vec<u32> {
    let mut d = Vec::with_capacity(item_tokens[item as usize].len() + 1);
    d.push(vocab::PAD);
    d.extend_from_slice(&item_tokens[item as usize]);
    d
}

/// Decoder input ([`decoder_input`]) and labels (ID + `<eos>`) for a target item.
pub fn target(item_tokens: &[Vec<u32>], item: u32) -> (Vec<u32>, Vec<u32>) {
    let dec = decoder_input(item_tokens, item);
    let mut lab = item_tokens[item as usize].clone();
    lab.push(vocab::EOS);
    (dec, lab)
}

/// Right-pads sequences with `<pad>`: ids and mask `[B, T]` i64 on `device`.
pub fn pad(seqs: &[Vec<u32>], device: Device) -> (Tensor, Tensor) {
    let t = seqs.iter().map(Vec::len).max().unwrap_or(1).max(1);
    let mut ids = vec![i64::from(vocab::PAD); seqs.len() * t];
    let mut mask = vec![0i64; seqs.len() * t];
    for (r, s) in seqs.iter().enumerate() {
        for (c, &tok) in s.iter().enumerate() {
            ids[r * t + c] = i64::from(tok);
            mask[r * t + c] = 1;
        }
    }
    let shape = [seqs.len() as i64, t as i64];
    (
        Tensor::from_slice(&ids).view(shape).to(device),
        Tensor::from_slice(&mask)
            .view(shape)
            .to_kind(Kind::Int64)
            .to(device),
    )
}

#[cfg(test)]
mod tests;
