//! Readers for the raw dataset formats genrec accepts, all producing one
//! [`RawDataset`]:
//!
//! * RecBole atomic files: `<name>.inter` and `<name>.item`, tab-separated with a
//!   typed header (`user_id:token  item_id:token  rating:float  timestamp:float`).
//! * P5-style `sequential_data.txt` (`user item item ...`, items in time order,
//!   LF or CRLF) with an item TSV (`p5_item_id  asin  title`).
//! * Generic JSONL: interactions (`{"user", "item", "timestamp", "rating"?}`,
//!   the timestamp a number or an ISO 8601 date; the names exported
//!   catalogues use are read too, e.g. `user_id`, `parent_asin`, and any
//!   other the user names: [`FieldNames`]) or
//!   whole sequences (`{"user", "items": [...]}`), plus items JSONL; either
//!   file may be CSV with a header row instead, read as the same records.
mod delimited;
mod fields;
mod jsonl;
mod keys;
mod resolve;
mod timestamp;
mod unique;

pub use fields::FieldNames;
pub use resolve::resolve;

use super::lines::TextFile;
use crate::error::{Error, Result};
use jsonl::{read_jsonl_interactions, read_jsonl_items};
use serde_json::Value;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use unique::unique;

/// One item row: original id and its named text fields (in file column order).
#[derive(Debug, Clone)]
pub struct RawItem {
    pub id: String,
    pub fields: Vec<(String, String)>,
    pub line: usize,
}

impl RawItem {
    pub fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// One interaction, in the order it appeared in its file.
#[derive(Debug, Clone)]
pub struct RawInteraction {
    pub user: String,
    pub item: String,
    pub timestamp: f64,
    pub rating: Option<f64>,
    pub line: usize,
}

/// The dataset as read, before any filtering.
#[derive(Debug)]
pub struct RawDataset {
    pub format: Format,
    pub interactions_path: PathBuf,
    pub items_path: PathBuf,
    pub interactions: Vec<RawInteraction>,
    pub has_rating: bool,
    /// Which fields the interactions were read from, when the format lets
    /// them vary (JSONL), for the summary.
    pub interaction_keys: Option<String>,
    /// Each user's interactions are in the order of the file's lines (JSONL
    /// or CSV lines without a time field), which may not be time's.
    pub in_line_order: bool,
    pub items: Vec<RawItem>,
    /// Text field names of the item file (id column excluded), in column order.
    pub item_fields: Vec<String>,
    /// Field used when an item's text is empty, if the format has a natural one.
    pub default_fallback_field: Option<String>,
    /// The key item rows are read under where they have it (JSONL: the
    /// interactions' item key), before the accepted id names.
    pub item_key: Option<String>,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, clap::ValueEnum,
)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// RecBole atomic files (.inter + .item)
    Recbole,
    /// P5-style sequential_data.txt + item TSV
    P5,
    /// JSONL interactions or sequences + items JSONL (either file may be CSV
    /// with a header instead)
    Jsonl,
}

impl std::fmt::Display for Format {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Format::Recbole => "RecBole atomic files",
            Format::P5 => "P5 sequences and an item TSV",
            Format::Jsonl => "JSON Lines or CSV records",
        })
    }
}

/// Names accepted for the item id column of an item file, in order of
/// preference: genrec's own, then those of exported catalogues (Amazon
/// Reviews 2023's `parent_asin`, Goodreads' `book_id`, Amazon 2018's `asin`,
/// Yelp's `business_id`, Google Local's `gmap_id`, Book-Crossing's `ISBN`).
const ITEM_ID_COLUMNS: [&str; 16] = [
    "item_id",
    "p5_item_id",
    "item",
    "id",
    "itemId",
    "parent_asin",
    "book_id",
    "asin",
    "business_id",
    "gmap_id",
    "product_id",
    "productId",
    "sku",
    "movie_id",
    "movieId",
    "isbn",
];

/// The items of a file in the generic format (JSONL or CSV, gzipped or
/// not), keyed by `preferred` where a row has it, else by the first
/// accepted id name: items added to a catalogue later (`index --add`).
pub fn read_items(path: &Path, preferred: Option<&str>) -> Result<(Vec<RawItem>, Vec<String>)> {
    let (items, fields) = read_jsonl_items(path, preferred)?;
    Ok((unique(path, items)?, fields))
}

/// Reads a dataset in the given format, JSONL's interaction fields as
/// `named`.
pub fn read(
    format: Format,
    interactions: &Path,
    items: &Path,
    named: &FieldNames,
) -> Result<RawDataset> {
    named.check(format)?;
    let mut in_line_order = false;
    let (interactions_v, has_rating, interaction_keys, item_key) = match format {
        Format::Recbole => {
            let (v, rated) = read_recbole_inter(interactions)?;
            (v, rated, None, None)
        }
        Format::P5 => (read_p5_sequences(interactions)?, false, None, None),
        Format::Jsonl => {
            let (v, keys) = read_jsonl_interactions(interactions, named)?;
            let k = keys.as_ref();
            in_line_order = k.is_some_and(|k| k.in_line_order());
            (
                v,
                k.is_some_and(|k| k.rated()),
                k.map(|k| k.describe()),
                k.and_then(|k| k.item_key()).map(str::to_string),
            )
        }
    };
    let (items_v, item_fields) = match format {
        Format::Jsonl => read_jsonl_items(items, item_key.as_deref())?,
        _ => read_tsv_items(items)?,
    };
    let items_v = unique(items, items_v)?;
    let default_fallback_field = item_fields.iter().find(|f| *f == "asin").cloned();
    Ok(RawDataset {
        format,
        interactions_path: interactions.to_path_buf(),
        items_path: items.to_path_buf(),
        interactions: interactions_v,
        has_rating,
        interaction_keys,
        in_line_order,
        items: items_v,
        item_fields,
        default_fallback_field,
        item_key,
    })
}

/// Splits a tab-separated header into column names, dropping RecBole's `:type`.
fn header_columns(
    f: &TextFile,
    line: usize,
    header: &str,
    typed: bool,
) -> Result<Vec<(String, Option<String>)>> {
    header
        .split('\t')
        .map(|c| {
            let c = c.trim();
            match c.split_once(':') {
                Some((n, t)) => Ok((n.to_string(), Some(t.to_string()))),
                None if typed => Err(f.err(
                    line,
                    format!(
                        "header column `{c}` has no type (expected name:type, e.g. user_id:token)"
                    ),
                )),
                None => Ok((c.to_string(), None)),
            }
        })
        .collect()
}

fn need_column(
    f: &TextFile,
    line: usize,
    cols: &[(String, Option<String>)],
    name: &str,
) -> Result<usize> {
    cols.iter().position(|(n, _)| n == name).ok_or_else(|| {
        let found: Vec<String> = cols
            .iter()
            .map(|(n, t)| t.as_ref().map_or(n.clone(), |t| format!("{n}:{t}")))
            .collect();
        f.err(
            line,
            format!("missing column `{name}` (found: {})", found.join(", ")),
        )
    })
}

fn parse_number(f: &TextFile, line: usize, what: &str, s: &str) -> Result<f64> {
    s.trim()
        .parse::<f64>()
        .ok()
        .filter(|x| x.is_finite())
        .ok_or_else(|| {
            f.err(
                line,
                format!("{what} `{s}` is not a number (expected a numeric {what})"),
            )
        })
}

/// A data row's tab-separated fields, as many as the header has.
fn tsv_row<'l>(f: &TextFile, ln: usize, line: &'l str, n: usize) -> Result<Vec<&'l str>> {
    let v: Vec<&str> = line.split('\t').collect();
    if v.len() != n {
        return Err(f.err(
            ln,
            format!(
                "found {} tab-separated columns, expected {n} as in the header",
                v.len()
            ),
        ));
    }
    Ok(v)
}

fn first_data_line(f: &TextFile) -> Result<(usize, &str)> {
    f.data_lines()
        .next()
        .ok_or_else(|| Error::input(&f.path, None, "the file is empty (expected data rows)"))
}

fn read_recbole_inter(path: &Path) -> Result<(Vec<RawInteraction>, bool)> {
    let f = TextFile::read(path)?;
    let (hl, header) = first_data_line(&f)?;
    let cols = header_columns(&f, hl, header, true)?;
    let u = need_column(&f, hl, &cols, "user_id")?;
    let i = need_column(&f, hl, &cols, "item_id")?;
    let t = need_column(&f, hl, &cols, "timestamp")?;
    let r = cols.iter().position(|(n, _)| n == "rating");
    let numeric_id = |c: usize| cols[c].1.as_deref() == Some("float");
    let mut out = Vec::new();
    for (ln, line) in f.data_lines().skip(1) {
        let v = tsv_row(&f, ln, line, cols.len())?;
        for (c, what) in [(u, "user id"), (i, "item id")] {
            if v[c].trim().is_empty() {
                return Err(f.err(ln, format!("empty {what}")));
            }
            if numeric_id(c) {
                parse_number(&f, ln, what, v[c])?;
            }
        }
        out.push(RawInteraction {
            user: v[u].trim().to_string(),
            item: v[i].trim().to_string(),
            timestamp: parse_number(&f, ln, "timestamp", v[t])?,
            rating: r
                .map(|r| parse_number(&f, ln, "rating", v[r]))
                .transpose()?,
            line: ln,
        });
    }
    if out.is_empty() {
        return Err(f.err(hl, "the file has a header but no data rows"));
    }
    Ok((out, r.is_some()))
}

fn parse_int_id(f: &TextFile, ln: usize, what: &str, s: &str) -> Result<String> {
    match s.parse::<u64>() {
        Ok(v) => Ok(v.to_string()),
        Err(_) => Err(f.err(
            ln,
            format!("{what} `{s}` is not a non-negative integer (expected integer ids)"),
        )),
    }
}

fn read_p5_sequences(path: &Path) -> Result<Vec<RawInteraction>> {
    let f = TextFile::read(path)?;
    let mut out = Vec::new();
    let mut seen: HashMap<String, usize> = HashMap::new();
    for (ln, line) in f.data_lines() {
        let mut it = line.split_whitespace();
        let user = parse_int_id(&f, ln, "user id", it.next().unwrap_or_default())?;
        if let Some(prev) = seen.insert(user.clone(), ln) {
            return Err(f.err(
                ln,
                format!(
                    "user {user} appears again (first at line {prev}); expected one line per user"
                ),
            ));
        }
        for (pos, tok) in it.enumerate() {
            out.push(RawInteraction {
                user: user.clone(),
                item: parse_int_id(&f, ln, "item id", tok)?,
                timestamp: pos as f64,
                rating: None,
                line: ln,
            });
        }
    }
    Ok(out)
}

/// Item files in TSV form (RecBole `.item` with typed header, or a plain TSV).
fn read_tsv_items(path: &Path) -> Result<(Vec<RawItem>, Vec<String>)> {
    let f = TextFile::read(path)?;
    let (hl, header) = first_data_line(&f)?;
    let cols = header_columns(&f, hl, header, false)?;
    let id_col = ITEM_ID_COLUMNS
        .iter()
        .find_map(|name| cols.iter().position(|(n, _)| n == name))
        .ok_or_else(|| {
            let found: Vec<&str> = cols.iter().map(|(n, _)| n.as_str()).collect();
            f.err(
                hl,
                format!(
                    "missing item id column (expected one of {}; found: {})",
                    ITEM_ID_COLUMNS.join(", "),
                    found.join(", ")
                ),
            )
        })?;
    let numeric_id = cols[id_col].0 == "p5_item_id" || cols[id_col].1.as_deref() == Some("float");
    let fields: Vec<String> = cols
        .iter()
        .enumerate()
        .filter(|(c, _)| *c != id_col)
        .map(|(_, (n, _))| n.clone())
        .collect();
    let mut items = Vec::new();
    for (ln, line) in f.data_lines().skip(1) {
        let v = tsv_row(&f, ln, line, cols.len())?;
        let raw_id = v[id_col].trim();
        if raw_id.is_empty() {
            return Err(f.err(ln, "empty item id"));
        }
        let id = if numeric_id {
            parse_int_id(&f, ln, "item id", raw_id)?
        } else {
            raw_id.to_string()
        };
        let fields = v
            .iter()
            .enumerate()
            .filter(|(c, _)| *c != id_col)
            .map(|(c, s)| (cols[c].0.clone(), s.trim().to_string()))
            .collect();
        items.push(RawItem {
            id,
            fields,
            line: ln,
        });
    }
    if items.is_empty() {
        return Err(f.err(hl, "the file has a header but no data rows"));
    }
    Ok((items, fields))
}
