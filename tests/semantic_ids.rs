//! Semantic IDs: determinism, uniqueness, trie behaviour, persistence, cold start.
use genrec::semantic_id::{self, Backend, Collisions, IndexParams, Scheme, SemanticIds, Trie};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};

/// Gaussian-ish blobs: `n` points in `d` dims around `c` random centres.
fn blobs(n: usize, d: usize, c: usize, seed: u64) -> Vec<f32> {
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let centres: Vec<f32> = (0..c * d).map(|_| rng.gen_range(-1.0..1.0)).collect();
    let mut x = Vec::with_capacity(n * d);
    for i in 0..n {
        let k = i % c;
        for j in 0..d {
            x.push(centres[k * d + j] + rng.gen_range(-0.2..0.2f32));
        }
    }
    x
}

fn params(backend: Backend, seed: u64) -> IndexParams {
    IndexParams {
        levels: 3,
        codebook_size: 8,
        backend,
        scheme: Scheme::RqKmeans,
        seed,
        max_iter: 50,
        tolerance: 1e-4,
        max_points_per_centroid: 0,
        collisions: Collisions::Digit,
        collab_weight: 0.0,
        collab_dim: 0,
    }
}

fn build(x: &[f32], n: usize, d: usize, p: &IndexParams) -> SemanticIds {
    semantic_id::build(x, n, d, p, "test", &mut |_| {}).unwrap()
}

#[test]
fn same_seed_gives_identical_codes_on_both_backends() {
    let (n, d) = (600, 12);
    let x = blobs(n, d, 10, 1);
    for backend in [Backend::Linfa, Backend::Faiss] {
        let a = build(&x, n, d, &params(backend, 7));
        let b = build(&x, n, d, &params(backend, 7));
        assert_eq!(a.codes, b.codes, "{backend:?}");
        assert_eq!(a.codes_sha256(), b.codes_sha256());
        let bits = |s: &SemanticIds| {
            s.centroids
                .iter()
                .flatten()
                .map(|v| v.to_bits())
                .collect::<Vec<_>>()
        };
        assert_eq!(
            bits(&a),
            bits(&b),
            "{backend:?} centroids must be bit-identical"
        );
        let c = build(&x, n, d, &params(backend, 8));
        assert_ne!(
            a.codes, c.codes,
            "{backend:?}: another seed should change something"
        );
    }
}

#[test]
fn every_item_has_a_unique_id_and_the_trie_finds_it() {
    let (n, d) = (500, 8);
    // Duplicated points force collisions, which the digit must resolve.
    let mut x = blobs(n - 50, d, 6, 2);
    x.extend_from_within(..50 * d);
    for scheme in [Scheme::RqKmeans, Scheme::Random] {
        let p = IndexParams {
            scheme,
            ..params(Backend::Linfa, 3)
        };
        let ids = build(&x, n, d, &p);
        let mut seen = std::collections::HashSet::new();
        for c in &ids.codes {
            assert_eq!(c.len(), 4);
            assert!(c[..3].iter().all(|&v| v < 8));
            assert!(seen.insert(c.clone()), "duplicate ID {c:?}");
        }
        let h = ids.health(&x);
        if scheme == Scheme::RqKmeans {
            assert!(
                h.largest_collision_group >= 2,
                "duplicated points must collide"
            );
        }
        let vocab = ids.vocab(100);
        let trie = ids.trie(&vocab, None).unwrap();
        for (i, t) in ids.item_tokens(&vocab).iter().enumerate() {
            assert_eq!(trie.lookup(t), Some(i as u32));
        }
        // A non-item: a valid code prefix with an unused digit.
        let mut bogus = ids.item_tokens(&vocab)[0].clone();
        bogus[3] = vocab.digit_token(vocab.digits - 1);
        assert_eq!(trie.lookup(&bogus), None);
        assert_eq!(trie.lookup(&bogus[..3]), None, "a prefix is not an item");
    }
}

#[test]
fn save_load_round_trip_and_tamper_detection() {
    let (n, d) = (300, 6);
    let x = blobs(n, d, 5, 4);
    let ids = build(&x, n, d, &params(Backend::Faiss, 1));
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("ids.safetensors");
    ids.save(&p).unwrap();
    let back = SemanticIds::load(&p).unwrap();
    assert_eq!(back.codes, ids.codes);
    assert_eq!(back.centroids, ids.centroids);
    assert_eq!(back.params, ids.params);
    // Change one code in the file: the recorded hash no longer matches.
    let mut other = ids.clone();
    other.codes[0][0] = (other.codes[0][0] + 1) % 8;
    let mut f = genrec::util::st::StFile::read(&p).unwrap();
    let flat: Vec<i64> = other.codes.iter().flatten().map(|&v| v as i64).collect();
    f.tensors.insert(
        "codes".into(),
        tch::Tensor::from_slice(&flat).view([n as i64, 4]),
    );
    let tensors: Vec<(String, tch::Tensor)> = f
        .tensors
        .iter()
        .map(|(k, v)| (k.clone(), v.shallow_clone()))
        .collect();
    let meta = f
        .metadata
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    genrec::util::st::write(&p, &tensors, &meta).unwrap();
    let e = SemanticIds::load(&p).unwrap_err();
    assert!(matches!(e, genrec::Error::Mismatch(_)), "{e:?}");
    assert!(
        e.to_string().contains("do not match their recorded hash"),
        "{e}"
    );
}

#[test]
fn cold_start_reuses_centroids_and_takes_the_next_digit() {
    let (n, d) = (400, 10);
    let x = blobs(n, d, 8, 5);
    for backend in [Backend::Linfa, Backend::Faiss] {
        let mut ids = build(&x, n, d, &params(backend, 9));
        let before = ids.codes.clone();
        let centroids = ids.centroids.clone();
        // Item 17's own embedding gets item 17's codes, and a digit not used in that group.
        let new = ids.add_items(&x[17 * d..18 * d]).unwrap();
        assert_eq!(&new[0][..3], &before[17][..3], "{backend:?}");
        let group_max = before
            .iter()
            .filter(|c| c[..3] == before[17][..3])
            .map(|c| c[3])
            .max()
            .unwrap();
        assert_eq!(new[0][3], group_max + 1);
        assert_eq!(ids.centroids, centroids, "no re-clustering");
        assert_eq!(ids.n_items(), n + 1);
        let vocab = ids.vocab(10);
        let trie = ids.trie(&vocab, None).unwrap();
        assert_eq!(trie.lookup(&vocab.id_tokens(&new[0])), Some(n as u32));
    }
}

#[test]
fn bad_parameters_are_rejected_before_work() {
    let x = blobs(20, 4, 2, 6);
    let mut p = params(Backend::Linfa, 1);
    p.codebook_size = 32;
    let e = semantic_id::build(&x, 20, 4, &p, "", &mut |_| {}).unwrap_err();
    assert!(matches!(e, genrec::Error::Config(_)), "{e:?}");
    assert!(e.to_string().contains("exceeds the number of items"), "{e}");
    p.codebook_size = 4;
    p.levels = 0;
    assert!(semantic_id::build(&x, 20, 4, &p, "", &mut |_| {}).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]
    #[test]
    fn trie_finds_exactly_the_inserted_ids(
        ids in prop::collection::btree_set(prop::collection::vec(0u32..5, 3), 1..40),
        probes in prop::collection::vec(prop::collection::vec(0u32..5, 3), 0..40),
    ) {
        let ids: Vec<Vec<u32>> = ids.into_iter().collect();
        let trie = Trie::build(ids.iter().enumerate().map(|(i, s)| (i as u32, s.as_slice()))).unwrap();
        for (i, s) in ids.iter().enumerate() {
            prop_assert_eq!(trie.lookup(s), Some(i as u32));
        }
        for p in &probes {
            let want = ids.iter().position(|s| s == p).map(|i| i as u32);
            prop_assert_eq!(trie.lookup(p), want);
            // allowed() after a prefix is exactly the set of next tokens among the items.
            for k in 0..3 {
                let mut next: Vec<u32> = ids.iter().filter(|s| s[..k] == p[..k]).map(|s| s[k]).collect();
                next.sort();
                next.dedup();
                match trie.walk(&p[..k]) {
                    Some(node) => prop_assert_eq!(trie.allowed(node), next.as_slice()),
                    None => prop_assert!(next.is_empty()),
                }
            }
        }
    }
}

#[test]
fn the_default_index_gives_crowded_items_codes_of_their_own() {
    let (n, d) = (600, 8);
    // 100 exact duplicates pile up on the same codes.
    let mut x = blobs(n - 100, d, 6, 11);
    x.extend_from_within(..100 * d);
    let defaults = IndexParams::for_catalogue(n);
    assert_eq!(defaults.collisions, Collisions::Reassign);
    let spread = build(&x, n, d, &defaults);
    let digits = build(
        &x,
        n,
        d,
        &IndexParams {
            collisions: Collisions::Digit,
            ..defaults.clone()
        },
    );
    let (hs, hd) = (spread.health(&x), digits.health(&x));
    assert!(hd.collision_rate > 0.1, "the fixture must crowd: {hd:?}");
    assert_eq!(hs.collision_rate, 0.0, "{hs:?}");
    assert_eq!(hs.largest_collision_group, 1);
    assert!(spread.codes.iter().all(|c| c[3] == 0), "no digit needed");
    // The first two levels are untouched; only the last one moves, at a small cost.
    assert!(spread
        .codes
        .iter()
        .zip(&digits.codes)
        .all(|(a, b)| a[..2] == b[..2]));
    assert!(
        hs.reconstruction_error < 1.25 * hd.reconstruction_error,
        "{} vs {}",
        hs.reconstruction_error,
        hd.reconstruction_error
    );
    // Cold start follows the same rule: a copy of item 3 takes a free last-level code.
    let mut added = spread.clone();
    let new = added.add_items(&x[3 * d..4 * d]).unwrap();
    assert_eq!(&new[0][..2], &spread.codes[3][..2]);
    assert_ne!(new[0][2], spread.codes[3][2]);
    assert_eq!(new[0][3], 0);
}

/// The largest number of items that share their codes up to `level` and
/// the code at `level`, against the fewest a balanced split of their parent
/// group allows (`ceil(group / k)`).
fn crowding(codes: &[Vec<u32>], level: usize, k: usize) -> (usize, usize) {
    let mut groups: std::collections::HashMap<&[u32], usize> = Default::default();
    let mut cells: std::collections::HashMap<&[u32], usize> = Default::default();
    for c in codes {
        *groups.entry(&c[..level]).or_default() += 1;
        *cells.entry(&c[..=level]).or_default() += 1;
    }
    let worst = cells.iter().max_by_key(|(_, &m)| m).unwrap();
    (*worst.1, groups[&worst.0[..level]].div_ceil(k))
}

#[test]
fn balance_spreads_each_parent_evenly_over_the_next_codes() {
    let (n, d) = (600, 8);
    // Six blobs and 150 copies of one point: residual k-means piles many
    // items onto few second-level codes.
    let mut x = blobs(n - 150, d, 6, 5);
    for _ in 0..150 {
        x.extend_from_within(..d);
    }
    let reassign = IndexParams {
        collisions: Collisions::Reassign,
        ..params(Backend::Faiss, 3)
    };
    let balance = IndexParams {
        collisions: Collisions::Balance,
        ..reassign.clone()
    };
    let (r, b) = (build(&x, n, d, &reassign), build(&x, n, d, &balance));
    let k = reassign.codebook_size;
    let (worst, even) = crowding(&r.codes, 1, k);
    assert!(
        worst > even,
        "the fixture must crowd level 2: {worst} vs {even}"
    );
    for level in 1..3 {
        let (worst, even) = crowding(&b.codes, level, k);
        assert!(worst <= even, "level {}: {worst} > {even}", level + 1);
    }
    // The first level is k-means' own; every ID is distinct and findable.
    assert!(r.codes.iter().zip(&b.codes).all(|(a, c)| a[0] == c[0]));
    let ids: std::collections::HashSet<&Vec<u32>> = b.codes.iter().collect();
    assert_eq!(ids.len(), n);
    // Same seed, same codes.
    assert_eq!(build(&x, n, d, &balance).codes, b.codes);
}

#[test]
fn fitting_on_a_sample_assigns_every_item_and_is_seeded() {
    let (n, d) = (3000, 6);
    let x = blobs(n, d, 12, 13);
    let p = IndexParams {
        max_points_per_centroid: 20,
        ..params(Backend::Faiss, 5)
    };
    // 3,000 items > 20 × 8: each level is fitted on 160 of them.
    let a = build(&x, n, d, &p);
    let b = build(&x, n, d, &p);
    assert_eq!(a.codes, b.codes);
    assert_eq!(a.n_items(), n);
    let full = build(
        &x,
        n,
        d,
        &IndexParams {
            max_points_per_centroid: 0,
            ..p.clone()
        },
    );
    let (ha, hf) = (a.health(&x), full.health(&x));
    assert!(
        ha.reconstruction_error < 1.3 * hf.reconstruction_error,
        "{} vs {}",
        ha.reconstruction_error,
        hf.reconstruction_error
    );
    assert_ne!(a.centroids, full.centroids, "the sample changes the fit");
}
