//! `genrec embed`: item texts → L2-normalised sentence embeddings with
//! all-MiniLM-L6-v2 on tch (sentence-transformers' recipe: WordPiece from
//! `tokenizer.json`, truncation at 256, padding to the longest in the batch,
//! mean pooling over the mask, L2 normalisation). The output is a cache keyed by
//! the encoder's sha256 and the hash of the item texts: re-running with
//! unchanged inputs does no work. Users may bring their own embeddings.
pub mod bert;
pub mod npy;
pub mod parts;

use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::util::part::Part;
use crate::util::st::{self, StFile};
use bert::{l2_normalize, mean_pool, Bert};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};
use tokenizers::{Tokenizer, TruncationDirection, TruncationParams, TruncationStrategy};

/// sentence-transformers' `max_seq_length` for all-MiniLM-L6-v2.
pub const MAX_SEQ_LEN: usize = 256;

/// Where `scripts/setup.sh` puts all-MiniLM-L6-v2 (the default encoder).
pub const DEFAULT_ENCODER_DIR: &str = "checkpoints/encoders/all-MiniLM-L6-v2";

/// A file the project's set-up installs (the encoder, its tokenizer) named
/// relative to the project: from the working directory when it is there,
/// else from the project this binary was built in, so that `genrec embed`
/// run from a user's own data directory finds them.
pub fn installed(path: &Path) -> PathBuf {
    let in_project = Path::new(env!("CARGO_MANIFEST_DIR")).join(path);
    if path.is_relative() && !path.exists() && in_project.exists() {
        in_project
    } else {
        path.to_path_buf()
    }
}

/// A tokenizer plus a BERT encoder that turns texts into sentence embeddings.
pub struct TextEncoder {
    pub bert: Bert,
    _vs: tch::nn::VarStore,
    tokenizer: Tokenizer,
    /// sha256 of the weights file: what embeddings record as their encoder.
    pub weights_sha256: String,
}

/// Embeddings and what the encoder saw of the texts.
pub struct Encoded {
    /// `[N, H]` f32 on the CPU, L2-normalised, in input order.
    pub matrix: Tensor,
    /// The rows computed (all, unless a part was asked for), ascending.
    pub rows: Vec<i64>,
    /// Texts longer than [`MAX_SEQ_LEN`] tokens: the encoder read only their start.
    pub truncated: usize,
    /// Mean tokens per text as encoded (after truncation, with [CLS]/[SEP]).
    pub mean_tokens: f64,
}

/// Token ids of one text, as the encoder sees them (with [CLS]/[SEP], truncated).
pub type TokenIds = Vec<u32>;

impl TextEncoder {
    /// `model_dir` holds `config.json` + `model.safetensors`; `tokenizer_json`
    /// the Hugging Face tokenizer file.
    pub fn load(model_dir: &Path, tokenizer_json: &Path, device: Device) -> Result<Self> {
        let (bert, vs, weights_sha256) = Bert::load(model_dir, device)?;
        let tokenizer = load_tokenizer(tokenizer_json, MAX_SEQ_LEN)?;
        Ok(Self {
            bert,
            _vs: vs,
            tokenizer,
            weights_sha256,
        })
    }

    pub fn tokenize(&self, texts: &[&str]) -> Result<Vec<TokenIds>> {
        Ok(self.tokenize_counted(texts)?.0)
    }

    /// Token ids of each text and how many texts were cut at [`MAX_SEQ_LEN`].
    pub fn tokenize_counted(&self, texts: &[&str]) -> Result<(Vec<TokenIds>, usize)> {
        tokenize_with(&self.tokenizer, texts)
    }

    /// `[N, D]`: `texts` (the items' text embeddings) with each named
    /// item's row (`named`: row, name) replaced by its name's embedding.
    pub fn encode_names(
        &self,
        texts: &Tensor,
        named: &[(usize, &str)],
        batch_size: usize,
        progress: &dyn Progress,
    ) -> Result<Tensor> {
        let names: Vec<&str> = named.iter().map(|&(_, n)| n).collect();
        let rows: Vec<i64> = named.iter().map(|&(i, _)| i as i64).collect();
        let by_name = self.encode(&names, batch_size, progress)?;
        Ok(texts.index_copy(0, &Tensor::from_slice(&rows), &by_name))
    }

    /// Embeds texts: `[N, H]` f32 on the CPU, L2-normalised, in input order.
    /// Batches are formed over texts sorted by token length (as
    /// sentence-transformers does) so that little padding is computed.
    pub fn encode(
        &self,
        texts: &[&str],
        batch_size: usize,
        progress: &dyn Progress,
    ) -> Result<Tensor> {
        Ok(self.encode_counted(texts, batch_size, progress)?.matrix)
    }

    /// [`TextEncoder::encode`], with what the encoder had to cut.
    pub fn encode_counted(
        &self,
        texts: &[&str],
        batch_size: usize,
        progress: &dyn Progress,
    ) -> Result<Encoded> {
        self.encode_part(texts, batch_size, Part::WHOLE, progress)
    }

    /// `part` of [`TextEncoder::encode_counted`]: batches i, i+n,
    /// i+2n, … of the whole run's (texts sorted by length, then cut in
    /// batches), so every part's rows are computed in the very batches of an
    /// unsharded run; other rows stay zero (`Encoded::rows` lists the part's).
    pub fn encode_part(
        &self,
        texts: &[&str],
        batch_size: usize,
        part: Part,
        progress: &dyn Progress,
    ) -> Result<Encoded> {
        let (ids, truncated) = self.tokenize_counted(texts)?;
        let tokens: usize = ids.iter().map(Vec::len).sum();
        let mut order: Vec<usize> = (0..ids.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(ids[i].len()));
        let h = self.bert.config.hidden_size;
        let mut out = Tensor::zeros([ids.len() as i64, h], (Kind::Float, Device::Cpu));
        let mine: Vec<&[usize]> = order
            .chunks(batch_size.max(1))
            .enumerate()
            .filter(|(b, _)| part.takes(*b))
            .map(|(_, c)| c)
            .collect();
        let mut rows: Vec<i64> = mine.concat().into_iter().map(|r| r as i64).collect();
        rows.sort_unstable();
        progress.start(rows.len() as u64, "embedding items");
        let _g = tch::no_grad_guard();
        for chunk in mine {
            let batch: Vec<&TokenIds> = chunk.iter().map(|&i| &ids[i]).collect();
            let emb = self.embed_ids(&batch)?;
            let idx = Tensor::from_slice(&chunk.iter().map(|&i| i as i64).collect::<Vec<_>>());
            let _ = out.index_copy_(0, &idx, &emb.to_device(Device::Cpu));
            progress.inc(chunk.len() as u64);
        }
        progress.finish();
        Ok(Encoded {
            matrix: out,
            rows,
            truncated,
            mean_tokens: tokens as f64 / ids.len().max(1) as f64,
        })
    }

    /// One padded batch → `[B, H]` normalised embeddings (on the model's device).
    pub fn embed_ids(&self, batch: &[&TokenIds]) -> Result<Tensor> {
        let (ids, mask) = pad_batch(batch, self.bert.device);
        let hidden = self.bert.forward(&ids, &mask);
        Ok(l2_normalize(&mean_pool(&hidden, &mask)))
    }
}

/// Token ids of each text (with `[CLS]`/`[SEP]`, cut at the tokenizer's
/// truncation length) and how many texts were cut.
pub fn tokenize_with(tokenizer: &Tokenizer, texts: &[&str]) -> Result<(Vec<TokenIds>, usize)> {
    let enc = tokenizer
        .encode_batch(texts.to_vec(), true)
        .map_err(|e| Error::Other(format!("tokenizer: {e}")))?;
    let truncated = enc
        .iter()
        .filter(|e| !e.get_overflowing().is_empty())
        .count();
    Ok((
        enc.iter().map(|e| e.get_ids().to_vec()).collect(),
        truncated,
    ))
}

/// Right-pads with 0 to the longest: ids and attention mask, both `[B, T]` i64.
pub fn pad_batch(batch: &[&TokenIds], device: Device) -> (Tensor, Tensor) {
    let t = batch.iter().map(|b| b.len()).max().unwrap_or(0).max(1);
    let mut ids = vec![0i64; batch.len() * t];
    let mut mask = vec![0i64; batch.len() * t];
    for (r, b) in batch.iter().enumerate() {
        for (c, &tok) in b.iter().enumerate() {
            ids[r * t + c] = tok as i64;
            mask[r * t + c] = 1;
        }
    }
    let shape = [batch.len() as i64, t as i64];
    (
        Tensor::from_slice(&ids).view(shape).to(device),
        Tensor::from_slice(&mask).view(shape).to(device),
    )
}

/// Loads `tokenizer.json`, replacing its own padding/truncation (MiniLM ships
/// Fixed(128)) with truncation at `max_len` and no padding (we pad per batch).
pub fn load_tokenizer(path: &Path, max_len: usize) -> Result<Tokenizer> {
    let path = &installed(path);
    if !path.exists() {
        return Err(Error::input(
            path,
            None,
            "tokenizer file not found (run scripts/setup.sh)",
        ));
    }
    let mut tok = Tokenizer::from_file(path)
        .map_err(|e| Error::input(path, None, format!("not a tokenizer.json: {e}")))?;
    tok.with_padding(None);
    tok.with_truncation(Some(TruncationParams {
        max_length: max_len,
        strategy: TruncationStrategy::LongestFirst,
        stride: 0,
        direction: TruncationDirection::Right,
    }))
    .map_err(|e| Error::Other(format!("tokenizer: {e}")))?;
    Ok(tok)
}

/// Where the embedding matrix came from; recorded in the file's metadata.
#[derive(Debug, Clone, PartialEq)]
pub struct EmbeddingSource {
    /// e.g. "all-MiniLM-L6-v2" or "external:<file name>".
    pub encoder: String,
    pub encoder_sha256: String,
    pub item_text_sha256: String,
    /// The items' names' weight in the mix with their whole texts
    /// (`eval::name_mix`), where one was chosen; None: the texts alone.
    pub name_weight: Option<f32>,
    /// The prepared dataset (its `content_sha256`) whose validation users
    /// chose the names' weight, where the items have names: the cache holds
    /// only for that split (a dataset prepared again with other sequences
    /// chooses again).
    pub chosen_on: Option<String>,
}

/// The metadata key of [`EmbeddingSource::chosen_on`].
const CHOSEN_ON: &str = "name_weight_chosen_on";

/// `embeddings.safetensors`: `item_ids` I64 `[N]` and `embeddings` F32 `[N, D]`.
pub struct Embeddings {
    pub item_ids: Vec<i64>,
    /// `[N, D]` f32, CPU.
    pub matrix: Tensor,
    pub source: EmbeddingSource,
    /// sha256 of the file itself, what the index records.
    pub file_sha256: String,
}

impl Embeddings {
    pub fn write(path: &Path, matrix: &Tensor, source: &EmbeddingSource) -> Result<()> {
        let n = matrix.size()[0];
        let ids = Tensor::arange(n, (Kind::Int64, Device::Cpu));
        let mut meta = BTreeMap::from([
            ("encoder".to_string(), source.encoder.clone()),
            ("encoder_sha256".to_string(), source.encoder_sha256.clone()),
            (
                "item_text_sha256".to_string(),
                source.item_text_sha256.clone(),
            ),
            ("dim".to_string(), matrix.size()[1].to_string()),
        ]);
        if let Some(w) = source.name_weight {
            meta.insert("name_weight".to_string(), w.to_string());
        }
        if let Some(c) = &source.chosen_on {
            meta.insert(CHOSEN_ON.to_string(), c.clone());
        }
        st::write(
            path,
            &[
                ("item_ids".into(), ids),
                ("embeddings".into(), matrix.to_kind(Kind::Float)),
            ],
            &meta,
        )
    }

    pub fn read(path: &Path) -> Result<Self> {
        let (mut f, file_sha256) = StFile::read_with_sha256(path)?;
        if let Some(p) = f.metadata.get(parts::PART_KEY) {
            return Err(Error::input(
                path,
                None,
                format!("this is part {p} of a sharded `genrec embed`; join the parts with `genrec embed --gather` and use the file it writes"),
            ));
        }
        let matrix = f.take(path, "embeddings")?;
        let ids = f.take(path, "item_ids")?;
        if matrix.dim() != 2 || ids.size() != [matrix.size()[0]] {
            return Err(Error::input(
                path,
                None,
                "expected `embeddings` [N, D] and `item_ids` [N]",
            ));
        }
        let meta = |k: &str| {
            f.metadata
                .get(k)
                .cloned()
                .ok_or_else(|| Error::input(path, None, format!("metadata `{k}` missing")))
        };
        Ok(Self {
            item_ids: Vec::<i64>::try_from(&ids).map_err(Error::Torch)?,
            matrix: matrix.to_kind(Kind::Float),
            source: EmbeddingSource {
                encoder: meta("encoder")?,
                encoder_sha256: meta("encoder_sha256")?,
                item_text_sha256: meta("item_text_sha256")?,
                name_weight: match f.metadata.get("name_weight") {
                    Some(w) => Some(w.parse().map_err(|_| {
                        Error::input(
                            path,
                            None,
                            format!("metadata `name_weight` is `{w}`, not a number"),
                        )
                    })?),
                    None => None,
                },
                chosen_on: f.metadata.get(CHOSEN_ON).cloned(),
            },
            file_sha256,
        })
    }

    /// Metadata only: is the file at `path` built from this source? (the cache check)
    pub fn is_current(path: &Path, source: &EmbeddingSource) -> bool {
        let Ok(bytes) = std::fs::read(path) else {
            return false;
        };
        let Ok((_, meta)) = safetensors::SafeTensors::read_metadata(&bytes) else {
            return false;
        };
        let m = meta.metadata().clone().unwrap_or_default();
        m.get("encoder_sha256") == Some(&source.encoder_sha256)
            && m.get("item_text_sha256") == Some(&source.item_text_sha256)
            && m.get("encoder") == Some(&source.encoder)
            && m.get(CHOSEN_ON) == source.chosen_on.as_ref()
    }
}

/// Reads a user-supplied `[N, D]` matrix (`.npy` f32/f64, or safetensors with a
/// tensor `embeddings` or a single 2-D tensor). Rows follow `items.jsonl` order.
pub fn read_external(path: &Path, n_items: usize) -> Result<Tensor> {
    let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("");
    let m = match ext {
        "npy" => npy::read_f32_matrix(path)?,
        "safetensors" => {
            let mut f = StFile::read(path)?;
            if f.tensors.contains_key("embeddings") {
                f.take(path, "embeddings")?
            } else {
                let two_d: Vec<String> = f
                    .tensors
                    .iter()
                    .filter(|(_, t)| t.dim() == 2)
                    .map(|(k, _)| k.clone())
                    .collect();
                match two_d.as_slice() {
                    [one] => f.take(path, one)?,
                    _ => return Err(Error::input(path, None, format!("expected a tensor named `embeddings` or exactly one 2-D tensor, found {two_d:?}"))),
                }
            }
        }
        _ => {
            return Err(Error::input(
                path,
                None,
                "unknown embedding file type (expected .npy or .safetensors)",
            ))
        }
    };
    let m = m.to_kind(Kind::Float);
    if m.dim() != 2 || m.size()[0] != n_items as i64 {
        return Err(Error::input(path, None, format!("embedding matrix has shape {:?}, expected [{n_items}, D] (one row per item of items.jsonl, in order)", m.size())));
    }
    if m.isfinite().all().int64_value(&[]) == 0 {
        return Err(Error::input(
            path,
            None,
            "embedding matrix contains NaN or infinite values",
        ));
    }
    Ok(m)
}

/// The item text embeddings a generator that reads item text uses: the
/// dataset's `embeddings.safetensors` `[N, D]`, which must be the file the
/// index was built from (`index_embeddings_sha256`), so that a model reads
/// the text its semantic IDs came from.
pub fn item_text_table(dataset_dir: &Path, index_embeddings_sha256: &str) -> Result<Tensor> {
    let path = default_output(dataset_dir);
    let e = Embeddings::read(&path)?;
    if e.file_sha256 != index_embeddings_sha256 {
        return Err(Error::input(
            &path,
            None,
            format!(
                "the generator reads item text from this file, but the index was built from other embeddings ({}…, this file {}…); rebuild the index from it (`genrec index`), or train with `--set data.item_text=false` (an index built from --embeddings elsewhere)",
                &index_embeddings_sha256[..12.min(index_embeddings_sha256.len())],
                &e.file_sha256[..12]
            ),
        ));
    }
    Ok(e.matrix)
}

/// `normalise(weight · names + (1 − weight) · texts)` row by row: the
/// items' text embeddings with their names' mixed in (`eval::name_mix`
/// chooses the weight; `embed` and `index --add` apply it).
pub fn mix_names(texts: &Tensor, names: &Tensor, weight: f64) -> Tensor {
    l2_normalize(&(names * weight + texts * (1.0 - weight)))
}

pub fn default_output(dataset_dir: &Path) -> PathBuf {
    dataset_dir.join("embeddings.safetensors")
}
