//! AdamW (Loshchilov & Hutter 2019) over a var store, written out in tensor
//! ops so its moments can be saved and restored exactly (`--resume` must give
//! bit-identical weights), plus global-norm gradient clipping.
use crate::error::{Error, Result};
use crate::util::st::{self, StFile};
use std::collections::BTreeMap;
use std::path::Path;
use tch::{nn, Kind, Tensor};

pub struct AdamW {
    /// (name, parameter), sorted by name.
    params: Vec<(String, Tensor)>,
    m: Vec<Tensor>,
    v: Vec<Tensor>,
    /// Completed updates.
    pub t: u64,
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
}

impl AdamW {
    pub fn new(vs: &nn::VarStore, beta1: f64, beta2: f64, eps: f64, weight_decay: f64) -> Self {
        let mut params: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        params.sort_by(|a, b| a.0.cmp(&b.0));
        let m = params.iter().map(|(_, p)| p.zeros_like()).collect();
        let v = params.iter().map(|(_, p)| p.zeros_like()).collect();
        Self {
            params,
            m,
            v,
            t: 0,
            beta1,
            beta2,
            eps,
            weight_decay,
        }
    }

    pub fn zero_grad(&mut self) {
        for (_, p) in &mut self.params {
            p.zero_grad();
        }
    }

    /// Scales gradients so their global L2 norm is at most `max`; returns the norm before.
    pub fn clip_grad_norm(&mut self, max: f64) -> f64 {
        let _g = tch::no_grad_guard();
        let grads: Vec<Tensor> = self
            .params
            .iter()
            .map(|(_, p)| p.grad())
            .filter(|g| g.defined())
            .collect();
        if grads.is_empty() {
            return 0.0;
        }
        let sq: Vec<Tensor> = grads
            .iter()
            .map(|g| g.to_kind(Kind::Float).pow_tensor_scalar(2).sum(Kind::Float))
            .collect();
        let norm = Tensor::stack(&sq, 0)
            .sum(Kind::Float)
            .sqrt()
            .double_value(&[]);
        if max > 0.0 && norm > max {
            let scale = max / (norm + 1e-6);
            for mut g in grads {
                let _ = g.g_mul_scalar_(scale);
            }
        }
        norm
    }

    /// One update with learning rate `lr`. Weight decay is decoupled and not
    /// applied to norm weights.
    pub fn step(&mut self, lr: f64) {
        let _g = tch::no_grad_guard();
        self.t += 1;
        let t = self.t as i32;
        let bc1 = 1.0 - self.beta1.powi(t);
        let bc2 = 1.0 - self.beta2.powi(t);
        for (i, (name, p)) in self.params.iter_mut().enumerate() {
            let g = p.grad();
            if !g.defined() {
                continue;
            }
            if self.weight_decay > 0.0 && !name.ends_with("layer_norm.weight") {
                let _ = p.g_mul_scalar_(1.0 - lr * self.weight_decay);
            }
            let _ = self.m[i].lerp_(&g, 1.0 - self.beta1);
            let _ = self.v[i].g_mul_scalar_(self.beta2);
            let _ = self.v[i].addcmul_(&(&g * (1.0 - self.beta2)), &g);
            let denom = (&self.v[i] / bc2).sqrt() + self.eps;
            let _ = p.addcdiv_(&(&self.m[i] * (-lr / bc1)), &denom);
        }
    }

    /// Saves moments and the step count.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut tensors = Vec::with_capacity(2 * self.params.len());
        for (i, (name, _)) in self.params.iter().enumerate() {
            tensors.push((format!("m.{name}"), self.m[i].shallow_clone()));
            tensors.push((format!("v.{name}"), self.v[i].shallow_clone()));
        }
        let meta = BTreeMap::from([("t".to_string(), self.t.to_string())]);
        st::write(path, &tensors, &meta)
    }

    pub fn load(&mut self, path: &Path) -> Result<()> {
        let f = StFile::read(path)?;
        self.t = f
            .metadata
            .get("t")
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| Error::input(path, None, "optimizer state without step count"))?;
        let _g = tch::no_grad_guard();
        for (i, (name, p)) in self.params.iter().enumerate() {
            for (buf, pre) in [(&mut self.m[i], "m"), (&mut self.v[i], "v")] {
                let src = f.get(path, &format!("{pre}.{name}"))?;
                if src.size() != p.size() {
                    return Err(Error::input(
                        path,
                        None,
                        format!(
                            "optimizer state for `{name}` has shape {:?}, expected {:?}",
                            src.size(),
                            p.size()
                        ),
                    ));
                }
                buf.copy_(&src.to_device(p.device()));
            }
        }
        Ok(())
    }
}
