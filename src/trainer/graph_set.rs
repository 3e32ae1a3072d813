//! CUDA-graph steps for batches of several shapes: one [`Graphed`] per
//! encoder length, the lengths [`BUCKETS`] evenly spaced sizes up to the
//! largest a prompt can make. With batches of like lengths
//! (`optim.length_pool`) a batch of short histories pads to a short bucket
//! instead of the longest prompt; each bucket's graph is captured (and its
//! first replay checked) the first time a batch of that length comes. Each
//! graph keeps its own memory pool, so the device holds the activations of
//! every bucket's step (about 2.5 times one step's at four buckets).
use super::graphed::{Graphed, StepOut};
use super::optim::AdamW;
use super::task::BatchBuilder;
use crate::batch::{Batch, Shape};
use crate::error::Result;
use crate::progress::Progress;
use std::collections::BTreeMap;
use tch::{Device, Tensor};

/// Encoder-length buckets when batches are sorted by length.
const BUCKETS: usize = 4;

/// The graphs of one training run, by encoder length.
pub struct Graphs {
    device: Device,
    largest: Shape,
    buckets: usize,
    by_len: BTreeMap<i64, Graphed>,
}

impl Graphs {
    /// Graphs for batches up to `largest`: one shape, or, when batches
    /// come `sorted` by length (`optim.length_pool`), one of [`BUCKETS`]
    /// encoder lengths. Fails when this device or build cannot capture.
    pub fn new(device: Device, largest: Shape, sorted: bool) -> Result<Self> {
        let first = Graphed::new(device, largest)?;
        Ok(Self {
            device,
            largest,
            buckets: if sorted { BUCKETS } else { 1 },
            by_len: BTreeMap::from([(largest.enc_len, first)]),
        })
    }

    /// `build` with every batch padded to its bucket's shape (run on the
    /// prefetch thread).
    pub fn padding<'a>(&self, build: BatchBuilder<'a>) -> BatchBuilder<'a> {
        let (largest, buckets) = (self.largest, self.buckets);
        Box::new(move |idx: &[u32]| {
            let b = build(idx);
            let shape = largest.bucket(b.shape().enc_len, buckets);
            b.padded_to(shape)
                .unwrap_or_else(|e| panic!("padding a training batch: {e}"))
        })
    }

    /// [`Graphed::train_step`] on the graph of `batch`'s shape (made on
    /// its first batch).
    pub fn train_step(
        &mut self,
        o: (&mut AdamW, f64, f64),
        (batch, seed): (Batch, i64),
        loss: &dyn Fn(&Batch) -> Tensor,
        progress: &dyn Progress,
    ) -> Result<StepOut> {
        let shape = batch.shape();
        let g = match self.by_len.entry(shape.enc_len) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                e.insert(Graphed::new(self.device, shape)?)
            }
        };
        g.train_step(o, (batch, seed), loss, progress)
    }

    /// Whether any graph has gone back to eager steps.
    pub fn abandoned(&self) -> bool {
        self.by_len.values().any(Graphed::abandoned)
    }
}

/// Graphed steps for a run, when they apply: `run.cuda_graphs` on a GPU,
/// one process (`single`), a task whose batches have a bound `shape`
/// (see [`Graphs::new`] for `sorted`). Says why not when they would have
/// applied but cannot.
pub fn for_run(
    wanted: bool,
    device: Device,
    single: bool,
    shape: Option<Shape>,
    sorted: bool,
    progress: &dyn Progress,
) -> Option<Graphs> {
    if !wanted || !device.is_cuda() {
        return None;
    }
    let why = match (single, shape) {
        (false, _) => "a data-parallel job trains eagerly".to_string(),
        (true, None) => "this task's batches have no fixed shape".to_string(),
        (true, Some(shape)) => match Graphs::new(device, shape, sorted) {
            Ok(g) => return Some(g),
            Err(e) => e.to_string(),
        },
    };
    progress.note(&format!("training without CUDA graphs: {why}"));
    None
}

#[cfg(test)]
mod tests {
    use crate::batch::Shape;

    #[test]
    fn buckets_round_encoder_lengths_up() {
        let largest = Shape {
            rows: 8,
            enc_len: 83,
            dec_len: 5,
        };
        // Four buckets of 21 positions: 21, 42, 63, 83.
        let lens: Vec<i64> = [1, 21, 22, 42, 50, 63, 64, 83]
            .iter()
            .map(|&n| largest.bucket(n, 4).enc_len)
            .collect();
        assert_eq!(lens, [21, 21, 42, 42, 63, 63, 83, 83]);
        assert_eq!(largest.bucket(30, 1), largest);
        assert_eq!(largest.bucket(30, 4).rows, 8);
        assert_eq!(largest.bucket(30, 4).dec_len, 5);
    }
}
