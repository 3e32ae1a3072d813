//! The layer rule, checked rather than promised: nothing outside the training
//! module (`src/trainer/`) and the command line (`src/cli/`, `src/main.rs`)
//! refers to training code, so inference — artifact, decode, eval, model,
//! semantic_id, data, verify, baseline — compiles and runs without it.
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// Lines of `text` outside comments that name the training module.
fn training_references(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.starts_with("//"))
        .filter(|l| {
            l.contains("trainer::")
                || l.starts_with("mod trainer")
                || l.starts_with("pub mod trainer")
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn the_rule_detects_a_reference() {
    assert_eq!(
        training_references("use crate::trainer::Trainer;\n// trainer::x in a comment\n"),
        ["use crate::trainer::Trainer;"]
    );
    assert!(training_references("use crate::artifact::checkpoint;").is_empty());
}

#[test]
fn only_the_trainer_and_the_cli_depend_on_training_code() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let allowed = |p: &Path| {
        let r = p.strip_prefix(&src).unwrap();
        r.starts_with("trainer")
            || r.starts_with("cli")
            || r == Path::new("main.rs")
            || r == Path::new("lib.rs")
    };
    let mut checked = 0;
    let mut offences = Vec::new();
    for f in files.iter().filter(|f| !allowed(f)) {
        checked += 1;
        for l in training_references(&std::fs::read_to_string(f).unwrap()) {
            offences.push(format!("{}: {l}", f.display()));
        }
    }
    assert!(checked > 20, "scanned {checked} files");
    assert!(
        offences.is_empty(),
        "inference code refers to training code:\n{}",
        offences.join("\n")
    );
}
