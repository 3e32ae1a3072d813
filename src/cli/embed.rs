//! `genrec embed`: the items' text embeddings (all-MiniLM-L6-v2 in tch,
//! as sentence-transformers computes them, Reimers & Gurevych 2019), or a
//! user's own embeddings imported with `--from`, cached by encoder and
//! item-text hash.
use super::progress::Bar;
use anyhow::Context;
use genrec::data::dataset::{named, Split};
use genrec::data::Dataset;
use genrec::embed::{self, EmbeddingSource, Embeddings, TextEncoder};
use genrec::eval::name_mix::NameMix;
use genrec::runtime::{self, DeviceChoice};
use genrec::util::hash::sha256_file;
use std::path::PathBuf;
use std::time::Instant;
use tch::Tensor;

/// Embeds every item's text with all-MiniLM-L6-v2 (tch port of
/// sentence-transformers: truncation at 256, mean pooling, L2 normalisation).
///
/// Writes <dataset>/embeddings.safetensors (item ids + [N, 384] f32) recording the
/// encoder's sha256 and a hash of the item texts; when both are unchanged, the
/// run does no work. `--from` imports your own embeddings instead (.npy or
/// .safetensors, any dimension, one row per item of items.jsonl in order).
///
/// Where `prepare` kept the items' names apart (the default text of a title
/// and other fields), the names are embedded too and mixed into the texts'
/// embeddings with the weight (0 to 1) whose last-item text neighbours rank
/// the validation targets best, when that beats the whole text alone.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Prepared dataset directory (from `genrec prepare`).
    #[arg(long, short)]
    pub dataset: PathBuf,
    /// Encoder directory with config.json and model.safetensors.
    #[arg(long, default_value = genrec::embed::DEFAULT_ENCODER_DIR)]
    pub encoder: PathBuf,
    /// The encoder's tokenizer.json.
    #[arg(long, default_value = "tokenizer/all-MiniLM-L6-v2/tokenizer.json")]
    pub tokenizer: PathBuf,
    /// Output file (default: <dataset>/embeddings.safetensors).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Texts per forward pass.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    /// CPU threads for libtorch (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
    /// Use your own embeddings (.npy or .safetensors) instead of the encoder.
    #[arg(long)]
    pub from: Option<PathBuf>,
    /// Recompute even if the cached embeddings are current.
    #[arg(long)]
    pub force: bool,
    /// Embed part i of n (0-based), e.g. --shard 2/8, into
    /// `<out stem>.part-2-of-8.safetensors` beside the output; one machine per
    /// part, then `--gather` joins them (README "Scale out").
    #[arg(long, value_parser = super::common::parse_shard, conflicts_with_all = ["from", "gather"])]
    pub shard: Option<genrec::util::part::Part>,
    /// Join the parts written by `--shard i/n` into the output file (checks
    /// that they are complete, disjoint and from this dataset's item texts).
    #[arg(long, conflicts_with = "from")]
    pub gather: bool,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    anyhow::ensure!(a.batch_size > 0, "--batch-size must be at least 1");
    let ds = Dataset::load(&a.dataset)?;
    genrec::util::log::to_or_warn(&a.dataset.join("embed.log"));
    let out = a
        .out
        .clone()
        .unwrap_or_else(|| embed::default_output(&a.dataset));
    let text_hash = ds.manifest.item_text_sha256.clone();
    if let Some(from) = &a.from {
        let m = embed::read_external(from, ds.items.len())?;
        let src = EmbeddingSource {
            encoder: format!(
                "external:{}",
                from.file_name().unwrap_or_default().to_string_lossy()
            ),
            encoder_sha256: sha256_file(from)?,
            item_text_sha256: text_hash,
            name_weight: None,
            chosen_on: None,
        };
        Embeddings::write(&out, &m, &src)?;
        genrec::say!(
            "imported {:?} embeddings from {} into {}",
            m.size(),
            from.display(),
            out.display()
        );
        return Ok(());
    }
    let weights = genrec::embed::installed(&a.encoder).join("model.safetensors");
    let src = EmbeddingSource {
        encoder: a
            .encoder
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned(),
        encoder_sha256: sha256_file(&weights)
            .with_context(|| "encoder weights missing: run scripts/setup.sh".to_string())?,
        item_text_sha256: text_hash,
        name_weight: None,
        chosen_on: (!named(&ds.items).is_empty()).then(|| ds.manifest.content_sha256.clone()),
    };
    runtime::set_threads(a.threads);
    let device = runtime::device(a.device)?;
    if a.gather {
        let (gathered, mut parts_src, n) = embed::parts::gather(&out, ds.items.len())?;
        anyhow::ensure!(
            parts_src.item_text_sha256 == src.item_text_sha256,
            "the parts were embedded from other item texts than {}'s (re-run the shards)",
            a.dataset.display()
        );
        let encoder = || Ok(TextEncoder::load(&a.encoder, &a.tokenizer, device)?);
        let (m, name_weight) = with_names(&ds, encoder, gathered, a.batch_size)?;
        parts_src.name_weight = name_weight;
        parts_src.chosen_on = src.chosen_on.clone();
        Embeddings::write(&out, &m, &parts_src)?;
        genrec::say!(
            "gathered {n} parts ({:?}) into {}; the part files can go",
            m.size(),
            out.display()
        );
        return Ok(());
    }
    if !a.force && a.shard.is_none() && Embeddings::is_current(&out, &src) {
        genrec::say!(
            "{} is up to date (same encoder and item texts, and where the items have names the same sequences that chose their weight); nothing to do",
            out.display()
        );
        return Ok(());
    }
    let enc = TextEncoder::load(&a.encoder, &a.tokenizer, device)?;
    let texts = ds.texts();
    let t0 = Instant::now();
    let part = a.shard.unwrap_or(genrec::util::part::Part::WHOLE);
    let e = enc.encode_part(&texts, a.batch_size, part, &Bar::new())?;
    let secs = t0.elapsed().as_secs_f64();
    if a.shard.is_some() {
        let path = embed::parts::write_part(&out, &e, &src, part)?;
        genrec::say!(
            "embedded part {part} ({} of {} items) on {} in {secs:.1} s → {}",
            e.rows.len(),
            texts.len(),
            runtime::describe(device),
            path.display()
        );
        return Ok(());
    }
    let (m, name_weight) = with_names(&ds, || Ok(enc), e.matrix, a.batch_size)?;
    Embeddings::write(&out, &m, &EmbeddingSource { name_weight, ..src })?;
    genrec::say!(
        "embedded {} items on {} in {:.1} s ({:.1} items/s) → {}",
        texts.len(),
        runtime::describe(device),
        secs,
        texts.len() as f64 / secs,
        out.display()
    );
    genrec::say!(
        "texts: {:.1} tokens on average; {} of {} longer than {} tokens, of which the encoder read only the start{}",
        e.mean_tokens,
        e.truncated,
        texts.len(),
        embed::MAX_SEQ_LEN,
        if e.truncated > 0 {
            " (put what matters first: prepare's default text leads with the title)"
        } else {
            ""
        }
    );
    Ok(())
}

/// The whole texts' embeddings `[N, D]`, with the items' names mixed in
/// where the validation split says so (`eval::name_mix`), and the name's
/// weight (None: no item has a name apart from its text). Names are short:
/// embedding them costs little beside the texts. The encoder is loaded
/// only when there are names to embed.
fn with_names(
    ds: &Dataset,
    encoder: impl FnOnce() -> anyhow::Result<TextEncoder>,
    texts: Tensor,
    batch_size: usize,
) -> anyhow::Result<(Tensor, Option<f32>)> {
    let named = named(&ds.items);
    if named.is_empty() {
        return Ok((texts, None));
    }
    genrec::say!(
        "embedding the names of {} items, to weigh them against their whole texts",
        named.len()
    );
    let names = encoder()?.encode_names(&texts, &named, batch_size, &Bar::new())?;
    let choice = NameMix::choose(&texts, &names, ds.held_out(Split::Valid))?;
    genrec::say!("{}", choice.describe());
    if choice.weight == 0.0 {
        return Ok((texts, Some(0.0)));
    }
    let mixed = embed::mix_names(&texts, &names, choice.weight.into());
    Ok((mixed, Some(choice.weight)))
}
