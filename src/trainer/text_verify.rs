//! Training the text-reading verifier (`verify.reader = "text"`,
//! [`crate::verify::text`]: a BERT cross-encoder over item text, TALLRec's
//! yes/no question after Bao et al. 2023). Its training lists are mined as
//! the ID verifier's are ([`VerifyTask`]: the target, the generator's beams
//! as hard negatives, random items), and its loss is the same
//! ([`verify_loss`]: each pair's yes/no cross-entropy, plus the softmax over
//! each list's yes-margins with `objective = "lists"`). The embeddings and
//! lower layers stay frozen (each item's text is read through them once);
//! the upper layers, the head and the candidate mark are fine-tuned with
//! AdamW. Validation reports AUC against hard and random negatives; the best
//! step is kept, saved as one checkpoint (`best` and `latest` name it), and λ
//! is chosen on validation as for the ID verifier. The run is short (minutes
//! on a CPU) and is not resumable: a new run starts afresh.
use super::optim::{optimise, AdamW};
use super::verify_lambda::{choose_lambda, store_choice};
use super::verify_task::{verify_loss, VerifyTask};
use super::{epoch_order, Task, Trainer, TrainerState};
use crate::artifact::checkpoint::{self, Loaded, VerifierChoice};
use crate::error::{IoContext, Result};
use crate::progress::Progress;
use crate::util::fsx::{write_atomic, StagedDir};
use crate::verify::text::{TextVerifier, TEXT_TOKENS};
use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use tch::Tensor;

/// The trained variables' values at the best step, by name.
type Snapshot = Vec<(String, Tensor)>;

/// What a text-verifier run did.
pub struct TextRun {
    pub checkpoint: PathBuf,
    pub best_step: usize,
    pub valid: BTreeMap<String, f64>,
    pub choice: VerifierChoice,
    pub pairs_per_second: f64,
}

/// Trains the text reader on `task`'s lists, keeps the best step by
/// validation AUC, saves it and chooses λ reranking `generator`.
pub fn train_text_verifier(
    t: &Trainer,
    generator: &Loaded,
    task: &VerifyTask,
    progress: &dyn Progress,
) -> Result<TextRun> {
    let (vc, o, cfg) = (&t.cfg.verify, &t.cfg.optim, &t.cfg);
    tch::manual_seed(cfg.run.seed as i64);
    let shape = vc.text_reader().expect("a text reader's run");
    let texts = t.ds.texts();
    let (verifier, cut) = TextVerifier::new(
        &vc.text_encoder,
        &vc.text_tokenizer,
        shape,
        &texts,
        t.device,
    )?;
    progress.note(&format!(
        "text verifier: {} item texts read once through the embeddings and {} frozen layers ({cut} cut at {TEXT_TOKENS} tokens); {} tokens per pair",
        texts.len(),
        shape.frozen,
        shape.budget
    ));
    let (reader, items) = (&verifier.reader, &verifier.items);
    // Only the fine-tuned layers, the head and the mark are trained.
    let frozen_prefixes: Vec<String> = std::iter::once("embeddings.".to_string())
        .chain((0..shape.frozen).map(|i| format!("encoder.layer.{i}.")))
        .collect();
    for (name, v) in reader.vs.variables() {
        if frozen_prefixes.iter().any(|p| name.starts_with(p)) {
            let _ = v.set_requires_grad(false);
        }
    }
    let mut opt = AdamW::for_config(&reader.vs, o);
    std::fs::create_dir_all(&t.run_dir).at(&t.run_dir)?;
    let metrics_path = t.run_dir.join("metrics.jsonl");
    let mut metrics = std::fs::File::create(&metrics_path).at(&metrics_path)?;
    write_atomic(&t.run_dir.join("train.toml"), cfg.to_toml().as_bytes())?;

    let valid_pairs: Vec<(&[u32], u32)> = task
        .valid_pairs()
        .iter()
        .map(|p| (p.history, p.candidate))
        .collect();
    let validate = || task.valid_report(&reader.log_p_yes(items, &valid_pairs, 256));
    let g = vc.pairs_per_example() as i64;
    let n = task.n_examples();
    let per_step = o.batch_size.min(n).max(1);
    let mut state = TrainerState {
        step: 0,
        best_score: f64::NEG_INFINITY,
        best_step: 0,
        evals_since_best: 0,
    };
    let mut best: Option<(Snapshot, BTreeMap<String, f64>)> = None;
    let (mut epoch, mut order, mut at) = (0usize, epoch_order(n, cfg.run.seed, 0), 0usize);
    let started = std::time::Instant::now();
    let mut pairs_seen = 0usize;
    progress.start(o.max_steps as u64, "training the text verifier");
    while state.step < o.max_steps {
        if at + per_step > order.len() {
            epoch += 1;
            order = epoch_order(n, cfg.run.seed, epoch);
            at = 0;
        }
        let mut pairs: Vec<(&[u32], u32)> = Vec::new();
        let mut labels: Vec<i64> = Vec::new();
        for &i in &order[at..at + per_step] {
            let (_, history, answers) = task.example(i as usize);
            for (c, yes) in answers {
                pairs.push((history, c));
                labels.push(if yes { 0 } else { 1 });
            }
        }
        at += per_step;
        state.step += 1;
        pairs_seen += pairs.len();
        let yes_no = reader.yes_no(items, &pairs);
        let loss = verify_loss(&yes_no, &Tensor::from_slice(&labels).to(t.device), g);
        optimise(&mut opt, &loss, o.grad_clip, o.lr_at(state.step));
        progress.inc(1);
        if state.step.is_multiple_of(cfg.run.log_every.max(1)) {
            let l = loss.double_value(&[]);
            progress.set_message(format!("loss {l:.4}"));
            writeln!(
                metrics,
                "{}",
                serde_json::json!({"step": state.step, "loss": l})
            )
            .at(&metrics_path)?;
        }
        if state.step.is_multiple_of(cfg.eval.every) || state.step == o.max_steps {
            let valid = validate();
            let score = valid["auc"];
            progress.note(&format!(
                "step {}: validation AUC {:.4} (hard {:.4}, random {:.4})",
                state.step, score, valid["auc_hard"], valid["auc_random"]
            ));
            writeln!(
                metrics,
                "{}",
                serde_json::json!({"step": state.step, "valid": valid})
            )
            .at(&metrics_path)?;
            if score > state.best_score {
                state.best_score = score;
                state.best_step = state.step;
                state.evals_since_best = 0;
                let _g = tch::no_grad_guard();
                let snapshot = reader
                    .vs
                    .variables()
                    .into_iter()
                    .filter(|(_, v)| v.requires_grad())
                    .map(|(k, v)| (k, v.copy()))
                    .collect();
                best = Some((snapshot, valid));
            } else {
                state.evals_since_best += 1;
                if cfg.eval.patience > 0 && state.evals_since_best >= cfg.eval.patience {
                    progress.note("early stop: validation AUC did not improve");
                    break;
                }
            }
        }
    }
    progress.finish();
    let secs = started.elapsed().as_secs_f64();
    let (snapshot, valid) = best.expect("validated at least once");
    {
        let _g = tch::no_grad_guard();
        let mut vars = reader.vs.variables();
        for (k, v) in &snapshot {
            vars.get_mut(k).expect("same var store").copy_(v);
        }
    }
    let name = checkpoint::step_dir_name(state.best_step);
    let dest = t.run_dir.join(&name);
    let staged = StagedDir::new(&dest)?;
    reader.save(&staged.path(""))?;
    let tok_dest = staged.path("tokenizer.json");
    std::fs::copy(&vc.text_tokenizer, &tok_dest).at(&vc.text_tokenizer)?;
    checkpoint::write_card(
        &staged.path(""),
        t.meta(task, state.best_step, valid.clone()),
    )?;
    staged.commit()?;
    checkpoint::point_to(&t.run_dir, &name, true)?;
    let choice = choose_lambda(t, generator, &verifier);
    store_choice(&dest, &choice)?;
    Ok(TextRun {
        checkpoint: dest,
        best_step: state.best_step,
        valid,
        choice,
        pairs_per_second: pairs_seen as f64 / secs.max(1e-9),
    })
}
