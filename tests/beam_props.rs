//! Beam search against scripted scores (no model) and, as a property, with
//! random small T5 models over random tries.
use genrec::decode::t5_step::T5Step;
use genrec::decode::{beam_search, beam_search_with, Constraints, Search, StepModel};
use genrec::model::{hf_init, T5Config, T5};
use genrec::semantic_id::Trie;
use proptest::prelude::*;
use tch::{nn, Device, Kind, Tensor};

/// A "model" whose next-token logits are a fixed function of each row's prefix.
struct Scripted<F: Fn(&[u32]) -> Vec<f32>> {
    prefixes: Vec<Vec<u32>>,
    f: F,
}

impl<F: Fn(&[u32]) -> Vec<f32>> StepModel for Scripted<F> {
    fn step(&mut self, tokens: &Tensor) -> Tensor {
        let toks: Vec<i64> = Vec::try_from(tokens).unwrap();
        let mut rows = Vec::new();
        for (p, t) in self.prefixes.iter_mut().zip(toks) {
            p.push(t as u32);
            rows.push(Tensor::from_slice(&(self.f)(&p[1..])));
        }
        Tensor::stack(&rows, 0)
    }
    fn reorder(&mut self, rows: &Tensor) {
        let r: Vec<i64> = Vec::try_from(rows).unwrap();
        self.prefixes = r
            .iter()
            .map(|&i| self.prefixes[i as usize].clone())
            .collect();
    }
    fn device(&self) -> Device {
        Device::Cpu
    }
}

/// Deterministic pseudo-random logits in [-3, 3) from a prefix.
fn hashed_logits(prefix: &[u32], vocab: usize, salt: u64) -> Vec<f32> {
    let mut h: u64 = 0x9e37_79b9_7f4a_7c15 ^ salt;
    for &t in prefix {
        h = (h ^ u64::from(t))
            .wrapping_mul(0x1000_0000_01b3)
            .rotate_left(17);
    }
    (0..vocab)
        .map(|v| {
            let x = (h ^ (v as u64).wrapping_mul(0xff51_afd7_ed55_8ccd))
                .wrapping_mul(0xc4ce_b9fe_1a85_ec53);
            ((x >> 40) as f32 / (1u64 << 24) as f32) * 6.0 - 3.0
        })
        .collect()
}

fn log_softmax(v: &[f32]) -> Vec<f32> {
    let m = v.iter().cloned().fold(f32::NEG_INFINITY, f32::max);
    let lse = m + v.iter().map(|x| (x - m).exp()).sum::<f32>().ln();
    v.iter().map(|x| x - lse).collect()
}

const V: usize = 24;
const EOS: u32 = 1;

fn exhaustive(ids: &[Vec<u32>], salt: u64) -> Vec<(u32, f32)> {
    exhaustive_with(ids, salt, |_, _| {})
}

/// Every item's score from the hashed logits, `adjust(prefix, logits)` applied
/// to each step's logits before the log-softmax; best first.
fn exhaustive_with(
    ids: &[Vec<u32>],
    salt: u64,
    adjust: impl Fn(&[u32], &mut [f32]),
) -> Vec<(u32, f32)> {
    let mut s: Vec<(u32, f32)> = ids
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let mut total = 0.0;
            for k in 0..=id.len() {
                let mut l = hashed_logits(&id[..k], V, salt);
                adjust(&id[..k], &mut l);
                total += log_softmax(&l)[if k < id.len() {
                    id[k] as usize
                } else {
                    EOS as usize
                }];
            }
            (i as u32, total)
        })
        .collect();
    s.sort_by(|a, b| b.1.total_cmp(&a.1));
    s
}

#[test]
fn wide_beams_equal_exhaustive_ranking() {
    let ids: Vec<Vec<u32>> = vec![
        vec![2, 5, 9],
        vec![2, 5, 10],
        vec![2, 6, 9],
        vec![3, 7, 11],
        vec![4, 7, 12],
        vec![4, 8, 9],
    ];
    let trie = Trie::build(
        ids.iter()
            .enumerate()
            .map(|(i, s)| (i as u32, s.as_slice())),
    )
    .unwrap();
    for salt in 0..20 {
        let batch = 2;
        let width = 8; // ≥ nodes at any level: nothing is pruned
        let mut m = Scripted {
            prefixes: vec![vec![]; batch * width],
            f: |p: &[u32]| hashed_logits(p, V, salt),
        };
        let out = beam_search(
            &mut m,
            &trie,
            &Search {
                batch,
                width,
                start: 0,
                eos: EOS,
                length_penalty: 0.0,
                top_k: 6,
            },
        );
        let want = exhaustive(&ids, salt);
        for hits in &out {
            assert_eq!(hits.len(), 6);
            for (h, w) in hits.iter().zip(&want) {
                assert_eq!(h.item, w.0, "salt {salt}");
                assert!((h.score - w.1).abs() < 1e-4);
            }
        }
    }
}

#[test]
fn a_prior_is_added_to_the_logits_before_the_softmax() {
    let ids: Vec<Vec<u32>> = vec![
        vec![2, 5, 9],
        vec![2, 5, 10],
        vec![2, 6, 9],
        vec![3, 7, 11],
        vec![4, 7, 12],
        vec![4, 8, 9],
    ];
    let trie = Trie::build(
        ids.iter()
            .enumerate()
            .map(|(i, s)| (i as u32, s.as_slice())),
    )
    .unwrap();
    // User 0: item 1's leaf is pushed far down, node [2] up; user 1: node [4, 7] up.
    let (leaf1, n2, n47) = (
        trie.walk(&ids[1]).unwrap(),
        trie.walk(&[2]).unwrap(),
        trie.walk(&[4, 7]).unwrap(),
    );
    let prior = move |u: usize, node: u32| match u {
        0 if node == leaf1 => Some(-30.0),
        0 if node == n2 => Some(1.5),
        1 if node == n47 => Some(2.0),
        _ => None,
    };
    for salt in 0..10 {
        let (batch, width) = (2, 8);
        let mut m = Scripted {
            prefixes: vec![vec![]; batch * width],
            f: |p: &[u32]| hashed_logits(p, V, salt),
        };
        let search = Search {
            batch,
            width,
            start: 0,
            eos: EOS,
            length_penalty: 0.0,
            top_k: 6,
        };
        let out = beam_search_with(
            &mut m,
            &trie,
            &search,
            Constraints {
                banned: None,
                prior: Some(&prior),
            },
        );
        for (u, hits) in out.iter().enumerate() {
            // Exhaustive: the prior on each allowed token's logit, then log-softmax.
            let want = exhaustive_with(&ids, salt, |prefix, l| {
                let node = trie.walk(prefix).unwrap();
                for (&t, &c) in trie.allowed(node).iter().zip(trie.children(node)) {
                    l[t as usize] += prior(u, c).unwrap_or(0.0);
                }
            });
            assert_eq!(hits.len(), 6);
            for (h, w) in hits.iter().zip(&want) {
                assert_eq!(h.item, w.0, "salt {salt}, user {u}");
                assert!((h.score - w.1).abs() < 1e-4);
            }
            if u == 0 {
                assert_eq!(
                    hits.last().unwrap().item,
                    1,
                    "the pushed-down item comes last"
                );
            }
        }
    }
}

#[test]
fn fewer_valid_items_than_beams() {
    let ids: Vec<Vec<u32>> = vec![vec![2, 5], vec![3, 6]];
    let trie = Trie::build(
        ids.iter()
            .enumerate()
            .map(|(i, s)| (i as u32, s.as_slice())),
    )
    .unwrap();
    let mut m = Scripted {
        prefixes: vec![vec![]; 7],
        f: |p: &[u32]| hashed_logits(p, V, 3),
    };
    let out = beam_search(
        &mut m,
        &trie,
        &Search {
            batch: 1,
            width: 7,
            start: 0,
            eos: EOS,
            length_penalty: 0.0,
            top_k: 10,
        },
    );
    let mut items: Vec<u32> = out[0].iter().map(|h| h.item).collect();
    items.sort();
    assert_eq!(items, vec![0, 1]);
    assert!(out[0].iter().all(|h| h.score.is_finite()));
}

fn random_model(vocab: i64, seed: u64) -> (T5, nn::VarStore) {
    tch::manual_seed(seed as i64);
    let vs = nn::VarStore::new(Device::Cpu);
    let mut c = T5Config::tiny(vocab);
    c.dropout_rate = 0.0;
    let m = T5::new(vs.root(), &c);
    hf_init(&vs, &c);
    (m, vs)
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(24))]
    #[test]
    fn returned_items_are_real_distinct_and_scored_consistently(
        seed in 0u64..1000,
        ids in prop::collection::btree_set(prop::collection::vec(2u32..20, 3), 1..25),
        width in 1usize..9,
        batch in 1usize..4,
    ) {
        let ids: Vec<Vec<u32>> = ids.into_iter().collect();
        let trie = Trie::build(ids.iter().enumerate().map(|(i, s)| (i as u32, s.as_slice()))).unwrap();
        let (model, _vs) = random_model(20, seed);
        let _g = tch::no_grad_guard();
        let inputs = Tensor::randint_low(2, 20, [batch as i64, 6], (Kind::Int64, Device::Cpu));
        let mask = inputs.ones_like();
        let mut step = T5Step::new(&model, &inputs, &mask, None, width);
        let out = beam_search(&mut step, &trie, &Search { batch, width, start: 0, eos: EOS, length_penalty: 0.0, top_k: width });
        for (b, hits) in out.iter().enumerate() {
            prop_assert!(!hits.is_empty());
            prop_assert!(hits.len() <= width.min(ids.len()));
            let mut seen = std::collections::HashSet::new();
            for w in hits.windows(2) {
                prop_assert!(w[0].score >= w[1].score);
            }
            for h in hits {
                prop_assert!((h.item as usize) < ids.len());
                prop_assert!(seen.insert(h.item), "duplicate item");
                // The score is the teacher-forced log-probability of the item's ID + eos.
                let id = &ids[h.item as usize];
                let dec: Vec<i64> = std::iter::once(0).chain(id.iter().map(|&t| t as i64)).collect();
                let tgt: Vec<i64> = id.iter().map(|&t| t as i64).chain(std::iter::once(EOS as i64)).collect();
                let lp = model
                    .forward_t(&inputs.narrow(0, b as i64, 1), &mask.narrow(0, b as i64, 1), None, &Tensor::from_slice(&dec).unsqueeze(0), false)
                    .log_softmax(-1, Kind::Float)
                    .gather(2, &Tensor::from_slice(&tgt).view([1, 4, 1]), false)
                    .sum(Kind::Float)
                    .double_value(&[]);
                prop_assert!((lp as f32 - h.score).abs() < 1e-4, "{} vs {}", lp, h.score);
            }
        }
    }
}
