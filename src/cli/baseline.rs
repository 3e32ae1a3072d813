//! `genrec baseline`: trains (or loads from its cache) a baseline that needs
//! training — SASRec — on a prepared dataset and reports its validation and
//! test figures; `evaluate` then shows it beside the generator.
use super::progress::Bar;
use genrec::baseline::sasrec::{ItemText, SasRecParams, Trained};
use genrec::data::{Dataset, Split};
use genrec::eval::{self, Protocol};
use std::path::PathBuf;

/// Trains SASRec (RecBole's recipe: 2 layers, 2 heads, hidden 64, dropout 0.5,
/// last 50 items, cross-entropy over the full catalogue, Adam 1e-3, early
/// stopping on validation NDCG@10) on the dataset's training split, caches it
/// in <dataset>/baselines/sasrec-<hash>/ and prints its validation and test
/// figures. `evaluate` uses the cached model of the default settings; the
/// options below train variants (each cached under its own hash) for study.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Prepared dataset directory.
    #[arg(long, short)]
    pub dataset: PathBuf,
    /// Epochs at most (training stops earlier after `--patience` epochs
    /// without a better validation NDCG@10).
    #[arg(long)]
    pub max_epochs: Option<usize>,
    #[arg(long)]
    pub patience: Option<usize>,
    /// Targets (predicted positions) per batch (default 2048, RecBole's
    /// train_batch_size).
    #[arg(long)]
    pub batch_targets: Option<usize>,
    /// Targets each training window adds (default: 1, every prefix with its
    /// full context of up to 50 items as RecBole trains, unless an epoch
    /// would then hold over 150,000 windows; then the smallest stride that
    /// fits, each target keeping at least 50 − stride items of context).
    #[arg(long)]
    pub stride: Option<usize>,
    /// Seed of initialisation, dropout and batch order (default 42).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Also write SASRec's top `--top-k` items of every validation and test
    /// user to DIR/sasrec-valid.jsonl and DIR/sasrec-test.jsonl (one line per
    /// user in the split's order, `recommend`'s format: {"user", "items"},
    /// original item ids, best first), to study or combine its lists.
    #[arg(long, value_name = "DIR")]
    pub lists: Option<PathBuf>,
    /// Items per user in `--lists`.
    #[arg(long, default_value_t = 20)]
    pub top_k: usize,
    /// Item vectors that also read the items' text: a learned projection of
    /// the dataset's embeddings (`genrec embed`) added to the ID vectors, as
    /// the sequence verifier trains with `verify.sequence_text = true` (off
    /// by default). Without it, RecBole's SASRec: IDs alone, the rival
    /// `evaluate` shows and the verifier by default.
    #[arg(long)]
    pub text: bool,
    #[command(flatten)]
    pub runtime: super::common::RuntimeArgs,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let device = a.runtime.start()?;
    let ds = Dataset::load(&a.dataset)?;
    genrec::util::log::to_or_warn(&a.dataset.join("baseline.log"));
    let d = SasRecParams::for_dataset(&ds);
    let p = SasRecParams {
        max_epochs: a.max_epochs.unwrap_or(d.max_epochs),
        patience: a.patience.unwrap_or(d.patience),
        batch_targets: a.batch_targets.unwrap_or(d.batch_targets),
        stride: a.stride.unwrap_or(d.stride),
        seed: a.seed.unwrap_or(d.seed),
        ..d
    };
    let nn = match a.text {
        true => Some(eval::TextNeighbours::read(&a.dataset)?),
        false => None,
    };
    let text = nn.as_ref().map(ItemText::of);
    let t = Trained::load_or_train(&a.dataset, &ds, &p, text, device, &Bar::new())?;
    genrec::say!(
        "SASRec{}: best validation NDCG@10 {:.4} at epoch {} of {} ({:.0} s of training); cached in {}",
        if a.text { " (item vectors reading text)" } else { "" },
        t.meta.valid_ndcg_at_10,
        t.meta.best_epoch,
        t.meta.epochs,
        t.meta.train_seconds,
        t.dir.display()
    );
    let protocol = Protocol::default();
    let pop = eval::popularity(&ds.train, ds.items.len());
    for split in [Split::Valid, Split::Test] {
        let held = ds.held_out(split);
        let targets: Vec<u32> = held.iter().map(|h| h.target).collect();
        let lists = t.recommend(held, a.top_k.max(10), None);
        if let Some(dir) = &a.lists {
            write_lists(dir, split, &ds, held, &lists)?;
        }
        let lists: Vec<Vec<u32>> = lists
            .into_iter()
            .map(|l| l.into_iter().take(10).collect())
            .collect();
        let r = eval::score_lists("SASRec", &targets, &lists, &pop, &protocol, 0.0);
        let (rc, nd) = (r.metrics["recall@10"], r.metrics["ndcg@10"]);
        genrec::say!(
            "{:5} Recall@10 {:.4} [{:.4}, {:.4}]  NDCG@10 {:.4} [{:.4}, {:.4}]",
            split.name(),
            rc.mean,
            rc.lo,
            rc.hi,
            nd.mean,
            nd.lo,
            nd.hi
        );
    }
    Ok(())
}

/// Writes one split's lists to `dir/sasrec-<split>.jsonl` (staged, then renamed).
fn write_lists(
    dir: &std::path::Path,
    split: Split,
    ds: &Dataset,
    held: &[genrec::data::HeldOut],
    lists: &[Vec<u32>],
) -> anyhow::Result<()> {
    let path = dir.join(format!("sasrec-{}.jsonl", split.name()));
    let mut text = String::new();
    for (h, l) in held.iter().zip(lists) {
        let items: Vec<&str> = l
            .iter()
            .map(|&i| ds.items[i as usize].original_id.as_str())
            .collect();
        text.push_str(&serde_json::json!({"user": h.user, "items": items}).to_string());
        text.push('\n');
    }
    genrec::util::fsx::write_atomic(&path, text.as_bytes())?;
    genrec::tell!("wrote {}", path.display());
    Ok(())
}
