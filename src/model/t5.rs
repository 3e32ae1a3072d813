//! The T5 encoder-decoder (Raffel et al. 2020) in tch, as P5 and TIGER use it:
//! relative position buckets (bidirectional in the encoder, causal in the
//! decoder; the bias lives in block 0 and is shared by every layer of its
//! stack), RMSNorm without mean or bias, no 1/√d scaling in attention, ReLU or
//! gated-GELU feed-forward, dropout, tied or untied output head.
//!
//! Var-store paths equal Hugging Face `T5ForConditionalGeneration` tensor
//! names, so checkpoints move both ways (see `model::hf`).
use super::config::T5Config;
use super::dropout::dropout;
use super::layers::{linear, FeedForwardLayer};
pub use super::layers::{relative_position_bucket, Attention, Buckets, Lin, RmsNorm};
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

/// Additive mask value, as transformers uses (`finfo(float32).min`).
pub const MASK: f64 = f32::MIN as f64;

#[derive(Debug)]
struct EncoderBlock {
    attn: Attention,
    attn_norm: RmsNorm,
    ff: FeedForwardLayer,
}

#[derive(Debug)]
struct DecoderBlock {
    self_attn: Attention,
    self_norm: RmsNorm,
    cross_attn: Attention,
    cross_norm: RmsNorm,
    ff: FeedForwardLayer,
}

/// Per-decoder-layer key/value state for incremental decoding.
pub struct DecoderCache {
    /// Self-attention keys/values so far, `[N, H, t, D]` per layer.
    self_kv: Vec<Option<(Tensor, Tensor)>>,
    /// Cross-attention keys/values, `[B, H, S, D]` per layer (one per user:
    /// beams of a user share them, see `beams_per_row`).
    cross_kv: Vec<(Tensor, Tensor)>,
    /// Additive encoder padding mask `[B, 1, 1, S]`, in the compute precision.
    enc_mask: Tensor,
    /// Decoder rows per encoder row (beam width); rows are user-major.
    pub beams_per_row: i64,
    /// Tokens decoded so far (the query position of the next step).
    pub step: i64,
}

impl DecoderCache {
    /// Keeps decoder rows `rows` (`[N]` i64, indices into the current rows),
    /// e.g. after a beam-search step. Rows must stay within their user.
    pub fn reorder(&mut self, rows: &Tensor) {
        for kv in self.self_kv.iter_mut().flatten() {
            *kv = (kv.0.index_select(0, rows), kv.1.index_select(0, rows));
        }
    }
}

/// The model. Build with [`T5::new`]; inference under `tch::no_grad_guard()`.
#[derive(Debug)]
pub struct T5 {
    pub config: T5Config,
    shared: nn::Embedding,
    encoder: Vec<EncoderBlock>,
    encoder_norm: RmsNorm,
    decoder: Vec<DecoderBlock>,
    decoder_norm: RmsNorm,
    lm_head: Option<Lin>,
    /// History-match weights `[levels, 2]` (see [`T5::history_match_values`]).
    history_match: Option<Tensor>,
    /// Item text projection `[d_model, dim]` (zeros at the start: the model
    /// learns how much of the text to use).
    text_proj: Option<Tensor>,
    /// Item text embeddings `[N + 1, dim]` (row N: zeros, for positions that
    /// are no item), set by [`T5::set_item_text`]; not a weight.
    item_text: Option<Tensor>,
    /// dtype of the hidden states (f32, or bf16 for mixed precision on CUDA).
    compute_kind: Kind,
}

impl T5 {
    pub fn new(p: nn::Path, c: &T5Config) -> Self {
        let emb_cfg = nn::EmbeddingConfig {
            ws_init: nn::Init::Randn {
                mean: 0.0,
                stdev: 1.0,
            },
            ..Default::default()
        };
        let e = &p / "encoder";
        let d = &p / "decoder";
        let encoder = (0..c.num_layers)
            .map(|i| {
                let b = &e / "block" / i / "layer";
                EncoderBlock {
                    attn: Attention::new(&b / 0 / "SelfAttention", c, i == 0, true),
                    attn_norm: RmsNorm::new(&b / 0 / "layer_norm", c.d_model, c.layer_norm_epsilon),
                    ff: FeedForwardLayer::new(&b / 1, c),
                }
            })
            .collect();
        let decoder = (0..c.decoder_layers())
            .map(|i| {
                let b = &d / "block" / i / "layer";
                DecoderBlock {
                    self_attn: Attention::new(&b / 0 / "SelfAttention", c, i == 0, false),
                    self_norm: RmsNorm::new(&b / 0 / "layer_norm", c.d_model, c.layer_norm_epsilon),
                    cross_attn: Attention::new(&b / 1 / "EncDecAttention", c, false, false),
                    cross_norm: RmsNorm::new(
                        &b / 1 / "layer_norm",
                        c.d_model,
                        c.layer_norm_epsilon,
                    ),
                    ff: FeedForwardLayer::new(&b / 2, c),
                }
            })
            .collect();
        Self {
            config: c.clone(),
            shared: nn::embedding(&p / "shared", c.vocab_size, c.d_model, emb_cfg),
            encoder,
            encoder_norm: RmsNorm::new(&e / "final_layer_norm", c.d_model, c.layer_norm_epsilon),
            decoder,
            decoder_norm: RmsNorm::new(&d / "final_layer_norm", c.d_model, c.layer_norm_epsilon),
            lm_head: (!c.tie_word_embeddings)
                .then(|| linear(&p / "lm_head", c.d_model, c.vocab_size)),
            history_match: c
                .genrec_history_match_levels
                .map(|l| p.zeros("genrec_history_match", &[l, 2])),
            text_proj: c
                .genrec_text_dim
                .map(|dim| p.zeros("genrec_text_proj", &[c.d_model, dim])),
            item_text: None,
            compute_kind: Kind::Float,
        }
    }

    /// Sets the precision of activations and matrix products (weights stay f32).
    pub fn set_compute_kind(&mut self, kind: Kind) {
        self.compute_kind = kind;
    }

    /// An additive attention bias in the compute precision, made once per
    /// pass and shared by every layer: f32::MIN would round to -inf in bf16,
    /// so masks are kept finite there.
    fn compute_bias(&self, bias: Tensor) -> Tensor {
        if self.compute_kind == Kind::Float {
            bias
        } else {
            bias.clamp_min(-1e30).to_kind(self.compute_kind)
        }
    }

    fn embed(&self, ids: &Tensor) -> Tensor {
        self.shared.forward(ids).to_kind(self.compute_kind)
    }

    pub fn device(&self) -> Device {
        self.shared.ws.device()
    }

    /// Gives a model that reads item text (`genrec_text_dim`) the items'
    /// text embeddings `[N, dim]` (row = internal item id); encoder
    /// positions then name their item (see [`T5::encode`]).
    pub fn set_item_text(&mut self, embeddings: &Tensor) -> Result<(), String> {
        let Some(dim) = self.config.genrec_text_dim else {
            return Err("this model does not read item text".into());
        };
        let size = embeddings.size();
        if size.len() != 2 || size[1] != dim {
            return Err(format!(
                "item text embeddings have shape {size:?}; the model reads [N, {dim}]"
            ));
        }
        let _g = tch::no_grad_guard();
        let zero = Tensor::zeros([1, dim], (Kind::Float, Device::Cpu));
        let table = Tensor::cat(&[embeddings.to_kind(Kind::Float).to(Device::Cpu), zero], 0);
        self.item_text = Some(table.to(self.device()));
        Ok(())
    }

    /// Items the item text table knows (0 when the model reads no text).
    pub fn text_items(&self) -> i64 {
        self.item_text.as_ref().map_or(0, |t| t.size()[0] - 1)
    }

    /// Encoder: ids `[B, S]`, mask `[B, S]` (1 = position) → states `[B, S, C]`.
    /// Ids `[B, S, G]` give each position the sum of its G tokens' embeddings,
    /// `pad_token_id` adding nothing (genrec's summed item input). `items`
    /// `[B, S]` names the history item at each position (any id outside
    /// `0..N`: none); a model that reads item text adds the projection of
    /// that item's text embedding there, and reads none without `items`.
    pub fn encode(
        &self,
        ids: &Tensor,
        mask: &Tensor,
        items: Option<&Tensor>,
        train: bool,
    ) -> Tensor {
        let s = ids.size()[1];
        let p_drop = self.config.dropout_rate;
        let x = if ids.dim() == 3 {
            let e = self.shared.forward(ids);
            let keep = ids
                .ne(self.config.pad_token_id)
                .unsqueeze(-1)
                .to_kind(e.kind());
            (e * keep)
                .sum_dim_intlist(2, false, None)
                .to_kind(self.compute_kind)
        } else {
            self.embed(ids)
        };
        let x = match (items, &self.text_proj) {
            (Some(items), Some(w)) => x + self.item_text_input(items, w),
            _ => x,
        };
        let mut h = dropout(&x, p_drop, train);
        let pad = additive_mask(mask);
        let bias =
            self.compute_bias(self.encoder[0].attn.position_bias(s, s, 0, ids.device()) + pad);
        for blk in &self.encoder {
            let n = blk.attn_norm.forward(&h);
            h = &h + dropout(&blk.attn.self_attend(&n, &bias, train), p_drop, train);
            h = blk.ff.forward_t(&h, train);
        }
        dropout(&self.encoder_norm.forward(&h), p_drop, train)
    }

    /// `W · text(item)` for every position of `items` `[B, S]`: `[B, S, C]`,
    /// zero where the position is no item.
    fn item_text_input(&self, items: &Tensor, w: &Tensor) -> Tensor {
        let table = self
            .item_text
            .as_ref()
            .expect("a model that reads item text needs T5::set_item_text before encoding items");
        let none = table.size()[0] - 1;
        let outside = items.lt(0).logical_or(&items.ge(none));
        let rows = items.masked_fill(&outside, none);
        let text = table.index_select(0, &rows.flatten(0, -1));
        let s = items.size();
        text.matmul(&w.tr())
            .view([s[0], s[1], -1])
            .to_kind(self.compute_kind)
    }

    /// Teacher-forced decoder: `dec_ids` `[B, T]` (starting with the decoder
    /// start token) over encoder states → decoder states `[B, T, C]` (after
    /// the final norm, before scaling and lm_head).
    pub fn decode(&self, dec_ids: &Tensor, enc: &Tensor, enc_mask: &Tensor, train: bool) -> Tensor {
        self.decode_about(dec_ids, None, enc, enc_mask, train)
    }

    /// [`T5::decode`] about a known item per row (the verifier's candidate):
    /// `item` `[B]`; a model that reads item text adds the projection of that
    /// item's text embedding (the encoder's projection, one implementation)
    /// to every decoder position, so items whose IDs look alike are told
    /// apart by what they are.
    pub fn decode_about(
        &self,
        dec_ids: &Tensor,
        item: Option<&Tensor>,
        enc: &Tensor,
        enc_mask: &Tensor,
        train: bool,
    ) -> Tensor {
        let t = dec_ids.size()[1];
        let dev = dec_ids.device();
        let p_drop = self.config.dropout_rate;
        let causal = Tensor::ones([t, t], (Kind::Float, dev)).triu(1) * MASK;
        let self_bias = self.compute_bias(
            self.decoder[0].self_attn.position_bias(t, t, 0, dev) + causal.view([1, 1, t, t]),
        );
        let cross_bias = self.compute_bias(additive_mask(enc_mask));
        let x = self.embed(dec_ids);
        let x = match (item, &self.text_proj) {
            // `[B, 1, C]`, projected once per row and broadcast over positions.
            (Some(item), Some(w)) => x + self.item_text_input(&item.view([-1, 1]), w),
            _ => x,
        };
        let mut h = dropout(&x, p_drop, train);
        for blk in &self.decoder {
            let n = blk.self_norm.forward(&h);
            h = &h
                + dropout(
                    &blk.self_attn.self_attend(&n, &self_bias, train),
                    p_drop,
                    train,
                );
            let n = blk.cross_norm.forward(&h);
            let (k, v) = blk.cross_attn.project_kv(enc);
            h = &h
                + dropout(
                    &blk.cross_attn.attend(&n, &k, &v, &cross_bias, train),
                    p_drop,
                    train,
                );
            h = blk.ff.forward_t(&h, train);
        }
        dropout(&self.decoder_norm.forward(&h), p_drop, train)
    }

    /// Decoder states → logits `[.., V]` (tied: scaled by `d_model**-0.5` when
    /// the config says so, then `shared`ᵀ).
    pub fn lm_logits(&self, h: &Tensor) -> Tensor {
        let h = if self.config.scales_decoder_output() {
            h * (self.config.d_model as f64).powf(-0.5)
        } else {
            h.shallow_clone()
        };
        match &self.lm_head {
            Some(l) => l.forward(&h),
            None => h.matmul(&self.shared.ws.to_kind(h.kind()).tr()),
        }
    }

    /// The history-match bias (a genrec extension): when the next token `t`
    /// at ID level `k` would extend the prefix decoded so far to the prefix
    /// of `c > 0` items of the user's recent history, its logit gets
    /// `w[k, 0] + w[k, 1] · ln(1 + c)`, with `w` learned. At the last level
    /// that is "this exact item was seen", so the model learns from the data
    /// how likely repeats are (on ML-100K: never) and, at upper levels, how
    /// much a user stays in the semantic clusters they visited; a plain
    /// encoder has to learn that matching through attention, and mostly
    /// does not. Values for `(level, ln(1 + c))` pairs, or None when the
    /// model has no such weights.
    pub fn history_match_values(&self, level: &Tensor, log_count: &Tensor) -> Option<Tensor> {
        let w = self.history_match.as_ref()?;
        Some(
            w.select(1, 0).index_select(0, level)
                + w.select(1, 1).index_select(0, level) * log_count,
        )
    }

    /// The history-match weights, row-major `[levels × 2]`, on the CPU.
    pub fn history_match_weights(&self) -> Option<Vec<f32>> {
        let w = self.history_match.as_ref()?;
        Some(
            Vec::try_from(
                w.detach()
                    .to_kind(Kind::Float)
                    .to_device(Device::Cpu)
                    .flatten(0, -1),
            )
            .expect("f32 weights"),
        )
    }

    /// Full teacher-forced forward: logits `[B, T, V]`.
    pub fn forward_t(
        &self,
        ids: &Tensor,
        mask: &Tensor,
        items: Option<&Tensor>,
        dec_ids: &Tensor,
        train: bool,
    ) -> Tensor {
        let enc = self.encode(ids, mask, items, train);
        self.lm_logits(&self.decode(dec_ids, &enc, mask, train))
    }

    /// Starts incremental decoding over encoder states `[B, S, C]`; the decoder
    /// will run `beams` rows per encoder row (user-major: row = b·beams + w).
    pub fn start_decoding(&self, enc: &Tensor, enc_mask: &Tensor, beams: i64) -> DecoderCache {
        DecoderCache {
            self_kv: (0..self.decoder.len()).map(|_| None).collect(),
            cross_kv: self
                .decoder
                .iter()
                .map(|b| b.cross_attn.project_kv(enc))
                .collect(),
            enc_mask: self.compute_bias(additive_mask(enc_mask)),
            beams_per_row: beams,
            step: 0,
        }
    }

    /// One decoder step for tokens `[N]` (N = B·beams): logits `[N, V]`.
    pub fn decode_step(&self, tokens: &Tensor, cache: &mut DecoderCache) -> Tensor {
        let n = tokens.size()[0];
        let dev = tokens.device();
        let t = cache.step;
        let w = cache.beams_per_row;
        let self_bias =
            self.compute_bias(self.decoder[0].self_attn.position_bias(1, t + 1, t, dev));
        let mut h = self.embed(&tokens.view([n, 1]));
        for (li, blk) in self.decoder.iter().enumerate() {
            let x = blk.self_norm.forward(&h);
            let (k, v) = blk.self_attn.project_kv(&x);
            let (k, v) = match cache.self_kv[li].take() {
                Some((pk, pv)) => (Tensor::cat(&[pk, k], 2), Tensor::cat(&[pv, v], 2)),
                None => (k, v),
            };
            h = &h + blk.self_attn.attend(&x, &k, &v, &self_bias, false);
            cache.self_kv[li] = Some((k, v));
            // Cross-attention: the beams of a user become query positions of
            // one attention over that user's encoder keys/values.
            let x = blk.cross_norm.forward(&h);
            let b = n / w;
            let xq = x.view([b, w, x.size()[2]]);
            let (ck, cv) = &cache.cross_kv[li];
            h = &h
                + blk
                    .cross_attn
                    .attend(&xq, ck, cv, &cache.enc_mask, false)
                    .view([n, 1, -1]);
            h = blk.ff.forward_t(&h, false);
        }
        cache.step += 1;
        self.lm_logits(&self.decoder_norm.forward(&h)).view([n, -1])
    }
}

/// `[B, S]` 1/0 mask → additive `[B, 1, 1, S]` (0 or `MASK`).
pub fn additive_mask(mask: &Tensor) -> Tensor {
    let m = mask.to_kind(Kind::Float);
    ((m.ones_like() - m) * MASK).unsqueeze(1).unsqueeze(1)
}
