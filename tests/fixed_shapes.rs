//! Fixed-shape batches, what CUDA-graph training steps read: padding a batch
//! to the largest shape its prompts allow leaves the loss, the gradients and
//! the AdamW update as they were, and the dense history-match features add
//! exactly the bias of the per-match formula.
use genrec::batch::{batch_of, Batch, Shape};
use genrec::model::{T5Config, T5};
use genrec::prompt::{self, ItemInput, PromptConfig};
use genrec::semantic_id::Vocab;
use genrec::trainer::{batch_loss, optim::AdamW};
use tch::{nn, Device, Kind, Tensor};

struct Setup {
    vocab: Vocab,
    items: Vec<Vec<u32>>,
    prompt: PromptConfig,
}

/// Items of two ID lengths (some with a collision digit), a prompt with a
/// user token, history matches and item text.
fn setup() -> Setup {
    let vocab = Vocab::new(2, 4, 4, 10);
    let ids: [&[u32]; 8] = [
        &[0, 1],
        &[0, 2],
        &[0, 1, 1],
        &[1, 3],
        &[2, 2, 0],
        &[3, 0],
        &[0, 1, 2],
        &[1, 1],
    ];
    Setup {
        items: ids.iter().map(|id| vocab.id_tokens(id)).collect(),
        vocab,
        prompt: PromptConfig {
            max_history: 4,
            user_token: true,
            item_input: ItemInput::Tokens,
            match_history: 3,
            item_text: true,
        },
    }
}

/// libtorch's generator is global and the tests run on parallel threads:
/// seeding and drawing happen under one lock.
static RNG: std::sync::Mutex<()> = std::sync::Mutex::new(());

/// A tiny model reading history matches and item text, with non-zero
/// history-match and text weights (drawn in name order).
fn model(s: &Setup, seed: i64) -> (nn::VarStore, T5) {
    let _rng = RNG.lock().unwrap_or_else(|e| e.into_inner());
    tch::manual_seed(seed);
    let vs = nn::VarStore::new(Device::Cpu);
    let cfg = T5Config {
        genrec_history_match_levels: Some(3),
        genrec_text_dim: Some(6),
        ..T5Config::tiny(i64::from(s.vocab.size()))
    };
    let mut m = T5::new(vs.root(), &cfg);
    let _g = tch::no_grad_guard();
    let mut vars: Vec<_> = vs.variables().into_iter().collect();
    vars.sort_by(|a, b| a.0.cmp(&b.0));
    for (name, mut v) in vars {
        if name.starts_with("genrec_") {
            v.copy_(&(Tensor::randn(v.size(), (Kind::Float, Device::Cpu)) * 0.5));
        }
    }
    let text = Tensor::randn([s.items.len() as i64, 6], (Kind::Float, Device::Cpu));
    m.set_item_text(&text).expect("text table");
    (vs, m)
}

const HISTORIES: [&[u32]; 5] = [
    &[2],
    &[0, 2, 6, 2],
    &[1, 3, 5, 7, 0, 6],
    &[6, 6],
    &[4, 1, 4],
];
const TARGETS: [u32; 5] = [6, 0, 2, 3, 4];

fn batch(s: &Setup) -> Batch {
    let cases: Vec<(&str, &[u32], u32)> = HISTORIES
        .iter()
        .zip(TARGETS)
        .enumerate()
        .map(|(i, (h, t))| (["a", "b", "c", "d", "e"][i], *h, t))
        .collect();
    batch_of(&s.vocab, &s.items, &cases, &s.prompt, Device::Cpu)
}

fn largest(s: &Setup) -> Shape {
    Shape::largest(&s.vocab, &s.items, &s.prompt, 8)
}

fn grads(vs: &nn::VarStore) -> Vec<(String, Tensor)> {
    let mut v: Vec<(String, Tensor)> = vs
        .variables()
        .into_iter()
        .map(|(n, p)| (n, p.grad().copy()))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    v
}

fn max_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

#[test]
fn padding_leaves_the_loss_and_gradients_unchanged() {
    let s = setup();
    let (vs, m) = model(&s, 5);
    let b = batch(&s);
    let p = b.padded_to(largest(&s)).expect("fits");
    assert_eq!(p.shape(), largest(&s));
    let own = b.shape();
    assert!(own.rows < 8 && own.enc_len < p.shape().enc_len, "{own:?}");
    let loss = batch_loss(&m, &b, false);
    loss.backward();
    let g_own = grads(&vs);
    for (_, mut v) in vs.variables() {
        v.zero_grad();
    }
    let loss_padded = batch_loss(&m, &p, false);
    loss_padded.backward();
    let diff = max_diff(&loss, &loss_padded);
    assert!(
        diff < 1e-6,
        "loss {} vs {}",
        f64::try_from(&loss).unwrap(),
        f64::try_from(&loss_padded).unwrap()
    );
    for ((name, a), (_, b)) in g_own.iter().zip(grads(&vs)) {
        let scale = a.abs().max().double_value(&[]).max(1e-3);
        assert!(
            max_diff(a, &b) <= 1e-5 * scale,
            "{name}: {}",
            max_diff(a, &b)
        );
    }
    // A batch larger than the shape is refused.
    let small = Shape {
        rows: 2,
        ..largest(&s)
    };
    assert!(b.padded_to(small).is_err());
}

#[test]
fn dense_matches_add_the_per_match_bias() {
    let s = setup();
    let (vs, m) = model(&s, 7);
    let b = batch(&s);
    let _g = tch::no_grad_guard();
    let logits = m.forward_t(&b.ids, &b.mask, b.items.as_ref(), &b.dec, false);
    let dense = b
        .matches
        .as_ref()
        .expect("matches")
        .apply(&m, logits.copy());
    // The per-match formula: logit[r, k, token] += w[k, 0] + w[k, 1] · ln(1 + count).
    let w = vs.variables()["genrec_history_match"].copy();
    let want = logits.copy();
    let mut n = 0;
    for (r, (h, t)) in HISTORIES.iter().zip(TARGETS).enumerate() {
        for (k, tok, c) in prompt::history_matches(&s.items, &s.prompt, h, &s.items[t as usize]) {
            let bias =
                w.get(k as i64).get(0) + w.get(k as i64).get(1) * f64::from((c as f32).ln_1p());
            let mut at = want.get(r as i64).get(k as i64).get(i64::from(tok));
            at += bias;
            n += 1;
        }
    }
    assert!(n >= 8, "the cases have matches ({n})");
    assert_eq!(max_diff(&dense, &want), 0.0);
    assert!(max_diff(&dense, &logits) > 0.0);
}

#[test]
fn an_adamw_step_on_the_padded_batch_gives_the_same_weights() {
    let s = setup();
    let (vs_a, m_a) = model(&s, 9);
    let (vs_b, m_b) = model(&s, 9);
    // AdamW divides by √v + ε: with ε = 1e-8 a gradient element near zero
    // turns rounding noise (~1e-7 relative: padded matrix products sum in
    // another order) into a step of ±lr. ε = 1e-3 bounds how much the update
    // can amplify a gradient difference, so what is compared is the step.
    let mut opt_a = AdamW::new(&vs_a, 0.9, 0.999, 1e-3, 0.1);
    let mut opt_b = AdamW::new(&vs_b, 0.9, 0.999, 1e-3, 0.1);
    let b = batch(&s);
    let p = b.padded_to(largest(&s)).expect("fits");
    for _ in 0..3 {
        genrec::trainer::optimise(&mut opt_a, &batch_loss(&m_a, &b, false), 1.0, 1e-3);
        genrec::trainer::optimise(&mut opt_b, &batch_loss(&m_b, &p, false), 1.0, 1e-3);
    }
    let b_vars = vs_b.variables();
    for (name, a) in vs_a.variables() {
        let d = max_diff(&a, &b_vars[&name]);
        assert!(d < 1e-6, "{name}: {d}");
    }
}
