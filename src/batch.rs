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

    /// Every tensor of the batch, in a fixed order (`map`'s).
    pub fn tensors(&self) -> Vec<&Tensor> {
        let mut v = vec![&self.ids, &self.mask];
        v.extend(self.items.as_ref());
        v.push(&self.dec);
        v.extend(self.dec_item.as_ref());
        v.push(&self.labels);
        if let Some(m) = &self.matches {
            v.extend([&m.token, &m.log_count]);
        }
        v
    }

    /// Its shape: rows, encoder positions, decoder positions.
    pub fn shape(&self) -> Shape {
        let d = self.dec.size();
        Shape {
            rows: d[0],
            enc_len: self.mask.size()[1],
            dec_len: d[1],
        }
    }

    /// The batch padded to `shape` (on its own device, typically the
    /// host), for fixed-shape steps (CUDA graphs): the extra rows and
    /// positions are what the loss ignores — masked encoder positions naming
    /// no item, `<pad>` decoder input, labels −100 (skipped by the
    /// cross-entropy), empty match slots — so the loss and gradients are
    /// those of the batch itself. Fails when the batch is larger than `shape`.
    pub fn padded_to(&self, shape: Shape) -> Result<Batch, String> {
        let own = self.shape();
        if own.rows > shape.rows || own.enc_len > shape.enc_len || own.dec_len > shape.dec_len {
            return Err(format!("a batch of shape {own:?} does not fit {shape:?}"));
        }
        let pad = vocab::PAD as f64;
        // Every tensor is [rows] or [rows, positions, ...]: grown to `shape.rows`
        // rows and `len` positions, the new entries `value`.
        let grow = |t: &Tensor, len: i64, value: f64| -> Tensor {
            let own = t.size();
            let mut size = own.clone();
            size[0] = shape.rows;
            if let Some(n) = size.get_mut(1) {
                *n = len;
            }
            let out = Tensor::full(size.as_slice(), value, (t.kind(), t.device()));
            let mut inner = out.narrow(0, 0, own[0]);
            if own.len() > 1 {
                inner = inner.narrow(1, 0, own[1]);
            }
            inner.copy_(t);
            out
        };
        let levels = shape.dec_len - 1;
        let matches = self.matches.as_ref().map(|m| Matches {
            token: grow(&m.token, levels, pad),
            log_count: grow(&m.log_count, levels, 0.0),
        });
        Ok(Batch {
            ids: grow(&self.ids, shape.enc_len, pad),
            mask: grow(&self.mask, shape.enc_len, 0.0),
            items: self.items.as_ref().map(|t| grow(t, shape.enc_len, -1.0)),
            dec: grow(&self.dec, shape.dec_len, pad),
            dec_item: self.dec_item.as_ref().map(|t| grow(t, 0, -1.0)),
            labels: grow(&self.labels, shape.dec_len, -100.0),
            matches,
        })
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

/// Fixed batch dimensions (see [`Batch::padded_to`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shape {
    pub rows: i64,
    /// Encoder positions.
    pub enc_len: i64,
    /// Decoder positions (the longest ID + 1).
    pub dec_len: i64,
}

impl Shape {
    /// The largest batch of `rows` cases a prompt `p` over these items can
    /// make: a full history of the longest IDs, the longest target.
    pub fn largest(
        vocab: &Vocab,
        item_tokens: &[Vec<u32>],
        p: &prompt::PromptConfig,
        rows: usize,
    ) -> Shape {
        let longest = item_tokens.iter().map(Vec::len).max().unwrap_or(0);
        Shape {
            rows: rows as i64,
            enc_len: prompt::max_encoder_positions(vocab, item_tokens, p) as i64,
            dec_len: longest as i64 + 1,
        }
    }

    /// The shape of `buckets` evenly spaced encoder lengths up to this one
    /// (the largest) that a batch needing `enc_len` positions pads to: the
    /// smallest that fits. One bucket: this shape.
    pub fn bucket(self, enc_len: i64, buckets: usize) -> Shape {
        let n = buckets.max(1) as i64;
        let step = (self.enc_len + n - 1) / n;
        Shape {
            enc_len: ((enc_len.max(1) + step - 1) / step * step).min(self.enc_len),
            ..self
        }
    }
}

/// History-match features of a batch (see [`prompt::history_matches`]),
/// dense `[B, levels, width]` with `width` = the prompt's match window: at
/// decoder position (= ID level) `k` of an example, its matched tokens and
/// their `ln(1 + count)`; an empty slot holds `<pad>`, which no ID uses, and
/// adds nothing. A level has at most one match per history item in the
/// window, so the width is fixed and so are padded batches' shapes. The
/// level of a slot is its position and needs no tensor of its own.
pub struct Matches {
    pub token: Tensor,
    pub log_count: Tensor,
}

impl Matches {
    /// Adds the model's history-match bias to teacher-forced logits `[B, T, V]`.
    pub fn apply(&self, model: &T5, logits: Tensor) -> Tensor {
        let size = self.token.size();
        if self.token.numel() == 0 {
            return logits;
        }
        let level = Tensor::arange(size[1], (Kind::Int64, self.token.device()))
            .view([1, -1, 1])
            .expand(size.as_slice(), false)
            .flatten(0, -1);
        let Some(v) = model.history_match_values(&level, &self.log_count.flatten(0, -1)) else {
            return logits;
        };
        let keep = self.token.ne(i64::from(vocab::PAD)).to_kind(v.kind());
        logits.scatter_add(
            2,
            &self.token,
            &(v.view(size.as_slice()) * keep).to_kind(logits.kind()),
        )
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
    let (width, levels) = (
        prompt_cfg.match_history,
        cases
            .iter()
            .map(|c| item_tokens[c.2 as usize].len())
            .max()
            .unwrap_or(0),
    );
    let n = cases.len() * levels * width;
    let (mut token, mut log_count) = (vec![i64::from(vocab::PAD); n], vec![0f32; n]);
    let mut used = vec![0usize; cases.len() * levels];
    for (r, &(_, history, target)) in cases.iter().enumerate() {
        let (d, l) = prompt::target(item_tokens, target);
        for (k, tok, c) in prompt::history_matches(
            item_tokens,
            prompt_cfg,
            history,
            &item_tokens[target as usize],
        ) {
            let slot = r * levels + k;
            let at = slot * width + used[slot];
            used[slot] += 1;
            token[at] = i64::from(tok);
            log_count[at] = (c as f32).ln_1p();
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
    let dense = [cases.len() as i64, levels as i64, width as i64];
    let matches = (width > 0).then(|| Matches {
        token: Tensor::from_slice(&token).view(dense).to(device),
        log_count: Tensor::from_slice(&log_count).view(dense).to(device),
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
