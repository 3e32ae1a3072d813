//! `evaluate`'s outputs: `results-<split>.json` (the run's provenance and
//! every row), `results-<split>.md` (the printed table) and the generator's
//! lists as `recs-<split>.jsonl`, all written atomically.
use anyhow::Context;
use genrec::artifact::checkpoint::Loaded;
use genrec::data::{Dataset, Split};
use genrec::eval::{self, MethodResult, Protocol};
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
}

/// Writes the three files into `out` and prints the table.
pub(super) fn write(
    out: &Path,
    run: &Run,
    results: &[MethodResult],
    recs: &[serde_json::Value],
) -> anyhow::Result<()> {
    let table = eval::markdown_table(results);
    let split = serde_json::to_value(run.split)?;
    let split = split.as_str().unwrap_or("test");
    let recs_name = format!("recs-{split}.jsonl");
    let report = serde_json::json!({
        "checkpoint": run.ck.dir, "dataset": run.ds_dir, "split": split, "protocol": run.protocol,
        "beam": run.beam, "semantic_ids_sha256": run.codes_sha256,
        "dataset_content_sha256": run.ds.manifest.content_sha256, "lists": recs_name, "results": results,
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
    print!("{header}{table}");
    println!(
        "wrote {}",
        out.join(format!("{name}.{{json,md}}")).display()
    );
    Ok(())
}
