//! An item file's rows with each item once. Catalogues as published list
//! some items twice: identical rows (a dump that repeats a product), or rows
//! that differ (a business listed again with other hours, a product in two
//! category files joined). The first row of each item is kept and the user
//! told; where differing rows are most of the file, its id field does not
//! name items one to one, which is an error.
use super::RawItem;
use crate::error::{Error, Result};
use std::collections::HashMap;
use std::path::Path;

/// The item rows with each id once: a row that repeats an earlier row of the
/// same id field for field (a catalogue dump that lists a product twice;
/// Book-Crossing's ISBN `0486404242`, once with a tab after it) is left out,
/// and the user told. A row of an id seen before with other values (a
/// business listed again with other hours, a product in two category files)
/// is left out too, the first row kept, and the user told the count, the
/// first such line and a field it differs in; where such rows are more than
/// half the file, the id field does not name items one to one, an error.
pub(super) fn unique(path: &Path, items: Vec<RawItem>) -> Result<Vec<RawItem>> {
    let rows = items.len();
    let mut first: HashMap<String, usize> = HashMap::with_capacity(rows);
    let mut kept: Vec<RawItem> = Vec::with_capacity(rows);
    // Rows that repeat an earlier one field for field: how many, the first's line.
    let (mut repeated, mut first_repeated) = (0, None);
    let mut differing = 0;
    let mut first_differing: Option<Differing> = None;
    for it in items {
        match first.get(&it.id) {
            Some(&k) if kept[k].fields == it.fields => {
                repeated += 1;
                first_repeated.get_or_insert(it.line);
            }
            Some(&k) => {
                differing += 1;
                first_differing.get_or_insert_with(|| Differing::of(&kept[k], &it));
            }
            None => {
                first.insert(it.id.clone(), kept.len());
                kept.push(it);
            }
        }
    }
    if let Some(line) = first_repeated {
        crate::tell!(
            "note: {}: {repeated} item row(s) repeat an earlier row of the same item and are \
             left out (the first of them at line {line})",
            path.display()
        );
    }
    if let Some(Differing {
        line,
        at,
        id,
        field,
    }) = first_differing
    {
        let n = differing;
        let what = format!(
            "a second row for item {id} (the first at line {at}) that differs in `{field}`"
        );
        if 2 * n > rows {
            return Err(Error::input(
                path,
                Some(line),
                format!(
                    "{what}, and {n} of the {rows} rows are such: expected one row per item \
                     (is the id field the item's id?)"
                ),
            ));
        }
        crate::tell!(
            "note: {}:{line}: {what}; {n} such row(s) are left out, the first row of each item kept",
            path.display()
        );
    }
    Ok(kept)
}

/// A row of an item seen before, with other values: its line, the first
/// row's line, the id and a field they differ in.
struct Differing {
    line: usize,
    at: usize,
    id: String,
    field: String,
}

impl Differing {
    fn of(first: &RawItem, again: &RawItem) -> Self {
        let field = first
            .fields
            .iter()
            .chain(&again.fields)
            .find(|(f, _)| first.field(f) != again.field(f))
            .map_or("?", |(f, _)| f.as_str());
        Differing {
            line: again.line,
            at: first.line,
            id: again.id.clone(),
            field: field.to_string(),
        }
    }
}
