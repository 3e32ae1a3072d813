//! `genrec evaluate`: leave-one-out Recall/NDCG@5,10 and MRR over the full
//! catalogue with bootstrap intervals (RecBole's protocols, seen items
//! rankable or excluded), the generator beside the baselines a user would
//! otherwise run (most-popular, text-kNN, SASRec), the text fusions and the
//! verifier's reranking, each row with its paired difference to the generator.
use super::progress::Bar;
mod baselines;
mod blend;
mod compare;
mod fusion;
mod report;

use anyhow::Context;
pub use baselines::Baseline;
use compare::{against_earlier, against_rivals, earlier_lists};
use fusion::{fusion_candidates, FUSION_BEAMS, FUSION_LAMBDAS};
use genrec::data::{Known, Split};
use genrec::decode::generator::Query;
use genrec::decode::hit_items;
use genrec::eval::{self, MethodResult, Protocol};
use genrec::progress::Progress;
use genrec::runtime;
use std::borrow::Cow;
use std::path::PathBuf;
use std::time::Instant;

/// Leave-one-out evaluation over the full catalogue: Recall@5/10, NDCG@5/10,
/// MRR, catalogue coverage and popularity bias, each with a bootstrap 95 %
/// interval, for the checkpoint and for baselines on the same split
/// (most-popular; nearest items by text embedding to the last history item).
/// Writes JSON and Markdown: the table, then each row's NDCG@10 by how often
/// the target was taken before (never: cold items) and by the history's
/// length. Refuses a checkpoint whose semantic-ID hash differs from the index.
#[derive(clap::Args, Debug)]
pub struct Args {
    #[command(flatten)]
    pub model: super::common::ModelArgs,
    #[arg(long, value_enum, default_value_t = Split::Test)]
    pub split: Split,
    #[command(flatten)]
    pub decode: super::common::DecodeArgs,
    /// Bootstrap resamples for the 95 % intervals.
    #[arg(long, default_value_t = 1000)]
    pub bootstrap: usize,
    /// Baselines in the same table, each with its paired difference to the
    /// generator: pop (most popular), knn (text-kNN of the last item),
    /// knn-recent (text-kNN of a recency-weighted mean of the last five),
    /// words (the items whose texts share the most IDF-weighted words with
    /// the last item's: a TF-IDF kNN),
    /// next (the items that most often followed the user's last three in the
    /// training sequences, weights 0.5^age: FPMC's Markov chain), sasrec (SASRec as RecBole trains it; trained once on the dataset's
    /// training split, chosen on validation, cached in <dataset>/baselines/).
    /// When the checkpoint stores a text fusion, recommend's default row also
    /// gets its paired difference to text-kNN and SASRec.
    #[arg(
        long,
        value_enum,
        value_delimiter = ',',
        default_value = "pop,knn,knn-recent,words,next,sasrec"
    )]
    pub baselines: Vec<Baseline>,
    /// Skip the baselines.
    #[arg(long)]
    pub no_baselines: bool,
    /// Adds two rows that use the items' text beside the generator, each
    /// chosen on the validation split (decoded for that too): each user's
    /// generator beams (top 20) united with the items nearest to their recent
    /// items' text (top 20), ranked by `log p_generator + λ · cosine(text)`;
    /// and a weighted reciprocal-rank fusion of the beams with the last
    /// item's text neighbours (weight and k chosen; weight 1 is the
    /// generator alone).
    #[arg(long)]
    pub text_fusion: bool,
    /// An earlier run's results-<split>.json (from `evaluate`): adds the
    /// generator's paired difference to that run's per-user lists (its
    /// recs-<split>.jsonl), over the same users. Every other row gets its
    /// paired difference to the generator anyway.
    #[arg(long)]
    pub compare: Option<PathBuf>,
    /// Evaluate a fixed, seeded sample of this many of the split's users (0:
    /// all): every row is scored on the same users (e.g. a CPU run with a
    /// verifier on a large catalogue).
    #[arg(long, default_value_t = 0, conflicts_with = "compare")]
    pub max_users: usize,
    /// With --rerank, the reranked lists get a row of their own, next to the
    /// generator's, with their own users/s.
    #[command(flatten)]
    pub rerank: super::common::RerankArgs,
    /// Output directory for results.json and results.md (default: the checkpoint's run directory).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    pub runtime: super::common::RuntimeArgs,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let beam = a.decode.beam_for(10);
    anyhow::ensure!(beam >= 10, "--beam must be at least 10 (metrics go to @10)");
    anyhow::ensure!(
        !(a.text_fusion && a.decode.exclude_seen),
        "--text-fusion ranks seen items like the generator does; it does not combine with --exclude-seen"
    );
    let device = a.runtime.start()?;
    let inf = a.model.load(device)?;
    let (ck, ds, index, item_tokens, ds_dir) = (
        &inf.ck,
        &inf.ds,
        &inf.index,
        &inf.item_tokens,
        inf.ds_dir.clone(),
    );
    report::open_log(a.out.as_deref(), ck, a.split);
    // All of the split's users, or a fixed sample of them (copied only then).
    let all = ds.held_out(a.split);
    let keep = (a.max_users > 0 && a.max_users < all.len())
        .then(|| eval::sample_indices(all.len(), a.max_users, 0));
    let held_users: Cow<[genrec::data::HeldOut]> = match &keep {
        Some(k) => Cow::Owned(k.iter().map(|&i| all[i].clone()).collect()),
        None => Cow::Borrowed(all),
    };
    let held = held_users.as_ref();
    let protocol = Protocol {
        exclude_seen: a.decode.exclude_seen,
        bootstrap: a.bootstrap,
        seed: 0,
    };
    let n_items = ds.items.len();
    let pop = eval::popularity(&ds.train, n_items);
    let known = ds.known(Known::Before(a.split)); // what the counting rows count
    let counts = eval::popularity(&known, n_items); // most-popular's, and the by-group tables'
    let mut seen = eval::seen_before(&known);
    if let Some(k) = &keep {
        seen = k.iter().map(|&i| std::mem::take(&mut seen[i])).collect();
    }
    let targets: Vec<u32> = held.iter().map(|h| h.target).collect();
    let trie = index.trie()?;
    // One row of the table: its lists scored against the targets.
    let score = |name: &str, lists: &[Vec<u32>], secs: f64| {
        eval::score_lists(name, &targets, lists, &pop, &protocol, secs)
    };

    // The generator.
    let gen = inf.generator(&trie, beam);
    // An earlier run to compare with is read (and checked) before decoding.
    let earlier = match &a.compare {
        Some(c) => Some((c, earlier_lists(c, ds, held, a.split)?)),
        None => None,
    };
    let verifier = a.rerank.load(&inf, device, 20, Known::Before(a.split))?;
    if let Some(r) = &verifier {
        anyhow::ensure!(
            r.top >= 10 && r.top <= beam,
            "--rerank-top must be in 10..=beam ({})",
            beam
        );
    }
    // The text fusion `recommend` applies by default (chosen at training).
    let stored = eval::FusionChoice::from_extra(&ck.meta.extra).filter(|c| c.uses_text());
    let blend = verifier.as_ref().filter(|r| r.blend.is_some());
    let keep_beams = a.text_fusion || stored.is_some();
    let blend_depth = blend
        .and_then(|r| r.blend.as_ref())
        .map_or(0, |b| b.choice.beam_depth());
    let fused_depth = if keep_beams { FUSION_BEAMS } else { 0 };
    let n_gen = verifier
        .as_ref()
        .map_or(10, |v| v.top)
        .max(fused_depth.max(blend_depth).min(beam));
    // With --text-fusion or a stored fusion, every user's beams (their candidates).
    let mut beams: Vec<Vec<genrec::decode::Hit>> = Vec::new();
    let mut reranked: Vec<Vec<u32>> = Vec::new();
    // With a blend, each user's whole λ-reranked list (the blend's first source).
    let mut reranked_hits: Vec<Vec<genrec::decode::Hit>> = Vec::new();
    let mut verify_secs = 0.0;
    let pb = Bar::new();
    pb.start(
        held.len() as u64,
        &format!("evaluating on {} (users)", runtime::describe(device)),
    );
    let t0 = Instant::now();
    let mut lists = Vec::with_capacity(held.len());
    let mut recs = Vec::with_capacity(held.len());
    for (ci, chunk) in held.chunks(a.decode.batch_size.max(1)).enumerate() {
        let qs: Vec<Query> = chunk.iter().map(Query::from).collect();
        let base = ci * a.decode.batch_size.max(1);
        let banned = |u: usize, item: u32| seen[base + u].contains(&item);
        let all_hits = gen.generate_banned(
            &qs,
            n_gen,
            if a.decode.exclude_seen {
                Some(&banned)
            } else {
                None
            },
        );
        if let Some(r) = &verifier {
            let tv = Instant::now();
            let users: Vec<(&str, &[u32])> = chunk
                .iter()
                .map(|h| (h.user.as_str(), h.history.as_slice()))
                .collect();
            for hs in r.apply(item_tokens, &users, &all_hits) {
                reranked.push(hs.iter().take(10).map(|x| x.item).collect());
                if blend.is_some() {
                    reranked_hits.push(hs);
                }
            }
            verify_secs += tv.elapsed().as_secs_f64();
        }
        for (h, mut hs) in chunk.iter().zip(all_hits) {
            if keep_beams {
                beams.push(hs.clone());
            }
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
    if verifier.is_some() {
        report::verifier_share(held.len(), secs, verify_secs);
    }
    let mut results: Vec<MethodResult> = vec![score("genrec", &lists, secs)];
    let e = earlier.as_ref();
    results[0]
        .paired
        .extend(against_earlier(e, &lists, &targets, &protocol));
    // Every other row's lists, for its paired difference to the generator.
    let mut other_lists: Vec<Vec<Vec<u32>>> = Vec::new();
    // The rows a user would otherwise pick (text-kNN, SASRec): the row of
    // recommend's default gets its paired difference to each of them too.
    let mut rivals: Vec<(String, usize)> = Vec::new();
    // The row whose lists `recommend` returns with the same arguments.
    let mut default_row = 0;
    if let Some(r) = &verifier {
        let name = format!("genrec + verifier (top {}, λ = {})", r.top, r.lambda);
        results.push(score(&name, &reranked, secs + verify_secs));
        other_lists.push(reranked);
        default_row = 1;
    }

    let baselines: &[Baseline] = if a.no_baselines { &[] } else { &a.baselines };
    // The dataset's text embeddings in one Faiss index, read once for the
    // kNN rows and the fusions.
    let mut text: Option<eval::TextNeighbours> = None;
    let inputs = baselines::Inputs {
        held,
        seen: &seen,
        protocol: &protocol,
        known: &known,
        counts: &counts,
        ds: (ds, &ds_dir),
        device,
        words: blend
            .and_then(|r| r.blend.as_ref())
            .and_then(|b| b.words.as_ref()),
    };
    for b in baselines {
        let Some((name, l, row_secs)) = baselines::rank(*b, &inputs, &mut text)? else {
            continue;
        };
        results.push(score(&name, &l, row_secs));
        if b.is_rival() {
            rivals.push((name.clone(), other_lists.len()));
        }
        if *b == Baseline::Knn {
            // The fixed fusion of the two signals, for reference.
            let f = eval::RankFusion::RRF.fuse(&lists, &l, 10);
            other_lists.push(l);
            results.push(score(
                "RRF(genrec, text-kNN last item), k = 60",
                &f,
                secs + row_secs,
            ));
            other_lists.push(f);
        } else {
            other_lists.push(l);
        }
    }
    if verifier.is_some() {
        // The reranked lists against what a user would otherwise pick.
        let d = against_rivals(&other_lists[0], &rivals, &other_lists, &targets, &protocol);
        results[1].paired.extend(d);
    }
    if let Some(r) = blend {
        let t = Instant::now();
        baselines::read_text(&mut text, &ds_dir)
            .context("the verifier's blend needs the dataset's embeddings")?;
        let nn = text.as_mut().expect("just read");
        let (name, l) = blend::row(r, nn, held, &reranked_hits, &seen, &protocol)?;
        results.push(score(
            &name,
            &l,
            secs + verify_secs + t.elapsed().as_secs_f64(),
        ));
        let d = against_rivals(&l, &rivals, &other_lists, &targets, &protocol);
        results.last_mut().expect("just pushed").paired.extend(d);
        other_lists.push(l);
        default_row = results.len() - 1;
    }
    if let Some(c) = &stored {
        baselines::read_text(&mut text, &ds_dir).context(
            "the checkpoint's text fusion needs the dataset's embeddings (genrec embed)",
        )?;
        let nn = text.as_mut().expect("just read");
        c.check_neighbours(nn)
            .with_context(|| genrec::embed::default_output(&ds_dir).display().to_string())?;
        let t = Instant::now();
        let last = eval::TextQuery::LAST;
        let tk = eval::text_knn(nn, held, &seen, &protocol, last, c.depth)?;
        let l = c.fusion.fuse(&hit_items(&beams), &tk, 10);
        results.push(score(
            &format!(
                "genrec ⊕ text-kNN (recommend's default without a verifier; w = {}, k = {}, chosen at training on validation)",
                c.fusion.weight, c.fusion.k
            ),
            &l,
            secs + t.elapsed().as_secs_f64(),
        ));
        let d = against_rivals(&l, &rivals, &other_lists, &targets, &protocol);
        results.last_mut().expect("just pushed").paired.extend(d);
        other_lists.push(l);
        if verifier.is_none() {
            default_row = results.len() - 1;
        }
    }
    if a.text_fusion {
        baselines::read_text(&mut text, &ds_dir)
            .context("--text-fusion needs the dataset's embeddings (genrec embed)")?;
        let nn = text.as_mut().expect("just read");
        let t = Instant::now();
        // λ on the validation users: their beams, text neighbours and scores.
        let valid = ds.held_out(Split::Valid);
        let valid_seen = eval::seen_before(&ds.known(Known::Before(Split::Valid)));
        let vq: Vec<Query> = valid.iter().map(Query::from).collect();
        let valid_beams = gen.generate_batched(
            &vq,
            FUSION_BEAMS.min(beam),
            a.decode.batch_size,
            &genrec::progress::Silent,
        );
        let vc = fusion_candidates(&gen, valid, &valid_beams, nn, &valid_seen, &protocol)?;
        let vt: Vec<u32> = valid.iter().map(|h| h.target).collect();
        let (lambda, sweep) = eval::choose_lambda(&vc, &vt, &FUSION_LAMBDAS);
        genrec::tell!(
            "text fusion, validation NDCG@10 by λ: {}",
            sweep
                .iter()
                .map(|(l, n)| format!("{l}: {n:.4}"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        let c = fusion_candidates(&gen, held, &beams, nn, &seen, &protocol)?;
        let l = eval::fuse(&c, lambda, 10);
        results.push(score(
            &format!("genrec + text (λ = {lambda}, chosen on validation)"),
            &l,
            secs + t.elapsed().as_secs_f64(),
        ));
        other_lists.push(l);

        // The rank fusion training would choose (when it chose none: an
        // older checkpoint), by the same rule on the same validation users.
        if stored.is_none() {
            let t = Instant::now();
            let choice = eval::FusionChoice::choose(&hit_items(&valid_beams), valid, nn)?;
            genrec::tell!("{}", choice.describe());
            let last = eval::TextQuery::LAST;
            let tk = eval::text_knn(nn, held, &seen, &protocol, last, choice.depth)?;
            let rf = choice.fusion;
            let l = rf.fuse(&hit_items(&beams), &tk, 10);
            results.push(score(
                &format!(
                    "genrec ⊕ text-kNN (w = {}, k = {}, chosen on validation)",
                    rf.weight, rf.k
                ),
                &l,
                secs + t.elapsed().as_secs_f64(),
            ));
            other_lists.push(l);
        }
    }
    for (r, l) in results[1..].iter_mut().zip(&other_lists) {
        r.paired.insert(
            0,
            eval::paired_difference("genrec", &targets, l, &lists, &protocol),
        );
    }

    // Each row's NDCG@10 by the target's count and by the history's length.
    let all_lists = std::iter::once(&lists).chain(&other_lists);
    let names = results.iter().map(|r| r.method.as_str());
    let rows: Vec<_> = names.zip(all_lists.map(Vec::as_slice)).collect();
    let breakdowns = eval::segments::breakdowns(&rows, held, &counts, &protocol);
    report::write(
        a.out.as_deref(),
        &report::Run {
            ck,
            ds_dir: &ds_dir,
            ds,
            codes_sha256: &index.summary.codes_sha256,
            split: a.split,
            protocol: &protocol,
            beam,
            users: held.len(),
            exclude_seen: a.decode.exclude_seen,
            default_row,
        },
        (&results, &breakdowns),
        &recs,
    )?;
    Ok(())
}
