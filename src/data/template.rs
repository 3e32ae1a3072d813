//! Item texts: templates (`"{movie_title} ({release_year}) | {class}"`;
//! `{{` and `}}` are literal braces; every field must exist in the item file,
//! which is checked before any work starts), and without one the default —
//! the item's fields joined, its name first. The choice `prepare` makes is
//! a [`TextRecipe`], recorded with the dataset so that items added later
//! (`index --add`) get their texts the same way. Values written as HTML are
//! read as plain text ([`super::markup`]).
use super::markup::plain;
use super::source::{RawDataset, RawItem};
use crate::error::{Error, Result};
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::cell::{Cell, OnceCell};

/// How an item's text is made from its item-file row: `prepare`'s choice,
/// recorded in `dataset.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TextRecipe {
    /// The `--text-template`, where one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<String>,
    /// The fields the default text joins, in order ([`default_text_fields`]).
    #[serde(default)]
    pub fields: Vec<String>,
    /// The field holding the item's name ([`name_field`]; default text only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name_field: Option<String>,
    /// The field read where the text is empty (else the item's id).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fallback: Option<String>,
    /// The key item rows were read under first ([`RawDataset::item_key`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub id_field: Option<String>,
    /// Field values written as HTML (tags, entities) are read as plain text
    /// ([`plain`]); false in datasets prepared before genrec did, so that the
    /// items they add stay as their catalogue's.
    #[serde(default)]
    pub markup_as_text: bool,
}

impl TextRecipe {
    /// The recipe for `raw`'s item file: `template` if given, else its
    /// fields joined; `fallback` (default: the format's natural one, e.g.
    /// `asin`) must be one of its columns.
    pub fn choose(
        template: Option<&str>,
        fallback: Option<&str>,
        raw: &RawDataset,
    ) -> Result<Self> {
        let fields = &raw.item_fields;
        let fallback = fallback
            .map(str::to_string)
            .or_else(|| raw.default_fallback_field.clone());
        if let Some(ff) = fallback.as_ref().filter(|ff| !fields.contains(ff)) {
            return Err(Error::Config(format!(
                "fallback field `{ff}` is not a column of {} (columns: {})",
                raw.items_path.display(),
                fields.join(", ")
            )));
        }
        Ok(Self {
            template: template.map(str::to_string),
            fields: default_text_fields(fields, &raw.items),
            name_field: name_field(fields)
                .filter(|_| template.is_none())
                .map(str::to_string),
            fallback,
            id_field: raw.item_key.clone(),
            markup_as_text: true,
        })
    }

    /// What made the texts, for the summary.
    pub fn describe(&self) -> String {
        let what = match &self.template {
            Some(t) => format!("template {t}"),
            None => format!(
                "fields {} (non-empty ones joined with \" | \")",
                self.fields.join(", ")
            ),
        };
        if self.markup_as_text {
            format!("{what}; HTML read as plain text")
        } else {
            what
        }
    }

    /// The recipe applied to the rows of a file with `fields` (the
    /// template checked against them).
    pub fn maker(&self, fields: &[String]) -> Result<TextMaker<'_>> {
        let template = match &self.template {
            Some(t) => Some(TextTemplate::parse(t, fields)?),
            None => None,
        };
        Ok(TextMaker {
            recipe: self,
            template,
            markup: Cell::new(0),
            first_markup: OnceCell::new(),
        })
    }
}

/// A [`TextRecipe`] ready for one item file's rows.
pub struct TextMaker<'a> {
    recipe: &'a TextRecipe,
    template: Option<TextTemplate>,
    /// How many items' texts had markup read as text, and the first one's id.
    markup: Cell<usize>,
    first_markup: OnceCell<String>,
}

impl TextMaker<'_> {
    /// Whether the texts read `field`.
    pub fn reads(&self, field: &str) -> bool {
        match &self.template {
            Some(t) => t.fields().any(|f| f == field),
            None => self.recipe.fields.iter().any(|f| f == field),
        }
    }

    /// An item's text and its name apart ([`item_name`]).
    pub fn make(&self, row: &RawItem) -> (String, Option<String>) {
        let r = self.recipe;
        let value = |f: &str| row.field(f).map(|v| self.as_text(v));
        let (text, markup) = item_text(
            row,
            self.template.as_ref(),
            &r.fields,
            r.fallback.as_deref(),
            &value,
        );
        if markup {
            self.count_markup(&row.id);
        }
        let name = r.name_field.as_deref().and_then(value);
        let name = item_name(name.as_deref(), &text);
        (text, name)
    }

    /// A value as the recipe reads it: HTML as plain text where it says so.
    pub fn as_text<'v>(&self, v: &'v str) -> Cow<'v, str> {
        if self.recipe.markup_as_text {
            plain(v)
        } else {
            v.into()
        }
    }

    /// An item's own text (`index --add`'s `{"item", "text"}`) as the
    /// recipe reads values, counted for [`TextMaker::markup_note`] where
    /// HTML was read as text.
    pub fn own_text<'v>(&self, id: &str, v: &'v str) -> Cow<'v, str> {
        let t = self.as_text(v);
        if matches!(t, Cow::Owned(_)) {
            self.count_markup(id);
        }
        t
    }

    fn count_markup(&self, id: &str) {
        self.markup.set(self.markup.get() + 1);
        self.first_markup.get_or_init(|| id.to_string());
    }

    /// For the summary: how many of the texts made so far had HTML read as text.
    pub fn markup_note(&self) -> Option<String> {
        self.first_markup.get().map(|id| {
            format!(
                "{} item texts held HTML (tags or entities such as &amp;), read as plain text (the first: item {id})",
                self.markup.get()
            )
        })
    }
}

#[derive(Debug, Clone)]
enum Piece {
    Lit(String),
    Field(String),
}

#[derive(Debug, Clone)]
pub struct TextTemplate(Vec<Piece>);

impl TextTemplate {
    pub fn parse(src: &str, fields: &[String]) -> Result<Self> {
        let mut pieces = Vec::new();
        let mut lit = String::new();
        let mut chars = src.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                '{' if chars.peek() == Some(&'{') => {
                    chars.next();
                    lit.push('{');
                }
                '}' if chars.peek() == Some(&'}') => {
                    chars.next();
                    lit.push('}');
                }
                '{' => {
                    let mut name = String::new();
                    let mut closed = false;
                    for c in chars.by_ref() {
                        if c == '}' {
                            closed = true;
                            break;
                        }
                        name.push(c);
                    }
                    let name = name.trim().to_string();
                    if name.is_empty() || !closed {
                        return Err(Error::Config(format!(
                            "text template `{src}` has an empty or unclosed `{{}}`"
                        )));
                    }
                    if !fields.contains(&name) {
                        return Err(Error::Config(format!(
                            "text template field `{name}` is not a column of the item file (columns: {})",
                            fields.join(", ")
                        )));
                    }
                    if !lit.is_empty() {
                        pieces.push(Piece::Lit(std::mem::take(&mut lit)));
                    }
                    pieces.push(Piece::Field(name));
                }
                '}' => {
                    return Err(Error::Config(format!(
                        "text template `{src}` has an unmatched `}}` (write `}}}}` for a brace)"
                    )))
                }
                c => lit.push(c),
            }
        }
        if !lit.is_empty() {
            pieces.push(Piece::Lit(lit));
        }
        Ok(Self(pieces))
    }

    pub fn render<'a>(&self, get: impl Fn(&str) -> &'a str) -> String {
        let mut s = String::new();
        for p in &self.0 {
            match p {
                Piece::Lit(l) => s.push_str(l),
                Piece::Field(f) => s.push_str(get(f).trim()),
            }
        }
        s
    }

    pub fn fields(&self) -> impl Iterator<Item = &str> {
        self.0.iter().filter_map(|p| match p {
            Piece::Field(f) => Some(f.as_str()),
            _ => None,
        })
    }
}

/// The item's name among `fields`: a field called `title` (else `name`,
/// else one whose last word is `title`, else `name`: `movie_title`,
/// `Book-Title`, `productName`, `Item Name`), case aside.
pub fn name_field(fields: &[String]) -> Option<&str> {
    let lower: Vec<String> = fields.iter().map(|f| f.to_lowercase()).collect();
    let last: Vec<String> = fields.iter().map(|f| last_word(f)).collect();
    ["title", "name"]
        .iter()
        .find_map(|n| lower.iter().position(|f| f == n))
        .or_else(|| {
            ["title", "name"]
                .iter()
                .find_map(|n| last.iter().position(|w| w == n))
        })
        .map(|i| fields[i].as_str())
}

/// A field name's last word, lower-cased: after the last `_`, `-`, space or
/// `.`, or the last capital of a camel-cased name (`productName`: `name`).
fn last_word(field: &str) -> String {
    let tail = field.rsplit(['_', '-', ' ', '.']).next().unwrap_or(field);
    let start = tail
        .char_indices()
        .skip(1)
        .filter(|(_, c)| c.is_uppercase())
        .filter(|&(i, _)| tail[..i].chars().last().is_some_and(char::is_lowercase))
        .map(|(i, _)| i)
        .last()
        .unwrap_or(0);
    tail[start..].to_lowercase()
}

/// An item's name apart from its text (for `embed` to weigh against the
/// whole text): the [`name_field`]'s value, where it is not empty and the
/// text says more than it.
pub fn item_name(value: Option<&str>, text: &str) -> Option<String> {
    value
        .map(str::trim)
        .filter(|n| !n.is_empty() && *n != text)
        .map(str::to_string)
}

/// The fields the default text joins, in order: the item's name first — a
/// field called `title` (else `name`, else one whose last word is one of
/// them, [`name_field`]) — then the others from the shortest to the longest on average
/// over `items` (ties in the file's order). The encoder reads only the first
/// 256 tokens: a long description or attribute list, last, loses its tail
/// rather than pushing what the item is, its category or its brand past the cut.
pub fn default_text_fields(fields: &[String], items: &[RawItem]) -> Vec<String> {
    let first = name_field(fields);
    let length = |f: &str| -> usize {
        items
            .iter()
            .map(|it| it.field(f).map_or(0, |v| v.trim().chars().count()))
            .sum()
    };
    let mut rest: Vec<(usize, &String)> = fields
        .iter()
        .filter(|f| Some(f.as_str()) != first)
        .map(|f| (length(f), f))
        .collect();
    rest.sort_by_key(|&(len, _)| len);
    first
        .into_iter()
        .chain(rest.into_iter().map(|(_, f)| f.as_str()))
        .map(str::to_string)
        .collect()
}

/// An item's text — the template (or the joined `fields`), else the
/// fallback field, else its id — from the row's values as `value` reads
/// them; and whether reading them as text changed any (markup).
fn item_text<'r>(
    row: &'r RawItem,
    template: Option<&TextTemplate>,
    fields: &[String],
    fallback: Option<&str>,
    value: &dyn Fn(&str) -> Option<Cow<'r, str>>,
) -> (String, bool) {
    let mut markup = false;
    let mut read = |f: &str| {
        let v = value(f).unwrap_or(Cow::Borrowed(""));
        markup |= matches!(v, Cow::Owned(_));
        v
    };
    let text = match template {
        Some(t) => {
            let values: Vec<(&str, Cow<str>)> = t.fields().map(|f| (f, read(f))).collect();
            let get = |f: &str| {
                values
                    .iter()
                    .find(|(k, _)| *k == f)
                    .map_or("", |(_, v)| v.as_ref())
            };
            let text = t.render(get);
            if values.iter().all(|(_, v)| v.trim().is_empty()) {
                String::new()
            } else {
                text
            }
        }
        None => {
            let values: Vec<Cow<str>> = fields.iter().map(|f| read(f)).collect();
            let kept: Vec<&str> = values
                .iter()
                .map(|v| v.trim())
                .filter(|v| !v.is_empty())
                .collect();
            kept.join(" | ")
        }
    };
    let text = text.trim();
    if !text.is_empty() {
        return (text.to_string(), markup);
    }
    let fallback = fallback.map(read).filter(|v| !v.trim().is_empty());
    let text = fallback
        .as_deref()
        .map_or(row.id.as_str(), str::trim)
        .to_string();
    (text, markup)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn renders_and_checks_fields() {
        let fields = vec!["a".to_string(), "b".to_string()];
        let t = TextTemplate::parse("{a} ({b}) {{x}}", &fields).unwrap();
        assert_eq!(t.render(|f| if f == "a" { "A" } else { "B" }), "A (B) {x}");
        let e = TextTemplate::parse("{c}", &fields).unwrap_err().to_string();
        assert!(e.contains("`c`") && e.contains("a, b"), "{e}");
        assert!(TextTemplate::parse("{a", &fields).is_err());
        assert!(TextTemplate::parse("a}", &fields).is_err());
    }
    #[test]
    fn datasets_prepared_before_markup_was_read_keep_their_texts() {
        let row = RawItem {
            id: "a".into(),
            fields: vec![("title".into(), "Tom &amp; <b>Jerry</b>".into())],
            line: 1,
        };
        let mut recipe = TextRecipe {
            template: None,
            fields: vec!["title".into()],
            name_field: Some("title".into()),
            fallback: None,
            id_field: None,
            markup_as_text: true,
        };
        let m = recipe.maker(&["title".into()]).unwrap();
        assert_eq!(m.make(&row).0, "Tom & Jerry");
        assert!(m
            .markup_note()
            .unwrap()
            .starts_with("1 item texts held HTML"));
        // A dataset.json written before the field existed reads as false.
        let mut old = serde_json::to_value(&recipe).unwrap();
        old.as_object_mut().unwrap().remove("markup_as_text");
        recipe = serde_json::from_value(old).unwrap();
        let m = recipe.maker(&["title".into()]).unwrap();
        assert_eq!(m.make(&row).0, "Tom &amp; <b>Jerry</b>");
        assert!(m.markup_note().is_none());
    }
    #[test]
    fn the_name_is_found_under_exports_spellings() {
        let name = |fs: &[&str]| {
            let fs: Vec<String> = fs.iter().map(|f| f.to_string()).collect();
            name_field(&fs).map(str::to_string)
        };
        assert_eq!(
            name(&["ISBN", "Book-Author", "Book-Title"]).as_deref(),
            Some("Book-Title")
        );
        assert_eq!(
            name(&["sku", "brand_name", "productTitle"]).as_deref(),
            Some("productTitle")
        );
        assert_eq!(
            name(&["id", "Item Name", "price"]).as_deref(),
            Some("Item Name")
        );
        assert_eq!(name(&["movie_title", "name"]).as_deref(), Some("name"));
        // A word that only ends in the letters is no name; nor is an acronym's tail.
        assert_eq!(name(&["username", "filename", "URLNAME"]), None);
    }
}
