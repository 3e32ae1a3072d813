//! The generic JSONL format, one object per line: interactions
//! (`{"user", "item", "timestamp", "rating"?}`) or whole sequences
//! (`{"user", "items": [...]}`), and items (an id and any text fields, kept
//! in the file's key order); CSV files with a header are read as the same
//! records ([`delimited`]). Errors name the file, the line and what was
//! expected.
use super::delimited;
use super::keys::{whole_sequence, Keys};
use super::*;

fn json_id(f: &TextFile, ln: usize, what: &str, v: Option<&Value>) -> Result<String> {
    let id = match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Some(s.trim().to_string()),
        Some(Value::Number(n)) => number_id(n),
        _ => None,
    };
    match (id, v) {
        (Some(id), _) => Ok(id),
        (None, Some(other)) => Err(f.err(
            ln,
            format!("field `{what}` is {other}, expected a string or integer id"),
        )),
        (None, None) => Err(f.err(ln, format!("missing field `{what}`"))),
    }
}

/// An integer's id; a whole number written as a float (`1234.0`: data
/// frames write an integer column that has a gap so) is that integer's, up
/// to ±2^53, where every integer is a float; a fraction has none.
fn number_id(n: &serde_json::Number) -> Option<String> {
    if n.is_u64() || n.is_i64() {
        return Some(n.to_string());
    }
    n.as_f64()
        .filter(|x| x.fract() == 0.0 && x.abs() <= 9_007_199_254_740_992.0)
        .map(|x| (x as i64).to_string())
}

/// A JSON value as item text: strings as they are, except web addresses
/// (image and video links describe nothing the text encoder can read);
/// arrays joined with ", "; objects as "key: value; …" (e.g. a product's
/// `details`, a business's `attributes`); null as nothing.
fn item_text(v: &Value) -> String {
    let joined = |parts: Vec<String>, sep: &str| {
        parts
            .into_iter()
            .filter(|p| !p.is_empty())
            .collect::<Vec<_>>()
            .join(sep)
    };
    match v {
        Value::Null => String::new(),
        Value::String(s) if is_link(s.trim()) => String::new(),
        Value::String(s) => s.trim().to_string(),
        Value::Array(a) => joined(a.iter().map(item_text).collect(), ", "),
        Value::Object(m) => joined(
            m.iter()
                .map(|(k, x)| match item_text(x) {
                    t if t.is_empty() => t,
                    t => format!("{k}: {t}"),
                })
                .collect(),
            "; ",
        ),
        other => other.to_string(),
    }
}

/// A web address alone (no other words).
fn is_link(s: &str) -> bool {
    (s.starts_with("http://") || s.starts_with("https://")) && !s.contains(char::is_whitespace)
}

fn json_object(f: &TextFile, ln: usize, line: &str) -> Result<Ordered> {
    serde_json::from_str::<Ordered>(line).map_err(|e| {
        if line.trim_start().starts_with('[') {
            f.err(ln, "a JSON array, but genrec reads JSON Lines: one object per line (`jq -c '.[]' in.json > out.jsonl` converts it)")
        } else if line.trim_start().starts_with("{'") {
            f.err(ln, "a Python dict, not JSON (single quotes, as Amazon's 2014 metadata files are written): convert each line with Python's `json.dumps(ast.literal_eval(line))`")
        } else if e.is_data() {
            f.err(ln, "expected a JSON object on each line")
        } else {
            f.err(ln, format!("malformed JSON: {e}"))
        }
    })
}

/// A file's records as (line, object) pairs, in the file's order.
type Records<'f> = Box<dyn Iterator<Item = Result<(usize, Ordered)>> + 'f>;

/// The records of a file in the generic format: a JSON object a line, or
/// the rows of a CSV file with a header ([`delimited`]).
fn records(f: &TextFile) -> Result<Records<'_>> {
    if delimited::is_csv(f) {
        return Ok(Box::new(delimited::rows(f)?.into_iter().map(Ok)));
    }
    Ok(Box::new(f.data_lines().map(move |(ln, line)| {
        Ok((ln, json_object(f, ln, line)?))
    })))
}

/// A JSON object's fields in the order the file has them (serde_json's own
/// map sorts its keys, which put `brand` and `description` before `title` in
/// every item text).
pub(super) struct Ordered(pub(super) Vec<(String, Value)>);

impl Ordered {
    pub(super) fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    pub(super) fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }
    /// The object's key for the first of `names` it has: spelled exactly,
    /// else (no name spelled exactly) differing only in case and separators
    /// (`CustomerID`, `visitorid`, `Item Id` for `customer_id`, `visitor_id`,
    /// `item_id`), as exports and data frames write them.
    pub(super) fn find_key(&self, names: &[&str]) -> Option<String> {
        if let Some(n) = names.iter().find(|n| self.contains_key(n)) {
            return Some(n.to_string());
        }
        let loose = |s: &str| {
            s.chars()
                .filter(|c| !matches!(c, '_' | '-' | ' ' | '.'))
                .flat_map(char::to_lowercase)
                .collect::<String>()
        };
        let keys: Vec<String> = self.0.iter().map(|(k, _)| loose(k)).collect();
        names.iter().find_map(|n| {
            let n = loose(n);
            keys.iter()
                .position(|k| *k == n)
                .map(|i| self.0[i].0.clone())
        })
    }
}

impl<'de> serde::Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Fields;
        impl<'de> serde::de::Visitor<'de> for Fields {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<Ordered, A::Error> {
                let mut v: Vec<(String, Value)> = Vec::new();
                while let Some((k, x)) = m.next_entry::<String, Value>()? {
                    // A repeated key keeps its first place and its last value, as serde_json does.
                    match v.iter_mut().find(|(key, _)| *key == k) {
                        Some(slot) => slot.1 = x,
                        None => v.push((k, x)),
                    }
                }
                Ok(Ordered(v))
            }
        }
        d.deserialize_map(Fields)
    }
}

const NOT_A_TIME: &str =
    "is not a number nor a date (expected e.g. 1457484282, 2016-03-09, 2016-03-09T00:44:42Z or 3/9/2016 0:44)";

/// The interactions of a JSONL file, and the keys they were read from
/// (`None`: the file has no data line).
pub(super) fn read_jsonl_interactions(
    path: &Path,
    named: &FieldNames,
) -> Result<(Vec<RawInteraction>, Option<Keys>)> {
    let f = TextFile::read(path)?;
    let mut out = Vec::new();
    let mut keys: Option<Keys> = None;
    let mut seen_users: HashMap<String, usize> = HashMap::new();
    let mut slashed = super::timestamp::SlashDates::default();
    for row in records(&f)? {
        let (ln, m) = row?;
        let k = match &keys {
            Some(k) => k,
            None => keys.insert(Keys::choose(&f, ln, &m, named)?),
        };
        let is_seq = whole_sequence(&m, named);
        if is_seq != (k.item == "items") {
            return Err(f.err(
                ln,
                if is_seq {
                    format!(
                        "expected an interaction line with `{}` like the first line",
                        k.item
                    )
                } else {
                    "expected a sequence line with `items` like the first line".into()
                },
            ));
        }
        let user = json_id(&f, ln, &k.user, m.get(&k.user))?;
        if is_seq {
            if let Some(prev) = seen_users.insert(user.clone(), ln) {
                return Err(f.err(ln, format!("user {user} appears again (first at line {prev}); expected one line per user")));
            }
            let Some(Value::Array(items)) = m.get("items") else {
                return Err(f.err(ln, "field `items` must be an array of item ids"));
            };
            for (pos, v) in items.iter().enumerate() {
                out.push(RawInteraction {
                    user: user.clone(),
                    item: json_id(&f, ln, "items[]", Some(v))?,
                    timestamp: pos as f64,
                    rating: None,
                    line: ln,
                });
            }
            continue;
        }
        let timestamp = match k.time.as_deref().map(|t| (t, m.get(t))) {
            // Ties are broken by file order: one time for all keeps it.
            None => 0.0,
            Some((_, Some(Value::Number(n)))) => n.as_f64().unwrap_or(f64::NAN),
            Some((t, Some(Value::String(s)))) => match super::timestamp::parse(s) {
                Some(x) => x,
                None if slashed.keep(out.len(), ln, s) => f64::NAN, // set below
                None => return Err(f.err(ln, format!("{t} `{s}` {NOT_A_TIME}"))),
            },
            Some((t, Some(other))) => return Err(f.err(ln, format!("{t} `{other}` {NOT_A_TIME}"))),
            Some((t, None)) => {
                return Err(f.err(
                    ln,
                    format!("missing field `{t}` (the time field of line 1)"),
                ))
            }
        };
        let rating = match k.rating.as_deref().map(|r| (r, m.get(r))) {
            None => None,
            Some((_, Some(Value::Number(n)))) => n.as_f64(),
            // Exports converted from CSV write numbers as strings: "4", "4.5".
            Some((r, Some(Value::String(s)))) => Some(super::parse_number(&f, ln, r, s)?),
            Some((r, None | Some(Value::Null))) => {
                return Err(f.err(ln, format!("`{r}` must be on every line or on none")))
            }
            Some((r, Some(other))) => {
                return Err(f.err(ln, format!("{r} `{other}` is not a number")))
            }
        };
        out.push(RawInteraction {
            user,
            item: json_id(&f, ln, &k.item, m.get(&k.item))?,
            timestamp,
            rating,
            line: ln,
        });
    }
    slashed.resolve(&f, &mut out)?;
    Ok((out, keys))
}

/// The items of a JSONL file, each keyed by `preferred` when it has that
/// field (the interactions' item key: Goodreads' books carry an often empty
/// `asin` beside `book_id`), else by the first of [`ITEM_ID_COLUMNS`] present.
pub(super) fn read_jsonl_items(
    path: &Path,
    preferred: Option<&str>,
) -> Result<(Vec<RawItem>, Vec<String>)> {
    let f = TextFile::read(path)?;
    let id_names: Vec<&str> = preferred.into_iter().chain(ITEM_ID_COLUMNS).collect();
    let mut items = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    for row in records(&f)? {
        let (ln, m) = row?;
        let key = m.find_key(&id_names).ok_or_else(|| {
            f.err(
                ln,
                format!(
                    "missing item id field (expected one of {})",
                    ITEM_ID_COLUMNS.join(", ")
                ),
            )
        })?;
        let id = json_id(&f, ln, &key, m.get(&key))?;
        let mut row = Vec::new();
        for (k, v) in &m.0 {
            if *k == key {
                continue;
            }
            let s = item_text(v);
            if !fields.contains(k) {
                fields.push(k.clone());
            }
            row.push((k.clone(), s));
        }
        items.push(RawItem {
            id,
            fields: row,
            line: ln,
        });
    }
    Ok((items, fields))
}
