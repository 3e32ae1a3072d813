//! An exponential moving average of the weights (Polyak & Juditsky 1992's
//! averaging, in the decayed form of Tensorflow's `ExponentialMovingAverage`
//! that image and sequence models validate and ship): after every update the
//! average moves toward the weights by `1 − d_t`, with
//! `d_t = min(decay, (1 + t) / (10 + t))` so the early, random weights wash
//! out fast. Training keeps going on the raw weights; validation and the
//! checkpoints' `model.safetensors` see the average ([`Ema::swap`] exchanges
//! the two buffers' contents in place, so every view of the weights reads the
//! average without a copy of the model). It is one flat buffer beside
//! `optim::AdamW`'s, updated by one device operation whose factor is a 0-d
//! device tensor set before the step, so a captured CUDA graph replays it.
use tch::{Kind, Tensor};

pub struct Ema {
    /// The average while the raw weights are in place; the raw weights while
    /// swapped.
    pub(super) shadow: Tensor,
    decay: f64,
    /// `1 − d_t` of the coming update, a 0-d tensor on the device.
    rate: Tensor,
    swapped: bool,
}

impl Ema {
    /// An average starting at `params` (the flat weights) with this decay.
    pub fn new(params: &Tensor, decay: f64) -> Self {
        Self {
            shadow: params.detach().copy(),
            decay,
            rate: Tensor::zeros([], (Kind::Float, params.device())),
            swapped: false,
        }
    }

    /// Sets the factor of the update after AdamW's `t`-th (1-based).
    pub fn begin_step(&mut self, t: u64) {
        let t = t as f64;
        let d = self.decay.min((1.0 + t) / (10.0 + t));
        let _ = self.rate.fill_(1.0 - d);
    }

    /// Moves the average toward the freshly updated `params`.
    pub fn update(&mut self, params: &Tensor) {
        debug_assert!(!self.swapped, "the average updated while swapped in");
        let _g = tch::no_grad_guard();
        let _ = self.shadow.lerp_tensor_(params, &self.rate);
    }

    /// Exchanges the contents of `params` and the average: the first call
    /// puts the average in the weights (for validation and checkpoints), the
    /// second puts the raw weights back.
    pub fn swap(&mut self, params: &Tensor) {
        let _g = tch::no_grad_guard();
        let raw = params.copy();
        params.shallow_clone().copy_(&self.shadow);
        self.shadow.copy_(&raw);
        self.swapped = !self.swapped;
    }

    /// Whether the average is in the weights now.
    pub fn swapped(&self) -> bool {
        self.swapped
    }

    /// After a checkpoint was read back (its `model.safetensors`, the
    /// average, in `params`; its raw weights written into `shadow` by the
    /// caller): the state [`Ema::swap`] leaves, so the next swap restores it.
    pub(super) fn mark_swapped(&mut self) {
        self.swapped = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tch::Device;

    #[test]
    fn the_average_follows_the_weights_with_the_warmed_up_decay() {
        let p = Tensor::from_slice(&[0.0f32, 10.0]);
        let mut e = Ema::new(&p, 0.5);
        // t = 1: d = min(0.5, 2/11) = 2/11.
        let _ = p.shallow_clone().fill_(1.0);
        e.begin_step(1);
        e.update(&p);
        let d = 2.0f32 / 11.0;
        let want = [d * 0.0 + (1.0 - d), d * 10.0 + (1.0 - d)];
        let got: Vec<f32> = Vec::try_from(&e.shadow).unwrap();
        for (g, w) in got.iter().zip(want) {
            assert!((g - w).abs() < 1e-6, "{got:?} vs {want:?}");
        }
        // Late steps use the decay itself.
        e.begin_step(1000);
        assert!((e.rate.double_value(&[]) - 0.5).abs() < 1e-7);
        // A swap exchanges, a second restores.
        let before_p: Vec<f32> = Vec::try_from(&p).unwrap();
        e.swap(&p);
        assert!(e.swapped());
        assert_eq!(Vec::<f32>::try_from(&p).unwrap(), got);
        e.swap(&p);
        assert!(!e.swapped());
        assert_eq!(Vec::<f32>::try_from(&p).unwrap(), before_p);
        assert_eq!(p.device(), Device::Cpu);
    }
}
