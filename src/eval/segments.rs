//! Where each method wins: the held-out users grouped by how often their
//! target was taken in what is known before it (never — the cold-start
//! items TIGER's semantic IDs are meant to reach, Rajput et al. 2023 — then
//! rarely to often) and by the length of their history, with each method's
//! NDCG@10 in every group (bootstrap 95 % intervals over the group's users).
//! One mean over all users hides that a method can win on the popular
//! targets and lose on the cold ones; these tables show it.
use super::{estimate, ranks, Estimate, Protocol};
use crate::data::HeldOut;
use serde::{Deserialize, Serialize};

/// The target's count in what is known before it: never, then bands.
const COUNT_BANDS: [(usize, &str); 5] = [
    (0, "never"),
    (1, "1–2"),
    (3, "3–9"),
    (10, "10–49"),
    (50, "50+"),
];
/// The history's length in items.
const LENGTH_BANDS: [(usize, &str); 5] =
    [(1, "1"), (2, "2–4"), (5, "5–9"), (10, "10–49"), (50, "50+")];

/// Users in groups: each user's group, and the groups' names.
pub struct Grouping {
    by: &'static str,
    names: Vec<&'static str>,
    of_user: Vec<usize>,
}

/// Each method's NDCG@10 in each group of one [`Grouping`].
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Breakdown {
    /// What the users are grouped by.
    pub by: String,
    /// Each group's name and its number of users (groups without users left out).
    pub groups: Vec<(String, usize)>,
    /// Each method's name and its NDCG@10 in each group.
    pub rows: Vec<(String, Vec<Estimate>)>,
}

/// The band `value` falls in (bands given by their lower ends, ascending).
fn band(value: usize, bands: &[(usize, &str)]) -> usize {
    bands.iter().rposition(|&(lo, _)| value >= lo).unwrap_or(0)
}

impl Grouping {
    /// By how often each user's target was taken (`counts`: each item's
    /// count in what is known before the targets).
    pub fn by_target_count(targets: &[u32], counts: &[f64]) -> Self {
        Grouping {
            by: "how often the target was taken before (in what is known before the targets)",
            names: COUNT_BANDS.iter().map(|b| b.1).collect(),
            of_user: targets
                .iter()
                .map(|&t| band(counts[t as usize] as usize, &COUNT_BANDS))
                .collect(),
        }
    }

    /// By the length of each user's history (in items).
    pub fn by_history_length(held: &[HeldOut]) -> Self {
        Grouping {
            by: "the length of the user's history (items)",
            names: LENGTH_BANDS.iter().map(|b| b.1).collect(),
            of_user: held
                .iter()
                .map(|h| band(h.history.len(), &LENGTH_BANDS))
                .collect(),
        }
    }

    /// Each method's NDCG@10 per group (`methods`: names and per-user lists,
    /// in the order of `targets`).
    pub fn breakdown(
        &self,
        methods: &[(&str, &[Vec<u32>])],
        targets: &[u32],
        protocol: &Protocol,
    ) -> Breakdown {
        let users: Vec<Vec<usize>> = (0..self.names.len())
            .map(|g| {
                (0..targets.len())
                    .filter(|&u| self.of_user[u] == g)
                    .collect()
            })
            .collect();
        let used: Vec<usize> = (0..users.len()).filter(|&g| !users[g].is_empty()).collect();
        let rows = methods
            .iter()
            .map(|&(name, lists)| {
                let ndcg: Vec<f64> = ranks(targets, lists)
                    .into_iter()
                    .map(|r| super::metrics::ndcg_at(r, 10))
                    .collect();
                let per_group = used
                    .iter()
                    .map(|&g| {
                        let v: Vec<f64> = users[g].iter().map(|&u| ndcg[u]).collect();
                        estimate(&v, protocol, g as u64)
                    })
                    .collect();
                (name.to_string(), per_group)
            })
            .collect();
        Breakdown {
            by: self.by.into(),
            groups: used
                .iter()
                .map(|&g| (self.names[g].to_string(), users[g].len()))
                .collect(),
            rows,
        }
    }
}

/// Each method's NDCG@10 (`methods`: names and per-user lists, in the
/// order of `held`) by the target's count in what is known before the
/// targets (`counts`, per item) and by the history's length.
pub fn breakdowns(
    methods: &[(&str, &[Vec<u32>])],
    held: &[HeldOut],
    counts: &[f64],
    protocol: &Protocol,
) -> [Breakdown; 2] {
    let targets: Vec<u32> = held.iter().map(|h| h.target).collect();
    [
        Grouping::by_target_count(&targets, counts),
        Grouping::by_history_length(held),
    ]
    .map(|g| g.breakdown(methods, &targets, protocol))
}

impl Breakdown {
    /// A Markdown table: a row per method, a column per group.
    pub fn markdown(&self) -> String {
        let mut s = format!(
            "NDCG@10 by {}, bootstrap 95 % intervals:\n\n| method |",
            self.by
        );
        for (name, n) in &self.groups {
            s.push_str(&format!(" {name} ({n} users) |"));
        }
        s.push_str("\n| --- |");
        s.push_str(&" ---: |".repeat(self.groups.len()));
        for (method, cells) in &self.rows {
            s.push_str(&format!("\n| {method} |"));
            for e in cells {
                s.push_str(&format!(" {:.4} [{:.4}, {:.4}] |", e.mean, e.lo, e.hi));
            }
        }
        s.push('\n');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bands_by_hand() {
        let b = |v| COUNT_BANDS[band(v, &COUNT_BANDS)].1;
        assert_eq!(
            [b(0), b(1), b(2), b(3), b(9)],
            ["never", "1–2", "1–2", "3–9", "3–9"]
        );
        assert_eq!(
            [b(10), b(49), b(50), b(10_000)],
            ["10–49", "10–49", "50+", "50+"]
        );
        let l = |v| LENGTH_BANDS[band(v, &LENGTH_BANDS)].1;
        assert_eq!(
            [l(1), l(2), l(4), l(5), l(10), l(200)],
            ["1", "2–4", "2–4", "5–9", "10–49", "50+"]
        );
    }

    #[test]
    fn each_group_scores_its_own_users() {
        let protocol = Protocol::default();
        // Items 0..4 taken 0, 1, 5, 0 and 60 times; users' targets 0, 2, 3, 1, 4.
        let counts = [0.0, 1.0, 5.0, 0.0, 60.0];
        let targets = [0, 2, 3, 1, 4];
        let g = Grouping::by_target_count(&targets, &counts);
        assert_eq!(g.of_user, vec![0, 2, 0, 1, 4]);
        // a hits user 0 first and user 1 second; b hits user 2 (cold) first
        // and user 4 first.
        let a = vec![vec![0], vec![9, 2], vec![], vec![], vec![]];
        let b = vec![vec![], vec![], vec![3], vec![], vec![4]];
        let d = g.breakdown(&[("a", &a), ("b", &b)], &targets, &protocol);
        // No target taken 10–49 times: that group is left out.
        let names: Vec<(&str, usize)> = d.groups.iter().map(|(n, k)| (n.as_str(), *k)).collect();
        assert_eq!(names, [("never", 2), ("1–2", 1), ("3–9", 1), ("50+", 1)]);
        let means = |r: usize| -> Vec<f64> { d.rows[r].1.iter().map(|e| e.mean).collect() };
        assert_eq!(means(0), [0.5, 0.0, 1.0 / 3f64.log2(), 0.0]);
        assert_eq!(means(1), [0.5, 0.0, 0.0, 1.0]);
        let t = d.markdown();
        assert!(
            t.contains(
                "| method | never (2 users) | 1–2 (1 users) | 3–9 (1 users) | 50+ (1 users) |"
            ),
            "{t}"
        );
        assert!(
            t.contains("\n| b | 0.5000 [0.0000, 1.0000] | 0.0000 [0.0000, 0.0000] |"),
            "{t}"
        );
        // By history length: 1, 3 and 60 items.
        let h = |n: usize| HeldOut {
            user: String::new(),
            history: vec![0; n],
            target: 0,
        };
        let g = Grouping::by_history_length(&[h(1), h(3), h(60)]);
        assert_eq!(g.of_user, vec![0, 1, 4]);
    }
}
