//! `genrec recommend`: batch inference, each user's top-K by
//! trie-constrained beam search (P5 / TIGER) with the linked verifier's
//! reranking or blend, streamed, sharded, with allow and deny lists.
use super::progress::Bar;
use anyhow::{bail, Context};
use genrec::data::{Known, Split};
use genrec::decode::generator::Query;
use genrec::progress::Progress;
use genrec::runtime;
use genrec::util::mem::peak_rss_mb;
use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Batch inference: each user's top-K items by trie-constrained beam search.
///
/// Input lines: {"user": …, "items": [original item ids, oldest first]}; or the
/// prepared dataset's held-out split with --split, or all its users with
/// --all-users. Output lines, in input
/// order: {"user": …, "line": <input line>, "items": [original ids], "scores": […]}.
/// Reads and writes as a stream: memory is bounded by --batch-size, not by the
/// input. With --shard i/n the process takes batches i, i+n, i+2n, … of the
/// input (batches of --batch-size lines), so n processes split the work and
/// their outputs, sorted by "line", equal the unsharded output byte for byte.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub model: super::common::ModelArgs,
    /// Histories (JSONL). Use --split instead to read the prepared dataset's split.
    /// The blend's counts (item transitions, popularity) then read every
    /// interaction of the dataset; with --split, those before its targets.
    #[arg(long, short, required_unless_present_any = ["split", "all_users"])]
    pub input: Option<PathBuf>,
    /// Recommend for the dataset's held-out users (their history before the target).
    #[arg(long, value_enum, conflicts_with = "input")]
    pub split: Option<Split>,
    /// Recommend for every user of the prepared dataset, after all their
    /// interactions (the last --max-history of them): the held-out users,
    /// then the context users, as `sequences.jsonl` and `context.jsonl` list
    /// them. What comes next, with the counts reading every interaction.
    #[arg(long, conflicts_with_all = ["input", "split"])]
    pub all_users: bool,
    /// Output JSONL (default: standard output).
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    #[arg(long, default_value_t = 10)]
    pub top_k: usize,
    #[command(flatten)]
    pub decode: super::common::DecodeArgs,
    /// Only recommend items listed in this file (one original item id per line).
    #[arg(long, conflicts_with = "deny")]
    pub allow: Option<PathBuf>,
    /// Never recommend items listed in this file (one original item id per line).
    #[arg(long)]
    pub deny: Option<PathBuf>,
    /// Take part i of n (0-based), e.g. --shard 2/8.
    #[arg(long, value_parser = super::common::parse_shard)]
    pub shard: Option<genrec::util::part::Part>,
    #[command(flatten)]
    pub rerank: super::common::RerankArgs,
    /// The generator's lists alone. By default, when training found on
    /// validation that the items' text helps, each user's beams are fused
    /// with the items nearest in text to their last item (the weight and k
    /// stored with the checkpoint; `scores` are then the fused scores).
    #[arg(long)]
    pub no_text_fusion: bool,
    /// Fail on an unknown item id instead of skipping it.
    #[arg(long)]
    pub strict: bool,
    #[command(flatten)]
    pub runtime: super::common::RuntimeArgs,
}

fn read_id_list(path: &Path) -> anyhow::Result<Vec<String>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    Ok(text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect())
}

/// One input record: its 0-based line number, user and history (internal ids).
struct Record {
    line: usize,
    user: String,
    history: Vec<u32>,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    anyhow::ensure!(
        a.top_k > 0 && a.decode.batch_size > 0,
        "--top-k and --batch-size must be at least 1"
    );
    let device = a.runtime.start()?;
    let inf = a.model.load(device)?;
    // Counts (transitions, popularity) from what precedes the split's
    // targets, or from every interaction for histories from outside.
    let known = a.split.map_or(Known::All, Known::Before);
    let verifier = a.rerank.load(&inf, device, (2 * a.top_k).max(20), known)?;
    let mut text = match &verifier {
        Some(_) => None,
        None if a.no_text_fusion => None,
        None => text_fusion(&inf)?,
    };
    // The blend chosen with the verifier (its text neighbours read and checked).
    let mut blend_nn = match &verifier {
        Some(v) => v.blend_neighbours(&inf.ds_dir)?,
        None => None,
    };
    if let Some(b) = verifier.as_ref().and_then(|v| v.blend.as_ref()) {
        genrec::tell!("{}", b.choice.describe());
    }
    let n_gen = verifier
        .as_ref()
        .map_or(a.top_k, |v| {
            v.top
                .max(v.blend.as_ref().map_or(0, |b| b.choice.beam_depth()))
        })
        .max(text.as_ref().map_or(0, |t| t.0.depth));
    anyhow::ensure!(n_gen >= a.top_k, "--rerank-top must be at least --top-k");
    let beam = a.decode.beam_for(a.top_k).max(n_gen);
    anyhow::ensure!(
        beam >= a.top_k,
        "--beam ({beam}) must be at least --top-k ({})",
        a.top_k
    );
    let (ds, index, item_tokens) = (&inf.ds, &inf.index, &inf.item_tokens);
    // Catalogue: dataset items, then cold-start additions.
    let original: Vec<&str> = ds
        .items
        .iter()
        .chain(&index.added)
        .map(|i| i.original_id.as_str())
        .collect();
    let internal: HashMap<&str, u32> = original
        .iter()
        .enumerate()
        .map(|(i, &o)| (o, i as u32))
        .collect();
    let lookup_list = |path: &Path| -> anyhow::Result<HashSet<u32>> {
        let ids = read_id_list(path)?;
        let unknown: Vec<&String> = ids
            .iter()
            .filter(|i| !internal.contains_key(i.as_str()))
            .collect();
        anyhow::ensure!(
            unknown.is_empty(),
            "{}: {} unknown item ids, first {:?}",
            path.display(),
            unknown.len(),
            &unknown[..unknown.len().min(5)]
        );
        Ok(ids.iter().map(|i| internal[i.as_str()]).collect())
    };
    // Allow/deny lists shape the trie itself: banned items cost nothing per step.
    let allow = a.allow.as_deref().map(lookup_list).transpose()?;
    let deny = a.deny.as_deref().map(lookup_list).transpose()?;
    if let (Some(allow), Some(p)) = (&allow, &a.allow) {
        anyhow::ensure!(
            !allow.is_empty(),
            "{}: the allow-list is empty",
            p.display()
        );
    }
    let allowed = |i: u32| {
        allow.as_ref().is_none_or(|s| s.contains(&i))
            && deny.as_ref().is_none_or(|s| !s.contains(&i))
    };
    let trie = if allow.is_some() || deny.is_some() {
        index.ids.trie(&index.vocab, Some(&allowed))?
    } else {
        index.trie()?
    };
    let gen = inf.generator(&trie, beam);

    if let Some(p) = &a.output {
        let mut log = p.clone().into_os_string();
        log.push(".log");
        genrec::util::log::to_or_warn(std::path::Path::new(&log));
    }
    let mut out: Box<dyn Write> = match &a.output {
        Some(p) => Box::new(BufWriter::new(
            std::fs::File::create(p).with_context(|| format!("creating {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let shard = a.shard.unwrap_or(genrec::util::part::Part::WHOLE);
    let pb = Bar::new();
    pb.start(0, "recommending (users)");
    let mut unknown_items = 0usize;
    let mut users = 0usize;
    let mut latencies = Vec::new();
    let mut verify_secs = 0.0;
    let started = Instant::now();
    let mut process = |batch: &[Record], out: &mut dyn Write| -> anyhow::Result<()> {
        let t = Instant::now();
        let qs: Vec<Query> = batch
            .iter()
            .map(|r| Query {
                user: &r.user,
                history: &r.history,
            })
            .collect();
        // Sets, not the history lists: the search asks once per finished ID per beam.
        let seen: Vec<HashSet<u32>> = if a.decode.exclude_seen {
            batch
                .iter()
                .map(|r| r.history.iter().copied().collect())
                .collect()
        } else {
            Vec::new()
        };
        let banned = |u: usize, item: u32| seen[u].contains(&item);
        let mut hits = gen.generate_banned(
            &qs,
            n_gen,
            if a.decode.exclude_seen {
                Some(&banned)
            } else {
                None
            },
        );
        let histories: Vec<&[u32]> = batch.iter().map(|r| r.history.as_slice()).collect();
        let keep =
            |u: usize, i: u32| allowed(i) && !(a.decode.exclude_seen && seen[u].contains(&i));
        // Neighbours fetched beyond `depth` to make up for what `keep` refuses.
        let filtered = a.decode.exclude_seen || allow.is_some() || deny.is_some();
        let longest = histories.iter().map(|h| h.len()).max().unwrap_or(0);
        let extra = |depth: usize| if filtered { longest + 4 * depth } else { 0 };
        if let Some(v) = &verifier {
            let tv = Instant::now();
            let users: Vec<(&str, &[u32])> = batch
                .iter()
                .map(|r| (r.user.as_str(), r.history.as_slice()))
                .collect();
            // λ-reranked; the blend, when chosen, fuses these with the others.
            hits = v.apply(item_tokens, &users, &hits);
            if let Some(nn) = &mut blend_nn {
                let blended =
                    v.blend_lists(nn, (&histories, &hits), a.top_k, &keep, extra(n_gen))?;
                hits = blended.unwrap_or(hits);
            }
            verify_secs += tv.elapsed().as_secs_f64();
        }
        if let Some((c, nn)) = &mut text {
            let last = genrec::eval::TextQuery::LAST;
            let knn = nn.search(&histories, last, c.depth, extra(c.depth), keep)?;
            let beams = genrec::decode::hit_items(&hits);
            hits = genrec::decode::scored_hits(c.fusion.fuse_scored(&beams, &knn, a.top_k));
        }
        for hs in hits.iter_mut() {
            hs.truncate(a.top_k);
        }
        for (r, hs) in batch.iter().zip(hits) {
            let line = serde_json::json!({
                "user": r.user, "line": r.line,
                "items": hs.iter().map(|h| original[h.item as usize]).collect::<Vec<_>>(),
                "scores": hs.iter().map(|h| h.score).collect::<Vec<_>>(),
            });
            writeln!(out, "{line}")?;
        }
        out.flush()?;
        latencies.push(t.elapsed().as_secs_f64() * 1000.0);
        users += batch.len();
        pb.inc(batch.len() as u64);
        Ok(())
    };

    let mut batch: Vec<Record> = Vec::with_capacity(a.decode.batch_size);
    let mut batch_no = 0usize;
    let mut push =
        |rec: Record, batch: &mut Vec<Record>, out: &mut dyn Write| -> anyhow::Result<()> {
            batch.push(rec);
            if batch.len() == a.decode.batch_size {
                if shard.takes(batch_no) {
                    process(batch, out)?;
                }
                batch.clear();
                batch_no += 1;
            }
            Ok(())
        };
    if a.all_users {
        let cap = ds.manifest.max_history;
        for (line, s) in ds.known(Known::All).into_iter().enumerate() {
            let from = s.items.len().saturating_sub(cap);
            let rec = Record {
                line,
                user: s.user,
                history: s.items[from..].to_vec(),
            };
            push(rec, &mut batch, &mut *out)?;
        }
    } else if let Some(split) = a.split {
        for (line, h) in ds.held_out(split).iter().enumerate() {
            push(
                Record {
                    line,
                    user: h.user.clone(),
                    history: h.history.clone(),
                },
                &mut batch,
                &mut *out,
            )?;
        }
    } else {
        let path = a
            .input
            .as_ref()
            .expect("clap requires --input without --split");
        let reader = std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?,
        );
        for (i, line) in reader.lines().enumerate() {
            let line = line.with_context(|| {
                format!(
                    "{}:{}: unreadable line (expected UTF-8 JSON)",
                    path.display(),
                    i + 1
                )
            })?;
            if line.trim().is_empty() {
                continue;
            }
            let v: serde_json::Value = match serde_json::from_str(&line) {
                Ok(v) => v,
                Err(e) => bail!(
                    "{}:{}: malformed JSON ({e}); expected {{\"user\": …, \"items\": […]}}",
                    path.display(),
                    i + 1
                ),
            };
            let user = match v.get("user") {
                Some(serde_json::Value::String(s)) => s.clone(),
                Some(serde_json::Value::Number(n)) => n.to_string(),
                _ => bail!(
                    "{}:{}: missing or invalid `user` (expected a string or integer)",
                    path.display(),
                    i + 1
                ),
            };
            let Some(items) = v.get("items").and_then(|x| x.as_array()) else {
                bail!(
                    "{}:{}: missing `items` (expected an array of item ids, oldest first)",
                    path.display(),
                    i + 1
                );
            };
            let mut history = Vec::with_capacity(items.len());
            for it in items {
                let id = it
                    .as_str()
                    .map(str::to_owned)
                    .or_else(|| it.as_i64().map(|x| x.to_string()));
                match id.as_deref().and_then(|s| internal.get(s)) {
                    Some(&x) => history.push(x),
                    None if a.strict => bail!(
                        "{}:{}: unknown item {it} (not in the catalogue)",
                        path.display(),
                        i + 1
                    ),
                    None => unknown_items += 1,
                }
            }
            push(
                Record {
                    line: i,
                    user,
                    history,
                },
                &mut batch,
                &mut *out,
            )?;
        }
    }
    if !batch.is_empty() && shard.takes(batch_no) {
        process(&batch, &mut *out)?;
    }
    pb.finish();
    let secs = started.elapsed().as_secs_f64();
    latencies.sort_by(f64::total_cmp);
    let pct = |q: f64| {
        latencies
            .get(((latencies.len().max(1) - 1) as f64 * q).round() as usize)
            .copied()
            .unwrap_or(0.0)
    };
    genrec::tell!(
        "{users} users in {secs:.1} s ({:.1} users/s) on {}; per batch of {}: p50 {:.0} ms, p95 {:.0} ms; {unknown_items} unknown history items skipped; peak memory {:.0} MiB",
        users as f64 / secs.max(1e-9),
        runtime::describe(device),
        a.decode.batch_size,
        pct(0.5),
        pct(0.95),
        peak_rss_mb()
    );
    if verifier.is_some() {
        genrec::tell!(
            "the verifier took {verify_secs:.1} s of it ({:.0} %): {:.1} users/s without it",
            100.0 * verify_secs / secs.max(1e-9),
            users as f64 / (secs - verify_secs).max(1e-9)
        );
    }
    Ok(())
}

/// The text fusion stored with the checkpoint (when training found that the
/// items' text helps) and the catalogue's text neighbours for it.
fn text_fusion(
    inf: &genrec::infer::Recommender,
) -> anyhow::Result<Option<(genrec::eval::FusionChoice, genrec::eval::TextNeighbours)>> {
    let Some(c) = genrec::eval::FusionChoice::from_extra(&inf.ck.meta.extra) else {
        return Ok(None);
    };
    if !c.uses_text() {
        return Ok(None);
    }
    let path = genrec::embed::default_output(&inf.ds_dir);
    let nn = genrec::eval::TextNeighbours::read(&inf.ds_dir).with_context(|| {
        format!(
            "the checkpoint fuses its beams with text neighbours from {}; without it, pass --no-text-fusion",
            path.display()
        )
    })?;
    c.check_neighbours(&nn)
        .with_context(|| format!("{}: pass --no-text-fusion, or retrain", path.display()))?;
    genrec::tell!("{}", c.describe());
    Ok(Some((c, nn)))
}
