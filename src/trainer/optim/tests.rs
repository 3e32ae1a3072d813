//! The flat AdamW against a per-parameter reference, the clipping norm, and
//! the weight average's checkpoint round trip.
use super::*;
use tch::Device;

/// The reference: the same AdamW written per parameter, as before the flat buffers.
fn reference_step(
    ps: &mut [(String, Tensor)],
    m: &mut [Tensor],
    v: &mut [Tensor],
    t: i32,
    lr: f64,
    wd: f64,
) {
    let _g = tch::no_grad_guard();
    let (b1, b2, eps) = (0.9f64, 0.999f64, 1e-8);
    let (bc1, bc2) = (1.0 - b1.powi(t), 1.0 - b2.powi(t));
    for (i, (name, p)) in ps.iter_mut().enumerate() {
        let g = p.grad();
        if decays(name) {
            let _ = p.g_mul_scalar_(1.0 - lr * wd);
        }
        let _ = m[i].lerp_(&g, 1.0 - b1);
        let _ = v[i].g_mul_scalar_(b2);
        let _ = v[i].addcmul_(&(&g * (1.0 - b2)), &g);
        let denom = (&v[i] / bc2).sqrt() + eps;
        let _ = p.addcdiv_(&(&m[i] * (-lr / bc1)), &denom);
    }
}

fn store(seed: i64) -> nn::VarStore {
    tch::manual_seed(seed);
    let vs = nn::VarStore::new(Device::Cpu);
    let r = vs.root();
    let _ = (&r / "a").randn("weight", &[7, 5], 0.0, 1.0);
    let _ = (&r / "a" / "layer_norm").randn("weight", &[5], 1.0, 0.1);
    let _ = (&r / "b").randn("weight", &[3, 4, 2], 0.0, 1.0);
    vs
}

fn loss_of(vs: &nn::VarStore, x: &Tensor) -> Tensor {
    let vars = vs.variables();
    let a = &vars["a.weight"];
    let n = &vars["a.layer_norm.weight"];
    let b = &vars["b.weight"];
    (x.matmul(&a.tr()) * n.sum(Kind::Float))
        .pow_tensor_scalar(2)
        .mean(Kind::Float)
        + b.pow_tensor_scalar(3).sum(Kind::Float).tanh()
}

#[test]
fn flat_update_equals_per_parameter_update() {
    let _rng = crate::runtime::global_rng_lock();
    let (vs_a, vs_b) = (store(3), store(3));
    let mut opt = AdamW::new(&vs_a, 0.9, 0.999, 1e-8, 0.1);
    let mut ps: Vec<(String, Tensor)> = vs_b.variables().into_iter().collect();
    ps.sort_by(|a, b| a.0.cmp(&b.0));
    let mut m: Vec<Tensor> = ps.iter().map(|(_, p)| p.zeros_like()).collect();
    let mut v: Vec<Tensor> = ps.iter().map(|(_, p)| p.zeros_like()).collect();
    for step in 1..=5 {
        let x = Tensor::randn([4, 5], (Kind::Float, Device::Cpu));
        opt.zero_grad();
        loss_of(&vs_a, &x).backward();
        opt.step(0.01);
        for (_, p) in ps.iter_mut() {
            p.zero_grad();
        }
        loss_of(&vs_b, &x).backward();
        reference_step(&mut ps, &mut m, &mut v, step, 0.01, 0.1);
        let a = vs_a.variables();
        for (name, p) in &ps {
            assert_eq!(
                (&a[name] - p).abs().max().double_value(&[]),
                0.0,
                "{name} after step {step}"
            );
        }
    }
}

/// ‖all gradients‖₂, parameter by parameter.
fn global_norm(vs: &nn::VarStore) -> f64 {
    vs.variables()
        .values()
        .map(|p| {
            p.grad()
                .pow_tensor_scalar(2)
                .sum(Kind::Float)
                .double_value(&[])
        })
        .sum::<f64>()
        .sqrt()
}

#[test]
fn clipping_bounds_the_global_norm_and_reports_it() {
    let _rng = crate::runtime::global_rng_lock();
    let vs = store(5);
    let mut opt = AdamW::new(&vs, 0.9, 0.999, 1e-8, 0.0);
    opt.zero_grad();
    (loss_of(&vs, &Tensor::ones([4, 5], (Kind::Float, Device::Cpu))) * 100.0).backward();
    let expected = global_norm(&vs);
    let norm = opt.clip_grad_norm(1.0).double_value(&[]);
    assert!(
        (norm - expected).abs() <= 1e-4 * expected,
        "{norm} vs {expected}"
    );
    let after = global_norm(&vs);
    assert!((after - 1.0).abs() < 1e-4, "clipped norm {after}");
    // Below the bound nothing changes.
    let before: Vec<f32> = Vec::try_from(&opt.grads).unwrap();
    let _ = opt.clip_grad_norm(10.0);
    assert_eq!(before, Vec::<f32>::try_from(&opt.grads).unwrap());
}
