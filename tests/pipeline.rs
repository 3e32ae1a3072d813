//! The CLI pipeline on ML-100K with train/tiny.toml: prepare → embed → index →
//! train (loss falls, exact resume, kill-safety) → evaluate (hash check).
use genrec::data::{Known, Split};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn genrec(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_genrec"))
        .args(args)
        .current_dir(root())
        .output()
        .unwrap()
}

fn ok(args: &[&str]) -> String {
    let o = genrec(args);
    assert!(
        o.status.success(),
        "genrec {args:?} failed:\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8_lossy(&o.stdout).into_owned()
}

/// Writes `bytes` gzip-compressed to `path`, as catalogues are published.
fn write_gz(path: &Path, bytes: &[u8]) {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut e, bytes).unwrap();
    std::fs::write(path, e.finish().unwrap()).unwrap();
}

/// ML-100K prepared, embedded and indexed once per test binary.
fn data() -> &'static PathBuf {
    static DIR: OnceLock<PathBuf> = OnceLock::new();
    DIR.get_or_init(|| {
        let dir = root().join("target/test-work/ml-100k");
        let d = dir.to_str().unwrap();
        ok(&[
            "prepare",
            "data/ml-100k",
            "--out",
            d,
            "--text-template",
            "{movie_title} ({release_year}) | {class}",
        ]);
        ok(&["embed", "-d", d, "--threads", "2"]);
        ok(&["index", "-d", d]);
        ok(&["index", "-d", d, "--scheme", "random"]);
        dir
    })
}

fn tiny(run_root: &Path, extra: &[&str]) -> Vec<String> {
    let ds = data().to_str().unwrap().to_string();
    let mut v: Vec<String> = vec![
        "train".into(),
        "-c".into(),
        "train/tiny.toml".into(),
        "--set".into(),
        format!("data.dataset=\"{ds}\""),
        "--set".into(),
        format!("data.index=\"{ds}/index\""),
        "--set".into(),
        format!("run.checkpoints=\"{}\"", run_root.display()),
    ];
    v.extend(extra.iter().map(|s| s.to_string()));
    v
}

fn run_tiny(run_root: &Path, extra: &[&str]) -> Output {
    let args = tiny(run_root, extra);
    genrec(&args.iter().map(String::as_str).collect::<Vec<_>>())
}

fn final_weights(run_root: &Path) -> (Vec<u8>, Vec<u8>) {
    let run = run_root.join("tiny");
    let latest = std::fs::read_to_string(run.join("latest")).unwrap();
    let dir = run.join(latest.trim());
    (
        std::fs::read(dir.join("model.safetensors")).unwrap(),
        std::fs::read(dir.join("optimizer.safetensors")).unwrap(),
    )
}

#[test]
fn training_loss_falls_and_artifacts_are_written() {
    let t = tempfile::tempdir().unwrap();
    let o = run_tiny(t.path(), &["--max-steps", "30"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = t.path().join("tiny");
    let log = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let losses: Vec<f64> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()?["loss"].as_f64())
        .collect();
    assert!(losses.len() >= 3);
    assert!(
        losses.last().unwrap() < &(losses[0] * 0.8),
        "loss must fall: {losses:?}"
    );
    assert!(std::fs::read_to_string(run.join("metrics.svg"))
        .unwrap()
        .contains("<polyline"));
    let latest = genrec::artifact::checkpoint::latest(&run).unwrap();
    assert!(latest.ends_with("step-0000030"));
    // The run directory resolves to its best checkpoint.
    let ck = genrec::artifact::checkpoint::load(&run, tch::Device::Cpu).unwrap();
    let best = std::fs::read_to_string(run.join("best")).unwrap();
    assert!(ck.dir.ends_with(best.trim()));
    // The checkpoint is a Hugging Face T5 directory.
    let cfg: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ck.dir.join("config.json")).unwrap()).unwrap();
    assert_eq!(cfg["architectures"][0], "T5ForConditionalGeneration");
    assert_eq!(cfg["tie_word_embeddings"], false);
    // A second run into the same place is refused rather than mixed with the first.
    let again = run_tiny(t.path(), &["--max-steps", "30"]);
    assert!(!again.status.success());
    assert!(String::from_utf8_lossy(&again.stderr).contains("--resume"));
    the_run_s_log_holds_what_it_printed(&run, &o, &again);
    weights_changed_since_training_are_refused(&latest, t.path());
}

/// `train.log` in the run directory: each command's header, then its lines,
/// time-stamped — the progress (plain lines, though stderr was a pipe
/// anyway), the validations, the summary and a refused second run's error.
fn the_run_s_log_holds_what_it_printed(run: &Path, first: &Output, again: &Output) {
    let log = std::fs::read_to_string(run.join("train.log")).unwrap();
    let headers: Vec<&str> = log.lines().filter(|l| l.starts_with("== ")).collect();
    assert_eq!(headers.len(), 2, "{log}");
    assert!(headers
        .iter()
        .all(|h| h.contains(" UTC: ") && h.contains(" train ")));
    let printed = [&first.stdout, &first.stderr, &again.stderr];
    for l in printed.iter().flat_map(|o| {
        String::from_utf8_lossy(o)
            .into_owned()
            .lines()
            .map(str::to_owned)
            .collect::<Vec<_>>()
    }) {
        assert!(log.contains(&l), "{l} is not in the log:\n{log}");
    }
    assert!(
        log.contains("step 30") || log.contains("training 30/30"),
        "{log}"
    );
    assert!(log.lines().last().unwrap().contains("error: ") && log.contains("--resume"));
}

/// The card records its weights' SHA-256; a checkpoint whose
/// `model.safetensors` changed since is refused by loading and by `--resume`.
fn weights_changed_since_training_are_refused(latest: &Path, run_root: &Path) {
    use genrec::artifact::checkpoint;
    let weights = latest.join("model.safetensors");
    let card = checkpoint::load_meta(latest).unwrap();
    assert_eq!(
        card.weights.keys().collect::<Vec<_>>(),
        ["model.safetensors"],
        "the optimizer's moments are not the model"
    );
    let sha = genrec::util::hash::sha256_file(&weights).unwrap();
    assert_eq!(card.weights["model.safetensors"], sha);
    // One byte of the last tensor's data: still a well-formed file.
    let mut bytes = std::fs::read(&weights).unwrap();
    *bytes.last_mut().unwrap() ^= 1;
    std::fs::write(&weights, &bytes).unwrap();
    let e = checkpoint::load(latest, tch::Device::Cpu).err().unwrap();
    let words = ["model.safetensors", "changed or replaced", &sha];
    assert!(words.iter().all(|w| e.to_string().contains(w)), "{e}");
    let o = run_tiny(run_root, &["--max-steps", "30", "--resume"]);
    fails_naming(&o, &words);
}

#[test]
fn resume_gives_identical_weights() {
    let straight = tempfile::tempdir().unwrap();
    let o = run_tiny(straight.path(), &["--max-steps", "40"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let split = tempfile::tempdir().unwrap();
    let o = run_tiny(split.path(), &["--max-steps", "40", "--stop-after", "20"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert_eq!(
        std::fs::read_to_string(split.path().join("tiny/latest"))
            .unwrap()
            .trim(),
        "step-0000020"
    );
    let o = run_tiny(split.path(), &["--max-steps", "40", "--resume"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        final_weights(straight.path()) == final_weights(split.path()),
        "weights or optimizer state differ after resume"
    );
    // The metrics log has no duplicated steps.
    let log = std::fs::read_to_string(split.path().join("tiny/metrics.jsonl")).unwrap();
    let steps: Vec<u64> = log
        .lines()
        .filter_map(|l| {
            serde_json::from_str::<serde_json::Value>(l).ok()?["loss"]
                .as_f64()
                .and(Some(0))
        })
        .collect();
    assert_eq!(steps.len(), 40 / 5);
}

#[test]
fn the_weight_average_is_what_checkpoints_hold_and_resumes_exactly() {
    let ema = ["--max-steps", "40", "--set", "optim.ema=0.9"];
    let straight = tempfile::tempdir().unwrap();
    let o = run_tiny(straight.path(), &ema);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let split = tempfile::tempdir().unwrap();
    let o = run_tiny(split.path(), &[&ema[..], &["--stop-after", "20"]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let o = run_tiny(split.path(), &[&ema[..], &["--resume"]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        final_weights(straight.path()) == final_weights(split.path()),
        "weights, average or optimizer state differ after resume"
    );
    // Training itself is untouched: the raw weights kept beside the moments
    // are the weights of the same run without the average, and the
    // checkpoint's model is the average, not those.
    let plain = tempfile::tempdir().unwrap();
    let o = run_tiny(plain.path(), &["--max-steps", "40"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let last = |root: &Path| {
        let run = root.join("tiny");
        run.join(std::fs::read_to_string(run.join("latest")).unwrap().trim())
    };
    let read =
        |p: PathBuf| -> std::collections::BTreeMap<_, _> { tensors(&p).into_iter().collect() };
    let raw = read(last(plain.path()).join("model.safetensors"));
    let kept = read(last(straight.path()).join("optimizer.safetensors"));
    let avg = read(last(straight.path()).join("model.safetensors"));
    let mut differ = 0;
    for (name, w) in &raw {
        if let Some(k) = kept.get(&format!("w.{name}")) {
            assert_eq!(k, w, "{name}: the raw weights changed under the average");
            differ += usize::from(avg[name] != *w);
        }
    }
    assert!(
        differ > 10,
        "the checkpoint holds the average: {differ} tensors differ"
    );
}

#[test]
fn a_kill_at_any_moment_leaves_a_loadable_checkpoint() {
    let straight = tempfile::tempdir().unwrap();
    let o = run_tiny(
        straight.path(),
        &["--max-steps", "60", "--set", "eval.every=5"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let t = tempfile::tempdir().unwrap();
    let args = tiny(t.path(), &["--max-steps", "60", "--set", "eval.every=5"]);
    let mut child = Command::new(env!("CARGO_BIN_EXE_genrec"))
        .args(&args)
        .current_dir(root())
        .spawn()
        .unwrap();
    let latest = t.path().join("tiny/latest");
    let t0 = std::time::Instant::now();
    while !latest.exists() && t0.elapsed().as_secs() < 60 {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    std::thread::sleep(std::time::Duration::from_millis(30));
    child.kill().unwrap(); // SIGKILL
    let _ = child.wait();
    let ck = genrec::artifact::checkpoint::load(&t.path().join("tiny"), tch::Device::Cpu)
        .expect("a complete checkpoint survives the kill");
    assert!(ck.meta.step >= 5);
    let o = run_tiny(
        t.path(),
        &["--max-steps", "60", "--set", "eval.every=5", "--resume"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(final_weights(straight.path()) == final_weights(t.path()));
}

#[test]
fn evaluate_reports_and_refuses_a_mismatched_index() {
    let t = tempfile::tempdir().unwrap();
    let o = run_tiny(t.path(), &["--max-steps", "10"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = t.path().join("tiny");
    let out = t.path().join("eval");
    let stdout = ok(&[
        "evaluate",
        "--checkpoint",
        run.to_str().unwrap(),
        "--split",
        "test",
        "--bootstrap",
        "50",
        "--baselines",
        "pop,knn,knn-recent,words,next",
        "--out",
        out.to_str().unwrap(),
        "--threads",
        "1",
    ]);
    assert!(
        stdout.contains("| genrec |")
            && stdout.contains("| most-popular |")
            && stdout.contains("| text-kNN (last item) |")
            && stdout.contains("| text-kNN (last 5, weights 0.5^age) |")
            && stdout.contains("| text-kNN by words (IDF cosine, last item) |")
            && stdout.contains("| item transitions (successors of the last 3 items) |"),
        "{stdout}"
    );
    // What it printed is in its log beside the results, table included.
    let log = std::fs::read_to_string(out.join("evaluate-test.log")).unwrap();
    assert!(log.starts_with("== ") && log.lines().next().unwrap().contains("evaluate"));
    for l in stdout.lines().filter(|l| l.starts_with("| ")) {
        assert!(log.contains(l), "{l} is not in the log:\n{log}");
    }
    let report: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("results-test.json")).unwrap()).unwrap();
    let r = &report["results"][0];
    assert_eq!(r["users"], 943);
    let n = r["metrics"]["ndcg@10"]["mean"].as_f64().unwrap();
    assert!(
        r["metrics"]["ndcg@10"]["lo"].as_f64().unwrap() <= n
            && n <= r["metrics"]["ndcg@10"]["hi"].as_f64().unwrap()
    );
    // Each row's NDCG@10 by the target's count and by the history's length:
    // the groups hold every user once, and their user-weighted means are the
    // row's mean over all users.
    let rows = report["results"].as_array().unwrap();
    let breakdowns = report["breakdowns"].as_array().unwrap();
    assert_eq!(breakdowns.len(), 2);
    for b in breakdowns {
        let sizes: Vec<f64> = b["groups"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g[1].as_f64().unwrap())
            .collect();
        assert_eq!(sizes.iter().sum::<f64>(), 943.0, "{b}");
        assert_eq!(b["rows"].as_array().unwrap().len(), rows.len());
        for (row, result) in b["rows"].as_array().unwrap().iter().zip(rows) {
            assert_eq!(row[0], result["method"]);
            let cells = row[1].as_array().unwrap();
            let weighted: f64 = cells
                .iter()
                .zip(&sizes)
                .map(|(c, n)| c["mean"].as_f64().unwrap() * n)
                .sum();
            let all = result["metrics"]["ndcg@10"]["mean"].as_f64().unwrap();
            assert!(
                (weighted / 943.0 - all).abs() < 1e-9,
                "{row}: {weighted} vs {all}"
            );
        }
    }
    let md = std::fs::read_to_string(out.join("results-test.md")).unwrap();
    assert!(
        md.contains("NDCG@10 by how often the target was taken before")
            && md.contains("NDCG@10 by the length of the user's history"),
        "{md}"
    );
    // Every baseline row carries its paired difference to the generator.
    let knn = &report["results"][2];
    assert_eq!(knn["paired"][0]["reference"], "genrec");
    let d = knn["paired"][0]["difference"]["ndcg@10"]["mean"]
        .as_f64()
        .unwrap();
    let want = knn["metrics"]["ndcg@10"]["mean"].as_f64().unwrap() - n;
    assert!((d - want).abs() < 1e-12, "{d} vs {want}");
    // --compare with the same model: every paired difference is exactly 0.
    let out2 = t.path().join("eval2");
    let earlier = out.join("results-test.json");
    let stdout = ok(&[
        "evaluate",
        "--checkpoint",
        run.to_str().unwrap(),
        "--bootstrap",
        "50",
        "--no-baselines",
        "--compare",
        earlier.to_str().unwrap(),
        "--out",
        out2.to_str().unwrap(),
        "--threads",
        "1",
    ]);
    assert!(
        stdout.contains("Paired differences") && stdout.contains("earlier run"),
        "{stdout}"
    );
    let again: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out2.join("results-test.json")).unwrap()).unwrap();
    let diff = &again["results"][0]["paired"][0]["difference"]["ndcg@10"];
    assert_eq!(
        (
            diff["mean"].as_f64(),
            diff["lo"].as_f64(),
            diff["hi"].as_f64()
        ),
        (Some(0.0), Some(0.0), Some(0.0))
    );
    // Another split's results cannot be paired with these users.
    let o = genrec(&[
        "evaluate",
        "--checkpoint",
        run.to_str().unwrap(),
        "--split",
        "valid",
        "--no-baselines",
        "--compare",
        earlier.to_str().unwrap(),
        "--out",
        out2.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(e.contains("--compare") && e.contains("split"), "{e}");
    let random = data().join("index-random");
    let o = genrec(&[
        "evaluate",
        "--checkpoint",
        run.to_str().unwrap(),
        "--index",
        random.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("was trained on semantic IDs") && e.contains("use the index it was trained on"),
        "{e}"
    );
}

/// One tiny checkpoint shared by the recommend tests.
fn tiny_checkpoint() -> &'static PathBuf {
    static RUN: OnceLock<PathBuf> = OnceLock::new();
    RUN.get_or_init(|| {
        let root_dir = root().join("target/test-work/runs");
        let _ = std::fs::remove_dir_all(&root_dir);
        let o = run_tiny(&root_dir, &["--max-steps", "20"]);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        root_dir.join("tiny")
    })
}

/// `genrec recommend` for the test split's users into `out` (one thread), plus `extra`.
fn recommend_test_split(checkpoint: &Path, out: &Path, extra: &[&str]) -> Output {
    let mut a = vec![
        "recommend",
        "--checkpoint",
        checkpoint.to_str().unwrap(),
        "--split",
        "test",
        "--output",
        out.to_str().unwrap(),
        "--threads",
        "1",
    ];
    a.extend_from_slice(extra);
    genrec(&a)
}

fn jsonl(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn recommend_matches_evaluate_on_the_test_split() {
    let ck = tiny_checkpoint();
    let t = tempfile::tempdir().unwrap();
    let eval_out = t.path().join("eval");
    ok(&[
        "evaluate",
        "--checkpoint",
        ck.to_str().unwrap(),
        "--no-baselines",
        "--bootstrap",
        "10",
        "--out",
        eval_out.to_str().unwrap(),
        "--threads",
        "1",
    ]);
    let recs = t.path().join("recs.jsonl");
    let o = recommend_test_split(ck, &recs, &["--no-text-fusion"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let from_eval = jsonl(&eval_out.join("recs-test.jsonl"));
    let from_rec = jsonl(&recs);
    assert_eq!(from_eval.len(), 943);
    assert_eq!(from_rec.len(), 943);
    for (e, r) in from_eval.iter().zip(&from_rec) {
        assert_eq!(e["user"], r["user"]);
        assert_eq!(e["items"], r["items"]);
        assert_eq!(e["scores"], r["scores"]);
    }
}

#[test]
fn shards_concatenate_to_the_whole_and_lists_are_enforced() {
    let ck = tiny_checkpoint();
    let t = tempfile::tempdir().unwrap();
    let run = |extra: &[&str], name: &str| -> PathBuf {
        let p = t.path().join(name);
        let mut args = vec![
            "recommend",
            "--checkpoint",
            ck.to_str().unwrap(),
            "--split",
            "valid",
            "--batch-size",
            "50",
            "--threads",
            "1",
            "--output",
            p.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        ok(&args);
        p
    };
    let whole = std::fs::read_to_string(run(&[], "whole.jsonl")).unwrap();
    let mut parts: Vec<String> = (0..3)
        .flat_map(|i| {
            std::fs::read_to_string(run(&["--shard", &format!("{i}/3")], &format!("s{i}.jsonl")))
                .unwrap()
                .lines()
                .map(str::to_owned)
                .collect::<Vec<_>>()
        })
        .collect();
    parts.sort_by_key(|l| {
        serde_json::from_str::<serde_json::Value>(l).unwrap()["line"]
            .as_u64()
            .unwrap()
    });
    let joined: String = parts.iter().map(|l| format!("{l}\n")).collect();
    assert_eq!(
        joined, whole,
        "shards must concatenate to the unsharded output byte for byte"
    );

    // Deny the 30 items recommended most often: none may appear.
    let mut count: std::collections::HashMap<String, usize> = Default::default();
    for r in whole
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
    {
        for i in r["items"].as_array().unwrap() {
            *count.entry(i.as_str().unwrap().to_string()).or_default() += 1;
        }
    }
    let mut top: Vec<(String, usize)> = count.into_iter().collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    let deny: Vec<String> = top.iter().take(30).map(|x| x.0.clone()).collect();
    let deny_file = t.path().join("deny.txt");
    std::fs::write(&deny_file, deny.join("\n")).unwrap();
    let denied =
        std::fs::read_to_string(run(&["--deny", deny_file.to_str().unwrap()], "deny.jsonl"))
            .unwrap();
    for r in denied
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
    {
        assert_eq!(r["items"].as_array().unwrap().len(), 10);
        for i in r["items"].as_array().unwrap() {
            assert!(
                !deny.contains(&i.as_str().unwrap().to_string()),
                "denied item {i} returned"
            );
        }
    }
    // An allow-list of 12 items: only those come back.
    let allow: Vec<String> = (200..212).map(|i| i.to_string()).collect();
    let allow_file = t.path().join("allow.txt");
    std::fs::write(&allow_file, allow.join("\n")).unwrap();
    let allowed = std::fs::read_to_string(run(
        &["--allow", allow_file.to_str().unwrap(), "--exclude-seen"],
        "allow.jsonl",
    ))
    .unwrap();
    for r in allowed
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
    {
        assert!(!r["items"].as_array().unwrap().is_empty());
        for i in r["items"].as_array().unwrap() {
            assert!(allow.contains(&i.as_str().unwrap().to_string()));
        }
    }
}

#[test]
fn recommend_bad_input_and_exclude_seen() {
    let ck = tiny_checkpoint();
    let t = tempfile::tempdir().unwrap();
    let input = t.path().join("in.jsonl");
    std::fs::write(&input, "{\"user\": \"1\", \"items\": [\"50\", \"172\", \"no-such-item\"]}\n{\"user\": 2, \"items\": []}\n\n{\"user\": \"3\", \"items\": [\"1\", \"2\", \"3\"]}\n").unwrap();
    let out = t.path().join("out.jsonl");
    let args = |extra: &[&str]| {
        let mut v = vec![
            "recommend",
            "--checkpoint",
            ck.to_str().unwrap(),
            "--input",
            input.to_str().unwrap(),
            "--output",
            out.to_str().unwrap(),
            "--batch-size",
            "1",
            "--threads",
            "1",
        ];
        v.extend_from_slice(extra);
        v.into_iter().map(String::from).collect::<Vec<_>>()
    };
    let o = genrec(
        &args(&["--exclude-seen"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("1 unknown history items skipped"));
    let rows = jsonl(&out);
    assert_eq!(rows.len(), 3);
    assert_eq!(
        rows[1]["user"], "2",
        "an empty history still gets recommendations"
    );
    assert_eq!(rows[1]["items"].as_array().unwrap().len(), 10);
    for i in rows[2]["items"].as_array().unwrap() {
        assert!(
            !["1", "2", "3"].contains(&i.as_str().unwrap()),
            "--exclude-seen returned a seen item"
        );
    }
    let o = genrec(
        &args(&["--strict"])
            .iter()
            .map(String::as_str)
            .collect::<Vec<_>>(),
    );
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("in.jsonl:1: unknown item \"no-such-item\""),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // A malformed line: an error naming it; what was written before stays valid JSONL.
    std::fs::write(
        &input,
        "{\"user\": \"1\", \"items\": [\"50\"]}\n{\"user\": \"2\", \"items\": [\"50\"\n",
    )
    .unwrap();
    let o = genrec(&args(&[]).iter().map(String::as_str).collect::<Vec<_>>());
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("in.jsonl:2: malformed JSON"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let rows = jsonl(&out);
    assert_eq!(rows.len(), 1);
}

/// A tiny verifier over the tiny generator, trained for 20 steps into
/// `root/<name>`, with `extra` overrides.
fn train_tiny_verifier(root: &Path, name: &str, extra: &[&str]) -> PathBuf {
    train_tiny_verifier_logged(root, name, extra).0
}

/// `train_tiny_verifier`, with what the run wrote to stderr.
fn train_tiny_verifier_logged(root: &Path, name: &str, extra: &[&str]) -> (PathBuf, String) {
    let gen_run = tiny_checkpoint();
    let generator = format!("verify.generator=\"{}\"", gen_run.display());
    let mut args = vec![
        "--task",
        "verify",
        "--name",
        name,
        "--max-steps",
        "20",
        "--set",
        &generator,
    ];
    args.extend_from_slice(extra);
    let o = run_tiny(root, &args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        String::from_utf8_lossy(&o.stdout).contains("chose λ ="),
        "{}",
        String::from_utf8_lossy(&o.stdout)
    );
    (
        root.join(name),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// Pairs of one user share an encoder pass: the same scores as one pair at a time.
fn shared_pass_matches_one_at_a_time(v: &genrec::verify::Verifier, pairs: &[(&[u32], u32)]) {
    let pairs: Vec<genrec::verify::Pair> = pairs
        .iter()
        .map(|&(history, candidate)| genrec::verify::Pair {
            user: "u",
            history,
            candidate,
        })
        .collect();
    let together = v.log_p_yes(&pairs, 64);
    for (p, t) in pairs.iter().zip(&together) {
        let alone = v.log_p_yes(std::slice::from_ref(p), 1)[0];
        assert!((alone - t).abs() < 1e-5, "{alone} vs {t}");
        assert!(*t <= 0.0);
    }
}

/// `evaluate --rerank` over the tiny generator shows the reranked row.
fn evaluate_reranked(verifier: &Path, out: &Path) {
    let o = evaluate_over_tiny(verifier, out);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = String::from_utf8_lossy(&o.stdout);
    assert!(s.contains("genrec + verifier (top 20"), "{s}");
}

/// `genrec evaluate` of the tiny generator reranked by `verifier`, no baselines.
fn evaluate_over_tiny(verifier: &Path, out: &Path) -> Output {
    genrec(&[
        "evaluate",
        "--checkpoint",
        tiny_checkpoint().to_str().unwrap(),
        "--rerank",
        verifier.to_str().unwrap(),
        "--no-baselines",
        "--bootstrap",
        "10",
        "--threads",
        "1",
        "--out",
        out.to_str().unwrap(),
    ])
}

#[test]
fn verifier_trains_and_lambda_zero_keeps_the_generator_order() {
    let gen_run = tiny_checkpoint();
    let t = tempfile::tempdir().unwrap();
    let ver = train_tiny_verifier(
        t.path(),
        "tiny-verifier",
        &[
            "--set",
            "verify.max_positions=300",
            "--set",
            "verify.lambdas=[0.0, 0.5, 1.0]",
        ],
    );
    let ck = genrec::artifact::checkpoint::load(&ver, tch::Device::Cpu).unwrap();
    assert_eq!(ck.meta.task, genrec::config::TaskKind::Verify);
    assert!(ck.meta.valid.contains_key("auc_hard") && ck.meta.valid.contains_key("auc_random"));
    assert!(ck.meta.extra["lambda"].is_number());
    // It records which generator it was built from (and --resume checks it).
    let gen_ck = genrec::artifact::checkpoint::load(gen_run, tch::Device::Cpu).unwrap();
    assert_eq!(
        ck.meta.built_from_sha256.as_deref(),
        Some(
            genrec::util::hash::sha256_file(&gen_ck.dir.join("model.safetensors"))
                .unwrap()
                .as_str()
        )
    );
    // Pairs of one user share an encoder pass: the same scores as one pair at a time.
    let index = genrec::semantic_id::store::Index::load(&data().join("index")).unwrap();
    let toks = index.ids.item_tokens(&index.vocab);
    let v = genrec::verify::Verifier {
        model: &ck.model,
        vocab: &ck.vocab,
        item_tokens: &toks,
        prompt: ck.meta.prompt(),
    };
    let (h1, h2) = ([3u32, 7, 11], [5u32]);
    shared_pass_matches_one_at_a_time(&v, &[(&h1, 10), (&h1, 20), (&h2, 10), (&h1, 30)]);
    // λ = 0: the reranked lists are the generator's, item for item, score for score.
    let plain = t.path().join("plain.jsonl");
    let rr = t.path().join("rerank.jsonl");
    let common = [
        "recommend",
        "--checkpoint",
        gen_run.to_str().unwrap(),
        "--split",
        "test",
        "--threads",
        "1",
        "--beam",
        "20",
    ];
    // The generator's own lists (the reranker reranks those, unfused).
    let mut a: Vec<&str> = common.to_vec();
    a.extend(["--output", plain.to_str().unwrap(), "--no-text-fusion"]);
    ok(&a);
    let mut b: Vec<&str> = common.to_vec();
    b.extend([
        "--output",
        rr.to_str().unwrap(),
        "--rerank",
        ver.to_str().unwrap(),
        "--lambda",
        "0",
        "--rerank-top",
        "20",
    ]);
    ok(&b);
    assert_eq!(std::fs::read(&plain).unwrap(), std::fs::read(&rr).unwrap());
    // And evaluate shows both rows with their throughput.
    evaluate_reranked(&ver, &t.path().join("eval"));
}

#[test]
fn a_text_reading_verifier_trains_and_reranks_through_inference() {
    let t = tempfile::tempdir().unwrap();
    let ver = train_tiny_verifier(
        t.path(),
        "tiny-text-verifier",
        &[
            "--set",
            "verify.max_positions=200",
            "--set",
            "data.item_text=true",
        ],
    );
    let mut ck = genrec::artifact::checkpoint::load(&ver, tch::Device::Cpu).unwrap();
    assert!(ck.meta.prompt().item_text);
    let w = &ck.vs.variables()["genrec_text_proj"];
    assert!(
        w.abs().sum(tch::Kind::Float).double_value(&[]) > 0.0,
        "the verifier learned to use the text"
    );
    let index = genrec::semantic_id::store::Index::load(&data().join("index")).unwrap();
    genrec::decode::generator::attach_item_text(&mut ck.model, &ck.meta.prompt(), data(), &index)
        .unwrap();
    let toks = index.ids.item_tokens(&index.vocab);
    let v = genrec::verify::Verifier {
        model: &ck.model,
        vocab: &ck.vocab,
        item_tokens: &toks,
        prompt: ck.meta.prompt(),
    };
    // Each pair's candidate text follows it through the shared encoder pass.
    let h = [3u32, 7, 11];
    shared_pass_matches_one_at_a_time(&v, &[(&h, 10), (&h, 20), (&h, 30), (&h, 40)]);
    // evaluate loads it with its item text attached, and reranks.
    evaluate_reranked(&ver, &t.path().join("eval"));
}

/// The verifier that reads raw item text (`verify.reader = "text"`, a
/// MiniLM cross-encoder, here with the comparing head): it trains on the
/// mined lists, keeps its frozen
/// layers as the encoder's and moves the others, saves a BERT that loads as
/// one (with its head and tokenizer beside it), refuses `--resume`, and
/// `evaluate --rerank` loads it and reranks.
#[test]
fn a_verifier_reading_raw_text_trains_saves_and_reranks() {
    let t = tempfile::tempdir().unwrap();
    let reader = [
        "--set",
        "verify.reader=\"text\"",
        "--set",
        "verify.objective=\"lists\"",
        "--set",
        "verify.max_positions=100",
        "--set",
        "verify.text_budget=24",
        "--set",
        "verify.text_frozen_layers=5",
        "--set",
        "verify.text_head=\"compare\"",
    ];
    let (ver, log) = train_tiny_verifier_logged(t.path(), "tiny-text-reader", &reader);
    assert!(
        log.contains("1682 item texts read once through the embeddings and 5 frozen layers"),
        "{log}"
    );
    let best = genrec::artifact::checkpoint::resolve(&ver).unwrap();
    for f in [
        "config.json",
        "model.safetensors",
        "head.safetensors",
        "tokenizer.json",
    ] {
        assert!(best.join(f).exists(), "{f} missing in {}", best.display());
    }
    let encoder = root().join("checkpoints/encoders/all-MiniLM-L6-v2/model.safetensors");
    let enc = genrec::util::st::StFile::read(&encoder).unwrap();
    let saved = genrec::util::st::StFile::read(&best.join("model.safetensors")).unwrap();
    let same = |name: &str| {
        let (a, b) = (
            enc.get(&encoder, name).unwrap(),
            saved.get(&best, name).unwrap(),
        );
        a.equal(b)
    };
    assert!(same("embeddings.word_embeddings.weight"));
    assert!(same("encoder.layer.4.output.dense.weight"));
    assert!(
        !same("encoder.layer.5.output.dense.weight"),
        "the top layer trained"
    );
    let generator = format!("verify.generator=\"{}\"", tiny_checkpoint().display());
    let resume = [
        "--task",
        "verify",
        "--name",
        "tiny-text-reader",
        "--resume",
        "--set",
        &generator,
    ];
    let o = run_tiny(t.path(), &[&resume[..], &reader].concat());
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("not resumable"));
    evaluate_reranked(&ver, &t.path().join("eval"));
}

#[test]
fn summed_item_input_trains_and_needs_long_enough_histories() {
    let t = tempfile::tempdir().unwrap();
    let o = run_tiny(
        t.path(),
        &[
            "--max-steps",
            "30",
            "--set",
            "data.item_input=\"summed\"",
            "--set",
            "data.max_history=40",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = t.path().join("tiny");
    let log = std::fs::read_to_string(run.join("metrics.jsonl")).unwrap();
    let losses: Vec<f64> = log
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok()?["loss"].as_f64())
        .collect();
    assert!(
        losses.last().unwrap() < &(losses[0] * 0.8),
        "loss must fall: {losses:?}"
    );
    let ck = genrec::artifact::checkpoint::load(&run, tch::Device::Cpu).unwrap();
    assert_eq!(
        ck.meta.prompt().item_input,
        genrec::prompt::ItemInput::Summed
    );
    let out = t.path().join("eval");
    let s = ok(&[
        "evaluate",
        "--checkpoint",
        run.to_str().unwrap(),
        "--no-baselines",
        "--bootstrap",
        "10",
        "--threads",
        "1",
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(s.contains("| genrec | 943 |"), "{s}");
    // Held-out histories cut shorter than the model reads are refused, by name.
    let short = t.path().join("short");
    ok(&[
        "prepare",
        "data/ml-100k",
        "--out",
        short.to_str().unwrap(),
        "--max-history",
        "3",
    ]);
    let o = run_tiny(
        t.path(),
        &[
            "--name",
            "short",
            "--set",
            &format!("data.dataset=\"{}\"", short.display()),
        ],
    );
    assert!(!o.status.success());
    let e = String::from_utf8_lossy(&o.stderr);
    assert!(
        e.contains("dataset.json") && e.contains("--max-history 3") && e.contains("reads 5 items"),
        "{e}"
    );
    let o = genrec(&[
        "evaluate",
        "--checkpoint",
        run.to_str().unwrap(),
        "--dataset",
        short.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("reads 40 items"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn history_match_bias_learns_no_repeats_and_decodes_as_trained() {
    let t = tempfile::tempdir().unwrap();
    let o = run_tiny(
        t.path(),
        &["--max-steps", "40", "--set", "data.match_history=30"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = t.path().join("tiny");
    let ck = genrec::artifact::checkpoint::load(&run, tch::Device::Cpu).unwrap();
    let w = ck
        .model
        .history_match_weights()
        .expect("the generator has history-match weights");
    let levels = ck.vocab.id_len();
    assert_eq!(w.len(), levels * 2);
    // ML-100K users never rate a movie twice: completing a seen item's ID is
    // learned to be unlikely (the weights start at 0). With the default index
    // (collisions reassigned) the L codes already name one item, so that is
    // the last code level; the digit level never matches and stays at 0.
    let at = |k: usize| w[k * 2] + w[k * 2 + 1] * 2f32.ln();
    assert!(at(levels - 2) < -0.1, "weights {w:?}");
    assert_eq!(
        (w[(levels - 1) * 2], w[(levels - 1) * 2 + 1]),
        (0.0, 0.0),
        "weights {w:?}"
    );
    // The beam search scores an item exactly as teacher forcing does.
    let index = genrec::semantic_id::store::Index::load(&data().join("index")).unwrap();
    let toks = index.ids.item_tokens(&ck.vocab);
    let trie = index.ids.trie(&ck.vocab, None).unwrap();
    let p = ck.meta.prompt();
    let ds = genrec::data::Dataset::load(data()).unwrap();
    let gen = genrec::decode::generator::Generator::beam(&ck.model, &ck.vocab, &toks, &trie, p, 10);
    let _g = tch::no_grad_guard();
    for h in ds.test.iter().take(3) {
        let hits = gen
            .generate(
                &[genrec::decode::generator::Query {
                    user: &h.user,
                    history: &h.history,
                }],
                10,
            )
            .remove(0);
        let cases: Vec<(&str, &[u32], u32)> = hits
            .iter()
            .map(|x| (h.user.as_str(), h.history.as_slice(), x.item))
            .collect();
        let b = genrec::batch::batch_of(&ck.vocab, &toks, &cases, &p, tch::Device::Cpu);
        let lp = genrec::batch::target_logprobs(&ck.model, &b);
        let lp: Vec<f32> = Vec::try_from(lp).unwrap();
        for (x, l) in hits.iter().zip(lp) {
            assert!(
                (x.score - l).abs() < 1e-4,
                "item {}: beam {} vs teacher-forced {l}",
                x.item,
                x.score
            );
        }
    }
}

#[test]
fn restart_if_changed_keeps_a_finished_run_and_moves_a_changed_one_aside() {
    let t = tempfile::tempdir().unwrap();
    let auto = ["--max-steps", "10", "--resume", "--restart-if-changed"];
    // No run yet: trains.
    let o = run_tiny(t.path(), &auto);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let first = final_weights(t.path());
    // Same configuration: the finished run is kept as it is.
    let o = run_tiny(t.path(), &auto);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(final_weights(t.path()) == first);
    assert_eq!(std::fs::read_dir(t.path()).unwrap().count(), 1);
    // Another configuration: plain --resume refuses, naming why ...
    let o = run_tiny(
        t.path(),
        &["--max-steps", "10", "--resume", "--set", "optim.lr=0.02"],
    );
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("another configuration"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // ... and --restart-if-changed moves the old run aside and trains afresh.
    let mut changed = auto.to_vec();
    changed.extend(["--set", "optim.lr=0.02"]);
    let o = run_tiny(t.path(), &changed);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stderr).contains("training afresh"));
    assert!(final_weights(t.path()) != first);
    let aside: Vec<_> = std::fs::read_dir(t.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("tiny.replaced-"))
        .collect();
    assert_eq!(aside.len(), 1);
    let run = t.path().join(&aside[0]);
    let latest = std::fs::read_to_string(run.join("latest")).unwrap();
    assert_eq!(
        std::fs::read(run.join(latest.trim()).join("model.safetensors")).unwrap(),
        first.0,
        "the old run is kept whole"
    );
    // Each run keeps its log: the old one its first four commands' headers,
    // the new one starts with the command that moved the old one aside.
    let headers = |dir: &Path| -> usize {
        let log = std::fs::read_to_string(dir.join("train.log")).unwrap();
        log.lines().filter(|l| l.starts_with("== ")).count()
    };
    assert_eq!(headers(&run), 4);
    let log = std::fs::read_to_string(t.path().join("tiny/train.log")).unwrap();
    assert!(
        log.starts_with("== ") && log.contains("optim.lr=0.02"),
        "{log}"
    );
    assert_eq!(headers(&t.path().join("tiny")), 1, "{log}");
    assert!(
        log.contains("moved it to") && log.contains("step 10"),
        "{log}"
    );
}

#[test]
fn catalogue_items_without_interactions_get_ids_and_can_be_recommended() {
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    // 40 users over items i0..i19; i20 and i21 are in the catalogue only;
    // 6 more users with 1 or 2 items: context users, trained on, not held out.
    let sequences: Vec<Vec<String>> = (0..46)
        .map(|u| {
            let n = if u < 40 { 5 } else { 1 + u % 2 };
            (0..n)
                .map(|p| format!("i{}", (u * 3 + p * 7) % 20))
                .collect()
        })
        .collect();
    let mut inter = String::new();
    for (u, seq) in sequences.iter().enumerate() {
        for (p, item) in seq.iter().enumerate() {
            inter.push_str(&format!(
                "{{\"user\": \"u{u}\", \"item\": \"{item}\", \"timestamp\": {p}}}\n"
            ));
        }
    }
    let mut items = String::new();
    for i in 0..22 {
        items.push_str(&format!(
            "{{\"item\": \"i{i}\", \"title\": \"product number {i}\", \"brand\": \"brand {}\"}}\n",
            i % 3
        ));
    }
    std::fs::write(dir.join("inter.jsonl"), inter).unwrap();
    std::fs::write(dir.join("items.jsonl"), items).unwrap();
    let ds = dir.join("ds");
    let d = ds.to_str().unwrap();
    let out = ok(&[
        "prepare",
        dir.join("inter.jsonl").to_str().unwrap(),
        "--items",
        dir.join("items.jsonl").to_str().unwrap(),
        "--out",
        d,
    ]);
    assert!(out.contains("2 of them without interactions"), "{out}");
    assert!(
        out.contains("context        6 users with 1–2 interactions (9 interactions)"),
        "{out}"
    );
    // Run from the user's own directory: the encoder and its tokenizer,
    // named relative to the project, are found in the project's set-up.
    let embed_in_dir = || {
        let o = Command::new(env!("CARGO_BIN_EXE_genrec"))
            .args(["embed", "-d", "ds", "--threads", "1"])
            .current_dir(dir)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8_lossy(&o.stdout).into_owned()
    };
    // Titles beside brands: their names are weighed against the whole texts
    // on validation, and the weight chosen is recorded with the embeddings.
    let log = embed_in_dir();
    assert!(log.contains("embedding the names of 22 items"), "{log}");
    assert!(log.contains("on 40 validation users"), "{log}");
    let emb = genrec::embed::Embeddings::read(&ds.join("embeddings.safetensors")).unwrap();
    let w = emb.source.name_weight.expect("the name's weight recorded");
    assert!(genrec::eval::name_mix::WEIGHTS.contains(&w), "{w}");
    // Embedding again is a no-op while the sequences that chose the weight
    // stand. Prepared again with other sequences (from a gzipped copy of the
    // interactions, the short users dropped), the weight is chosen again, and
    // again once the dataset is back as it was.
    assert!(embed_in_dir().contains("is up to date"));
    let gz = dir.join("inter.jsonl.gz");
    write_gz(&gz, &std::fs::read(dir.join("inter.jsonl")).unwrap());
    let items_path = dir.join("items.jsonl");
    let items_arg = items_path.to_str().unwrap();
    let out = ok(&[
        "prepare",
        gz.to_str().unwrap(),
        "--items",
        items_arg,
        "--out",
        d,
        "--drop-short-users",
    ]);
    assert!(
        out.contains("dropped        6 users with < 3 interactions"),
        "{out}"
    );
    for log in [embed_in_dir(), {
        ok(&[
            "prepare",
            dir.join("inter.jsonl").to_str().unwrap(),
            "--items",
            items_arg,
            "--out",
            d,
        ]);
        embed_in_dir()
    }] {
        assert!(
            !log.contains("up to date") && log.contains("on 40 validation users"),
            "{log}"
        );
    }
    let again = genrec::embed::Embeddings::read(&ds.join("embeddings.safetensors")).unwrap();
    assert_eq!(
        again.source.name_weight,
        Some(w),
        "the same split chooses the same weight"
    );
    ok(&["index", "-d", d, "--codebook-size", "4"]);
    let summary: serde_json::Value =
        serde_json::from_slice(&std::fs::read(ds.join("index/index.json")).unwrap()).unwrap();
    assert_eq!(summary["items"], 22, "the unused items have semantic IDs");
    let runs = dir.join("runs");
    let o = genrec(&[
        "train",
        "-c",
        "train/tiny.toml",
        "--set",
        &format!("data.dataset=\"{d}\""),
        "--set",
        &format!("data.index=\"{d}/index\""),
        "--set",
        &format!("run.checkpoints=\"{}\"", runs.display()),
        "--max-steps",
        "5",
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(
        log.contains("46 users (6 context users among them)"),
        "{log}"
    );
    std::fs::write(dir.join("allow.txt"), "i20\ni21\n").unwrap();
    let recs = dir.join("recs.jsonl");
    ok(&[
        "recommend",
        "--checkpoint",
        runs.join("tiny").to_str().unwrap(),
        "--split",
        "test",
        "--allow",
        dir.join("allow.txt").to_str().unwrap(),
        "--top-k",
        "2",
        "--output",
        recs.to_str().unwrap(),
        "--threads",
        "1",
    ]);
    let rows = jsonl(&recs);
    assert_eq!(rows.len(), 40);
    for r in rows {
        let mut got: Vec<&str> = r["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        got.sort_unstable();
        assert_eq!(got, ["i20", "i21"], "{r}");
    }

    // Every user after all their interactions, the context users last: the
    // lists `--input` gives for each one's whole sequence.
    let ck = runs.join("tiny");
    let (all, given) = (dir.join("all.jsonl"), dir.join("given.jsonl"));
    let mut lines = String::new();
    for (u, items) in sequences.iter().enumerate() {
        lines.push_str(&format!(
            "{}\n",
            serde_json::json!({"user": format!("u{u}"), "items": items})
        ));
    }
    let input = dir.join("input.jsonl");
    std::fs::write(&input, lines).unwrap();
    let sources = [
        (vec!["--all-users"], &all),
        (vec!["--input", input.to_str().unwrap()], &given),
    ];
    for (src, out) in sources {
        let mut args = vec!["recommend", "--checkpoint", ck.to_str().unwrap()];
        args.extend(src);
        args.extend(["--top-k", "3", "--threads", "1"]);
        args.extend(["--output", out.to_str().unwrap()]);
        ok(&args);
    }
    let (all, given) = (jsonl(&all), jsonl(&given));
    assert_eq!(all.len(), 46);
    assert_eq!(
        (&all[40]["user"], &all[45]["user"]),
        (&"u40".into(), &"u45".into())
    );
    for (a, g) in all.iter().zip(&given) {
        assert_eq!((&a["user"], &a["items"]), (&g["user"], &g["items"]));
    }

    // New products in the catalogue's own shape, here a gzipped CSV: their
    // texts made as `prepare` made the others' (the name first, then the
    // brand), their names mixed in as `embed` mixed the catalogue's.
    let new = dir.join("new.csv.gz");
    write_gz(&new, b"brand,item,title\nbrand 9,n1,product number 99\n");
    let out = ok(&["index", "-d", d, "--add", new.to_str().unwrap()]);
    assert!(out.contains("added 1 items"), "{out}");
    let added = genrec::semantic_id::store::Index::load(&ds.join("index"))
        .unwrap()
        .added;
    assert_eq!(added[0].original_id, "n1");
    assert_eq!(added[0].text, "product number 99 | brand 9");
    assert_eq!(added[0].name.as_deref(), Some("product number 99"));
    // An item's own text in HTML is read as the catalogue's was, and the
    // note counts it.
    let own = dir.join("own.jsonl");
    std::fs::write(
        &own,
        b"{\"item\": \"n2\", \"text\": \"<p>Gift &amp; card</p>\"}\n{\"item\": \"n3\", \"text\": \"plain card\"}\n",
    )
    .unwrap();
    let o = genrec(&["index", "-d", d, "--add", own.to_str().unwrap()]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("1 item texts held HTML") && err.contains("(the first: item n2)"),
        "{err}"
    );
    let added = genrec::semantic_id::store::Index::load(&ds.join("index"))
        .unwrap()
        .added;
    assert_eq!(added[1].text, "Gift & card");
    assert_eq!(added[2].text, "plain card");
}

#[test]
fn resume_with_nothing_to_resume_starts_afresh_and_logs_plain_lines() {
    let t = tempfile::tempdir().unwrap();
    // Stderr is a pipe here, as under nohup or a scheduler: plain lines, no bar.
    let o = run_tiny(t.path(), &["--resume"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("no checkpoint in") && err.contains("starting afresh"),
        "{err}"
    );
    // One line per logging step (log_every = 5) with the loss, and one per validation.
    for step in ["training 5/20", "training 10/20", "training 20/20"] {
        assert!(err.contains(step), "no progress line `{step}` in:\n{err}");
    }
    assert!(err.contains("| loss ") && err.contains(" eta "), "{err}");
    assert!(err.contains("step 10: validation ndcg@10"), "{err}");
    assert!(err.contains("step 20: validation ndcg@10"), "{err}");
    assert!(!err.contains('\r'), "no terminal redraws in a log");
    // The same command again continues the finished run (nothing left to do).
    let o = run_tiny(t.path(), &["--resume"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("nothing to do"));
}

#[test]
fn sasrec_trains_once_and_is_cached() {
    let d = data().to_str().unwrap().to_string();
    let _ = std::fs::remove_dir_all(data().join("baselines"));
    let first = ok(&["baseline", "-d", &d, "--max-epochs", "1", "--threads", "2"]);
    assert!(
        first.contains("best validation NDCG@10") && first.contains("test  Recall@10"),
        "{first}"
    );
    let cached: Vec<_> = std::fs::read_dir(data().join("baselines"))
        .unwrap()
        .collect();
    assert_eq!(cached.len(), 1);
    // The second call loads the cached model: the same figures, and the same
    // recorded training time (a retrained model would have its own).
    let second = ok(&["baseline", "-d", &d, "--max-epochs", "1", "--threads", "2"]);
    assert_eq!(first, second);
    // Another schedule is another cache entry.
    ok(&[
        "baseline",
        "-d",
        &d,
        "--max-epochs",
        "1",
        "--batch-targets",
        "64",
        "--threads",
        "2",
    ]);
    assert_eq!(
        std::fs::read_dir(data().join("baselines")).unwrap().count(),
        2
    );
}

/// `genrec train -d ds` into the checkpoints directory `ck`: 5 steps, one
/// thread, with `extra`.
fn train_d(ds: &Path, ck: &Path, extra: &[&str]) -> Output {
    let sets = format!("run.checkpoints=\"{}\"", ck.display());
    let mut args = vec![
        "train",
        "-d",
        ds.to_str().unwrap(),
        "--set",
        &sets,
        "--max-steps",
        "5",
        "--eval-every",
        "5",
        "--threads",
        "1",
    ];
    args.extend_from_slice(extra);
    genrec(&args)
}

#[test]
fn train_without_a_config_file_picks_one_from_the_dataset() {
    let t = tempfile::tempdir().unwrap();
    // The verifier alone looks for its generator where `--set
    // run.checkpoints` put it, as `train -d`'s second part does.
    let o = train_d(data(), t.path(), &["--task", "verify"]);
    let over = t.path().join("ml-100k");
    fails_naming(&o, &[&format!("over {}", over.display()), "train it first"]);
    fails_naming(
        &train_d(data(), t.path(), &["--set", "run.task=\"verify\""]),
        &["--task"],
    );
    let o = train_d(data(), t.path(), &["--task", "generate"]);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(
        err.contains("no --config") && err.contains("d_model 64"),
        "{err}"
    );
    // --task generate: the generator alone, no verifier linked to it.
    assert!(err.contains("not now: --task generate"), "{err}");
    assert!(!t.path().join("ml-100k/verifier").exists());
    let toml = std::fs::read_to_string(t.path().join("ml-100k/train.toml")).unwrap();
    assert!(
        toml.contains("d_model = 64") && toml.contains("match_history = 50"),
        "{toml}"
    );
    // Neither a config nor a dataset: a clear error.
    let o = genrec(&["train"]);
    assert!(!o.status.success());
}

#[test]
fn item_text_is_learned_and_must_be_the_index_s_embeddings() {
    let t = tempfile::tempdir().unwrap();
    let o = run_tiny(
        t.path(),
        &["--max-steps", "30", "--set", "data.item_text=true"],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let run = t.path().join("tiny");
    let ck = genrec::artifact::checkpoint::load(&run, tch::Device::Cpu).unwrap();
    assert!(ck.meta.prompt().item_text);
    assert_eq!(ck.model.config.genrec_text_dim, Some(384));
    // The projection starts at zero; training moved it.
    let w = &ck.vs.variables()["genrec_text_proj"];
    assert!(w.abs().sum(tch::Kind::Float).double_value(&[]) > 0.0);
    let out = t.path().join("eval");
    let eval = |dataset: &Path| {
        genrec(&[
            "evaluate",
            "--checkpoint",
            run.to_str().unwrap(),
            "--dataset",
            dataset.to_str().unwrap(),
            "--index",
            data().join("index").to_str().unwrap(),
            "--no-baselines",
            "--bootstrap",
            "10",
            "--threads",
            "1",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let o = eval(data());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("| genrec | 943 |"));
    // Other embeddings beside the same dataset: refused, naming the file.
    let copy = t.path().join("ds");
    std::fs::create_dir_all(&copy).unwrap();
    for f in [
        "dataset.json",
        "items.jsonl",
        "sequences.jsonl",
        "train.jsonl",
        "valid.jsonl",
        "test.jsonl",
    ] {
        std::fs::copy(data().join(f), copy.join(f)).unwrap();
    }
    let e = genrec::embed::Embeddings::read(&data().join("embeddings.safetensors")).unwrap();
    let other = genrec::embed::default_output(&copy);
    genrec::embed::Embeddings::write(&other, &(&e.matrix * 0.5), &e.source).unwrap();
    fails_naming(
        &eval(&copy),
        &["embeddings.safetensors", "other embeddings"],
    );
}

/// The command failed, and its error says each of `words`.
fn fails_naming(o: &Output, words: &[&str]) {
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(words.iter().all(|w| err.contains(w)), "{err}");
}

#[test]
fn training_chooses_a_text_fusion_on_validation_and_recommend_applies_it() {
    use genrec::eval::{FusionChoice, RankFusion};
    let ck = tiny_checkpoint();
    let best = genrec::artifact::checkpoint::load(ck, tch::Device::Cpu).unwrap();
    let c = FusionChoice::from_extra(&best.meta.extra).expect("training stored a choice");
    assert_eq!(c.valid_users, 943);
    assert_eq!(c.sweep.len(), RankFusion::grid().len());
    assert_eq!(
        c.sweep[0].0.weight, 1.0,
        "the generator alone is tried first"
    );
    // Used only when validation says so, paired: lower end above zero.
    assert_eq!(c.uses_text(), c.valid_gain.lo > 0.0);

    // A copy whose stored choice is the text neighbours alone (weight 0):
    // recommend then lists each user's nearest items to their last item.
    let t = tempfile::tempdir().unwrap();
    let run = t.path().join("tiny");
    std::fs::create_dir_all(&run).unwrap();
    let dir = run.join("step-0000020");
    std::fs::create_dir_all(&dir).unwrap();
    for e in std::fs::read_dir(&best.dir).unwrap() {
        let e = e.unwrap();
        std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
    }
    std::fs::write(run.join("best"), "step-0000020").unwrap();
    let meta_path = dir.join("genrec.json");
    let mut meta: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&meta_path).unwrap()).unwrap();
    meta["extra"][FusionChoice::KEY]["fusion"] = serde_json::json!({"weight": 0.0, "k": 60.0});
    std::fs::write(&meta_path, serde_json::to_string_pretty(&meta).unwrap()).unwrap();
    let recs = t.path().join("recs.jsonl");
    let rec = |extra: &[&str]| recommend_test_split(&run, &recs, extra);
    let o = rec(&[]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let ds = genrec::data::Dataset::load(data()).unwrap();
    let held = ds.held_out(genrec::data::Split::Test);
    let mut nn = genrec::eval::TextNeighbours::read(data()).unwrap();
    let seen = vec![std::collections::HashSet::new(); held.len()];
    let knn = genrec::eval::text_knn(
        &mut nn,
        held,
        &seen,
        &genrec::eval::Protocol::default(),
        genrec::eval::TextQuery::LAST,
        genrec::eval::FUSION_DEPTH,
    )
    .unwrap();
    let got = jsonl(&recs);
    assert_eq!(got.len(), held.len());
    for (r, k) in got.iter().zip(&knn) {
        let want: Vec<&str> = k[..10]
            .iter()
            .map(|&i| ds.items[i as usize].original_id.as_str())
            .collect();
        assert_eq!(r["items"], serde_json::json!(want));
    }
    // --no-text-fusion: the generator's own lists (scores are log-probabilities).
    let o = rec(&["--no-text-fusion"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let own = jsonl(&recs);
    assert!(own.iter().zip(&got).any(|(a, b)| a["items"] != b["items"]));
    assert!(own[0]["scores"][0].as_f64().unwrap() <= 0.0);
    // evaluate pairs recommend's default with the rivals too: against text-kNN
    // of the last item (the same lists here) every difference is exactly 0.
    let out = t.path().join("eval");
    ok(&[
        "evaluate",
        "--checkpoint",
        run.to_str().unwrap(),
        "--baselines",
        "pop,knn",
        "--out",
        out.to_str().unwrap(),
    ]);
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("results-test.json")).unwrap())
            .unwrap();
    let rows = report["results"].as_array().unwrap();
    let default_row = rows
        .iter()
        .find(|r| {
            r["method"]
                .as_str()
                .unwrap()
                .contains("recommend's default")
        })
        .expect("a row for the stored fusion");
    let refs: Vec<&str> = default_row["paired"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["reference"].as_str().unwrap())
        .collect();
    assert_eq!(
        refs,
        ["genrec", "text-kNN (last item)"],
        "most-popular is no rival"
    );
    let vs_knn = &default_row["paired"][1]["difference"];
    for (metric, e) in vs_knn.as_object().unwrap() {
        for end in ["mean", "lo", "hi"] {
            assert_eq!(e[end].as_f64(), Some(0.0), "{metric} {end}");
        }
    }
    // The stored choice names its embeddings: others are refused.
    meta["extra"][FusionChoice::KEY]["embeddings_sha256"] = serde_json::json!("0".repeat(64));
    std::fs::write(&meta_path, serde_json::to_string_pretty(&meta).unwrap()).unwrap();
    fails_naming(&rec(&[]), &["embeddings.safetensors", "--no-text-fusion"]);
}

#[test]
fn collaborative_vectors_join_the_index_and_the_generator_still_reads_text() {
    use genrec::semantic_id::store::Index;
    let t = tempfile::tempdir().unwrap();
    let d = data().to_str().unwrap();
    let build = |out: &Path| {
        ok(&[
            "index",
            "-d",
            d,
            "--collab-weight",
            "1",
            "--collab-dim",
            "16",
            "--out",
            out.to_str().unwrap(),
        ])
    };
    let (a, b) = (t.path().join("a"), t.path().join("b"));
    build(&a);
    build(&b);
    let ia = Index::load(&a).unwrap();
    assert_eq!((ia.summary.dim, ia.summary.text_dim()), (384 + 16, 384));
    assert_eq!(ia.summary.params.collab_weight, 1.0);
    assert_eq!(
        ia.summary.codes_sha256,
        Index::load(&b).unwrap().summary.codes_sha256,
        "same seed, same IDs"
    );
    let text_only = t.path().join("text");
    ok(&[
        "index",
        "-d",
        d,
        "--collab-weight",
        "0",
        "--out",
        text_only.to_str().unwrap(),
    ]);
    let it = Index::load(&text_only).unwrap();
    assert_eq!(it.summary.dim, 384);
    assert_ne!(
        ia.summary.codes_sha256, it.summary.codes_sha256,
        "the collaborative vectors moved items"
    );
    // The generator reads the text embeddings (384 wide), not the clustered vectors.
    let o = run_tiny(
        t.path(),
        &[
            "--max-steps",
            "10",
            "--set",
            "data.item_text=true",
            "--set",
            &format!("data.index=\"{}\"", a.display()),
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // Cold start: a new item has no interactions, so no collaborative part.
    let add = t.path().join("new.jsonl");
    // A row of the `{"item", "text"}` form, and one shaped like ML-100K's item
    // file, its text made by the dataset's template as `prepare` made the others'.
    std::fs::write(
        &add,
        "{\"item\": \"new-1\", \"text\": \"A new film (1999) | Drama\"}\n{\"item_id\": \"new-2\", \"movie_title\": \"Another film\", \"release_year\": 2001, \"class\": \"Comedy\"}\n",
    )
    .unwrap();
    ok(&[
        "index",
        "-d",
        d,
        "--out",
        a.to_str().unwrap(),
        "--add",
        add.to_str().unwrap(),
    ]);
    let added = Index::load(&a).unwrap().added;
    let texts: Vec<(&str, &str)> = added
        .iter()
        .map(|i| (i.original_id.as_str(), i.text.as_str()))
        .collect();
    assert_eq!(
        texts,
        [
            ("new-1", "A new film (1999) | Drama"),
            ("new-2", "Another film (2001) | Comedy")
        ]
    );
}

#[test]
fn a_list_trained_verifier_takes_each_position_as_one_example() {
    let t = tempfile::tempdir().unwrap();
    let ver = train_tiny_verifier(
        t.path(),
        "tiny-list-verifier",
        &[
            "--set",
            "verify.objective=\"lists\"",
            "--set",
            "verify.max_positions=100",
            "--set",
            "verify.hard_negatives=3",
            "--set",
            "verify.random_negatives=2",
            "--set",
            "optim.batch_size=8",
        ],
    );
    let ck = genrec::artifact::checkpoint::load(&ver, tch::Device::Cpu).unwrap();
    assert_eq!(
        ck.meta.train.verify.objective,
        genrec::config::VerifyObjective::Lists
    );
    // 100 lists of 6 pairs, 8 lists a step: the second epoch starts at step
    // 14 (as pairs, 600 examples would last 75 steps).
    let log = std::fs::read_to_string(ver.join("metrics.jsonl")).unwrap();
    let epoch_at = |step: u64| {
        log.lines()
            .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
            .find(|v| v["step"] == step && v["epoch"].is_u64())
            .map(|v| v["epoch"].as_u64().unwrap())
    };
    assert_eq!(epoch_at(10), Some(0), "{log}");
    assert_eq!(epoch_at(20), Some(1), "{log}");
    evaluate_reranked(&ver, &t.path().join("eval"));
}

#[test]
fn a_verifier_mined_by_a_held_out_generator_trains_on_the_positions_it_held_out_and_hit() {
    let t = tempfile::tempdir().unwrap();
    let o = run_tiny(
        t.path(),
        &[
            "--name",
            "tiny-miner",
            "--max-steps",
            "10",
            "--set",
            "data.hold_out_last=2",
        ],
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let miner = t.path().join("tiny-miner");
    // A generator that trained on every position cannot mine out of sample.
    let o = run_tiny(
        t.path(),
        &[
            "--task",
            "verify",
            "--name",
            "refused",
            "--set",
            &format!("verify.generator=\"{}\"", tiny_checkpoint().display()),
            "--set",
            &format!("verify.miner=\"{}\"", tiny_checkpoint().display()),
        ],
    );
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        !o.status.success() && err.contains("data.hold_out_last is 0"),
        "{err}"
    );
    let min = format!("verify.miner=\"{}\"", miner.display());
    let (ver, err) = train_tiny_verifier_logged(
        t.path(),
        "tiny-heldout-verifier",
        &[
            "--set",
            &min,
            "--set",
            "verify.objective=\"lists\"",
            "--set",
            "verify.max_positions=0",
            "--set",
            "verify.hits_only=true",
        ],
    );
    // Every held-out position and no other (two per user, at most half of a user's).
    let ds = genrec::data::Dataset::load(data()).unwrap();
    let held = genrec::trainer::split_examples(&ds.train, 2).1.len();
    assert!(held > ds.train.len() && held <= 2 * ds.train.len());
    let line = format!(
        "verifier: {held} training positions, hard negatives from {}",
        miner.display()
    );
    assert!(err.contains(&line), "{line} not in: {err}");
    // verify.hits_only keeps the positions whose target the miner's top 10 holds.
    let kept: usize = err
        .lines()
        .find_map(|l| {
            l.strip_prefix("verifier: ")?
                .strip_suffix(&format!(
                    " of {held} positions have their target among the top 10 (verify.hits_only)"
                ))?
                .parse()
                .ok()
        })
        .unwrap_or_else(|| panic!("no hits_only line in: {err}"));
    assert!(kept > 0 && kept < held, "{kept} of {held}");
    let card = genrec::artifact::checkpoint::load(&ver, tch::Device::Cpu).unwrap();
    assert_eq!(
        card.meta.train.verify.miner.as_deref(),
        Some(miner.as_path())
    );
}

/// A copy of the prepared ML-100K (same content, so the tiny generator's
/// checks pass) whose `baselines/` cache is this test's own.
fn private_dataset_copy(root: &Path) -> PathBuf {
    let dest = root.join("ml-100k");
    let copy = |from: &Path, to: &Path| {
        std::fs::create_dir_all(to).unwrap();
        for e in std::fs::read_dir(from).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
            }
        }
    };
    copy(data(), &dest);
    copy(&data().join("index"), &dest.join("index"));
    dest
}

#[test]
fn a_verifier_reading_the_sequence_is_sasrec_and_reranks() {
    let t = tempfile::tempdir().unwrap();
    let ds = private_dataset_copy(t.path());
    let (dataset, index) = (
        format!("data.dataset=\"{}\"", ds.display()),
        format!("data.index=\"{}/index\"", ds.display()),
    );
    let reader = [
        "--set",
        "verify.reader=\"sequence\"",
        "--set",
        "verify.sequence_max_epochs=1",
        "--set",
        &dataset,
        "--set",
        &index,
    ];
    let (ver, _) = train_tiny_verifier_logged(t.path(), "tiny-seq", &reader);
    let best = genrec::artifact::checkpoint::resolve(&ver).unwrap();
    for f in ["model.safetensors", "sasrec.json", "genrec.json"] {
        assert!(best.join(f).exists(), "{f} missing in {}", best.display());
    }
    // The SASRec it is, the harness's cached baseline with the run's seed:
    // one cache entry, with the very weights of the checkpoint.
    let cached: Vec<PathBuf> = std::fs::read_dir(ds.join("baselines"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert_eq!(cached.len(), 1, "{cached:?}");
    assert_eq!(
        std::fs::read(cached[0].join("model.safetensors")).unwrap(),
        std::fs::read(best.join("model.safetensors")).unwrap()
    );
    let card = genrec::artifact::checkpoint::load_meta(&best).unwrap();
    for k in ["auc", "auc_hard", "auc_random", "ndcg@10"] {
        assert!(card.valid.contains_key(k), "{k} missing: {:?}", card.valid);
    }
    // A second run takes SASRec from the cache, to the same answers.
    let (again, log) = train_tiny_verifier_logged(t.path(), "tiny-seq-again", &reader);
    assert!(!log.contains("training SASRec"), "{log}");
    let again = genrec::artifact::checkpoint::load_meta(
        &genrec::artifact::checkpoint::resolve(&again).unwrap(),
    )
    .unwrap();
    assert_eq!(card.valid, again.valid);
    // Item vectors reading the text: trained anew, cached apart, saved as
    // a plain SASRec the verifier opens.
    let text = [&reader[..], &["--set", "verify.sequence_text=true"]].concat();
    let (with_text, log) = train_tiny_verifier_logged(t.path(), "tiny-seq-text", &text);
    assert!(log.contains("training SASRec"), "{log}");
    let entries = std::fs::read_dir(ds.join("baselines")).unwrap().count();
    assert_eq!(entries, 2);
    let text_best = genrec::artifact::checkpoint::resolve(&with_text).unwrap();
    let cached_text = cached_with_text(&ds.join("baselines"));
    assert_eq!(
        std::fs::read(cached_text.join("model.safetensors")).unwrap(),
        std::fs::read(text_best.join("model.safetensors")).unwrap()
    );
    let n = genrec::data::Dataset::load(&ds).unwrap().items.len();
    genrec::verify::sequence::SequenceVerifier::open(&text_best, n, tch::Device::Cpu).unwrap();
    evaluate_reranked(&ver, &t.path().join("eval"));
    the_blend_is_chosen_and_applied(&ds, &best, t.path());
    train_d_trains_and_links_the_verifier(&ds, t.path());
    swapped_sasrec_weights_are_refused(&best, &text_best, &ds, &reader);
}

/// A sequence verifier whose `model.safetensors` is another SASRec's (same
/// shapes: it would load) is refused by reranking, and a SASRec cache entry
/// whose weights were swapped is refused rather than used.
fn swapped_sasrec_weights_are_refused(best: &Path, other: &Path, ds: &Path, reader: &[&str]) {
    let root = ds.parent().unwrap();
    let swapped = root.join("swapped-verifier");
    std::fs::create_dir_all(&swapped).unwrap();
    for e in std::fs::read_dir(best).unwrap() {
        let p = e.unwrap().path();
        std::fs::copy(&p, swapped.join(p.file_name().unwrap())).unwrap();
    }
    let weights = |d: &Path| d.join("model.safetensors");
    std::fs::copy(weights(other), weights(&swapped)).unwrap();
    let o = evaluate_over_tiny(&swapped, &root.join("eval-swapped"));
    fails_naming(
        &o,
        &[
            "swapped-verifier",
            "model.safetensors",
            "changed or replaced",
        ],
    );
    // Every ID-only entry gets the text-reading SASRec's weights.
    let cached = cached_with_text(&ds.join("baselines"));
    for e in std::fs::read_dir(ds.join("baselines")).unwrap() {
        let plain = e.unwrap().path();
        if plain != cached {
            std::fs::copy(weights(&cached), weights(&plain)).unwrap();
        }
    }
    let generator = format!("verify.generator=\"{}\"", tiny_checkpoint().display());
    let args = [
        "--task",
        "verify",
        "--name",
        "seq-swapped",
        "--set",
        &generator,
    ];
    let o = run_tiny(root, &[&args[..], reader].concat());
    fails_naming(
        &o,
        &["baselines", "model.safetensors", "meta.json", "delete"],
    );
}

/// The one SASRec cache entry under `baselines` whose item vectors read
/// text (its record names the embeddings' hash).
fn cached_with_text(baselines: &Path) -> PathBuf {
    let with: Vec<PathBuf> = std::fs::read_dir(baselines)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|d| {
            let meta: serde_json::Value =
                serde_json::from_slice(&std::fs::read(d.join("meta.json")).unwrap()).unwrap();
            meta["text_sha256"].is_string()
        })
        .collect();
    assert_eq!(with.len(), 1, "{with:?}");
    with[0].clone()
}

/// `genrec train -d` without `--task` trains the generator, then the
/// sequence verifier over it (SASRec from the dataset's cache), and links
/// the two: `evaluate` and `recommend` rerank with it unless `--no-rerank`.
/// A re-run keeps it; a verifier trained over other weights is not used, and
/// the next `train -d --resume` trains it again.
fn train_d_trains_and_links_the_verifier(ds: &Path, root: &Path) {
    use genrec::artifact::checkpoint;
    let ck = root.join("ck");
    let train = |extra: &[&str]| -> String {
        // The seed and epochs of the cached SASRec (train/tiny.toml's seed).
        let cached = [
            "--set",
            "run.seed=7",
            "--set",
            "verify.sequence_max_epochs=1",
        ];
        let o = train_d(ds, &ck, &[&cached[..], extra].concat());
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert!(o.status.success(), "{err}");
        assert!(err.contains("linked:"), "{err}");
        assert!(!err.contains("training SASRec"), "SASRec is cached: {err}");
        err
    };
    train(&[]);
    let (gen, ver) = (ck.join("ml-100k"), ck.join("ml-100k-verifier"));
    let gen_best = checkpoint::resolve(&gen).unwrap();
    assert_eq!(checkpoint::linked_verifier(&gen_best), Some(ver.clone()));
    // `cmd` on the generator, one thread, its output to `root/name`.
    let on_generator = |cmd: &str, name: &str, extra: &[&str]| -> (Output, PathBuf) {
        let out = root.join(name);
        let out_flag = if cmd == "evaluate" {
            "--out"
        } else {
            "--output"
        };
        let mut args = vec![
            cmd,
            "--checkpoint",
            gen.to_str().unwrap(),
            "--threads",
            "1",
            out_flag,
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        let o = genrec(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        (o, out)
    };
    let evaluate = |name: &str, extra: &[&str]| -> (serde_json::Value, String) {
        let quick = ["--no-baselines", "--bootstrap", "10"];
        let (o, out) = on_generator("evaluate", name, &[&quick[..], extra].concat());
        let r = std::fs::read(out.join("results-test.json")).unwrap();
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        (serde_json::from_slice(&r).unwrap(), err)
    };
    let reranked = |r: &serde_json::Value| {
        r["results"].as_array().unwrap().iter().any(|row| {
            row["method"]
                .as_str()
                .unwrap()
                .starts_with("genrec + verifier")
        })
    };
    let (r, err) = evaluate("linked", &[]);
    assert!(err.contains("reranking with") && reranked(&r), "{err}");
    let card = checkpoint::load_meta(&checkpoint::resolve(&ver).unwrap()).unwrap();
    let used = genrec::eval::BlendChoice::from_extra(&card.extra).is_some_and(|b| b.used);
    let default = r["recommend_default"].as_str().unwrap();
    let want = if used {
        "genrec ⊕ text ⊕ verifier"
    } else {
        "genrec + verifier"
    };
    assert!(default.starts_with(want), "{default}");
    // recommend, told nothing, gives the linked verifier's lists.
    let recommend = |name: &str, extra: &[&str]| -> Vec<serde_json::Value> {
        let with_test = [&["--split", "test"][..], extra].concat();
        let (_, out) = on_generator("recommend", name, &with_test);
        jsonl(&out)
            .into_iter()
            .map(|l| l["items"].clone())
            .collect()
    };
    let told = recommend("told.jsonl", &["--rerank", ver.to_str().unwrap()]);
    same_lists(
        &recommend("untold.jsonl", &[]),
        &told,
        "the linked verifier's",
    );
    let (r, _) = evaluate("alone", &["--no-rerank"]);
    assert!(!reranked(&r));
    let default = r["recommend_default"].as_str().unwrap();
    assert!(
        default == "genrec" || default.starts_with("genrec ⊕ text-kNN"),
        "{default}"
    );
    // A second run keeps the verifier.
    assert!(train(&["--resume"]).contains(": kept"));
    // A verifier trained over other generator weights is not used...
    let best = checkpoint::resolve(&ver).unwrap();
    let mut meta = checkpoint::load_meta(&best).unwrap();
    meta.built_from_sha256 = Some("0".repeat(64));
    checkpoint::save_meta(&best, &meta).unwrap();
    let (r, err) = evaluate("stale", &[]);
    assert!(err.contains("not reranking") && !reranked(&r), "{err}");
    // ...and trained again by the next run, the old one kept aside.
    let err = train(&["--resume"]);
    assert!(
        err.contains("other generator weights") && err.contains("moved it to"),
        "{err}"
    );
    assert!(reranked(&evaluate("again", &[]).0));
}

/// The sequence verifier's run chose the four-way blend on validation and
/// stored it; `recommend --rerank` applies a stored blend: weights (0, 0, 1)
/// give SASRec's own lists exactly (`genrec baseline --lists`, same cached
/// model), (1, 0, 0) the generator's; `--no-blend` goes back to λ.
fn the_blend_is_chosen_and_applied(ds: &Path, best: &Path, root: &Path) {
    let card = genrec::artifact::checkpoint::load_meta(best).unwrap();
    let b = genrec::eval::BlendChoice::from_extra(&card.extra).expect("a blend was chosen");
    let valid_users = genrec::data::Dataset::load(ds).unwrap().valid.len();
    assert_eq!(b.valid_users, valid_users.min(20_000));
    assert!((b.blend.weights.iter().sum::<f64>() - 1.0).abs() < 1e-9);
    assert_eq!(b.used, b.valid_gain.lo > 0.0);
    // The pool: the generator's first 20 beams, `verify.blend_depth` items
    // of every other source (the text neighbours reach it on ML-100K).
    assert_eq!(b.beam_depth(), genrec::eval::BLEND_BEAMS);
    assert_eq!(b.depth, genrec::eval::BLEND_DEPTH);
    // The rescoring is tried over a used blend, kept where it gained.
    assert_eq!(b.rescore_gain.is_some(), b.used);
    // The words' sixth list is tried over a kept rescoring, and read (a
    // rescorer of 31 weights) where it gained.
    assert_eq!(b.words_list_gain.is_some(), b.rescorer.is_some());
    let rescore_gain = b.rescore_gain.is_some_and(|g| g.lo > 0.0);
    let words_gain = b.words_list_gain.is_some_and(|g| g.lo > 0.0);
    assert_eq!(b.rescorer.is_some(), rescore_gain);
    assert_eq!(
        b.rescorer.as_ref().is_some_and(|r| r.reads_words_list()),
        words_gain
    );
    // The text adapter was fitted and judged; its file is there only when
    // the blend reads it.
    let adapter = b.text_adapter.clone().expect("the adapter was judged");
    assert_eq!(adapter.used(), adapter.gain.lo > 0.0);
    let adapter_file = best.join(genrec::eval::adapter::ADAPTER_FILE);
    assert_eq!(adapter.used(), adapter_file.exists());
    // The card's choice with these weights (k = 60), the text as it reads
    // and no rescoring.
    let forced =
        |weights: [f64; 5], text_nudge: f64, unseen_only: bool| genrec::eval::BlendChoice {
            blend: genrec::eval::Blend {
                weights,
                k: 60.0,
                text_nudge,
                unseen_only,
            },
            used: true,
            rescorer: None,
            text_adapter: None,
            ..b.clone()
        };
    // Stores `choice` (and `verifier`'s λ: the card's when none) in the card.
    let store = |choice: genrec::eval::BlendChoice,
                 verifier: Option<genrec::artifact::checkpoint::VerifierChoice>| {
        let mut meta = card.clone();
        if let Some(c) = verifier {
            meta.extra = c.to_extra();
        }
        meta.extra[genrec::eval::BlendChoice::KEY] = serde_json::to_value(&choice).unwrap();
        genrec::artifact::checkpoint::save_meta(best, &meta).unwrap();
    };
    let with_rescorer = |weights: [f64; 5], unseen_only: bool, rescorer: Option<Vec<f64>>| {
        store(
            genrec::eval::BlendChoice {
                rescorer: rescorer.map(|weights| genrec::eval::Rescorer { weights }),
                ..forced(weights, 0.0, unseen_only)
            },
            None,
        )
    };
    let with_setting = |weights: [f64; 5], text_nudge: f64, unseen_only: bool| {
        store(forced(weights, text_nudge, unseen_only), None)
    };
    let with_nudge = |weights: [f64; 5], text_nudge: f64| with_setting(weights, text_nudge, false);
    let with = |weights: [f64; 5]| with_nudge(weights, 0.0);
    // The tiny generator's lists for the test users, with `extra` options.
    let recommend = |name: &str, extra: &[&str]| -> Vec<serde_json::Value> {
        let out = root.join(name);
        // The test split, unless the histories are given as --input.
        let split: &[&str] = if extra.contains(&"--input") {
            &[]
        } else {
            &["--split", "test"]
        };
        let mut args = vec![
            "recommend",
            "--checkpoint",
            tiny_checkpoint().to_str().unwrap(),
            "--threads",
            "1",
            "--batch-size",
            "512",
            "--output",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(split);
        args.extend_from_slice(extra);
        ok(&args);
        jsonl(&out)
    };
    let rerank = ["--rerank", best.to_str().unwrap()];
    let items = |v: &[serde_json::Value]| -> Vec<serde_json::Value> {
        v.iter().map(|l| l["items"].clone()).collect()
    };
    // One list's original item ids.
    let original = |l: &serde_json::Value| -> Vec<String> {
        l.as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap().to_owned())
            .collect()
    };
    // SASRec's own top `k` per test user, from the same cache.
    let sasrec_lists = |name: &str, k: &str| -> Vec<serde_json::Value> {
        let dir = root.join(name);
        let base = genrec(&[
            "baseline",
            "-d",
            ds.to_str().unwrap(),
            "--max-epochs",
            "1",
            "--seed",
            "7",
            "--threads",
            "1",
            "--lists",
            dir.to_str().unwrap(),
            "--top-k",
            k,
        ]);
        let err = String::from_utf8_lossy(&base.stderr);
        assert!(base.status.success(), "{err}");
        assert!(!err.contains("training SASRec"), "{err}");
        jsonl(&dir.join("sasrec-test.jsonl"))
    };
    let sasrec = sasrec_lists("sasrec-lists", "10");
    // The transitions alone: the items that most often followed each test
    // user's last three in everything before the test targets (the training
    // sequences and the validation targets); for histories given as
    // `--input`, in all the dataset's interactions (then the other sources'
    // items, of score 0, fill the list).
    with([0.0, 0.0, 0.0, 1.0, 0.0]);
    let d = genrec::data::Dataset::load(ds).unwrap();
    let histories: Vec<&[u32]> = d.test.iter().map(|h| h.history.as_slice()).collect();
    let next_from = |k: Known| {
        genrec::eval::Transitions::count(d.items.len(), &d.known(k))
            .top(&histories, 10, &|_, _| true)
    };
    let next = next_from(Known::Before(Split::Test));
    assert_ne!(next, next_from(Known::Before(Split::Valid)));
    let input = root.join("histories.jsonl");
    let lines: Vec<String> = d
        .test
        .iter()
        .map(|h| {
            let ids: Vec<&str> = h
                .history
                .iter()
                .map(|&i| d.items[i as usize].original_id.as_str())
                .collect();
            serde_json::json!({"user": h.user, "items": ids}).to_string()
        })
        .collect();
    std::fs::write(&input, lines.join("\n")).unwrap();
    let from_input = items(&recommend(
        "ti.jsonl",
        &[&rerank[..], &["--input", input.to_str().unwrap()]].concat(),
    ));
    let from_split = items(&recommend("t.jsonl", &rerank));
    assert!(next.iter().filter(|l| l.len() == 10).count() > d.test.len() / 2);
    for (got, next) in [(from_split, next), (from_input, next_from(Known::All))] {
        for (u, (g, want)) in got.iter().zip(&next).enumerate() {
            let want: Vec<&str> = want
                .iter()
                .map(|&i| d.items[i as usize].original_id.as_str())
                .collect();
            let g = original(g);
            assert_eq!(
                g[..want.len()],
                want[..],
                "user line {u}: the transitions' top"
            );
        }
    }
    // The user's own items alone: each test user's distinct items, latest
    // first; with --exclude-seen none of them.
    with([0.0, 0.0, 0.0, 0.0, 1.0]);
    let latest = genrec::eval::latest_first(&histories, 10, &|_, _| true);
    let got = items(&recommend("h.jsonl", &rerank));
    for (u, (g, want)) in got.iter().zip(&latest).enumerate() {
        let want: Vec<String> = want
            .iter()
            .map(|&i| d.items[i as usize].original_id.clone())
            .collect();
        assert_eq!(
            original(g)[..want.len()],
            want[..],
            "user line {u}: latest first"
        );
    }
    let unseen = items(&recommend(
        "hx.jsonl",
        &[&rerank[..], &["--exclude-seen"]].concat(),
    ));
    for (u, g) in unseen.iter().enumerate() {
        let seen: std::collections::HashSet<&str> = histories[u]
            .iter()
            .map(|&i| d.items[i as usize].original_id.as_str())
            .collect();
        let g = original(g);
        assert!(
            g.len() == 10 && g.iter().all(|i| !seen.contains(i.as_str())),
            "user line {u}: {g:?}"
        );
    }
    // The text neighbours alone, nudged toward popular items: each test
    // user's list is the best 10 by cos(last item, item) + 0.04 · ln(1 +
    // count before the test targets), the last item left out (by brute force here).
    with_nudge([0.0, 1.0, 0.0, 0.0, 0.0], 0.04);
    let got = items(&recommend("n.jsonl", &rerank));
    let e = genrec::embed::Embeddings::read(&genrec::embed::default_output(ds)).unwrap();
    let dim = e.matrix.size()[1] as usize;
    let emb = Vec::<f32>::try_from(e.matrix.to_kind(tch::Kind::Float).flatten(0, -1)).unwrap();
    let mut count = vec![0f32; d.items.len()];
    for t in &d.known(Known::Before(Split::Test)) {
        for &i in &t.items {
            count[i as usize] += 1.0;
        }
    }
    let id_of = internal_ids(&d);
    let nudge: Vec<f32> = count.iter().map(|c| 0.04 * c.ln_1p()).collect();
    text_lists_by_brute_force(&got, &d, (&emb, dim), &nudge);
    let mut nudged = 0;
    for (u, h) in d.test.iter().enumerate() {
        let last = *h.history.last().unwrap() as usize;
        // Would the cosine alone have ranked another item first?
        let cos = |i: usize| cosine((&emb, dim), last, i);
        let top_cos = (0..d.items.len())
            .filter(|&i| i != last)
            .max_by(|&a, &b| cos(a).total_cmp(&cos(b)))
            .unwrap();
        nudged += usize::from(top_cos != id_of[got[u][0].as_str().unwrap()]);
    }
    assert!(nudged > 0, "the nudge changed no user's first item");
    // The text neighbours over the adapted embeddings, where a stored
    // adapter says so: the best 10 by cosine of the mapped embeddings (a
    // fixed random map here, to differ from the text as it reads); a file
    // other than the one the card names is refused.
    let map = genrec::eval::adapter::TextAdapter {
        dim,
        weight: (0..dim * dim)
            .map(|k| {
                ((k * 7919 % 1000) as f32 / 1000.0 - 0.5) + f32::from(u8::from(k % (dim + 1) == 0))
            })
            .collect(),
        bias: vec![0.0; dim],
    };
    let sha = map.save(best, &b.embeddings_sha256).unwrap();
    let adapted_choice = genrec::eval::BlendChoice {
        text_adapter: Some(genrec::eval::adapter::AdapterChoice {
            gain: adapter.gain,
            file_sha256: Some(sha),
        }),
        ..forced([0.0, 1.0, 0.0, 0.0, 0.0], 0.0, false)
    };
    store(adapted_choice.clone(), None);
    let adapted = items(&recommend("ad.jsonl", &rerank));
    text_lists_by_brute_force(
        &adapted,
        &d,
        (&map.apply(&emb), dim),
        &vec![0.0; d.items.len()],
    );
    with([0.0, 1.0, 0.0, 0.0, 0.0]);
    assert_ne!(
        adapted,
        items(&recommend("pl.jsonl", &rerank)),
        "the map changed nothing"
    );
    genrec::eval::adapter::TextAdapter::identity(dim)
        .save(best, &b.embeddings_sha256)
        .unwrap();
    store(adapted_choice, None);
    let out = genrec(&[
        "recommend",
        "--checkpoint",
        tiny_checkpoint().to_str().unwrap(),
        "--split",
        "test",
        "--rerank",
        best.to_str().unwrap(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && err.contains("not the text adapter"),
        "{err}"
    );
    with([0.0, 0.0, 1.0, 0.0, 0.0]);
    same_lists(
        &items(&recommend("v.jsonl", &rerank)),
        &items(&sasrec),
        "SASRec's",
    );
    // With seen items excluded: SASRec's own top 10 among the items the user
    // has not seen, however long their history (ML-100K: hundreds of items),
    // from its lists 1,000 deep.
    let unseen: Vec<serde_json::Value> = sasrec_lists("sasrec-deep", "1000")
        .iter()
        .zip(&d.test)
        .map(|(l, h)| {
            let seen: std::collections::HashSet<&str> = h
                .history
                .iter()
                .map(|&i| d.items[i as usize].original_id.as_str())
                .collect();
            let all = l["items"].as_array().unwrap().iter();
            all.filter(|i| !seen.contains(i.as_str().unwrap()))
                .take(10)
                .cloned()
                .collect()
        })
        .collect();
    let excluded = recommend("vx.jsonl", &[&rerank[..], &["--exclude-seen"]].concat());
    same_lists(&items(&excluded), &unseen, "SASRec's unseen");
    // A blend chosen with the user's own items left out leaves them out
    // without being asked.
    with_setting([0.0, 0.0, 1.0, 0.0, 0.0], 0.0, true);
    let own_left_out = recommend("vu.jsonl", &rerank);
    same_lists(&items(&own_left_out), &unseen, "SASRec's unseen (chosen)");
    // A stored rescoring ranks the pool by its own weights, whatever the
    // fusion's say: the verifier's 1 / (1 + rank) alone gives SASRec's
    // unseen lists again.
    let mut w = vec![0.0; genrec::eval::rescore::RESCORE_FEATURES];
    w[2 * 4 + 1] = 1.0;
    with_rescorer([1.0, 0.0, 0.0, 0.0, 0.0], true, Some(w));
    let rescored = recommend("vr.jsonl", &rerank);
    same_lists(&items(&rescored), &unseen, "SASRec's unseen (rescored)");
    // A rescorer chosen over the pool with the words' sixth list reads that
    // list: its 1 / (1 + rank) alone gives the last item's nearest by words,
    // the user's own items left out (where that list is shorter than 10,
    // the rest of the pool follows).
    let mut w = vec![0.0; genrec::eval::rescore::RESCORE_FEATURES_WITH_WORDS];
    w[genrec::eval::rescore::RESCORE_FEATURES + 1] = 1.0;
    with_rescorer([1.0, 0.0, 0.0, 0.0, 0.0], true, Some(w));
    let by_words = items(&recommend("vw.jsonl", &rerank));
    let words = genrec::eval::lexical::Lexical::new(&d.texts());
    let mut longest = 0;
    for (got, h) in by_words.iter().zip(&d.test) {
        let last = *h.history.last().unwrap();
        let want: Vec<&str> = words
            .nearest(last, 10 + h.history.len())
            .into_iter()
            .filter(|i| !h.history.contains(i))
            .take(10)
            .map(|i| d.items[i as usize].original_id.as_str())
            .collect();
        let got = original(got);
        assert_eq!(got[..want.len()], want[..], "user {}", h.user);
        longest = longest.max(want.len());
    }
    assert_eq!(longest, 10, "no user had ten neighbours by words");
    // The generator's source alone: its candidates reranked by λ, what
    // --no-blend gives.
    with([1.0, 0.0, 0.0, 0.0, 0.0]);
    let gen_only = recommend("g.jsonl", &rerank);
    let lambda = recommend("l.jsonl", &[&rerank[..], &["--no-blend"]].concat());
    same_lists(&items(&gen_only), &items(&lambda), "the λ-reranking's");
    assert_ne!(items(&lambda), items(&sasrec));
    // With λ = 0 that is the generator's own (unfused) list.
    let mut c = genrec::artifact::checkpoint::VerifierChoice::from_extra(&card.extra).unwrap();
    c.lambda = 0.0;
    store(forced([1.0, 0.0, 0.0, 0.0, 0.0], 0.0, false), Some(c));
    let plain = recommend("plain.jsonl", &["--no-text-fusion", "--beam", "20"]);
    same_lists(
        &items(&recommend("g0.jsonl", &rerank)),
        &items(&plain),
        "the generator's",
    );
}

/// Asserts that each test user's list (original ids) is the best 10 by
/// `cos(e_last, e_i) + bias_i` over `emb` (`[N, dim]`, L2-normalised), the
/// last item left out, by brute force (scores compared, so that ties may
/// fall either way).
fn text_lists_by_brute_force(
    got: &[serde_json::Value],
    d: &genrec::data::Dataset,
    (emb, dim): (&[f32], usize),
    bias: &[f32],
) {
    let id_of = internal_ids(d);
    for (u, (g, h)) in got.iter().zip(&d.test).enumerate() {
        let last = *h.history.last().unwrap() as usize;
        let score = |i: usize| cosine((emb, dim), last, i) + bias[i];
        let mut all: Vec<f32> = (0..d.items.len())
            .filter(|&i| i != last)
            .map(score)
            .collect();
        all.sort_by(|a, b| b.total_cmp(a));
        let g: Vec<f32> = g
            .as_array()
            .unwrap()
            .iter()
            .map(|v| score(id_of[v.as_str().unwrap()]))
            .collect();
        assert_eq!(g.len(), 10);
        for (r, (&s, &want)) in g.iter().zip(&all).enumerate() {
            assert!(
                (s - want).abs() < 1e-4,
                "user line {u}, rank {r}: {s} vs {want}"
            );
        }
    }
}

/// Each item's internal id by its original id.
fn internal_ids(d: &genrec::data::Dataset) -> std::collections::HashMap<&str, usize> {
    d.items
        .iter()
        .enumerate()
        .map(|(i, it)| (it.original_id.as_str(), i))
        .collect()
}

/// The inner product of items `a` and `b` in `emb` (`[N, dim]`): their
/// cosine when the rows are L2-normalised.
fn cosine((emb, dim): (&[f32], usize), a: usize, b: usize) -> f32 {
    emb[a * dim..(a + 1) * dim]
        .iter()
        .zip(&emb[b * dim..(b + 1) * dim])
        .map(|(x, y)| x * y)
        .sum()
}

/// Asserts that two runs' per-user lists are the same, naming the first user that differs.
fn same_lists(got: &[serde_json::Value], want: &[serde_json::Value], what: &str) {
    assert_eq!(got.len(), want.len());
    let differ: Vec<usize> = (0..got.len()).filter(|&u| got[u] != want[u]).collect();
    assert!(
        differ.is_empty(),
        "{} of {} users' lists are not {what}; first, user line {}: {} vs {}",
        differ.len(),
        got.len(),
        differ[0],
        got[differ[0]],
        want[differ[0]]
    );
}

/// The ranks of a data-parallel job on 127.0.0.1, killed if the test ends
/// before they do.
struct Job {
    ranks: Vec<std::process::Child>,
    logs: Vec<PathBuf>,
}

impl Drop for Job {
    fn drop(&mut self) {
        for c in &mut self.ranks {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// A port free at the time of asking.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `world` ranks of `genrec train` with `args` (as torchrun would:
/// the standard variables), each writing stdout+stderr to `<logs>/rank-<r>.log`.
fn launch(world: usize, args: &[String], logs: &Path) -> Job {
    let port = free_port().to_string();
    std::fs::create_dir_all(logs).unwrap();
    let mut job = Job {
        ranks: Vec::new(),
        logs: Vec::new(),
    };
    for r in 0..world {
        let log = logs.join(format!("rank-{r}.log"));
        let f = std::fs::File::create(&log).unwrap();
        let child = Command::new(env!("CARGO_BIN_EXE_genrec"))
            .args(args)
            .args(["--threads", "1", "--dist-timeout", "30"])
            .current_dir(root())
            .env("RANK", r.to_string())
            .env("LOCAL_RANK", r.to_string())
            .env("WORLD_SIZE", world.to_string())
            .env("MASTER_ADDR", "127.0.0.1")
            .env("MASTER_PORT", &port)
            .stdout(f.try_clone().unwrap())
            .stderr(f)
            .spawn()
            .unwrap();
        job.ranks.push(child);
        job.logs.push(log);
    }
    job
}

impl Job {
    /// Waits (at most `limit`) for every rank; their exit codes and logs.
    fn wait(mut self, limit: std::time::Duration) -> Vec<(Option<i32>, String)> {
        let t0 = std::time::Instant::now();
        let mut codes = vec![None; self.ranks.len()];
        while codes.iter().any(Option::is_none) && t0.elapsed() < limit {
            for (i, c) in self.ranks.iter_mut().enumerate() {
                if codes[i].is_none() {
                    if let Some(s) = c.try_wait().unwrap() {
                        codes[i] = Some(s.code());
                    }
                }
            }
            std::thread::sleep(std::time::Duration::from_millis(100));
        }
        let out = codes
            .iter()
            .zip(&self.logs)
            .map(|(c, l)| (c.flatten(), std::fs::read_to_string(l).unwrap_or_default()))
            .collect();
        drop(self);
        out
    }
}

/// Every rank exited 0 within `limit`; the SHA-256 of the weights each reported.
fn digests(job: Job, limit: u64) -> Vec<String> {
    job.wait(std::time::Duration::from_secs(limit))
        .into_iter()
        .enumerate()
        .map(|(r, (code, log))| {
            assert_eq!(code, Some(0), "rank {r} did not finish:\n{log}");
            let at = log.find("weights sha256 ").expect("a digest") + 15;
            log[at..at + 64].to_string()
        })
        .collect()
}

fn tensors(path: &Path) -> Vec<(String, Vec<f32>)> {
    let f = genrec::util::st::StFile::read(path).unwrap();
    f.tensors
        .iter()
        .map(|(n, t)| {
            let v = Vec::<f32>::try_from(t.to_kind(tch::Kind::Float).view([-1])).unwrap();
            (n.clone(), v)
        })
        .collect()
}

fn weights_at(run: &Path, step: usize) -> PathBuf {
    run.join(format!("step-{step:07}/model.safetensors"))
}

#[test]
fn two_ranks_train_as_one_process_and_resume_as_a_job() {
    // Dropout off: a rank's half batch would draw other masks than the whole.
    // All 943 validation users: a non-zero NDCG to compare at step 3.
    let set = ["--set", "model.dropout=0", "--set", "eval.max_users=0"];
    let t = tempfile::tempdir().unwrap();
    let steps = |n: usize, every: usize| {
        let mut v: Vec<String> = set.iter().map(|s| s.to_string()).collect();
        v.extend([
            "--max-steps".into(),
            n.to_string(),
            "--set".into(),
            format!("eval.every={every}"),
        ]);
        v
    };
    let with = |root: &Path, extra: &[String]| {
        tiny(root, &extra.iter().map(String::as_str).collect::<Vec<_>>())
    };

    // A few steps: the job's weights equal one process's on the same global
    // batches (the sums differ only in rounding; AdamW divides by √v, which
    // amplifies rounding in rows with tiny gradients as steps accumulate).
    let (one, two) = (t.path().join("one"), t.path().join("two"));
    let o = run_tiny(
        &one,
        &steps(3, 3).iter().map(String::as_str).collect::<Vec<_>>(),
    );
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let d = digests(
        launch(2, &with(&two, &steps(3, 3)), &t.path().join("logs-3")),
        180,
    );
    assert_eq!(d[0], d[1], "rank 0's and rank 1's weights differ");
    let (a, b) = (
        tensors(&weights_at(&one.join("tiny"), 3)),
        tensors(&weights_at(&two.join("tiny"), 3)),
    );
    assert_eq!(a.len(), b.len());
    let mut worst = 0f32;
    for ((na, va), (nb, vb)) in a.iter().zip(&b) {
        assert_eq!(na, nb);
        for (x, y) in va.iter().zip(vb) {
            worst = worst.max((x - y).abs());
        }
    }
    assert!(
        worst <= 1e-6,
        "two ranks vs one process: max |Δw| = {worst}"
    );
    // Validation is shared by the ranks (each its half of the users, sums
    // added): the same figures as one process's.
    let valid = |root: &Path| -> Vec<f64> {
        std::fs::read_to_string(root.join("tiny/metrics.jsonl"))
            .unwrap()
            .lines()
            .filter_map(|l| {
                serde_json::from_str::<serde_json::Value>(l).ok()?["valid_ndcg@10"].as_f64()
            })
            .collect()
    };
    let (v1, v2) = (valid(&one), valid(&two));
    assert!(v1.len() == 1 && v1[0] > 0.0, "{v1:?}");
    assert!(
        (v1[0] - v2[0]).abs() < 1e-12,
        "validation: one process {v1:?}, two ranks {v2:?}"
    );

    // Interrupted at a checkpoint and resumed by a new job: the same weights
    // as the uninterrupted job, bit for bit.
    let (straight, split) = (t.path().join("straight"), t.path().join("split"));
    let whole = digests(
        launch(
            2,
            &with(&straight, &steps(20, 10)),
            &t.path().join("logs-20"),
        ),
        240,
    );
    assert_eq!(whole[0], whole[1]);
    let mut first = steps(20, 10);
    first.extend(["--stop-after".into(), "10".into()]);
    digests(
        launch(2, &with(&split, &first), &t.path().join("logs-a")),
        240,
    );
    let mut second = steps(20, 10);
    second.push("--resume".into());
    let resumed = digests(
        launch(2, &with(&split, &second), &t.path().join("logs-b")),
        240,
    );
    assert_eq!(resumed, whole, "the resumed job ends elsewhere");
    assert!(
        final_weights(&straight) == final_weights(&split),
        "checkpoint files differ after the job resumed"
    );
}

#[test]
fn a_dead_rank_ends_the_job_naming_it() {
    let t = tempfile::tempdir().unwrap();
    let args = tiny(
        t.path(),
        &[
            "--max-steps",
            "1000000",
            "--set",
            "eval.every=1000000",
            "--set",
            "model.dropout=0",
        ],
    );
    let mut job = launch(2, &args, &t.path().join("logs"));
    // Let both ranks join and train, then kill rank 1 outright.
    let t0 = std::time::Instant::now();
    while !std::fs::read_to_string(&job.logs[1])
        .unwrap_or_default()
        .contains("joined the job")
    {
        assert!(t0.elapsed().as_secs() < 120, "rank 1 never joined");
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    std::thread::sleep(std::time::Duration::from_secs(2));
    job.ranks[1].kill().unwrap();
    let killed = std::time::Instant::now();
    let out = job.wait(std::time::Duration::from_secs(60));
    let (code, log) = &out[0];
    assert!(
        code.is_some(),
        "rank 0 still runs 60 s after rank 1 died:\n{log}"
    );
    assert_ne!(*code, Some(0), "rank 0 exited 0 without its peer:\n{log}");
    assert!(
        log.contains("rank 1 is gone"),
        "rank 0's message names no rank:\n{log}"
    );
    // Within the job's --dist-timeout (30 s).
    assert!(
        killed.elapsed().as_secs() <= 35,
        "took {:?}",
        killed.elapsed()
    );
}

#[test]
fn sharded_embedding_gathers_to_the_unsharded_file() {
    let d = data().to_str().unwrap().to_string();
    let t = tempfile::tempdir().unwrap();
    let out = t.path().join("emb.safetensors");
    let o = out.to_str().unwrap();
    let part = |i: &str| {
        ok(&[
            "embed",
            "-d",
            &d,
            "--out",
            o,
            "--threads",
            "2",
            "--shard",
            i,
        ])
    };
    part("1/2");
    // A missing part is named; a part is not an embeddings file.
    let g = genrec(&["embed", "-d", &d, "--out", o, "--gather"]);
    fails_naming(&g, &["parts [0] of 2 are missing"]);
    let p1 = t.path().join("emb.part-1-of-2.safetensors");
    let i = genrec(&[
        "index",
        "-d",
        &d,
        "--embeddings",
        p1.to_str().unwrap(),
        "--out",
        t.path().join("ix").to_str().unwrap(),
    ]);
    fails_naming(&i, &["part 1/2", "--gather"]);
    part("0/2");
    ok(&["embed", "-d", &d, "--out", o, "--gather"]);
    let joined = genrec::embed::Embeddings::read(&out).unwrap();
    let whole = genrec::embed::Embeddings::read(&data().join("embeddings.safetensors")).unwrap();
    assert_eq!(joined.item_ids, whole.item_ids);
    assert_eq!(joined.source, whole.source);
    // The same batches as the unsharded run, so the same vectors.
    let diff = (&joined.matrix - &whole.matrix)
        .abs()
        .max()
        .double_value(&[]);
    assert_eq!(
        diff, 0.0,
        "gathered parts differ from the unsharded embeddings"
    );
}
