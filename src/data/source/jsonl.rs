//! The generic JSONL format, one object per line: interactions
//! (`{"user", "item", "timestamp", "rating"?}`) or whole sequences
//! (`{"user", "items": [...]}`), and items (an id and any text fields, kept
//! in the file's key order). Errors name the file, the line and what was
//! expected.
use super::*;

fn json_id(f: &TextFile, ln: usize, what: &str, v: Option<&Value>) -> Result<String> {
    match v {
        Some(Value::String(s)) if !s.trim().is_empty() => Ok(s.trim().to_string()),
        Some(Value::Number(n)) if n.is_u64() || n.is_i64() => Ok(n.to_string()),
        Some(other) => Err(f.err(
            ln,
            format!("field `{what}` is {other}, expected a string or integer id"),
        )),
        None => Err(f.err(ln, format!("missing field `{what}`"))),
    }
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
        if e.is_data() {
            f.err(ln, "expected a JSON object on each line")
        } else {
            f.err(ln, format!("malformed JSON: {e}"))
        }
    })
}

/// A JSON object's fields in the order the file has them (serde_json's own
/// map sorts its keys, which put `brand` and `description` before `title` in
/// every item text).
struct Ordered(Vec<(String, Value)>);

impl Ordered {
    fn get(&self, key: &str) -> Option<&Value> {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }
    fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
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
    "is not a number nor a date (expected e.g. 1457484282, 2016-03-09 or 2016-03-09T00:44:42Z)";

pub(super) fn read_jsonl_interactions(path: &Path) -> Result<(Vec<RawInteraction>, bool)> {
    let f = TextFile::read(path)?;
    let mut out = Vec::new();
    let mut sequences: Option<bool> = None;
    let mut has_rating = None;
    let mut seen_users: HashMap<String, usize> = HashMap::new();
    for (ln, line) in f.data_lines() {
        let m = json_object(&f, ln, line)?;
        let is_seq = m.contains_key("items");
        match sequences {
            None => sequences = Some(is_seq),
            Some(s) if s != is_seq => {
                return Err(f.err(
                    ln,
                    if s {
                        "expected a sequence line with `items` like the first line"
                    } else {
                        "expected an interaction line with `item` like the first line"
                    },
                ))
            }
            _ => {}
        }
        let user = json_id(&f, ln, "user", m.get("user"))?;
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
        } else {
            let ts = match m.get("timestamp") {
                Some(Value::Number(n)) => n.as_f64().unwrap_or(f64::NAN),
                Some(Value::String(s)) => super::timestamp::parse(s)
                    .ok_or_else(|| f.err(ln, format!("timestamp `{s}` {NOT_A_TIME}")))?,
                Some(other) => return Err(f.err(ln, format!("timestamp `{other}` {NOT_A_TIME}"))),
                None => return Err(f.err(ln, "missing field `timestamp`")),
            };
            let rating = match m.get("rating") {
                None | Some(Value::Null) => None,
                Some(Value::Number(n)) => n.as_f64(),
                Some(other) => return Err(f.err(ln, format!("rating `{other}` is not a number"))),
            };
            match has_rating {
                None => has_rating = Some(rating.is_some()),
                Some(h) if h != rating.is_some() => {
                    return Err(f.err(ln, "`rating` must be on every line or on none"))
                }
                _ => {}
            }
            out.push(RawInteraction {
                user,
                item: json_id(&f, ln, "item", m.get("item"))?,
                timestamp: ts,
                rating,
                line: ln,
            });
        }
    }
    Ok((out, has_rating.unwrap_or(false)))
}

pub(super) fn read_jsonl_items(path: &Path) -> Result<(Vec<RawItem>, Vec<String>)> {
    let f = TextFile::read(path)?;
    let mut items = Vec::new();
    let mut fields: Vec<String> = Vec::new();
    for (ln, line) in f.data_lines() {
        let m = json_object(&f, ln, line)?;
        let key = ITEM_ID_COLUMNS
            .iter()
            .find(|k| m.contains_key(k))
            .ok_or_else(|| {
                f.err(
                    ln,
                    format!(
                        "missing item id field (expected one of {})",
                        ITEM_ID_COLUMNS.join(", ")
                    ),
                )
            })?;
        let id = json_id(&f, ln, key, m.get(key))?;
        let mut row = Vec::new();
        for (k, v) in &m.0 {
            if k == key {
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
