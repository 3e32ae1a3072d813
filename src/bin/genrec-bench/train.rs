//! `genrec-bench train`: training examples/s at TIGER's size (or a config's),
//! with what `genrec train` does per step on the clock — batches (on the
//! prefetch thread on a GPU), copies, forward, backward, clipping, AdamW —
//! eagerly, as one CUDA graph (`--cuda-graph`), or phase by phase
//! (`--profile`), optionally with a kernel-level trace (`--trace`). It writes the batches for `benches/hf_train.py`, which
//! trains Hugging Face's T5 on the same examples.
use crate::bench::write_json;
use crate::clock::{Clock, Phases};
use crate::progress::Bar;
use genrec::batch::Shape;
use genrec::cuda::trace::Trace;
use genrec::data::Dataset;
use genrec::model::{hf, hf_init, T5};
use genrec::runtime;
use genrec::semantic_id::store::Index;
use genrec::trainer::graph_set::Graphs;
use genrec::trainer::prefetch::{self, Schedule};
use genrec::trainer::{self, optim::AdamW};
use serde_json::json;
use std::path::{Path, PathBuf};
use std::time::Instant;
use tch::{nn, Device, Kind};

#[derive(clap::Args, Debug)]
pub struct TrainArgs {
    #[arg(long, default_value = "data/prepared/ml-100k")]
    dataset: PathBuf,
    #[arg(long, default_value_t = 256)]
    batch_size: usize,
    #[arg(long, default_value_t = 10)]
    steps: usize,
    #[arg(long, default_value_t = 2)]
    warmup: usize,
    /// A training config whose [model] to use instead of TIGER's size.
    #[arg(long)]
    config: Option<PathBuf>,
    /// bf16 mixed precision on CUDA (as `run.bf16` in training).
    #[arg(long)]
    bf16: bool,
    /// Time each phase of a step (host batch, copy, forward, backward,
    /// clipping, optimizer), waiting for the device after each; batches
    /// are then built inline instead of on the prefetch thread.
    #[arg(long, conflicts_with = "cuda_graph")]
    profile: bool,
    /// Replay the step as one CUDA graph (as `run.cuda_graphs` in
    /// training; batches padded to one shape). The warm-up must cover the
    /// graph's own three eager steps and its capture.
    #[arg(long)]
    cuda_graph: bool,
    /// Record a Kineto trace of the timed steps (libtorch's operations and,
    /// on CUDA, their kernels with device times) to this Chrome-trace file;
    /// `benches/trace_summary.py` sums it by kernel. The recording slows the
    /// steps, so time a run without it.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Batches of like history lengths, as `optim.length_pool` in training
    /// (0: off); with `--cuda-graph`, one graph per length bucket.
    #[arg(long, default_value_t = 0)]
    length_pool: usize,
}

pub fn run(t: &TrainArgs, device: Device, out: &Path) -> anyhow::Result<()> {
    if t.cuda_graph && !(device.is_cuda() && genrec::cuda::built_in()) {
        anyhow::bail!("--cuda-graph needs --device cuda and a genrec built with CUDA's headers (scripts/setup.sh)");
    }
    let ds = Dataset::load(&t.dataset)?;
    let index = Index::load(&t.dataset.join("index"))?;
    let vocab = index.vocab.clone();
    let item_tokens = index.ids.item_tokens(&vocab);
    let mcfg = match &t.config {
        Some(c) => genrec::config::TrainConfig::load(c, &[])?.model,
        None => genrec::config::ModelConfig::default(),
    };
    let cfg = mcfg.t5(i64::from(vocab.size()));
    runtime::seed(0);
    let vs = nn::VarStore::new(device);
    let mut model = T5::new(vs.root(), &cfg);
    hf_init(&vs, &cfg);
    hf::save_dir(&model, &vs, &out.join("train-model"))?;
    if t.bf16 && device.is_cuda() {
        model.set_compute_kind(Kind::BFloat16);
    }
    let prompt_cfg = genrec::config::DataConfig::default().prompt();
    let exs = trainer::examples(&ds);
    let lengths = trainer::history_lengths(&exs, prompt_cfg.max_history);
    let schedule = Schedule {
        n_examples: exs.len(),
        batch_size: t.batch_size,
        seed: 0,
        part: genrec::util::part::Part::WHOLE,
        lengths: (t.length_pool > 0).then_some((lengths.as_slice(), t.length_pool)),
    };
    let build = |idx: &[u32]| -> trainer::Batch {
        let b: Vec<_> = idx.iter().map(|&i| exs[i as usize]).collect();
        trainer::make_batch(&ds, &vocab, &item_tokens, &b, &prompt_cfg, Device::Cpu)
    };
    // The same batches for the peer (built here, outside the clock).
    let dump: Vec<serde_json::Value> = schedule
        .iter(0..t.warmup + t.steps)
        .map(|(_, idx)| {
            let b = build(&idx);
            let v = |t: &tch::Tensor| -> Vec<Vec<i64>> {
                Vec::<Vec<i64>>::try_from(t).unwrap_or_default()
            };
            json!({"input_ids": v(&b.ids), "attention_mask": v(&b.mask), "decoder_input_ids": v(&b.dec), "labels": v(&b.labels)})
        })
        .collect();
    write_json(
        out,
        "train-batches.json",
        &json!({"warmup": t.warmup, "steps": t.steps, "batches": dump}),
    )?;
    let mut graph = match t.cuda_graph {
        true => {
            let shape = Shape::largest(&vocab, &item_tokens, &prompt_cfg, t.batch_size);
            Some(Graphs::new(device, shape, schedule.lengths.is_some())?)
        }
        false => None,
    };
    let build: trainer::BatchBuilder = match &graph {
        Some(g) => g.padding(Box::new(build)),
        None => Box::new(build),
    };
    let mut opt = AdamW::for_config(&vs, &genrec::config::OptimConfig::default());
    let pb = Bar::new();
    genrec::progress::Progress::start(&pb, (t.warmup + t.steps) as u64, "train steps");
    let mut losses = Vec::new();
    let mut phases = Phases::default();
    let mut t0 = Instant::now();
    let mut trace = None;
    std::thread::scope(|scope| -> anyhow::Result<()> {
        let mut feed = (!t.profile)
            .then(|| prefetch::batches(scope, schedule, 0..t.warmup + t.steps, &*build, device));
        let mut inline = schedule.iter(0..t.warmup + t.steps);
        for s in 0..t.warmup + t.steps {
            if s == t.warmup {
                runtime::synchronize(device);
                t0 = Instant::now();
                phases = Phases::default();
                if t.trace.is_some() {
                    trace = Some(Trace::start(device)?);
                }
            }
            let mut clock = Clock::new(device, t.profile);
            let host = match feed.as_mut() {
                Some(f) => f.next().expect("one batch per step").batch,
                None => build(&inline.next().expect("one batch per step").1).pinned(device),
            };
            phases.build += clock.lap();
            let b = host.to_device(device);
            phases.copy += clock.lap();
            if let Some(g) = graph.as_mut() {
                let o = (&mut opt, 1e-3, 1.0);
                let out = g.train_step(
                    o,
                    (b, s as i64),
                    &|b| trainer::batch_loss(&model, b, true),
                    &pb,
                )?;
                if g.abandoned() {
                    anyhow::bail!("the steps are not replaying a CUDA graph (see the note above)");
                }
                losses.push(out.loss.copy());
            } else {
                let loss = trainer::batch_loss(&model, &b, true);
                phases.forward += clock.lap();
                opt.zero_grad();
                loss.backward();
                phases.backward += clock.lap();
                let _ = opt.clip_grad_norm(1.0);
                phases.clip += clock.lap();
                opt.step(1e-3);
                phases.optimizer += clock.lap();
                losses.push(loss.detach());
            }
            genrec::progress::Progress::inc(&pb, 1);
        }
        runtime::synchronize(device);
        Ok(())
    })?;
    if let (Some(tr), Some(path)) = (trace, &t.trace) {
        tr.save(path)?;
    }
    let secs = t0.elapsed().as_secs_f64();
    genrec::progress::Progress::finish(&pb);
    let params: i64 = vs
        .trainable_variables()
        .iter()
        .map(|t| t.numel() as i64)
        .sum();
    let loss_at = |i: usize| losses[i].double_value(&[]);
    let ms = |x: f64| x * 1000.0 / t.steps as f64;
    let split = t.profile.then(|| {
        json!({"build_ms": ms(phases.build), "copy_ms": ms(phases.copy), "forward_ms": ms(phases.forward), "backward_ms": ms(phases.backward),
            "clip_ms": ms(phases.clip), "optimizer_ms": ms(phases.optimizer)})
    });
    let name = match (t.profile, t.cuda_graph) {
        (true, _) => "train-genrec-profile.json",
        (false, true) => "train-genrec-graph.json",
        (false, false) => "train-genrec.json",
    };
    write_json(
        out,
        name,
        &json!({"device": runtime::describe(device), "bf16": t.bf16 && device.is_cuda(), "cuda_graph": t.cuda_graph, "batch_size": t.batch_size, "steps": t.steps,
        "examples_per_second": (t.steps * t.batch_size) as f64 / secs, "step_ms": secs * 1000.0 / t.steps as f64, "profile": split,
        "length_pool": t.length_pool, "parameters": params, "first_loss": loss_at(0), "last_loss": loss_at(losses.len() - 1), "peak_gpu_mb": genrec::cuda::peak_allocated_mb(device)}),
    )?;
    Ok(())
}
