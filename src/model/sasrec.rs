//! SASRec's network (Kang & McAuley 2018, as RecBole 1.2.1 builds it): item +
//! learned position embeddings, LayerNorm and dropout, post-LN transformer
//! layers with causal attention, the state at a position scored against every
//! item embedding (tied). Only the states that carry a loss or a ranking are
//! computed in the last layer: its keys and values cover every position, its
//! queries, feed-forward and scores only the positions asked for — the same
//! numbers as the full pass, at a fraction of the work when one position per
//! window is needed (RecBole's one-target prefixes, ranking). Optionally the
//! item vectors also read the items' text ([`SasRec::with_text`]: a learned
//! projection of frozen text embeddings added to the ID vectors, as UniSRec's
//! text-based item representations, Hou et al. 2022), folded back into a
//! plain ID table after training ([`SasRec::bake`]).
use crate::error::{Error, Result};
use crate::model::dropout::dropout;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

/// SASRec's hyper-parameters (RecBole's defaults) and its training schedule.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SasRecParams {
    pub hidden: i64,
    pub layers: usize,
    pub heads: i64,
    pub inner: i64,
    pub dropout: f64,
    pub attention_dropout: f64,
    /// Most recent items read.
    pub max_len: usize,
    pub lr: f64,
    /// Targets (predicted positions) per batch, RecBole's `train_batch_size`:
    /// windows join a batch until it holds this many.
    pub batch_targets: usize,
    /// Targets each window adds (windows slide by this many items); 1 gives
    /// every target its full context, as RecBole trains.
    pub stride: usize,
    pub max_epochs: usize,
    /// Epochs without a better validation NDCG@10 before stopping.
    pub patience: usize,
    pub seed: u64,
}

impl Default for SasRecParams {
    fn default() -> Self {
        Self {
            hidden: 64,
            layers: 2,
            heads: 2,
            inner: 256,
            dropout: 0.5,
            attention_dropout: 0.5,
            max_len: 50,
            lr: 1e-3,
            batch_targets: 2048,
            stride: 1,
            max_epochs: 200,
            patience: 10,
            seed: 42,
        }
    }
}

impl SasRecParams {
    pub fn check(&self) -> Result<()> {
        let bad = |m: &str| Err(Error::Config(format!("sasrec: {m}")));
        if self.hidden <= 0 || self.heads <= 0 || self.hidden % self.heads != 0 {
            return bad("hidden must be a positive multiple of heads");
        }
        if self.layers == 0
            || self.inner <= 0
            || self.max_len == 0
            || self.batch_targets == 0
            || self.max_epochs == 0
        {
            return bad("layers, inner, max_len, batch_targets and max_epochs must be at least 1");
        }
        if self.stride == 0 || self.stride > self.max_len {
            return bad("stride must be in 1..=max_len");
        }
        if !(0.0..1.0).contains(&self.dropout) || !(0.0..1.0).contains(&self.attention_dropout) {
            return bad("dropout rates must be in [0, 1)");
        }
        if self.lr.is_nan() || self.lr <= 0.0 {
            return bad("lr must be positive");
        }
        Ok(())
    }
}

/// A batch of histories: the last `max_len` items of each, shifted by one and right-padded.
pub fn batch_of(histories: &[&[u32]], max_len: usize, device: Device) -> (Tensor, Tensor) {
    let l = histories
        .iter()
        .map(|h| h.len().min(max_len))
        .max()
        .unwrap_or(1)
        .max(1);
    let mut ids = vec![0i64; histories.len() * l];
    let mut lens = Vec::with_capacity(histories.len());
    for (r, h) in histories.iter().enumerate() {
        let tail = &h[h.len().saturating_sub(max_len)..];
        for (c, &it) in tail.iter().enumerate() {
            ids[r * l + c] = i64::from(it) + 1;
        }
        lens.push(tail.len().max(1) as i64);
    }
    (
        Tensor::from_slice(&ids)
            .view([histories.len() as i64, l as i64])
            .to(device),
        Tensor::from_slice(&lens).to(device),
    )
}

/// Most scores (rows × items) one piece of SASRec's work holds, 2^26 (256 MB
/// as f32): its loss (`baseline::sasrec`) and its rankings go in pieces of
/// at most this many on a large catalogue.
pub const MAX_LOGITS: i64 = 1 << 26;

/// RecBole's additive attention mask value.
const MASKED: f64 = -10_000.0;

struct Layer {
    q: nn::Linear,
    k: nn::Linear,
    v: nn::Linear,
    o: nn::Linear,
    attn_norm: nn::LayerNorm,
    ff1: nn::Linear,
    ff2: nn::Linear,
    ff_norm: nn::LayerNorm,
}

/// Item vectors read from text: the frozen text embeddings `[N + 1, D]`
/// (row 0, padding, zero) and their learned projection to `hidden`.
struct TextItems {
    emb: Tensor,
    proj: nn::Linear,
}

/// The network. Item ids are shifted by one: 0 is padding.
pub struct SasRec {
    pub p: SasRecParams,
    pub items: nn::Embedding,
    positions: nn::Embedding,
    norm: nn::LayerNorm,
    layers: Vec<Layer>,
    text: Option<TextItems>,
}

impl SasRec {
    pub fn new(root: &nn::Path, n_items: usize, p: &SasRecParams) -> Self {
        let init = nn::Init::Randn {
            mean: 0.0,
            stdev: 0.02,
        };
        let lin = |path: nn::Path, i: i64, o: i64| {
            nn::linear(
                path,
                i,
                o,
                nn::LinearConfig {
                    ws_init: init,
                    bs_init: Some(nn::Init::Const(0.0)),
                    bias: true,
                },
            )
        };
        let ln = |path: nn::Path| {
            nn::layer_norm(
                path,
                vec![p.hidden],
                nn::LayerNormConfig {
                    eps: 1e-12,
                    ..Default::default()
                },
            )
        };
        let emb = nn::EmbeddingConfig {
            ws_init: init,
            ..Default::default()
        };
        let layers = (0..p.layers)
            .map(|i| {
                let l = root / "layers" / i;
                Layer {
                    q: lin(&l / "q", p.hidden, p.hidden),
                    k: lin(&l / "k", p.hidden, p.hidden),
                    v: lin(&l / "v", p.hidden, p.hidden),
                    o: lin(&l / "o", p.hidden, p.hidden),
                    attn_norm: ln(&l / "attn_norm"),
                    ff1: lin(&l / "ff1", p.hidden, p.inner),
                    ff2: lin(&l / "ff2", p.inner, p.hidden),
                    ff_norm: ln(&l / "ff_norm"),
                }
            })
            .collect();
        Self {
            p: p.clone(),
            items: nn::embedding(root / "items", n_items as i64 + 1, p.hidden, emb),
            positions: nn::embedding(root / "positions", p.max_len as i64, p.hidden, emb),
            norm: ln(root / "norm"),
            layers,
            text: None,
        }
    }

    /// SASRec whose item vectors are the ID vectors plus a learned linear
    /// projection (no bias, initialised as the ID vectors are) of the items'
    /// frozen text embeddings `text` `[n_items, D]` (item order): items that
    /// read alike start alike, which a sparse catalogue's rare items need.
    pub fn with_text(root: &nn::Path, n_items: usize, p: &SasRecParams, text: &Tensor) -> Self {
        let (n, d) = text.size2().expect("[items, D]");
        assert_eq!(n, n_items as i64, "a text embedding per item");
        let mut m = Self::new(root, n_items, p);
        let config = nn::LinearConfig {
            ws_init: nn::Init::Randn {
                mean: 0.0,
                stdev: 0.02,
            },
            bs_init: None,
            bias: false,
        };
        let emb = Tensor::cat(
            &[
                Tensor::zeros([1, d], (Kind::Float, root.device())),
                text.to_kind(Kind::Float).to(root.device()),
            ],
            0,
        );
        m.text = Some(TextItems {
            emb,
            proj: nn::linear(root / "text_proj", d, p.hidden, config),
        });
        m
    }

    /// The item vectors `[N + 1, H]` (row 0: padding): the ID table, plus
    /// the projected text when the model reads it.
    pub fn item_table(&self) -> Tensor {
        match &self.text {
            None => self.items.ws.shallow_clone(),
            Some(t) => &self.items.ws + t.proj.forward(&t.emb),
        }
    }

    /// The vectors of the items in `seq` (shifted ids): their rows of
    /// [`item_table`](Self::item_table), only these items' text projected.
    fn item_vectors(&self, seq: &Tensor) -> Tensor {
        let ids = self.items.forward(seq);
        match &self.text {
            None => ids,
            Some(t) => {
                ids + t
                    .proj
                    .forward(&Tensor::embedding(&t.emb, seq, -1, false, false))
            }
        }
    }

    /// This network as a plain SASRec in a new store on `device`: the same
    /// weights, the text folded into the ID table ([`item_table`](Self::item_table)),
    /// so that inference reads no text and the same scores come out. `vs`:
    /// the store this model's variables are in.
    pub fn bake(&self, vs: &nn::VarStore, device: Device) -> (SasRec, nn::VarStore) {
        let mut out = nn::VarStore::new(device);
        let n_items = self.items.ws.size()[0] as usize - 1;
        let plain = SasRec::new(&out.root(), n_items, &self.p);
        let _g = tch::no_grad_guard();
        let from = vs.variables();
        for (name, mut v) in out.variables() {
            v.copy_(&from[&name]);
        }
        let mut ws = plain.items.ws.shallow_clone();
        ws.copy_(&self.item_table());
        out.freeze();
        (plain, out)
    }

    /// Sequence states at each one's last item: `seq` `[B, L]` (shifted ids,
    /// right-padded with 0), `lens` `[B]` → `[B, H]`.
    pub fn forward_t(&self, seq: &Tensor, lens: &Tensor, train: bool) -> Tensor {
        let rows = Tensor::arange(seq.size()[0], (Kind::Int64, seq.device()));
        self.states_at(seq, &rows, &(lens - 1), train)
    }

    /// The state after each position: `seq` `[B, L]` → `[B, L, H]`.
    pub fn states(&self, seq: &Tensor, train: bool) -> Tensor {
        let (b, l) = seq.size2().expect("[B, L]");
        let rows = Tensor::arange(b, (Kind::Int64, seq.device()))
            .repeat_interleave_self_int(l, None, None);
        let cols = Tensor::arange(l, (Kind::Int64, seq.device())).repeat([b]);
        self.states_at(seq, &rows, &cols, train)
            .view([b, l, self.p.hidden])
    }

    /// The states after the asked positions: row `rows[m]`, position
    /// `cols[m]` of `seq` `[B, L]` → `[M, H]`. Every layer but the last runs
    /// over all positions (the last layer's keys and values need them).
    pub fn states_at(&self, seq: &Tensor, rows: &Tensor, cols: &Tensor, train: bool) -> Tensor {
        let (b, l) = seq.size2().expect("[B, L]");
        let dev = seq.device();
        let pos = Tensor::arange(l, (Kind::Int64, dev));
        let mut h = self
            .norm
            .forward(&(self.item_vectors(seq) + self.positions.forward(&pos)));
        h = dropout(&h, self.p.dropout, train);
        let (last, below) = self.layers.split_last().expect("at least one layer");
        if !below.is_empty() {
            // Causal and padding mask, additive: [B, 1, L, L].
            let keep = seq.gt(0).unsqueeze(1).unsqueeze(1).to_kind(Kind::Float);
            let causal = Tensor::ones([l, l], (Kind::Float, dev))
                .tril(0)
                .view([1, 1, l, l]);
            let mask = (1.0 - keep * causal) * MASKED;
            for layer in below {
                let (k, v) = (
                    self.split(&layer.k.forward(&h)),
                    self.split(&layer.v.forward(&h)),
                );
                h = self.block(layer, &h, (&k, &v), &mask, train);
            }
        }
        // The last layer: keys and values everywhere, queries where asked.
        let (k, v) = (
            self.split(&last.k.forward(&h)).index_select(0, rows),
            self.split(&last.v.forward(&h)).index_select(0, rows),
        );
        let m = rows.size()[0];
        let x = h
            .view([b * l, self.p.hidden])
            .index_select(0, &(rows * l + cols))
            .view([m, 1, self.p.hidden]);
        let keys = Tensor::arange(l, (Kind::Int64, dev)).unsqueeze(0);
        let keep = seq
            .index_select(0, rows)
            .gt(0)
            .logical_and(&keys.le_tensor(&cols.unsqueeze(1)))
            .to_kind(Kind::Float)
            .view([m, 1, 1, l]);
        self.block(last, &x, (&k, &v), &((1.0 - keep) * MASKED), train)
            .view([m, self.p.hidden])
    }

    /// `[N, L, H]` → `[N, heads, L, H / heads]`.
    fn split(&self, x: &Tensor) -> Tensor {
        let (n, l, _) = x.size3().expect("[N, L, H]");
        x.view([n, l, self.p.heads, self.p.hidden / self.p.heads])
            .transpose(1, 2)
    }

    /// One post-LN layer for queries `x` `[N, Lq, H]` over keys and values
    /// `[N, heads, Lk, H / heads]` with an additive mask `[N | 1, 1, Lq, Lk]`.
    fn block(
        &self,
        layer: &Layer,
        x: &Tensor,
        kv: (&Tensor, &Tensor),
        mask: &Tensor,
        train: bool,
    ) -> Tensor {
        let (n, lq, _) = x.size3().expect("[N, Lq, H]");
        let dh = self.p.hidden / self.p.heads;
        let q = self.split(&layer.q.forward(x));
        let scores = q.matmul(&kv.0.transpose(-1, -2)) / (dh as f64).sqrt() + mask;
        let probs = dropout(
            &scores.softmax(-1, Kind::Float),
            self.p.attention_dropout,
            train,
        );
        let ctx = probs
            .matmul(kv.1)
            .transpose(1, 2)
            .contiguous()
            .view([n, lq, self.p.hidden]);
        let out = dropout(&layer.o.forward(&ctx), self.p.dropout, train);
        let h = layer.attn_norm.forward(&(out + x));
        let ff = layer.ff2.forward(&layer.ff1.forward(&h).gelu("none"));
        layer
            .ff_norm
            .forward(&(dropout(&ff, self.p.dropout, train) + &h))
    }

    /// Scores of every item (shifted ids; column 0, padding, is −∞) `[B, N + 1]`.
    pub fn scores(&self, state: &Tensor) -> Tensor {
        let s = state.matmul(&self.item_table().tr());
        let _ = s.narrow(1, 0, 1).fill_(f64::NEG_INFINITY);
        s
    }

    /// Scores of every item as each history's next `[B, N + 1]` (shifted
    /// ids, as [`SasRec::scores`]), in evaluation mode: the last `max_len`
    /// items of each history, on the model's device.
    pub fn next_item_scores(&self, histories: &[&[u32]]) -> Tensor {
        let (seq, lens) = batch_of(histories, self.p.max_len, self.items.ws.device());
        self.scores(&self.forward_t(&seq, &lens, false))
    }

    /// Histories scored against every item in one pass: `most`, fewer
    /// (at least 16) where their scores would pass [`MAX_LOGITS`].
    pub fn histories_per_pass(&self, most: usize) -> usize {
        (MAX_LOGITS as usize / self.items.ws.size()[0] as usize).clamp(16.min(most), most)
    }

    /// Each history's `k` best next items (item ids, best first), leaving
    /// out each history's `banned` items when given (one set per history).
    pub fn top_items(
        &self,
        histories: &[&[u32]],
        k: usize,
        banned: Option<&[HashSet<u32>]>,
    ) -> Vec<Vec<u32>> {
        let _g = tch::no_grad_guard();
        let device = self.items.ws.device();
        let k = k.min(self.items.ws.size()[0].saturating_sub(1) as usize) as i64;
        let per_pass = self.histories_per_pass(512);
        let mut out = Vec::with_capacity(histories.len());
        for (ci, chunk) in histories.chunks(per_pass).enumerate() {
            let mut s = self.next_item_scores(chunk);
            if let Some(b) = banned {
                let (mut rows, mut cols) = (Vec::new(), Vec::new());
                for (r, set) in b[ci * per_pass..ci * per_pass + chunk.len()]
                    .iter()
                    .enumerate()
                {
                    for &it in set {
                        rows.push(r as i64);
                        cols.push(i64::from(it) + 1);
                    }
                }
                let idx = [
                    Some(Tensor::from_slice(&rows).to(device)),
                    Some(Tensor::from_slice(&cols).to(device)),
                ];
                let _ = s.index_put_(&idx, &Tensor::from(f32::NEG_INFINITY).to(device), false);
            }
            let top = s.topk(k, 1, true, true).1.to_device(Device::Cpu);
            let top: Vec<Vec<i64>> = Vec::try_from(&top).expect("i64 indices");
            out.extend(
                top.into_iter()
                    .map(|row| row.into_iter().map(|i| (i - 1) as u32).collect()),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests;
