//! SASRec's network checked against a full pass and its rankings in passes.
use super::*;
use tch::Device;

/// Every layer over every position, as RecBole computes it.
fn full_pass(m: &SasRec, seq: &Tensor) -> Tensor {
    let (_, l) = seq.size2().unwrap();
    let pos = Tensor::arange(l, (Kind::Int64, Device::Cpu));
    let mut h = m
        .norm
        .forward(&(m.items.forward(seq) + m.positions.forward(&pos)));
    let keep = seq.gt(0).unsqueeze(1).unsqueeze(1).to_kind(Kind::Float);
    let causal = Tensor::ones([l, l], (Kind::Float, Device::Cpu))
        .tril(0)
        .view([1, 1, l, l]);
    let mask = (1.0 - keep * causal) * MASKED;
    for layer in &m.layers {
        let (k, v) = (m.split(&layer.k.forward(&h)), m.split(&layer.v.forward(&h)));
        h = m.block(layer, &h, (&k, &v), &mask, false);
    }
    h
}

#[test]
fn rankings_in_passes_leave_out_each_history_its_own_banned_items() {
    // Its initialisation draws from libtorch's global generator.
    let _rng = crate::runtime::global_rng_lock();
    let vs = nn::VarStore::new(Device::Cpu);
    let m = SasRec::new(&vs.root(), 40, &SasRecParams::default());
    // 600 histories: passes of 512 and 88.
    let hist: Vec<Vec<u32>> = (0..600u32).map(|u| vec![u % 40, u * 7 % 40]).collect();
    let banned: Vec<HashSet<u32>> = (0..600u32)
        .map(|u| HashSet::from([u * 3 % 40, u * 11 % 40, u * 13 % 40]))
        .collect();
    let hs: Vec<&[u32]> = hist.iter().map(Vec::as_slice).collect();
    let all = m.top_items(&hs, 5, Some(&banned));
    for u in [0usize, 511, 512, 513, 599] {
        assert!(all[u].iter().all(|i| !banned[u].contains(i)), "user {u}");
        let alone = m.top_items(&hs[u..=u], 5, Some(&banned[u..=u]));
        assert_eq!(all[u], alone[0], "user {u}");
    }
}

#[test]
fn the_last_layer_on_asked_positions_equals_the_full_pass() {
    let _rng = crate::runtime::global_rng_lock();
    tch::manual_seed(11);
    for layers in [1, 2, 3] {
        let vs = nn::VarStore::new(Device::Cpu);
        let p = SasRecParams {
            max_len: 12,
            layers,
            ..Default::default()
        };
        let m = SasRec::new(&vs.root(), 40, &p);
        let _g = tch::no_grad_guard();
        // Three right-padded rows of lengths 12, 7 and 3.
        let ids: Vec<i64> = (0..36)
            .map(|i| {
                if (i % 12) < [12, 7, 3][i / 12] {
                    1 + (i * 7 % 40) as i64
                } else {
                    0
                }
            })
            .collect();
        let seq = Tensor::from_slice(&ids).view([3, 12]);
        let all = full_pass(&m, &seq);
        let (rows, cols) = ([2i64, 0, 1, 0, 1, 0], [2i64, 11, 0, 4, 6, 0]);
        let got = m.states_at(
            &seq,
            &Tensor::from_slice(&rows),
            &Tensor::from_slice(&cols),
            false,
        );
        for (i, (&r, &c)) in rows.iter().zip(&cols).enumerate() {
            let d = (got.get(i as i64) - all.get(r).get(c))
                .abs()
                .max()
                .double_value(&[]);
            assert!(d < 1e-5, "{layers} layers, row {r} position {c}: {d}");
        }
        // `states` is the same full pass.
        let st = m.states(&seq, false);
        assert!((st - &all).abs().max().double_value(&[]) < 1e-5);
    }
}

#[test]
fn text_read_into_the_item_vectors_folds_into_a_plain_table() {
    let _rng = crate::runtime::global_rng_lock();
    tch::manual_seed(11);
    let p = SasRecParams {
        max_len: 8,
        ..Default::default()
    };
    let text = Tensor::randn([30, 6], (Kind::Float, Device::Cpu));
    let vs = nn::VarStore::new(Device::Cpu);
    let m = SasRec::with_text(&vs.root(), 30, &p, &text);
    let _g = tch::no_grad_guard();
    // The table is the ID vectors plus the projected text; padding reads
    // no text.
    let proj = &vs.variables()["text_proj.weight"];
    let want = &m.items.ws
        + Tensor::cat(
            &[text.zeros_like().narrow(0, 0, 1), text.shallow_clone()],
            0,
        )
        .matmul(&proj.tr());
    assert!((m.item_table() - &want).abs().max().double_value(&[]) < 1e-6);
    let ids_alone = (m.item_table() - &m.items.ws).abs().max().double_value(&[]);
    assert!(
        ids_alone > 1e-3,
        "the text moves the item vectors: {ids_alone}"
    );
    let hs: Vec<&[u32]> = vec![&[3, 4, 5], &[29], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]];
    // Baked: a plain SASRec (no text variable) that scores as the text one.
    let (plain, pvs) = m.bake(&vs, Device::Cpu);
    assert!(plain.text.is_none());
    assert!(!pvs.variables().contains_key("text_proj.weight"));
    assert_eq!(pvs.variables().len() + 1, vs.variables().len());
    let (a, b) = (m.next_item_scores(&hs), plain.next_item_scores(&hs));
    assert!(
        (a.narrow(1, 1, 30) - b.narrow(1, 1, 30))
            .abs()
            .max()
            .double_value(&[])
            < 1e-5
    );
    assert_eq!(m.top_items(&hs, 5, None), plain.top_items(&hs, 5, None));
    // Saved and loaded as a plain SASRec, it is the same model.
    let dir = tempfile::tempdir().unwrap();
    let f = dir.path().join("m.safetensors");
    pvs.save(&f).unwrap();
    let mut lvs = nn::VarStore::new(Device::Cpu);
    let loaded = SasRec::new(&lvs.root(), 30, &p);
    lvs.load(&f).unwrap();
    assert!(
        (loaded.next_item_scores(&hs) - plain.next_item_scores(&hs))
            .abs()
            .narrow(1, 1, 30)
            .max()
            .double_value(&[])
            == 0.0
    );
}
