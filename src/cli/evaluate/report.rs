//! `evaluate`'s outputs: `results-<split>.json` (the run's provenance and
//! every row), `results-<split>.md` (the printed table) and the generator's
//! lists as `recs-<split>.jsonl`, all written atomically.
use anyhow::Context;
use genrec::artifact::checkpoint::Loaded;
use genrec::data::{Dataset, Split};
use genrec::eval::{self, segments::Breakdown, MethodResult, Protocol};
use std::path::Path;

/// What the evaluation ran on.
pub(super) struct Run<'a> {
    pub ck: &'a Loaded,
    pub ds_dir: &'a Path,
    pub ds: &'a Dataset,
    pub codes_sha256: &'a str,
    pub split: Split,
    pub protocol: &'a Protocol,
    pub beam: usize,
    pub users: usize,
    pub exclude_seen: bool,
    /// The row whose lists `recommend` returns with the same arguments.
    pub default_row: usize,
}

/// Where the results go: `out`, or the checkpoint's run directory.
fn out_dir<'a>(out: Option<&'a Path>, ck: &'a Loaded) -> &'a Path {
    out.unwrap_or_else(|| ck.dir.parent().unwrap_or(&ck.dir))
}

/// From now on the command's log is `evaluate-<split>.log` beside the results.
pub(super) fn open_log(out: Option<&Path>, ck: &Loaded, split: Split) {
    let name = format!("evaluate-{}.log", split.name());
    genrec::util::log::to_or_warn(&out_dir(out, ck).join(name));
}

/// Writes the three files into `out` (default: the checkpoint's run
/// directory) and prints the table.
pub(super) fn write(
    out: Option<&Path>,
    run: &Run,
    (results, breakdowns): (&[MethodResult], &[Breakdown]),
    recs: &[serde_json::Value],
) -> anyhow::Result<()> {
    let out = out_dir(out, run.ck);
    let mut table = eval::markdown_table(results);
    for b in breakdowns {
        table.push('\n');
        table.push_str(&b.markdown());
    }
    let split = run.split.name();
    let recs_name = format!("recs-{split}.jsonl");
    let report = serde_json::json!({
        "checkpoint": run.ck.dir, "dataset": run.ds_dir, "split": split, "protocol": run.protocol,
        "beam": run.beam, "semantic_ids_sha256": run.codes_sha256,
        "dataset_content_sha256": run.ds.manifest.content_sha256, "lists": recs_name,
        "recommend_default": results[run.default_row].method, "results": results,
        "breakdowns": breakdowns,
    });
    let name = format!("results-{split}");
    genrec::util::fsx::write_json(&out.join(format!("{name}.json")), &report)
        .context("writing results")?;
    let header = format!(
        "{split} split of {} ({} users, full catalogue of {} items{}), checkpoint {}\n\n",
        run.ds_dir.display(),
        run.users,
        run.ds.items.len(),
        if run.exclude_seen {
            ", seen items excluded"
        } else {
            ""
        },
        run.ck.dir.display()
    );
    genrec::util::fsx::write_atomic(
        &out.join(format!("{name}.md")),
        format!("{header}{table}").as_bytes(),
    )?;
    let recs_text: String = recs.iter().map(|r| format!("{r}\n")).collect();
    genrec::util::fsx::write_atomic(&out.join(&recs_name), recs_text.as_bytes())?;
    genrec::say!("{header}{}", table.trim_end());
    let d = &results[run.default_row];
    let m = |k: &str| d.metrics.get(k).map_or(f64::NAN, |e| e.mean);
    genrec::say!(
        "recommend returns the row \"{}\": Recall@10 {:.4}, NDCG@10 {:.4}",
        d.method,
        m("recall@10"),
        m("ndcg@10")
    );
    genrec::say!(
        "wrote {}",
        out.join(format!("{name}.{{json,md}}")).display()
    );
    Ok(())
}

/// Prints the verifier's share of the decoding time and the throughput with
/// and without it.
pub(super) fn verifier_share(users: usize, secs: f64, verify_secs: f64) {
    let all = secs + verify_secs;
    genrec::tell!(
        "the verifier took {verify_secs:.1} s of {all:.1} s ({:.0} %): {:.1} users/s with it, {:.1} without",
        100.0 * verify_secs / all.max(1e-9),
        users as f64 / all.max(1e-9),
        users as f64 / secs.max(1e-9)
    );
}
