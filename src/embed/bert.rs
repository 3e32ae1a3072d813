//! A BERT encoder (the all-MiniLM-L6-v2 architecture: post-LayerNorm, erf GELU,
//! learned absolute positions) in tch, loading Hugging Face `BertModel` weights
//! by their tensor names, plus sentence-transformers' pooling: mean over the
//! attention mask, then L2 normalisation (Reimers & Gurevych 2019).
use crate::error::{Error, IoContext, Result};
use crate::util::st::{load_into, StFile};
use serde::Deserialize;
use std::path::Path;
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

/// The fields of a Hugging Face `config.json` that the encoder needs.
#[derive(Debug, Clone, Deserialize)]
pub struct BertConfig {
    pub vocab_size: i64,
    pub hidden_size: i64,
    pub num_hidden_layers: i64,
    pub num_attention_heads: i64,
    pub intermediate_size: i64,
    pub max_position_embeddings: i64,
    #[serde(default = "two")]
    pub type_vocab_size: i64,
    #[serde(default = "eps")]
    pub layer_norm_eps: f64,
    #[serde(default = "gelu")]
    pub hidden_act: String,
}
fn two() -> i64 {
    2
}
fn eps() -> f64 {
    1e-12
}
fn gelu() -> String {
    "gelu".into()
}

impl BertConfig {
    pub fn from_file(path: &Path) -> Result<Self> {
        let c: Self = serde_json::from_slice(&std::fs::read(path).at(path)?)
            .map_err(|e| Error::input(path, None, format!("not a BERT config.json: {e}")))?;
        if c.hidden_act != "gelu" {
            return Err(Error::input(
                path,
                None,
                format!(
                    "hidden_act `{}` unsupported (expected \"gelu\")",
                    c.hidden_act
                ),
            ));
        }
        if c.hidden_size % c.num_attention_heads != 0 {
            return Err(Error::input(
                path,
                None,
                "hidden_size is not a multiple of num_attention_heads",
            ));
        }
        Ok(c)
    }
}

#[derive(Debug)]
struct Embeddings {
    word_embeddings: nn::Embedding,
    position_embeddings: nn::Embedding,
    token_type_embeddings: nn::Embedding,
    layer_norm: nn::LayerNorm,
}

fn ln(p: nn::Path, n: i64, eps: f64) -> nn::LayerNorm {
    nn::layer_norm(
        p,
        vec![n],
        nn::LayerNormConfig {
            eps,
            ..Default::default()
        },
    )
}

impl Embeddings {
    fn new(p: nn::Path, c: &BertConfig) -> Self {
        Self {
            word_embeddings: nn::embedding(
                &p / "word_embeddings",
                c.vocab_size,
                c.hidden_size,
                Default::default(),
            ),
            position_embeddings: nn::embedding(
                &p / "position_embeddings",
                c.max_position_embeddings,
                c.hidden_size,
                Default::default(),
            ),
            token_type_embeddings: nn::embedding(
                &p / "token_type_embeddings",
                c.type_vocab_size,
                c.hidden_size,
                Default::default(),
            ),
            layer_norm: ln(&p / "LayerNorm", c.hidden_size, c.layer_norm_eps),
        }
    }

    /// ids: `[B, T]` i64 → `[B, T, H]`.
    fn forward(&self, ids: &Tensor) -> Tensor {
        let t = ids.size()[1];
        let pos = Tensor::arange(t, (Kind::Int64, ids.device())).unsqueeze(0);
        let types = ids.zeros_like();
        let x = self.word_embeddings.forward(ids)
            + self.position_embeddings.forward(&pos)
            + self.token_type_embeddings.forward(&types);
        self.layer_norm.forward(&x)
    }
}

#[derive(Debug)]
struct Layer {
    query: nn::Linear,
    key: nn::Linear,
    value: nn::Linear,
    attn_out: nn::Linear,
    attn_ln: nn::LayerNorm,
    intermediate: nn::Linear,
    output: nn::Linear,
    out_ln: nn::LayerNorm,
    heads: i64,
}

impl Layer {
    fn new(p: nn::Path, c: &BertConfig) -> Self {
        let a = &p / "attention";
        let s = &a / "self";
        let h = c.hidden_size;
        Self {
            query: nn::linear(&s / "query", h, h, Default::default()),
            key: nn::linear(&s / "key", h, h, Default::default()),
            value: nn::linear(&s / "value", h, h, Default::default()),
            attn_out: nn::linear(&a / "output" / "dense", h, h, Default::default()),
            attn_ln: ln(&a / "output" / "LayerNorm", h, c.layer_norm_eps),
            intermediate: nn::linear(
                &p / "intermediate" / "dense",
                h,
                c.intermediate_size,
                Default::default(),
            ),
            output: nn::linear(
                &p / "output" / "dense",
                c.intermediate_size,
                h,
                Default::default(),
            ),
            out_ln: ln(&p / "output" / "LayerNorm", h, c.layer_norm_eps),
            heads: c.num_attention_heads,
        }
    }

    /// x: `[B, T, H]`; mask: additive `[B, 1, 1, T]`.
    fn forward(&self, x: &Tensor, mask: &Tensor) -> Tensor {
        self.forward_prefix(x, mask, x.size()[1])
    }

    /// The layer's output at the first `n` positions only `[B, n, H]` (they
    /// attend to all `T`; the other positions' outputs are not computed).
    fn forward_prefix(&self, x: &Tensor, mask: &Tensor, n: i64) -> Tensor {
        let (b, t, h) = x.size3().expect("[B, T, H]");
        let d = h / self.heads;
        let split = |y: Tensor, len: i64| y.view([b, len, self.heads, d]).transpose(1, 2);
        let xq = x.narrow(1, 0, n);
        let q = split(self.query.forward(&xq), n);
        let k = split(self.key.forward(x), t);
        let v = split(self.value.forward(x), t);
        let ctx =
            Tensor::scaled_dot_product_attention(&q, &k, &v, Some(mask), 0.0, false, None, false);
        let ctx = ctx.transpose(1, 2).contiguous().view([b, n, h]);
        let a = self.attn_ln.forward(&(self.attn_out.forward(&ctx) + xq));
        let i = self.intermediate.forward(&a).gelu("none");
        self.out_ln.forward(&(self.output.forward(&i) + a))
    }
}

/// The encoder (no pooler: sentence-transformers does not use it).
#[derive(Debug)]
pub struct Bert {
    embeddings: Embeddings,
    layers: Vec<Layer>,
    pub config: BertConfig,
    pub device: Device,
}

impl Bert {
    pub fn new(p: nn::Path, c: &BertConfig) -> Self {
        let device = p.device();
        let e = &p / "encoder" / "layer";
        Self {
            embeddings: Embeddings::new(&p / "embeddings", c),
            layers: (0..c.num_hidden_layers)
                .map(|i| Layer::new(&e / i, c))
                .collect(),
            config: c.clone(),
            device,
        }
    }

    /// Loads `config.json` + `model.safetensors` (Hugging Face `BertModel` names,
    /// with or without a `bert.` prefix) from a directory; also returns the
    /// weights file's sha256.
    pub fn load(dir: &Path, device: Device) -> Result<(Self, nn::VarStore, String)> {
        let dir = &super::installed(dir);
        let config = BertConfig::from_file(&dir.join("config.json"))?;
        let vs = nn::VarStore::new(device);
        let model = Bert::new(vs.root(), &config);
        let wpath = dir.join("model.safetensors");
        let (mut file, sha256) = StFile::read_with_sha256(&wpath)?;
        let prefixed: Vec<String> = file
            .tensors
            .keys()
            .filter(|k| k.starts_with("bert."))
            .cloned()
            .collect();
        for k in prefixed {
            let t = file.tensors.remove(&k).expect("key listed");
            file.tensors.insert(k["bert.".len()..].to_string(), t);
        }
        load_into(
            &vs,
            &mut file,
            &wpath,
            &["position_ids", "pooler.dense.weight", "pooler.dense.bias"],
        )?;
        Ok((model, vs, sha256))
    }

    /// Last hidden state `[B, T, H]` for ids `[B, T]` and attention mask `[B, T]` (1 = token).
    pub fn forward(&self, ids: &Tensor, attention_mask: &Tensor) -> Tensor {
        self.layers_from(&self.embed(ids), attention_mask, 0..self.layers.len())
    }

    /// The embedding layer's output `[B, T, H]` (positions counted from 0).
    pub fn embed(&self, ids: &Tensor) -> Tensor {
        self.embeddings.forward(ids)
    }

    /// Hidden states `[B, T, H]` after the encoder layers `layers`, from the
    /// states `x` before the first of them; attention mask `[B, T]` (1 = token).
    pub fn layers_from(
        &self,
        x: &Tensor,
        attention_mask: &Tensor,
        layers: std::ops::Range<usize>,
    ) -> Tensor {
        let additive = additive_mask(attention_mask);
        let mut x = x.shallow_clone();
        for l in &self.layers[layers] {
            x = l.forward(&x, &additive);
        }
        x
    }

    /// The last encoder layer's output at the first `n` positions only
    /// `[B, n, H]`, from the states `x` `[B, T, H]` before it (all `T`
    /// attended to): what a reader that pools only those positions needs.
    pub fn last_layer_prefix(&self, x: &Tensor, attention_mask: &Tensor, n: i64) -> Tensor {
        let last = self.layers.last().expect("at least one layer");
        last.forward_prefix(x, &additive_mask(attention_mask), n)
    }
}

/// `[B, T]` (1 = token) → additive `[B, 1, 1, T]` (0 or the lowest f32).
fn additive_mask(attention_mask: &Tensor) -> Tensor {
    let m = attention_mask.to_kind(Kind::Float);
    ((m.ones_like() - m) * f64::from(f32::MIN))
        .unsqueeze(1)
        .unsqueeze(1)
}

/// Mean over real tokens: `[B, T, H]`, `[B, T]` → `[B, H]`.
pub fn mean_pool(hidden: &Tensor, attention_mask: &Tensor) -> Tensor {
    let m = attention_mask.to_kind(hidden.kind()).unsqueeze(-1);
    let sum = (hidden * &m).sum_dim_intlist(1, false, hidden.kind());
    let count = m.sum_dim_intlist(1, false, hidden.kind()).clamp_min(1e-9);
    sum / count
}

/// Row-wise L2 normalisation `x / max(‖x‖, 1e-12)`: `[B, H]` → `[B, H]`.
pub fn l2_normalize(x: &Tensor) -> Tensor {
    let n = x.norm_scalaropt_dim(2.0, [-1], true).clamp_min(1e-12);
    x / n
}
