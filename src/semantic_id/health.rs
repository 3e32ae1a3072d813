//! The index's health, printed after every build and stored in index.json:
//! per-level code usage and perplexity, collisions, reconstruction error.
use super::SemanticIds;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

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

impl SemanticIds {
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
}
