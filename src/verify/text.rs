//! The text-reading verifier: TALLRec's yes/no question (Bao et al. 2023)
//! asked of a language model that reads the items' raw text — a BERT
//! cross-encoder (monoBERT, Nogueira & Cho 2019) started from
//! all-MiniLM-L6-v2. It reads the candidate's text together with the user's
//! recent items' text, information the ID-reading generator does not have.
//! To fit a CPU, the embeddings and the lower `frozen` layers read each
//! item's text once, on its own, and are cached (PreTTR, MacAvaney et al.
//! 2020); the upper layers read a pair's texts together — the candidate's
//! `[CLS] text [SEP]` first, marked by a learned vector, then the history's
//! `text [SEP]`, most recent first, cut at the token budget — and a yes/no
//! head reads the mean of the candidate's tokens (the last layer computes
//! only those, attending to all). Positions count within each
//! text. Saved as the BERT's own `config.json` + `model.safetensors`
//! (loadable by transformers), `head.safetensors` (head and mark) and the
//! `tokenizer.json` it read with.

use super::Judge;
use crate::decode::Hit;
use crate::embed::bert::Bert;
use crate::embed::{load_tokenizer, tokenize_with, TokenIds};
use crate::error::{Error, IoContext, Result};
use crate::util::st::{self, StFile};
use std::collections::BTreeMap;
use std::path::Path;
use tch::nn::{self, Module};
use tch::{Device, Kind, Tensor};

/// Tokens of one item's text at most (with `[CLS]`/`[SEP]`).
pub const TEXT_TOKENS: usize = 32;
/// The var-store prefix of what genrec adds to the BERT.
const ADDED: &str = "genrec_verifier";

pub use crate::config::{ReaderShape, TextHead};

/// A BERT with a yes/no head over (history texts, candidate text) pairs.
pub struct TextReader {
    pub bert: Bert,
    /// The BERT's variables and the head's (under `genrec_verifier`).
    pub vs: nn::VarStore,
    head: nn::Linear,
    mark: Tensor,
    pub shape: ReaderShape,
    config_json: Vec<u8>,
}

/// Each item's text after the embeddings and the frozen layers: `[len, H]`.
pub struct ItemStates(Vec<Tensor>);

impl TextReader {
    /// The BERT of `dir` (`config.json`, `model.safetensors`, and
    /// `head.safetensors` when it is a trained reader; a fresh head answers
    /// 50/50 otherwise).
    pub fn load(dir: &Path, shape: ReaderShape, device: Device) -> Result<Self> {
        let (bert, vs, _) = Bert::load(dir, device)?;
        let layers = bert.config.num_hidden_layers as usize;
        if shape.frozen >= layers {
            return Err(Error::Config(format!(
                "verify.text_frozen_layers = {} leaves nothing to fine-tune: {} has {layers} layers",
                shape.frozen,
                dir.display()
            )));
        }
        let h = bert.config.hidden_size;
        let root = vs.root() / ADDED;
        let zero = nn::LinearConfig {
            ws_init: nn::Init::Const(0.0),
            bs_init: Some(nn::Init::Const(0.0)),
            bias: true,
        };
        let width = match shape.head {
            TextHead::Candidate => h,
            TextHead::Compare => 4 * h,
        };
        let head = nn::linear(&root / "head", width, 2, zero);
        let mark = root.zeros("mark", &[h]);
        let config_path = dir.join("config.json");
        let config_json = std::fs::read(&config_path).at(&config_path)?;
        let reader = Self {
            bert,
            vs,
            head,
            mark,
            shape,
            config_json,
        };
        let head_path = dir.join("head.safetensors");
        if head_path.exists() {
            let mut f = StFile::read(&head_path)?;
            let _g = tch::no_grad_guard();
            for (name, mut v) in reader.added() {
                let src = f.take(&head_path, &name)?;
                if src.size() != v.size() {
                    return Err(Error::input(
                        &head_path,
                        None,
                        format!("`{name}`: shape {:?}, expected {:?}", src.size(), v.size()),
                    ));
                }
                v.copy_(&src);
            }
        }
        Ok(reader)
    }

    /// The variables genrec adds to the BERT (head and mark), by name.
    fn added(&self) -> Vec<(String, Tensor)> {
        let mut v: Vec<(String, Tensor)> = self
            .vs
            .variables()
            .into_iter()
            .filter(|(n, _)| n.starts_with(ADDED))
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v
    }

    /// Writes `config.json`, `model.safetensors` (the BERT's tensors under
    /// their Hugging Face names) and `head.safetensors` into `dir`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        let config = dir.join("config.json");
        std::fs::write(&config, &self.config_json).at(&config)?;
        let mut bert: Vec<(String, Tensor)> = self
            .vs
            .variables()
            .into_iter()
            .filter(|(n, _)| !n.starts_with(ADDED))
            .collect();
        bert.sort_by(|a, b| a.0.cmp(&b.0));
        let meta = BTreeMap::from([("format".to_string(), "pt".to_string())]);
        st::write(&dir.join("model.safetensors"), &bert, &meta)?;
        st::write(&dir.join("head.safetensors"), &self.added(), &meta)
    }

    /// Reads each item's text (token ids) through the embeddings and the
    /// frozen layers, once.
    pub fn read_items(&self, tokens: &[TokenIds]) -> ItemStates {
        let _g = tch::no_grad_guard();
        let dev = self.bert.device;
        let mut out: Vec<Option<Tensor>> = (0..tokens.len()).map(|_| None).collect();
        let mut order: Vec<usize> = (0..tokens.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(tokens[i].len()));
        for chunk in order.chunks(64) {
            let batch: Vec<&TokenIds> = chunk.iter().map(|&i| &tokens[i]).collect();
            let (ids, mask) = crate::embed::pad_batch(&batch, dev);
            let x = self
                .bert
                .layers_from(&self.bert.embed(&ids), &mask, 0..self.shape.frozen);
            for (row, &i) in chunk.iter().enumerate() {
                let n = tokens[i].len() as i64;
                out[i] = Some(x.get(row as i64).narrow(0, 0, n).copy());
            }
        }
        ItemStates(
            out.into_iter()
                .map(|t| t.expect("every item read"))
                .collect(),
        )
    }

    /// One pair's token states before the fine-tuned layers `[T, H]` and
    /// how many of them are the candidate's.
    fn pair_states(&self, items: &ItemStates, history: &[u32], candidate: u32) -> (Tensor, i64) {
        let budget = self.shape.budget as i64;
        let c = &items.0[candidate as usize];
        let c_len = c.size()[0].min(budget);
        let mut parts = vec![c.narrow(0, 0, c_len) + &self.mark];
        let mut left = budget - c_len;
        for &i in history.iter().rev() {
            if left <= 0 {
                break;
            }
            let s = &items.0[i as usize];
            // Without its [CLS]: "text [SEP]".
            let take = (s.size()[0] - 1).min(left);
            parts.push(s.narrow(0, 1, take));
            left -= take;
        }
        (Tensor::cat(&parts, 0), c_len)
    }

    /// Yes/no logits `[B, 2]` of (history, candidate) pairs, with gradients
    /// into the fine-tuned layers, the head and the mark.
    pub fn yes_no(&self, items: &ItemStates, pairs: &[(&[u32], u32)]) -> Tensor {
        self.head.forward(&self.pooled(items, pairs))
    }

    /// What the head reads, `[B, H]` or `[B, 4H]` (see [`TextHead`]): the
    /// mean of each pair's candidate tokens after the fine-tuned layers (and
    /// with `Compare`, the mean of its history tokens entering the last layer,
    /// their product and absolute difference).
    pub fn pooled(&self, items: &ItemStates, pairs: &[(&[u32], u32)]) -> Tensor {
        let dev = self.bert.device;
        let (rows, c_lens): (Vec<Tensor>, Vec<i64>) = pairs
            .iter()
            .map(|&(h, c)| self.pair_states(items, h, c))
            .unzip();
        let lens: Vec<i64> = rows.iter().map(|r| r.size()[0]).collect();
        let x = Tensor::pad_sequence(&rows, true, 0.0, "right");
        let t = x.size()[1];
        let at = Tensor::arange(t, (Kind::Int64, dev)).unsqueeze(0);
        let lens = Tensor::from_slice(&lens).to(dev).unsqueeze(1);
        let c_len = Tensor::from_slice(&c_lens).to(dev).unsqueeze(1);
        let mask = at.lt_tensor(&lens).to_kind(Kind::Int64);
        // Only the candidate's tokens are pooled: the last layer computes
        // them alone (attending to every token), the layers below all tokens.
        let layers = self.bert.config.num_hidden_layers as usize;
        let below = self
            .bert
            .layers_from(&x, &mask, self.shape.frozen..layers - 1);
        let n = c_lens.iter().copied().max().unwrap_or(1);
        let y = self.bert.last_layer_prefix(&below, &mask, n);
        let cand = at.narrow(1, 0, n).lt_tensor(&c_len);
        let c = masked_mean(&y, &cand);
        match self.shape.head {
            TextHead::Candidate => c,
            TextHead::Compare => {
                let hist = at.ge_tensor(&c_len).logical_and(&at.lt_tensor(&lens));
                let h = masked_mean(&below, &hist);
                Tensor::cat(&[&c, &h, &(&c * &h), &(&c - &h).abs()], 1)
            }
        }
    }

    /// log P(yes) of each pair, `batch` pairs at a time.
    pub fn log_p_yes(&self, items: &ItemStates, pairs: &[(&[u32], u32)], batch: usize) -> Vec<f32> {
        let _g = tch::no_grad_guard();
        let mut out = Vec::with_capacity(pairs.len());
        for chunk in pairs.chunks(batch.max(1)) {
            let lp = self
                .yes_no(items, chunk)
                .log_softmax(-1, Kind::Float)
                .select(1, 0)
                .to_device(Device::Cpu);
            out.extend(Vec::<f32>::try_from(lp).expect("f32"));
        }
        out
    }
}

/// Mean over the positions where `which` `[B, T]` holds: `[B, T, H]` → `[B, H]`
/// (zeros for a row with none).
fn masked_mean(x: &Tensor, which: &Tensor) -> Tensor {
    let w = which.to_kind(Kind::Float).unsqueeze(-1);
    (x * &w).sum_dim_intlist(1, false, Kind::Float)
        / w.sum_dim_intlist(1, false, Kind::Float).clamp_min(1.0)
}

/// A text reader with its catalogue's texts read: what reranks.
pub struct TextVerifier {
    pub reader: TextReader,
    pub items: ItemStates,
}

impl TextVerifier {
    /// A trained reader from its checkpoint directory (with the
    /// `tokenizer.json` saved beside it), reading `texts` (the items' text,
    /// by item id).
    pub fn open(dir: &Path, shape: ReaderShape, texts: &[&str], device: Device) -> Result<Self> {
        Ok(Self::new(dir, &dir.join("tokenizer.json"), shape, texts, device)?.0)
    }

    /// The reader of `model_dir` (see [`TextReader::load`]) with `texts`
    /// tokenized by `tokenizer_json` and read through its frozen layers;
    /// also how many texts were cut at [`TEXT_TOKENS`].
    pub fn new(
        model_dir: &Path,
        tokenizer_json: &Path,
        shape: ReaderShape,
        texts: &[&str],
        device: Device,
    ) -> Result<(Self, usize)> {
        let reader = TextReader::load(model_dir, shape, device)?;
        let tok = load_tokenizer(tokenizer_json, TEXT_TOKENS)?;
        let (tokens, cut) = tokenize_with(&tok, texts)?;
        let items = reader.read_items(&tokens);
        Ok((Self { reader, items }, cut))
    }
}

impl Judge for TextVerifier {
    fn log_p_yes_lists(&self, users: &[(&str, &[u32])], hits: &[Vec<Hit>]) -> Vec<Vec<f32>> {
        let pairs: Vec<(&[u32], u32)> = users
            .iter()
            .zip(hits)
            .flat_map(|(&(_, history), hs)| hs.iter().map(move |x| (history, x.item)))
            .collect();
        let mut flat = self.reader.log_p_yes(&self.items, &pairs, 256).into_iter();
        hits.iter()
            .map(|hs| flat.by_ref().take(hs.len()).collect())
            .collect()
    }
}
