//! Inference: a trained generator with the dataset and index it answers
//! for (`Recommender`), and a verifier that reranks its candidates
//! (`Reranker`, TALLRec-style: `log p_gen + λ · log P(yes)`). Loading checks
//! that the pieces belong together — the index's semantic IDs are the ones
//! the model was trained on (cold-start additions allowed), the vocabularies
//! agree, the dataset's histories are long enough for the model's prompt —
//! so `evaluate`, `recommend` and the benchmarks share one set of checks.
//! Built on `artifact`, `data`, `semantic_id`, `decode` and `verify`; it
//! needs nothing from training.
use crate::artifact::checkpoint::{self, Loaded, VerifierChoice};
use crate::config::{TaskKind, VerifyReader};
use crate::data::{Dataset, Known};
use crate::decode::generator::{attach_item_text, Generator};
use crate::decode::Hit;
use crate::error::{Error, Result};
use crate::eval::adapter::TextAdapter;
use crate::eval::BlendChoice;
use crate::semantic_id::store::Index;
use crate::semantic_id::Trie;
use crate::verify::sequence::SequenceVerifier;
use crate::verify::text::TextVerifier;
use crate::verify::{rerank_front, Judge, Verifier};

mod blend;
use std::path::{Path, PathBuf};
use tch::Device;

/// A generator checkpoint loaded with its dataset and index.
pub struct Recommender {
    pub ck: Loaded,
    pub ds_dir: PathBuf,
    pub ds: Dataset,
    pub index: Index,
    /// Each item's semantic-ID tokens.
    pub item_tokens: Vec<Vec<u32>>,
}

/// Where a [`Recommender`] comes from: a checkpoint (or run directory), and
/// the dataset and index when not those it was trained on.
#[derive(Debug, Clone)]
pub struct Source {
    pub checkpoint: PathBuf,
    pub dataset: Option<PathBuf>,
    pub index: Option<PathBuf>,
}

impl Recommender {
    /// Loads checkpoint, dataset and index; refuses an index whose semantic
    /// IDs differ from those the checkpoint was trained on.
    pub fn load(src: &Source, device: Device) -> Result<Self> {
        let mut ck = checkpoint::load_task(&src.checkpoint, TaskKind::Generate, device)?;
        let prompt = ck.meta.prompt();
        let ds_dir = src
            .dataset
            .clone()
            .unwrap_or_else(|| ck.meta.dataset_dir().to_path_buf());
        let ds = Dataset::load(&ds_dir)?;
        ds.check_history(prompt.history_len())?;
        let index_dir = src.index.clone().unwrap_or_else(|| ck.meta.index_dir());
        let index = Index::load(&index_dir)?;
        index.check_dataset(&ds)?;
        let trained_on = &ck.meta.semantic_ids_sha256;
        let same_codes = &index.summary.codes_sha256 == trained_on;
        // Cold-start additions change the codes hash but keep the trained items' IDs.
        let extended = index.summary.added_items > 0
            && &index.ids.codes_sha256_of(ds.items.len()) == trained_on;
        if !(same_codes || extended) {
            return Err(Error::Mismatch(format!(
                "checkpoint {} was trained on semantic IDs {} but index {} has {}; use the index it was trained on",
                ck.dir.display(),
                &trained_on[..12.min(trained_on.len())],
                index.dir.display(),
                &index.summary.codes_sha256[..12]
            )));
        }
        if index.vocab != ck.vocab {
            return Err(Error::Mismatch(format!(
                "the vocabulary of index {} differs from checkpoint {}'s",
                index.dir.display(),
                ck.dir.display()
            )));
        }
        attach_item_text(&mut ck.model, &prompt, &ds_dir, &index)?;
        let item_tokens = index.ids.item_tokens(&index.vocab);
        Ok(Recommender {
            ck,
            ds_dir,
            ds,
            index,
            item_tokens,
        })
    }
}

impl Recommender {
    /// The verifier `genrec train -d` linked to this generator's run
    /// ([`checkpoint::linked_verifier`]), when there is one: `Err` when it
    /// was not trained over these very weights (the generator was trained
    /// again since) or is unfinished.
    pub fn linked_verifier(&self) -> Result<Option<PathBuf>> {
        let Some(run) = checkpoint::linked_verifier(&self.ck.dir) else {
            return Ok(None);
        };
        checkpoint::check_built_over(&run, &self.ck.weights_sha256)?;
        Ok(Some(run))
    }
}

impl Recommender {
    /// The generator over `trie` (all items, or those a request allows),
    /// beam search of `width` beams, with the prompt the model was trained on.
    pub fn generator<'a>(&'a self, trie: &'a Trie, width: usize) -> Generator<'a> {
        Generator::beam(
            &self.ck.model,
            &self.ck.vocab,
            &self.item_tokens,
            trie,
            self.ck.meta.prompt(),
            width,
        )
    }
}

/// A loaded verifier with its λ and the number of candidates it reranks,
/// and the five-way blend chosen with it on validation, when that beat the
/// λ-reranking there (`eval::BlendChoice`).
pub struct Reranker {
    pub reader: LoadedVerifier,
    pub lambda: f64,
    pub top: usize,
    pub blend: Option<Blending>,
}

/// The blend chosen with a verifier, and what it reads of the training
/// sequences (counted only when there is a blend to use): the transitions,
/// each item's count (the rescoring's popularity), the text neighbours'
/// popularity bias when it was chosen with one, the map of the text
/// embeddings when it was chosen adapted (`eval::adapter`), and the items'
/// words when a rescoring reads them.
pub struct Blending {
    pub choice: BlendChoice,
    pub transitions: crate::eval::Transitions,
    pub counts: Vec<f64>,
    pub text_bias: Option<Vec<f32>>,
    pub adapter: Option<TextAdapter>,
    pub words: Option<crate::eval::lexical::Lexical>,
}

/// A verifier checkpoint of either reader (`verify.reader`).
pub enum LoadedVerifier {
    /// The T5 verifier over semantic IDs.
    Ids(Box<Loaded>),
    /// The BERT cross-encoder over item text, with the catalogue's texts read.
    Text(Box<TextVerifier>),
    /// SASRec over the user's item sequence.
    Sequence(Box<SequenceVerifier>),
}

/// A verifier that reads items by id (text, sequence) must have been trained
/// on the generator's dataset: the same items under the same ids.
fn same_dataset(meta: &checkpoint::GenrecMeta, rec: &Recommender, dir: &Path) -> Result<()> {
    if meta.dataset_content_sha256 != rec.ds.manifest.content_sha256 {
        return Err(Error::Mismatch(format!(
            "verifier {} was trained on another dataset than {}",
            dir.display(),
            rec.ds_dir.display()
        )));
    }
    Ok(())
}

/// Which verifier reranks, and how (each `None`: what training chose).
#[derive(Debug, Clone)]
pub struct RerankSpec {
    pub verifier: PathBuf,
    pub lambda: Option<f64>,
    pub top: Option<usize>,
    /// Rerank by λ even when a blend was chosen (a given λ implies it).
    pub no_blend: bool,
    /// What the blend's counts (transitions, the text nudge's popularity)
    /// are read from: everything before the targets ranked, or all.
    pub known: Known,
}

impl Reranker {
    /// Loads the verifier of `spec` for `rec`'s generator: same semantic IDs,
    /// its item text attached, λ and depth from `spec` or from what training
    /// chose on validation (`default_top` when neither says).
    pub fn load(
        spec: &RerankSpec,
        rec: &Recommender,
        device: Device,
        default_top: usize,
    ) -> Result<Self> {
        let dir = checkpoint::resolve(&spec.verifier)?;
        let meta = checkpoint::load_meta(&dir)?;
        if meta.task != TaskKind::Verify {
            return Err(Error::Config(format!(
                "{} is a `{}` checkpoint; a `verify` one is needed here",
                dir.display(),
                meta.task.name()
            )));
        }
        if meta.semantic_ids_sha256 != rec.ck.meta.semantic_ids_sha256 {
            return Err(Error::Mismatch(format!(
                "verifier {} was trained on other semantic IDs than the generator",
                dir.display()
            )));
        }
        let kind = meta.verify_reader().unwrap_or_default();
        // `checkpoint::load` checks the T5 reader's weights as it reads them;
        // the text and sequence readers open their files themselves.
        if kind != VerifyReader::Ids {
            checkpoint::check_weights(&dir, &meta, &[])?;
        }
        let reader = match kind {
            VerifyReader::Ids => {
                let mut v = checkpoint::load_task(&dir, TaskKind::Verify, device)?;
                let prompt = v.meta.prompt();
                attach_item_text(&mut v.model, &prompt, &rec.ds_dir, &rec.index)?;
                rec.ds.check_history(prompt.history_len())?;
                LoadedVerifier::Ids(Box::new(v))
            }
            VerifyReader::Text => {
                same_dataset(&meta, rec, &dir)?;
                let shape = meta
                    .text_reader()
                    .expect("a text reader's card has its shape");
                let texts = rec.ds.texts();
                LoadedVerifier::Text(Box::new(TextVerifier::open(&dir, shape, &texts, device)?))
            }
            VerifyReader::Sequence => {
                same_dataset(&meta, rec, &dir)?;
                let n = rec.ds.items.len();
                LoadedVerifier::Sequence(Box::new(SequenceVerifier::open(&dir, n, device)?))
            }
        };
        let chosen = VerifierChoice::from_extra(&meta.extra);
        let blend = BlendChoice::from_extra(&meta.extra)
            .filter(|b| b.used && !spec.no_blend && spec.lambda.is_none());
        let lambda = spec
            .lambda
            .or(chosen.as_ref().map(|c| c.lambda))
            .ok_or_else(|| {
                Error::Config(format!(
                    "verifier {} has no stored λ; pass --lambda",
                    dir.display()
                ))
            })?;
        let top = spec
            .top
            .or(chosen.map(|c| c.rerank_top))
            .unwrap_or(default_top);
        let n = rec.ds.items.len();
        let blend = blend
            .map(|choice| -> Result<Blending> {
                if let Some(r) = &choice.rescorer {
                    r.check().map_err(|e| {
                        Error::Mismatch(format!("{}: {e}; retrain the verifier", dir.display()))
                    })?;
                }
                let known = rec.ds.known(spec.known);
                let counts = crate::eval::popularity(&known, n);
                let adapter = match choice
                    .text_adapter
                    .as_ref()
                    .and_then(|a| a.file_sha256.as_ref())
                {
                    Some(sha) => Some(TextAdapter::load(&dir, sha, &choice.embeddings_sha256)?),
                    None => None,
                };
                let words = choice
                    .rescorer
                    .as_ref()
                    .map(|_| crate::eval::lexical::Lexical::new(&rec.ds.texts()));
                Ok(Blending {
                    words,
                    text_bias: (choice.blend.text_nudge > 0.0)
                        .then(|| crate::eval::popularity_bias(&counts, choice.blend.text_nudge)),
                    adapter,
                    counts,
                    choice,
                    transitions: crate::eval::Transitions::count(n, &known),
                })
            })
            .transpose()?;
        Ok(Reranker {
            reader,
            lambda,
            top,
            blend,
        })
    }

    /// Reranks each user's first `top` candidates (the depth λ was chosen
    /// for) and keeps the rest after them; all (user, candidate) pairs of the
    /// batch go through the verifier together.
    pub fn apply(
        &self,
        item_tokens: &[Vec<u32>],
        users: &[(&str, &[u32])],
        hits: &[Vec<Hit>],
    ) -> Vec<Vec<Hit>> {
        let tops: Vec<Vec<Hit>> = hits
            .iter()
            .map(|hs| hs.iter().take(self.top).copied().collect())
            .collect();
        let yes = match &self.reader {
            LoadedVerifier::Ids(ck) => Verifier {
                model: &ck.model,
                vocab: &ck.vocab,
                item_tokens,
                prompt: ck.meta.prompt(),
            }
            .log_p_yes_lists(users, &tops),
            LoadedVerifier::Text(t) => t.log_p_yes_lists(users, &tops),
            LoadedVerifier::Sequence(q) => q.log_p_yes_lists(users, &tops),
        };
        rerank_front(hits, &yes, self.lambda)
    }
}
