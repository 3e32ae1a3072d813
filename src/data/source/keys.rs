//! Which fields of an interactions file hold the user, the item, the time
//! and the rating: the names the user gave (`prepare --user-field` and the
//! like), else the first accepted name the first line has, spelled as
//! listed or differing only in case and separators; then required on every
//! line. A line lacking some says all of them at once.
use super::jsonl::Ordered;
use super::{FieldNames, ITEM_ID_COLUMNS};
use crate::data::lines::TextFile;
use crate::error::Result;

/// Names accepted for each field of an interaction line, in order of
/// preference: genrec's own first, then those of exported catalogues
/// (Amazon Reviews 2023: `user_id`; 2018: `reviewerID`, `unixReviewTime`,
/// `overall`; Yelp: `date`, `stars`; Google Local: `time`; shop and event
/// exports: `customer`, `visitor_id`, `ts`, `event_time`). The item is
/// named as in item files ([`ITEM_ID_COLUMNS`]), except `id`: on an
/// interaction line that is the review's. [`FieldNames`] names any other.
const USER_KEYS: &[&str] = &[
    "user",
    "user_id",
    "userId",
    "reviewerID",
    "customer_id",
    "customer",
    "customerId",
    "client_id",
    "visitor_id",
    "account_id",
];
const TIME_KEYS: &[&str] = &[
    "timestamp",
    "time",
    "unixReviewTime",
    "date",
    "datetime",
    "created_at",
    "ts",
    "event_time",
];
const RATING_KEYS: &[&str] = &["rating", "stars", "overall", "score"];

/// Whether a line is a whole sequence (`items`: [...]) rather than one
/// interaction: never where the user named the item field.
pub(super) fn whole_sequence(m: &Ordered, named: &FieldNames) -> bool {
    named.item.is_none() && m.contains_key("items")
}

/// The keys an interactions file uses, chosen on its first line (the named
/// one of [`FieldNames`], else the first accepted name present) and then
/// required on every line.
pub(super) struct Keys {
    pub(super) user: String,
    /// `items` (whole sequences) or the item key of an interaction line.
    pub(super) item: String,
    /// `None`: no time field; the file's order is the time order.
    pub(super) time: Option<String>,
    pub(super) rating: Option<String>,
}

impl Keys {
    pub(super) fn choose(f: &TextFile, ln: usize, m: &Ordered, named: &FieldNames) -> Result<Keys> {
        let on_line = || {
            m.0.iter()
                .map(|(k, _)| format!("`{k}`"))
                .collect::<Vec<_>>()
                .join(", ")
        };
        // The field the user named (which must be on the line), else the
        // first accepted name present.
        let pick = |flag: &str, given: &Option<String>, names: &[&str]| match given {
            Some(k) if m.contains_key(k) => Ok(Some(k.clone())),
            Some(k) => Err(f.err(
                ln,
                format!(
                    "no field `{k}` (named by {flag}); this line has {}",
                    on_line()
                ),
            )),
            None => Ok(m.find_key(names)),
        };
        let item_keys: Vec<&str> = ITEM_ID_COLUMNS
            .iter()
            .copied()
            .filter(|&k| k != "id")
            .collect();
        let user = pick("--user-field", &named.user, USER_KEYS)?;
        let sequence = whole_sequence(m, named);
        let item = if sequence {
            Some("items".to_string())
        } else {
            pick("--item-field", &named.item, &item_keys)?
        };
        // Every missing field in one message, so that a file with its own
        // names is fixed in one go.
        let expected = |what: &str, names: &[&str], or: &str| {
            format!("{what} field (expected one of {}{or})", names.join(", "))
        };
        let mut missing = Vec::new();
        if user.is_none() {
            missing.push(("--user-field", expected("user", USER_KEYS, "")));
        }
        if item.is_none() {
            missing.push((
                "--item-field",
                expected(
                    "item",
                    &item_keys,
                    "; or `items`: [...] for a whole sequence",
                ),
            ));
        }
        let (Some(user), Some(item)) = (user, item) else {
            let (flags, what): (Vec<&str>, Vec<String>) = missing.into_iter().unzip();
            return Err(f.err(
                ln,
                format!(
                    "missing {}; this line has {}: name yours with {}",
                    what.join(" and "),
                    on_line(),
                    flags.join(" and ")
                ),
            ));
        };
        if sequence {
            if let Some(flag) = [
                ("--time-field", &named.time),
                ("--rating-field", &named.rating),
            ]
            .iter()
            .find_map(|(flag, v)| v.is_some().then_some(flag))
            {
                return Err(f.err(
                    ln,
                    format!("a whole sequence (`items`: its order is its time, with no rating), where {flag} names a field of interaction lines"),
                ));
            }
            return Ok(Keys {
                user,
                item,
                time: None,
                rating: None,
            });
        }
        Ok(Keys {
            user,
            item,
            time: pick("--time-field", &named.time, TIME_KEYS)?,
            rating: pick("--rating-field", &named.rating, RATING_KEYS)?,
        })
    }

    /// Whether the lines carry a rating.
    pub(super) fn rated(&self) -> bool {
        self.rating.is_some()
    }

    /// Whether the order is the file's lines' (no time field on interaction
    /// lines), not a time or a sequence's own.
    pub(super) fn in_line_order(&self) -> bool {
        self.time.is_none() && self.item != "items"
    }

    /// The item key of interaction lines (`None` for whole sequences): the
    /// item file's id when it has one of that name.
    pub(super) fn item_key(&self) -> Option<&str> {
        Some(self.item.as_str()).filter(|&i| i != "items")
    }

    /// What was read, for the summary.
    pub(super) fn describe(&self) -> String {
        let time = match &self.time {
            Some(t) => format!("time `{t}`"),
            None if self.item == "items" => "time: the order of `items`".into(),
            None => format!(
                "no time field ({} absent; --time-field names another): each user's lines in file order",
                TIME_KEYS.join(", ")
            ),
        };
        let rating = self
            .rating
            .as_ref()
            .map(|r| format!(", rating `{r}`"))
            .unwrap_or_default();
        format!("user `{}`, item `{}`, {time}{rating}", self.user, self.item)
    }
}
