//! `genrec prepare`: split, ordering, filtering, bad input, determinism.
use genrec::data::dataset::{HeldOut, Item, TrainSequence};
use genrec::data::prepare::{self, PrepareOptions};
use genrec::data::source::{self, FieldNames, Format};
use genrec::data::Dataset;
use std::path::{Path, PathBuf};
use std::process::Command;

fn fixture() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/tiny-recbole")
}

/// The tiny RecBole fixture as read.
fn tiny_raw() -> genrec::Result<source::RawDataset> {
    let f = fixture();
    source::read(
        Format::Recbole,
        &f.join("tiny.inter"),
        &f.join("tiny.item"),
        &FieldNames::default(),
    )
}

fn prepared(opts: &PrepareOptions) -> genrec::Result<prepare::Prepared> {
    prepare::build(&tiny_raw()?, opts)
}

/// The tiny RecBole fixture prepared with the default options into
/// `dir/ds`: the directory and the dataset read back.
fn written(dir: &Path) -> (PathBuf, Dataset) {
    let out = dir.join("ds");
    let raw = tiny_raw().unwrap();
    let opts = PrepareOptions::default();
    let p = prepare::build(&raw, &opts).unwrap();
    prepare::write(&raw, &opts, &p, &out).unwrap();
    let ds = Dataset::load(&out).unwrap();
    (out, ds)
}

#[test]
fn split_with_tied_timestamps_and_short_users() {
    let dir = tempfile::tempdir().unwrap();
    let (_, ds) = written(dir.path());
    // Item-file order: b, a, c, d, and e, which no sequence uses, stays in the catalogue.
    let ids: Vec<&str> = ds.items.iter().map(|i| i.original_id.as_str()).collect();
    assert_eq!(ids, ["b", "a", "c", "d", "e"]);
    assert_eq!(ds.manifest.stats.unused_items, 1);
    assert_eq!(
        ds.items[2],
        Item {
            id: 2,
            original_id: "c".into(),
            text: "c".into(),
            name: None
        },
        "empty text falls back to the id"
    );
    assert_eq!(ds.items[0].text, "Beta | 2001");
    // u1: c(50) a(100) b(100, after a in file order) d(200); u3: b(5) then
    // c, a, d all at 30 in file order; u2 (a, b: too short to hold out) a
    // context user, after the held-out users.
    assert_eq!(
        ds.train,
        vec![
            TrainSequence {
                user: "u1".into(),
                items: vec![2, 1]
            },
            TrainSequence {
                user: "u3".into(),
                items: vec![0, 2]
            },
            TrainSequence {
                user: "u2".into(),
                items: vec![1, 0]
            }
        ]
    );
    assert_eq!(ds.context(), &ds.train[2..]);
    assert_eq!(
        ds.valid,
        vec![
            HeldOut {
                user: "u1".into(),
                history: vec![2, 1],
                target: 0
            },
            HeldOut {
                user: "u3".into(),
                history: vec![0, 2],
                target: 1
            }
        ]
    );
    assert_eq!(
        ds.test,
        vec![
            HeldOut {
                user: "u1".into(),
                history: vec![2, 1, 0],
                target: 3
            },
            HeldOut {
                user: "u3".into(),
                history: vec![0, 2, 1],
                target: 3
            }
        ]
    );
    let s = &ds.manifest.stats;
    assert_eq!(
        (s.users, s.items, s.interactions, s.dropped_short_users),
        (2, 5, 8, 0)
    );
    assert_eq!((s.context_users, s.context_interactions), (1, 2));
    assert_eq!((s.sequence_length.min, s.sequence_length.max), (4, 4));
}

/// `--drop-short-users` drops the context users (the hash then is the one
/// datasets had before context users existed: items and sequences alone),
/// and a dataset without `context.jsonl` (prepared before) still loads.
#[test]
fn short_users_dropped_or_kept_as_context() {
    use genrec::util::hash::Hasher;
    let dir = tempfile::tempdir().unwrap();
    let raw = tiny_raw().unwrap();
    let opts = PrepareOptions {
        drop_short_users: true,
        ..Default::default()
    };
    let p = prepare::build(&raw, &opts).unwrap();
    assert!(p.context.is_empty());
    assert_eq!((p.stats.dropped_short_users, p.stats.context_users), (1, 0));
    let out = dir.path().join("dropped");
    let dropped = prepare::write(&raw, &opts, &p, &out).unwrap();
    let read = |name: &str| std::fs::read(out.join(name)).unwrap();
    assert!(read("context.jsonl").is_empty());
    let mut h = Hasher::new();
    h.field(&read("items.jsonl"))
        .field(&read("sequences.jsonl"));
    assert_eq!(dropped.content_sha256, h.finish());
    let ds = Dataset::load(&out).unwrap();
    assert_eq!((ds.train.len(), ds.context().len()), (2, 0));

    let (kept_dir, kept) = written(dir.path());
    assert_ne!(kept.manifest.content_sha256, dropped.content_sha256);
    std::fs::remove_file(kept_dir.join("context.jsonl")).unwrap();
    let old = Dataset::load(&kept_dir).unwrap();
    assert_eq!(old.train, kept.train[..2]);
    assert!(old.context().is_empty());
}

/// What a ranking may count before each split's targets, and the
/// transitions baseline reading it; splits that disagree on their users are
/// refused on load.
#[test]
fn known_interactions_before_each_split() {
    use genrec::data::{Known, Split};
    use genrec::eval::{seen_before, transition_baseline, Protocol};
    let dir = tempfile::tempdir().unwrap();
    let (out, ds) = written(dir.path());
    // u1: 2 1 | 0 | 3; u3: 0 2 | 1 | 3 (train | valid target | test target);
    // the context user u2: 1 0, whole in every split.
    let items = |k: Known| -> Vec<Vec<u32>> { ds.known(k).into_iter().map(|s| s.items).collect() };
    assert_eq!(ds.known(Known::Before(Split::Valid)), ds.train);
    assert_eq!(
        items(Known::Before(Split::Test)),
        [vec![2, 1, 0], vec![0, 2, 1], vec![1, 0]]
    );
    assert_eq!(
        items(Known::All),
        [vec![2, 1, 0, 3], vec![0, 2, 1, 3], vec![1, 0]]
    );
    let seen: Vec<Vec<u32>> = seen_before(&ds.known(Known::Before(Split::Test)))
        .into_iter()
        .map(|s| {
            let mut v: Vec<u32> = s.into_iter().collect();
            v.sort_unstable();
            v
        })
        .collect();
    assert_eq!(seen, [vec![0, 1, 2], vec![0, 1, 2], vec![0, 1]]);
    // At test, u3's last item 1 was followed by 0 in u1's validation target
    // and in the context user: counted from the training split alone, u3
    // would get [2] (0's successor two places back; 1 itself, after 2, is
    // the last item). At validation u1's last item 1 has a successor only
    // in the context user, who is counted: [0].
    let (test, valid) = (ds.known(Known::Before(Split::Test)), ds.train.clone());
    let (n, p) = (ds.items.len(), Protocol::default());
    let next = transition_baseline((&test, n), &ds.test, &seen_before(&test), &p, 10);
    assert_eq!(next, [vec![2, 1], vec![0, 2]]);
    let next = transition_baseline((&valid, n), &ds.valid, &seen_before(&valid), &p, 10);
    assert_eq!(next, [vec![0], vec![1]]);
    let held = &valid[..2];
    let next = transition_baseline((held, n), &ds.valid, &seen_before(held), &p, 10);
    assert_eq!(
        next,
        [vec![] as Vec<u32>, vec![1]],
        "without the context user"
    );
    // valid.jsonl with its lines swapped: named, with the line.
    let v = std::fs::read_to_string(out.join("valid.jsonl")).unwrap();
    let lines: Vec<&str> = v.lines().collect();
    std::fs::write(
        out.join("valid.jsonl"),
        format!("{}\n{}\n", lines[1], lines[0]),
    )
    .unwrap();
    let Err(e) = Dataset::load(&out) else {
        panic!("valid.jsonl with other users was read")
    };
    let e = e.to_string();
    assert!(e.contains("valid.jsonl:1:"), "{e}");
    assert!(
        e.contains("user `u3` where train.jsonl has user `u1`"),
        "{e}"
    );
}

#[test]
fn rating_threshold_k_core_and_max_history() {
    let p = prepared(&PrepareOptions {
        rating_threshold: Some(4.0),
        ..Default::default()
    })
    .unwrap();
    // u1 keeps a, b, d; u3 keeps b, c, d; u2 keeps only a and is dropped.
    assert_eq!(p.stats.users, 2);
    assert_eq!(p.stats.dropped_by_rating, 3);
    assert_eq!(p.sequences[0].items.len(), 3);
    // k = 3: d has one interaction and goes; x is left with 2 and goes; a, b, c keep 3 each.
    let p = run_case(
        Format::Recbole,
        ("k.inter", b"user_id:token\titem_id:token\ttimestamp:float\nu\ta\t1\nu\tb\t2\nu\tc\t3\nv\ta\t1\nv\tb\t2\nv\tc\t3\nw\ta\t1\nw\tb\t2\nw\tc\t3\nx\ta\t1\nx\tb\t2\nx\td\t3\n"),
        ("k.item", b"item_id:token\ttitle:token_seq\na\tA\nb\tB\nc\tC\nd\tD\n"),
        PrepareOptions { k_core: Some(3), ..Default::default() },
    )
    .unwrap();
    assert_eq!(p.stats.dropped_by_k_core, 3);
    assert_eq!((p.stats.users, p.stats.items), (3, 3));
    let e = prepared(&PrepareOptions {
        k_core: Some(3),
        ..Default::default()
    })
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("no user has at least 3 interactions"), "{e}");
    let (_, v, t) = prepare::split(&p.sequences[0], 1);
    assert_eq!(v.history.len(), 1);
    assert_eq!(t.history.len(), 1);
}

#[test]
fn text_template_and_unknown_field() {
    let p = prepared(&PrepareOptions {
        text_template: Some("{title} ({year})".into()),
        ..Default::default()
    })
    .unwrap();
    assert_eq!(p.items[1].text, "Alpha (2000)");
    assert_eq!(p.items[2].text, "c", "all template fields empty: fallback");
    let e = prepared(&PrepareOptions {
        text_template: Some("{name}".into()),
        ..Default::default()
    })
    .err()
    .unwrap()
    .to_string();
    assert!(e.contains("`name`") && e.contains("title, year"), "{e}");
}

/// Writes files into a temp dir and runs the reader + builder on them.
fn run_case(
    format: Format,
    inter: (&str, &[u8]),
    items: (&str, &[u8]),
    opts: PrepareOptions,
) -> Result<prepare::Prepared, String> {
    run_named(format, inter, items, opts, &FieldNames::default())
}

/// [`run_case`] with the interactions' fields named.
fn run_named(
    format: Format,
    inter: (&str, &[u8]),
    items: (&str, &[u8]),
    opts: PrepareOptions,
    named: &FieldNames,
) -> Result<prepare::Prepared, String> {
    let d = tempfile::tempdir().unwrap();
    let ip = d.path().join(inter.0);
    let tp = d.path().join(items.0);
    std::fs::write(&ip, inter.1).unwrap();
    std::fs::write(&tp, items.1).unwrap();
    source::read(format, &ip, &tp, named)
        .and_then(|raw| prepare::build(&raw, &opts))
        .map_err(|e| {
            // A bad input file is reported as one (its path, and its line
            // where one applies), not as a setting or an internal error.
            assert!(
                matches!(e, genrec::Error::Input { .. }),
                "not an input error: {e:?}"
            );
            e.to_string()
        })
}

/// The error reading JSONL interactions `inter` (`i.jsonl`) with items
/// `items` (`items.jsonl`) under the default options.
fn jsonl_error(inter: &[u8], items: &[u8]) -> String {
    run_case(
        Format::Jsonl,
        ("i.jsonl", inter),
        ("items.jsonl", items),
        PrepareOptions::default(),
    )
    .unwrap_err()
}

const ITEMS: &[u8] = b"item_id:token\ttitle:token_seq\na\tA\nb\tB\nc\tC\n";
const INTER_OK: &[u8] =
    b"user_id:token\titem_id:token\ttimestamp:float\nu\ta\t1\nu\tb\t2\nu\tc\t3\n";

fn recbole_err(inter: &[u8], items: &[u8]) -> String {
    run_case(
        Format::Recbole,
        ("x.inter", inter),
        ("x.item", items),
        PrepareOptions::default(),
    )
    .expect_err("expected an error")
}

#[test]
fn bad_input_missing_or_misnamed_columns() {
    let e = recbole_err(b"user_id:token\titem_id:token\nu\ta\n", ITEMS);
    assert!(
        e.contains("x.inter:1: missing column `timestamp`")
            && e.contains("found: user_id:token, item_id:token"),
        "{e}"
    );
    let e = recbole_err(
        b"usr_id:token\titem_id:token\ttimestamp:float\nu\ta\t1\n",
        ITEMS,
    );
    assert!(
        e.contains("x.inter:1: missing column `user_id`") && e.contains("usr_id:token"),
        "{e}"
    );
    let e = recbole_err(INTER_OK, b"iid:token\ttitle:token_seq\na\tA\n");
    assert!(
        e.contains("x.item:1: missing item id column") && e.contains("found: iid, title"),
        "{e}"
    );
    let e = recbole_err(
        b"user_id:token\titem_id:token\ttimestamp:float\nu\ta\t1\nu\tb\n",
        ITEMS,
    );
    assert!(
        e.contains("x.inter:3: found 2 tab-separated columns, expected 3"),
        "{e}"
    );
    let e = recbole_err(b"user_id\titem_id:token\ttimestamp:float\nu\ta\t1\n", ITEMS);
    assert!(
        e.contains("x.inter:1: header column `user_id` has no type"),
        "{e}"
    );
}

#[test]
fn bad_input_non_numeric_ids_or_timestamps() {
    let e = recbole_err(
        b"user_id:token\titem_id:token\ttimestamp:float\nu\ta\t1\nu\tb\tyesterday\n",
        ITEMS,
    );
    assert!(
        e.contains("x.inter:3: timestamp `yesterday` is not a number"),
        "{e}"
    );
    let e = run_case(
        Format::P5,
        ("sequential_data.txt", b"1 1 2 3\r\n2 1 x2 3\r\n"),
        (
            "items.tsv",
            b"p5_item_id\tasin\ttitle\n1\tA1\tOne\n2\tA2\tTwo\n3\tA3\tThree\n",
        ),
        PrepareOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.contains("sequential_data.txt:2: item id `x2` is not a non-negative integer"),
        "{e}"
    );
    let e = run_case(
        Format::P5,
        ("sequential_data.txt", b"1 1 2 3\n"),
        (
            "items.tsv",
            b"p5_item_id\tasin\ttitle\n1\tA1\tOne\nB\tA2\tTwo\n",
        ),
        PrepareOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.contains("items.tsv:3: item id `B` is not a non-negative integer"),
        "{e}"
    );
    let e = run_case(
        Format::Jsonl,
        ("inter.jsonl", b"{\"user\": 1, \"item\": \"a\", \"timestamp\": 3}\n{\"user\": 1, \"item\": \"b\", \"timestamp\": \"soon\"}\n"),
        ("items.jsonl", b"{\"item\": \"a\", \"title\": \"A\"}\n"),
        PrepareOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.contains("inter.jsonl:2: timestamp `soon` is not a number"),
        "{e}"
    );
    let e = run_case(
        Format::Jsonl,
        (
            "inter.jsonl",
            b"{\"user\": 1, \"item\": [1], \"timestamp\": 3}\n",
        ),
        ("items.jsonl", b"{\"item\": \"a\", \"title\": \"A\"}\n"),
        PrepareOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.contains("inter.jsonl:1: field `item` is [1], expected a string or integer id"),
        "{e}"
    );
    // A whole number written as a float (a data frame's integer column with
    // a gap) is that integer's id; a fraction is no id.
    let floats = run_case(
        Format::Jsonl,
        (
            "inter.jsonl",
            b"{\"user\": 1.0, \"item\": 7.0, \"timestamp\": 1}\n{\"user\": 1, \"item\": 8, \"timestamp\": 2}\n{\"user\": 1.0, \"item\": 9.0, \"timestamp\": 3}\n",
        ),
        (
            "items.jsonl",
            b"{\"item\": 7, \"title\": \"A\"}\n{\"item\": 8.0, \"title\": \"B\"}\n{\"item\": \"9\", \"title\": \"C\"}\n",
        ),
        PrepareOptions::default(),
    )
    .unwrap();
    assert_eq!(floats.sequences.len(), 1);
    assert_eq!(floats.sequences[0].items, vec![0, 1, 2]);
    let e = run_case(
        Format::Jsonl,
        (
            "inter.jsonl",
            b"{\"user\": 1, \"item\": 7.5, \"timestamp\": 3}\n",
        ),
        ("items.jsonl", b"{\"item\": 7, \"title\": \"A\"}\n"),
        PrepareOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.contains("inter.jsonl:1: field `item` is 7.5, expected a string or integer id"),
        "{e}"
    );
}

#[test]
fn bad_input_empty_header_only_and_utf8() {
    let e = recbole_err(b"", ITEMS);
    assert!(e.contains("x.inter: the file is empty"), "{e}");
    let e = recbole_err(b"user_id:token\titem_id:token\ttimestamp:float\n", ITEMS);
    assert!(
        e.contains("x.inter:1: the file has a header but no data rows"),
        "{e}"
    );
    let e = recbole_err(INTER_OK, b"item_id:token\ttitle:token_seq\r\n");
    assert!(
        e.contains("x.item:1: the file has a header but no data rows"),
        "{e}"
    );
    let e = recbole_err(
        INTER_OK,
        b"item_id:token\ttitle:token_seq\na\tA\nb\tB \x00t\x00\nc\tC\n",
    );
    assert!(e.contains("x.item:3: a NUL byte"), "{e}");
    let e = run_case(
        Format::Jsonl,
        (
            "inter.jsonl",
            b"{\"user\": 1, \"items\": [\"a\"]}\n{\"user\": 2, \"items\": [\"a\"\n",
        ),
        ("items.jsonl", b"{\"item\": \"a\", \"title\": \"A\"}\n"),
        PrepareOptions::default(),
    )
    .unwrap_err();
    assert!(e.contains("inter.jsonl:2: malformed JSON"), "{e}");
}

#[test]
fn a_few_items_missing_from_the_item_file_are_kept_and_counted() {
    // z is one of the four items the interactions name: kept, with a note.
    let inter = b"user_id:token\titem_id:token\ttimestamp:float\nu\ta\t1\nu\tz\t2\nu\tb\t3\nv\tc\t4\nv\tz\t5\nv\ta\t6\n";
    let p = run_case(
        Format::Recbole,
        ("x.inter", inter),
        ("x.item", ITEMS),
        PrepareOptions::default(),
    )
    .unwrap();
    assert_eq!(p.stats.missing_items, 1);
    let z = p.items.iter().find(|i| i.original_id == "z").unwrap();
    assert_eq!(z.text, "item z");
    let d = tempfile::tempdir().unwrap();
    let (ip, tp) = (d.path().join("x.inter"), d.path().join("x.item"));
    std::fs::write(&ip, inter).unwrap();
    std::fs::write(&tp, ITEMS).unwrap();
    let raw = source::read(Format::Recbole, &ip, &tp, &FieldNames::default()).unwrap();
    let known = raw
        .items
        .iter()
        .enumerate()
        .map(|(i, it)| (it.id.as_str(), i))
        .collect();
    let kept: Vec<_> = raw.interactions.iter().collect();
    let m = genrec::data::missing::Missing::find(&kept, &known);
    let note = m.note(&raw).unwrap();
    assert!(
        note.contains("x.inter: 1 of the 4 item ids it names (2 interactions) are not in")
            && note.contains("(first z (line 3))"),
        "{note}"
    );
}

#[test]
fn bad_input_missing_items_and_duplicates() {
    let inter =
        b"user_id:token\titem_id:token\ttimestamp:float\nu\ta\t1\nu\tz\t2\nu\ty\t3\nv\tz\t4\n";
    let e = recbole_err(inter, ITEMS);
    assert!(
        e.contains("x.inter:3: 2 of the 3 item ids it names are not in")
            && e.contains("first z (line 3), y (line 4)")
            && e.contains("--allow-missing-items"),
        "{e}"
    );
    let ok = run_case(
        Format::Recbole,
        ("x.inter", inter),
        ("x.item", ITEMS),
        PrepareOptions {
            allow_missing_items: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(ok.stats.missing_items, 2);
    assert_eq!(ok.items.last().unwrap().text, "item y");
    // A second row of an item with other values (a business listed again
    // with other hours): the first row kept, the rest left out.
    let ok = run_case(
        Format::Recbole,
        ("x.inter", INTER_OK),
        (
            "x.item",
            b"item_id:token\ttitle:token_seq\na\tA\nb\tB\na\tA again\nc\tC\n",
        ),
        PrepareOptions::default(),
    )
    .unwrap();
    let texts: Vec<&str> = ok.items.iter().map(|i| i.text.as_str()).collect();
    assert_eq!(texts, ["A", "B", "C"]);
    // Such rows the most of the file: its id names no item one to one.
    let e = recbole_err(
        INTER_OK,
        b"item_id:token\ttitle:token_seq\na\tA\nb\tB\na\tA again\nb\tB again\na\tA 3\nb\tB 3\nc\tC\n",
    );
    assert!(
        e.contains(
            "x.item:4: a second row for item a (the first at line 2) that differs in `title`, \
             and 4 of the 7 rows are such"
        ),
        "{e}"
    );
    // A row that repeats an earlier one field for field (an id with a stray
    // space after it, as Book-Crossing's `BX-Books.csv` has a tab) is the
    // same item once.
    let ok = run_case(
        Format::Recbole,
        ("x.inter", INTER_OK),
        (
            "x.item",
            b"item_id:token\ttitle:token_seq\na\tA\nb\tB\nc\tC\na \tA\n",
        ),
        PrepareOptions::default(),
    )
    .unwrap();
    assert_eq!(ok.items.len(), 3);
    let e = run_case(
        Format::P5,
        ("sequential_data.txt", b"1 1 2 3\n1 3 2 1\n"),
        (
            "items.tsv",
            b"p5_item_id\tasin\ttitle\n1\tA1\tOne\n2\tA2\tTwo\n3\tA3\tThree\n",
        ),
        PrepareOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.contains("sequential_data.txt:2: user 1 appears again (first at line 1)"),
        "{e}"
    );
}

#[test]
fn p5_and_jsonl_formats() {
    let p = run_case(
        Format::P5,
        ("sequential_data.txt", b"1 3 1 2\r\n2 1 2\r\n3 1\r\n"),
        (
            "items.tsv",
            b"p5_item_id\tasin\ttitle\n1\tA1\tOne\n2\tA2\t\n3\tA3\tThree\n",
        ),
        PrepareOptions::default(),
    )
    .unwrap();
    assert_eq!(p.stats.users, 1);
    assert_eq!(
        (p.stats.context_users, p.stats.context_interactions),
        (2, 3),
        "users 2 and 3 have fewer than 3 items: context users"
    );
    assert_eq!(p.context[0].items, vec![0, 1]);
    assert_eq!(p.context[1].items, vec![0]);
    assert_eq!(
        p.sequences[0].items,
        vec![2, 0, 1],
        "P5 lines are already in time order"
    );
    assert_eq!(p.items[1].text, "A2", "empty title falls back to the ASIN");
    let seqs = run_case(
        Format::Jsonl,
        ("s.jsonl", b"{\"user\": \"x\", \"items\": [\"b\", \"a\", \"c\"]}\n"),
        ("items.jsonl", b"{\"id\": \"a\", \"title\": \"A\", \"tags\": [\"t1\", \"t2\"]}\n{\"id\": \"b\", \"title\": \"B\"}\n{\"id\": \"c\"}\n"),
        PrepareOptions::default(),
    )
    .unwrap();
    assert_eq!(seqs.sequences[0].items, vec![1, 0, 2]);
    assert_eq!(seqs.items[0].text, "A | t1, t2", "the title first");
    let inter = run_case(
        Format::Jsonl,
        (
            "i.jsonl",
            b"{\"user\": 7, \"item\": \"b\", \"timestamp\": 9}\n{\"user\": 7, \"item\": \"a\", \"timestamp\": 1}\n{\"user\": 7, \"item\": \"c\", \"timestamp\": 5}\n",
        ),
        ("items.jsonl", b"{\"item\": \"a\", \"title\": \"A\"}\n{\"item\": \"b\", \"title\": \"B\"}\n{\"item\": \"c\", \"title\": \"C\"}\n"),
        PrepareOptions::default(),
    )
    .unwrap();
    assert_eq!(inter.sequences[0].items, vec![0, 2, 1]);
    assert_eq!(inter.sequences[0].user, "7");
}

#[test]
fn jsonl_item_text_puts_the_title_first_then_the_shorter_fields() {
    let p = run_case(
        Format::Jsonl,
        ("s.jsonl", b"{\"user\": \"x\", \"items\": [\"a\", \"b\", \"a\"]}\n"),
        (
            "items.jsonl",
            b"{\"item\": \"a\", \"zeta\": \"Z\", \"description\": \"a long text\", \"brand\": \"Br\", \"title\": \"T\"}\n{\"item\": \"b\", \"zeta\": \"Z2\", \"alpha\": \"A2\"}\n{\"item\": \"c\", \"title\": \"Only\"}\n",
        ),
        PrepareOptions::default(),
    )
    .unwrap();
    // Not alphabetical (alpha | brand | description | title | zeta), nor
    // the file's order: the title first, then the fields by their total
    // length over the items (brand 2, alpha 2, zeta 3, description 11; ties
    // in the file's order), so that a long one is what the encoder's cut
    // shortens.
    assert_eq!(p.items[0].text, "T | Br | Z | a long text");
    assert_eq!(p.items[1].text, "A2 | Z2");
    // The name apart, for `embed` to weigh against the whole text: only
    // where an item has one and its text says more.
    assert_eq!(p.items[0].name.as_deref(), Some("T"));
    assert_eq!(
        (p.items[2].text.as_str(), p.items[2].name.as_deref()),
        ("Only", None)
    );
    assert_eq!(p.items[1].name, None);
    assert!(
        p.stats
            .text
            .contains("title, brand, alpha, zeta, description"),
        "{}",
        p.stats.text
    );
    // A `name` column leads when there is no title.
    let n = run_case(
        Format::Jsonl,
        (
            "s.jsonl",
            b"{\"user\": \"x\", \"items\": [\"a\", \"a\", \"a\"]}\n",
        ),
        (
            "items.jsonl",
            b"{\"item\": \"a\", \"category\": \"C\", \"name\": \"N\"}\n",
        ),
        PrepareOptions::default(),
    )
    .unwrap();
    assert_eq!(n.items[0].text, "N | C");
    assert_eq!(n.items[0].name.as_deref(), Some("N"));
    // A template is the text the user chose: no name apart.
    let t = run_case(
        Format::Jsonl,
        (
            "s.jsonl",
            b"{\"user\": \"x\", \"items\": [\"a\", \"a\", \"a\"]}\n",
        ),
        (
            "items.jsonl",
            b"{\"item\": \"a\", \"category\": \"C\", \"name\": \"N\"}\n",
        ),
        PrepareOptions {
            text_template: Some("{name} ({category})".into()),
            ..PrepareOptions::default()
        },
    )
    .unwrap();
    assert_eq!(
        (t.items[0].text.as_str(), t.items[0].name.as_deref()),
        ("N (C)", None)
    );
}

#[test]
fn jsonl_dates_order_interactions_and_nested_item_fields_become_text() {
    // Times as exported catalogues write them: dates, date-times, zones.
    let p = run_case(
        Format::Jsonl,
        (
            "i.jsonl",
            b"{\"user\": \"u\", \"item\": \"a\", \"timestamp\": \"2016-03-09 00:44:42\"}\n\
{\"user\": \"u\", \"item\": \"b\", \"timestamp\": \"2016-03-09T02:44:41+02:00\"}\n\
{\"user\": \"u\", \"item\": \"c\", \"timestamp\": \"2016-03-08\"}\n",
        ),
        (
            "items.jsonl",
            b"{\"item\": \"a\", \"name\": \"Joe's Pizza\", \"attributes\": {\"WiFi\": \"free\", \"Parking\": null}, \"images\": [{\"large\": \"https://x.example/a.jpg\"}], \"url\": \"http://x.example/a\"}\n\
{\"item\": \"b\", \"name\": \"B\", \"categories\": [[\"Beauty\", \"Skin\"], \"Face\"]}\n\
{\"item\": \"c\", \"name\": \"C\"}\n",
        ),
        PrepareOptions::default(),
    )
    .unwrap();
    // c (the 8th) first, then b (00:44:41 UTC) one second before a.
    assert_eq!(p.sequences[0].items, vec![2, 1, 0]);
    // Objects as "key: value", links and empty values left out.
    assert_eq!(p.items[0].text, "Joe's Pizza | WiFi: free");
    assert_eq!(p.items[1].text, "B | Beauty, Skin, Face");
    // Neither a number nor a date: the line and what was expected.
    let e = jsonl_error(
        b"{\"user\": \"u\", \"item\": \"a\", \"timestamp\": \"2016-02-30\"}\n",
        b"{\"item\": \"a\"}\n",
    );
    assert!(
        e.contains("i.jsonl:1: timestamp `2016-02-30` is not a number nor a date"),
        "{e}"
    );
}

#[test]
fn jsonl_fields_named_by_the_user_or_read_under_shop_names() {
    // Lines out of time order: the time field decides the order.
    let orders: &[u8] =
        b"{\"buyer\": \"u\", \"code\": \"c\", \"when\": \"2020-01-03\", \"grade\": 5}\n\
{\"buyer\": \"u\", \"code\": \"a\", \"when\": \"2020-01-01\", \"grade\": 1}\n\
{\"buyer\": \"u\", \"code\": \"b\", \"when\": \"2020-01-02\", \"grade\": 4}\n\
{\"buyer\": \"u\", \"code\": \"a\", \"when\": \"2020-01-04\", \"grade\": 5}\n";
    // The item file keyed by the named item field, though it has an `id` too.
    let items: &[u8] = b"{\"id\": 9, \"code\": \"a\", \"title\": \"A\"}\n{\"id\": 8, \"code\": \"b\", \"title\": \"B\"}\n{\"id\": 7, \"code\": \"c\", \"title\": \"C\"}\n";
    let named = |time: Option<&str>| FieldNames {
        user: Some("buyer".into()),
        item: Some("code".into()),
        time: time.map(Into::into),
        rating: None,
    };
    let run = |named: &FieldNames, opts| {
        run_named(
            Format::Jsonl,
            ("o.jsonl", orders),
            ("items.jsonl", items),
            opts,
            named,
        )
    };
    let p = run(&named(Some("when")), PrepareOptions::default()).unwrap();
    let text = |i: u32| p.items[i as usize].text.clone();
    let seq: Vec<String> = p.sequences[0].items.iter().map(|&i| text(i)).collect();
    // (`id` is text there: the item is keyed by `code`.)
    assert_eq!(seq, ["A | 9", "B | 8", "C | 7", "A | 9"]);
    // Without the time field: file order.
    let p = run(&named(None), PrepareOptions::default()).unwrap();
    let seq: Vec<String> = p.sequences[0]
        .items
        .iter()
        .map(|&i| p.items[i as usize].text.clone())
        .collect();
    assert_eq!(seq, ["C | 7", "A | 9", "B | 8", "A | 9"]);
    // `grade` is no rating unless named; named, the one below 3 is dropped.
    let e = run(
        &named(Some("when")),
        PrepareOptions {
            rating_threshold: Some(3.0),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(e.contains("rating"), "{e}");
    let rated = FieldNames {
        rating: Some("grade".into()),
        ..named(Some("when"))
    };
    let p = run(
        &rated,
        PrepareOptions {
            rating_threshold: Some(3.0),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(p.stats.dropped_by_rating, 1);
    // A named field the file lacks names the flag and the line's keys.
    let e = run(&named(Some("at")), PrepareOptions::default()).unwrap_err();
    assert!(
        e.contains("o.jsonl:1: no field `at` (named by --time-field); this line has `buyer`, `code`, `when`, `grade`"),
        "{e}"
    );
    // Shop exports' names are read without being named: `customer` and `ts`
    // (a number), `sku` in both files.
    let shop: &[u8] = b"{\"customer\": \"u\", \"sku\": \"b\", \"ts\": 20}\n{\"customer\": \"u\", \"sku\": \"a\", \"ts\": 10}\n{\"customer\": \"u\", \"sku\": \"c\", \"ts\": 30}\n";
    let catalogue: &[u8] = b"{\"sku\": \"a\", \"name\": \"A\"}\n{\"sku\": \"b\", \"name\": \"B\"}\n{\"sku\": \"c\", \"name\": \"C\"}\n";
    let p = run_case(
        Format::Jsonl,
        ("shop.jsonl", shop),
        ("catalogue.jsonl", catalogue),
        PrepareOptions::default(),
    )
    .unwrap();
    let seq: Vec<String> = p.sequences[0]
        .items
        .iter()
        .map(|&i| p.items[i as usize].text.clone())
        .collect();
    assert_eq!(seq, ["A", "B", "C"]);
    // The dataset records which fields it was read from.
    let d = tempfile::tempdir().unwrap();
    let (ip, tp) = (
        d.path().join("shop.jsonl"),
        d.path().join("catalogue.jsonl"),
    );
    std::fs::write(&ip, shop).unwrap();
    std::fs::write(&tp, catalogue).unwrap();
    let raw = source::read(Format::Jsonl, &ip, &tp, &FieldNames::default()).unwrap();
    let opts = PrepareOptions::default();
    let m = prepare::write(
        &raw,
        &opts,
        &prepare::build(&raw, &opts).unwrap(),
        &d.path().join("ds"),
    )
    .unwrap();
    let read = "user `customer`, item `sku`, time `ts`";
    assert_eq!(m.fields_read.as_deref(), Some(read));
    let back: serde_json::Value =
        serde_json::from_slice(&std::fs::read(d.path().join("ds/dataset.json")).unwrap()).unwrap();
    assert_eq!(back["fields_read"], read);
    // A time field named for whole sequences (whose order is their time) is an error.
    let e = run_named(
        Format::Jsonl,
        (
            "s.jsonl",
            b"{\"user\": \"u\", \"items\": [\"a\", \"b\", \"c\"]}\n",
        ),
        (
            "catalogue.jsonl",
            b"{\"item_id\": \"a\"}\n{\"item_id\": \"b\"}\n{\"item_id\": \"c\"}\n",
        ),
        PrepareOptions::default(),
        &FieldNames {
            time: Some("ts".into()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        e.contains("s.jsonl:1: a whole sequence") && e.contains("--time-field"),
        "{e}"
    );
    // A field named for input that names its own columns is a setting error.
    let f = fixture();
    let e = source::read(
        Format::Recbole,
        &f.join("tiny.inter"),
        &f.join("tiny.item"),
        &FieldNames {
            user: Some("uid".into()),
            ..Default::default()
        },
    )
    .unwrap_err();
    assert!(
        matches!(e, genrec::Error::Config(_))
            && e.to_string()
                .contains("--user-field names a field of JSONL input"),
        "{e}"
    );
}

#[test]
fn jsonl_reads_the_field_names_of_exported_catalogues() {
    // Amazon Reviews 2023: `user_id`, both `asin` and `parent_asin` (the
    // item file is keyed by `parent_asin`), times in milliseconds.
    let reviews = |extra: &str| {
        format!(
            "{{\"rating\": 5.0, \"asin\": \"B1\", \"parent_asin\": \"P2\", \"user_id\": \"U\", \"timestamp\": 1588687738923}}\n\
{{\"rating\": 2.0, \"asin\": \"B2\", \"parent_asin\": \"P1\", \"user_id\": \"U\", \"timestamp\": 1588687728923}}\n\
{{\"rating\": 4.0, \"asin\": \"B3\", \"parent_asin\": \"P3\", \"user_id\": \"U\", \"timestamp\": 1588687748923}}\n{extra}"
        )
    };
    let meta: &[u8] = b"{\"title\": \"One\", \"parent_asin\": \"P1\"}\n{\"title\": \"Two\", \"parent_asin\": \"P2\"}\n{\"title\": \"Three\", \"parent_asin\": \"P3\"}\n";
    let amazon = |extra: &str, rating_threshold| {
        run_case(
            Format::Jsonl,
            ("reviews.jsonl", reviews(extra).as_bytes()),
            ("meta.jsonl", meta),
            PrepareOptions {
                rating_threshold,
                ..Default::default()
            },
        )
        .unwrap()
    };
    assert_eq!(amazon("", None).sequences[0].items, vec![0, 1, 2]);
    // The rating is read from `rating`: P1's 2.0 is below the threshold.
    let rated = amazon(
        "{\"rating\": 3.0, \"asin\": \"B1\", \"parent_asin\": \"P2\", \"user_id\": \"U\", \"timestamp\": 1588687758923}\n",
        Some(3.0),
    );
    assert_eq!(rated.stats.dropped_by_rating, 1);
    assert_eq!(rated.sequences[0].items, vec![1, 2, 1]);
    // A rating written as a string (an export converted from CSV) is read as
    // its number; one that is no number is an error naming the line.
    let fourth = "{\"rating\": 3.0, \"asin\": \"B1\", \"parent_asin\": \"P2\", \"user_id\": \"U\", \"timestamp\": 1588687758923}\n";
    let quoted = reviews(fourth).replace("\"rating\": 2.0", "\"rating\": \" 2.0\"");
    let p = run_case(
        Format::Jsonl,
        ("reviews.jsonl", quoted.as_bytes()),
        ("meta.jsonl", meta),
        PrepareOptions {
            rating_threshold: Some(3.0),
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(p.stats.dropped_by_rating, 1);
    assert_eq!(p.sequences[0].items, vec![1, 2, 1]);
    let bad = reviews("").replace("\"rating\": 4.0", "\"rating\": \"four\"");
    let e = run_case(
        Format::Jsonl,
        ("reviews.jsonl", bad.as_bytes()),
        ("meta.jsonl", meta),
        PrepareOptions::default(),
    )
    .unwrap_err()
    .to_string();
    assert!(
        e.contains("reviews.jsonl:3: rating `four` is not a number"),
        "{e}"
    );
    // An item file written as one JSON array, on one line or pretty-printed,
    // is named as such; a line that is JSON but no object, as that.
    let array = format!(
        "[{}]",
        String::from_utf8_lossy(meta).trim().replace('\n', ",")
    );
    for items in [array.clone(), array.replace("[", "[\n")] {
        let e = run_case(
            Format::Jsonl,
            ("reviews.jsonl", reviews("").as_bytes()),
            ("meta.json", items.as_bytes()),
            PrepareOptions::default(),
        )
        .unwrap_err();
        assert!(
            e.contains("meta.json:1: a JSON array") && e.contains("JSON Lines"),
            "{e}"
        );
    }
    let e = run_case(
        Format::Jsonl,
        ("reviews.jsonl", reviews("").as_bytes()),
        (
            "meta.jsonl",
            b"{\"title\": \"One\", \"parent_asin\": \"P1\"}\n5\n",
        ),
        PrepareOptions::default(),
    )
    .unwrap_err();
    assert!(
        e.contains("meta.jsonl:2: expected a JSON object on each line"),
        "{e}"
    );
    // Yelp: `business_id` beside `review_id`, dates, `stars`; Goodreads'
    // books carry an empty `asin` before `book_id`, and the item file's id is
    // the interactions' item key.
    let yelp = run_case(
        Format::Jsonl,
        (
            "review.jsonl",
            b"{\"review_id\": \"r1\", \"user_id\": \"u\", \"business_id\": \"b\", \"stars\": 5, \"date\": \"2018-07-07 22:09:11\"}\n\
{\"review_id\": \"r2\", \"user_id\": \"u\", \"business_id\": \"a\", \"stars\": 4, \"date\": \"2018-07-06 10:00:00\"}\n\
{\"review_id\": \"r3\", \"user_id\": \"u\", \"business_id\": \"c\", \"stars\": 1, \"date\": \"2018-07-08\"}\n",
        ),
        (
            "business.jsonl",
            b"{\"business_id\": \"a\", \"name\": \"A\"}\n{\"business_id\": \"b\", \"name\": \"B\"}\n{\"business_id\": \"c\", \"name\": \"C\"}\n",
        ),
        PrepareOptions::default(),
    )
    .unwrap();
    assert_eq!(yelp.sequences[0].items, vec![0, 1, 2]);
    let books = run_case(
        Format::Jsonl,
        (
            "interactions.jsonl",
            b"{\"user_id\": \"u\", \"book_id\": \"2\", \"review_id\": \"x\", \"rating\": 3}\n\
{\"user_id\": \"u\", \"book_id\": \"1\", \"review_id\": \"y\", \"rating\": 3}\n\
{\"user_id\": \"u\", \"book_id\": \"3\", \"review_id\": \"z\", \"rating\": 3}\n",
        ),
        (
            "books.jsonl",
            b"{\"asin\": \"\", \"title\": \"One\", \"book_id\": \"1\"}\n{\"asin\": \"\", \"title\": \"Two\", \"book_id\": \"2\"}\n{\"asin\": \"\", \"title\": \"Three\", \"book_id\": \"3\"}\n",
        ),
        PrepareOptions::default(),
    )
    .unwrap();
    // No time field: each user's lines in file order.
    assert_eq!(books.sequences[0].items, vec![1, 0, 2]);
    assert_eq!(books.items[1].text, "Two");
    // The keys of line 1 are required on every line, and a missing key
    // names what is accepted.
    let e = jsonl_error(b"{\"user_id\": \"u\", \"item_id\": \"a\", \"time\": 1}\n{\"user_id\": \"u\", \"item\": \"b\", \"time\": 2}\n", b"{\"item_id\": \"a\"}\n{\"item_id\": \"b\"}\n");
    assert!(e.contains("i.jsonl:2: missing field `item_id`"), "{e}");
    let e = jsonl_error(
        b"{\"shopper\": \"u\", \"item\": \"a\"}\n",
        b"{\"item_id\": \"a\"}\n",
    );
    assert!(
        e.contains("i.jsonl:1: missing user field (expected one of user, user_id")
            && e.contains("this line has `shopper`, `item`: name yours with --user-field"),
        "{e}"
    );
    // A line lacking both says both at once (an export with its own names,
    // such as `USER_UUID` and `CONTENT_ID`).
    let e = jsonl_error(
        b"{\"USER_UUID\": \"u\", \"CONTENT_ID\": \"a\"}\n",
        b"{\"item_id\": \"a\"}\n",
    );
    assert!(
        e.contains("i.jsonl:1: missing user field (expected one of user, user_id")
            && e.contains("and item field (expected one of item_id,")
            && e.contains(
                "this line has `USER_UUID`, `CONTENT_ID`: name yours with --user-field and --item-field"
            ),
        "{e}"
    );
    let e = jsonl_error(
        b"{\"user\": \"u\", \"item\": \"a\", \"time\": 1}\n{\"user\": \"u\", \"item\": \"b\"}\n",
        b"{\"item_id\": \"a\"}\n{\"item_id\": \"b\"}\n",
    );
    assert!(e.contains("i.jsonl:2: missing field `time`"), "{e}");
}

#[test]
fn catalogue_items_without_interactions_are_kept_unless_dropped() {
    let items: &[u8] = b"item_id:token\ttitle:token_seq\na\tA\nb\tB\nc\tC\nd\tD\n";
    let inter: &[u8] =
        b"user_id:token\titem_id:token\ttimestamp:float\nu\ta\t1\nu\tb\t2\nu\tc\t3\n";
    let kept = run_case(
        Format::Recbole,
        ("x.inter", inter),
        ("x.item", items),
        PrepareOptions::default(),
    )
    .unwrap();
    assert_eq!(
        kept.items.len(),
        4,
        "d has no interaction but stays in the catalogue"
    );
    assert_eq!(kept.items[3].original_id, "d");
    assert_eq!(kept.stats.unused_items, 1);
    assert!(kept
        .stats
        .to_string()
        .contains("1 of them without interactions"));
    let dropped = run_case(
        Format::Recbole,
        ("x.inter", inter),
        ("x.item", items),
        PrepareOptions {
            drop_unused_items: true,
            ..Default::default()
        },
    )
    .unwrap();
    assert_eq!(dropped.items.len(), 3);
    assert_eq!(dropped.stats.unused_items, 0);
    // What k-core removes stays removed: c has one interaction, a and b two.
    let inter2: &[u8] = b"user_id:token\titem_id:token\ttimestamp:float\nu\ta\t1\nu\tb\t2\nu\tc\t3\nv\ta\t1\nv\tb\t2\nv\ta\t3\n";
    let k = run_case(
        Format::Recbole,
        ("x.inter", inter2),
        ("x.item", items),
        PrepareOptions {
            k_core: Some(2),
            ..Default::default()
        },
    )
    .unwrap();
    let ids: Vec<&str> = k.items.iter().map(|i| i.original_id.as_str()).collect();
    assert_eq!(
        ids,
        vec!["a", "b", "d"],
        "c removed by k-core, d kept as an unused item"
    );
}

fn genrec() -> Command {
    Command::new(env!("CARGO_BIN_EXE_genrec"))
}

fn read_dir_bytes(dir: &Path) -> Vec<(String, Vec<u8>)> {
    let mut v: Vec<_> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                std::fs::read(&p).unwrap(),
            )
        })
        .collect();
    v.sort();
    v
}

#[test]
fn cli_rerun_is_byte_identical_and_bad_input_leaves_nothing() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("prepared");
    let run = |out: &Path| {
        let o = genrec()
            .arg("prepare")
            .arg(fixture())
            .arg("--out")
            .arg(out)
            .output()
            .unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        String::from_utf8(o.stdout).unwrap()
    };
    let stdout = run(&out);
    assert!(
        stdout.contains("users          2") && stdout.contains("interactions   8"),
        "{stdout}"
    );
    assert!(
        stdout.contains("context        1 users with 1–2 interactions (2 interactions)"),
        "{stdout}"
    );
    let first = read_dir_bytes(&out);
    assert_eq!(first.len(), 7, "with context.jsonl");
    run(&out);
    assert_eq!(
        first,
        read_dir_bytes(&out),
        "re-running prepare must give byte-identical output"
    );

    // A bad input: error names the file and line, and neither a partial nor a temporary dir is left.
    let bad = d.path().join("bad");
    std::fs::create_dir(&bad).unwrap();
    std::fs::write(
        bad.join("b.inter"),
        b"user_id:token\titem_id:token\ttimestamp:float\nu\ta\t1\nu\ta\tnope\n",
    )
    .unwrap();
    std::fs::write(bad.join("b.item"), ITEMS).unwrap();
    let bad_out = d.path().join("bad_out");
    let o = genrec()
        .arg("prepare")
        .arg(&bad)
        .arg("--out")
        .arg(&bad_out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("b.inter:3: timestamp `nope` is not a number"),
        "{err}"
    );
    assert!(!bad_out.exists());
    let names: Vec<_> = std::fs::read_dir(d.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(names.len(), 2, "no temporary leftovers: {names:?}");
    // The previous good output is untouched by a failed run into the same place.
    let o = genrec()
        .arg("prepare")
        .arg(&bad)
        .arg("--out")
        .arg(&out)
        .output()
        .unwrap();
    assert!(!o.status.success());
    assert_eq!(first, read_dir_bytes(&out));
}

#[test]
fn ml100k_stats() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("data/ml-100k");
    assert!(
        root.join("ml-100k.inter").exists(),
        "ML-100K missing: run scripts/setup.sh"
    );
    let raw = source::read(
        Format::Recbole,
        &root.join("ml-100k.inter"),
        &root.join("ml-100k.item"),
        &FieldNames::default(),
    )
    .unwrap();
    let p = prepare::build(&raw, &PrepareOptions::default()).unwrap();
    assert_eq!(
        (p.stats.users, p.stats.items, p.stats.interactions),
        (943, 1682, 100_000)
    );
}

#[test]
fn amazon_beauty_stats() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/data/amazon-beauty");
    if !root.exists() {
        eprintln!("skipped: {} not present", root.display());
        return;
    }
    let raw = source::read(
        Format::P5,
        &root.join("sequential_data.txt"),
        &root.join("items.tsv"),
        &FieldNames::default(),
    )
    .unwrap();
    let p = prepare::build(&raw, &PrepareOptions::default()).unwrap();
    assert_eq!(
        (p.stats.users, p.stats.items, p.stats.interactions),
        (22_363, 12_101, 198_502)
    );
}

/// Writes `bytes` gzip-compressed to `path`.
fn write_gz(path: &Path, bytes: &[u8]) {
    use std::io::Write;
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(bytes).unwrap();
    std::fs::write(path, e.finish().unwrap()).unwrap();
}

/// Catalogues are published gzipped (Amazon Reviews 2023's `.jsonl.gz`):
/// the format is told through a final `.gz`, a RecBole directory's files
/// are found with it, and the prepared dataset is the plain files' own.
#[test]
fn gzip_files_prepare_as_their_plain_text() {
    let d = tempfile::tempdir().unwrap();
    let opts = PrepareOptions::default();
    let same = |a: &prepare::Prepared, b: &prepare::Prepared| {
        assert_eq!(format!("{:?}", a.items), format!("{:?}", b.items));
        assert_eq!(format!("{:?}", a.sequences), format!("{:?}", b.sequences));
        assert_eq!(format!("{:?}", a.context), format!("{:?}", b.context));
    };
    let rb = d.path().join("rb");
    std::fs::create_dir(&rb).unwrap();
    for n in ["tiny.inter", "tiny.item"] {
        let plain = std::fs::read(fixture().join(n)).unwrap();
        write_gz(&rb.join(format!("{n}.gz")), &plain);
    }
    let (format, inter, items) = source::resolve(&rb, None, None).unwrap();
    assert_eq!(format, Format::Recbole);
    assert_eq!(inter, rb.join("tiny.inter.gz"));
    assert_eq!(items, rb.join("tiny.item.gz"));
    let raw = source::read(format, &inter, &items, &FieldNames::default()).unwrap();
    same(
        &prepare::build(&raw, &opts).unwrap(),
        &prepared(&opts).unwrap(),
    );

    let inter: &[u8] = b"{\"user\": 7, \"item\": \"b\", \"timestamp\": 9}\n{\"user\": 7, \"item\": \"a\", \"timestamp\": 1}\n{\"user\": 7, \"item\": \"c\", \"timestamp\": 5}\n";
    let items: &[u8] = b"{\"item\": \"a\", \"title\": \"A\"}\n{\"item\": \"b\", \"title\": \"B\", \"tags\": [\"x\"]}\n{\"item\": \"c\", \"title\": \"C\"}\n";
    let (i_gz, t_gz) = (d.path().join("r.jsonl.gz"), d.path().join("m.jsonl.gz"));
    write_gz(&i_gz, inter);
    write_gz(&t_gz, items);
    let (format, ip, tp) = source::resolve(&i_gz, Some(&t_gz), None).unwrap();
    assert_eq!(
        (format, ip.as_path(), tp.as_path()),
        (Format::Jsonl, i_gz.as_path(), t_gz.as_path())
    );
    let gz = source::read(format, &ip, &tp, &FieldNames::default())
        .and_then(|raw| prepare::build(&raw, &opts))
        .unwrap();
    let plain = run_case(
        Format::Jsonl,
        ("i.jsonl", inter),
        ("items.jsonl", items),
        opts.clone(),
    )
    .unwrap();
    same(&gz, &plain);
    assert_eq!(gz.sequences[0].items, vec![0, 2, 1]);

    // A compression genrec does not read is named, with the file.
    let zst = d.path().join("r.jsonl.zst");
    std::fs::write(&zst, [0x28, 0xb5, 0x2f, 0xfd, 0, 0]).unwrap();
    let e = source::read(Format::Jsonl, &zst, &t_gz, &FieldNames::default())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("r.jsonl.zst") && e.contains("zstd-compressed"),
        "{e}"
    );
}

/// Amazon's 2014 metadata files hold Python dicts, not JSON: the error says so.
#[test]
fn python_dict_lines_are_named() {
    let e = jsonl_error(
        b"{\"user\": 1, \"item\": \"a\", \"timestamp\": 1}\n",
        b"{'asin': 'a', 'title': 'A'}\n",
    );
    assert!(
        e.contains("items.jsonl:1:") && e.contains("a Python dict, not JSON"),
        "{e}"
    );
}

/// CSV with a header reads as the JSONL records it stands for: Amazon
/// Reviews 2023's benchmark splits (`user_id,parent_asin,rating,timestamp`
/// and a `history` of spaced ids) beside a gzipped items JSONL, and items
/// as CSV (quoted commas and line breaks, a data frame's unnamed index
/// column) or tab-separated.
#[test]
fn csv_files_read_as_the_records_they_stand_for() {
    let d = tempfile::tempdir().unwrap();
    let opts = PrepareOptions::default();
    let jsonl_inter: &[u8] = b"{\"user_id\": \"u1\", \"parent_asin\": \"b\", \"rating\": 5.0, \"timestamp\": 1588615855070}\n{\"user_id\": \"u1\", \"parent_asin\": \"a\", \"rating\": 4.0, \"timestamp\": 1588615800000}\n{\"user_id\": \"u1\", \"parent_asin\": \"c\", \"rating\": 3.0, \"timestamp\": 1588615900000}\n";
    let jsonl_items: &[u8] = b"{\"parent_asin\": \"a\", \"title\": \"Soap, lavender\", \"store\": \"S\"}\n{\"parent_asin\": \"b\", \"title\": \"Brush\", \"store\": \"T\"}\n{\"parent_asin\": \"c\", \"title\": \"Comb\", \"store\": \"\"}\n";
    let plain = run_case(
        Format::Jsonl,
        ("i.jsonl", jsonl_inter),
        ("items.jsonl", jsonl_items),
        opts.clone(),
    )
    .unwrap();
    assert_eq!(plain.sequences[0].items, vec![0, 1, 2]);
    assert_eq!(plain.items[0].text, "Soap, lavender | S");

    let csv_inter = d.path().join("Beauty.train.csv");
    // The splits concatenated (`cat train.csv valid.csv`): the header again is no row.
    std::fs::write(&csv_inter, "user_id,parent_asin,rating,timestamp,history\nu1,b,5.0,1588615855070,a\nu1,a,4.0,1588615800000,\nuser_id,parent_asin,rating,timestamp,history\nu1,c,3.0,1588615900000,a b\n").unwrap();
    let items_gz = d.path().join("meta.jsonl.gz");
    write_gz(&items_gz, jsonl_items);
    let (format, ip, tp) = source::resolve(&csv_inter, Some(&items_gz), None).unwrap();
    assert_eq!(
        format,
        Format::Jsonl,
        "a .csv is the generic format's records"
    );
    let raw = source::read(format, &ip, &tp, &FieldNames::default()).unwrap();
    assert_eq!(
        raw.interaction_keys.as_deref(),
        Some("user `user_id`, item `parent_asin`, time `timestamp`, rating `rating`")
    );
    let csv = prepare::build(&raw, &opts).unwrap();
    assert_eq!(
        format!("{:?}", csv.sequences),
        format!("{:?}", plain.sequences)
    );
    assert_eq!(format!("{:?}", csv.items), format!("{:?}", plain.items));

    let items_csv =
        ",parent_asin,title,store\n0,a,\"Soap, lavender\",S\n1,b,\"Brush\",T\n2,c,Comb,\n";
    let items_tsv = "parent_asin\ttitle\tstore\na\tSoap, lavender\tS\nb\tBrush\tT\nc\tComb\t\n";
    let items_semi = "parent_asin;title;store\na;\"Soap, lavender\";S\nb;Brush;T\nc;Comb;\n";
    for (name, text) in [
        ("items.csv", items_csv),
        ("items.tsv", items_tsv),
        ("items-semicolons.csv", items_semi),
    ] {
        let p = run_case(
            Format::Jsonl,
            ("i.jsonl", jsonl_inter),
            (name, text.as_bytes()),
            opts.clone(),
        )
        .unwrap();
        assert_eq!(
            format!("{:?}", p.items),
            format!("{:?}", plain.items),
            "{name}"
        );
    }
    // A quoted line break stays in its field; later rows keep their lines.
    let items_error = |text: &str| {
        run_case(
            Format::Jsonl,
            ("i.jsonl", jsonl_inter),
            ("items.csv", text.as_bytes()),
            opts.clone(),
        )
        .unwrap_err()
    };
    let e = items_error("parent_asin,title\na,\"Soap\nlavender\"\nb,Brush\nc\n");
    assert!(
        e.contains("items.csv:5: found 1 comma-separated fields, expected 2"),
        "{e}"
    );
    let e = items_error("parent_asin,title,title\na,A,B\n");
    assert!(
        e.contains("items.csv:1: column `title` appears twice"),
        "{e}"
    );
    let e = run_case(
        Format::Jsonl,
        ("i.csv", b"user_id,parent_asin,timestamp\n"),
        ("items.jsonl", jsonl_items),
        opts,
    )
    .unwrap_err();
    assert!(
        e.contains("i.csv:1: the file has a header but no data rows"),
        "{e}"
    );
}

/// Exports spell the accepted names in their own case and separators
/// (`visitorid`, `UserId`, `ProductId`, `Score`, `Time`, `Item ID`): read as
/// the names they stand for, the line's own spelling kept; an exact
/// spelling anywhere in the list still comes first.
#[test]
fn field_names_are_matched_case_and_separators_aside() {
    let items: &[u8] = b"Item ID,Title\n10,Ten\n11,Eleven\n12,Twelve\n";
    let events = b"timestamp,visitorid,event,itemid\n3,7,view,12\n1,7,view,10\n2,7,cart,11\n";
    let p = run_case(
        Format::Jsonl,
        ("events.csv", events),
        ("items.csv", items),
        PrepareOptions::default(),
    )
    .unwrap();
    assert_eq!(p.sequences[0].items, vec![0, 1, 2]);
    assert_eq!(p.items[0].text, "Ten");
    let d = tempfile::tempdir().unwrap();
    let (ip, tp) = (d.path().join("Reviews.csv"), d.path().join("items.csv"));
    std::fs::write(&ip, "Id,ProductId,UserId,Score,Time,Summary\n1,12,A,5,1300,good\n2,10,A,4,1100,ok\n3,11,A,1,1200,bad\n").unwrap();
    std::fs::write(&tp, items).unwrap();
    let raw = source::read(Format::Jsonl, &ip, &tp, &FieldNames::default()).unwrap();
    assert_eq!(
        raw.interaction_keys.as_deref(),
        Some("user `UserId`, item `ProductId`, time `Time`, rating `Score`"),
        "the review's `Id` is not the item"
    );
    let p = prepare::build(&raw, &PrepareOptions::default()).unwrap();
    assert_eq!(p.sequences[0].items, vec![0, 1, 2]);
    // `user` spelled exactly wins over `User_Id` spelled loosely.
    std::fs::write(
        &ip,
        b"{\"User_Id\": \"x\", \"user\": \"u\", \"item\": \"10\", \"time\": 1}\n",
    )
    .unwrap();
    let raw = source::read(Format::Jsonl, &ip, &tp, &FieldNames::default()).unwrap();
    assert!(raw
        .interaction_keys
        .unwrap()
        .starts_with("user `user`, item `item`"));
    assert_eq!(raw.interactions[0].user, "u");
}

/// Spreadsheet exports write dates with slashes (`12/1/2010 8:26`): month or
/// day first as the file's own dates show, an error where they cannot tell
/// or disagree.
#[test]
fn slash_dates_take_the_order_the_file_shows() {
    let items = b"item,title\na,A\nb,B\nc,C\n";
    let order = |dates: [&str; 3]| {
        let inter = format!(
            "user,item,date\nu,a,{}\nu,b,{}\nu,c,{}\n",
            dates[0], dates[1], dates[2]
        );
        run_case(
            Format::Jsonl,
            ("i.csv", inter.as_bytes()),
            ("items.csv", items),
            PrepareOptions::default(),
        )
        .map(|p| p.sequences[0].items.clone())
    };
    // Month first (13 is a day): 12/1 < 12/13/2010 < 1/2/2011.
    assert_eq!(
        order(["1/2/2011 10:00", "12/1/2010 8:26", "12/13/2010 9:00"]).unwrap(),
        [1, 2, 0]
    );
    // Day first (13 is a day): 2 Jan < 13 Jan < 1 Feb.
    assert_eq!(
        order(["1/2/2010", "13/1/2010", "2/1/2010"]).unwrap(),
        [2, 1, 0]
    );
    let e = order(["1/2/2010", "2/1/2010", "3/1/2010"]).unwrap_err();
    assert!(
        e.contains("i.csv:2: `1/2/2010`") && e.contains("could be month/day or day/month"),
        "{e}"
    );
    let e = order(["13/1/2010", "1/13/2010", "3/1/2010"]).unwrap_err();
    assert!(e.contains("i.csv:3:") && e.contains("disagree"), "{e}");
    let e = order(["2/30/2010", "1/13/2010", "3/1/2010"]).unwrap_err();
    assert!(e.contains("i.csv:2: `2/30/2010` is not a real date"), "{e}");
}

/// Book-Crossing as its files are (`BX-Book-Ratings.csv`, `BX-Books.csv`):
/// semicolons, every field quoted, CRLF, Latin-1 text, quotes inside titles
/// escaped by a backslash, one ISBN listed twice (once with a tab after
/// it), and the id column `ISBN`; genrec prepares it as it comes.
#[test]
fn book_crossing_files_prepare_as_they_come() {
    let ratings: &[u8] = b"\"User-ID\";\"ISBN\";\"Book-Rating\"\r\n\"7\";\"0001\";\"0\"\r\n\"7\";\"0002\";\"5\"\r\n\"7\";\"0003\";\"8\"\r\n\"9\";\"0002\";\"0\"\r\n\"9\";\"0003\";\"7\"\r\n\"9\";\"0001\";\"6\"\r\n";
    let books: &[u8] = b"\"ISBN\";\"Book-Title\";\"Book-Author\";\"Publisher\";\"Image-URL-S\"\r\n\"0001\";\"The Word \\\"Desire\\\" &amp; More\";\"Rikki Ducornet\";\"Holt\";\"http://images.example/1.jpg\"\r\n\"0002\";\"Caf\xe9 Stories\";\"Ana\";\"Pr\xe9s; Partners\";\"http://images.example/2.jpg\"\r\n\"0003\";\"Plain\";\"Bo\";\"Penguin\";\"http://images.example/3.jpg\"\r\n\"0002\t\";\"Caf\xe9 Stories\";\"Ana\";\"Pr\xe9s; Partners\";\"http://images.example/2.jpg\"\r\n";
    let p = run_case(
        Format::Jsonl,
        ("BX-Book-Ratings.csv", ratings),
        ("BX-Books.csv", books),
        PrepareOptions::default(),
    )
    .unwrap();
    assert_eq!(p.items.len(), 3, "the repeated row is the same book");
    let text = |id: &str| &p.items.iter().find(|i| i.original_id == id).unwrap().text;
    assert_eq!(
        text("0001"),
        "The Word \"Desire\" & More | Rikki Ducornet | Holt"
    );
    assert_eq!(text("0002"), "Café Stories | Ana | Prés; Partners");
    // Each user's lines in file order: user 7 read 0001, 0002, 0003.
    assert_eq!(p.sequences[0].items, vec![0, 1, 2]);
    // The same title with its quotes doubled (RFC 4180) reads the same, with
    // no backslash reading needed; a backslash reading that fails as well
    // reports the standard reading's error.
    let std_books = String::from_utf8_lossy(books)
        .replace("\\\"", "\"\"")
        .into_bytes();
    let q = run_case(
        Format::Jsonl,
        ("BX-Book-Ratings.csv", ratings),
        ("BX-Books.csv", &std_books),
        PrepareOptions::default(),
    )
    .unwrap();
    assert_eq!(text("0001"), &q.items[0].text);
    let e = jsonl_error(ratings, b"\"ISBN\";\"t\"\n\"0001\";\"a \\\"b\\\"\";\"x\"\n");
    assert!(
        e.contains("items.jsonl:2: found 3 semicolon-separated fields"),
        "{e}"
    );
    // Errors name the row's line in CRLF files too.
    let e = jsonl_error(
        ratings,
        b"\"ISBN\";\"t\"\r\n\"0001\";\"a\"\r\n\"0002\";\"b\";\"c\"\r\n",
    );
    assert!(
        e.contains("items.jsonl:3: found 3 semicolon-separated fields"),
        "{e}"
    );
}

/// A shop export's product rows: the description as HTML (Shopify's
/// `Body (HTML)`), entities in the title. The texts are what a shopper reads:
/// tags gone, entities decoded, in the text and in the name apart; a value
/// that is only markup is left out like an empty one; a template's values
/// are read the same way.
#[test]
fn html_in_item_fields_is_read_as_plain_text() {
    let seqs: &[u8] = b"{\"user\": \"x\", \"items\": [\"a\", \"b\", \"a\"]}\n";
    let items: &[u8] = b"{\"item\": \"a\", \"Title\": \"Tee &amp; Co\", \"Body (HTML)\": \"<p><span style=\\\"font-weight: 400;\\\">Soft <b>cotton</b>,&nbsp;caf&eacute; blend</span></p>\"}\n{\"item\": \"b\", \"Title\": \"Mug <3\", \"Body (HTML)\": \"<br/>\"}\n";
    let p = run_case(
        Format::Jsonl,
        ("s.jsonl", seqs),
        ("products.jsonl", items),
        PrepareOptions::default(),
    )
    .unwrap();
    assert_eq!(p.items[0].text, "Tee & Co | Soft cotton, café blend");
    assert_eq!(p.items[0].name.as_deref(), Some("Tee & Co"));
    // `<3` opens no element; a description of one `<br/>` is empty.
    assert_eq!(
        (p.items[1].text.as_str(), p.items[1].name.as_deref()),
        ("Mug <3", None)
    );
    assert!(
        p.stats.text.ends_with("HTML read as plain text"),
        "{}",
        p.stats.text
    );
    assert!(p.recipe.markup_as_text);
    let t = run_case(
        Format::Jsonl,
        ("s.jsonl", seqs),
        ("products.jsonl", items),
        PrepareOptions {
            text_template: Some("{Title}: {Body (HTML)}".into()),
            ..PrepareOptions::default()
        },
    )
    .unwrap();
    assert_eq!(t.items[0].text, "Tee & Co: Soft cotton, café blend");
}
