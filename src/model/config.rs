//! The T5 configuration in Hugging Face's `config.json` form, read and written,
//! so a genrec checkpoint loads in `transformers` and back.
use crate::error::{Error, IoContext, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FeedForward {
    /// `wo(relu(wi(x)))`
    #[serde(rename = "relu")]
    Relu,
    /// `wo(gelu_tanh(wi_0(x)) * wi_1(x))` (T5 v1.1)
    #[serde(rename = "gated-gelu")]
    GatedGelu,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct T5Config {
    pub vocab_size: i64,
    pub d_model: i64,
    pub d_kv: i64,
    pub d_ff: i64,
    pub num_layers: i64,
    #[serde(default)]
    pub num_decoder_layers: Option<i64>,
    pub num_heads: i64,
    #[serde(default = "d_buckets")]
    pub relative_attention_num_buckets: i64,
    #[serde(default = "d_max_distance")]
    pub relative_attention_max_distance: i64,
    #[serde(default = "d_dropout")]
    pub dropout_rate: f64,
    /// genrec extension (transformers ignores it): dropout on attention
    /// probabilities; absent → `dropout_rate` (T5's behaviour). 0 lets
    /// libtorch use its fused attention kernel in training.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attention_dropout_rate: Option<f64>,
    #[serde(default = "d_eps")]
    pub layer_norm_epsilon: f64,
    #[serde(default = "d_ff_proj")]
    pub feed_forward_proj: FeedForward,
    /// Whether `lm_head` shares `shared.weight`.
    #[serde(default = "d_true")]
    pub tie_word_embeddings: bool,
    /// transformers 5.x: whether decoder outputs are scaled by `d_model**-0.5`
    /// before `lm_head`; absent → `tie_word_embeddings` (the 4.x rule).
    #[serde(default)]
    pub scale_decoder_outputs: Option<bool>,
    #[serde(default)]
    pub pad_token_id: i64,
    #[serde(default = "d_one")]
    pub eos_token_id: i64,
    #[serde(default)]
    pub decoder_start_token_id: i64,
    /// genrec extension (transformers ignores it, and the extra weight): the
    /// number of ID levels of the history-match bias, when the model has one
    /// (see `T5::history_match_values`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genrec_history_match_levels: Option<i64>,
    /// genrec extension (transformers ignores it, and the extra weight): the
    /// width of the item text embeddings whose learned projection
    /// (`genrec_text_proj`, `[d_model, dim]`) the encoder adds to every
    /// position of a history item, when the model reads item text
    /// (see `T5::set_item_text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub genrec_text_dim: Option<i64>,
}

fn d_buckets() -> i64 {
    32
}
fn d_max_distance() -> i64 {
    128
}
fn d_dropout() -> f64 {
    0.1
}
fn d_eps() -> f64 {
    1e-6
}
fn d_ff_proj() -> FeedForward {
    FeedForward::Relu
}
fn d_true() -> bool {
    true
}
fn d_one() -> i64 {
    1
}

impl T5Config {
    /// TIGER's size: d_model 128, 4+4 layers, 6 heads × 64, d_ff 1024, dropout 0.1, untied head.
    pub fn tiger(vocab_size: i64) -> Self {
        Self {
            vocab_size,
            d_model: 128,
            d_kv: 64,
            d_ff: 1024,
            num_layers: 4,
            num_decoder_layers: Some(4),
            num_heads: 6,
            relative_attention_num_buckets: 32,
            relative_attention_max_distance: 128,
            dropout_rate: 0.1,
            attention_dropout_rate: None,
            layer_norm_epsilon: 1e-6,
            feed_forward_proj: FeedForward::Relu,
            tie_word_embeddings: false,
            scale_decoder_outputs: Some(false),
            pad_token_id: 0,
            eos_token_id: 1,
            decoder_start_token_id: 0,
            genrec_history_match_levels: None,
            genrec_text_dim: None,
        }
    }

    /// A small model for tests: d_model 32, 2+2 layers, 4 heads × 8, d_ff 64.
    pub fn tiny(vocab_size: i64) -> Self {
        Self {
            d_model: 32,
            d_kv: 8,
            d_ff: 64,
            num_layers: 2,
            num_decoder_layers: Some(2),
            num_heads: 4,
            relative_attention_num_buckets: 8,
            relative_attention_max_distance: 20,
            ..Self::tiger(vocab_size)
        }
    }

    pub fn decoder_layers(&self) -> i64 {
        self.num_decoder_layers.unwrap_or(self.num_layers)
    }

    /// `scale_decoder_outputs ?? tie_word_embeddings` (see the fixtures' README).
    pub fn scales_decoder_output(&self) -> bool {
        self.scale_decoder_outputs
            .unwrap_or(self.tie_word_embeddings)
    }

    pub fn check(&self) -> Result<()> {
        let pos = [
            ("vocab_size", self.vocab_size),
            ("d_model", self.d_model),
            ("d_kv", self.d_kv),
            ("d_ff", self.d_ff),
            ("num_layers", self.num_layers),
            ("num_heads", self.num_heads),
            (
                "relative_attention_num_buckets",
                self.relative_attention_num_buckets,
            ),
        ];
        if let Some((name, v)) = pos.iter().find(|(_, v)| *v <= 0) {
            return Err(Error::Config(format!(
                "T5 config: {name} must be positive, got {v}"
            )));
        }
        if !(0.0..1.0).contains(&self.dropout_rate) {
            return Err(Error::Config(format!(
                "T5 config: dropout_rate must be in [0, 1), got {}",
                self.dropout_rate
            )));
        }
        Ok(())
    }

    pub fn from_file(path: &Path) -> Result<Self> {
        let v: serde_json::Value = serde_json::from_slice(&std::fs::read(path).at(path)?)
            .map_err(|e| Error::input(path, None, format!("malformed JSON: {e}")))?;
        if let Some(t) = v.get("model_type").and_then(|t| t.as_str()) {
            if t != "t5" {
                return Err(Error::input(
                    path,
                    None,
                    format!("model_type is `{t}`, expected `t5`"),
                ));
            }
        }
        // transformers writes `"feed_forward_proj": "gated-gelu"`; accept `gelu_new` aliases it also uses.
        let c: Self = serde_json::from_value(v)
            .map_err(|e| Error::input(path, None, format!("not a T5 config: {e}")))?;
        c.check()
            .map_err(|e| Error::input(path, None, e.to_string()))?;
        Ok(c)
    }

    /// The `config.json` transformers expects for `T5ForConditionalGeneration`.
    pub fn to_hf_json(&self) -> serde_json::Value {
        let mut v = serde_json::to_value(self).expect("plain data");
        let m = v.as_object_mut().expect("object");
        m.insert("num_decoder_layers".into(), self.decoder_layers().into());
        m.insert(
            "scale_decoder_outputs".into(),
            self.scales_decoder_output().into(),
        );
        m.insert(
            "architectures".into(),
            serde_json::json!(["T5ForConditionalGeneration"]),
        );
        m.insert("model_type".into(), "t5".into());
        m.insert("is_encoder_decoder".into(), true.into());
        m.insert(
            "dense_act_fn".into(),
            match self.feed_forward_proj {
                FeedForward::Relu => "relu",
                FeedForward::GatedGelu => "gelu_new",
            }
            .into(),
        );
        m.insert(
            "is_gated_act".into(),
            (self.feed_forward_proj == FeedForward::GatedGelu).into(),
        );
        m.insert("use_cache".into(), true.into());
        m.insert("initializer_factor".into(), 1.0.into());
        v
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        crate::util::fsx::write_json(path, &self.to_hf_json())
    }
}
