//! genrec's extensions of T5 (not in transformers): summed item positions
//! and item text added to history positions (and, for the verifier, to the
//! decoder positions of the candidate it judges).
use genrec::model::{T5Config, T5};
use tch::{nn, Device, Kind, Tensor};

fn model() -> (nn::VarStore, T5) {
    tch::manual_seed(3);
    let vs = nn::VarStore::new(Device::Cpu);
    let m = T5::new(vs.root(), &T5Config::tiny(40));
    (vs, m)
}

fn ids(v: &[i64], shape: &[i64]) -> Tensor {
    Tensor::from_slice(v).view(shape)
}

#[test]
fn summed_positions_add_token_embeddings() {
    let (_vs, m) = model();
    let _g = tch::no_grad_guard();
    let mask = Tensor::ones([1, 3], (Kind::Int64, Device::Cpu));
    // A position whose other tokens are <pad> is the token itself.
    let flat = m.encode(&ids(&[5, 9, 1], &[1, 3]), &mask, None, false);
    let grouped = m.encode(
        &ids(&[5, 0, 0, 9, 0, 0, 1, 0, 0], &[1, 3, 3]),
        &mask,
        None,
        false,
    );
    assert!(flat.allclose(&grouped, 1e-6, 1e-6, false));
    // Order inside a position does not matter; the tokens in it do.
    let a = m.encode(
        &ids(&[4, 0, 0, 9, 12, 30, 1, 0, 0], &[1, 3, 3]),
        &mask,
        None,
        false,
    );
    let b = m.encode(
        &ids(&[4, 0, 0, 30, 9, 12, 1, 0, 0], &[1, 3, 3]),
        &mask,
        None,
        false,
    );
    let c = m.encode(
        &ids(&[4, 0, 0, 9, 12, 31, 1, 0, 0], &[1, 3, 3]),
        &mask,
        None,
        false,
    );
    assert!(a.allclose(&b, 1e-5, 1e-5, false));
    assert!(!a.allclose(&c, 1e-3, 1e-3, false));
}

#[test]
fn item_text_enters_only_where_items_are_named() {
    tch::manual_seed(3);
    let vs = nn::VarStore::new(Device::Cpu);
    let c = T5Config {
        genrec_text_dim: Some(6),
        ..T5Config::tiny(40)
    };
    let mut m = T5::new(vs.root(), &c);
    assert!(m
        .set_item_text(&Tensor::zeros([3, 5], (Kind::Float, Device::Cpu)))
        .is_err());
    let text = Tensor::randn([3, 6], (Kind::Float, Device::Cpu));
    m.set_item_text(&text).unwrap();
    assert_eq!(m.text_items(), 3);
    let mask = Tensor::ones([1, 4], (Kind::Int64, Device::Cpu));
    let tokens = ids(&[5, 9, 12, 1], &[1, 4]);
    let named = ids(&[3, 0, 2, 3], &[1, 4]);
    let enc = |items: Option<&Tensor>| {
        let _g = tch::no_grad_guard();
        m.encode(&tokens, &mask, items, false)
    };
    // The projection starts at zero: the text changes nothing until learned.
    assert!(enc(None).allclose(&enc(Some(&named)), 0.0, 0.0, false));
    let w = &vs.variables()["genrec_text_proj"];
    assert_eq!(w.size(), [32, 6]);
    // It is a weight the loss reaches through the named positions only.
    let dec = ids(&[0, 7], &[1, 2]);
    let loss = |items: Option<&Tensor>| {
        m.forward_t(&tokens, &mask, items, &dec, false)
            .log_softmax(-1, Kind::Float)
            .select(2, 3)
            .sum(Kind::Float)
    };
    loss(Some(&named)).backward();
    let g = w.grad();
    assert!(g.abs().sum(Kind::Float).double_value(&[]) > 0.0);
    let mut w = w.shallow_clone();
    let _ = w.grad().zero_();
    // Ids outside 0..N (the padding / no-item id N, or negatives) read nothing.
    loss(Some(&ids(&[3, -1, 7, 3], &[1, 4]))).backward();
    assert_eq!(w.grad().abs().sum(Kind::Float).double_value(&[]), 0.0);
    {
        let _g = tch::no_grad_guard();
        w.copy_(&Tensor::randn([32, 6], (Kind::Float, Device::Cpu)));
    }
    let with = enc(Some(&named));
    assert!(!enc(None).allclose(&with, 1e-3, 1e-3, false));
    // Item 0 and item 2 swapped: another input, another encoding.
    assert!(!with.allclose(&enc(Some(&ids(&[3, 2, 0, 3], &[1, 4]))), 1e-3, 1e-3, false));
    assert!(enc(None).allclose(&enc(Some(&ids(&[3, 3, 3, 3], &[1, 4]))), 0.0, 0.0, false));
}

#[test]
fn the_decoder_reads_the_text_of_the_item_it_is_about() {
    tch::manual_seed(4);
    let vs = nn::VarStore::new(Device::Cpu);
    let c = T5Config {
        genrec_text_dim: Some(6),
        ..T5Config::tiny(40)
    };
    let mut m = T5::new(vs.root(), &c);
    m.set_item_text(&Tensor::randn([3, 6], (Kind::Float, Device::Cpu)))
        .unwrap();
    {
        let _g = tch::no_grad_guard();
        vs.variables()["genrec_text_proj"]
            .shallow_clone()
            .copy_(&Tensor::randn([32, 6], (Kind::Float, Device::Cpu)));
    }
    let _g = tch::no_grad_guard();
    let mask = Tensor::ones([2, 3], (Kind::Int64, Device::Cpu));
    let enc = m.encode(&ids(&[5, 9, 1, 5, 9, 1], &[2, 3]), &mask, None, false);
    // The same ID tokens in both rows (as for two colliding items).
    let dec = ids(&[0, 7, 8, 0, 7, 8], &[2, 3]);
    let plain = m.decode(&dec, &enc, &mask, false);
    // Without an item (or with the no-item id) the decoder is T5's.
    assert!(plain.allclose(
        &m.decode_about(&dec, None, &enc, &mask, false),
        0.0,
        0.0,
        false
    ));
    let none = ids(&[3, 3], &[2]);
    assert!(plain.allclose(
        &m.decode_about(&dec, Some(&none), &enc, &mask, false),
        0.0,
        0.0,
        false
    ));
    // About items 0 and 2: the rows differ, and each differs from plain T5.
    let about = m.decode_about(&dec, Some(&ids(&[0, 2], &[2])), &enc, &mask, false);
    assert!(!about.get(0).allclose(&about.get(1), 1e-3, 1e-3, false));
    assert!(!about.allclose(&plain, 1e-3, 1e-3, false));
    // Row 1 about item 2 is what a batch of that row alone gives.
    let alone = m.decode_about(
        &dec.narrow(0, 1, 1),
        Some(&ids(&[2], &[1])),
        &enc.narrow(0, 1, 1),
        &mask.narrow(0, 1, 1),
        false,
    );
    assert!(alone.get(0).allclose(&about.get(1), 1e-5, 1e-5, false));
}
