use super::*;
use rand::{Rng, SeedableRng};

#[test]
fn the_features_of_a_pool_by_hand() {
    // Three items in 2-d: e0 = (1, 0), e1 = (0, 1), e2 = (0.6, 0.8).
    let emb = [1.0, 0.0, 0.0, 1.0, 0.6, 0.8];
    let counts = [0.0, 3.0, 9.0];
    // Item 2 came after item 1 three times, after item 0 once.
    let seqs: Vec<crate::data::dataset::TrainSequence> = [vec![1, 2, 1, 2, 1, 2], vec![0, 2]]
        .into_iter()
        .map(|items| crate::data::dataset::TrainSequence {
            user: String::new(),
            items,
        })
        .collect();
    let transitions = Transitions::count(3, &seqs);
    // Item 2 shares "red" with item 1 and "polish" with items 0 and 1.
    let words = Lexical::new(&["nail polish", "red polish", "red polish set"]);
    let facts = ItemFacts {
        emb: &emb,
        dim: 2,
        counts: &counts,
        transitions: &transitions,
        words: &words,
    };
    let beams = vec![vec![2]];
    let text = vec![vec![0, 2]];
    let none = vec![vec![]];
    let h: [&[u32]; 1] = [&[0, 1]];
    let pooled = crate::eval::blend::Pooled::new(&[&beams, &text, &none, &none, &none]);
    let pools = pool_features(&pooled, &h, facts);
    assert_eq!(pools[0].items, [2, 0]);
    assert_eq!(pools[0].x.len(), 2 * RESCORE_FEATURES);
    let x2 = &pools[0].x[..RESCORE_FEATURES];
    let rank = |r: f64| [1.0, 1.0 / (1.0 + r), 1.0 / (5.0 + r), 1.0 / (20.0 + r)];
    let mut want = Vec::new();
    want.extend(rank(1.0)); // the beams' first
    want.extend(rank(2.0)); // the text's second
    want.extend([0.0; 12]); // in no other source
    want.push(10f64.ln() / 10.0);
    want.push(0.8); // cos(e2, e1), the last item
    want.push((0.6 + 0.8) / 2f64.sqrt()); // cos(e2, (e0 + e1) / √2)
    want.push(4f64.ln()); // three times after the last item (1)
    want.push((1.0f64 + 3.0 + 0.5).ln()); // 3 after 1, 1 after 0 (weight 0.5)

    // The words: "polish" is in every text (idf 0), "red" in two of three,
    // "set" and "nail" in one. To "red polish", the last item:
    let (red, one) = (1.5f64.ln().powi(2), 3f64.ln().powi(2));
    want.push(red / (red.sqrt() * (red + one).sqrt()));
    // To the profile of items 0 and 1: nail, red (and polish) once each.
    want.push(red / ((one + red).sqrt() * (red + one).sqrt()));
    assert_eq!(want.len(), RESCORE_FEATURES);
    for (i, (g, w)) in x2.iter().zip(&want).enumerate() {
        assert!((g - w).abs() < 1e-6, "feature {i}: {g} against {w}");
    }
    // Item 0: the text's first, popularity 0, cosines 0 and 1/√2.
    let x0 = &pools[0].x[RESCORE_FEATURES..];
    assert_eq!(&x0[..4], [0.0; 4]);
    assert!((x0[5] - 0.5).abs() < 1e-12);
    assert_eq!(x0[20], 0.0);
    assert!((x0[22] - 0.5f64.sqrt()).abs() < 1e-6);
    // Item 0 never came after item 1 or item 0, shares no word of weight
    // with item 1, and "nail" with the profile.
    assert_eq!(&x0[23..26], [0.0, 0.0, 0.0]);
    assert!((x0[26] - one / ((one + red).sqrt() * one.sqrt())).abs() < 1e-12);

    // With the words' nearest as a sixth list (items 0, then 1): the same
    // features first, then that list's rank; item 1, in no other list,
    // comes last with its own item features.
    let near = vec![vec![0, 1]];
    let six = crate::eval::blend::Pooled::new(&[&beams, &text, &none, &none, &none, &near]);
    let with = &pool_features(&six, &h, facts)[0];
    assert_eq!(
        (with.items.as_slice(), with.width),
        ([2, 0, 1].as_slice(), RESCORE_FEATURES_WITH_WORDS)
    );
    let row = |c: usize| &with.x[c * with.width..(c + 1) * with.width];
    assert_eq!(&row(0)[..RESCORE_FEATURES], x2);
    assert_eq!(&row(0)[RESCORE_FEATURES..], [0.0; 4]);
    assert_eq!(&row(1)[..RESCORE_FEATURES], x0);
    assert_eq!(&row(1)[RESCORE_FEATURES..], rank(1.0));
    assert_eq!(&row(2)[..20], [0.0; 20]);
    assert!((row(2)[20] - 4f64.ln() / 10.0).abs() < 1e-12);
    assert!((row(2)[21] - 1.0).abs() < 1e-6); // item 1 is the last item
    assert_eq!(&row(2)[RESCORE_FEATURES..], rank(2.0));
}

#[test]
fn a_stored_rescorer_must_weigh_every_feature() {
    let (pools, _) = synthetic(20, None, 3);
    let r = Rescorer {
        weights: (0..RESCORE_FEATURES)
            .map(|f| f as f64 / 7.0 - 1.0)
            .collect(),
    };
    assert_eq!(r.check(), Ok(()));
    assert_eq!(r.rank(&pools, 5).len(), 20);
    // A rescorer fitted before the lexical features scores as it did: its
    // weights over the first features, the two new ones unweighed.
    let before = Rescorer {
        weights: r.weights[..FEATURES_BEFORE_WORDS].to_vec(),
    };
    assert_eq!(before.check(), Ok(()));
    let mut zeroed = r.clone();
    zeroed.weights[FEATURES_BEFORE_WORDS..].fill(0.0);
    assert_eq!(before.rank(&pools, 8), zeroed.rank(&pools, 8));
    for n in [
        FEATURES_BEFORE_WORDS - 1,
        RESCORE_FEATURES - 1,
        RESCORE_FEATURES + 1,
        RESCORE_FEATURES_WITH_WORDS + 1,
    ] {
        let e = Rescorer {
            weights: vec![0.0; n],
        }
        .check()
        .unwrap_err();
        assert!(e.contains(&format!("{n} weights")), "{e}");
    }
}

/// `users` pools of 8 candidates with random features; the target is the
/// candidate whose feature `signal` is largest (none: a random one).
fn synthetic(users: usize, signal: Option<usize>, seed: u64) -> (Vec<Pool>, Vec<u32>) {
    synthetic_of_width(users, RESCORE_FEATURES, signal, seed)
}

/// [`synthetic`] with `width` features a candidate.
fn synthetic_of_width(
    users: usize,
    width: usize,
    signal: Option<usize>,
    seed: u64,
) -> (Vec<Pool>, Vec<u32>) {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let (mut pools, mut targets) = (Vec::new(), Vec::new());
    for u in 0..users {
        let items: Vec<u32> = (0..8).map(|c| (u * 8 + c) as u32).collect();
        let x: Vec<f64> = (0..8 * width).map(|_| rng.gen_range(0.0..1.0)).collect();
        let t = match signal {
            Some(f) => (0..8)
                .max_by(|&a, &b| x[a * width + f].total_cmp(&x[b * width + f]))
                .unwrap(),
            None => rng.gen_range(0..8),
        };
        targets.push(items[t]);
        pools.push(Pool { items, x, width });
    }
    (pools, targets)
}

/// The same pools without the words' list's four features.
fn without_words_list(pools: &[Pool]) -> Vec<Pool> {
    pools
        .iter()
        .map(|p| Pool {
            items: p.items.clone(),
            x: p.x
                .chunks(p.width)
                .flat_map(|f| f[..RESCORE_FEATURES].to_vec())
                .collect(),
            width: RESCORE_FEATURES,
        })
        .collect()
}

/// The fit's objective (as `Rescorer::fit` defines it) over every user.
fn objective(pools: &[Pool], targets: &[u32], w: &[f64]) -> f64 {
    let mut loss = 0.0;
    for (p, &t) in pools.iter().zip(targets) {
        let s: Vec<f64> =
            p.x.chunks(p.width)
                .map(|f| f.iter().zip(w).map(|(a, b)| a * b).sum())
                .collect();
        let at = p.items.iter().position(|&i| i == t).unwrap();
        loss += s.iter().map(|v| v.exp()).sum::<f64>().ln() - s[at];
    }
    loss / pools.len() as f64 + RIDGE * w.iter().map(|v| v * v).sum::<f64>()
}

#[test]
fn the_fit_is_the_minimum_and_finds_the_feature_that_marks_the_target() {
    let (pools, targets) = synthetic(300, Some(21), 5);
    let all: Vec<usize> = (0..pools.len()).collect();
    let r = Rescorer::fit(&pools, &targets, &all);
    // The largest weight is the marking feature's.
    let best = (0..RESCORE_FEATURES)
        .max_by(|&a, &b| r.weights[a].total_cmp(&r.weights[b]))
        .unwrap();
    assert_eq!(best, 21, "{:?}", r.weights);
    // A minimum: no step along any feature lowers the objective.
    let at = objective(&pools, &targets, &r.weights);
    for f in 0..RESCORE_FEATURES {
        for step in [-1e-3, 1e-3] {
            let mut w = r.weights.clone();
            w[f] += step;
            assert!(objective(&pools, &targets, &w) >= at - 1e-12, "feature {f}");
        }
    }
    // It ranks most targets first; users left out of the fit are not read.
    let first = r
        .rank(&pools, 1)
        .iter()
        .zip(&targets)
        .filter(|(l, &t)| l[0].0 == t)
        .count();
    assert!(first > 250, "{first} of 300 first");
    let half = Rescorer::fit(&pools, &targets, &all[..150]);
    let mut other = synthetic(300, None, 9).1;
    other[..150].copy_from_slice(&targets[..150]);
    assert_eq!(half, Rescorer::fit(&pools, &other, &all[..150]));
}

#[test]
fn the_rescoring_is_kept_only_where_it_finds_more_targets_on_users_it_was_not_fitted_on() {
    // The fusion's lists: each pool in its order, the target wherever it fell.
    let fused =
        |pools: &[Pool]| -> Vec<Vec<u32>> { pools.iter().map(|p| p.items[..8].to_vec()).collect() };
    let (pools, targets) = synthetic(400, Some(3), 7);
    let lists = fused(&pools);
    let Chosen {
        rescorer: kept,
        gain,
        ..
    } = choose_rescorer(&pools, &targets, &|_| lists.clone(), 42);
    assert!(gain.lo > 0.0, "{gain:?}");
    assert_eq!(kept.expect("kept").weights.len(), RESCORE_FEATURES);
    // Features that say nothing of the target: kept no more often than
    // the interval's one-sided 2.5 % allows by chance (at most 3 of 20
    // catalogues; a gate that leaked the targets would keep most).
    let kept = (0..20)
        .filter(|&seed| {
            let (pools, targets) = synthetic(400, None, 100 + seed);
            let lists = fused(&pools);
            let c = choose_rescorer(&pools, &targets, &|_| lists.clone(), 42);
            let (kept, gain) = (c.rescorer, c.gain);
            assert_eq!(kept.is_some(), gain.lo > 0.0);
            kept.is_some()
        })
        .count();
    assert!(kept <= 3, "kept on {kept} of 20 catalogues without signal");
}

#[test]
fn the_words_list_is_kept_only_where_its_rescoring_finds_more_targets() {
    // The five lists' rescoring, paired against each pool in its order.
    let five = |with: &[Pool], targets: &[u32]| {
        let without = without_words_list(with);
        let lists: Vec<Vec<u32>> = without.iter().map(|p| p.items.clone()).collect();
        choose_rescorer(&without, targets, &|_| lists.clone(), 42)
    };
    // The target marked by the words' list's rank (feature 28: `1 / (1 +
    // rank)`), which the five lists' features do not hold.
    let (with, targets) = synthetic_of_width(400, RESCORE_FEATURES_WITH_WORDS, Some(28), 7);
    let c = choose_words_source(&with, &five(&with, &targets), &targets);
    let (kept, gain) = (c.rescorer, c.gain);
    assert!(gain.lo > 0.0, "{gain:?}");
    let kept = kept.expect("kept");
    assert_eq!(kept.weights.len(), RESCORE_FEATURES_WITH_WORDS);
    assert!(kept.reads_words_list() && kept.check().is_ok());
    // Marked by a feature both read: the list adds nothing, and is not kept.
    let (with, targets) = synthetic_of_width(400, RESCORE_FEATURES_WITH_WORDS, Some(3), 7);
    let c = choose_words_source(&with, &five(&with, &targets), &targets);
    let (kept, gain) = (c.rescorer, c.gain);
    assert!(kept.is_none() && gain.lo <= 0.0, "{gain:?}");
}

#[test]
fn the_halves_split_the_users_by_the_seed() {
    let [a, b] = halves(11, 3);
    assert_eq!((a.len(), b.len()), (6, 5));
    let mut all: Vec<usize> = a.iter().chain(&b).copied().collect();
    all.sort_unstable();
    assert_eq!(all, (0..11).collect::<Vec<_>>());
    assert!(a.windows(2).all(|w| w[0] < w[1]));
    assert_eq!(halves(11, 3), [a, b]);
    assert_ne!(halves(11, 4)[0], halves(11, 3)[0]);
}
