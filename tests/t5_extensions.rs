//! genrec's extensions of T5 (not in transformers): summed item positions.
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
    let flat = m.encode(&ids(&[5, 9, 1], &[1, 3]), &mask, false);
    let grouped = m.encode(&ids(&[5, 0, 0, 9, 0, 0, 1, 0, 0], &[1, 3, 3]), &mask, false);
    assert!(flat.allclose(&grouped, 1e-6, 1e-6, false));
    // Order inside a position does not matter; the tokens in it do.
    let a = m.encode(
        &ids(&[4, 0, 0, 9, 12, 30, 1, 0, 0], &[1, 3, 3]),
        &mask,
        false,
    );
    let b = m.encode(
        &ids(&[4, 0, 0, 30, 9, 12, 1, 0, 0], &[1, 3, 3]),
        &mask,
        false,
    );
    let c = m.encode(
        &ids(&[4, 0, 0, 9, 12, 31, 1, 0, 0], &[1, 3, 3]),
        &mask,
        false,
    );
    assert!(a.allclose(&b, 1e-5, 1e-5, false));
    assert!(!a.allclose(&c, 1e-3, 1e-3, false));
}
