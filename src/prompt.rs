//! Token sequences the model reads and writes (P5-style prompts over the one
//! vocabulary):
//!
//! * generate: `<gen> <user> [ID of h_1] … [ID of h_n] <eos>` → `[ID of next] <eos>`
//! * verify:   `<verify> <user> [IDs of history] <eos>`, decoder `<pad> [ID of candidate]` →
//!   `<yes>` / `<no>` read after the candidate's last token
//!
//! where `[ID]` is an item's L codes plus its collision digit.
use crate::semantic_id::vocab::{self, Vocab};
use tch::{Device, Kind, Tensor};

/// How histories become prompts (saved with every checkpoint's config).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PromptConfig {
    /// Only the last `max_history` items are used.
    pub max_history: usize,
    /// Whether the hashed user token is part of the prompt (TIGER: yes).
    pub user_token: bool,
}

/// Input tokens for next-item generation; `history` holds item ids (oldest first).
pub fn generate_input(vocab: &Vocab, item_tokens: &[Vec<u32>], p: &PromptConfig, user: &str, history: &[u32]) -> Vec<u32> {
    encoder_input(vocab::TASK_GENERATE, vocab, item_tokens, p, user, history)
}

/// Encoder input for the yes/no verifier (the candidate goes to the decoder,
/// see [`verify_decoder`]).
pub fn verify_input(vocab: &Vocab, item_tokens: &[Vec<u32>], p: &PromptConfig, user: &str, history: &[u32]) -> Vec<u32> {
    encoder_input(vocab::TASK_VERIFY, vocab, item_tokens, p, user, history)
}

/// `<task> [<user>] [IDs of the last max_history items] <eos>`.
fn encoder_input(task: u32, vocab: &Vocab, item_tokens: &[Vec<u32>], p: &PromptConfig, user: &str, history: &[u32]) -> Vec<u32> {
    let h = &history[history.len().saturating_sub(p.max_history)..];
    let mut v = Vec::with_capacity(3 + h.len() * vocab.id_len());
    v.push(task);
    if p.user_token {
        v.push(vocab.user_token(user));
    }
    for &i in h {
        v.extend_from_slice(&item_tokens[i as usize]);
    }
    v.push(vocab::EOS);
    v
}

/// Decoder input for the verifier: `<pad>` then the candidate's ID; the
/// answer is read at the last position.
pub fn verify_decoder(item_tokens: &[Vec<u32>], candidate: u32) -> Vec<u32> {
    let mut d = Vec::with_capacity(item_tokens[candidate as usize].len() + 1);
    d.push(vocab::PAD);
    d.extend_from_slice(&item_tokens[candidate as usize]);
    d
}

/// Decoder input (`<pad>` start + ID) and labels (ID + `<eos>`) for a target item.
pub fn target(item_tokens: &[Vec<u32>], item: u32) -> (Vec<u32>, Vec<u32>) {
    let id = &item_tokens[item as usize];
    let mut dec = Vec::with_capacity(id.len() + 1);
    dec.push(vocab::PAD);
    dec.extend_from_slice(id);
    let mut lab = id.clone();
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
        Tensor::from_slice(&mask).view(shape).to_kind(Kind::Int64).to(device),
    )
}
