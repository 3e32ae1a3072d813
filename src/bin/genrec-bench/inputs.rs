//! Benchmark inputs: long item texts for the embedding benchmark, and a
//! seeded synthetic catalogue (embeddings and a small JSONL dataset) for the
//! k-means benchmark and for timing `genrec index` on it.
/// `n` long texts: item text i followed by the next ones until about 1,500
/// characters (a product title with a long description).
pub(crate) fn long_texts(texts: &[&str], n: usize) -> Vec<String> {
    (0..n)
        .map(|i| {
            let mut s = String::new();
            let mut j = i;
            while s.len() < 1500 && !texts.is_empty() {
                if !s.is_empty() {
                    s.push_str(". ");
                }
                s.push_str(texts[j % texts.len()]);
                j += 1;
            }
            s
        })
        .collect()
}

pub(crate) fn parse_shape(s: &str) -> Result<(usize, usize), String> {
    let (n, d) = s.split_once('x').ok_or("expected NxD, e.g. 200000x64")?;
    let p = |v: &str| v.trim().parse::<usize>().map_err(|e| format!("`{v}`: {e}"));
    Ok((p(n)?, p(d)?))
}

/// `n` unit vectors in `d` dimensions around 2,000 seeded centres, with
/// clusters of uneven size and spread (like text embeddings of a catalogue).
pub(crate) fn synthetic_catalogue(n: usize, d: usize, seed: u64) -> Vec<f32> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed);
    let normal = |rng: &mut rand_xoshiro::Xoshiro256PlusPlus| -> f32 {
        // Box–Muller.
        let (u, v): (f32, f32) = (rng.gen_range(1e-7..1.0), rng.gen_range(0.0..1.0));
        (-2.0 * u.ln()).sqrt() * (std::f32::consts::TAU * v).cos()
    };
    let c = 2000.min(n.max(1));
    let centres: Vec<f32> = (0..c * d).map(|_| normal(&mut rng)).collect();
    let spread: Vec<f32> = (0..c).map(|_| rng.gen_range(0.1..0.6)).collect();
    let mut x = Vec::with_capacity(n * d);
    for _ in 0..n {
        // Zipf-like cluster sizes: small cluster ids are picked more often.
        let k = ((rng.gen_range(0.0f64..1.0).powi(2)) * c as f64) as usize % c;
        let row: Vec<f32> = (0..d)
            .map(|j| centres[k * d + j] + spread[k] * normal(&mut rng))
            .collect();
        let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt().max(1e-12);
        x.extend(row.iter().map(|v| v / norm));
    }
    x
}

/// A JSONL dataset over the synthetic catalogue (every item in items.jsonl, a
/// few hundred users of five interactions each) and its embeddings, so that
/// `genrec prepare`, `genrec embed --from` and `genrec index` run on it.
pub(crate) fn write_synthetic_dataset(
    dir: &std::path::Path,
    x: &[f32],
    n: usize,
    d: usize,
) -> anyhow::Result<()> {
    use std::io::Write;
    std::fs::create_dir_all(dir)?;
    let mut items = std::io::BufWriter::new(std::fs::File::create(dir.join("items.jsonl"))?);
    for i in 0..n {
        writeln!(
            items,
            "{{\"item\": \"s{i}\", \"title\": \"synthetic item {i}\"}}"
        )?;
    }
    items.flush()?;
    let mut inter = std::io::BufWriter::new(std::fs::File::create(dir.join("interactions.jsonl"))?);
    for u in 0..500 {
        for p in 0..5 {
            writeln!(
                inter,
                "{{\"user\": \"u{u}\", \"item\": \"s{}\", \"timestamp\": {p}}}",
                (u * 7919 + p * 104_729) % n
            )?;
        }
    }
    inter.flush()?;
    let m = tch::Tensor::from_slice(x).view([n as i64, d as i64]);
    genrec::util::st::write(
        &dir.join("embeddings.safetensors"),
        &[("embeddings".to_string(), m)],
        &Default::default(),
    )?;
    Ok(())
}
