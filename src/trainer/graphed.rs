//! Training steps replayed as one CUDA graph (PyTorch's "whole-network
//! capture" of `torch.cuda.graph`, as NVIDIA's MLPerf BERT submissions train):
//! a TIGER-size step is a few thousand small kernels whose launches, each
//! through tch's C API, cost more than their arithmetic on a modern GPU. The
//! step's device work — forward, backward, clipping, AdamW — is captured once
//! and relaunched with one call per step. What that takes: every batch padded
//! to one shape (`Batch::padded_to`, which leaves the loss unchanged), copied
//! into the same input tensors; the optimizer's per-step numbers in device
//! tensors set before each replay (`AdamW::begin_step`); no host reads inside
//! the step. Dropout stays seeded per step: libtorch hands a captured graph
//! the generator's seed at every replay.
use super::optim::{descend, AdamW};
use crate::batch::{Batch, Shape};
use crate::cuda::CudaGraph;
use crate::error::{Error, Result};
use crate::progress::Progress;
use tch::{Device, Tensor};

/// Eager steps (on the graph's side stream) before the capture: libtorch's
/// lazy set-up (cuBLAS workspaces, autograd's device threads) must not
/// happen inside one. PyTorch's documentation uses three.
const WARMUP: usize = 3;

/// What a step leaves on the device.
pub struct StepOut {
    /// The batch's mean loss (detached).
    pub loss: Tensor,
    /// The gradient norm before clipping, when clipping.
    pub grad_norm: Option<Tensor>,
}

impl StepOut {
    fn shallow_clone(&self) -> StepOut {
        StepOut {
            loss: self.loss.shallow_clone(),
            grad_norm: self.grad_norm.as_ref().map(Tensor::shallow_clone),
        }
    }
}

/// A step's device work on its inputs: gradients of `loss(inputs)`,
/// clipping to `grad_clip` and the AdamW update `AdamW::begin_step` set
/// up. The one step body of the eager, warm-up and captured steps.
pub fn device_step(opt: &mut AdamW, grad_clip: f64, loss: impl FnOnce() -> Tensor) -> StepOut {
    let loss = loss();
    let grad_norm = descend(opt, Some(&loss), grad_clip, &mut |_| Ok(()))
        .expect("nothing fails without a reduction");
    StepOut {
        loss: loss.detach(),
        grad_norm,
    }
}

/// The steps of one training run as a CUDA graph.
pub struct Graphed {
    shape: Shape,
    graph: CudaGraph,
    /// The inputs every replay reads (the first batch's tensors).
    inputs: Option<Batch>,
    /// The outputs every replay writes.
    outputs: Option<StepOut>,
    warm: usize,
    /// Whether the first replay has been checked against the eager step.
    checked: bool,
    /// What to tell the user, once (the check's outcome, a failed capture).
    note: Option<String>,
}

/// How a step is run: its dropout seed, and the state it updates (AdamW's
/// weights and moments), which the first replay's check saves and restores.
pub struct StepSpec<'a> {
    pub seed: i64,
    pub state: &'a [Tensor],
}

impl Graphed {
    /// Graphed steps on `device` for batches of `shape`; fails when CUDA
    /// graphs are not built in or the device is not a GPU.
    pub fn new(device: Device, shape: Shape) -> Result<Self> {
        Ok(Self {
            shape,
            graph: CudaGraph::new(device)?,
            inputs: None,
            outputs: None,
            warm: 0,
            checked: false,
            note: None,
        })
    }

    /// What happened to the graph, once: the first replay's check, or why
    /// steps run eagerly (a failed capture or check).
    pub fn take_note(&mut self) -> Option<String> {
        self.note.take()
    }

    /// Whether steps have gone back to eager (after a failed capture or check).
    pub fn abandoned(&self) -> bool {
        self.checked && self.outputs.is_none()
    }

    /// One step on `batch` (on the device, of the graph's shape): `body`
    /// queues the step's device work on the inputs it is given. The first
    /// steps run it on the side stream, the next captures and replays it,
    /// later ones replay it; the first replay after the capture is checked
    /// against the same step run eagerly (see [`check_replay`]). Should the
    /// capture or the check fail, steps run `body` eagerly from then on.
    pub fn step(
        &mut self,
        batch: Batch,
        spec: &StepSpec,
        body: &mut dyn FnMut(&Batch) -> StepOut,
    ) -> Result<StepOut> {
        if batch.shape() != self.shape {
            return Err(Error::Other(format!(
                "a graphed step got a batch of shape {:?}, not {:?}",
                batch.shape(),
                self.shape
            )));
        }
        let inputs = match &self.inputs {
            None => self.inputs.insert(batch),
            Some(inputs) => {
                let _g = tch::no_grad_guard();
                for (dst, src) in inputs.tensors().into_iter().zip(batch.tensors()) {
                    dst.shallow_clone().copy_(src);
                }
                inputs
            }
        };
        tch::manual_seed(spec.seed);
        if self.warm < WARMUP {
            self.warm += 1;
            return self.graph.on_side_stream(|| body(inputs));
        }
        if self.outputs.is_none() && self.warm == WARMUP {
            self.warm += 1;
            match self.graph.capture(|| body(inputs)) {
                Ok(out) => self.outputs = Some(out),
                Err(e) => {
                    self.note = Some(format!("training without CUDA graphs: {e}"));
                    self.checked = true;
                }
            }
            // The captured step has not run yet: replay it.
        } else if let (Some(out), false) = (&self.outputs, self.checked) {
            self.checked = true;
            let graph = &self.graph;
            let checked = check_replay(&mut || graph.replay(), out, inputs, spec, body)?;
            self.note = Some(checked.note);
            if !checked.passed {
                self.outputs = None;
            }
            return Ok(checked.out);
        }
        match &self.outputs {
            Some(out) => {
                self.graph.replay()?;
                Ok(out.shallow_clone())
            }
            None => Ok(body(inputs)),
        }
    }

    /// A training step at learning rate `lr` on `batch`, the loss being
    /// `loss(inputs)`: sets the optimizer's numbers, then [`Graphed::step`]
    /// with [`device_step`]. What happened to the graph is noted on `progress`.
    pub fn train_step(
        &mut self,
        (opt, lr, grad_clip): (&mut AdamW, f64, f64),
        (batch, seed): (Batch, i64),
        loss: &dyn Fn(&Batch) -> Tensor,
        progress: &dyn Progress,
    ) -> Result<StepOut> {
        opt.begin_step(lr);
        let state: Vec<Tensor> = opt.buffers().iter().map(|t| t.shallow_clone()).collect();
        let spec = StepSpec {
            seed,
            state: &state,
        };
        let out = self.step(batch, &spec, &mut |b| {
            device_step(opt, grad_clip, || loss(b))
        })?;
        if let Some(note) = self.take_note() {
            progress.note(&format!(
                "{note} [batches of {} encoder positions]",
                self.shape.enc_len
            ));
        }
        Ok(out)
    }
}

/// The outcome of [`check_replay`].
struct Checked {
    passed: bool,
    note: String,
    /// The step's outputs (the eager step's when the check failed).
    out: StepOut,
}

/// A replayed step should be the step itself: a captured constant that
/// ought to change per step, an input not copied, a freed tensor the graph
/// still reads would all show here. The step runs eagerly from the saved
/// state with the same seed, the state is put back, the graph is replayed,
/// and the two losses and weight updates are compared (tolerances allow for
/// kernels that add in a varying order). On a mismatch the eager result is
/// kept.
fn check_replay(
    replay: &mut dyn FnMut() -> Result<()>,
    out: &StepOut,
    inputs: &Batch,
    spec: &StepSpec,
    body: &mut dyn FnMut(&Batch) -> StepOut,
) -> Result<Checked> {
    let copies = |ts: &[Tensor]| -> Vec<Tensor> {
        let _g = tch::no_grad_guard();
        ts.iter().map(Tensor::copy).collect()
    };
    let put = |dst: &[Tensor], src: &[Tensor]| {
        let _g = tch::no_grad_guard();
        for (d, s) in dst.iter().zip(src) {
            d.shallow_clone().copy_(s);
        }
    };
    let before = copies(spec.state);
    let eager = body(inputs);
    let eager_state = copies(spec.state);
    put(spec.state, &before);
    tch::manual_seed(spec.seed);
    replay()?;
    let (le, lg) = (eager.loss.double_value(&[]), out.loss.double_value(&[]));
    let loss_diff = (lg - le).abs() / le.abs().max(1e-12);
    let (w0, we, wg) = (&before[0], &eager_state[0], &spec.state[0]);
    let update = (we - w0).norm().double_value(&[]);
    let update_diff = (wg - we).norm().double_value(&[]) / update.max(1e-30);
    let passed = loss_diff < 1e-3 && update_diff < 5e-2;
    let figures = format!(
        "loss {lg:.6} vs {le:.6} eagerly, weight updates differ by {:.2e} of their norm",
        update_diff
    );
    if passed {
        return Ok(Checked {
            passed,
            note: format!(
                "training with a CUDA graph; its first replay matches the eager step ({figures})"
            ),
            out: out.shallow_clone(),
        });
    }
    put(spec.state, &eager_state);
    Ok(Checked {
        passed,
        note: format!("training without CUDA graphs: the graph's replay does not match the eager step ({figures})"),
        out: eager,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::RefCell;
    use tch::{nn, Kind};

    /// A toy step: a var store with two weights, AdamW, a batch whose `ids`
    /// hold the input rows.
    fn setup() -> (nn::VarStore, RefCell<AdamW>) {
        tch::manual_seed(11);
        let vs = nn::VarStore::new(Device::Cpu);
        let r = vs.root();
        let _ = (&r / "a").randn("weight", &[3, 5], 0.0, 1.0);
        let _ = (&r / "b").randn("weight", &[3], 0.0, 1.0);
        let opt = RefCell::new(AdamW::new(&vs, 0.9, 0.999, 1e-8, 0.1));
        (vs, opt)
    }

    fn batch(seed: i64) -> Batch {
        tch::manual_seed(seed);
        let z = Tensor::zeros([4, 1], (Kind::Int64, Device::Cpu));
        Batch {
            ids: Tensor::randn([4, 5], (Kind::Float, Device::Cpu)),
            mask: z.copy(),
            items: None,
            dec: z.copy(),
            dec_item: None,
            labels: z,
            matches: None,
        }
    }

    fn loss(vs: &nn::VarStore, b: &Batch) -> Tensor {
        let v = vs.variables();
        (b.ids.matmul(&v["a.weight"].tr()) + &v["b.weight"])
            .tanh()
            .pow_tensor_scalar(2)
            .mean(Kind::Float)
    }

    /// Runs the check of one step at lr 0.01 whose "replay" is `fake`
    /// (given the optimizer, the step's inputs and the true body):
    /// whether it passed, and the weights after.
    fn check_with(
        fake: &dyn Fn(&RefCell<AdamW>, &nn::VarStore, &Batch) -> Tensor,
    ) -> (bool, Tensor) {
        let _rng = crate::runtime::global_rng_lock();
        let (vs, opt) = setup();
        let inputs = batch(1);
        opt.borrow_mut().begin_step(0.01);
        let state: Vec<Tensor> = opt
            .borrow()
            .buffers()
            .iter()
            .map(|t| t.shallow_clone())
            .collect();
        let spec = StepSpec {
            seed: 5,
            state: &state,
        };
        let out = StepOut {
            loss: Tensor::zeros([], (Kind::Float, Device::Cpu)),
            grad_norm: None,
        };
        let mut body = |b: &Batch| device_step(&mut opt.borrow_mut(), 1.0, || loss(&vs, b));
        // The fake writes the graph's static loss the way a replay would.
        let out_loss = out.loss.shallow_clone();
        let mut replay = || -> Result<()> {
            let l = fake(&opt, &vs, &inputs);
            out_loss.shallow_clone().copy_(&l);
            Ok(())
        };
        let checked = check_replay(&mut replay, &out, &inputs, &spec, &mut body).unwrap();
        let w = vs.variables()["a.weight"].copy();
        (checked.passed, w)
    }

    fn faithful(opt: &RefCell<AdamW>, vs: &nn::VarStore, inputs: &Batch) -> Tensor {
        device_step(&mut opt.borrow_mut(), 1.0, || loss(vs, inputs)).loss
    }

    #[test]
    fn a_faithful_replay_passes_the_check() {
        let (passed, w) = check_with(&faithful);
        assert!(passed);
        // The eager step from the same state gives the same weights.
        let (_, w_again) = check_with(&faithful);
        assert_eq!(
            Vec::<f32>::try_from(w.flatten(0, -1)).unwrap(),
            Vec::<f32>::try_from(w_again.flatten(0, -1)).unwrap()
        );
    }

    #[test]
    fn a_replay_on_stale_inputs_or_a_stale_rate_fails_and_keeps_the_eager_step() {
        let (_, want) = check_with(&faithful);
        let stale_inputs = |opt: &RefCell<AdamW>, vs: &nn::VarStore, _: &Batch| {
            let old = batch(2);
            device_step(&mut opt.borrow_mut(), 1.0, || loss(vs, &old)).loss
        };
        let stale_rate = |opt: &RefCell<AdamW>, vs: &nn::VarStore, inputs: &Batch| {
            // The numbers of another learning rate, as if captured at another step.
            opt.borrow_mut().begin_step(0.008);
            device_step(&mut opt.borrow_mut(), 1.0, || loss(vs, inputs)).loss
        };
        for (name, fake) in [
            (
                "stale inputs",
                &stale_inputs as &dyn Fn(&RefCell<AdamW>, &nn::VarStore, &Batch) -> Tensor,
            ),
            ("stale rate", &stale_rate),
        ] {
            let (passed, w) = check_with(fake);
            assert!(!passed, "{name}");
            assert_eq!(
                (&w - &want).abs().max().double_value(&[]),
                0.0,
                "{name}: the eager step's weights are kept"
            );
        }
    }
}
