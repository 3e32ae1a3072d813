//! The P5/TIGER generator: a T5 encoder-decoder in tch with Hugging Face
//! compatible weights and config, and its initialisation.
pub mod attention;
pub mod config;
pub mod dropout;
pub mod hf;
pub mod layers;
pub mod sasrec;
pub mod t5;

pub use config::{FeedForward, T5Config};
pub use t5::{DecoderCache, T5};

use tch::{nn, Tensor};

/// Hugging Face's T5 initialisation (`_init_weights`, factor 1.0), by tensor
/// name: embeddings N(0, 1), q N(0, (d_model·d_kv)^-½), k/v N(0, d_model^-½),
/// o N(0, (H·d_kv)^-½), wi N(0, d_model^-½), wo N(0, d_ff^-½), lm_head
/// N(0, d_model^-½), relative bias N(0, d_model^-½), norms 1. Seeded through
/// libtorch's generator (`runtime::seed` first).
pub fn hf_init(vs: &nn::VarStore, c: &T5Config) {
    let _g = tch::no_grad_guard();
    let mut vars: Vec<(String, Tensor)> = vs.variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    let d = c.d_model as f64;
    for (name, mut t) in vars {
        let std = if name.ends_with("layer_norm.weight") {
            let _ = t.fill_(1.0);
            continue;
        } else if name == "shared.weight" {
            1.0
        } else if name == "lm_head.weight" || name.ends_with("relative_attention_bias.weight") {
            d.powf(-0.5)
        } else if name.ends_with(".q.weight") {
            (d * c.d_kv as f64).powf(-0.5)
        } else if name.ends_with(".k.weight") || name.ends_with(".v.weight") {
            d.powf(-0.5)
        } else if name.ends_with(".o.weight") {
            ((c.num_heads * c.d_kv) as f64).powf(-0.5)
        } else if name.contains(".wi") {
            d.powf(-0.5)
        } else if name.ends_with(".wo.weight") {
            (c.d_ff as f64).powf(-0.5)
        } else {
            continue;
        };
        let _ = t.normal_(0.0, std);
    }
}
