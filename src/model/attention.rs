//! Scaled-dot-product attention with an additive bias and no 1/√d scaling,
//! as T5 attends (Raffel et al., 2020): `softmax(q·kᵀ + bias)·v`. On CUDA it
//! is libtorch's fused kernel. On the CPU libtorch's fused attention takes no
//! bias that needs a gradient (T5's learned position bias does), so it falls
//! back to its math path, which scales q and k by 1.0 and checks every row
//! for all -inf (`_safe_softmax`; genrec's mask is the finite f32::MIN):
//! about a tenth of a training step at the CPU default's size. Here a CPU
//! training step computes the same product, softmax and dropout without
//! those steps. Without training (decoding, evaluation) the bias needs no
//! gradient and libtorch's fused CPU kernel is the faster: it stays.
use super::dropout::dropout;
use tch::{Device, Tensor};

/// Queries `[B, H, Tq, D]` over keys and values `[B, H, Tk, D]` with `bias`
/// broadcastable to `[B, H, Tq, Tk]`; dropout `p` on the weights when
/// training → `[B, H, Tq, D]`.
pub fn weigh(q: &Tensor, k: &Tensor, v: &Tensor, bias: &Tensor, p: f64, train: bool) -> Tensor {
    if !train || q.device() != Device::Cpu {
        let p = if train { p } else { 0.0 };
        return Tensor::scaled_dot_product_attention(q, k, v, Some(bias), p, false, 1.0, false);
    }
    let w = (q.matmul(&k.transpose(-2, -1)) + bias).softmax(-1, q.kind());
    dropout(&w, p, train).matmul(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Kind;

    /// The CPU path against libtorch's attention: outputs and the gradients
    /// of q, k, v and the bias, with a padding mask in the bias.
    #[test]
    fn matches_libtorch_attention_and_its_gradients() {
        tch::manual_seed(3);
        let opts = (Kind::Float, Device::Cpu);
        let leaf = |s: &[i64]| Tensor::randn(s, opts).set_requires_grad(true);
        let (q, k, v) = (
            leaf(&[2, 4, 5, 8]),
            leaf(&[2, 4, 7, 8]),
            leaf(&[2, 4, 7, 8]),
        );
        let pad = Tensor::zeros([2, 1, 1, 7], opts);
        let _ = pad
            .narrow(0, 1, 1)
            .narrow(3, 5, 2)
            .fill_(f64::from(f32::MIN));
        let table = leaf(&[1, 4, 5, 7]);
        let grads = |out: Tensor| {
            let up = Tensor::randn(out.size(), opts);
            Tensor::run_backward(
                &[(out * &up).sum(Kind::Float)],
                &[&q, &k, &v, &table],
                false,
                false,
            )
        };
        let ours = || weigh(&q, &k, &v, &(&table + &pad), 0.0, true);
        let theirs = || {
            let bias = &table + &pad;
            Tensor::scaled_dot_product_attention(&q, &k, &v, Some(bias), 0.0, false, 1.0, false)
        };
        let diff = |a: &Tensor, b: &Tensor| (a - b).abs().max().double_value(&[]);
        let d = diff(&ours(), &theirs());
        assert!(d < 1e-6, "outputs differ by {d}");
        tch::manual_seed(9);
        let g_ours = grads(ours());
        tch::manual_seed(9);
        let g_theirs = grads(theirs());
        for (name, (a, b)) in ["q", "k", "v", "bias"]
            .iter()
            .zip(g_ours.iter().zip(&g_theirs))
        {
            let d = diff(a, b);
            assert!(d < 1e-5, "grad of {name} differs by {d}");
        }
        // Padded keys get no weight.
        let w = weigh(
            &q,
            &k,
            &Tensor::eye(7, opts).expand([2, 4, 7, 7], false),
            &(&table + &pad),
            0.0,
            true,
        );
        assert_eq!(
            w.narrow(0, 1, 1)
                .narrow(3, 5, 2)
                .abs()
                .max()
                .double_value(&[]),
            0.0
        );
    }
}
