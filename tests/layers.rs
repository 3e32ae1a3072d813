//! The layer rule, checked rather than promised: nothing outside the training
//! module (`src/trainer/`) and the front ends (`src/cli/` and `src/main.rs`,
//! the `genrec-bench` binary under `src/bin/`) refers to training code, so inference — artifact, decode, eval, model,
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
            || r.starts_with("bin")
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

#[test]
fn inference_reads_the_model_card_not_the_training_configuration() {
    // A checkpoint's card keeps the whole training configuration for
    // provenance; what inference needs (prompt, dataset, index) has its own
    // typed accessors, so only training code reads `meta.train`.
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let offences: Vec<String> = files
        .iter()
        .filter(|f| !f.strip_prefix(&src).unwrap().starts_with("trainer"))
        .flat_map(|f| {
            std::fs::read_to_string(f)
                .unwrap()
                .lines()
                .filter(|l| l.contains("meta.train."))
                .map(|l| format!("{}: {}", f.display(), l.trim()))
                .collect::<Vec<_>>()
        })
        .collect();
    assert!(offences.is_empty(), "{}", offences.join("\n"));
}

/// The parameter count of each `fn` in `text` (receivers included), by name.
fn parameter_counts(text: &str) -> Vec<(String, usize)> {
    let b = text.as_bytes();
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(i) = text[at..].find("fn ") {
        let start = at + i + 3;
        at = start;
        if start > 3 && (b[start - 4].is_ascii_alphanumeric() || b[start - 4] == b'_') {
            continue; // part of a longer word
        }
        let name: String = text[start..]
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if name.is_empty() {
            continue;
        }
        // Skip generics to the opening parenthesis.
        let Some(open) = text[start..].find('(') else {
            break;
        };
        let (mut depth, mut params, mut any) = (1i32, 0usize, false);
        let mut j = start + open + 1;
        while j < b.len() && depth > 0 {
            match b[j] {
                b'(' | b'[' | b'<' => depth += 1,
                b'>' if b[j - 1] == b'-' => {}
                b')' | b']' | b'>' => depth -= 1,
                b',' if depth == 1 => {
                    params += 1;
                    any = false;
                    j += 1;
                    continue;
                }
                _ => {}
            }
            if depth > 0 && !b[j].is_ascii_whitespace() {
                any = true;
            }
            j += 1;
        }
        out.push((name, params + usize::from(any)));
        at = j;
    }
    out
}

#[test]
fn the_parameter_count_reads_signatures() {
    let src = "pub fn a(x: u32, y: HashMap<u32, (u8, u8)>) {}\n\
               fn b(&self, f: &dyn Fn(&Path) -> Result<()>, g: u8,) -> u8 { 0 }\n\
               fn c() {}\nfn d<T: Into<u8>>(t: T) {}";
    let got = parameter_counts(src);
    let want = [("a", 2), ("b", 3), ("c", 0), ("d", 1)];
    assert_eq!(got.len(), want.len(), "{got:?}");
    for ((n, k), (wn, wk)) in got.iter().zip(want) {
        assert_eq!((n.as_str(), *k), (wn, wk));
    }
}

#[test]
fn no_function_takes_more_than_six_parameters() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let mut long = Vec::new();
    for f in &files {
        for (name, n) in parameter_counts(&std::fs::read_to_string(f).unwrap()) {
            if n > 6 {
                long.push(format!("{}: fn {name} takes {n}", f.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "use a parameter type:\n{}",
        long.join("\n")
    );
}

#[test]
fn no_source_file_is_over_450_lines() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let long: Vec<String> = files
        .iter()
        .map(|f| (f, std::fs::read_to_string(f).unwrap().lines().count()))
        .filter(|(_, n)| *n > 450)
        .map(|(f, n)| format!("{}: {n} lines", f.display()))
        .collect();
    assert!(long.is_empty(), "split by job:\n{}", long.join("\n"));
}
