//! The model's inputs for a batch of `(user, history, target item)` cases,
//! as the prompts of `prompt` lay them out: encoder ids and mask, decoder
//! input, labels and the history-match features — what training, the
//! verifier and the scoring of given items all feed the T5 with, built on the
//! host and moved to the device in one place.
use crate::model::T5;
use crate::prompt;
use crate::semantic_id::vocab::{self, Vocab};
use tch::{Device, Kind, Tensor};

/// The model's inputs for a batch of examples: encoder ids/mask `[B, S]`,
/// decoder input `[B, L+2]`, labels `[B, L+2]`.
pub struct Batch {
    pub ids: Tensor,
    pub mask: Tensor,
    /// The history item at each encoder position, when the prompt names them
    /// (see [`prompt::pad_encoder_items`]).
    pub items: Option<Tensor>,
    pub dec: Tensor,
    /// The item each decoder row is about (the verifier's candidate `[B]`),
    /// when the model reads its text (see [`T5::decode_about`]).
    pub dec_item: Option<Tensor>,
    pub labels: Tensor,
    /// History-match features, when the prompt has a match window.
    pub matches: Option<Matches>,
}

impl Batch {
    fn map(self, f: impl Fn(&Tensor) -> Tensor) -> Batch {
        let matches = self.matches.map(|m| Matches {
            rows: f(&m.rows),
            level: f(&m.level),
            token: f(&m.token),
            log_count: f(&m.log_count),
        });
        Batch {
            ids: f(&self.ids),
            mask: f(&self.mask),
            items: self.items.as_ref().map(&f),
            dec: f(&self.dec),
            dec_item: self.dec_item.as_ref().map(&f),
            labels: f(&self.labels),
            matches,
        }
    }

    /// Page-locks a host batch bound for a CUDA device, so that its copy can
    /// run without blocking (unchanged for the CPU). It calls `_pin_memory`:
    /// tch binds `pin_memory` only with the device argument, which libtorch
    /// 2.11 deprecates with a warning on every call (twice per tensor, tens
    /// of thousands of lines in a short GPU run).
    pub fn pinned(self, device: Device) -> Batch {
        if device.is_cuda() {
            self.map(|t| t.internal_pin_memory(device))
        } else {
            self
        }
    }

    /// The batch on `device`; from page-locked memory the copies are queued
    /// behind the GPU's work instead of waiting for it.
    pub fn to_device(self, device: Device) -> Batch {
        if device == Device::Cpu {
            return self;
        }
        self.map(|t| t.to_device_(device, t.kind(), true, false))
    }
}

/// History-match features of a batch (see [`prompt::history_matches`]): one
/// entry per (example, decoder position = ID level, token) with a count.
pub struct Matches {
    pub rows: Tensor,
    pub level: Tensor,
    pub token: Tensor,
    pub log_count: Tensor,
}

impl Matches {
    /// Adds the model's history-match bias to teacher-forced logits `[B, T, V]`.
    pub fn apply(&self, model: &T5, logits: Tensor) -> Tensor {
        match model.history_match_values(&self.level, &self.log_count) {
            Some(v) if self.rows.numel() > 0 => logits.index_put(
                &[Some(&self.rows), Some(&self.level), Some(&self.token)],
                &v.to_kind(logits.kind()),
                true,
            ),
            _ => logits,
        }
    }
}

/// The batch for `(user, history, target item)` cases.
pub fn batch_of(
    vocab: &Vocab,
    item_tokens: &[Vec<u32>],
    cases: &[(&str, &[u32], u32)],
    prompt_cfg: &prompt::PromptConfig,
    device: Device,
) -> Batch {
    let mut decs = Vec::with_capacity(cases.len());
    let mut labels = Vec::with_capacity(cases.len());
    let (mut rows, mut level, mut token, mut log_count) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for (r, &(_, history, target)) in cases.iter().enumerate() {
        let (d, l) = prompt::target(item_tokens, target);
        for (k, tok, c) in prompt::history_matches(
            item_tokens,
            prompt_cfg,
            history,
            &item_tokens[target as usize],
        ) {
            rows.push(r as i64);
            level.push(k as i64);
            token.push(i64::from(tok));
            log_count.push((c as f32).ln_1p());
        }
        decs.push(d);
        labels.push(l);
    }
    let enc_cases: Vec<(&str, &[u32])> = cases.iter().map(|c| (c.0, c.1)).collect();
    let prompt::EncoderBatch { ids, mask, items } = prompt::encoder_batch(
        vocab::TASK_GENERATE,
        vocab,
        item_tokens,
        prompt_cfg,
        &enc_cases,
        device,
    );
    let (dec, _) = prompt::pad(&decs, device);
    let (labels, _) = prompt::pad(&labels, device);
    let matches = (prompt_cfg.match_history > 0).then(|| Matches {
        rows: Tensor::from_slice(&rows).to(device),
        level: Tensor::from_slice(&level).to(device),
        token: Tensor::from_slice(&token).to(device),
        log_count: Tensor::from_slice(&log_count).to(device),
    });
    Batch {
        ids,
        mask,
        items,
        dec,
        dec_item: None,
        labels,
        matches,
    }
}

/// `log p(ID + eos)` of each case's target under teacher forcing, with the
/// history-match bias: `[B]`. This is the score the constrained beam search
/// gives an item it finds (tested), so items it did not find can be scored
/// on the same scale.
pub fn target_logprobs(model: &T5, b: &Batch) -> Tensor {
    let mut logits = model.forward_t(&b.ids, &b.mask, b.items.as_ref(), &b.dec, false);
    if let Some(m) = &b.matches {
        logits = m.apply(model, logits);
    }
    logits
        .log_softmax(-1, Kind::Float)
        .gather(2, &b.labels.unsqueeze(-1), false)
        .squeeze_dim(-1)
        .sum_dim_intlist(1, false, Kind::Float)
}
