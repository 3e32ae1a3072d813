//! Hugging Face checkpoint I/O: `config.json` + `model.safetensors` as
//! `T5ForConditionalGeneration.save_pretrained` writes them, read and written.
//! Loading rules (from the fixtures' README): `lm_head.weight` present →
//! untied head; absent → tied to `shared.weight`; `encoder.embed_tokens` /
//! `decoder.embed_tokens` copies of older checkpoints are accepted and ignored.
use super::config::T5Config;
use super::t5::T5;
use crate::error::{Error, Result};
use crate::util::st::{self, load_into, StFile};
use std::collections::BTreeMap;
use std::path::Path;
use tch::{nn, Device};

/// Loads a model from a config and a weights file.
pub fn load(config_path: &Path, weights_path: &Path, device: Device) -> Result<(T5, nn::VarStore)> {
    load_file(
        config_path,
        StFile::read(weights_path)?,
        weights_path,
        device,
    )
}

/// Loads `dir/config.json` + `dir/model.safetensors`.
pub fn load_dir(dir: &Path, device: Device) -> Result<(T5, nn::VarStore)> {
    load(
        &dir.join("config.json"),
        &dir.join("model.safetensors"),
        device,
    )
}

/// [`load_dir`], plus the SHA-256 of `model.safetensors` from the same read,
/// which `accept` sees before anything is built from the file (an error
/// there is returned as it is).
pub fn load_dir_hashed(
    dir: &Path,
    device: Device,
    accept: &dyn Fn(&str) -> Result<()>,
) -> Result<(T5, nn::VarStore, String)> {
    let weights = dir.join("model.safetensors");
    let (file, sha) = StFile::read_with_sha256(&weights)?;
    accept(&sha)?;
    let (model, vs) = load_file(&dir.join("config.json"), file, &weights, device)?;
    Ok((model, vs, sha))
}

fn load_file(
    config_path: &Path,
    mut file: StFile,
    weights_path: &Path,
    device: Device,
) -> Result<(T5, nn::VarStore)> {
    let mut config = T5Config::from_file(config_path)?;
    config.tie_word_embeddings = !file.tensors.contains_key("lm_head.weight");
    let vs = nn::VarStore::new(device);
    let model = T5::new(vs.root(), &config);
    let shared = file.get(weights_path, "shared.weight")?;
    if shared.size() != [config.vocab_size, config.d_model] {
        return Err(Error::Mismatch(format!(
            "{}: shared.weight is {:?} but config.json says vocab_size {} × d_model {}",
            weights_path.display(),
            shared.size(),
            config.vocab_size,
            config.d_model
        )));
    }
    load_into(
        &vs,
        &mut file,
        weights_path,
        &["encoder.embed_tokens.weight", "decoder.embed_tokens.weight"],
    )?;
    Ok((model, vs))
}

/// Writes `config.json` and `model.safetensors` (atomically each) into `dir`.
pub fn save_dir(model: &T5, vs: &nn::VarStore, dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let mut tensors: Vec<(String, tch::Tensor)> = vs
        .variables()
        .into_iter()
        .map(|(k, v)| (k, v.detach()))
        .collect();
    tensors.sort_by(|a, b| a.0.cmp(&b.0));
    let meta = BTreeMap::from([("format".to_string(), "pt".to_string())]);
    st::write(&dir.join("model.safetensors"), &tensors, &meta)?;
    model.config.save(&dir.join("config.json"))
}
