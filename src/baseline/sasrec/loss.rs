//! SASRec's loss, cross-entropy of each scored position's state against every
//! item (Kang & McAuley 2018 with RecBole's full softmax), backpropagated in
//! bounded pieces. The logits are `[targets, items]`: at RecBole's 2,048
//! targets a batch they fit easily on Amazon Beauty (12,101 items, 100 MB),
//! but on a catalogue of 300,000 items one epoch peaked at 18 GB of memory,
//! and one of a million items would not fit at all. A batch whose logits
//! exceed [`MAX_LOGITS`] is scored a slice of rows at a time: the network's
//! states are cut from the graph, each slice's summed loss (over the batch's
//! count of targets) is backpropagated into the states and the item table,
//! then the states' accumulated gradient is backpropagated through the
//! network once — the same gradients as in one piece, up to the order of
//! floating-point sums. A batch that fits runs exactly as before.
pub use crate::model::sasrec::MAX_LOGITS;
use tch::{Kind, Reduction, Tensor};

/// Accumulates into the variables' gradients the mean cross-entropy of
/// `states` `[M, H]` against `items` `[N, H]` for `targets` `[M]` (rows of
/// target `ignored` count nowhere), in slices of at most `max_logits`
/// logits. The caller zeroes the gradients before and steps after.
pub fn backward(states: &Tensor, items: &Tensor, targets: &Tensor, ignored: i64, max_logits: i64) {
    let (m, n) = (states.size()[0], items.size()[0]);
    let rows = (max_logits / n.max(1)).max(1);
    if rows >= m {
        states
            .matmul(&items.tr())
            .cross_entropy_for_logits(targets)
            .backward();
        return;
    }
    let counted = targets.ne(ignored).sum(Kind::Float);
    let cut = states.detach().set_requires_grad(true);
    // The table is cut too: it may be computed (text read into it), and a
    // computed graph can be backpropagated only once.
    let table = items.detach().set_requires_grad(true);
    for start in (0..m).step_by(rows as usize) {
        let len = rows.min(m - start);
        let piece = cut
            .narrow(0, start, len)
            .matmul(&table.tr())
            .cross_entropy_loss::<Tensor>(
                &targets.narrow(0, start, len),
                None,
                Reduction::Sum,
                ignored,
                0.0,
            )
            / &counted;
        piece.backward();
    }
    (items * table.grad()).sum(Kind::Float).backward();
    (states * cut.grad()).sum(Kind::Float).backward();
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::sasrec::{SasRec, SasRecParams};
    use tch::{nn, Device};

    #[test]
    fn the_loss_in_pieces_gives_the_gradients_of_one_piece() {
        // Its initialisation draws from libtorch's global generator.
        let _rng = crate::runtime::global_rng_lock();
        let p = SasRecParams {
            dropout: 0.0,
            attention_dropout: 0.0,
            ..SasRecParams::default()
        };
        let vs = nn::VarStore::new(Device::Cpu);
        pieces_match_one(&SasRec::new(&vs.root(), 40, &p), &vs, &["items.weight"]);
        // Item vectors that read text: the table is computed, not a leaf.
        let text = Tensor::randn([40, 12], (tch::Kind::Float, Device::Cpu));
        let vs = nn::VarStore::new(Device::Cpu);
        let model = SasRec::with_text(&vs.root(), 40, &p, &text);
        pieces_match_one(&model, &vs, &["items.weight", "text_proj.weight"]);
    }

    /// Every variable's gradient is the same (to float sums' order) whether
    /// the loss goes in one piece or in pieces, and those named `learn` get
    /// some.
    fn pieces_match_one(model: &SasRec, vs: &nn::VarStore, learn: &[&str]) {
        let ids: Vec<i64> = (0..54).map(|i| (i * 7 + 3) % 40 + 1).collect();
        let seq = Tensor::from_slice(&ids).view([6, 9]);
        let rows = Tensor::from_slice(&[0i64, 0, 1, 2, 3, 3, 4, 5, 5, 5, 1]);
        let cols = Tensor::from_slice(&[2i64, 8, 4, 0, 5, 7, 3, 1, 6, 8, 8]);
        let targets = Tensor::from_slice(&[3i64, 17, 40, 1, -100, 22, 9, 9, 30, -100, 5]);
        // Every variable's gradient after one backward with at most
        // `max_logits` logits a piece (the same weights and batch).
        let gradients = |max_logits: i64| {
            for (_, mut v) in vs.variables() {
                v.zero_grad();
            }
            let states = model.states_at(&seq, &rows, &cols, false);
            backward(&states, &model.item_table(), &targets, -100, max_logits);
            let mut g: Vec<(String, Tensor)> = vs
                .variables()
                .into_iter()
                .map(|(k, v)| (k, v.grad().copy()))
                .collect();
            g.sort_by(|a, b| a.0.cmp(&b.0));
            g
        };
        let whole = gradients(MAX_LOGITS);
        // 41 items: 2 rows a piece, the last piece a single row.
        let pieces = gradients(2 * 41 + 5);
        assert_eq!(whole.len(), pieces.len());
        let largest = |g: &[(String, Tensor)]| {
            g.iter()
                .map(|(_, t)| t.abs().max().double_value(&[]))
                .fold(0.0, f64::max)
        };
        let scale = largest(&whole);
        for name in learn {
            let g = &whole.iter().find(|(k, _)| k == name).expect("a variable").1;
            assert!(g.abs().max().double_value(&[]) > 0.0, "{name} learns");
        }
        for ((k, a), (_, b)) in whole.iter().zip(&pieces) {
            let diff = (a - b).abs().max().double_value(&[]);
            assert!(
                diff <= 1e-5 * scale,
                "{k}: {diff} off (largest gradient {scale})"
            );
        }
    }
}
