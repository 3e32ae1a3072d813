//! The tch BERT against Hugging Face: the tiny random fixture (last hidden state,
//! pooled embedding) and the real all-MiniLM-L6-v2 (token ids and embeddings).
use genrec::embed::bert::{l2_normalize, mean_pool, Bert, BertConfig};
use genrec::embed::TextEncoder;
use genrec::util::st::{load_into, StFile};
use std::path::Path;
use tch::{nn, Device, Kind, Tensor};

fn fixtures() -> &'static Path {
    Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures"))
}

fn max_abs_diff(a: &Tensor, b: &Tensor) -> f64 {
    (a - b).abs().max().double_value(&[])
}

#[test]
fn bert_tiny_matches_transformers() {
    let dir = fixtures().join("bert_tiny");
    let cfg = BertConfig::from_file(&dir.join("config.json")).unwrap();
    let vs = nn::VarStore::new(Device::Cpu);
    let bert = Bert::new(vs.root(), &cfg);
    let wp = dir.join("weights.safetensors");
    let mut w = StFile::read(&wp).unwrap();
    load_into(
        &vs,
        &mut w,
        &wp,
        &["pooler.dense.weight", "pooler.dense.bias"],
    )
    .unwrap();
    let ep = dir.join("expected.safetensors");
    let e = StFile::read(&ep).unwrap();
    let ids = e.get(&ep, "input_ids").unwrap();
    let mask = e.get(&ep, "attention_mask").unwrap();
    let _g = tch::no_grad_guard();
    let h = bert.forward(ids, mask);
    let d = max_abs_diff(&h, e.get(&ep, "last_hidden_state").unwrap());
    assert!(d < 1e-5, "last_hidden_state differs by {d}");
    let pooled = mean_pool(&h, mask);
    let d = max_abs_diff(&pooled, e.get(&ep, "mean_pooled").unwrap());
    assert!(d < 1e-5, "mean_pooled differs by {d}");
    let emb = l2_normalize(&pooled);
    let d = max_abs_diff(&emb, e.get(&ep, "sentence_embedding").unwrap());
    assert!(d < 1e-5, "sentence_embedding differs by {d}");
    // Padding must not leak: row 2 alone, unpadded, gives the same embedding.
    let len = mask.get(2).sum(Kind::Int64).int64_value(&[]);
    let solo_ids = ids.get(2).narrow(0, 0, len).unsqueeze(0);
    let solo_mask = solo_ids.ones_like();
    let solo = l2_normalize(&mean_pool(&bert.forward(&solo_ids, &solo_mask), &solo_mask));
    assert!(max_abs_diff(&solo.get(0), &emb.get(2)) < 1e-6);
}

#[test]
fn minilm_matches_sentence_transformers() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let enc_dir = root.join("checkpoints/encoders/all-MiniLM-L6-v2");
    let tok = root.join("tokenizer/all-MiniLM-L6-v2/tokenizer.json");
    assert!(
        enc_dir.join("model.safetensors").exists(),
        "encoder missing: run scripts/setup.sh"
    );
    let reference: serde_json::Value =
        serde_json::from_slice(&std::fs::read(fixtures().join("minilm_reference.json")).unwrap())
            .unwrap();
    let enc = TextEncoder::load(&enc_dir, &tok, Device::Cpu).unwrap();
    assert_eq!(
        enc.weights_sha256,
        reference["files_sha256"]["model.safetensors"]
            .as_str()
            .unwrap()
    );
    let cases = reference["texts"].as_array().unwrap();
    let texts: Vec<&str> = cases.iter().map(|c| c["text"].as_str().unwrap()).collect();
    let ids = enc.tokenize(&texts).unwrap();
    for (c, got) in cases.iter().zip(&ids) {
        let want: Vec<u32> = c["token_ids"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_u64().unwrap() as u32)
            .collect();
        assert_eq!(got, &want, "token ids of {:?}", c["text"]);
    }
    // Batched (padded to the longest) and in a different order than the file.
    let emb = enc.encode(&texts, 2, &genrec::progress::Silent).unwrap();
    for (i, c) in cases.iter().enumerate() {
        let want: Vec<f32> = c["embedding_full_384"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect();
        let d = max_abs_diff(&emb.get(i as i64), &Tensor::from_slice(&want));
        assert!(d < 1e-5, "embedding {i} differs by {d}");
    }
}

#[test]
fn long_texts_are_truncated_at_256_not_128() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let enc = TextEncoder::load(
        &root.join("checkpoints/encoders/all-MiniLM-L6-v2"),
        &root.join("tokenizer/all-MiniLM-L6-v2/tokenizer.json"),
        Device::Cpu,
    )
    .unwrap();
    let long = "word ".repeat(400);
    let ids = enc.tokenize(&[long.as_str(), "short"]).unwrap();
    assert_eq!(ids[0].len(), 256);
    assert_eq!(ids[1].len(), 3, "no padding: [CLS] short [SEP]");
    // 254 words fit exactly; 255 are one too many.
    let fits = "word ".repeat(254);
    let over = "word ".repeat(255);
    let (_, cut) = enc
        .tokenize_counted(&[long.as_str(), "short", fits.as_str(), over.as_str()])
        .unwrap();
    assert_eq!(cut, 2, "the 400- and 255-word texts were truncated");
    let e = enc
        .encode_counted(&[long.as_str(), "short"], 2, &genrec::progress::Silent)
        .unwrap();
    assert_eq!((e.truncated, e.mean_tokens), (1, (256.0 + 3.0) / 2.0));
}

/// The text verifier's reader (`verify::text`) splits MiniLM into frozen
/// layers read per item and upper layers read per pair: a candidate read
/// with no history, before any training (the mark is zero), must come out of
/// the split exactly as out of the whole encoder, wherever the split is; a
/// history changes what the candidate's tokens read; and padding in a batch
/// must not leak.
#[test]
fn text_reader_reads_a_lone_candidate_as_the_whole_encoder_does() {
    use genrec::embed::{load_tokenizer, tokenize_with};
    use genrec::verify::text::{ReaderShape, TextHead, TextReader, TEXT_TOKENS};
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let enc_dir = root.join("checkpoints/encoders/all-MiniLM-L6-v2");
    let tok = load_tokenizer(
        &root.join("tokenizer/all-MiniLM-L6-v2/tokenizer.json"),
        TEXT_TOKENS,
    )
    .unwrap();
    let texts = [
        "Toy Story (1995) | Animation Children's Comedy",
        "GoldenEye (1995) | Action Adventure Thriller",
        "Vitamin C serum with hyaluronic acid, 30 ml, for dull and dry skin",
    ];
    let (ids, _) = tokenize_with(&tok, &texts).unwrap();
    let empty: &[u32] = &[];
    let history: &[u32] = &[0, 2];
    for frozen in [0, 3, 5] {
        let shape = ReaderShape {
            frozen,
            budget: 48,
            head: TextHead::Candidate,
        };
        let reader = TextReader::load(&enc_dir, shape, Device::Cpu).unwrap();
        let items = reader.read_items(&ids);
        let _g = tch::no_grad_guard();
        let pooled = reader.pooled(&items, &[(empty, 0), (history, 1), (empty, 1)]);
        for (row, item) in [(0i64, 0usize), (2, 1)] {
            let t =
                Tensor::from_slice(&ids[item].iter().map(|&x| i64::from(x)).collect::<Vec<_>>())
                    .unsqueeze(0);
            let mask = t.ones_like();
            let whole = mean_pool(&reader.bert.forward(&t, &mask), &mask);
            let d = max_abs_diff(&pooled.get(row), &whole.get(0));
            assert!(d < 1e-5, "frozen {frozen}: item {item} differs by {d}");
        }
        let d = max_abs_diff(&pooled.get(1), &pooled.get(2));
        assert!(
            d > 1e-3,
            "frozen {frozen}: the history changed nothing ({d})"
        );
        let alone = reader.pooled(&items, &[(history, 1)]);
        let d = max_abs_diff(&alone.get(0), &pooled.get(1));
        assert!(d < 1e-5, "frozen {frozen}: padding leaked ({d})");
        // The comparing head reads [c, h, c·h, |c − h|]: the candidate's
        // mean first, then the history's (zero without one).
        let compare = TextReader::load(
            &enc_dir,
            ReaderShape {
                head: TextHead::Compare,
                ..shape
            },
            Device::Cpu,
        )
        .unwrap();
        let both = compare.pooled(&items, &[(empty, 0), (history, 1)]);
        assert_eq!(both.size(), [2, 4 * 384]);
        assert!(max_abs_diff(&both.get(0).narrow(0, 0, 384), &pooled.get(0)) < 1e-5);
        assert_eq!(
            both.get(0)
                .narrow(0, 384, 768)
                .abs()
                .max()
                .double_value(&[]),
            0.0
        );
        let (c, h) = (
            both.get(1).narrow(0, 0, 384),
            both.get(1).narrow(0, 384, 384),
        );
        assert!(max_abs_diff(&c, &pooled.get(1)) < 1e-5);
        assert!(max_abs_diff(&both.get(1).narrow(0, 768, 384), &(&c * &h)) < 1e-6);
        assert!(h.abs().max().double_value(&[]) > 0.0);
    }
}
