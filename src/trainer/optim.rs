//! AdamW (Loshchilov & Hutter 2019) with global-norm gradient clipping, over
//! one flat buffer: every trainable parameter of the var store becomes a view
//! into one f32 tensor and every gradient a view into another, so an update is
//! six tensor operations and the clipping norm one reduction, however many
//! parameters the model has (the idea of PyTorch's `_foreach_*`/fused AdamW,
//! which tch does not bind). Nothing here reads a value back to the host, so a
//! CUDA step never waits for the GPU, and the per-step numbers (learning rate,
//! bias corrections) live in device tensors set before the update, so the
//! update itself can be captured once in a CUDA graph and replayed
//! (`trainer::graphed`). Moments are saved per parameter name and restored
//! exactly (`--resume` gives bit-identical weights). With [`AdamW::average`]
//! each update also moves an average of the weights (`trainer::ema`), kept,
//! saved and restored beside the moments.
use super::ema::Ema;
use crate::error::{Error, Result};
use crate::util::st::{self, StFile};
use std::collections::BTreeMap;
use std::path::Path;
use tch::{nn, Kind, Tensor};

/// One parameter's place in the flat buffers.
struct Slot {
    name: String,
    param: Tensor,
    /// The gradient's view of the flat gradient buffer.
    grad: Tensor,
    offset: i64,
    shape: Vec<i64>,
}

impl Slot {
    fn of(&self, flat: &Tensor) -> Tensor {
        let n: i64 = self.shape.iter().product();
        flat.narrow(0, self.offset, n).view(self.shape.as_slice())
    }
}

pub struct AdamW {
    /// Parameters with weight decay first, then the norm weights; by name within each group.
    slots: Vec<Slot>,
    params: Tensor,
    grads: Tensor,
    m: Tensor,
    v: Tensor,
    /// Elements of the decayed group (a prefix of the buffers).
    n_decay: i64,
    /// Completed updates.
    pub t: u64,
    /// This step's numbers, `[1 − lr·wd, −lr / (1 − β₁ᵗ), 1 − β₂ᵗ]`, as
    /// 0-d f64 tensors on the device (see [`AdamW::begin_step`]).
    coeffs: [Tensor; 3],
    beta1: f64,
    beta2: f64,
    eps: f64,
    weight_decay: f64,
    /// The weights' moving average, when kept.
    ema: Option<Ema>,
}

/// Norm weights (T5's `layer_norm`, BERT's `LayerNorm`) and biases get no
/// weight decay.
fn decays(name: &str) -> bool {
    !(name.ends_with("layer_norm.weight") || name.contains("LayerNorm") || name.ends_with(".bias"))
}

impl AdamW {
    /// Moves the var store's trainable parameters into one flat buffer (their
    /// values unchanged) and gives each a gradient that is a view of another.
    /// Call after the weights are initialised or copied in; loading weights
    /// later must copy into the variables (as `util::st::load_into` does).
    /// AdamW with the `[optim]` section's betas, epsilon and weight decay.
    pub fn for_config(vs: &nn::VarStore, o: &crate::config::OptimConfig) -> Self {
        Self::new(vs, o.beta1, o.beta2, o.eps, o.weight_decay)
    }

    pub fn new(vs: &nn::VarStore, beta1: f64, beta2: f64, eps: f64, weight_decay: f64) -> Self {
        let mut named: Vec<(String, Tensor)> = vs
            .variables()
            .into_iter()
            .filter(|(_, t)| t.requires_grad())
            .collect();
        named.sort_by(|a, b| (!decays(&a.0), &a.0).cmp(&(!decays(&b.0), &b.0)));
        let device = vs.device();
        let total: i64 = named.iter().map(|(_, p)| p.numel() as i64).sum();
        let params = Tensor::zeros([total], (Kind::Float, device));
        let grads = Tensor::zeros([total], (Kind::Float, device));
        // Give every parameter a gradient (zeros) so it can be pointed at its view.
        let mut touch = Tensor::zeros([], (Kind::Float, device));
        for (_, p) in &named {
            touch += p.sum(Kind::Float) * 0.0;
        }
        if !named.is_empty() {
            touch.backward();
        }
        let _g = tch::no_grad_guard();
        let mut slots = Vec::with_capacity(named.len());
        let (mut offset, mut n_decay) = (0i64, 0i64);
        for (name, mut param) in named {
            assert_eq!(
                param.kind(),
                Kind::Float,
                "AdamW keeps f32 master weights; `{name}` is {:?}",
                param.kind()
            );
            let shape = param.size();
            let slot = Slot {
                name,
                param: param.shallow_clone(),
                grad: Tensor::zeros([0], (Kind::Float, device)),
                offset,
                shape,
            };
            let mut view = slot.of(&params);
            view.copy_(&param);
            param.set_data(&view);
            let gview = slot.of(&grads);
            param.grad().set_data(&gview);
            if decays(&slot.name) {
                n_decay += param.numel() as i64;
            }
            offset += param.numel() as i64;
            slots.push(Slot {
                grad: gview,
                ..slot
            });
        }
        let (m, v) = (params.zeros_like(), params.zeros_like());
        let coeffs = [0, 1, 2].map(|_| Tensor::zeros([], (Kind::Double, device)));
        Self {
            slots,
            params,
            grads,
            m,
            v,
            n_decay,
            t: 0,
            coeffs,
            beta1,
            beta2,
            eps,
            weight_decay,
            ema: None,
        }
    }

    /// Keeps a moving average of the weights with this decay from now on
    /// (0: none); see `trainer::ema`.
    pub fn average(mut self, decay: f64) -> Self {
        self.ema = (decay > 0.0).then(|| Ema::new(&self.params, decay));
        self
    }

    /// Exchanges the weights and their average, if one is kept: called in
    /// pairs around validation and checkpointing, so those see the average
    /// and training goes on from the raw weights.
    pub fn swap_average(&mut self) {
        if let Some(e) = &mut self.ema {
            e.swap(&self.params);
        }
    }

    pub fn zero_grad(&mut self) {
        let _ = self.grads.zero_();
    }

    /// Autograd accumulates into the gradient views in place; should a
    /// gradient ever have been replaced by a tensor of its own, copy it back
    /// into the flat buffer and point it there again.
    fn gather_grads(&mut self) {
        let _g = tch::no_grad_guard();
        for s in &self.slots {
            let mut g = s.param.grad();
            if g.defined() && g.data_ptr() != s.grad.data_ptr() {
                s.grad.shallow_clone().copy_(&g);
                g.set_data(&s.grad);
            }
        }
    }

    /// Scales the gradients so their global L2 norm is at most `max` and
    /// returns the norm before, as a 0-d tensor on the parameters' device
    /// (reading it is the caller's choice: it waits for the GPU).
    pub fn clip_grad_norm(&mut self, max: f64) -> Tensor {
        self.gather_grads();
        let _g = tch::no_grad_guard();
        let norm = self.grads.pow_tensor_scalar(2).sum(Kind::Float).sqrt();
        if max > 0.0 {
            let scale =
                ((&norm + 1e-6).reciprocal() * max).where_self(&norm.gt(max), &norm.ones_like());
            let _ = self.grads.g_mul_(&scale);
        }
        norm
    }

    /// One update with learning rate `lr`: [`AdamW::begin_step`], then
    /// [`AdamW::update`].
    pub fn step(&mut self, lr: f64) {
        self.begin_step(lr);
        self.update();
    }

    /// Counts the step and sets its numbers (learning rate, bias
    /// corrections) in the device tensors the update reads: a few fills,
    /// queued without waiting. Called before [`AdamW::update`], outside a
    /// captured graph.
    pub fn begin_step(&mut self, lr: f64) {
        let _g = tch::no_grad_guard();
        self.t += 1;
        let t = self.t as i32;
        let values = [
            1.0 - lr * self.weight_decay,
            -lr / (1.0 - self.beta1.powi(t)),
            1.0 - self.beta2.powi(t),
        ];
        for (c, x) in self.coeffs.iter_mut().zip(values) {
            let _ = c.fill_(x);
        }
        if let Some(e) = &mut self.ema {
            e.begin_step(self.t);
        }
    }

    /// The update [`AdamW::begin_step`] prepared. Weight decay is decoupled
    /// and not applied to norm weights. A parameter that got no gradient
    /// this step is updated with a zero gradient (its moments decay). Only
    /// device operations on fixed tensors: it can be captured in a graph.
    /// The 0-d f64 factors give the very floats of scalar arguments (libtorch
    /// wraps a scalar in such a tensor), so the result is unchanged.
    pub fn update(&mut self) {
        self.gather_grads();
        let _g = tch::no_grad_guard();
        let [decay, step_size, bc2] = &self.coeffs;
        if self.weight_decay > 0.0 && self.n_decay > 0 {
            let _ = self.params.narrow(0, 0, self.n_decay).g_mul_(decay);
        }
        let g = &self.grads;
        let _ = self.m.lerp_(g, 1.0 - self.beta1);
        let _ = self.v.g_mul_scalar_(self.beta2);
        let _ = self.v.addcmul_(&(g * (1.0 - self.beta2)), g);
        let denom = (&self.v / bc2).sqrt() + self.eps;
        let _ = self.params.addcdiv_(&(&self.m * step_size), &denom);
        if let Some(e) = &mut self.ema {
            e.update(&self.params);
        }
    }

    /// The flat buffers a data-parallel job keeps identical on every rank:
    /// weights, both moments and the weights' average when kept.
    pub fn buffers(&self) -> Vec<&Tensor> {
        let mut b = vec![&self.params, &self.m, &self.v];
        b.extend(self.ema.as_ref().map(|e| &e.shadow));
        b
    }

    /// Saves moments (per parameter name), the step count and, when an
    /// average is kept, the buffer the weights are not in (`w.<name>`) and
    /// which one that is.
    pub fn save(&self, path: &Path) -> Result<()> {
        let mut tensors = Vec::with_capacity(3 * self.slots.len());
        for s in &self.slots {
            tensors.push((format!("m.{}", s.name), s.of(&self.m)));
            tensors.push((format!("v.{}", s.name), s.of(&self.v)));
            if let Some(e) = &self.ema {
                tensors.push((format!("w.{}", s.name), s.of(&e.shadow)));
            }
        }
        let mut meta = BTreeMap::from([("t".to_string(), self.t.to_string())]);
        if let Some(e) = &self.ema {
            let held = if e.swapped() { "raw" } else { "average" };
            meta.insert("w".to_string(), held.to_string());
        }
        st::write(path, &tensors, &meta)
    }

    pub fn load(&mut self, path: &Path) -> Result<()> {
        let f = StFile::read(path)?;
        self.t = f
            .metadata
            .get("t")
            .and_then(|t| t.parse().ok())
            .ok_or_else(|| Error::input(path, None, "optimizer state without step count"))?;
        let swapped = match (&self.ema, f.metadata.get("w").map(String::as_str)) {
            (None, _) => false,
            (Some(_), Some("raw")) => true,
            (Some(_), Some("average")) => false,
            (Some(_), _) => {
                return Err(Error::input(
                    path,
                    None,
                    "optimizer state without the weights' average (optim.ema)",
                ))
            }
        };
        let _g = tch::no_grad_guard();
        let shadow = self.ema.as_ref().map(|e| e.shadow.shallow_clone());
        for s in &self.slots {
            let bufs = [(&self.m, "m"), (&self.v, "v")];
            for (buf, pre) in bufs.into_iter().chain(shadow.as_ref().map(|w| (w, "w"))) {
                let src = f.get(path, &format!("{pre}.{}", s.name))?;
                if src.size() != s.shape {
                    return Err(Error::input(
                        path,
                        None,
                        format!(
                            "optimizer state for `{}` has shape {:?}, expected {:?}",
                            s.name,
                            src.size(),
                            s.shape
                        ),
                    ));
                }
                s.of(buf).copy_(&src.to_device(buf.device()));
            }
        }
        // The weights read into the model were the average: put the raw ones back.
        if let (Some(e), true) = (&mut self.ema, swapped) {
            e.mark_swapped();
            e.swap(&self.params);
        }
        Ok(())
    }
}

/// One optimisation step on `loss`: gradients, clipping to `grad_clip` (0:
/// none), AdamW at `lr`. Returns the gradient norm before clipping, on the
/// device (reading it waits for the GPU).
pub fn optimise(opt: &mut AdamW, loss: &Tensor, grad_clip: f64, lr: f64) -> Option<Tensor> {
    optimise_shared(opt, Some(loss), grad_clip, lr, &mut |_| Ok(()))
        .expect("nothing fails without a reduction")
}

/// [`optimise`] with the gradients passed through `reduce` (the data-parallel
/// all-reduce: the flat gradient buffer, summed over ranks in place) before
/// clipping and the update. Without a `loss` (a rank with no examples in
/// this step) the rank contributes zero gradients.
pub fn optimise_shared(
    opt: &mut AdamW,
    loss: Option<&Tensor>,
    grad_clip: f64,
    lr: f64,
    reduce: &mut dyn FnMut(&Tensor) -> Result<()>,
) -> Result<Option<Tensor>> {
    opt.begin_step(lr);
    descend(opt, loss, grad_clip, reduce)
}

/// The device part of a step whose numbers [`AdamW::begin_step`] set:
/// gradients of `loss`, `reduce`, clipping, the update (see
/// [`optimise_shared`]). With no reduction it queues device work only, the
/// part of a step a CUDA graph captures (`trainer::graphed`).
pub fn descend(
    opt: &mut AdamW,
    loss: Option<&Tensor>,
    grad_clip: f64,
    reduce: &mut dyn FnMut(&Tensor) -> Result<()>,
) -> Result<Option<Tensor>> {
    opt.zero_grad();
    if let Some(l) = loss {
        l.backward();
    }
    opt.gather_grads();
    reduce(&opt.grads)?;
    let norm = (grad_clip > 0.0).then(|| opt.clip_grad_norm(grad_clip));
    opt.update();
    Ok(norm)
}

#[cfg(test)]
mod tests;
