//! k-means backends behind one function: linfa-clustering (k-means++
//! initialisation, pure Rust) and Faiss (its `Clustering`, BLAS-backed). Both
//! are seeded; both return centroids and hard assignments.
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

/// Clusters `x` (`[n, d]` row-major) into `k` groups.
pub fn kmeans(
    backend: Backend,
    x: &[f32],
    n: usize,
    d: usize,
    k: usize,
    max_iter: usize,
    tolerance: f32,
    seed: u64,
) -> Result<Clusters> {
    match backend {
        Backend::Linfa => linfa_kmeans(x, n, d, k, max_iter, tolerance, seed),
        Backend::Faiss => faiss_kmeans(x, n, d, k, max_iter, seed),
    }
}

fn linfa_kmeans(
    x: &[f32],
    n: usize,
    d: usize,
    k: usize,
    max_iter: usize,
    tolerance: f32,
    seed: u64,
) -> Result<Clusters> {
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

fn faiss_kmeans(
    x: &[f32],
    n: usize,
    d: usize,
    k: usize,
    max_iter: usize,
    seed: u64,
) -> Result<Clusters> {
    use faiss::cluster::{Clustering, ClusteringParameters};
    use faiss::Index;
    let mut params = ClusteringParameters::new();
    params.set_niter(max_iter as u32);
    params.set_seed(seed as u32);
    params.set_nredo(1);
    params.set_verbose(false);
    // Keep every point: no subsampling, whatever the catalogue size.
    params.set_max_points_per_centroid(n.div_ceil(k).max(1) as u32 + 1);
    params.set_min_points_per_centroid(1);
    let mut clustering =
        Clustering::new_with_params(d as u32, k as u32, &params).map_err(faiss_err)?;
    let mut index = faiss::FlatIndex::new_l2(d as u32).map_err(faiss_err)?;
    clustering.train(x, &mut index).map_err(faiss_err)?;
    let centroids: Vec<f32> = clustering.centroids().map_err(faiss_err)?.concat();
    let mut assign_index = faiss::FlatIndex::new_l2(d as u32).map_err(faiss_err)?;
    assign_index.add(&centroids).map_err(faiss_err)?;
    let res = assign_index.assign(x, 1).map_err(faiss_err)?;
    let assignment = res
        .labels
        .iter()
        .map(|l| {
            l.get()
                .map(|v| v as u32)
                .ok_or_else(|| Error::Other("faiss returned no centroid".into()))
        })
        .collect::<Result<_>>()?;
    Ok(Clusters {
        centroids,
        assignment,
    })
}

/// Exact nearest centroid for each row of `x` (`[n, d]`) among `c` (`[k, d]`).
pub fn nearest(x: &[f32], c: &[f32], d: usize) -> Vec<u32> {
    x.chunks(d)
        .map(|row| {
            let mut best = (f32::INFINITY, 0u32);
            for (j, cen) in c.chunks(d).enumerate() {
                let dist: f32 = row.iter().zip(cen).map(|(a, b)| (a - b) * (a - b)).sum();
                if dist < best.0 {
                    best = (dist, j as u32);
                }
            }
            best.1
        })
        .collect()
}
