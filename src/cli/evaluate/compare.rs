//! `evaluate --compare`: an earlier run's per-user lists, for the paired
//! difference that says whether a change helped.
use anyhow::Context;
use genrec::data::Split;
use genrec::eval;

/// The generator's per-user lists of an earlier `evaluate` run, from its
/// results JSON (which names its lists file), checked to be the same split of
/// the same dataset.
pub(super) fn earlier_lists(
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
    let want = split.name();
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
        .unwrap_or_else(|| format!("recs-{want}.jsonl"));
    let path = results
        .parent()
        .unwrap_or(std::path::Path::new("."))
        .join(name);
    Ok(eval::read_lists(&path, ds, held)?)
}

/// Paired differences of `lists` to each rival row (its name and its index
/// in `others`).
pub(super) fn against_rivals(
    lists: &[Vec<u32>],
    rivals: &[(String, usize)],
    others: &[Vec<Vec<u32>>],
    targets: &[u32],
    protocol: &eval::Protocol,
) -> Vec<eval::Paired> {
    rivals
        .iter()
        .map(|(name, i)| eval::paired_difference(name, targets, lists, &others[*i], protocol))
        .collect()
}

/// The generator's paired difference to an earlier run's lists (`--compare`:
/// its results file and its lists), if there is one.
pub(super) fn against_earlier(
    earlier: Option<&(&std::path::PathBuf, Vec<Vec<u32>>)>,
    lists: &[Vec<u32>],
    targets: &[u32],
    protocol: &eval::Protocol,
) -> Option<eval::Paired> {
    earlier.map(|(c, e)| {
        let name = format!("earlier run ({})", c.display());
        eval::paired_difference(&name, targets, lists, e, protocol)
    })
}
