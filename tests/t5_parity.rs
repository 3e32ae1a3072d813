//! The tch T5 against Hugging Face `transformers` (fixtures t5_tiny, _tied,
//! _gated): position buckets, encoder/decoder states, logits, KV-cached greedy
//! decoding, teacher-forced item scores and trie-constrained beam search.
use genrec::decode::t5_step::T5Step;
use genrec::decode::{beam_search, greedy, Greedy, Search};
use genrec::model::hf;
use genrec::model::t5::Buckets;
use genrec::semantic_id::Trie;
use genrec::util::st::StFile;
use std::path::{Path, PathBuf};
use tch::{Device, Kind, Tensor};

fn dir(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/fixtures")
        .join(name)
}

fn diff(a: &Tensor, b: &Tensor) -> f64 {
    assert_eq!(a.size(), b.size());
    (a.to_kind(Kind::Float) - b.to_kind(Kind::Float))
        .abs()
        .max()
        .double_value(&[])
}

fn i64s(t: &Tensor) -> Vec<i64> {
    Vec::try_from(t.flatten(0, -1).to_kind(Kind::Int64)).unwrap()
}
fn f32s(t: &Tensor) -> Vec<f32> {
    Vec::try_from(t.flatten(0, -1).to_kind(Kind::Float)).unwrap()
}

fn check_fixture(name: &str) {
    let d = dir(name);
    let (model, _vs) = hf::load(
        &d.join("config.json"),
        &d.join("weights.safetensors"),
        Device::Cpu,
    )
    .unwrap();
    let ep = d.join("expected.safetensors");
    let e = StFile::read(&ep).unwrap();
    let g = |k: &str| e.get(&ep, k).unwrap().shallow_clone();
    let c = &model.config;
    let _ng = tch::no_grad_guard();

    // Relative position buckets.
    let eb = Buckets {
        bidirectional: true,
        num_buckets: c.relative_attention_num_buckets,
        max_distance: c.relative_attention_max_distance,
    }
    .matrix(24, 24, 0, Device::Cpu);
    assert_eq!(
        i64s(&eb),
        i64s(&g("encoder_position_bucket")),
        "{name}: encoder buckets"
    );
    let db = Buckets {
        bidirectional: false,
        num_buckets: c.relative_attention_num_buckets,
        max_distance: c.relative_attention_max_distance,
    }
    .matrix(22, 22, 0, Device::Cpu);
    assert_eq!(
        i64s(&db),
        i64s(&g("decoder_position_bucket")),
        "{name}: decoder buckets"
    );

    // Teacher-forced forward.
    let (ids, mask, dec) = (g("input_ids"), g("attention_mask"), g("decoder_input_ids"));
    let enc = model.encode(&ids, &mask, None, false);
    let de = diff(&enc, &g("encoder_last_hidden_state"));
    assert!(de < 1e-4, "{name}: encoder states differ by {de}");
    let h = model.decode(&dec, &enc, &mask, false);
    let dd = diff(&h, &g("decoder_last_hidden_state"));
    assert!(dd < 1e-4, "{name}: decoder states differ by {dd}");
    let logits = model.lm_logits(&h);
    let dl = diff(&logits, &g("logits"));
    assert!(dl < 1e-4, "{name}: logits differ by {dl}");

    // Greedy with the KV cache: 5 tokens, identical; step logits within 1e-4.
    let mut step = T5Step::new(&model, &ids, &mask, None, 1);
    let (toks, step_logits) = greedy(
        &mut step,
        &Greedy {
            rows: 3,
            start: 0,
            eos: 1,
            pad: 0,
            steps: 5,
        },
        None,
    );
    let want = i64s(&g("greedy_sequences").narrow(1, 1, 5));
    let got: Vec<i64> = toks.iter().flatten().map(|&t| t as i64).collect();
    assert_eq!(got, want, "{name}: greedy tokens");
    let gl = Tensor::stack(&step_logits, 1);
    let dg = diff(&gl, &g("greedy_logits"));
    assert!(dg < 1e-4, "{name}: greedy step logits differ by {dg}");

    // Teacher-forced item scores: sum of full-vocabulary log-softmax over codes + eos.
    let items = g("items");
    let n_items = items.size()[0];
    let want_lp = g("item_logprob_sum");
    for row in 0..3 {
        let r_ids = ids.get(row).unsqueeze(0).repeat([n_items, 1]);
        let r_mask = mask.get(row).unsqueeze(0).repeat([n_items, 1]);
        let dec_in = Tensor::cat(
            &[
                Tensor::zeros([n_items, 1], (Kind::Int64, Device::Cpu)),
                items.shallow_clone(),
            ],
            1,
        );
        let targets = Tensor::cat(
            &[
                items.shallow_clone(),
                Tensor::ones([n_items, 1], (Kind::Int64, Device::Cpu)),
            ],
            1,
        );
        let lp = model
            .forward_t(&r_ids, &r_mask, None, &dec_in, false)
            .log_softmax(-1, Kind::Float);
        let s = lp
            .gather(2, &targets.unsqueeze(-1), false)
            .squeeze_dim(-1)
            .sum_dim_intlist(1, false, Kind::Float);
        let dlp = diff(&s, &want_lp.get(row));
        assert!(
            dlp < 1e-4,
            "{name}: item log-prob sums of row {row} differ by {dlp}"
        );
    }

    // Trie-constrained beam search.
    let item_rows: Vec<Vec<u32>> = i64s(&items)
        .chunks(3)
        .map(|c| c.iter().map(|&v| v as u32).collect())
        .collect();
    let trie = Trie::build(
        item_rows
            .iter()
            .enumerate()
            .map(|(i, s)| (i as u32, s.as_slice())),
    )
    .unwrap();
    for (beams, lp, seq_key, score_key, idx_key) in [
        (
            6,
            0.0,
            "beam_sequences",
            "beam_sequences_scores",
            "beam_item_index",
        ),
        (
            6,
            1.0,
            "beam_sequences",
            "beam_sequences_scores_lp1",
            "beam_item_index",
        ),
        (
            3,
            0.0,
            "beam3_sequences",
            "beam3_sequences_scores",
            "beam3_item_index",
        ),
    ] {
        let mut step = T5Step::new(&model, &ids, &mask, None, beams);
        let out = beam_search(
            &mut step,
            &trie,
            &Search {
                batch: 3,
                width: beams,
                start: 0,
                eos: 1,
                length_penalty: lp,
                top_k: beams,
            },
        );
        let want_idx = i64s(&g(idx_key));
        let want_scores = f32s(&g(score_key));
        let want_seqs = i64s(&g(seq_key));
        for (row, hits) in out.iter().enumerate() {
            assert_eq!(hits.len(), beams, "{name}: beams {beams} row {row}");
            for (j, h) in hits.iter().enumerate() {
                let k = row * beams + j;
                assert_eq!(
                    h.item as i64, want_idx[k],
                    "{name}: beams {beams} lp {lp} row {row} rank {j}"
                );
                let seq: Vec<i64> = std::iter::once(0)
                    .chain(item_rows[h.item as usize].iter().map(|&v| v as i64))
                    .chain(std::iter::once(1))
                    .collect();
                assert_eq!(seq, want_seqs[k * 5..k * 5 + 5].to_vec());
                assert!(
                    (h.score - want_scores[k]).abs() < 1e-4,
                    "{name}: score {} vs {}",
                    h.score,
                    want_scores[k]
                );
            }
        }
    }
}

#[test]
fn t5_tiny_untied_relu() {
    check_fixture("t5_tiny");
}

#[test]
fn t5_tiny_tied_scaled() {
    check_fixture("t5_tiny_tied");
}

#[test]
fn t5_tiny_gated_gelu() {
    check_fixture("t5_tiny_gated");
}

#[test]
fn save_then_load_round_trips_exactly() {
    let d = dir("t5_tiny");
    let (model, vs) = hf::load(
        &d.join("config.json"),
        &d.join("weights.safetensors"),
        Device::Cpu,
    )
    .unwrap();
    let out = tempfile::tempdir().unwrap();
    hf::save_dir(&model, &vs, out.path()).unwrap();
    let (back, _vs2) = hf::load_dir(out.path(), Device::Cpu).unwrap();
    assert_eq!(back.config, model.config);
    let ids = Tensor::from_slice(&[5i64, 9, 3, 1]).view([1, 4]);
    let mask = ids.ones_like();
    let dec = Tensor::from_slice(&[0i64, 7]).view([1, 2]);
    let _g = tch::no_grad_guard();
    assert_eq!(
        diff(
            &model.forward_t(&ids, &mask, None, &dec, false),
            &back.forward_t(&ids, &mask, None, &dec, false)
        ),
        0.0
    );
    // A config that disagrees with the weights is a clear error.
    let mut cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.path().join("config.json")).unwrap()).unwrap();
    cfg["vocab_size"] = 50.into();
    std::fs::write(
        out.path().join("config.json"),
        serde_json::to_vec(&cfg).unwrap(),
    )
    .unwrap();
    let e = hf::load_dir(out.path(), Device::Cpu).unwrap_err();
    assert!(matches!(e, genrec::Error::Mismatch(_)), "{e:?}");
    assert!(e.to_string().contains("vocab_size 50"), "{e}");
}

#[test]
fn bf16_compute_keeps_f32_weights_and_stays_close() {
    let d = dir("t5_tiny");
    let (mut model, vs) = hf::load(
        &d.join("config.json"),
        &d.join("weights.safetensors"),
        Device::Cpu,
    )
    .unwrap();
    let ep = d.join("expected.safetensors");
    let e = StFile::read(&ep).unwrap();
    let g = |k: &str| e.get(&ep, k).unwrap().shallow_clone();
    model.set_compute_kind(Kind::BFloat16);
    let logits = model.forward_t(
        &g("input_ids"),
        &g("attention_mask"),
        None,
        &g("decoder_input_ids"),
        true,
    );
    assert_eq!(logits.kind(), Kind::BFloat16);
    let err = diff(&logits, &g("logits"));
    assert!(err < 0.5, "bf16 logits drift {err}");
    let loss = logits
        .to_kind(Kind::Float)
        .view([-1, 48])
        .cross_entropy_for_logits(&g("decoder_input_ids").view([-1]));
    loss.backward();
    for (name, v) in vs.variables() {
        assert_eq!(v.kind(), Kind::Float, "{name} must stay f32");
        assert!(v.grad().defined(), "{name} has no gradient");
    }
    // Decoding with the cache in bf16 works too.
    let _ng = tch::no_grad_guard();
    let mut step = T5Step::new(&model, &g("input_ids"), &g("attention_mask"), None, 2);
    let items: Vec<Vec<u32>> = vec![vec![8, 19, 38], vec![11, 19, 35]];
    let trie = Trie::build(
        items
            .iter()
            .enumerate()
            .map(|(i, s)| (i as u32, s.as_slice())),
    )
    .unwrap();
    let out = beam_search(
        &mut step,
        &trie,
        &Search {
            batch: 3,
            width: 2,
            start: 0,
            eos: 1,
            length_penalty: 0.0,
            top_k: 2,
        },
    );
    assert!(out.iter().all(|h| h.len() == 2));
}
