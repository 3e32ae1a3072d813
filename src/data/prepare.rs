//! `genrec prepare`: raw interactions → clean, time-ordered user sequences and
//! the leave-one-out split used by TIGER, P5 and RecBole (last item = test,
//! second to last = validation, the rest = training).
use super::dataset::*;
use super::missing::Missing;
use super::source::{RawDataset, RawItem};
use super::template::TextRecipe;
use crate::error::{Error, Result};
use crate::util::fsx::StagedDir;
use crate::util::hash::{sha256_file, Hasher};
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;

/// Minimum interactions a user needs for the leave-one-out split.
pub const MIN_SEQUENCE: usize = 3;

#[derive(Debug, Clone, Serialize)]
pub struct PrepareOptions {
    /// Item text template, e.g. `"{movie_title} ({release_year}) | {class}"`.
    /// `None`: the non-empty text fields joined with `" | "`.
    pub text_template: Option<String>,
    /// Field whose value replaces an empty text; `None`: the format's natural one
    /// (`asin` for P5 item TSVs), else the original item id.
    pub fallback_field: Option<String>,
    /// Keep interactions with rating ≥ this.
    pub rating_threshold: Option<f64>,
    /// Iteratively keep only users and items with ≥ k interactions.
    pub k_core: Option<usize>,
    /// History length kept for the inputs of validation and test examples.
    pub max_history: usize,
    /// Keep sequence items absent from the item file (text: `item <id>`)
    /// even where they are most of the items named; without it a minority
    /// is kept and a majority is an error ([`super::missing`]).
    pub allow_missing_items: bool,
    /// Drop catalogue items that no kept sequence uses (by default every item
    /// of the item file stays: it gets a semantic ID and can be recommended).
    #[serde(default)]
    pub drop_unused_items: bool,
    /// Drop users with fewer than 3 interactions (by default they are
    /// context users: trained on and counted, not held out).
    #[serde(default)]
    pub drop_short_users: bool,
}

impl Default for PrepareOptions {
    fn default() -> Self {
        Self {
            text_template: None,
            fallback_field: None,
            rating_threshold: None,
            k_core: None,
            max_history: 200,
            allow_missing_items: false,
            drop_unused_items: false,
            drop_short_users: false,
        }
    }
}

/// Everything `prepare` computes, before it is written.
#[derive(Debug)]
pub struct Prepared {
    pub items: Vec<Item>,
    pub sequences: Vec<UserSequence>,
    /// Users too short to hold out (1–2 interactions), in first-appearance
    /// order: their sequences train the models and count in popularity and
    /// transitions; nobody is evaluated on them.
    pub context: Vec<UserSequence>,
    pub stats: Stats,
    /// How the item texts were made (recorded for `index --add`).
    pub recipe: TextRecipe,
}

fn median(sorted: &[usize]) -> f64 {
    let n = sorted.len();
    if n == 0 {
        return 0.0;
    }
    if n % 2 == 1 {
        sorted[n / 2] as f64
    } else {
        (sorted[n / 2 - 1] + sorted[n / 2]) as f64 / 2.0
    }
}

/// Cleans, orders and filters a raw dataset.
pub fn build(raw: &RawDataset, opts: &PrepareOptions) -> Result<Prepared> {
    if opts.max_history == 0 {
        return Err(Error::Config("--max-history must be at least 1".into()));
    }
    if opts.k_core == Some(0) {
        return Err(Error::Config("--k-core must be at least 1".into()));
    }
    // Items by original id (`source::read` left each id once).
    let item_index: HashMap<&str, usize> = raw
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| (it.id.as_str(), i))
        .collect();
    let recipe = TextRecipe::choose(
        opts.text_template.as_deref(),
        opts.fallback_field.as_deref(),
        raw,
    )?;
    let maker = recipe.maker(&raw.item_fields)?;

    // Rating threshold.
    let mut dropped_by_rating = 0;
    let kept: Vec<&super::source::RawInteraction> = match opts.rating_threshold {
        Some(th) => {
            if !raw.has_rating {
                return Err(Error::input(
                    &raw.interactions_path,
                    None,
                    "--rating-threshold was given but the file has no rating column",
                ));
            }
            raw.interactions
                .iter()
                .filter(|x| {
                    let keep = x.rating.is_some_and(|r| r >= th);
                    dropped_by_rating += usize::from(!keep);
                    keep
                })
                .collect()
        }
        None => raw.interactions.iter().collect(),
    };

    // Sequence items absent from the item file: kept (told) unless most are.
    let missing = Missing::find(&kept, &item_index);
    missing.check(raw, opts.allow_missing_items)?;
    if let Some(note) = missing.note(raw) {
        crate::tell!("{note}");
    }
    let missing = missing.items;

    // Group by user (first-appearance order); stable sort by timestamp keeps file order on ties.
    let mut user_pos: HashMap<&str, usize> = HashMap::new();
    let mut groups: Vec<(&str, Vec<(f64, &str)>)> = Vec::new();
    for x in &kept {
        let p = *user_pos.entry(&x.user).or_insert_with(|| {
            groups.push((&x.user, Vec::new()));
            groups.len() - 1
        });
        groups[p].1.push((x.timestamp, &x.item));
    }
    for (_, g) in &mut groups {
        g.sort_by(|a, b| a.0.total_cmp(&b.0));
    }
    if raw.in_line_order {
        let sequences = groups.iter().map(|(_, g)| g.iter().map(|(_, it)| *it));
        let counted = super::file_order::ascending_users(sequences);
        super::file_order::warn_if_sorted_by_item(&raw.interactions_path, counted);
    }

    // k-core filtering, to a fixed point.
    let mut dropped_by_k_core = 0;
    let mut removed_by_k_core: HashMap<&str, ()> = HashMap::new();
    if let Some(k) = opts.k_core {
        loop {
            let mut item_count: HashMap<&str, usize> = HashMap::new();
            for (_, g) in &groups {
                for (_, it) in g {
                    *item_count.entry(it).or_default() += 1;
                }
            }
            let before: usize = groups.iter().map(|(_, g)| g.len()).sum();
            for (it, c) in &item_count {
                if *c < k {
                    removed_by_k_core.insert(it, ());
                }
            }
            for (_, g) in &mut groups {
                g.retain(|(_, it)| item_count[it] >= k);
            }
            groups.retain(|(_, g)| g.len() >= k);
            let after: usize = groups.iter().map(|(_, g)| g.len()).sum();
            dropped_by_k_core += before - after;
            if after == before {
                break;
            }
        }
    }

    // Users too short for the split: context users, or dropped.
    let (groups, mut short): (Vec<_>, Vec<_>) = groups
        .into_iter()
        .partition(|(_, g)| g.len() >= MIN_SEQUENCE);
    let dropped_short_users = match opts.drop_short_users {
        true => std::mem::take(&mut short).len(),
        false => 0,
    };
    if groups.is_empty() {
        return Err(Error::input(
            &raw.interactions_path,
            None,
            format!("no user has at least {MIN_SEQUENCE} interactions after filtering; nothing to split"),
        ));
    }

    // Catalogue: every item of the item file (with --drop-unused-items only
    // those the kept sequences use; k-core's removals stay removed), in
    // item-file order, then sequence items missing from the item file.
    let mut used: HashMap<&str, ()> = HashMap::new();
    for (_, g) in groups.iter().chain(&short) {
        for (_, it) in g {
            used.insert(it, ());
        }
    }
    let mut catalogue: Vec<(&str, Option<&RawItem>)> = raw
        .items
        .iter()
        .filter(|it| {
            let id = it.id.as_str();
            used.contains_key(id)
                || (!opts.drop_unused_items && !removed_by_k_core.contains_key(id))
        })
        .map(|it| (it.id.as_str(), Some(it)))
        .collect();
    let unused_items = catalogue
        .iter()
        .filter(|(id, _)| !used.contains_key(id))
        .count();
    let n_missing = missing
        .iter()
        .filter(|(id, _)| used.contains_key(id))
        .count();
    catalogue.extend(
        missing
            .iter()
            .filter(|(id, _)| used.contains_key(id))
            .map(|(id, _)| (*id, None)),
    );

    let internal: HashMap<&str, u32> = catalogue
        .iter()
        .enumerate()
        .map(|(i, (id, _))| (*id, i as u32))
        .collect();
    let items: Vec<Item> = catalogue
        .iter()
        .enumerate()
        .map(|(i, (id, row))| {
            let (text, name) = match row {
                Some(row) => maker.make(row),
                None => (format!("item {id}"), None),
            };
            Item {
                id: i as u32,
                original_id: id.to_string(),
                name,
                text,
            }
        })
        .collect();
    if let Some(note) = maker.markup_note() {
        crate::tell!("{}: {note}", raw.items_path.display());
    }
    let sequence = |(u, g): &(&str, Vec<(f64, &str)>)| UserSequence {
        user: u.to_string(),
        items: g.iter().map(|(_, it)| internal[it]).collect(),
        timestamps: g.iter().map(|(t, _)| *t).collect(),
    };
    let sequences: Vec<UserSequence> = groups.iter().map(sequence).collect();
    let context: Vec<UserSequence> = short.iter().map(sequence).collect();

    let mut lens: Vec<usize> = sequences.iter().map(|s| s.items.len()).collect();
    lens.sort_unstable();
    let interactions: usize = lens.iter().sum();
    let stats = Stats {
        users: sequences.len(),
        items: items.len(),
        interactions,
        sequence_length: SeqLenStats {
            min: lens[0],
            median: median(&lens),
            mean: interactions as f64 / lens.len() as f64,
            max: *lens.last().unwrap_or(&0),
        },
        dropped_short_users,
        context_users: context.len(),
        context_interactions: context.iter().map(|s| s.items.len()).sum(),
        dropped_by_rating,
        dropped_by_k_core,
        missing_items: n_missing,
        unused_items,
        text: recipe.describe(),
    };
    Ok(Prepared {
        items,
        sequences,
        context,
        stats,
        recipe,
    })
}

/// Leave-one-out split of one sequence (length ≥ 3).
pub fn split(seq: &UserSequence, max_history: usize) -> (TrainSequence, HeldOut, HeldOut) {
    let n = seq.items.len();
    debug_assert!(n >= MIN_SEQUENCE);
    let tail = |end: usize| seq.items[end.saturating_sub(max_history)..end].to_vec();
    (
        TrainSequence {
            user: seq.user.clone(),
            items: seq.items[..n - 2].to_vec(),
        },
        HeldOut {
            user: seq.user.clone(),
            history: tail(n - 2),
            target: seq.items[n - 2],
        },
        HeldOut {
            user: seq.user.clone(),
            history: tail(n - 1),
            target: seq.items[n - 1],
        },
    )
}

fn jsonl<T: Serialize>(rows: impl IntoIterator<Item = T>) -> Vec<u8> {
    let mut out = Vec::new();
    for r in rows {
        serde_json::to_writer(&mut out, &r).expect("serialising plain data cannot fail");
        out.push(b'\n');
    }
    out
}

/// Writes the canonical dataset directory atomically; returns its manifest.
pub fn write(
    raw: &RawDataset,
    opts: &PrepareOptions,
    p: &Prepared,
    out: &Path,
) -> Result<Manifest> {
    let staged = StagedDir::new(out)?;
    let items = jsonl(&p.items);
    let sequences = jsonl(&p.sequences);
    let mut train = Vec::new();
    let mut valid = Vec::new();
    let mut test = Vec::new();
    for s in &p.sequences {
        let (t, v, x) = split(s, opts.max_history);
        train.push(t);
        valid.push(v);
        test.push(x);
    }
    let mut text_hash = Hasher::new();
    for it in &p.items {
        text_hash.field(it.text.as_bytes());
        if let Some(name) = &it.name {
            text_hash.field(b"name").field(name.as_bytes()); // only then: no names, the same hash
        }
    }
    let context = jsonl(&p.context);
    let mut content = Hasher::new();
    content.field(&items).field(&sequences);
    if !p.context.is_empty() {
        // Only then: datasets without context users keep their hash.
        content.field(&context);
    }
    let manifest = Manifest {
        format_version: FORMAT_VERSION,
        sources: [&raw.interactions_path, &raw.items_path]
            .iter()
            .map(|p| {
                Ok(SourceFile {
                    path: p.display().to_string(),
                    sha256: sha256_file(p)?,
                })
            })
            .collect::<Result<_>>()?,
        options: serde_json::to_value(opts).map_err(|e| Error::Other(e.to_string()))?,
        stats: p.stats.clone(),
        max_history: opts.max_history,
        content_sha256: content.finish(),
        item_text_sha256: text_hash.finish(),
        fields_read: raw.interaction_keys.clone(),
        text_recipe: Some(p.recipe.clone()),
    };
    let write = |name: &str, bytes: &[u8]| {
        std::fs::write(staged.path(name), bytes).map_err(|e| Error::io(staged.path(name), e))
    };
    write("items.jsonl", &items)?;
    write("sequences.jsonl", &sequences)?;
    write("train.jsonl", &jsonl(&train))?;
    write("valid.jsonl", &jsonl(&valid))?;
    write("test.jsonl", &jsonl(&test))?;
    // Always written (empty when none), so no earlier one outlives a re-run.
    write(CONTEXT_FILE, &context)?;
    crate::util::fsx::write_json(&staged.path("dataset.json"), &manifest)?;
    staged.commit_keeping_others()?;
    Ok(manifest)
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn median_even_and_odd() {
        assert_eq!(median(&[1, 2, 3]), 2.0);
        assert_eq!(median(&[1, 2, 3, 10]), 2.5);
    }
    #[test]
    fn split_caps_history() {
        let s = UserSequence {
            user: "u".into(),
            items: vec![1, 2, 3, 4, 5],
            timestamps: vec![0.0; 5],
        };
        let (t, v, x) = split(&s, 2);
        assert_eq!(t.items, vec![1, 2, 3]);
        assert_eq!((v.history, v.target), (vec![2, 3], 4));
        assert_eq!((x.history, x.target), (vec![3, 4], 5));
    }
}
