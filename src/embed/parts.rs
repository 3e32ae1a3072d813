//! A sharded `genrec embed`: each machine embeds part i of n of the items
//! (`TextEncoder::encode_part`, the same batches as an unsharded run) into
//! `<out stem>.part-<i>-of-<n>.safetensors`; `gather` checks that the parts
//! are complete, disjoint and from one encoder and one set of item texts,
//! and joins them into the ordinary embeddings file that `genrec index` reads.
use super::{EmbeddingSource, Encoded};
use crate::error::{Error, Result};
use crate::util::part::Part;
use crate::util::st::{self, StFile};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use tch::{Kind, Tensor};

/// The metadata key that marks a part ("i/n"); `Embeddings::read` refuses such files.
pub const PART_KEY: &str = "part";

fn stem(out: &Path) -> String {
    out.file_stem()
        .unwrap_or_default()
        .to_string_lossy()
        .into_owned()
}

/// Where part `i` of `n` of the embeddings file `out` goes.
pub fn part_path(out: &Path, part: Part) -> PathBuf {
    out.with_file_name(format!(
        "{}.part-{}-of-{}.safetensors",
        stem(out),
        part.index,
        part.of
    ))
}

/// Writes the rows of `e` that part `i` of `n` computed.
pub fn write_part(
    out: &Path,
    e: &Encoded,
    source: &EmbeddingSource,
    part: Part,
) -> Result<PathBuf> {
    let path = part_path(out, part);
    let ids = Tensor::from_slice(&e.rows);
    let rows = e.matrix.index_select(0, &ids);
    let meta = BTreeMap::from([
        ("encoder".to_string(), source.encoder.clone()),
        ("encoder_sha256".to_string(), source.encoder_sha256.clone()),
        (
            "item_text_sha256".to_string(),
            source.item_text_sha256.clone(),
        ),
        (PART_KEY.to_string(), part.to_string()),
    ]);
    st::write(
        &path,
        &[("item_ids".into(), ids), ("embeddings".into(), rows)],
        &meta,
    )?;
    Ok(path)
}

/// The parts of `out` joined: `[n_items, D]`, their common source, and how many parts.
pub fn gather(out: &Path, n_items: usize) -> Result<(Tensor, EmbeddingSource, usize)> {
    let dir = match out.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let prefix = format!("{}.part-", stem(out));
    let mut found: BTreeMap<usize, Vec<(usize, PathBuf)>> = BTreeMap::new();
    for entry in std::fs::read_dir(&dir).map_err(|err| Error::Io {
        path: dir.clone(),
        err,
    })? {
        let p = entry
            .map_err(|err| Error::Io {
                path: dir.clone(),
                err,
            })?
            .path();
        let name = p
            .file_name()
            .unwrap_or_default()
            .to_string_lossy()
            .into_owned();
        let Some(rest) = name
            .strip_prefix(&prefix)
            .and_then(|r| r.strip_suffix(".safetensors"))
        else {
            continue;
        };
        if let Some((i, n)) = rest.split_once("-of-") {
            if let (Ok(i), Ok(n)) = (i.parse::<usize>(), n.parse::<usize>()) {
                found.entry(n).or_default().push((i, p));
            }
        }
    }
    let no_parts = || {
        Error::input(out, None, format!("no parts to gather: expected {}/{prefix}<i>-of-<n>.safetensors from `genrec embed --shard i/n`", dir.display()))
    };
    let (&n, parts) = match found.len() {
        0 => return Err(no_parts()),
        1 => found.iter().next().ok_or_else(no_parts)?,
        _ => {
            return Err(Error::input(
                out,
                None,
                format!(
                "parts of several shardings lie beside it (of {:?} parts); remove the stale ones",
                found.keys().collect::<Vec<_>>()
            ),
            ))
        }
    };
    let missing: Vec<usize> = (0..n)
        .filter(|i| !parts.iter().any(|(j, _)| j == i))
        .collect();
    if !missing.is_empty() {
        return Err(Error::input(
            out,
            None,
            format!(
                "parts {missing:?} of {n} are missing (run `genrec embed --shard i/{n}` for them)"
            ),
        ));
    }
    let mut matrix: Option<Tensor> = None;
    let mut covered = vec![false; n_items];
    let mut source: Option<EmbeddingSource> = None;
    for (_, path) in parts {
        let f = StFile::read(path)?;
        let meta = |k: &str| {
            f.metadata
                .get(k)
                .cloned()
                .ok_or_else(|| Error::input(path, None, format!("metadata `{k}` missing")))
        };
        let src = EmbeddingSource {
            encoder: meta("encoder")?,
            encoder_sha256: meta("encoder_sha256")?,
            item_text_sha256: meta("item_text_sha256")?,
            name_weight: None,
            chosen_on: None,
        };
        match &source {
            Some(s) if *s != src => {
                return Err(Error::input(
                    path,
                    None,
                    "embedded with another encoder or from other item texts than the other parts",
                ))
            }
            _ => source = Some(src),
        }
        let rows = f.get(path, "embeddings")?;
        let ids = Vec::<i64>::try_from(f.get(path, "item_ids")?).map_err(Error::Torch)?;
        let m = matrix.get_or_insert_with(|| {
            Tensor::zeros(
                [n_items as i64, rows.size()[1]],
                (Kind::Float, tch::Device::Cpu),
            )
        });
        if rows.size() != [ids.len() as i64, m.size()[1]] {
            return Err(Error::input(
                path,
                None,
                format!(
                    "embeddings {:?} do not match {} item ids of width {}",
                    rows.size(),
                    ids.len(),
                    m.size()[1]
                ),
            ));
        }
        for &id in &ids {
            match covered.get_mut(id as usize) {
                Some(c) if !*c => *c = true,
                Some(_) => {
                    return Err(Error::input(
                        path,
                        None,
                        format!("item {id} is in two parts"),
                    ))
                }
                None => {
                    return Err(Error::input(
                        path,
                        None,
                        format!("item {id} is beyond the dataset's {n_items} items"),
                    ))
                }
            }
        }
        let _ = m.index_copy_(0, &Tensor::from_slice(&ids), &rows.to_kind(Kind::Float));
    }
    if let Some(first) = covered.iter().position(|c| !c) {
        return Err(Error::input(out, None, format!("the {n} parts leave items out (the first: {first}); were they embedded from another items.jsonl?")));
    }
    match (matrix, source) {
        (Some(m), Some(s)) => Ok((m, s, n)),
        _ => Err(no_parts()),
    }
}
