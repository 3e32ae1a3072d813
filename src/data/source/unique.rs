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
    // Rows that repeat an earlier one field for field (their lines), and
    // rows of an id seen before with other values.
    let mut repeated: Tally<usize> = Tally::default();
    let mut differing: Tally<Differing> = Tally::default();
    for it in items {
        match first.get(&it.id) {
            Some(&k) if kept[k].fields == it.fields => repeated.add(|| it.line),
            Some(&k) => differing.add(|| Differing::of(&kept[k], &it)),
            None => {
                first.insert(it.id.clone(), kept.len());
                kept.push(it);
            }
        }
    }
    if let Some(line) = repeated.first {
        crate::tell!(
            "note: {}: {} item row(s) repeat an earlier row of the same item and are \
             left out (the first of them at line {line})",
            path.display(),
            repeated.n
        );
    }
    if let Some(Differing {
        line,
        at,
        id,
        field,
    }) = differing.first
    {
        let n = differing.n;
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

/// How many of some kind of row, and what the first one says.
struct Tally<T> {
    n: usize,
    first: Option<T>,
}

impl<T> Default for Tally<T> {
    fn default() -> Self {
        Tally { n: 0, first: None }
    }
}

impl<T> Tally<T> {
    /// One more; `first` is called for the first one only.
    fn add(&mut self, first: impl FnOnce() -> T) {
        self.n += 1;
        self.first.get_or_insert_with(first);
    }
}
