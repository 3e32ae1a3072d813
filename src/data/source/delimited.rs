//! Comma- (or tab- or semicolon-) separated files with a header row as the generic format's records,
//! beside JSON Lines: exports and benchmark splits are often CSV (Amazon
//! Reviews 2023's `user_id,parent_asin,rating,timestamp` splits, shop and
//! event exports). Each row becomes the object a JSON line would be, its
//! values strings (ids, times and ratings are read from strings as JSONL's
//! are), so one reader serves both. Quoted fields may hold commas and line
//! breaks (RFC 4180); errors name the file and the line a row starts on.
use super::jsonl::Ordered;
use crate::data::lines::TextFile;
use crate::error::Result;
use serde_json::Value;

/// Whether a records file is CSV rather than JSON Lines: its first
/// non-blank character does not open a JSON value.
pub(super) fn is_csv(f: &TextFile) -> bool {
    !matches!(f.text().trim_start().chars().next(), Some('{' | '['))
}

/// The data rows of a CSV file as (line, object) pairs, keyed by the
/// header's names in its order. The separator is the one the header holds
/// most of: comma, tab, or semicolon (spreadsheets in locales with a decimal
/// comma write that); ties go to the comma. A column with an empty name (the
/// index a data frame writes first) is left out; a repeated name is an error.
pub(super) fn rows(f: &TextFile) -> Result<Vec<(usize, Ordered)>> {
    let first = f.text().trim_start().lines().next().unwrap_or_default();
    let (sep, what) = [(',', "comma"), ('\t', "tab"), (';', "semicolon")]
        .into_iter()
        .rev()
        .max_by_key(|(c, _)| first.matches(*c).count())
        .map(|(c, what)| (c as u8, what))
        .expect("three separators");
    // Where each line ends, to tell a row's line from its first byte (once,
    // for both readings below).
    let breaks: Vec<usize> = (f.text().bytes().enumerate())
        .filter(|&(_, b)| b == b'\n')
        .map(|(i, _)| i)
        .collect();
    match read_rows(f, &breaks, (sep, what), None) {
        // Some exports escape a quote inside a quoted field with a backslash
        // (`"The Word \"Desire\""`, as MySQL and PHP write) instead of doubling
        // it; read as RFC 4180, such a field ends early and its row splits
        // (Book-Crossing's `BX-Books.csv`). Where the file has that sequence
        // and the standard reading fails, the backslash reading is tried.
        Err(e) if f.text().contains("\\\"") => {
            let rows = read_rows(f, &breaks, (sep, what), Some(b'\\')).map_err(|_| e)?;
            crate::tell!(
                "note: {}: read with quotes escaped by a backslash (\\\"), as the file writes them",
                f.path.display()
            );
            Ok(rows)
        }
        read => read,
    }
}

/// The rows read with this separator (and its name, for errors), quotes
/// inside quoted fields doubled or, where `escape` is given, escaped by it;
/// `breaks`: the byte offsets of the text's line feeds.
fn read_rows(
    f: &TextFile,
    breaks: &[usize],
    (sep, what): (u8, &str),
    escape: Option<u8>,
) -> Result<Vec<(usize, Ordered)>> {
    let mut r = csv::ReaderBuilder::new()
        .delimiter(sep)
        .has_headers(true)
        .flexible(true)
        .escape(escape)
        .from_reader(f.text().as_bytes());
    // Lines are told from the byte a row starts at. After a CRLF row the csv
    // crate starts the next row at the LF (and counts one line short).
    let text = f.text().as_bytes();
    let line_of = |p: Option<&csv::Position>| {
        p.map_or(1, |p| {
            let at = p.byte() as usize;
            let at = at + usize::from(text.get(at) == Some(&b'\n'));
            breaks.partition_point(|&b| b < at) + 1
        })
    };
    let bad = |line: usize, e: csv::Error| f.err(line, format!("malformed CSV: {e}"));
    let header_row = r
        .headers()
        .map_err(|e| bad(line_of(e.position()), e))?
        .clone();
    let header_line = line_of(header_row.position());
    let header: Vec<String> = header_row.iter().map(|h| h.trim().to_string()).collect();
    for (i, h) in header.iter().enumerate() {
        if !h.is_empty() && header[..i].contains(h) {
            return Err(f.err(
                header_line,
                format!("column `{h}` appears twice in the header"),
            ));
        }
    }
    let mut out = Vec::new();
    for rec in r.records() {
        let rec = rec.map_err(|e| bad(line_of(e.position()), e))?;
        let ln = line_of(rec.position());
        // Blank rows, and the header again where files were concatenated
        // (`cat train.csv valid.csv test.csv`), are no data.
        if rec.iter().all(|v| v.trim().is_empty()) || rec.iter().map(str::trim).eq(header.iter()) {
            continue;
        }
        if rec.len() != header.len() {
            return Err(f.err(
                ln,
                format!(
                    "found {} {what}-separated fields, expected {} as in the header (a field holding a {what} needs double quotes)",
                    rec.len(),
                    header.len()
                ),
            ));
        }
        let fields = header
            .iter()
            .zip(rec.iter())
            .filter(|(h, _)| !h.is_empty())
            .map(|(h, v)| (h.clone(), Value::String(v.to_string())))
            .collect();
        out.push((ln, Ordered(fields)));
    }
    if out.is_empty() {
        return Err(f.err(header_line, "the file has a header but no data rows"));
    }
    Ok(out)
}
