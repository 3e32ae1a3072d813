//! Which format a dataset is in and where its two files are, from what the
//! user named: a RecBole or P5 directory, or a file told by its extension
//! (looking through a final `.gz`, as [`TextFile`](crate::data::lines::TextFile)
//! reads gzip through), and the item file beside it unless one is named.
use super::Format;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// A file name's extension, looking through a final `.gz` (`a.jsonl.gz`:
/// `jsonl`), as the readers look through gzip.
fn data_extension(p: &Path) -> &str {
    without_gz_name(p)
        .and_then(|n| Path::new(n).extension())
        .and_then(|e| e.to_str())
        .unwrap_or("")
}

fn without_gz_name(p: &Path) -> Option<&str> {
    let name = p.file_name()?.to_str()?;
    Some(name.strip_suffix(".gz").unwrap_or(name))
}

fn without_gz(p: &Path) -> PathBuf {
    without_gz_name(p).map_or_else(|| p.to_path_buf(), |n| p.with_file_name(n))
}

/// `p`, or `p.gz` where only that exists.
fn or_gz(p: PathBuf) -> PathBuf {
    let mut gz = p.clone().into_os_string();
    gz.push(".gz");
    let gz = PathBuf::from(gz);
    if !p.exists() && gz.exists() {
        gz
    } else {
        p
    }
}

/// Works out the format and the two file paths from what the user gave.
pub fn resolve(
    source: &Path,
    items: Option<&Path>,
    forced: Option<Format>,
) -> Result<(Format, PathBuf, PathBuf)> {
    let find = |dir: &Path, ext: &str| -> Result<Option<PathBuf>> {
        let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
            .map_err(|e| Error::io(dir, e))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| data_extension(p) == ext)
            .collect();
        found.sort();
        match found.len() {
            0 => Ok(None),
            1 => Ok(found.pop()),
            _ => Err(Error::input(
                dir,
                None,
                format!("several .{ext} files; name one explicitly"),
            )),
        }
    };
    let (format, inter) = if source.is_dir() {
        let p5 = or_gz(source.join("sequential_data.txt"));
        if let Some(p) = find(source, "inter")? {
            (Format::Recbole, p)
        } else if p5.exists() {
            (Format::P5, p5)
        } else {
            return Err(Error::input(
                source,
                None,
                "found neither a RecBole .inter file nor sequential_data.txt in this directory \
                 (expected a RecBole dataset directory, a P5 dataset directory, or a file)",
            ));
        }
    } else if !source.exists() {
        return Err(Error::input(source, None, "no such file or directory"));
    } else {
        let f = match (forced, data_extension(source)) {
            (Some(f), _) => f,
            (None, "inter") => Format::Recbole,
            (None, "jsonl" | "json" | "csv") => Format::Jsonl,
            (None, "txt") => Format::P5,
            _ => {
                return Err(Error::input(
                    source,
                    None,
                    "cannot tell the format from the file name; pass --format recbole|p5|jsonl",
                ))
            }
        };
        (f, source.to_path_buf())
    };
    let format = forced.unwrap_or(format);
    let items = match items {
        Some(p) => p.to_path_buf(),
        None => match format {
            Format::Recbole => or_gz(without_gz(&inter).with_extension("item")),
            Format::P5 => or_gz(inter.with_file_name("items.tsv")),
            Format::Jsonl => {
                return Err(Error::Config(
                    "JSONL input needs --items <items.jsonl>".into(),
                ))
            }
        },
    };
    if !items.exists() {
        return Err(Error::input(
            &items,
            None,
            "item file not found (pass --items <path>)",
        ));
    }
    Ok((format, inter, items))
}
