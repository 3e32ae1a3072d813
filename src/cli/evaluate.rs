use super::progress::Bar;
use anyhow::Context;
use genrec::baseline::sasrec::{SasRecParams, Trained as SasRec};
use genrec::data::Split;
use genrec::decode::generator::{Generator, Query};
use genrec::decode::Decoding;
use genrec::embed::Embeddings;
use genrec::eval::{self, MethodResult, Protocol};
use genrec::progress::Progress;
use genrec::runtime::{self, DeviceChoice};
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
    #[command(flatten)]
    pub model: super::common::ModelArgs,
    #[arg(long, value_enum, default_value_t = Split::Test)]
    pub split: Split,
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
    /// Baselines in the same table, each with its paired difference to the
    /// generator: pop (most popular), knn (text-kNN of the last item),
    /// knn-recent (text-kNN of a recency-weighted mean of the last five),
    /// sasrec (SASRec as RecBole trains it; trained once on the dataset's
    /// training split, chosen on validation, cached in <dataset>/baselines/).
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "pop,knn,knn-recent,sasrec"
    )]
    pub baselines: Vec<Baseline>,
    /// Skip the baselines.
    #[arg(long)]
    pub no_baselines: bool,
    /// An earlier run's results-<split>.json (from `evaluate`): adds the
    /// generator's paired difference to that run's per-user lists (its
    /// recs-<split>.jsonl), over the same users. Every other row gets its
    /// paired difference to the generator anyway.
    #[arg(long)]
    pub compare: Option<PathBuf>,
    /// With --rerank, the reranked lists get a row of their own, next to the
    /// generator's, with their own users/s.
    #[command(flatten)]
    pub rerank: super::common::RerankArgs,
    /// Output directory for results.json and results.md (default: the checkpoint's run directory).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    #[arg(long, value_enum, default_value_t = DeviceChoice::Auto)]
    pub device: DeviceChoice,
    #[arg(long)]
    pub threads: Option<usize>,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.beam >= 10,
        "--beam must be at least 10 (metrics go to @10)"
    );
    runtime::set_threads(a.threads);
    let device = runtime::device(a.device)?;
    let inf = super::common::load(&a.model, device)?;
    let (ck, ds, index, item_tokens, ds_dir) = (
        &inf.ck,
        &inf.ds,
        &inf.index,
        &inf.item_tokens,
        inf.ds_dir.clone(),
    );
    let held = ds.held_out(a.split);
    let protocol = Protocol {
        exclude_seen: a.exclude_seen,
        bootstrap: a.bootstrap,
        seed: 0,
    };
    let n_items = ds.items.len();
    let pop = eval::popularity(ds, n_items);
    let seen = eval::seen_before(ds, a.split);
    let targets: Vec<u32> = held.iter().map(|h| h.target).collect();
    let trie = index.trie()?;

    // The generator.
    let gen = Generator {
        model: &ck.model,
        vocab: &ck.vocab,
        item_tokens,
        trie: &trie,
        prompt: ck.meta.train.data.prompt(),
        decoding: Decoding::Beam {
            width: a.beam,
            length_penalty: 0.0,
        },
    };
    let verifier = a.rerank.load(&inf, device, 20)?;
    if let Some(r) = &verifier {
        anyhow::ensure!(
            r.top >= 10 && r.top <= a.beam,
            "--rerank-top must be in 10..=beam ({})",
            a.beam
        );
    }
    let n_gen = verifier.as_ref().map_or(10, |v| v.top);
    let mut reranked: Vec<Vec<u32>> = Vec::new();
    let mut verify_secs = 0.0;
    let pb = Bar::new();
    pb.start(
        held.len() as u64,
        &format!("evaluating on {} (users)", runtime::describe(device)),
    );
    let t0 = Instant::now();
    let mut lists = Vec::with_capacity(held.len());
    let mut recs = Vec::with_capacity(held.len());
    for (ci, chunk) in held.chunks(a.batch_size.max(1)).enumerate() {
        let qs: Vec<Query> = chunk
            .iter()
            .map(|h| Query {
                user: &h.user,
                history: &h.history,
            })
            .collect();
        let base = ci * a.batch_size.max(1);
        let banned = |u: usize, item: u32| seen[base + u].contains(&item);
        let all_hits = gen.generate_banned(
            &qs,
            n_gen,
            if a.exclude_seen { Some(&banned) } else { None },
        );
        if let Some(r) = &verifier {
            let tv = Instant::now();
            let users: Vec<(&str, &[u32])> = chunk
                .iter()
                .map(|h| (h.user.as_str(), h.history.as_slice()))
                .collect();
            for hs in r.apply(item_tokens, &users, &all_hits) {
                reranked.push(hs.iter().take(10).map(|x| x.item).collect());
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
    pb.finish();
    let secs = t0.elapsed().as_secs_f64() - verify_secs;
    let mut results: Vec<MethodResult> = vec![eval::score_lists(
        "genrec", &targets, &lists, n_items, &pop, &protocol, secs,
    )];
    if let Some(c) = &a.compare {
        let earlier = earlier_lists(c, ds, held, a.split)?;
        results[0].paired.push(eval::paired_difference(
            &format!("earlier run ({})", c.display()),
            &targets,
            &lists,
            &earlier,
            &protocol,
        ));
    }
    // Every other row's lists, for its paired difference to the generator.
    let mut other_lists: Vec<Vec<Vec<u32>>> = Vec::new();
    if let Some(r) = &verifier {
        let name = format!("genrec + verifier (top {}, λ = {})", r.top, r.lambda);
        results.push(eval::score_lists(
            &name,
            &targets,
            &reranked,
            n_items,
            &pop,
            &protocol,
            secs + verify_secs,
        ));
        other_lists.push(reranked);
    }

    let baselines: &[Baseline] = if a.no_baselines { &[] } else { &a.baselines };
    let mut emb: Option<(Vec<f32>, usize)> = None;
    for b in baselines {
        let t = Instant::now();
        let (name, l) = match b {
            Baseline::Pop => (
                "most-popular".to_string(),
                eval::most_popular(&pop, held, &seen, &protocol, 10),
            ),
            Baseline::Knn | Baseline::KnnRecent => {
                if emb.is_none() {
                    match Embeddings::read(&genrec::embed::default_output(&ds_dir)) {
                        Ok(e) => {
                            let (_, d) = e.matrix.size2()?;
                            emb = Some((Vec::try_from(&e.matrix.flatten(0, -1))?, d as usize));
                        }
                        Err(e) => {
                            eprintln!("text-kNN baselines skipped: {e:#}");
                            continue;
                        }
                    }
                }
                let (x, d) = emb.as_ref().expect("just read");
                let q = if *b == Baseline::Knn {
                    eval::TextQuery::LAST
                } else {
                    eval::TextQuery::RECENT
                };
                (
                    q.name(),
                    eval::text_knn(x, *d, held, &seen, &protocol, q, 10)?,
                )
            }
            Baseline::Sasrec => {
                let sr = SasRec::load_or_train(
                    &ds_dir,
                    ds,
                    &SasRecParams::default(),
                    device,
                    &Bar::new(),
                )?;
                let banned = a.exclude_seen.then_some(seen.as_slice());
                let name = format!(
                    "SASRec (RecBole's recipe, epoch {} of {})",
                    sr.meta.best_epoch, sr.meta.epochs
                );
                // Its training time is in its cache record; the row times the ranking.
                let t = Instant::now();
                let l = sr.recommend(held, 10, banned);
                results.push(eval::score_lists(
                    &name,
                    &targets,
                    &l,
                    n_items,
                    &pop,
                    &protocol,
                    t.elapsed().as_secs_f64(),
                ));
                other_lists.push(l);
                continue;
            }
        };
        results.push(eval::score_lists(
            &name,
            &targets,
            &l,
            n_items,
            &pop,
            &protocol,
            t.elapsed().as_secs_f64(),
        ));
        if *b == Baseline::Knn {
            // The fixed fusion of the two signals, for reference.
            let f = eval::rrf(&lists, &l, 60.0, 10);
            other_lists.push(l);
            results.push(eval::score_lists(
                "RRF(genrec, text-kNN last item), k = 60",
                &targets,
                &f,
                n_items,
                &pop,
                &protocol,
                secs,
            ));
            other_lists.push(f);
            continue;
        }
        other_lists.push(l);
    }
    for (r, l) in results[1..].iter_mut().zip(&other_lists) {
        r.paired.push(eval::paired_difference(
            "genrec", &targets, l, &lists, &protocol,
        ));
    }

    let table = eval::markdown_table(&results);
    let out = a.out.clone().unwrap_or_else(|| {
        ck.dir
            .parent()
            .map(|p| p.to_path_buf())
            .unwrap_or_else(|| ck.dir.clone())
    });
    let split = serde_json::to_value(a.split)?;
    let recs_name = format!("recs-{}.jsonl", split.as_str().unwrap_or("test"));
    let report = serde_json::json!({
        "checkpoint": ck.dir, "dataset": ds_dir, "split": split, "protocol": protocol,
        "beam": a.beam, "semantic_ids_sha256": index.summary.codes_sha256,
        "dataset_content_sha256": ds.manifest.content_sha256, "lists": recs_name, "results": results,
    });
    let name = format!("results-{}", split.as_str().unwrap_or("test"));
    genrec::util::fsx::write_json(&out.join(format!("{name}.json")), &report)
        .context("writing results")?;
    let header = format!(
        "{} split of {} ({} users, full catalogue of {} items{}), checkpoint {}\n\n",
        split.as_str().unwrap_or(""),
        ds_dir.display(),
        held.len(),
        n_items,
        if a.exclude_seen {
            ", seen items excluded"
        } else {
            ""
        },
        ck.dir.display()
    );
    genrec::util::fsx::write_atomic(
        &out.join(format!("{name}.md")),
        format!("{header}{table}").as_bytes(),
    )?;
    let recs_text: String = recs.iter().map(|r| format!("{r}\n")).collect();
    genrec::util::fsx::write_atomic(&out.join(&recs_name), recs_text.as_bytes())?;
    print!("{header}{table}");
    println!(
        "wrote {}",
        out.join(format!("{name}.{{json,md}}")).display()
    );
    Ok(())
}

/// The generator's per-user lists of an earlier `evaluate` run, from its
/// results JSON (which names its lists file), checked to be the same split of
/// the same dataset.
fn earlier_lists(
    results: &std::path::Path,
    ds: &genrec::data::Dataset,
    held: &[genrec::data::HeldOut],
    split: Split,
) -> anyhow::Result<Vec<Vec<u32>>> {
    let text = std::fs::read_to_string(results)
        .with_context(|| format!("--compare: cannot read {}", results.display()))?;
    let v: serde_json::Value = serde_json::from_str(&text).with_context(|| {
        format!(
            "--compare: {} is not an evaluate results JSON",
            results.display()
        )
    })?;
    let want = serde_json::to_value(split)?;
    anyhow::ensure!(
        v["split"] == want,
        "--compare: {} evaluated the {} split, this run the {} split",
        results.display(),
        v["split"],
        want
    );
    if let Some(h) = v["dataset_content_sha256"].as_str() {
        anyhow::ensure!(
            h == ds.manifest.content_sha256,
            "--compare: {} was evaluated on another dataset (content hash differs)",
            results.display()
        );
    }
    let name = v["lists"]
        .as_str()
        .map(str::to_owned)
        .unwrap_or_else(|| format!("recs-{}.jsonl", want.as_str().unwrap_or("test")));
    let path = results
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join(name);
    Ok(eval::read_lists(&path, ds, held)?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Baseline {
    Pop,
    Knn,
    KnnRecent,
    Sasrec,
}
