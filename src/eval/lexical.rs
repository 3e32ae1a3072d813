//! Lexical closeness of item texts: the cosine of IDF-weighted word sets
//! (the vector space model of Salton et al. 1975 with binary term
//! frequencies and `idf = ln(N / df)`), the lexical half of hybrid
//! retrieval. A sentence encoder says which items read alike; the words two
//! items share say whether they are the same brand, line or shade — what a
//! 256-token MiniLM summary blurs, and what people buying again from one
//! brand follow. The blend's rescoring reads it as two features
//! (`eval::rescore`): the cosine to the last item, and to the word counts of
//! the last [`PROFILE_ITEMS`] items, and where it pays the last item's
//! nearest by words as a sixth list of its pool; `evaluate` ranks by it as a baseline
//! ([`Lexical::knn`], a TF-IDF kNN). Words are runs of letters and digits,
//! lowercased, of two characters or more; in scripts written without spaces,
//! overlapping character pairs.
use super::blend::first_kept;
use super::Protocol;
use crate::data::HeldOut;
use std::collections::{HashMap, HashSet};

/// History items whose words make the profile (latest).
pub const PROFILE_ITEMS: usize = 5;

/// Each item's words (sorted ids) and the catalogue's IDF.
pub struct Lexical {
    words: Vec<Vec<u32>>,
    /// The items of each word id.
    postings: Vec<Vec<u32>>,
    /// `idf²` of each word id.
    idf2: Vec<f64>,
    /// `√(Σ idf²)` over each item's words (1 for an item without words).
    norms: Vec<f64>,
}

/// Word counts over some items, sorted by word id.
pub struct Profile {
    counts: Vec<(u32, f64)>,
    norm: f64,
}

/// The words of a text: lowercased runs of letters and digits, two
/// characters or more. Within a run, the scripts written without spaces
/// between words ([`unspaced`]: Chinese, Japanese, Thai, …) give their
/// overlapping character pairs instead (a lone such character stays a word
/// of its own): the bigrams with which CJK search engines index text, since
/// a whole sentence would otherwise be one "word".
fn words(text: &str) -> impl Iterator<Item = String> + '_ {
    text.split(|c: char| !c.is_alphanumeric())
        .flat_map(split_unspaced)
        .filter(|w| w.chars().nth(1).is_some() || w.chars().all(unspaced))
        .map(|w| w.to_lowercase())
}

/// A run of letters and digits cut into its spaced parts and the character
/// pairs of its unspaced parts, in order.
fn split_unspaced(run: &str) -> Vec<String> {
    let chars: Vec<char> = run.chars().collect();
    let mut out = Vec::new();
    let mut start = 0;
    while start < chars.len() {
        let kind = unspaced(chars[start]);
        let end = (start..chars.len())
            .find(|&i| unspaced(chars[i]) != kind)
            .unwrap_or(chars.len());
        let part = &chars[start..end];
        if kind && part.len() > 1 {
            out.extend(part.windows(2).map(|p| p.iter().collect::<String>()));
        } else {
            out.push(part.iter().collect());
        }
        start = end;
    }
    out
}

/// Whether `c` belongs to a script written without spaces between words:
/// Han ideographs, Hiragana, Katakana, Thai, Lao, Khmer, Myanmar, Tibetan.
fn unspaced(c: char) -> bool {
    matches!(c as u32,
        0x0E00..=0x0EFF // Thai, Lao
        | 0x0F00..=0x0FFF // Tibetan
        | 0x1000..=0x109F // Myanmar
        | 0x1780..=0x17FF // Khmer
        | 0x3040..=0x30FF // Hiragana, Katakana
        | 0x31F0..=0x31FF // Katakana extensions
        | 0x3400..=0x4DBF // Han, extension A
        | 0x4E00..=0x9FFF // Han
        | 0xF900..=0xFAFF // Han compatibility
        | 0xFF66..=0xFF9F // half-width Katakana
        | 0x20000..=0x3134F // Han, extensions B–G
    )
}

impl Lexical {
    /// The word sets of `texts` (one per item, in item order).
    pub fn new(texts: &[&str]) -> Self {
        let mut ids: HashMap<String, u32> = HashMap::new();
        let mut df: Vec<u32> = Vec::new();
        let words: Vec<Vec<u32>> = texts
            .iter()
            .map(|t| {
                let mut w: Vec<u32> = words(t)
                    .map(|w| {
                        let next = ids.len() as u32;
                        *ids.entry(w).or_insert(next)
                    })
                    .collect();
                w.sort_unstable();
                w.dedup();
                for &i in &w {
                    if i as usize == df.len() {
                        df.push(0);
                    }
                    df[i as usize] += 1;
                }
                w
            })
            .collect();
        let mut postings: Vec<Vec<u32>> =
            df.iter().map(|&d| Vec::with_capacity(d as usize)).collect();
        for (item, w) in words.iter().enumerate() {
            for &i in w {
                postings[i as usize].push(item as u32);
            }
        }
        let n = texts.len().max(1) as f64;
        let idf2: Vec<f64> = df
            .iter()
            .map(|&d| (n / f64::from(d)).ln().powi(2))
            .collect();
        let norms = words
            .iter()
            .map(|w| {
                let s: f64 = w.iter().map(|&i| idf2[i as usize]).sum();
                if s > 0.0 {
                    s.sqrt()
                } else {
                    1.0
                }
            })
            .collect();
        Lexical {
            words,
            postings,
            idf2,
            norms,
        }
    }

    /// The `m` items whose words are nearest item `a`'s by [`cosine`](Self::cosine),
    /// best first (ties: lower id), `a` left out; the words of more than a
    /// fifth of a catalogue of over 5,000 items find no candidates (their
    /// weight is small, and their lists long).
    pub fn nearest(&self, a: u32, m: usize) -> Vec<u32> {
        let common = (self.words.len() / 5).max(1000);
        let mut dot: HashMap<u32, f64> = HashMap::new();
        for &w in &self.words[a as usize] {
            let items = &self.postings[w as usize];
            if items.len() > common {
                continue;
            }
            for &i in items {
                *dot.entry(i).or_default() += self.idf2[w as usize];
            }
        }
        dot.remove(&a);
        let mut top: Vec<(u32, f64)> = dot
            .into_iter()
            .map(|(i, d)| (i, d / self.norms[i as usize]))
            .collect();
        top.sort_unstable_by(|x, y| y.1.total_cmp(&x.1).then(x.0.cmp(&y.0)));
        top.into_iter().take(m).map(|(i, _)| i).collect()
    }

    /// Each history's `k` items nearest its last item by words (as
    /// [`nearest`](Self::nearest)), leaving out what `keep(user, item)`
    /// refuses (`extra`: how many more to fetch to make up for it); empty
    /// for an empty history. The blend's pool reads them as a sixth list
    /// where that was chosen (`eval::rescore::choose_words_source`).
    pub fn nearest_lists(
        &self,
        histories: &[&[u32]],
        (k, extra): (usize, usize),
        keep: impl Fn(usize, u32) -> bool,
    ) -> Vec<Vec<u32>> {
        let nearest: Vec<Vec<u32>> = histories
            .iter()
            .map(|h| h.last().map_or(Vec::new(), |&l| self.nearest(l, k + extra)))
            .collect();
        first_kept(&nearest, k, &keep)
    }

    /// The IDF-weighted cosine of items `a` and `b`'s word sets.
    pub fn cosine(&self, a: u32, b: u32) -> f64 {
        let (wa, wb) = (&self.words[a as usize], &self.words[b as usize]);
        let (mut i, mut j, mut dot) = (0, 0, 0.0);
        while i < wa.len() && j < wb.len() {
            match wa[i].cmp(&wb[j]) {
                std::cmp::Ordering::Less => i += 1,
                std::cmp::Ordering::Greater => j += 1,
                std::cmp::Ordering::Equal => {
                    dot += self.idf2[wa[i] as usize];
                    i += 1;
                    j += 1;
                }
            }
        }
        dot / (self.norms[a as usize] * self.norms[b as usize])
    }

    /// The word counts of the last [`PROFILE_ITEMS`] items of `history`.
    pub fn profile(&self, history: &[u32]) -> Profile {
        let mut counts: HashMap<u32, f64> = HashMap::new();
        for &it in history.iter().rev().take(PROFILE_ITEMS) {
            for &w in &self.words[it as usize] {
                *counts.entry(w).or_default() += 1.0;
            }
        }
        let mut counts: Vec<(u32, f64)> = counts.into_iter().collect();
        counts.sort_unstable_by_key(|&(w, _)| w);
        let s: f64 = counts
            .iter()
            .map(|&(w, c)| c * c * self.idf2[w as usize])
            .sum();
        let norm = if s > 0.0 { s.sqrt() } else { 1.0 };
        Profile { counts, norm }
    }

    /// The IDF-weighted cosine of a profile's word counts and item `b`'s
    /// word set.
    pub fn profile_cosine(&self, p: &Profile, b: u32) -> f64 {
        let dot: f64 = self.words[b as usize]
            .iter()
            .filter_map(|w| {
                p.counts
                    .binary_search_by_key(w, |&(x, _)| x)
                    .ok()
                    .map(|k| p.counts[k].1 * self.idf2[*w as usize])
            })
            .sum();
        dot / (p.norm * self.norms[b as usize])
    }
}

/// The row of the word kNN baseline ([`Lexical::knn`]) in `evaluate`.
pub const WORDS_KNN_NAME: &str = "text-kNN by words (IDF cosine, last item)";

impl Lexical {
    /// The word kNN baseline (a TF-IDF kNN as a user would run it): each
    /// held-out user's `k` items nearest by words to their last item
    /// ([`nearest`](Self::nearest)), under `protocol` (fetched deeper to
    /// make up for the seen items it excludes).
    pub fn knn(
        &self,
        held: &[HeldOut],
        seen: &[HashSet<u32>],
        protocol: &Protocol,
        k: usize,
    ) -> Vec<Vec<u32>> {
        let extra = protocol.extra(seen);
        held.iter()
            .enumerate()
            .map(|(u, h)| match h.history.last() {
                Some(&last) => self
                    .nearest(last, k + extra)
                    .into_iter()
                    .filter(|&i| protocol.allows(&seen[u], i))
                    .take(k)
                    .collect(),
                None => Vec::new(),
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cosines_of_idf_weighted_word_sets_by_hand() {
        // Four items: "nail" in two, "polish" in two, "red" in one, "a" too short.
        let l = Lexical::new(&["Nail Polish, red", "nail-file", "POLISH a", ""]);
        let idf2 = |df: f64| (4.0f64 / df).ln().powi(2);
        let (nail, polish, red, file) = (idf2(2.0), idf2(2.0), idf2(1.0), idf2(1.0));
        let n0 = (nail + polish + red).sqrt();
        let n1 = (nail + file).sqrt();
        assert!((l.cosine(0, 1) - nail / (n0 * n1)).abs() < 1e-12);
        assert!((l.cosine(0, 0) - 1.0).abs() < 1e-12);
        assert!((l.cosine(0, 2) - polish / (n0 * polish.sqrt())).abs() < 1e-12);
        assert_eq!(l.cosine(1, 2), 0.0);
        // An item without words is near nothing.
        assert_eq!(l.cosine(3, 0), 0.0);
        // The profile of items 1 and 0: nail twice, polish, red, file once.
        let p = l.profile(&[1, 0]);
        let norm = (4.0 * nail + polish + red + file).sqrt();
        let want = (2.0 * nail + polish + red) / (norm * n0);
        assert!((l.profile_cosine(&p, 0) - want).abs() < 1e-12);
        // Only the last PROFILE_ITEMS count.
        let mut long = vec![2u32; PROFILE_ITEMS];
        long.insert(0, 1);
        let p = l.profile(&long);
        assert_eq!(l.profile_cosine(&p, 1), 0.0);
        assert!((l.profile_cosine(&p, 2) - 1.0).abs() < 1e-12);
    }

    /// Six items: each shares some of three words with item 0, but "pen".
    const KITS: [&str; 6] = [
        "red lip kit",
        "red kit",
        "lip kit",
        "blue kit",
        "blue red lip kit",
        "pen",
    ];

    #[test]
    fn the_nearest_by_words_are_the_best_cosines() {
        let l = Lexical::new(&KITS);
        let near = l.nearest(0, 10);
        let mut want: Vec<u32> = (1..6).filter(|&i| l.cosine(0, i) > 0.0).collect();
        want.sort_by(|&a, &b| l.cosine(0, b).total_cmp(&l.cosine(0, a)).then(a.cmp(&b)));
        assert_eq!(near, want);
        assert_eq!(l.nearest(0, 2), want[..2]);
        assert!(l.nearest(5, 10).is_empty(), "no word in common");
    }

    #[test]
    fn the_word_knn_baseline_ranks_by_words_and_keeps_the_protocol() {
        let l = Lexical::new(&KITS);
        let held = [
            HeldOut {
                user: "a".into(),
                history: vec![5, 0],
                target: 1,
            },
            HeldOut {
                user: "b".into(),
                history: vec![],
                target: 1,
            },
        ];
        let seen = vec![HashSet::from([5, 0, 4]), HashSet::new()];
        let rankable = Protocol::default();
        let lists = l.knn(&held, &seen, &rankable, 3);
        assert_eq!(lists, [l.nearest(0, 3), vec![]]);
        let excluded = Protocol {
            exclude_seen: true,
            ..Protocol::default()
        };
        let lists = l.knn(&held, &seen, &excluded, 3);
        let want: Vec<u32> = l
            .nearest(0, 10)
            .into_iter()
            .filter(|&i| i != 4)
            .take(3)
            .collect();
        assert_eq!(lists[0], want);
    }

    #[test]
    fn words_are_lowercased_alphanumeric_runs_of_two_or_more() {
        let w: Vec<String> = words("L'Oréal Paris | 3.4 oz, X").collect();
        assert_eq!(w, ["oréal", "paris", "oz"]);
    }

    #[test]
    fn unspaced_scripts_give_character_pairs() {
        // "Shiseido's lipstick red" in Japanese, a Chinese brand with Latin
        // letters in one run, and a lone ideograph.
        let w: Vec<String> = words("資生堂の口紅 赤, iPhone充电器 猫").collect();
        assert_eq!(
            w,
            [
                "資生", "生堂", "堂の", "の口", "口紅", "赤", "iphone", "充电", "电器", "猫"
            ]
        );
        // Two items sharing a brand written in Han characters are close by
        // words; before, each whole run was one word and they shared none.
        let l = Lexical::new(&["资生堂口红", "资生堂眼霜", "兰蔻香水"]);
        assert!(l.cosine(0, 1) > 0.0);
        assert_eq!(l.cosine(0, 2), 0.0);
    }
}
