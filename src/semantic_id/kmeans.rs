//! k-means backends behind one function: linfa-clustering (k-means++
//! initialisation, pure Rust) and Faiss (its `Clustering`, BLAS-backed). Both
//! are seeded; both return centroids and hard assignments. Large inputs follow
//! Faiss's recipe for either backend: centroids fitted on a seeded sample of
//! at most `max_points_per_centroid` points per centroid, then every point
//! assigned once.
use crate::error::{Error, Result};
use ndarray::{Array2, ArrayView2};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Backend {
    /// linfa-clustering KMeans, k-means++ initialisation
    Linfa,
    /// Faiss k-means (random initialisation, BLAS distance computations)
    Faiss,
}

pub struct Clusters {
    /// `[k, d]` row-major.
    pub centroids: Vec<f32>,
    pub assignment: Vec<u32>,
}

/// One k-means fit: what [`kmeans`] needs beyond the data.
#[derive(Debug, Clone, Copy)]
pub struct KmeansSpec {
    pub backend: Backend,
    pub k: usize,
    pub max_iter: usize,
    pub tolerance: f32,
    pub seed: u64,
    /// Fit the centroids on a seeded sample of at most this many points per
    /// centroid, then assign every point once (Faiss's own recipe; 0: fit on
    /// every point).
    pub max_points_per_centroid: usize,
}

/// Clusters `x` (`[n, d]` row-major) into `spec.k` groups.
pub fn kmeans(x: &[f32], n: usize, d: usize, spec: &KmeansSpec) -> Result<Clusters> {
    let limit = spec.max_points_per_centroid.saturating_mul(spec.k);
    if spec.max_points_per_centroid == 0 || n <= limit {
        return fit(x, n, d, spec);
    }
    let rows = sample_rows(n, limit, spec.seed);
    let sample: Vec<f32> = rows
        .iter()
        .flat_map(|&i| x[i * d..(i + 1) * d].iter().copied())
        .collect();
    let centroids = fit(&sample, rows.len(), d, spec)?.centroids;
    let assignment = assign(x, &centroids, d)?;
    Ok(Clusters {
        centroids,
        assignment,
    })
}

fn fit(x: &[f32], n: usize, d: usize, spec: &KmeansSpec) -> Result<Clusters> {
    match spec.backend {
        Backend::Linfa => linfa_kmeans(x, n, d, spec),
        Backend::Faiss => faiss_kmeans(x, n, d, spec),
    }
}

/// `m` distinct row indices out of `0..n`, seeded, in increasing order.
fn sample_rows(n: usize, m: usize, seed: u64) -> Vec<usize> {
    use rand::{Rng, SeedableRng};
    let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(seed ^ 0x5eed_5a3b_1e00);
    let mut idx: Vec<usize> = (0..n).collect();
    for i in 0..m {
        let j = rng.gen_range(i..n);
        idx.swap(i, j);
    }
    idx.truncate(m);
    idx.sort_unstable();
    idx
}

/// Nearest centroid (squared L2) of every row, by a Faiss flat index (BLAS).
pub fn assign(x: &[f32], centroids: &[f32], d: usize) -> Result<Vec<u32>> {
    use faiss::Index;
    let mut index = faiss::FlatIndex::new_l2(d as u32).map_err(faiss_err)?;
    index.add(centroids).map_err(faiss_err)?;
    let res = index.assign(x, 1).map_err(faiss_err)?;
    res.labels
        .iter()
        .map(|l| {
            l.get()
                .map(|v| v as u32)
                .ok_or_else(|| Error::Other("faiss returned no centroid".into()))
        })
        .collect()
}

fn linfa_kmeans(x: &[f32], n: usize, d: usize, spec: &KmeansSpec) -> Result<Clusters> {
    let KmeansSpec {
        k,
        max_iter,
        tolerance,
        seed,
        ..
    } = *spec;
    use linfa::traits::{Fit, Predict};
    use linfa_clustering::{KMeans, KMeansInit};
    use rand::SeedableRng;
    let data = ArrayView2::from_shape((n, d), x)
        .map_err(|e| Error::Other(e.to_string()))?
        .to_owned();
    let ds = linfa::DatasetBase::from(data.clone());
    let rng = rand_xoshiro::Xoshiro256Plus::seed_from_u64(seed);
    let model = KMeans::params_with_rng(k, rng)
        .n_runs(1)
        .max_n_iterations(max_iter as u64)
        .tolerance(tolerance)
        .init_method(KMeansInit::KMeansPlusPlus)
        .fit(&ds)
        .map_err(|e| Error::Other(format!("linfa k-means: {e}")))?;
    let labels = model.predict(&data);
    let c: &Array2<f32> = model.centroids();
    Ok(Clusters {
        centroids: c.iter().copied().collect(),
        assignment: labels.iter().map(|&l| l as u32).collect(),
    })
}

fn faiss_err(e: faiss::error::Error) -> Error {
    Error::Other(format!("faiss: {e}"))
}

fn faiss_kmeans(x: &[f32], n: usize, d: usize, spec: &KmeansSpec) -> Result<Clusters> {
    use faiss::cluster::{Clustering, ClusteringParameters};
    let k = spec.k;
    let mut params = ClusteringParameters::new();
    params.set_niter(spec.max_iter as u32);
    params.set_seed(spec.seed as u32);
    params.set_nredo(1);
    params.set_verbose(false);
    // Faiss would subsample on its own; `kmeans` has chosen the points already.
    params.set_max_points_per_centroid(n.div_ceil(k).max(1) as u32 + 1);
    params.set_min_points_per_centroid(1);
    let mut clustering =
        Clustering::new_with_params(d as u32, k as u32, &params).map_err(faiss_err)?;
    let mut index = faiss::FlatIndex::new_l2(d as u32).map_err(faiss_err)?;
    clustering.train(x, &mut index).map_err(faiss_err)?;
    let centroids: Vec<f32> = clustering.centroids().map_err(faiss_err)?.concat();
    let assignment = assign(x, &centroids, d)?;
    Ok(Clusters {
        centroids,
        assignment,
    })
}
