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
    let mut repeated: Vec<usize> = Vec::new();
    // (line, the first row's line, id, a field they differ in), the first one.
    let mut differing: (usize, Option<(usize, usize, String, String)>) = (0, None);
    for it in items {
        match first.get(&it.id) {
            Some(&k) if kept[k].fields == it.fields => repeated.push(it.line),
            Some(&k) => {
                differing.0 += 1;
                if differing.1.is_none() {
                    let a = &kept[k];
                    let field = a
                        .fields
                        .iter()
                        .chain(&it.fields)
                        .find(|(f, _)| a.field(f) != it.field(f))
                        .map_or("?", |(f, _)| f.as_str());
                    differing.1 = Some((it.line, a.line, it.id.clone(), field.to_string()));
                }
            }
            None => {
                first.insert(it.id.clone(), kept.len());
                kept.push(it);
            }
        }
    }
    if let [line, ..] = repeated[..] {
        crate::tell!(
            "note: {}: {} item row(s) repeat an earlier row of the same item and are left out \
             (the first of them at line {line})",
            path.display(),
            repeated.len()
        );
    }
    if let (n, Some((line, at, id, field))) = differing {
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
