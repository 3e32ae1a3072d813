//! Sequence items the item file lacks. Catalogues as published often miss a
//! few (a product delisted before the metadata dump, a scrape that skipped
//! some pages; Book-Crossing's ratings name 70,383 ISBNs its book file does
//! not list): those are kept, each with the text `item <id>`, and the user is
//! told. When most of the items the interactions name are missing, the two
//! files do not share their ids (another id field, another catalogue's file):
//! that is an error naming the first ones, unless `--allow-missing-items`.
use super::source::{RawDataset, RawInteraction};
use crate::error::{Error, Result};
use std::collections::{HashMap, HashSet};

/// The sequence items absent from the item file, each with the line it is
/// first named on, and how often the interactions name them.
#[derive(Debug, Default)]
pub struct Missing<'a> {
    pub items: Vec<(&'a str, usize)>,
    /// Distinct items the interactions name, missing ones included.
    pub named: usize,
    /// Interactions that name a missing item.
    pub interactions: usize,
}

impl<'a> Missing<'a> {
    /// The items of `kept` that `known` (the item file's ids) lacks.
    pub fn find(kept: &[&'a RawInteraction], known: &HashMap<&str, usize>) -> Self {
        let mut named: HashSet<&str> = HashSet::new();
        let mut m = Missing::default();
        for x in kept {
            let first = named.insert(x.item.as_str());
            if !known.contains_key(x.item.as_str()) {
                m.interactions += 1;
                if first {
                    m.items.push((&x.item, x.line));
                }
            }
        }
        m.named = named.len();
        m
    }

    /// Whether the files look unrelated: more than half the named items missing.
    pub fn most(&self) -> bool {
        2 * self.items.len() > self.named
    }

    /// The first few missing ids with their lines.
    fn first(&self) -> String {
        let first: Vec<String> = self
            .items
            .iter()
            .take(5)
            .map(|(id, l)| format!("{id} (line {l})"))
            .collect();
        first.join(", ")
    }

    /// An error when most named items are missing and `allow` is not given.
    pub fn check(&self, raw: &RawDataset, allow: bool) -> Result<()> {
        if allow || !self.most() {
            return Ok(());
        }
        Err(Error::input(
            &raw.interactions_path,
            Some(self.items[0].1),
            format!(
                "{} of the {} item ids it names are not in {}: first {}; do the two files \
                 name items by the same id (--item-field)? --allow-missing-items keeps them \
                 with the text `item <id>`",
                self.items.len(),
                self.named,
                raw.items_path.display(),
                self.first()
            ),
        ))
    }

    /// What the user is told when missing items are kept (None: none missing).
    pub fn note(&self, raw: &RawDataset) -> Option<String> {
        (!self.items.is_empty()).then(|| {
            format!(
                "note: {}: {} of the {} item ids it names ({} interactions) are not in {} \
                 (first {}): kept, each with the text `item <id>`, so the text neighbours \
                 know nothing of them",
                raw.interactions_path.display(),
                self.items.len(),
                self.named,
                self.interactions,
                raw.items_path.display(),
                self.first()
            )
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn x(item: &str, line: usize) -> RawInteraction {
        RawInteraction {
            user: "u".into(),
            item: item.into(),
            timestamp: line as f64,
            rating: None,
            line,
        }
    }

    #[test]
    fn counts_missing_items_once_and_their_interactions_each_time() {
        let rows = [x("a", 2), x("z", 3), x("a", 4), x("z", 5), x("b", 6)];
        let kept: Vec<&RawInteraction> = rows.iter().collect();
        let known: HashMap<&str, usize> = [("a", 0), ("b", 1)].into_iter().collect();
        let m = Missing::find(&kept, &known);
        assert_eq!(m.items, vec![("z", 3)]);
        assert_eq!((m.named, m.interactions), (3, 2));
        assert!(!m.most());
        let known: HashMap<&str, usize> = [("a", 0)].into_iter().collect();
        let m = Missing::find(&kept, &known);
        assert_eq!(m.items, vec![("z", 3), ("b", 6)]);
        assert!(m.most(), "two of three named items missing");
        let all: HashMap<&str, usize> = [("a", 0), ("b", 1), ("z", 2)].into_iter().collect();
        assert!(Missing::find(&kept, &all).items.is_empty());
    }
}
