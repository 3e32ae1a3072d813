//! Training SASRec as RecBole does: cross-entropy over the full catalogue,
//! Adam, one pass over overlapping windows per epoch (every target keeps at
//! least `max_len − stride` items of context), validation NDCG@10 after each
//! epoch, the best epoch's weights kept, early stopping after `patience`.
use super::*;

/// Mean NDCG@10 of the model on held-out users (seen items rankable).
fn ndcg_at_10(model: &SasRec, held: &[HeldOut], device: Device) -> f64 {
    let lists = top_k(model, held, 10, None, device);
    let v: Vec<f64> = held
        .iter()
        .zip(&lists)
        .map(|(h, l)| metrics::ndcg_at(metrics::rank_of(h.target, l), 10))
        .collect();
    metrics::mean(&v)
}

/// Trains SASRec on the dataset's training sequences, validating after each epoch.
pub fn train(
    ds: &Dataset,
    p: &SasRecParams,
    device: Device,
    progress: &dyn Progress,
) -> Result<Trained> {
    p.check()?;
    let t0 = std::time::Instant::now();
    tch::manual_seed(p.seed as i64);
    let mut vs = nn::VarStore::new(device);
    let model = SasRec::new(&vs.root(), ds.items.len(), p);
    let mut opt = nn::Adam::default()
        .build(&vs, p.lr)
        .map_err(|e| Error::Other(format!("sasrec: {e}")))?;
    // Windows items[start..=hi] of up to max_len + 1 items whose targets
    // lo..=hi (absolute positions) carry the loss; each window takes the next
    // `stride` targets back from the sequence's end, the first window all the
    // rest: (user, start, hi, lo).
    let examples: Vec<(u32, u32, u32, u32)> = ds
        .train
        .iter()
        .enumerate()
        .flat_map(|(u, t)| {
            let mut v = Vec::new();
            let mut hi = t.items.len() as i64 - 1;
            while hi >= 1 {
                let start = (hi - p.max_len as i64).max(0);
                let lo = if start == 0 {
                    1
                } else {
                    hi - p.stride as i64 + 1
                };
                v.push((u as u32, start as u32, hi as u32, lo as u32));
                if start == 0 {
                    break;
                }
                hi -= p.stride as i64;
            }
            v
        })
        .collect();
    if examples.is_empty() {
        return Err(Error::Config(
            "sasrec: no training sequence has two items".into(),
        ));
    }
    let steps_per_epoch = examples.len().div_ceil(p.batch_size);
    let mut best = (f64::NEG_INFINITY, 0usize, Vec::<(String, Tensor)>::new());
    let mut history = Vec::new();
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(p.seed);
    let mut order: Vec<usize> = (0..examples.len()).collect();
    progress.start(
        (p.max_epochs * steps_per_epoch) as u64,
        "training SASRec (steps)",
    );
    for epoch in 1..=p.max_epochs {
        order.shuffle(&mut rng);
        for chunk in order.chunks(p.batch_size) {
            let windows: Vec<(&[u32], usize)> = chunk
                .iter()
                .map(|&i| {
                    let (u, start, hi, lo) = examples[i];
                    let items = &ds.train[u as usize].items[start as usize..=hi as usize];
                    // Targets before `lo` belong to another window.
                    (items, (lo - start - 1) as usize)
                })
                .collect();
            let inputs: Vec<&[u32]> = windows.iter().map(|(w, _)| &w[..w.len() - 1]).collect();
            let (seq, _) = batch_of(&inputs, p.max_len, device);
            let l = seq.size()[1] as usize;
            let mut targets = vec![-100i64; windows.len() * l];
            for (r, (w, skip)) in windows.iter().enumerate() {
                for (c, &it) in w[1..].iter().enumerate().skip(*skip) {
                    targets[r * l + c] = i64::from(it) + 1;
                }
            }
            let logits = model.states(&seq, true).matmul(&model.items.ws.tr());
            let v = logits.size()[2];
            let loss = logits
                .view([-1, v])
                .cross_entropy_for_logits(&Tensor::from_slice(&targets).to(device));
            opt.backward_step(&loss);
            progress.inc(1);
        }
        let nd = ndcg_at_10(&model, &ds.valid, device);
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
    let epochs = history.len();
    let meta = Meta {
        params: p.clone(),
        dataset_content_sha256: ds.manifest.content_sha256.clone(),
        best_epoch: best.1,
        epochs,
        valid_ndcg_at_10: best.0,
        train_seconds: t0.elapsed().as_secs_f64(),
        history,
    };
    Ok(Trained {
        model,
        _vs: vs,
        meta,
        dir: PathBuf::new(),
    })
}
