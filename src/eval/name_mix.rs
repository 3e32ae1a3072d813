//! The items' text embedding as a mix of the whole text's and the item's
//! name alone: `normalise(a · e(name) + (1 − a) · e(text))`, with `a` chosen
//! on the validation split by the last item's text neighbours (NDCG@10) and
//! kept only where its paired gain over the whole text (`a = 0`) has a lower
//! end above zero. A product record's long fields (features, marketing copy,
//! care and shipping notes) fill most of the encoder's 256 tokens, and mean
//! pooling lets them outweigh the title; on short texts the whole text wins
//! and stays. TIGER (Rajput et al. 2023) built its item text from the title,
//! brand, categories and price, leaving descriptions out; here the data
//! decide how much of the rest to read.
use super::text::{TextNeighbours, TextQuery};
use super::{choose_on_validation, paired_difference, sample_indices, Estimate, Protocol};
use crate::data::dataset::HeldOut;
use crate::embed::mix_names;
use tch::Tensor;

/// The weights of the name tried, the whole text (0) first.
pub const WEIGHTS: [f32; 5] = [0.0, 0.25, 0.5, 0.75, 1.0];

/// Validation users the choice reads at most (a fixed, seeded sample).
pub const MAX_USERS: usize = 10_000;

/// What the validation split chose, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct NameMix {
    /// The name's weight used (0: the whole text alone).
    pub weight: f32,
    /// The weight with the best NDCG@10 (the first of equals).
    pub best: f32,
    /// Validation NDCG@10 of the last item's text neighbours at each weight.
    pub sweep: Vec<(f32, f64)>,
    /// The best weight's NDCG@10 minus the whole text's, paired-bootstrap 95 %.
    pub gain: Estimate,
    pub users: usize,
}

impl NameMix {
    /// Chooses the name's weight on `held` (a validation split; at most
    /// [`MAX_USERS`] of them, seeded): every weight of [`WEIGHTS`], best mean
    /// NDCG@10 of the last item's text neighbours (seen items rankable, the
    /// last item itself left out), used only when its paired gain over the
    /// whole text has a lower end above zero.
    /// `texts`, `names`: `[N, D]`, the items' whole texts' and names'
    /// embeddings (a name's row is its text's where it has none).
    pub fn choose(texts: &Tensor, names: &Tensor, held: &[HeldOut]) -> crate::Result<NameMix> {
        let users: Vec<&HeldOut> = sample_indices(held.len(), MAX_USERS, 0)
            .into_iter()
            .map(|i| &held[i])
            .filter(|h| !h.history.is_empty())
            .collect();
        let histories: Vec<&[u32]> = users.iter().map(|h| h.history.as_slice()).collect();
        let targets: Vec<u32> = users.iter().map(|h| h.target).collect();
        let lists = WEIGHTS
            .iter()
            .map(|&a| {
                let mixed = mix_names(texts, names, a.into());
                let dim = mixed.size()[1] as usize;
                let rows =
                    Vec::<f32>::try_from(&mixed.flatten(0, -1)).map_err(crate::Error::Torch)?;
                let mut nn = TextNeighbours::new(rows, dim)?;
                nn.search(&histories, TextQuery::LAST, 10, 0, |_, _| true)
            })
            .collect::<crate::Result<Vec<_>>>()?;
        let grid: Vec<usize> = (0..WEIGHTS.len()).collect();
        let (best, sweep) = choose_on_validation(&grid, &targets, |&g| lists[g].clone());
        let gain = paired_difference(
            "the whole text",
            &targets,
            &lists[best],
            &lists[0],
            &Protocol::default(),
        )
        .difference["ndcg@10"];
        Ok(NameMix {
            weight: if gain.lo > 0.0 { WEIGHTS[best] } else { 0.0 },
            best: WEIGHTS[best],
            sweep: sweep.into_iter().map(|(g, n)| (WEIGHTS[g], n)).collect(),
            gain,
            users: targets.len(),
        })
    }

    pub fn describe(&self) -> String {
        let sweep: Vec<String> = self
            .sweep
            .iter()
            .map(|(a, n)| format!("{a}: {n:.4}"))
            .collect();
        let g = &self.gain;
        format!(
            "the items' names mixed into their text embeddings, on {} validation users (last item's text neighbours, NDCG@10 by the name's weight: {}): the best, {}, against the whole text {:+.4} [{:+.4}, {:+.4}] → {}",
            self.users,
            sweep.join(", "),
            self.best,
            g.mean,
            g.lo,
            g.hi,
            if self.weight > 0.0 {
                format!("the name weighs {}", self.weight)
            } else {
                "the whole text alone".to_string()
            }
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn held(history: Vec<u32>, target: u32) -> HeldOut {
        HeldOut {
            user: String::new(),
            history,
            target,
        }
    }

    /// Items in pairs (2k, 2k + 1) that people take one after the other.
    /// Their names say which pair they are in; their whole texts are
    /// dominated by boilerplate that ties each item to a random other one.
    fn catalogue(n: usize, dim: usize) -> (Tensor, Tensor) {
        let mut names = vec![0f32; n * dim];
        let mut texts = vec![0f32; n * dim];
        for i in 0..n {
            names[i * dim + (i / 2) % dim] = 1.0;
            texts[i * dim + (i / 2) % dim] = 0.3;
            texts[i * dim + (i * 7 + 3) % dim] += 1.0;
        }
        for row in texts.chunks_mut(dim) {
            let norm = row.iter().map(|v| v * v).sum::<f32>().sqrt();
            row.iter_mut().for_each(|v| *v /= norm);
        }
        let matrix = |v: Vec<f32>| Tensor::from_slice(&v).view([n as i64, dim as i64]);
        (matrix(texts), matrix(names))
    }

    #[test]
    fn mixing_normalises_and_the_ends_are_the_inputs() {
        let texts = [1.0f32, 0.0, 0.6, 0.8];
        let names = [0.0f32, 1.0, 0.6, 0.8];
        let mix = |a: f64| {
            let m = |v: &[f32]| Tensor::from_slice(v).view([2, 2]);
            Vec::<f32>::try_from(&mix_names(&m(&texts), &m(&names), a).flatten(0, -1)).unwrap()
        };
        assert_eq!(mix(0.0), texts);
        assert_eq!(mix(1.0), names);
        let m = mix(0.5);
        let h = std::f32::consts::FRAC_1_SQRT_2;
        assert!((m[0] - h).abs() < 1e-6 && (m[1] - h).abs() < 1e-6, "{m:?}");
        assert!((m[2] - 0.6).abs() < 1e-6 && (m[3] - 0.8).abs() < 1e-6);
    }

    #[test]
    fn names_are_mixed_in_where_they_find_the_next_item_and_not_otherwise() {
        let (n, dim) = (64, 32);
        let (texts, names) = catalogue(n, dim);
        let pairs: Vec<HeldOut> = (0..n as u32 / 2)
            .flat_map(|p| [held(vec![2 * p], 2 * p + 1), held(vec![2 * p + 1], 2 * p)])
            .collect();
        let m = NameMix::choose(&texts, &names, &pairs).unwrap();
        assert!(m.weight > 0.0, "{}", m.describe());
        assert!(m.gain.lo > 0.0);
        assert_eq!(m.best, m.weight);
        assert_eq!(m.sweep.len(), WEIGHTS.len());
        assert_eq!(m.users, pairs.len());
        // When the whole text is what finds the next item, it stays alone.
        let (texts, names) = (names, texts);
        let m = NameMix::choose(&texts, &names, &pairs).unwrap();
        assert_eq!((m.weight, m.best), (0.0, 0.0), "{}", m.describe());
        assert!(m.describe().contains("the whole text alone"));
    }
}
