//! T5's layers (Raffel et al. 2020): the bias-free linear layer that computes
//! in its input's precision, RMSNorm, relative-position buckets, multi-head
//! attention without 1/√d scaling, and the ReLU / gated-GELU feed-forward
//! block. `model::t5` stacks them into the encoder-decoder. On CUDA, RMSNorm
//! is libtorch's fused kernel and the projections of one input run as one
//! matrix product (fewer kernels per step); the CPU keeps T5's op-by-op
//! formulas, so its results stay bit for bit.
use super::attention::weigh;
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

impl RmsNorm {
    /// T5's formula op by op (HF's `T5LayerNorm`): the CPU's path, which
    /// keeps CPU results bit for bit.
    fn reference(&self, x: &Tensor) -> Tensor {
        let xf = x.to_kind(Kind::Float);
        let var = xf.pow_tensor_scalar(2).mean_dim(-1, true, Kind::Float);
        let y = &xf * (var + self.eps).rsqrt();
        self.weight.to_kind(x.kind()) * y.to_kind(x.kind())
    }

    /// libtorch's `rms_norm`, on CUDA one fused kernel forward and one
    /// backward instead of about twenty element-wise ones (it accumulates
    /// in f32 and applies the weight before rounding to `x`'s precision;
    /// the weight must be in `x`'s precision or libtorch decomposes it).
    fn fused(&self, x: &Tensor) -> Tensor {
        let d = self.weight.size()[0];
        x.rms_norm([d], Some(self.weight.to_kind(x.kind())), self.eps)
    }
}

impl Module for RmsNorm {
    fn forward(&self, x: &Tensor) -> Tensor {
        match x.device().is_cuda() {
            true => self.fused(x),
            false => self.reference(x),
        }
    }
}

/// `x` through several bias-free projections of the same input: on CUDA one
/// matrix product with their weights stacked (one larger kernel forward and
/// two backward instead of several of each), elsewhere one by one (the CPU
/// keeps its results bit for bit).
pub(crate) fn project(x: &Tensor, lins: &[&Lin]) -> Vec<Tensor> {
    match x.device().is_cuda() {
        true => stacked(x, lins),
        false => lins.iter().map(|l| l.forward(x)).collect(),
    }
}

fn stacked(x: &Tensor, lins: &[&Lin]) -> Vec<Tensor> {
    let ws: Vec<&Tensor> = lins.iter().map(|l| &l.ws).collect();
    let sizes: Vec<i64> = lins.iter().map(|l| l.ws.size()[0]).collect();
    let all = Lin {
        ws: Tensor::cat(&ws, 0),
    };
    all.forward(x).split_with_sizes(sizes, -1)
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
        let [k, v] = self.project_heads(x, [&self.k, &self.v]);
        (k, v)
    }

    /// `x` through `lins` (see [`project`]), each split into heads.
    fn project_heads<const N: usize>(&self, x: &Tensor, lins: [&Lin; N]) -> [Tensor; N] {
        let heads: Vec<Tensor> = project(x, &lins)
            .into_iter()
            .map(|t| self.heads(t))
            .collect();
        heads.try_into().expect("one output per projection")
    }

    /// Self-attention of `x` `[B, T, C]` (queries, keys and values all
    /// projected from it, at once on CUDA) with an additive bias as in
    /// [`Attention::attend`].
    pub(crate) fn self_attend(&self, x: &Tensor, bias: &Tensor, train: bool) -> Tensor {
        // Keys and values first, as `attend` after `project_kv`: on the CPU
        // the order in which autograd sums `x`'s gradients stays the same.
        let [k, v, q] = self.project_heads(x, [&self.k, &self.v, &self.q]);
        self.mix(&q, &k, &v, bias, train)
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
        self.mix(&self.heads(self.q.forward(x)), k, v, bias, train)
    }

    /// Queries `[B, H, Tq, D]` over keys and values → `[B, Tq, C]`.
    fn mix(&self, q: &Tensor, k: &Tensor, v: &Tensor, bias: &Tensor, train: bool) -> Tensor {
        let (b, _, t, _) = q.size4().expect("[B, H, T, D]");
        let ctx = weigh(q, k, v, bias, self.dropout, train);
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

#[cfg(test)]
mod tests {
    //! The CUDA paths (fused RMSNorm, stacked projections) against the
    //! CPU's op-by-op ones, values and gradients, run on the CPU.
    use super::*;

    fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
        (a.to_kind(Kind::Float) - b.to_kind(Kind::Float))
            .abs()
            .max()
            .double_value(&[])
    }

    fn grads(xs: &[&Tensor]) -> Vec<Tensor> {
        xs.iter().map(|x| x.grad().copy()).collect()
    }

    fn zero(xs: &[&Tensor]) {
        for x in xs {
            let mut g = x.grad();
            if g.defined() {
                let _ = g.zero_();
            }
        }
    }

    #[test]
    fn fused_rms_norm_matches_t5s_formula() {
        let _rng = crate::runtime::global_rng_lock();
        tch::manual_seed(3);
        let vs = nn::VarStore::new(Device::Cpu);
        let mut norm = RmsNorm::new(vs.root(), 16, 1e-6);
        tch::no_grad(|| {
            norm.weight
                .copy_(&(Tensor::randn([16], (Kind::Float, Device::Cpu)) + 1.0));
        });
        let x =
            (Tensor::randn([4, 7, 16], (Kind::Float, Device::Cpu)) * 3.0).set_requires_grad(true);
        let up = Tensor::randn([4, 7, 16], (Kind::Float, Device::Cpu));
        let leaves = [&x, &norm.weight];
        let a = norm.reference(&x);
        (&a * &up).sum(Kind::Float).backward();
        let ga = grads(&leaves);
        zero(&leaves);
        let b = norm.fused(&x);
        (&b * &up).sum(Kind::Float).backward();
        let gb = grads(&leaves);
        assert!(max_diff(&a, &b) < 1e-5, "values {}", max_diff(&a, &b));
        for (i, (ga, gb)) in ga.iter().zip(&gb).enumerate() {
            let scale = ga.abs().max().double_value(&[]);
            assert!(
                max_diff(ga, gb) < 1e-5 * scale,
                "gradient {i}: {}",
                max_diff(ga, gb)
            );
        }
        // In bf16 both round once or twice: within bf16's precision.
        let xb = x.detach().to_kind(Kind::BFloat16);
        let (a, b) = (norm.reference(&xb), norm.fused(&xb));
        let scale = a.to_kind(Kind::Float).abs().max().double_value(&[]);
        assert!(max_diff(&a, &b) < 2e-2 * scale, "bf16 {}", max_diff(&a, &b));
    }

    #[test]
    fn stacked_projections_match_separate_ones() {
        let _rng = crate::runtime::global_rng_lock();
        tch::manual_seed(4);
        let vs = nn::VarStore::new(Device::Cpu);
        let lins: Vec<Lin> = (0..3).map(|i| linear(vs.root() / i, 16, 12)).collect();
        let refs: Vec<&Lin> = lins.iter().collect();
        let x = Tensor::randn([2, 5, 16], (Kind::Float, Device::Cpu)).set_requires_grad(true);
        let ups: Vec<Tensor> = (0..3)
            .map(|_| Tensor::randn([2, 5, 12], (Kind::Float, Device::Cpu)))
            .collect();
        let mut leaves = vec![&x];
        leaves.extend(lins.iter().map(|l| &l.ws));
        let run = |outs: Vec<Tensor>| {
            let loss = outs
                .iter()
                .zip(&ups)
                .map(|(o, u)| (o * u).sum(Kind::Float))
                .fold(Tensor::zeros([], (Kind::Float, Device::Cpu)), |a, b| a + b);
            loss.backward();
            outs
        };
        let a = run(lins.iter().map(|l| l.forward(&x)).collect());
        let ga = grads(&leaves);
        zero(&leaves);
        let b = run(stacked(&x, &refs));
        let gb = grads(&leaves);
        for (a, b) in a.iter().zip(&b) {
            assert_eq!(b.size(), [2, 5, 12]);
            assert!(max_diff(a, b) < 1e-5, "values {}", max_diff(a, b));
        }
        for (i, (ga, gb)) in ga.iter().zip(&gb).enumerate() {
            assert!(
                max_diff(ga, gb) < 1e-5,
                "gradient {i}: {}",
                max_diff(ga, gb)
            );
        }
        // Off CUDA `project` is the separate products, bit for bit.
        let c = project(&x, &refs);
        assert_eq!(max_diff(&a[1], &c[1]), 0.0);
    }
}
