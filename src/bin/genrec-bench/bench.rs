//! The benchmarks of `genrec-bench`, one subcommand each; every one writes
//! the inputs its Python peer reads and a JSON result under `--out`.
use crate::clock::percentile;
use crate::inputs::{long_texts, parse_shape, synthetic_catalogue, write_synthetic_dataset};
use crate::progress::Bar;
use genrec::data::Dataset;
use genrec::decode::generator::{Generator, Query};
use genrec::embed::{Embeddings, TextEncoder};
use genrec::model::{hf, hf_init, T5Config, T5};
use genrec::runtime::{self, DeviceChoice};
use genrec::semantic_id::store::Index;
use genrec::semantic_id::{self, Backend, IndexParams};
use serde_json::json;
use std::path::PathBuf;
use std::time::Instant;
use tch::{nn, Kind};

/// genrec-bench — speed benchmarks beside their Python peers (scripts/bench.sh).
#[derive(clap::Parser, Debug)]
#[command(name = "genrec-bench", version)]
pub struct Args {
    #[command(subcommand)]
    pub what: What,
    /// libtorch CPU threads.
    #[arg(long, global = true, default_value_t = 2)]
    pub threads: usize,
    #[arg(long, global = true, value_enum, default_value_t = DeviceChoice::Cpu)]
    pub device: DeviceChoice,
    /// Where inputs for the Python peer and the JSON result go.
    #[arg(long, global = true, default_value = "target/bench")]
    pub out: PathBuf,
}

#[derive(clap::Subcommand, Debug)]
pub enum What {
    /// Constrained beam search at TIGER's size: users/s at batch sizes, p50/p95 latency.
    Decode {
        #[arg(long, default_value = "data/prepared/ml-100k")]
        dataset: PathBuf,
        #[arg(long, default_value_t = 20)]
        beam: usize,
        #[arg(long, default_value_t = 10)]
        top_k: usize,
        /// Batch sizes to measure.
        #[arg(long, value_delimiter = ',', default_value = "1,64")]
        batch_sizes: Vec<usize>,
        /// Users decoded per batch size.
        #[arg(long, default_value_t = 256)]
        users: usize,
        /// A trained checkpoint instead of a random TIGER-size model.
        #[arg(long)]
        checkpoint: Option<PathBuf>,
    },
    /// Training examples/s at TIGER's size (or a config's), batch 256, host batch building included.
    Train(crate::train::TrainArgs),
    /// Embedding throughput (items/s) on a prepared dataset's item texts.
    Embed {
        #[arg(long, default_value = "data/prepared/amazon-beauty")]
        dataset: PathBuf,
        #[arg(long, default_value_t = 64)]
        batch_size: usize,
        /// Instead of the item texts, N long texts (title + description
        /// length, ~300 tokens, cut at 256), each the concatenation of
        /// consecutive item texts; written for the peer.
        #[arg(long)]
        long: Option<usize>,
    },
    /// Residual k-means (L × K) on a dataset's embeddings with both backends.
    /// With --synthetic NxD, a seeded Gaussian-mixture catalogue instead of the
    /// dataset, written (embeddings, and a JSONL dataset that uses a few of its
    /// items) for the scikit-learn peer and for timing `genrec index` on it.
    Kmeans {
        #[arg(long, default_value = "data/prepared/amazon-beauty")]
        dataset: PathBuf,
        #[arg(long, default_value_t = 3)]
        levels: usize,
        #[arg(long, default_value_t = 256)]
        codebook_size: usize,
        /// Iterations of the same-iteration comparison (the peer runs these too).
        #[arg(long, default_value_t = 20)]
        max_iter: usize,
        /// A synthetic catalogue of N items × D dimensions, e.g. 200000x64.
        #[arg(long, value_parser = parse_shape)]
        synthetic: Option<(usize, usize)>,
        /// Also run linfa (full data) on the synthetic catalogue (slow).
        #[arg(long)]
        with_linfa: bool,
    },
}

pub(crate) fn write_json(
    out: &std::path::Path,
    name: &str,
    v: &serde_json::Value,
) -> anyhow::Result<()> {
    std::fs::create_dir_all(out)?;
    std::fs::write(out.join(name), serde_json::to_string_pretty(v)?)?;
    // Results go to stdout; the peers' inputs (megabytes of batches) only to the file.
    if name.contains("-genrec") {
        println!("{}", serde_json::to_string(v)?);
    } else {
        eprintln!("wrote {}", out.join(name).display());
    }
    Ok(())
}

pub fn run(a: Args) -> anyhow::Result<()> {
    tch::set_num_threads(a.threads as i32);
    let device = runtime::device(a.device)?;
    match a.what {
        What::Decode {
            dataset,
            beam,
            top_k,
            batch_sizes,
            users,
            checkpoint,
        } => {
            let ds = Dataset::load(&dataset)?;
            let index = Index::load(&dataset.join("index"))?;
            let vocab = index.vocab.clone();
            let item_tokens = index.ids.item_tokens(&vocab);
            let trie = index.trie()?;
            let (model, vs, prompt_cfg) = match &checkpoint {
                Some(c) => {
                    let ck = genrec::artifact::checkpoint::load(c, device)?;
                    (ck.model, ck.vs, ck.meta.prompt())
                }
                None => {
                    runtime::seed(0);
                    let vs = nn::VarStore::new(device);
                    let mut cfg = T5Config::tiger(i64::from(vocab.size()));
                    cfg.dropout_rate = 0.0;
                    let m = T5::new(vs.root(), &cfg);
                    hf_init(&vs, &cfg);
                    (m, vs, genrec::config::DataConfig::default().prompt())
                }
            };
            // The peer loads these weights (saved by genrec) and these inputs.
            let mdir = a.out.join("decode-model");
            hf::save_dir(&model, &vs, &mdir)?;
            let held: Vec<_> = ds.test.iter().cycle().take(users).cloned().collect();
            let inputs: Vec<Vec<u32>> = held
                .iter()
                .map(|h| {
                    genrec::prompt::generate_input(
                        &vocab,
                        &item_tokens,
                        &prompt_cfg,
                        &h.user,
                        &h.history,
                    )
                })
                .collect();
            let items: Vec<Vec<u32>> = item_tokens.clone();
            write_json(
                &a.out,
                "decode-inputs.json",
                &json!({"inputs": inputs, "items": items, "beam": beam, "top_k": top_k, "eos": 1, "pad": 0}),
            )?;
            let gen = Generator::beam(&model, &vocab, &item_tokens, &trie, prompt_cfg, beam);
            let mut results = Vec::new();
            for &bs in &batch_sizes {
                let qs: Vec<Query> = held.iter().map(Query::from).collect();
                let _ = gen.generate(&qs[..bs.min(qs.len())], top_k); // warm-up
                let mut lat = Vec::new();
                let t0 = Instant::now();
                for chunk in qs.chunks(bs) {
                    let t = Instant::now();
                    let _ = gen.generate(chunk, top_k);
                    lat.push(t.elapsed().as_secs_f64() * 1000.0);
                }
                let secs = t0.elapsed().as_secs_f64();
                let r = json!({"batch_size": bs, "users": qs.len(), "users_per_second": qs.len() as f64 / secs,
                    "p50_batch_ms": percentile(&mut lat.clone(), 0.5), "p95_batch_ms": percentile(&mut lat, 0.95)});
                eprintln!("genrec decode batch {bs}: {r}");
                results.push(r);
            }
            write_json(
                &a.out,
                "decode-genrec.json",
                &json!({"device": runtime::describe(device), "beam": beam, "top_k": top_k, "results": results, "peak_rss_mb": genrec::util::mem::peak_rss_mb()}),
            )?;
        }
        What::Train(t) => crate::train::run(&t, device, &a.out)?,
        What::Embed {
            dataset,
            batch_size,
            long,
        } => {
            let ds = Dataset::load(&dataset)?;
            let enc = TextEncoder::load(
                &PathBuf::from(genrec::embed::DEFAULT_ENCODER_DIR),
                &PathBuf::from("tokenizer/all-MiniLM-L6-v2/tokenizer.json"),
                device,
            )?;
            let owned: Vec<String> = match long {
                Some(n) => long_texts(&ds.texts(), n),
                None => Vec::new(),
            };
            let texts: Vec<&str> = match long {
                Some(_) => owned.iter().map(String::as_str).collect(),
                None => ds.texts(),
            };
            let name = if long.is_some() {
                write_json(&a.out, "embed-long-texts.json", &json!({"texts": texts}))?;
                "embed-genrec-long.json"
            } else {
                "embed-genrec.json"
            };
            let _ = enc.encode(
                &texts[..batch_size.min(texts.len())],
                batch_size,
                &genrec::progress::Silent,
            )?;
            let t0 = Instant::now();
            let e = enc.encode_counted(&texts, batch_size, &Bar::new())?;
            let secs = t0.elapsed().as_secs_f64();
            write_json(
                &a.out,
                name,
                &json!({"device": runtime::describe(device), "items": texts.len(), "batch_size": batch_size, "seconds": secs, "items_per_second": texts.len() as f64 / secs,
                    "mean_tokens": e.mean_tokens, "truncated": e.truncated}),
            )?;
        }
        What::Kmeans {
            dataset,
            levels,
            codebook_size,
            max_iter,
            synthetic,
            with_linfa,
        } => {
            let (x, n, d, source) = match synthetic {
                Some((n, d)) => {
                    let x = synthetic_catalogue(n, d, 42);
                    let dir = a.out.join("kmeans-synthetic");
                    write_synthetic_dataset(&dir, &x, n, d)?;
                    (x, n, d, dir.display().to_string())
                }
                None => {
                    let emb = Embeddings::read(&genrec::embed::default_output(&dataset))?;
                    let (n, d) = emb.matrix.size2()?;
                    let x: Vec<f32> =
                        Vec::try_from(&emb.matrix.to_kind(Kind::Float).flatten(0, -1))?;
                    (x, n as usize, d as usize, dataset.display().to_string())
                }
            };
            let defaults = IndexParams::for_catalogue(n);
            // The same-iteration comparison with the peer: every backend on
            // all points, nearest codes (what scikit-learn's KMeans does).
            let full = |backend: Backend, iters: usize| IndexParams {
                levels,
                codebook_size,
                backend,
                max_iter: iters,
                tolerance: 1e-6,
                max_points_per_centroid: 0,
                collisions: semantic_id::Collisions::Digit,
                ..defaults.clone()
            };
            let mut cases = vec![
                (
                    "default index (genrec index)",
                    IndexParams {
                        levels,
                        codebook_size,
                        ..defaults.clone()
                    },
                ),
                (
                    "default index, collision digits only",
                    IndexParams {
                        levels,
                        codebook_size,
                        collisions: semantic_id::Collisions::Digit,
                        ..defaults.clone()
                    },
                ),
                (
                    "full-data fit, default iterations",
                    full(defaults.backend, defaults.max_iter),
                ),
                ("faiss, all points", full(Backend::Faiss, max_iter)),
            ];
            if synthetic.is_none() || with_linfa {
                cases.push(("linfa, all points", full(Backend::Linfa, max_iter)));
            }
            let mut rows = Vec::new();
            for (name, p) in cases {
                let t0 = Instant::now();
                let ids = semantic_id::build(&x, n, d, &p, "", &mut |_| {})?;
                let secs = t0.elapsed().as_secs_f64();
                let h = ids.health(&x);
                let r = json!({"case": name, "params": p, "seconds": secs, "health": h});
                eprintln!("{name}: {secs:.2} s, collision rate {:.4} (largest {}), reconstruction error {:.4}", h.collision_rate, h.largest_collision_group, h.reconstruction_error);
                rows.push(r);
            }
            write_json(
                &a.out,
                "kmeans-genrec.json",
                &json!({"source": source, "n": n, "d": d, "levels": levels, "codebook_size": codebook_size, "max_iter": max_iter, "results": rows}),
            )?;
        }
    }
    Ok(())
}
