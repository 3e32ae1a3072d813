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
use super::task::BatchBuilder;
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
    /// Why the capture failed: steps then run eagerly.
    failed: Option<String>,
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
            failed: None,
        })
    }

    /// The shape every batch must have.
    pub fn shape(&self) -> Shape {
        self.shape
    }

    /// Why the capture failed, once (steps have run eagerly since).
    pub fn take_failure(&mut self) -> Option<String> {
        self.failed.take()
    }

    /// One step on `batch` (on the device, of [`Graphed::shape`]): `body`
    /// queues the step's device work on the inputs it is given. The first
    /// steps run it on the side stream, the next captures and replays it,
    /// later ones replay it. Should the capture fail, this step and the
    /// later ones run `body` eagerly (see [`Graphed::take_failure`]).
    pub fn step(
        &mut self,
        batch: Batch,
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
        if self.warm < WARMUP {
            self.warm += 1;
            return self.graph.on_side_stream(|| body(inputs));
        }
        if self.outputs.is_none() && self.warm == WARMUP {
            self.warm += 1;
            match self.graph.capture(|| body(inputs)) {
                Ok(out) => self.outputs = Some(out),
                Err(e) => self.failed = Some(e.to_string()),
            }
        }
        match &self.outputs {
            Some(out) => {
                self.graph.replay()?;
                Ok(out.shallow_clone())
            }
            None => Ok(body(inputs)),
        }
    }
}

impl Graphed {
    /// A training step at learning rate `lr` on `batch`, the loss being
    /// `loss(inputs)`: sets the optimizer's numbers, then [`Graphed::step`]
    /// with [`device_step`]. A failed capture is noted on `progress`.
    pub fn train_step(
        &mut self,
        (opt, lr, grad_clip): (&mut AdamW, f64, f64),
        batch: Batch,
        loss: &dyn Fn(&Batch) -> Tensor,
        progress: &dyn Progress,
    ) -> Result<StepOut> {
        opt.begin_step(lr);
        let out = self.step(batch, &mut |b| device_step(opt, grad_clip, || loss(b)))?;
        if let Some(why) = self.take_failure() {
            progress.note(&format!(
                "the CUDA graph capture failed; training on without: {why}"
            ));
        }
        Ok(out)
    }
}

/// Graphed steps for a run, when they apply: `run.cuda_graphs` on a GPU,
/// one process (`single`), a task whose batches have a fixed `shape`. Says
/// why not when they would have applied but cannot.
pub fn for_run(
    wanted: bool,
    device: Device,
    single: bool,
    shape: Option<Shape>,
    progress: &dyn Progress,
) -> Option<Graphed> {
    if !wanted || !device.is_cuda() {
        return None;
    }
    let why = match (single, shape) {
        (false, _) => "a data-parallel job trains eagerly".to_string(),
        (true, None) => "this task's batches have no fixed shape".to_string(),
        (true, Some(shape)) => match Graphed::new(device, shape) {
            Ok(g) => return Some(g),
            Err(e) => e.to_string(),
        },
    };
    progress.note(&format!("training without CUDA graphs: {why}"));
    None
}

/// `build` with every batch padded to `shape` (run on the prefetch thread).
pub fn padding<'a>(build: BatchBuilder<'a>, shape: Shape) -> BatchBuilder<'a> {
    Box::new(move |idx: &[u32]| {
        build(idx)
            .padded_to(shape)
            .unwrap_or_else(|e| panic!("padding a training batch: {e}"))
    })
}
