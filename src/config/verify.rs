//! The `[verify]` section: how the TALLRec-style verifier (Bao et al. 2023)
//! gets its training pairs from the generator, what it is trained on (pairs
//! or lists) and how its reranking weight is chosen.
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// The TALLRec-style verifier's training data and reranking set-up.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct VerifyConfig {
    /// The generator checkpoint (or run directory) whose beams give hard negatives.
    pub generator: PathBuf,
    /// A generator trained with `data.hold_out_last = N` on the same data and
    /// semantic IDs: the verifier then trains on the positions it held out,
    /// with its beams as hard negatives — "plausible but wrong" on targets
    /// the miner never saw, as `generator`'s beams are at inference (mined
    /// with `generator` itself on positions it trained on, the negatives are
    /// what it ranks below a memorised target). Unset: `generator` mines
    /// every training position.
    pub miner: Option<PathBuf>,
    /// Train only on positions whose target is among the miner's top
    /// `candidates`: the lists reranking can change (on the others the target
    /// is, by construction, below every beam, and the verifier learns "what
    /// the generator likes is no").
    pub hits_only: bool,
    /// Hard negatives per positive: generator candidates that are not the target.
    pub hard_negatives: usize,
    /// Random negatives per positive.
    pub random_negatives: usize,
    /// Generator candidates mined per training position.
    pub candidates: usize,
    /// Training positions sampled (0: all).
    pub max_positions: usize,
    /// Generator candidates reranked by the verifier.
    pub rerank_top: usize,
    /// λ values tried on the validation split.
    pub lambdas: Vec<f64>,
    /// Start from the weights of the generator that mines the negatives
    /// (`miner` when set, else `generator`; needs the same [model] sizes).
    pub init_from_generator: bool,
    /// How the yes/no answers are trained: `"pairs"` (each pair on its own)
    /// or `"lists"` (each position's target and negatives together).
    pub objective: VerifyObjective,
    /// What the verifier reads: `"ids"` (the T5 verifier over semantic IDs,
    /// with cached text embeddings when `data.item_text`) or `"text"` (a
    /// cross-encoder over the items' raw text, started from a MiniLM/BERT
    /// checkpoint: design 1 of TALLRec's reading of item text) or
    /// `"sequence"` (SASRec as RecBole trains it, on every training position
    /// against every item; P(yes) is its next-item probability; the mining
    /// settings only shape the validation report).
    pub reader: VerifyReader,
    /// The text reader's starting weights: a directory with a Hugging Face
    /// BERT `config.json` and `model.safetensors`.
    pub text_encoder: PathBuf,
    /// The text reader's `tokenizer.json`.
    pub text_tokenizer: PathBuf,
    /// Tokens the text reader reads per (history, candidate) pair: the
    /// candidate's text, then the history's, most recent first, cut here.
    pub text_budget: usize,
    /// Lower BERT layers (after the embeddings) that read each item's text
    /// once, on its own, and stay frozen; the layers above read each pair's
    /// texts together and are fine-tuned with the yes/no head.
    pub text_frozen_layers: usize,
    /// What the text reader's yes/no head reads: `"candidate"` (the mean of
    /// the candidate's tokens after the last layer) or `"compare"` (that,
    /// the mean of the history's tokens entering it, their product and
    /// their absolute difference — SBERT's comparison features, so that
    /// closeness of candidate and history can be read from the start).
    pub text_head: TextHead,
    /// The sequence reader's most SASRec epochs (it stops earlier when
    /// validation NDCG@10 has not improved for 10 epochs, RecBole's rule).
    pub sequence_max_epochs: usize,
    /// Whether the sequence reader's item vectors also read the items' text
    /// embeddings (a learned projection added to the ID vectors, UniSRec's
    /// item representation; `model::sasrec::SasRec::with_text`): items seen
    /// a few times start near the items that read alike. Where the dataset
    /// has no embeddings of the index's, IDs alone (noted). Off by default
    /// (session 30): SASRec alone gained much on sparse samples, the blend
    /// over it nothing on validation, and with IDs alone the verifier is
    /// the harness's SASRec, trained once for both.
    pub sequence_text: bool,
    /// Whether the blend may read the text embeddings adapted to the
    /// training sequences (`eval::adapter`; it does only where they rank
    /// better on the validation users).
    pub text_adapter: bool,
    /// Items each of the blend's sources besides the generator (whose
    /// first `eval::BLEND_BEAMS` beams it reads) gives it per user: the text
    /// neighbours, the verifier's own top items, the transitions and the
    /// user's own items — the pool the fusion and the rescoring rank. The
    /// blend's card keeps it, so inference reads as deep.
    pub blend_depth: usize,
}

/// What the text reader's head reads (`verify.text_head`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum TextHead {
    /// The candidate's tokens' mean `[H]`.
    #[default]
    Candidate,
    /// Candidate and history means, their product and difference `[4H]`.
    Compare,
}

/// How a text reader splits its BERT, how much of a pair it reads and what
/// its head reads: what inference needs of a text verifier's configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReaderShape {
    /// Layers read per item text and frozen.
    pub frozen: usize,
    /// Tokens per (history, candidate) pair.
    pub budget: usize,
    pub head: TextHead,
}

/// What the verifier reads (`verify.reader`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum VerifyReader {
    /// Semantic-ID tokens (T5, optionally with cached text embeddings).
    #[default]
    Ids,
    /// The items' raw text (a BERT cross-encoder).
    Text,
    /// The user's item sequence, read by SASRec trained on every position
    /// against the full catalogue: P(yes) is its next-item probability.
    Sequence,
}

impl VerifyReader {
    /// The name a config writes.
    pub fn name(self) -> &'static str {
        match self {
            Self::Ids => "ids",
            Self::Text => "text",
            Self::Sequence => "sequence",
        }
    }
}

/// The verifier's training objective. Both train the yes/no answer of every
/// (history, candidate) pair with cross-entropy; `Lists` also asks, for each
/// training position, that the target's yes-margin beat those of its own
/// negatives (a softmax over the position's list, as reranking uses the
/// scores), and encodes the history once for the whole list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum VerifyObjective {
    /// Each pair is one example; `optim.batch_size` counts pairs.
    #[default]
    Pairs,
    /// Each training position is one example: the target, `hard_negatives`
    /// and `random_negatives` (short hard lists are filled with random
    /// items); `optim.batch_size` counts positions.
    Lists,
}

impl Default for VerifyConfig {
    fn default() -> Self {
        Self {
            generator: PathBuf::new(),
            miner: None,
            hits_only: false,
            hard_negatives: 2,
            random_negatives: 1,
            candidates: 10,
            max_positions: 30_000,
            rerank_top: 20,
            lambdas: vec![
                0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0, 5.0, 8.0,
            ],
            init_from_generator: true,
            objective: VerifyObjective::Pairs,
            reader: VerifyReader::Ids,
            text_encoder: PathBuf::from(crate::embed::DEFAULT_ENCODER_DIR),
            text_tokenizer: PathBuf::from("tokenizer/all-MiniLM-L6-v2/tokenizer.json"),
            text_budget: 96,
            text_frozen_layers: 5,
            text_head: TextHead::Candidate,
            sequence_max_epochs: 200,
            sequence_text: false,
            text_adapter: true,
            blend_depth: crate::eval::BLEND_DEPTH,
        }
    }
}

impl VerifyConfig {
    /// What a verifier run needs of the section, or what is wrong with it.
    pub fn check(&self) -> Result<(), String> {
        let bad = |m: &str| Err(m.to_string());
        if self.generator.as_os_str().is_empty() {
            return bad("verify.generator (the generator checkpoint) is required for the verifier");
        }
        if self.rerank_top < 10 || self.lambdas.is_empty() {
            return bad("verify.rerank_top must be at least 10 and verify.lambdas non-empty");
        }
        if !(10..=500).contains(&self.blend_depth) {
            return bad("verify.blend_depth (items each of the blend's sources besides the generator gives it) must be between 10 and 500");
        }
        if self.reader == VerifyReader::Text && self.text_budget < 16 {
            return bad("verify.text_budget must be at least 16 tokens");
        }
        if self.reader == VerifyReader::Sequence && self.sequence_max_epochs == 0 {
            return bad("verify.sequence_max_epochs must be at least 1");
        }
        Ok(())
    }

    /// The text reader's shape, when the verifier reads text.
    pub fn text_reader(&self) -> Option<ReaderShape> {
        (self.reader == VerifyReader::Text).then_some(ReaderShape {
            frozen: self.text_frozen_layers,
            budget: self.text_budget,
            head: self.text_head,
        })
    }

    /// Pairs in one training example: 1, or with lists a position's target
    /// and all its negatives.
    pub fn pairs_per_example(&self) -> usize {
        match self.objective {
            VerifyObjective::Pairs => 1,
            VerifyObjective::Lists => 1 + self.hard_negatives + self.random_negatives,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_verifier_section_out_of_range_says_which_setting() {
        let ok = VerifyConfig {
            generator: PathBuf::from("ck/g"),
            ..VerifyConfig::default()
        };
        assert_eq!(ok.check(), Ok(()));
        let e = VerifyConfig::default().check().unwrap_err();
        assert!(e.contains("verify.generator"), "{e}");
        for depth in [9, 501] {
            let e = VerifyConfig {
                blend_depth: depth,
                ..ok.clone()
            }
            .check()
            .unwrap_err();
            assert!(e.contains("verify.blend_depth"), "{e}");
        }
        let e = VerifyConfig {
            reader: VerifyReader::Sequence,
            sequence_max_epochs: 0,
            ..ok.clone()
        }
        .check()
        .unwrap_err();
        assert!(e.contains("sequence_max_epochs"), "{e}");
    }
}
