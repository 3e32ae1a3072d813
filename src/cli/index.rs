//! `genrec index`: semantic IDs by residual k-means over the item
//! embeddings (RQ-KMeans, as in TIGER, Rajput et al. 2023), their health
//! report, and `--add` for new items by nearest centroid (cold start).
use super::progress::Bar;
use anyhow::Context;
use genrec::data::dataset::named;
use genrec::data::source::RawItem;
use genrec::data::template::{item_name, name_field, TextMaker};
use genrec::data::{Dataset, Item};
use genrec::embed::{Embeddings, TextEncoder};
use genrec::progress::Progress;
use genrec::runtime::{self, DeviceChoice};
use genrec::semantic_id::store::{Index, IndexSummary};
use genrec::semantic_id::{self, vocab::DEFAULT_USER_TOKENS, Backend, IndexParams, Scheme};
use std::path::PathBuf;
use std::time::Instant;

/// Builds semantic IDs by residual k-means (RQ-KMeans) over the item embeddings:
/// L levels of K codes plus a collision digit, so every item has a unique ID
/// of L+1 tokens. Prints the index's health (codebook usage and perplexity per
/// level, collision rate, largest collision group, reconstruction error).
///
/// With `--add items.jsonl`, gives new items IDs by nearest centroid at each
/// level (cold start) without re-clustering, and adds them to the index.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Prepared dataset directory.
    #[arg(long, short)]
    pub dataset: PathBuf,
    /// Embeddings (default: <dataset>/embeddings.safetensors).
    #[arg(long)]
    pub embeddings: Option<PathBuf>,
    /// Output directory (default: <dataset>/index, or <dataset>/index-random).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Code levels L (the ID has L codes + 1 collision digit). Default 3.
    #[arg(long)]
    pub levels: Option<usize>,
    /// Codes per level K. Default: 256 for catalogues of ≥ 8,192 items; smaller
    /// ones get the largest power of two ≤ N/32, at least 16 (ML-100K: 32).
    #[arg(long)]
    pub codebook_size: Option<usize>,
    /// k-means implementation. Default faiss: at Beauty's size 150× faster
    /// than linfa at the same iterations (benches/RESULTS.md).
    #[arg(long, value_enum)]
    pub backend: Option<Backend>,
    #[arg(long, value_enum, default_value_t = Scheme::RqKmeans)]
    pub scheme: Scheme,
    /// Seed of k-means (default 42).
    #[arg(long)]
    pub seed: Option<u64>,
    /// k-means iterations per level (at most; default 100).
    #[arg(long)]
    pub max_iter: Option<usize>,
    /// Fit each level on a seeded sample of at most this many items per code,
    /// then assign every item (default 256, Faiss's recipe; 0: fit on all items).
    #[arg(long)]
    pub max_points_per_centroid: Option<usize>,
    /// Items with the same L codes: `reassign` (default) gives items sharing a
    /// prefix distinct last-level codes by minimum-cost assignment; `digit`
    /// keeps their nearest codes and tells them apart by the collision digit only (TIGER);
    /// `balance` also spreads each parent's items evenly over every later level's codes.
    #[arg(long, value_enum)]
    pub collisions: Option<semantic_id::Collisions>,
    /// Append collaborative item vectors (PPMI of co-occurrence in the
    /// training sequences, randomized SVD), times this weight, to the text
    /// embeddings before clustering, so items bought together share ID
    /// prefixes (default 1; 0: text alone).
    #[arg(long)]
    pub collab_weight: Option<f32>,
    /// Width of the collaborative vectors (default 64).
    #[arg(long)]
    pub collab_dim: Option<usize>,
    /// Hashed user tokens in the vocabulary (TIGER: 2,000).
    #[arg(long, default_value_t = DEFAULT_USER_TOKENS)]
    pub user_tokens: u32,
    /// Cold start: add the items of this file to an existing index (--out or the
    /// default), embedding them with --encoder. Its rows are `{"item": id,
    /// "text": …}`, or shaped like the catalogue's item file (JSONL or CSV,
    /// gzipped or not), their texts then made as `prepare` made the catalogue's
    /// (its template, or the same fields in the same order).
    /// Where `embed` mixed the catalogue's names into its texts, a line's
    /// `name` (or `title`) is mixed in the same way.
    #[arg(long)]
    pub add: Option<PathBuf>,
    #[arg(long, default_value = genrec::embed::DEFAULT_ENCODER_DIR)]
    pub encoder: PathBuf,
    #[arg(long, default_value = "tokenizer/all-MiniLM-L6-v2/tokenizer.json")]
    pub tokenizer: PathBuf,
    /// CPU threads (default: one per core).
    #[arg(long)]
    pub threads: Option<usize>,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    runtime::set_threads(a.threads);
    let ds = Dataset::load(&a.dataset)?;
    let out = a.out.clone().unwrap_or_else(|| {
        a.dataset.join(match a.scheme {
            Scheme::RqKmeans => "index",
            Scheme::Random => "index-random",
        })
    });
    if let Some(add) = &a.add {
        return add_items(&a, &ds, &out, add);
    }
    let emb_path = a
        .embeddings
        .clone()
        .unwrap_or_else(|| genrec::embed::default_output(&a.dataset));
    let emb =
        Embeddings::read(&emb_path).with_context(|| "run `genrec embed` first".to_string())?;
    anyhow::ensure!(
        emb.source.item_text_sha256 == ds.manifest.item_text_sha256,
        "{} was computed from other item texts than {} (re-run `genrec embed`)",
        emb_path.display(),
        a.dataset.display()
    );
    let (n, d) = emb.matrix.size2()?;
    let defaults = IndexParams::for_catalogue(n as usize);
    let params = IndexParams {
        levels: a.levels.unwrap_or(defaults.levels),
        codebook_size: a.codebook_size.unwrap_or(defaults.codebook_size),
        backend: a.backend.unwrap_or(defaults.backend),
        scheme: a.scheme,
        seed: a.seed.unwrap_or(defaults.seed),
        max_iter: a.max_iter.unwrap_or(defaults.max_iter),
        max_points_per_centroid: a
            .max_points_per_centroid
            .unwrap_or(defaults.max_points_per_centroid),
        collisions: a.collisions.unwrap_or(defaults.collisions),
        collab_weight: a.collab_weight.unwrap_or(defaults.collab_weight),
        collab_dim: a.collab_dim.unwrap_or(defaults.collab_dim),
        ..defaults
    };
    params.check(n as usize)?;
    let t = Instant::now();
    let seqs: Vec<&[u32]> = ds.train.iter().map(|s| s.items.as_slice()).collect();
    let (x, d) = genrec::semantic_id::collab::index_vectors(
        Vec::try_from(&emb.matrix.flatten(0, -1))?,
        d as usize,
        &seqs,
        &params,
    );
    if params.collab_weight > 0.0 {
        genrec::tell!(
            "collaborative vectors: {} wide, weight {}, from {} training sequences ({:.1} s)",
            params.collab_dim,
            params.collab_weight,
            seqs.len(),
            t.elapsed().as_secs_f64()
        );
    }
    let pb = Bar::new();
    pb.start(
        params.levels as u64,
        &format!(
            "{:?} k-means, {} × {} (levels)",
            params.backend, params.levels, params.codebook_size
        ),
    );
    let t0 = Instant::now();
    let ids = semantic_id::build(&x, n as usize, d, &params, &emb.file_sha256, &mut |_| {
        pb.inc(1)
    })?;
    let secs = t0.elapsed().as_secs_f64();
    pb.finish();
    let health = ids.health(&x);
    let vocab = ids.vocab(a.user_tokens);
    let summary = IndexSummary {
        params: params.clone(),
        health: health.clone(),
        dim: d,
        items: n as usize,
        added_items: 0,
        embeddings_sha256: emb.file_sha256.clone(),
        dataset_content_sha256: ds.manifest.content_sha256.clone(),
        codes_sha256: ids.codes_sha256(),
        build_seconds: secs,
    };
    Index::save(&out, &ids, &vocab, &summary, &[])?;
    genrec::util::log::to_or_warn(&out.join("index.log"));
    genrec::say!("{health}");
    genrec::say!(
        "built in {secs:.2} s; vocabulary {} tokens; wrote {}",
        vocab.size(),
        out.display()
    );
    Ok(())
}

/// A new item's text and name: a `text` field (the form
/// `{"item", "text"}`, where the catalogue's texts read no field of that
/// name; HTML read as text where the catalogue's was), else the row made
/// into text as `prepare` made the catalogue's (`None`: the dataset records
/// no recipe).
fn new_item_text<'r>(
    row: &'r RawItem,
    maker: Option<&TextMaker>,
) -> Option<(String, Option<String>)> {
    let own = row.field("text").map(str::trim).filter(|t| !t.is_empty());
    match own {
        Some(text) if !maker.is_some_and(|m| m.reads("text")) => {
            // The name by prepare's rule (`title`, `name`, a field whose last word is one of them).
            let keys: Vec<String> = row.fields.iter().map(|(k, _)| k.clone()).collect();
            let as_text = |v: &'r str| maker.map_or(v.into(), |m| m.as_text(v));
            let text = maker.map_or(text.into(), |m| m.own_text(&row.id, text));
            let name = name_field(&keys)
                .and_then(|f| item_name(row.field(f).map(as_text).as_deref(), &text));
            Some((text.into_owned(), name))
        }
        _ => maker.map(|m| m.make(row)),
    }
}

fn add_items(
    a: &Args,
    ds: &Dataset,
    out: &std::path::Path,
    add: &std::path::Path,
) -> anyhow::Result<()> {
    let mut index = Index::load(out)?;
    index.check_dataset(ds)?;
    let recipe = ds.manifest.text_recipe.as_ref();
    let id_field = recipe.and_then(|r| r.id_field.as_deref());
    let (rows, fields) = genrec::data::source::read_items(add, id_field)?;
    let maker = recipe.map(|r| r.maker(&fields)).transpose()?;
    let mut known: std::collections::HashSet<String> = ds
        .items
        .iter()
        .chain(&index.added)
        .map(|i| i.original_id.clone())
        .collect();
    let mut new_items = Vec::new();
    for r in &rows {
        let (text, name) = new_item_text(r, maker.as_ref()).ok_or_else(|| {
            anyhow::anyhow!(
                "{}:{}: no text (expected {{\"item\": id, \"text\": \"…\"}}, or a row like the catalogue's item file where its dataset was prepared by this genrec)",
                add.display(),
                r.line
            )
        })?;
        anyhow::ensure!(
            known.insert(r.id.clone()),
            "{}:{}: item {} is already in the catalogue",
            add.display(),
            r.line,
            r.id
        );
        new_items.push(Item {
            id: (ds.items.len() + index.added.len() + new_items.len()) as u32,
            original_id: r.id.clone(),
            text,
            name,
        });
    }
    if let Some(note) = maker.as_ref().and_then(TextMaker::markup_note) {
        genrec::tell!("{}: {note}", add.display());
    }
    let emb_path = a
        .embeddings
        .clone()
        .unwrap_or_else(|| genrec::embed::default_output(&a.dataset));
    let emb = Embeddings::read(&emb_path)?;
    let enc = TextEncoder::load(
        &a.encoder,
        &a.tokenizer,
        runtime::device(DeviceChoice::Cpu)?,
    )?;
    anyhow::ensure!(
        enc.weights_sha256 == emb.source.encoder_sha256,
        "the index was built from embeddings of another encoder ({}); cold-start items must use the same one",
        emb.source.encoder
    );
    let texts: Vec<&str> = new_items.iter().map(|i| i.text.as_str()).collect();
    let mut m = enc.encode(&texts, 64, &genrec::progress::Silent)?;
    if let Some(w) = emb.source.name_weight.filter(|&w| w > 0.0) {
        // The catalogue's embeddings mix each name into its text: so do these.
        let names = enc.encode_names(&m, &named(&new_items), 64, &genrec::progress::Silent)?;
        m = genrec::embed::mix_names(&m, &names, w.into());
    }
    // New items have no interactions: their collaborative part is zero.
    let x = genrec::semantic_id::collab::without_interactions(
        Vec::try_from(&m.flatten(0, -1))?,
        index.summary.text_dim(),
        &index.summary.params,
    );
    let new_ids = index.ids.add_items(&x)?;
    let max_digit = new_ids.iter().map(|c| c[c.len() - 1]).max().unwrap_or(0);
    anyhow::ensure!(
        max_digit < index.vocab.digits,
        "a collision group would need digit {max_digit}, beyond the vocabulary's {} digit tokens; rebuild the index",
        index.vocab.digits
    );
    for (it, code) in new_items.iter().zip(&new_ids) {
        println!("{} → {:?}", it.original_id, code);
    }
    index.added.extend(new_items);
    index.summary.added_items = index.added.len();
    index.summary.items = index.ids.n_items();
    index.summary.codes_sha256 = index.ids.codes_sha256();
    Index::save(out, &index.ids, &index.vocab, &index.summary, &index.added)?;
    genrec::util::log::to_or_warn(&out.join("index.log"));
    genrec::say!(
        "added {} items; the index now has {} (codes hash {})",
        new_ids.len(),
        index.ids.n_items(),
        &index.summary.codes_sha256[..12]
    );
    Ok(())
}
