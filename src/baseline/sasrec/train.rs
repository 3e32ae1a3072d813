//! Training SASRec as RecBole does: cross-entropy over the full catalogue,
//! Adam, one pass over overlapping windows per epoch (every target keeps at
//! least `max_len − stride` items of context), validation NDCG@10 after each
//! epoch, the best epoch's weights kept, early stopping after `patience`.
use super::*;

/// Batch rows and scored positions are padded to multiples of this.
const SHAPE_STEP: usize = 64;
/// The target of a padding position (cross-entropy's ignore index).
const IGNORED: i64 = -100;

/// Mean NDCG@10 of the model on held-out users (seen items rankable).
fn ndcg_at_10(model: &SasRec, held: &[HeldOut]) -> f64 {
    let histories: Vec<&[u32]> = held.iter().map(|h| h.history.as_slice()).collect();
    let lists = model.top_items(&histories, 10, None);
    let v: Vec<f64> = held
        .iter()
        .zip(&lists)
        .map(|(h, l)| metrics::ndcg_at(metrics::rank_of(h.target, l), 10))
        .collect();
    metrics::mean(&v)
}

/// Trains SASRec on the dataset's training sequences, validating after each
/// epoch; with `text`, item vectors that read the items' text, folded into
/// a plain SASRec's ID table at the end (`SasRec::bake`).
pub fn train(
    ds: &Dataset,
    p: &SasRecParams,
    text: Option<ItemText>,
    device: Device,
    progress: &dyn Progress,
) -> Result<Trained> {
    p.check()?;
    let t0 = std::time::Instant::now();
    tch::manual_seed(p.seed as i64);
    let mut vs = nn::VarStore::new(device);
    let n = ds.items.len();
    let model = match text {
        None => SasRec::new(&vs.root(), n, p),
        Some(t) => {
            if t.emb.len() != n * t.dim {
                return Err(Error::Mismatch(format!(
                    "sasrec: {} text embedding values for {n} items of {} dimensions",
                    t.emb.len(),
                    t.dim
                )));
            }
            let emb = Tensor::from_slice(t.emb).view([n as i64, t.dim as i64]);
            SasRec::with_text(&vs.root(), n, p, &emb)
        }
    };
    let mut opt = nn::Adam::default()
        .build(&vs, p.lr)
        .map_err(|e| Error::Other(format!("sasrec: {e}")))?;
    let examples = windows(ds, p.max_len, p.stride);
    if examples.is_empty() {
        return Err(Error::Config(
            "sasrec: no training sequence has two items".into(),
        ));
    }
    let mut best = (f64::NEG_INFINITY, 0usize, Vec::<(String, Tensor)>::new());
    let mut history = Vec::new();
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(p.seed);
    let mut order: Vec<usize> = (0..examples.len()).collect();
    progress.start(p.max_epochs as u64, "training SASRec (epochs)");
    for epoch in 1..=p.max_epochs {
        order.shuffle(&mut rng);
        for chunk in batches(&order, &examples, p.batch_targets) {
            let windows: Vec<(&[u32], usize)> = chunk
                .iter()
                .map(|&i| {
                    let (u, start, hi, lo) = examples[i];
                    let items = &ds.train[u as usize].items[start as usize..=hi as usize];
                    // Targets before `lo` belong to another window.
                    (items, (lo - start - 1) as usize)
                })
                .collect();
            // Shapes are rounded up (empty rows, ignored targets, columns to
            // `max_len`): with a shape per batch, libtorch's oneDNN primitive
            // cache grew to gigabytes over an epoch's batches.
            let mut inputs: Vec<&[u32]> = windows.iter().map(|(w, _)| &w[..w.len() - 1]).collect();
            inputs.resize(inputs.len().next_multiple_of(SHAPE_STEP), &[]);
            let (seq, _) = batch_of(&inputs, p.max_len, device);
            let seq = seq.constant_pad_nd([0, p.max_len as i64 - seq.size()[1]]);
            // Only the positions with a target are scored (`states_at`).
            let (mut rows, mut cols, mut targets) = (Vec::new(), Vec::new(), Vec::new());
            for (r, (w, skip)) in windows.iter().enumerate() {
                for (c, &it) in w[1..].iter().enumerate().skip(*skip) {
                    rows.push(r as i64);
                    cols.push(c as i64);
                    targets.push(i64::from(it) + 1);
                }
            }
            let m = targets.len().next_multiple_of(SHAPE_STEP);
            rows.resize(m, 0);
            cols.resize(m, 0);
            targets.resize(m, IGNORED);
            let at = |v: &[i64]| Tensor::from_slice(v).to(device);
            let states = model.states_at(&seq, &at(&rows), &at(&cols), true);
            opt.zero_grad();
            loss::backward(
                &states,
                &model.item_table(),
                &at(&targets),
                IGNORED,
                loss::MAX_LOGITS,
            );
            opt.step();
        }
        progress.inc(1);
        let nd = ndcg_at_10(&model, &ds.valid);
        history.push(nd);
        progress.note(&format!(
            "SASRec epoch {epoch}: validation ndcg@10 {nd:.4}{}",
            if nd > best.0 { ", new best" } else { "" }
        ));
        if nd > best.0 {
            let _g = tch::no_grad_guard();
            best = (
                nd,
                epoch,
                vs.variables()
                    .into_iter()
                    .map(|(k, v)| (k, v.detach().copy()))
                    .collect(),
            );
        } else if epoch - best.1 >= p.patience {
            break;
        }
    }
    progress.finish();
    {
        let _g = tch::no_grad_guard();
        let saved: BTreeMap<String, Tensor> = best.2.into_iter().collect();
        for (name, mut v) in vs.variables() {
            v.copy_(&saved[&name]);
        }
    }
    vs.freeze();
    let (model, vs) = match text {
        Some(_) => model.bake(&vs, device),
        None => (model, vs),
    };
    let epochs = history.len();
    let meta = Meta {
        params: p.clone(),
        dataset_content_sha256: ds.manifest.content_sha256.clone(),
        best_epoch: best.1,
        epochs,
        valid_ndcg_at_10: best.0,
        train_seconds: t0.elapsed().as_secs_f64(),
        history,
        text_sha256: text.map(|t| t.sha256.to_string()),
        weights_sha256: None,
    };
    Ok(Trained {
        model,
        vs,
        meta,
        dir: PathBuf::new(),
    })
}

/// Training windows `(user, start, hi, lo)`: items `start..=hi` of a user's
/// training sequence (up to `max_len` + 1 items) whose targets `lo..=hi`
/// (absolute positions) carry the loss. Each window takes the next `stride`
/// targets back from the sequence's end, the first window all the rest, so
/// every target keeps at least `max_len − stride` items of context.
pub(super) fn windows(ds: &Dataset, max_len: usize, stride: usize) -> Vec<(u32, u32, u32, u32)> {
    windows_of(ds.train.iter().map(|t| t.items.len()), max_len, stride)
}

/// [`windows`] for sequences of these lengths.
fn windows_of(
    lens: impl Iterator<Item = usize>,
    max_len: usize,
    stride: usize,
) -> Vec<(u32, u32, u32, u32)> {
    lens.enumerate()
        .flat_map(|(u, n)| {
            let mut v = Vec::new();
            let mut hi = n as i64 - 1;
            while hi >= 1 {
                let start = (hi - max_len as i64).max(0);
                let lo = if start == 0 {
                    1
                } else {
                    hi - stride as i64 + 1
                };
                v.push((u as u32, start as u32, hi as u32, lo as u32));
                if start == 0 {
                    break;
                }
                hi -= stride as i64;
            }
            v
        })
        .collect()
}

/// Consecutive runs of `order` (window indices) that each hold at least
/// `targets` targets (the last run what is left).
fn batches<'a>(
    order: &'a [usize],
    examples: &'a [(u32, u32, u32, u32)],
    targets: usize,
) -> impl Iterator<Item = &'a [usize]> + 'a {
    let mut rest = order;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut held = 0;
        let mut n = 0;
        while n < rest.len() && held < targets {
            let (_, _, hi, lo) = examples[rest[n]];
            held += (hi - lo + 1) as usize;
            n += 1;
        }
        let (head, tail) = rest.split_at(n);
        rest = tail;
        Some(head)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_is_trained_once_with_its_context() {
        let lens = [1usize, 2, 9, 30, 31, 57, 100];
        for (max_len, stride) in [(30, 1), (30, 4), (30, 30), (8, 3)] {
            let w = windows_of(lens.iter().copied(), max_len, stride);
            for (u, &n) in lens.iter().enumerate() {
                let mut seen = vec![0; n];
                for &(_, start, hi, lo) in w.iter().filter(|x| x.0 == u as u32) {
                    assert!(hi - start <= max_len as u32 && lo > start && lo <= hi);
                    for t in lo..=hi {
                        seen[t as usize] += 1;
                        // Context before target t: items start..t.
                        let ctx = (t - start) as usize;
                        assert!(ctx >= (t as usize).min(max_len - stride + 1).min(max_len));
                    }
                }
                let want: Vec<i32> = (0..n).map(|t| i32::from(t > 0)).collect();
                assert_eq!(seen, want, "length {n}, max_len {max_len}, stride {stride}");
            }
            if stride == 1 {
                // Every target past the first max_len has its full context.
                assert!(w
                    .iter()
                    .all(|&(_, s, hi, lo)| s == 0 || (lo == hi && hi - s == max_len as u32)));
            }
        }
    }

    #[test]
    fn batches_hold_the_asked_targets_in_order() {
        let w = windows_of([40usize, 3, 70, 12, 55].into_iter(), 20, 5);
        let order: Vec<usize> = (0..w.len()).rev().collect();
        let runs: Vec<&[usize]> = batches(&order, &w, 16).collect();
        assert_eq!(runs.concat(), order);
        let held = |r: &[usize]| {
            r.iter()
                .map(|&i| (w[i].2 - w[i].3 + 1) as usize)
                .sum::<usize>()
        };
        for r in &runs[..runs.len() - 1] {
            assert!(held(r) >= 16 && held(&r[..r.len() - 1]) < 16);
        }
    }
}
