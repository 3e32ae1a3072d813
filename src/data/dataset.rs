//! The canonical dataset directory that `genrec prepare` writes and every later
//! stage reads:
//!
//! | file | one line per | fields |
//! | --- | --- | --- |
//! | `items.jsonl` | item | `id` (internal, 0-based), `original_id`, `text` |
//! | `sequences.jsonl` | user | `user`, `items` (internal ids, time order), `timestamps` |
//! | `train.jsonl` | user | `user`, `items` (all but the last two) |
//! | `valid.jsonl`, `test.jsonl` | user | `user`, `history` (≤ max_history items before the target), `target` |
//! | `context.jsonl` | user with 1–2 interactions | as `sequences.jsonl`: trained on and counted, never held out |
//! | `dataset.json` | — | sources with hashes, options, stats, content hash |
use crate::error::{Error, IoContext, Result};
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

pub const FORMAT_VERSION: u32 = 1;

/// The context users' file (absent in datasets prepared before it existed).
pub const CONTEXT_FILE: &str = "context.jsonl";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Item {
    pub id: u32,
    pub original_id: String,
    pub text: String,
    /// The item's name alone (its `title`, `name`, …), where the default
    /// text joins more fields than that: `embed` may mix its embedding into
    /// the whole text's (`eval::name_mix`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct UserSequence {
    pub user: String,
    pub items: Vec<u32>,
    pub timestamps: Vec<f64>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct TrainSequence {
    pub user: String,
    pub items: Vec<u32>,
}

/// One held-out example: the history before the target, capped at `max_history`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct HeldOut {
    pub user: String,
    pub history: Vec<u32>,
    pub target: u32,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Split {
    Valid,
    Test,
}

impl Split {
    /// `"valid"` or `"test"`, as the split is written in files and on the
    /// command line.
    pub fn name(self) -> &'static str {
        match self {
            Split::Valid => "valid",
            Split::Test => "test",
        }
    }

    pub fn file_name(self) -> &'static str {
        match self {
            Split::Valid => "valid.jsonl",
            Split::Test => "test.jsonl",
        }
    }
}

/// Which of a dataset's interactions a ranking may count (item popularity,
/// transitions): everything before the held-out targets of a split (the
/// validation targets come after the training sequences, the test targets
/// after the validation ones), or all of them, for histories from outside
/// the dataset (`recommend --input`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Known {
    Before(Split),
    All,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SeqLenStats {
    pub min: usize,
    pub median: f64,
    pub mean: f64,
    pub max: usize,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Stats {
    pub users: usize,
    pub items: usize,
    pub interactions: usize,
    pub sequence_length: SeqLenStats,
    /// Users dropped because fewer than 3 interactions were left (too short
    /// for the split; only with `--drop-short-users`, else they are context users).
    pub dropped_short_users: usize,
    /// Users with 1–2 interactions kept for training and counts, not held out
    /// (not in `users`, `interactions` or `sequence_length`).
    #[serde(default)]
    pub context_users: usize,
    /// Their interactions.
    #[serde(default)]
    pub context_interactions: usize,
    /// Interactions removed by the rating threshold.
    pub dropped_by_rating: usize,
    /// Interactions removed by k-core filtering.
    pub dropped_by_k_core: usize,
    /// Sequence items that were absent from the item file (kept with a fallback text).
    pub missing_items: usize,
    /// Catalogue items no kept sequence uses (kept: they get semantic IDs and can be recommended).
    #[serde(default)]
    pub unused_items: usize,
    /// What made the item texts (the template, or the joined fields in order).
    #[serde(default)]
    pub text: String,
}

impl std::fmt::Display for Stats {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let s = &self.sequence_length;
        writeln!(f, "users          {}", self.users)?;
        writeln!(f, "items          {}", self.items)?;
        if self.unused_items > 0 {
            writeln!(
                f,
                "               {} of them without interactions (kept: they get semantic IDs; --drop-unused-items drops them)",
                self.unused_items
            )?;
        }
        writeln!(f, "item text      {}", self.text)?;
        writeln!(f, "interactions   {}", self.interactions)?;
        if self.context_users > 0 {
            writeln!(
                f,
                "context        {} users with 1–2 interactions ({} interactions): trained on and counted, not held out (--drop-short-users drops them)",
                self.context_users, self.context_interactions
            )?;
        }
        writeln!(
            f,
            "sequence length  min {}  median {}  mean {:.2}  max {}",
            s.min, s.median, s.mean, s.max
        )?;
        write!(
            f,
            "dropped        {} users with < 3 interactions, {} interactions below the rating threshold, {} by k-core",
            self.dropped_short_users, self.dropped_by_rating, self.dropped_by_k_core
        )?;
        if self.missing_items > 0 {
            write!(
                f,
                "\nmissing items  {} (kept with fallback text)",
                self.missing_items
            )?;
        }
        Ok(())
    }
}

/// `dataset.json`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Manifest {
    pub format_version: u32,
    pub sources: Vec<SourceFile>,
    pub options: serde_json::Value,
    pub stats: Stats,
    pub max_history: usize,
    /// SHA-256 over the item texts and the sequences: what later artifacts record.
    pub content_sha256: String,
    /// SHA-256 over the item texts alone (what embeddings depend on).
    pub item_text_sha256: String,
    /// Which fields the interactions were read from, where the format
    /// lets them vary (JSONL: e.g. "user `customer`, item `sku`, time
    /// `ts`"); absent for RecBole and P5 input.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fields_read: Option<String>,
    /// How the item texts were made from the item file's rows, so that
    /// items added later get theirs alike; absent where prepared before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text_recipe: Option<super::template::TextRecipe>,
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SourceFile {
    pub path: String,
    pub sha256: String,
}

/// A loaded canonical dataset.
#[derive(Debug, Clone)]
pub struct Dataset {
    pub dir: PathBuf,
    pub manifest: Manifest,
    pub items: Vec<Item>,
    /// The held-out users' training sequences, in the splits' order, then
    /// the context users' whole sequences ([`Dataset::context`]).
    pub train: Vec<TrainSequence>,
    pub valid: Vec<HeldOut>,
    pub test: Vec<HeldOut>,
}

pub fn read_jsonl<T: for<'de> Deserialize<'de>>(path: &Path) -> Result<Vec<T>> {
    let text = std::fs::read_to_string(path).at(path)?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l)
                .map_err(|e| Error::input(path, Some(i + 1), format!("malformed line: {e}")))
        })
        .collect()
}

impl Dataset {
    pub fn load(dir: &Path) -> Result<Self> {
        let mpath = dir.join("dataset.json");
        if !mpath.exists() {
            return Err(Error::input(
                dir,
                None,
                "not a prepared dataset (no dataset.json); run `genrec prepare` first",
            ));
        }
        let manifest: Manifest = serde_json::from_slice(&std::fs::read(&mpath).at(&mpath)?)
            .map_err(|e| Error::input(&mpath, None, format!("malformed: {e}")))?;
        if manifest.format_version != FORMAT_VERSION {
            return Err(Error::Mismatch(format!(
                "{} has format version {}, this genrec reads {}; re-run `genrec prepare`",
                mpath.display(),
                manifest.format_version,
                FORMAT_VERSION
            )));
        }
        let items: Vec<Item> = read_jsonl(&dir.join("items.jsonl"))?;
        for (i, it) in items.iter().enumerate() {
            if it.id as usize != i {
                return Err(Error::input(
                    dir.join("items.jsonl"),
                    Some(i + 1),
                    "item ids must be 0..N-1 in order",
                ));
            }
        }
        let n = items.len() as u32;
        let mut train: Vec<TrainSequence> = read_jsonl(&dir.join("train.jsonl"))?;
        let context_path = dir.join(CONTEXT_FILE);
        let context: Vec<UserSequence> = if context_path.exists() {
            read_jsonl(&context_path)?
        } else {
            Vec::new()
        };
        let valid: Vec<HeldOut> = read_jsonl(&dir.join("valid.jsonl"))?;
        let test: Vec<HeldOut> = read_jsonl(&dir.join("test.jsonl"))?;
        let bad = train
            .iter()
            .flat_map(|t| t.items.iter())
            .chain(context.iter().flat_map(|c| c.items.iter()))
            .chain(
                valid
                    .iter()
                    .chain(test.iter())
                    .flat_map(|h| h.history.iter().chain(std::iter::once(&h.target))),
            );
        if let Some(b) = bad.into_iter().find(|&&i| i >= n) {
            return Err(Error::input(
                dir,
                None,
                format!("item id {b} out of range (the dataset has {n} items)"),
            ));
        }
        // The splits are one user per line in the same order (`known` and
        // `seen_before` pair them by position).
        let name = |u: Option<&str>| u.map_or("no user".to_string(), |u| format!("user `{u}`"));
        for (split, held) in [(Split::Valid, &valid), (Split::Test, &test)] {
            let off = held.iter().zip(&train).position(|(h, t)| h.user != t.user);
            let off = off.or((held.len() != train.len()).then(|| held.len().min(train.len())));
            if let Some(i) = off {
                return Err(Error::input(
                    dir.join(split.file_name()),
                    Some(i + 1),
                    format!(
                        "{} where train.jsonl has {} (the splits list the same users in the same order); run `genrec prepare` again",
                        name(held.get(i).map(|h| h.user.as_str())),
                        name(train.get(i).map(|t| t.user.as_str()))
                    ),
                ));
            }
        }
        // The context users train and count after the held-out users.
        train.extend(context.into_iter().map(|c| TrainSequence {
            user: c.user,
            items: c.items,
        }));
        Ok(Self {
            dir: dir.to_path_buf(),
            manifest,
            items,
            train,
            valid,
            test,
        })
    }

    /// Refuses a model that reads more history than the held-out files keep
    /// (`prepare --max-history`): it would be evaluated on cut histories.
    pub fn check_history(&self, model_history: usize) -> Result<()> {
        if model_history > self.manifest.max_history {
            let msg = format!(
                "held-out histories were prepared with --max-history {}, but the model reads {model_history} items; run `genrec prepare` again with --max-history {model_history} or more",
                self.manifest.max_history
            );
            return Err(Error::input(self.dir.join("dataset.json"), None, msg));
        }
        Ok(())
    }

    /// The context users' sequences (`train` past the held-out users).
    pub fn context(&self) -> &[TrainSequence] {
        &self.train[self.valid.len()..]
    }

    pub fn held_out(&self, split: Split) -> &[HeldOut] {
        match split {
            Split::Valid => &self.valid,
            Split::Test => &self.test,
        }
    }

    /// Each user's interactions that `known` allows, in time order: the
    /// training sequence, then (before the test targets, and for `All`) the
    /// validation target, then (for `All`) the test target; the held-out
    /// users first, in the splits' order, then the context users whole.
    pub fn known(&self, known: Known) -> Vec<TrainSequence> {
        let later = match known {
            Known::Before(Split::Valid) => 0,
            Known::Before(Split::Test) => 1,
            Known::All => 2,
        };
        self.train
            .iter()
            .zip(self.valid.iter().zip(&self.test))
            .map(|(t, (v, s))| TrainSequence {
                user: t.user.clone(),
                items: t
                    .items
                    .iter()
                    .copied()
                    .chain([v.target, s.target].into_iter().take(later))
                    .collect(),
            })
            .chain(self.context().iter().cloned())
            .collect()
    }

    pub fn texts(&self) -> Vec<&str> {
        self.items.iter().map(|i| i.text.as_str()).collect()
    }
}

/// The items that have a name apart from their text: (row, name).
pub fn named(items: &[Item]) -> Vec<(usize, &str)> {
    items
        .iter()
        .enumerate()
        .filter_map(|(i, it)| Some((i, it.name.as_deref()?)))
        .collect()
}
