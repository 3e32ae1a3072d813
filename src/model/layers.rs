//! T5's layers (Raffel et al. 2020): the bias-free linear layer that computes
//! in its input's precision, RMSNorm, relative-position buckets, multi-head
//! attention without 1/√d scaling, and the ReLU / gated-GELU feed-forward
//! block. `model::t5` stacks them into the encoder-decoder.
use super::config::{FeedForward, T5Config};
use super::dropout::dropout;
use std::cell::RefCell;
use std::collections::HashMap;
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

/// A bias-free linear layer whose weight is cast to the input's dtype, so the
/// compute precision follows the hidden states (bf16 mixed precision on CUDA
/// keeps f32 master weights, like autocast).
#[derive(Debug)]
pub struct Lin {
    pub ws: Tensor,
}

impl Module for Lin {
    fn forward(&self, x: &Tensor) -> Tensor {
        x.matmul(&self.ws.to_kind(x.kind()).tr())
    }
}

pub(crate) fn linear(p: nn::Path, i: i64, o: i64) -> Lin {
    let bound = 1.0 / (i as f64).sqrt();
    Lin {
        ws: p.var(
            "weight",
            &[o, i],
            nn::Init::Uniform {
                lo: -bound,
                up: bound,
            },
        ),
    }
}

/// T5's LayerNorm: `w * x / sqrt(mean(x²) + eps)` in f32, no mean, no bias.
#[derive(Debug)]
pub struct RmsNorm {
    weight: Tensor,
    eps: f64,
}

impl RmsNorm {
    pub fn new(p: nn::Path, d: i64, eps: f64) -> Self {
        Self {
            weight: p.var("weight", &[d], nn::Init::Const(1.0)),
            eps,
        }
    }
}

impl Module for RmsNorm {
    fn forward(&self, x: &Tensor) -> Tensor {
        let xf = x.to_kind(Kind::Float);
        let var = xf.pow_tensor_scalar(2).mean_dim(-1, true, Kind::Float);
        let y = &xf * (var + self.eps).rsqrt();
        self.weight.to_kind(x.kind()) * y.to_kind(x.kind())
    }
}

/// HF's `_relative_position_bucket`, with the same float32 arithmetic.
pub fn relative_position_bucket(
    relative_position: i64,
    bidirectional: bool,
    num_buckets: i64,
    max_distance: i64,
) -> i64 {
    let mut buckets = 0;
    let mut nb = num_buckets;
    let n = if bidirectional {
        nb /= 2;
        if relative_position > 0 {
            buckets += nb;
        }
        relative_position.abs()
    } else {
        (-relative_position).max(0)
    };
    let max_exact = nb / 2;
    if n < max_exact {
        return buckets + n;
    }
    let ratio = ((n as f32) / (max_exact as f32)).ln();
    let denom = ((max_distance as f64) / (max_exact as f64)).ln() as f32;
    let large = max_exact + (ratio / denom * (nb - max_exact) as f32) as i64;
    buckets + large.min(nb - 1)
}

/// T5's relative-position bucketing: direction-aware or not, how many
/// buckets, and the distance beyond which all share the last one.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Buckets {
    pub bidirectional: bool,
    pub num_buckets: i64,
    pub max_distance: i64,
}

impl Buckets {
    /// Bucket ids `[q_len, k_len]` for query positions `q_offset..q_offset+q_len`.
    pub fn matrix(&self, q_len: i64, k_len: i64, q_offset: i64, device: Device) -> Tensor {
        let mut v = Vec::with_capacity((q_len * k_len) as usize);
        for q in 0..q_len {
            for k in 0..k_len {
                v.push(relative_position_bucket(
                    k - (q + q_offset),
                    self.bidirectional,
                    self.num_buckets,
                    self.max_distance,
                ));
            }
        }
        Tensor::from_slice(&v).view([q_len, k_len]).to(device)
    }
}

#[derive(Debug)]
pub struct Attention {
    q: Lin,
    k: Lin,
    v: Lin,
    o: Lin,
    relative_attention_bias: Option<nn::Embedding>,
    heads: i64,
    d_kv: i64,
    dropout: f64,
    bidirectional: bool,
    num_buckets: i64,
    max_distance: i64,
    /// Bucket ids per (q_len, k_len, q_offset), built once on the table's
    /// device: built on the host and copied at every pass, they made each
    /// forward pass wait for the GPU's queue to drain.
    buckets: RefCell<HashMap<(i64, i64, i64), Tensor>>,
}

/// Bucket matrices kept per attention layer; beyond that they are built per call.
const MAX_CACHED_BUCKETS: usize = 512;

impl Attention {
    pub(crate) fn new(p: nn::Path, c: &T5Config, has_bias: bool, bidirectional: bool) -> Self {
        let inner = c.num_heads * c.d_kv;
        Self {
            q: linear(&p / "q", c.d_model, inner),
            k: linear(&p / "k", c.d_model, inner),
            v: linear(&p / "v", c.d_model, inner),
            o: linear(&p / "o", inner, c.d_model),
            relative_attention_bias: has_bias.then(|| {
                nn::embedding(
                    &p / "relative_attention_bias",
                    c.relative_attention_num_buckets,
                    c.num_heads,
                    Default::default(),
                )
            }),
            heads: c.num_heads,
            d_kv: c.d_kv,
            dropout: c.attention_dropout_rate.unwrap_or(c.dropout_rate),
            bidirectional,
            num_buckets: c.relative_attention_num_buckets,
            max_distance: c.relative_attention_max_distance,
            buckets: RefCell::new(HashMap::new()),
        }
    }

    /// Position bias `[1, H, q_len, k_len]` (only the block-0 layer has the table).
    pub fn position_bias(&self, q_len: i64, k_len: i64, q_offset: i64, device: Device) -> Tensor {
        let table = self
            .relative_attention_bias
            .as_ref()
            .expect("position bias lives in block 0");
        let buckets = Buckets {
            bidirectional: self.bidirectional,
            num_buckets: self.num_buckets,
            max_distance: self.max_distance,
        };
        let mut cache = self.buckets.borrow_mut();
        let key = (q_len, k_len, q_offset);
        // A full cache keeps what it has (a captured CUDA graph may read
        // those tensors) and builds other matrices afresh.
        if cache.len() >= MAX_CACHED_BUCKETS && !cache.contains_key(&key) {
            let b = buckets.matrix(q_len, k_len, q_offset, device);
            return table.forward(&b).permute([2, 0, 1]).unsqueeze(0);
        }
        let b = cache
            .entry(key)
            .or_insert_with(|| buckets.matrix(q_len, k_len, q_offset, device));
        if b.device() != device {
            *b = b.to_device(device);
        }
        table.forward(b).permute([2, 0, 1]).unsqueeze(0)
    }

    /// `[B, T, H*D]` → `[B, H, T, D]`.
    pub(crate) fn heads(&self, x: Tensor) -> Tensor {
        let (b, t, _) = x.size3().expect("[B, T, C]");
        x.view([b, t, self.heads, self.d_kv]).transpose(1, 2)
    }

    pub fn project_kv(&self, x: &Tensor) -> (Tensor, Tensor) {
        (self.heads(self.k.forward(x)), self.heads(self.v.forward(x)))
    }

    /// Attention of `x` `[B, Tq, C]` over keys/values `[B, H, Tk, D]` with an
    /// additive bias broadcastable to `[B, H, Tq, Tk]` in the states' precision
    /// (see [`T5::compute_bias`]). No 1/√d scaling (T5).
    pub(crate) fn attend(
        &self,
        x: &Tensor,
        k: &Tensor,
        v: &Tensor,
        bias: &Tensor,
        train: bool,
    ) -> Tensor {
        let (b, t, _) = x.size3().expect("[B, T, C]");
        let q = self.heads(self.q.forward(x));
        let p = if train { self.dropout } else { 0.0 };
        let ctx = Tensor::scaled_dot_product_attention(&q, k, v, Some(bias), p, false, 1.0, false);
        self.o
            .forward(&ctx.transpose(1, 2).reshape([b, t, self.heads * self.d_kv]))
    }
}

#[derive(Debug)]
pub(crate) struct FeedForwardLayer {
    kind: FeedForward,
    wi: Option<Lin>,
    wi_0: Option<Lin>,
    wi_1: Option<Lin>,
    wo: Lin,
    norm: RmsNorm,
    dropout: f64,
}

impl FeedForwardLayer {
    pub(crate) fn new(p: nn::Path, c: &T5Config) -> Self {
        let d = &p / "DenseReluDense";
        let gated = c.feed_forward_proj == FeedForward::GatedGelu;
        Self {
            kind: c.feed_forward_proj,
            wi: (!gated).then(|| linear(&d / "wi", c.d_model, c.d_ff)),
            wi_0: gated.then(|| linear(&d / "wi_0", c.d_model, c.d_ff)),
            wi_1: gated.then(|| linear(&d / "wi_1", c.d_model, c.d_ff)),
            wo: linear(&d / "wo", c.d_ff, c.d_model),
            norm: RmsNorm::new(&p / "layer_norm", c.d_model, c.layer_norm_epsilon),
            dropout: c.dropout_rate,
        }
    }

    pub(crate) fn forward_t(&self, x: &Tensor, train: bool) -> Tensor {
        let h = self.norm.forward(x);
        let h = match self.kind {
            FeedForward::Relu => self.wi.as_ref().expect("relu").forward(&h).relu(),
            FeedForward::GatedGelu => {
                self.wi_0.as_ref().expect("gated").forward(&h).gelu("tanh")
                    * self.wi_1.as_ref().expect("gated").forward(&h)
            }
        };
        let h = dropout(&h, self.dropout, train);
        x + dropout(&self.wo.forward(&h), self.dropout, train)
    }
}
