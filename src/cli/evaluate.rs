use anyhow::Context;
use genrec::data::{Dataset, Split};
use genrec::decode::generator::{Generator, Query};
use genrec::decode::Decoding;
use genrec::embed::Embeddings;
use genrec::eval::{self, MethodResult, Protocol};
use genrec::runtime::{self, DeviceChoice};
use genrec::semantic_id::store::Index;
use genrec::trainer::checkpoint;
use indicatif::ProgressBar;
use std::path::PathBuf;
use std::time::Instant;

/// Leave-one-out evaluation over the full catalogue: Recall@5/10, NDCG@5/10,
/// MRR, catalogue coverage and popularity bias, each with a bootstrap 95 %
/// interval, for the checkpoint and for baselines on the same split
/// (most-popular; nearest items by text embedding to the last history item).
/// Writes JSON and a Markdown table. Refuses a checkpoint whose semantic-ID
/// hash differs from the index.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Checkpoint directory, or a run directory (its best checkpoint).
    #[arg(long)]
    pub checkpoint: PathBuf,
    #[arg(long, value_enum, default_value_t = Split::Test)]
    pub split: Split,
    /// Dataset directory (default: the one the checkpoint was trained on).
    #[arg(long)]
    pub dataset: Option<PathBuf>,
    /// Index directory (default: the one the checkpoint was trained on).
    #[arg(long)]
    pub index: Option<PathBuf>,
    /// Beam width (≥ 10; default 20).
    #[arg(long, default_value_t = 20)]
    pub beam: usize,
    /// Users per beam-search batch.
    #[arg(long, default_value_t = 64)]
    pub batch_size: usize,
    /// Remove items the user already interacted with from every ranking.
    #[arg(long)]
    pub exclude_seen: bool,
    /// Bootstrap resamples for the 95 % intervals.
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Skip the baselines.
    #[arg(long)]
    pub no_baselines: bool,
    /// Also rerank the generator's top candidates with this verifier checkpoint
    /// (a row of its own, next to the generator's, with its own users/s).
    #[arg(long)]
    pub rerank: Option<PathBuf>,
    /// Candidates reranked (default: the verifier's `rerank_top`).
    #[arg(long)]
    pub rerank_top: Option<usize>,
    /// Weight of log P(yes) (default: the λ chosen on validation and stored with the verifier).
    #[arg(long)]
    pub lambda: Option<f64>,
    /// Output directory for results.json and results.md (default: the checkpoint's run directory).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    #[arg(long)]
    pub threads: Option<usize>,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    anyhow::ensure!(a.beam >= 10, "--beam must be at least 10 (metrics go to @10)");
    runtime::set_threads(a.threads);
    let device = runtime::device(a.device)?;
    let ck = checkpoint::load(&a.checkpoint, device)?;
    let ds_dir = a.dataset.clone().unwrap_or_else(|| ck.meta.train.data.dataset.clone());
    let ds = Dataset::load(&ds_dir)?;
    let index = Index::load(&a.index.clone().unwrap_or_else(|| ck.meta.train.data.index_dir()))?;
    index.check_dataset(&ds)?;
    anyhow::ensure!(
        index.summary.codes_sha256 == ck.meta.semantic_ids_sha256,
        "checkpoint {} was trained on semantic IDs {} but index {} has {}; evaluate with the index it was trained on",
        ck.dir.display(),
        &ck.meta.semantic_ids_sha256[..12],
        index.dir.display(),
        &index.summary.codes_sha256[..12]
    );
    anyhow::ensure!(index.vocab == ck.vocab, "the index's vocabulary differs from the checkpoint's");
    let held = ds.held_out(a.split);
    let protocol = Protocol { exclude_seen: a.exclude_seen, bootstrap: a.bootstrap, seed: 0 };
    let n_items = ds.items.len();
    let pop = eval::popularity(&ds, n_items);
    let seen = eval::seen_before(&ds, a.split);
    let targets: Vec<u32> = held.iter().map(|h| h.target).collect();
    let item_tokens = index.ids.item_tokens(&index.vocab);
    let trie = index.trie()?;

    // The generator.
    let gen = Generator { model: &ck.model, vocab: &ck.vocab, item_tokens: &item_tokens, trie: &trie, prompt: ck.meta.train.data.prompt(), decoding: Decoding::Beam { width: a.beam, length_penalty: 0.0 } };
    let verifier = match &a.rerank {
        Some(p) => {
            let v = checkpoint::load(p, device)?;
            anyhow::ensure!(v.meta.task == "verify", "{} is not a verifier checkpoint", v.dir.display());
            anyhow::ensure!(v.meta.semantic_ids_sha256 == index.summary.codes_sha256, "verifier {} was trained on other semantic IDs than the index", v.dir.display());
            let lambda = a.lambda.or_else(|| v.meta.extra["lambda"].as_f64()).context("the verifier has no stored λ; pass --lambda")?;
            let top = a.rerank_top.or_else(|| v.meta.extra["rerank_top"].as_u64().map(|x| x as usize)).unwrap_or(20);
            anyhow::ensure!(top >= 10 && top <= a.beam, "--rerank-top must be in 10..=beam ({})", a.beam);
            Some((v, lambda, top))
        }
        None => None,
    };
    let n_gen = verifier.as_ref().map_or(10, |v| v.2);
    let mut reranked: Vec<Vec<u32>> = Vec::new();
    let mut verify_secs = 0.0;
    let pb = ProgressBar::new(held.len() as u64).with_message(format!("evaluating on {}", runtime::describe(device)));
    let t0 = Instant::now();
    let mut lists = Vec::with_capacity(held.len());
    let mut recs = Vec::with_capacity(held.len());
    for (ci, chunk) in held.chunks(a.batch_size.max(1)).enumerate() {
        let qs: Vec<Query> = chunk.iter().map(|h| Query { user: &h.user, history: &h.history }).collect();
        let base = ci * a.batch_size.max(1);
        let banned = |u: usize, item: u32| seen[base + u].contains(&item);
        let all_hits = gen.generate_banned(&qs, n_gen, if a.exclude_seen { Some(&banned) } else { None });
        if let Some((v, lambda, _)) = &verifier {
            let tv = Instant::now();
            let ver = genrec::verify::Verifier { model: &v.model, vocab: &v.vocab, item_tokens: &item_tokens, prompt: v.meta.train.data.prompt() };
            for (h, hs) in chunk.iter().zip(&all_hits) {
                let pairs: Vec<genrec::verify::Pair> = hs.iter().map(|x| genrec::verify::Pair { user: &h.user, history: &h.history, candidate: x.item }).collect();
                let y = ver.log_p_yes(&pairs, 512);
                reranked.push(genrec::verify::rerank(hs, &y, *lambda).iter().take(10).map(|x| x.item).collect());
            }
            verify_secs += tv.elapsed().as_secs_f64();
        }
        for (h, mut hs) in chunk.iter().zip(all_hits) {
            hs.truncate(10);
            lists.push(hs.iter().map(|x| x.item).collect::<Vec<u32>>());
            recs.push(serde_json::json!({
                "user": h.user,
                "items": hs.iter().map(|x| ds.items[x.item as usize].original_id.as_str()).collect::<Vec<_>>(),
                "scores": hs.iter().map(|x| x.score).collect::<Vec<_>>(),
            }));
        }
        pb.inc(chunk.len() as u64);
    }
    pb.finish_and_clear();
    let secs = t0.elapsed().as_secs_f64() - verify_secs;
    let mut results: Vec<MethodResult> = vec![eval::score_lists("genrec", &targets, &lists, n_items, &pop, &protocol, secs)];
    if let Some((_, lambda, top)) = &verifier {
        let name = format!("genrec + verifier (top {top}, λ = {lambda})");
        results.push(eval::score_lists(&name, &targets, &reranked, n_items, &pop, &protocol, secs + verify_secs));
    }

    if !a.no_baselines {
        let t = Instant::now();
        let mp = eval::most_popular(&pop, held, &seen, &protocol, 10);
        results.push(eval::score_lists("most-popular", &targets, &mp, n_items, &pop, &protocol, t.elapsed().as_secs_f64()));
        let emb_path = genrec::embed::default_output(&ds_dir);
        match Embeddings::read(&emb_path) {
            Ok(emb) => {
                let (_, d) = emb.matrix.size2()?;
                let x: Vec<f32> = Vec::try_from(&emb.matrix.flatten(0, -1))?;
                let t = Instant::now();
                let knn = eval::text_knn(&x, d as usize, held, &seen, &protocol, 10)?;
                results.push(eval::score_lists("text-kNN (last item)", &targets, &knn, n_items, &pop, &protocol, t.elapsed().as_secs_f64()));
            }
            Err(e) => eprintln!("text-kNN baseline skipped: {e:#}"),
        }
    }

    let table = eval::markdown_table(&results);
    let out = a.out.clone().unwrap_or_else(|| ck.dir.parent().map(|p| p.to_path_buf()).unwrap_or_else(|| ck.dir.clone()));
    let split = serde_json::to_value(a.split)?;
    let report = serde_json::json!({
        "checkpoint": ck.dir, "dataset": ds_dir, "split": split, "protocol": protocol,
        "beam": a.beam, "semantic_ids_sha256": index.summary.codes_sha256, "results": results,
    });
    let name = format!("results-{}", split.as_str().unwrap_or("test"));
    genrec::util::fsx::write_atomic(&out.join(format!("{name}.json")), serde_json::to_string_pretty(&report)?.as_bytes()).context("writing results")?;
    let header = format!(
        "{} split of {} ({} users, full catalogue of {} items{}), checkpoint {}\n\n",
        split.as_str().unwrap_or(""),
        ds_dir.display(),
        held.len(),
        n_items,
        if a.exclude_seen { ", seen items excluded" } else { "" },
        ck.dir.display()
    );
    genrec::util::fsx::write_atomic(&out.join(format!("{name}.md")), format!("{header}{table}").as_bytes())?;
    let recs_text: String = recs.iter().map(|r| format!("{r}\n")).collect();
    genrec::util::fsx::write_atomic(&out.join(format!("recs-{}.jsonl", split.as_str().unwrap_or("test"))), recs_text.as_bytes())?;
    print!("{header}{table}");
    println!("wrote {}", out.join(format!("{name}.{{json,md}}")).display());
    Ok(())
}
