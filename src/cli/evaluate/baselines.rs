//! The baselines `evaluate` can rank beside genrec, each the method a user
//! would otherwise run: most-popular, text-kNN (Hou et al. 2022's text-based
//! sequential recommenders in their simplest form) by sentence embedding or
//! by the IDF-weighted words of the texts (the vector space model, Salton et
//! al. 1975), item transitions (FPMC's Markov chain, Rendle et al. 2010) and
//! SASRec (Kang & McAuley 2018, as RecBole trains it).
use super::Bar;
use genrec::baseline::sasrec::{SasRecParams, Trained as SasRec};
use genrec::data::dataset::TrainSequence;
use genrec::data::{Dataset, HeldOut};
use genrec::eval::{self, lexical::Lexical, Protocol, TextNeighbours};
use std::collections::HashSet;
use std::path::Path;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Baseline {
    Pop,
    Knn,
    KnnRecent,
    /// The items whose words are nearest the last item's (IDF cosine).
    Words,
    /// The items that most often followed the user's last three in training.
    Next,
    Sasrec,
}

impl Baseline {
    /// Whether a user would run it instead of genrec (the row of
    /// `recommend`'s default gets its paired difference to each).
    pub fn is_rival(self) -> bool {
        matches!(self, Self::Knn | Self::Words | Self::Next | Self::Sasrec)
    }
}

/// What the baselines rank for: the held-out users, what each has seen, the
/// protocol, and what is known before their targets (`counts`: each item's).
pub(super) struct Inputs<'a> {
    pub held: &'a [HeldOut],
    pub seen: &'a [HashSet<u32>],
    pub protocol: &'a Protocol,
    pub known: &'a [TrainSequence],
    pub counts: &'a [f64],
    pub ds: (&'a Dataset, &'a Path),
    pub device: tch::Device,
    /// The items' words when the verifier's blend read them already.
    pub words: Option<&'a Lexical>,
}

/// A baseline's row: its name, each user's top 10 and its ranking time (s).
pub(super) type Row = (String, Vec<Vec<u32>>, f64);

/// Reads the dataset's sentence neighbours into `text` unless read before.
pub(super) fn read_text(text: &mut Option<TextNeighbours>, ds_dir: &Path) -> genrec::Result<()> {
    if text.is_none() {
        *text = Some(TextNeighbours::read(ds_dir)?);
    }
    Ok(())
}

/// Baseline `b`'s top 10 for each held-out user, with its row's name and
/// its ranking time; `None` (said why) where it cannot run here. `text`:
/// the dataset's sentence neighbours, read on first use and kept for the
/// rows after.
pub(super) fn rank(
    b: Baseline,
    x: &Inputs,
    text: &mut Option<TextNeighbours>,
) -> anyhow::Result<Option<Row>> {
    let (ds, ds_dir) = x.ds;
    let t = Instant::now();
    let (name, lists) = match b {
        Baseline::Pop => (
            "most-popular".to_string(),
            eval::most_popular(x.counts, x.held, x.seen, x.protocol, 10),
        ),
        Baseline::Knn | Baseline::KnnRecent => {
            if let Err(e) = read_text(text, ds_dir) {
                genrec::tell!("text-kNN baselines skipped: {e:#}");
                return Ok(None);
            }
            let nn = text.as_mut().expect("just read");
            let q = match b {
                Baseline::Knn => eval::TextQuery::LAST,
                _ => eval::TextQuery::RECENT,
            };
            let t = Instant::now();
            let l = eval::text_knn(nn, x.held, x.seen, x.protocol, q, 10)?;
            return Ok(Some((q.name(), l, t.elapsed().as_secs_f64())));
        }
        Baseline::Words => {
            let built = x.words.is_none().then(|| Lexical::new(&ds.texts()));
            let words = x.words.or(built.as_ref()).expect("read or built");
            let l = words.knn(x.held, x.seen, x.protocol, 10);
            (eval::lexical::WORDS_KNN_NAME.to_string(), l)
        }
        Baseline::Next => (
            eval::TRANSITIONS_NAME.into(),
            eval::transition_baseline((x.known, ds.items.len()), x.held, x.seen, x.protocol, 10),
        ),
        Baseline::Sasrec => {
            // RecBole's SASRec: item IDs alone (no text).
            let p = SasRecParams::for_dataset(ds);
            let sr = SasRec::load_or_train(ds_dir, ds, &p, None, x.device, &Bar::new())?;
            let t = Instant::now();
            let banned = x.protocol.exclude_seen.then_some(x.seen);
            let l = sr.recommend(x.held, 10, banned);
            let name = format!(
                "SASRec (RecBole's recipe, epoch {} of {})",
                sr.meta.best_epoch, sr.meta.epochs
            );
            // SASRec's training time is in its cache record.
            return Ok(Some((name, l, t.elapsed().as_secs_f64())));
        }
    };
    Ok(Some((name, lists, t.elapsed().as_secs_f64())))
}
