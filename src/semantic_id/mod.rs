//! Semantic IDs by residual k-means (RQ-KMeans): level 1 clusters the item
//! embeddings into K codes, each next level clusters the residuals left by the
//! centroids chosen so far. Items sharing all L codes get an extra collision
//! digit 0, 1, 2, … (TIGER, Rajput et al. 2023), so every item has a unique ID
//! of L + 1 tokens. `Scheme::Random` gives random codes of the same shape (the
//! ablation TIGER reports).
pub mod collab;
pub mod kmeans;
pub mod reassign;
pub mod store;
pub mod trie;
pub mod vocab;

use crate::error::{Error, Result};
use crate::util::hash::Hasher;
use crate::util::st::{self, StFile};
pub use kmeans::Backend;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use tch::{Kind, Tensor};
pub use trie::Trie;
pub use vocab::Vocab;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Scheme {
    /// Residual k-means over the embeddings
    RqKmeans,
    /// Random codes of the same shape (ablation)
    Random,
}

/// What happens to items that residual k-means gives the same L codes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Collisions {
    /// Each keeps its nearest codes; a collision digit 0, 1, 2, … tells them apart (TIGER)
    #[default]
    Digit,
    /// Items sharing a prefix get distinct last-level codes by minimum-cost
    /// assignment; the digit only where a prefix has more items than codes
    Reassign,
}

/// Index parameters; [`IndexParams::check`] validates them against the data
/// before any work starts.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IndexParams {
    pub levels: usize,
    pub codebook_size: usize,
    pub backend: Backend,
    pub scheme: Scheme,
    pub seed: u64,
    pub max_iter: usize,
    pub tolerance: f32,
    /// k-means fits on at most this many points per centroid, then assigns
    /// every item (0: fits on all items; indexes built before this existed).
    #[serde(default)]
    pub max_points_per_centroid: usize,
    #[serde(default)]
    pub collisions: Collisions,
    /// Weight of the collaborative vectors appended to the text embeddings
    /// before clustering ([`collab`]); 0: text alone.
    #[serde(default)]
    pub collab_weight: f32,
    /// Width of the collaborative vectors (when `collab_weight` > 0).
    #[serde(default)]
    pub collab_dim: usize,
}

impl IndexParams {
    /// Defaults: 3 levels, K from [`default_codebook_size`], Faiss k-means
    /// (at most 256 points per centroid, as Faiss recommends), RQ-KMeans,
    /// collisions reassigned, collaborative vectors (64 wide) at weight 1
    /// beside the text, seed 42 (benches/RESULTS.md has the measurements
    /// behind each choice).
    pub fn for_catalogue(n_items: usize) -> Self {
        Self {
            levels: 3,
            codebook_size: default_codebook_size(n_items),
            backend: Backend::Faiss,
            scheme: Scheme::RqKmeans,
            seed: 42,
            max_iter: 100,
            tolerance: 1e-4,
            max_points_per_centroid: 256,
            collisions: Collisions::Reassign,
            // Validation NDCG@10, paired: ML-100K 0.0797 → 0.0926, Beauty (CPU
            // recipe) 0.0280 → 0.0356 (benches/RESULTS.md).
            collab_weight: 1.0,
            collab_dim: 64,
        }
    }

    /// The k-means fit of level `level`.
    pub fn kmeans_spec(&self, level: usize) -> kmeans::KmeansSpec {
        kmeans::KmeansSpec {
            backend: self.backend,
            k: self.codebook_size,
            max_iter: self.max_iter,
            tolerance: self.tolerance,
            seed: self.seed.wrapping_add(level as u64),
            max_points_per_centroid: self.max_points_per_centroid,
        }
    }

    pub fn check(&self, n_items: usize) -> Result<()> {
        if self.levels == 0 {
            return Err(Error::Config("levels must be at least 1".into()));
        }
        if self.codebook_size < 2 || self.codebook_size > 65_536 {
            return Err(Error::Config(format!(
                "codebook size must be in 2..=65536, got {}",
                self.codebook_size
            )));
        }
        if self.codebook_size > n_items {
            return Err(Error::Config(format!(
                "codebook size {} exceeds the number of items {n_items}; choose a smaller --codebook-size",
                self.codebook_size
            )));
        }
        if self.max_iter == 0 {
            return Err(Error::Config("max_iter must be at least 1".into()));
        }
        if self.tolerance.is_nan() || self.tolerance < 0.0 {
            return Err(Error::Config("tolerance must be ≥ 0".into()));
        }
        if !self.collab_weight.is_finite() || self.collab_weight < 0.0 {
            return Err(Error::Config("collab weight must be a number ≥ 0".into()));
        }
        if self.collab_weight > 0.0 && self.collab_dim == 0 {
            return Err(Error::Config("collab dim must be at least 1".into()));
        }
        Ok(())
    }
}

/// K = 256 (TIGER) for catalogues of at least 8,192 items (≥ 32 items per
/// level-1 code); smaller catalogues get the largest power of two ≤ N/32, at
/// least 16 (ML-100K, 1,682 items: K = 32).
pub fn default_codebook_size(n_items: usize) -> usize {
    if n_items >= 256 * 32 {
        256
    } else {
        let target = (n_items / 32).max(1);
        (1usize << (usize::BITS - 1 - target.leading_zeros()))
            .max(16)
            .min(n_items.max(2))
    }
}

/// The semantic IDs of a catalogue and the codebooks that made them.
#[derive(Debug, Clone)]
pub struct SemanticIds {
    pub params: IndexParams,
    pub dim: usize,
    /// Per level, `[K, dim]` row-major centroids.
    pub centroids: Vec<Vec<f32>>,
    /// Per item, `L` codes then the collision digit.
    pub codes: Vec<Vec<u32>>,
    /// sha256 of the embeddings file the codes were built from.
    pub embeddings_sha256: String,
}

/// Health numbers printed after every build.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Health {
    pub items: usize,
    /// Per level: fraction of the K codes used.
    pub usage: Vec<f64>,
    /// Per level: exp(entropy) of the code distribution (max K).
    pub perplexity: Vec<f64>,
    /// Items whose L codes are shared with another item, over N.
    pub collision_rate: f64,
    /// Code tuples shared by more than one item.
    pub collision_groups: usize,
    pub largest_collision_group: usize,
    /// Mean over items of ‖x − Σ_l c_l‖².
    pub reconstruction_error: f64,
}

impl std::fmt::Display for Health {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "items                    {}", self.items)?;
        for (l, (u, p)) in self.usage.iter().zip(&self.perplexity).enumerate() {
            writeln!(
                f,
                "level {}                  usage {:5.1} %  perplexity {:.1}",
                l + 1,
                100.0 * u,
                p
            )?;
        }
        writeln!(
            f,
            "collision rate           {:.4} ({} groups, largest {})",
            self.collision_rate, self.collision_groups, self.largest_collision_group
        )?;
        write!(
            f,
            "reconstruction error     {:.4} (mean squared error per item)",
            self.reconstruction_error
        )
    }
}

/// Builds semantic IDs for `x` (`[n, d]` row-major f32). `on_level` is called
/// after each level (for progress).
pub fn build(
    x: &[f32],
    n: usize,
    d: usize,
    params: &IndexParams,
    embeddings_sha256: &str,
    on_level: &mut dyn FnMut(usize),
) -> Result<SemanticIds> {
    params.check(n)?;
    if x.len() != n * d {
        return Err(Error::Other(format!(
            "embedding buffer has {} values, expected {n}×{d}",
            x.len()
        )));
    }
    let k = params.codebook_size;
    let mut residual = x.to_vec();
    let mut centroids = Vec::with_capacity(params.levels);
    let mut level_codes: Vec<Vec<u32>> = Vec::with_capacity(params.levels);
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(params.seed);
    for level in 0..params.levels {
        let (c, assign) = match params.scheme {
            Scheme::RqKmeans => {
                let cl = kmeans::kmeans(&residual, n, d, &params.kmeans_spec(level))?;
                let mut assign = cl.assignment;
                if params.collisions == Collisions::Reassign
                    && level + 1 == params.levels
                    && level > 0
                {
                    let prefix: Vec<Vec<u32>> = (0..n)
                        .map(|i| level_codes.iter().map(|c| c[i]).collect())
                        .collect();
                    reassign::spread(&prefix, &mut assign, &residual, &cl.centroids, k, d);
                }
                (cl.centroids, assign)
            }
            Scheme::Random => {
                let assign: Vec<u32> = (0..n).map(|_| rng.gen_range(0..k as u32)).collect();
                (cluster_means(&residual, &assign, k, d), assign)
            }
        };
        for (i, &a) in assign.iter().enumerate() {
            let cen = &c[a as usize * d..(a as usize + 1) * d];
            for (r, cv) in residual[i * d..(i + 1) * d].iter_mut().zip(cen) {
                *r -= cv;
            }
        }
        centroids.push(c);
        level_codes.push(assign);
        on_level(level + 1);
    }
    let codes = with_collision_digits(&level_codes, n);
    Ok(SemanticIds {
        params: params.clone(),
        dim: d,
        centroids,
        codes,
        embeddings_sha256: embeddings_sha256.into(),
    })
}

fn cluster_means(x: &[f32], assign: &[u32], k: usize, d: usize) -> Vec<f32> {
    let mut sum = vec![0f64; k * d];
    let mut count = vec![0usize; k];
    for (i, &a) in assign.iter().enumerate() {
        count[a as usize] += 1;
        for (s, v) in sum[a as usize * d..(a as usize + 1) * d]
            .iter_mut()
            .zip(&x[i * d..(i + 1) * d])
        {
            *s += f64::from(*v);
        }
    }
    sum.iter()
        .enumerate()
        .map(|(j, s)| {
            if count[j / d] > 0 {
                (s / count[j / d] as f64) as f32
            } else {
                0.0
            }
        })
        .collect()
}

/// Appends the collision digit: within a group of items sharing all L codes,
/// items get 0, 1, 2, … in item order.
fn with_collision_digits(level_codes: &[Vec<u32>], n: usize) -> Vec<Vec<u32>> {
    let mut next: HashMap<Vec<u32>, u32> = HashMap::new();
    (0..n)
        .map(|i| {
            let mut id: Vec<u32> = level_codes.iter().map(|c| c[i]).collect();
            let digit = next.entry(id.clone()).or_insert(0);
            id.push(*digit);
            *digit += 1;
            id
        })
        .collect()
}

impl SemanticIds {
    pub fn n_items(&self) -> usize {
        self.codes.len()
    }
    pub fn levels(&self) -> usize {
        self.params.levels
    }

    /// Collision digits needed so far (largest digit + 1).
    pub fn digits_used(&self) -> u32 {
        self.codes
            .iter()
            .map(|c| c[self.levels()] + 1)
            .max()
            .unwrap_or(1)
    }

    /// The vocabulary for these IDs: K digit tokens (so `index --add` has room),
    /// or more if a collision group is larger than K.
    pub fn vocab(&self, user_tokens: u32) -> Vocab {
        let k = self.params.codebook_size as u32;
        Vocab::new(
            self.levels() as u32,
            k,
            k.max(self.digits_used()),
            user_tokens,
        )
    }

    /// Token sequence of each item's full ID.
    pub fn item_tokens(&self, vocab: &Vocab) -> Vec<Vec<u32>> {
        self.codes.iter().map(|c| vocab.id_tokens(c)).collect()
    }

    /// The prefix trie over all items' token IDs (optionally only `keep` items).
    pub fn trie(&self, vocab: &Vocab, keep: Option<&dyn Fn(u32) -> bool>) -> Result<Trie> {
        let toks = self.item_tokens(vocab);
        Trie::build(
            toks.iter()
                .enumerate()
                .map(|(i, t)| (i as u32, t.as_slice()))
                .filter(|(i, _)| keep.is_none_or(|f| f(*i))),
        )
        .map_err(Error::Other)
    }

    /// A hash of the codes (and their shape): what checkpoints record.
    pub fn codes_sha256(&self) -> String {
        self.codes_sha256_of(self.n_items())
    }

    /// The hash of the first `n` items' codes: cold-start additions (`add_items`)
    /// append items, so a checkpoint trained before them matches this prefix.
    pub fn codes_sha256_of(&self, n: usize) -> String {
        let mut h = Hasher::new();
        h.field(format!("{}x{}", n, self.levels() + 1).as_bytes());
        for c in &self.codes[..n.min(self.codes.len())] {
            let bytes: Vec<u8> = c.iter().flat_map(|v| v.to_le_bytes()).collect();
            h.field(&bytes);
        }
        h.finish()
    }

    /// Health of the index against the embeddings it was built from.
    pub fn health(&self, x: &[f32]) -> Health {
        let n = self.n_items();
        let d = self.dim;
        let k = self.params.codebook_size;
        let mut usage = Vec::new();
        let mut perplexity = Vec::new();
        for l in 0..self.levels() {
            let mut count = vec![0usize; k];
            for c in &self.codes {
                count[c[l] as usize] += 1;
            }
            usage.push(count.iter().filter(|&&c| c > 0).count() as f64 / k as f64);
            let h: f64 = count
                .iter()
                .filter(|&&c| c > 0)
                .map(|&c| {
                    let p = c as f64 / n as f64;
                    -p * p.ln()
                })
                .sum();
            perplexity.push(h.exp());
        }
        let mut groups: HashMap<&[u32], usize> = HashMap::new();
        for c in &self.codes {
            *groups.entry(&c[..self.levels()]).or_default() += 1;
        }
        let collided: usize = groups.values().filter(|&&g| g > 1).sum();
        let mut err = 0f64;
        for (i, c) in self.codes.iter().enumerate() {
            let mut r: Vec<f32> = x[i * d..(i + 1) * d].to_vec();
            for (l, cen) in self.centroids.iter().enumerate() {
                let row = &cen[c[l] as usize * d..(c[l] as usize + 1) * d];
                for (a, b) in r.iter_mut().zip(row) {
                    *a -= b;
                }
            }
            err += r.iter().map(|v| f64::from(*v) * f64::from(*v)).sum::<f64>();
        }
        Health {
            items: n,
            usage,
            perplexity,
            collision_rate: collided as f64 / n as f64,
            collision_groups: groups.values().filter(|&&g| g > 1).count(),
            largest_collision_group: groups.values().copied().max().unwrap_or(0),
            reconstruction_error: err / n as f64,
        }
    }

    /// Cold start: codes for new embeddings by nearest centroid at each level
    /// (no re-clustering). With [`Collisions::Reassign`], a new item whose
    /// codes are taken moves to the nearest free last-level code of its
    /// prefix; otherwise (or when the prefix is full) it gets the next free
    /// collision digit. Returns the new items' full IDs (also appended).
    pub fn add_items(&mut self, x: &[f32]) -> Result<Vec<Vec<u32>>> {
        let d = self.dim;
        if !x.len().is_multiple_of(d) {
            return Err(Error::Other(format!(
                "new embeddings have {} values, not a multiple of the dimension {d}",
                x.len()
            )));
        }
        let n_new = x.len() / d;
        let l = self.levels();
        let mut residual = x.to_vec();
        let mut before_last = Vec::new();
        let mut level_codes = Vec::new();
        for (level, cen) in self.centroids.iter().enumerate() {
            if level + 1 == l {
                before_last = residual.clone();
            }
            let assign = kmeans::assign(&residual, cen, d)?;
            for (i, &a) in assign.iter().enumerate() {
                for (r, c) in residual[i * d..(i + 1) * d]
                    .iter_mut()
                    .zip(&cen[a as usize * d..(a as usize + 1) * d])
                {
                    *r -= c;
                }
            }
            level_codes.push(assign);
        }
        let mut next: HashMap<Vec<u32>, u32> = HashMap::new();
        for c in &self.codes {
            let e = next.entry(c[..l].to_vec()).or_insert(0);
            *e = (*e).max(c[l] + 1);
        }
        let spread = self.params.collisions == Collisions::Reassign && l >= 2;
        let last = &self.centroids[l - 1];
        let mut out = Vec::with_capacity(n_new);
        for i in 0..n_new {
            let mut id: Vec<u32> = level_codes.iter().map(|c| c[i]).collect();
            if spread && next.contains_key(&id) {
                let r = &before_last[i * d..(i + 1) * d];
                let mut by_distance: Vec<(f32, u32)> = last
                    .chunks(d)
                    .enumerate()
                    .map(|(j, c)| {
                        (
                            r.iter().zip(c).map(|(a, b)| (a - b) * (a - b)).sum(),
                            j as u32,
                        )
                    })
                    .collect();
                by_distance.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
                let free = by_distance.iter().map(|&(_, j)| j).find(|&j| {
                    let mut t = id.clone();
                    t[l - 1] = j;
                    !next.contains_key(&t)
                });
                if let Some(j) = free {
                    id[l - 1] = j;
                }
            }
            let digit = next.entry(id.clone()).or_insert(0);
            id.push(*digit);
            *digit += 1;
            out.push(id.clone());
            self.codes.push(id);
        }
        Ok(out)
    }

    /// Writes `semantic_ids.safetensors`: `codes` I64 `[N, L+1]` and
    /// `centroids.{l}` F32 `[K, D]`, with the parameters and hashes as metadata.
    pub fn save(&self, path: &Path) -> Result<()> {
        let flat: Vec<i64> = self
            .codes
            .iter()
            .flat_map(|c| c.iter().map(|&v| i64::from(v)))
            .collect();
        let mut tensors = vec![(
            "codes".to_string(),
            Tensor::from_slice(&flat).view([self.n_items() as i64, self.levels() as i64 + 1]),
        )];
        for (l, c) in self.centroids.iter().enumerate() {
            tensors.push((
                format!("centroids.{l}"),
                Tensor::from_slice(c).view([self.params.codebook_size as i64, self.dim as i64]),
            ));
        }
        let meta = BTreeMap::from([
            (
                "params".to_string(),
                serde_json::to_string(&self.params).map_err(|e| Error::Other(e.to_string()))?,
            ),
            (
                "embeddings_sha256".to_string(),
                self.embeddings_sha256.clone(),
            ),
            ("codes_sha256".to_string(), self.codes_sha256()),
        ]);
        st::write(path, &tensors, &meta)
    }

    pub fn load(path: &Path) -> Result<Self> {
        let mut f = StFile::read(path)?;
        let bad = |m: String| Error::input(path, None, m);
        let params: IndexParams = serde_json::from_str(
            f.metadata
                .get("params")
                .ok_or_else(|| bad("metadata `params` missing".into()))?,
        )
        .map_err(|e| bad(format!("metadata `params`: {e}")))?;
        let codes_t = f.take(path, "codes")?;
        let (n, w) = codes_t
            .size2()
            .map_err(|_| bad("`codes` must be 2-D".into()))?;
        if w as usize != params.levels + 1 {
            return Err(bad(format!(
                "`codes` has {w} columns, expected {}",
                params.levels + 1
            )));
        }
        let flat = Vec::<i64>::try_from(&codes_t.to_kind(Kind::Int64).flatten(0, -1))
            .map_err(Error::Torch)?;
        let codes: Vec<Vec<u32>> = flat
            .chunks(w as usize)
            .map(|c| c.iter().map(|&v| v as u32).collect())
            .collect();
        let mut centroids = Vec::new();
        let mut dim = 0;
        for l in 0..params.levels {
            let t = f.take(path, &format!("centroids.{l}"))?;
            dim = t.size()[1] as usize;
            centroids.push(
                Vec::<f32>::try_from(&t.to_kind(Kind::Float).flatten(0, -1))
                    .map_err(Error::Torch)?,
            );
        }
        let ids = Self {
            params,
            dim,
            centroids,
            codes,
            embeddings_sha256: f
                .metadata
                .get("embeddings_sha256")
                .cloned()
                .unwrap_or_default(),
        };
        if let Some(h) = f.metadata.get("codes_sha256") {
            if *h != ids.codes_sha256() {
                return Err(Error::Mismatch(format!(
                    "{}: codes do not match their recorded hash (file corrupted or edited)",
                    path.display()
                )));
            }
        }
        debug_assert_eq!(ids.n_items(), n as usize);
        Ok(ids)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_k() {
        assert_eq!(default_codebook_size(12_101), 256);
        assert_eq!(default_codebook_size(1_682), 32);
        assert_eq!(default_codebook_size(100), 16);
    }

    #[test]
    fn collision_digits_count_up_within_groups() {
        let codes = with_collision_digits(&[vec![0, 1, 0, 0], vec![2, 2, 2, 3]], 4);
        assert_eq!(
            codes,
            vec![vec![0, 2, 0], vec![1, 2, 0], vec![0, 2, 1], vec![0, 3, 0]]
        );
    }
}
