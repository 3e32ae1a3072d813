//! The sequence-reading verifier (`verify.reader = "sequence"`): the yes/no
//! question answered by a second, differently trained recommender — SASRec
//! (Kang & McAuley 2018, trained as RecBole 1.2.1 trains it: every prefix of
//! every training sequence, cross-entropy over the whole catalogue). Its
//! log P(yes | history, candidate) is the log-probability SASRec gives the
//! candidate as the next item, a softmax over every item, so reranking by
//! `log p_gen + λ · log P(yes)` is a product of two experts (Hinton 2002)
//! over the generator's top candidates. What it knows that the generator
//! does not is how it was trained: on every position against every item
//! (the generator learns ID tokens level by level, the T5 verifiers a few
//! mined lists). Saved as `model.safetensors` (SASRec's variables) and
//! `sasrec.json` (its parameters).
use super::Judge;
use crate::decode::Hit;
use crate::error::{Error, IoContext, Result};
use crate::model::sasrec::{SasRec, SasRecParams};
use std::path::Path;
use tch::{nn, Device, Kind, Tensor};

/// SASRec's parameters in a verifier checkpoint.
pub const PARAMS_FILE: &str = "sasrec.json";

/// Most users scored in one pass (fewer on a large catalogue:
/// `SasRec::histories_per_pass`).
const CHUNK: usize = 256;

/// A SASRec answering yes/no by its next-item probability.
pub struct SequenceVerifier {
    pub model: SasRec,
    pub vs: nn::VarStore,
}

impl SequenceVerifier {
    /// Wraps a trained SASRec.
    pub fn new(model: SasRec, vs: nn::VarStore) -> Self {
        Self { model, vs }
    }

    /// Loads a sequence verifier's checkpoint directory for `n_items` items.
    pub fn open(dir: &Path, n_items: usize, device: Device) -> Result<Self> {
        let pf = dir.join(PARAMS_FILE);
        let p: SasRecParams = serde_json::from_slice(&std::fs::read(&pf).at(&pf)?)
            .map_err(|e| Error::input(&pf, None, format!("not SASRec parameters: {e}")))?;
        p.check()?;
        let mut vs = nn::VarStore::new(device);
        let model = SasRec::new(&vs.root(), n_items, &p);
        let wf = dir.join("model.safetensors");
        vs.load(&wf)
            .map_err(|e| Error::input(&wf, None, e.to_string()))?;
        Ok(Self { model, vs })
    }

    /// Writes the checkpoint's SASRec files into `dir`.
    pub fn save(&self, dir: &Path) -> Result<()> {
        crate::util::fsx::write_json(&dir.join(PARAMS_FILE), &self.model.p)?;
        let wf = dir.join("model.safetensors");
        self.vs
            .save(&wf)
            .map_err(|e| Error::input(&wf, None, e.to_string()))
    }

    /// Its own top `k` next items for each history over the whole catalogue,
    /// leaving out those `keep(user, item)` refuses among its top
    /// `4k + extra` (`extra`: how many it may refuse, e.g. the most items a
    /// user has seen when seen items are excluded).
    pub fn own_top(
        &self,
        histories: &[&[u32]],
        (k, extra): (usize, usize),
        keep: &dyn Fn(usize, u32) -> bool,
    ) -> Vec<Vec<u32>> {
        self.model
            .top_items(histories, 4 * k + extra, None)
            .into_iter()
            .enumerate()
            .map(|(u, l)| l.into_iter().filter(|&i| keep(u, i)).take(k).collect())
            .collect()
    }

    /// log P(next item = c) for each history's candidates (item ids), one
    /// list per history, in the candidates' order.
    pub fn log_p(&self, histories: &[&[u32]], candidates: &[Vec<u32>]) -> Vec<Vec<f32>> {
        let _g = tch::no_grad_guard();
        let device = self.vs.device();
        let mut out = Vec::with_capacity(histories.len());
        let per_pass = self.model.histories_per_pass(CHUNK);
        for (hs, cs) in histories.chunks(per_pass).zip(candidates.chunks(per_pass)) {
            let logp = self.model.next_item_scores(hs).log_softmax(-1, Kind::Float);
            let width = cs.iter().map(Vec::len).max().unwrap_or(0).max(1);
            // Shifted ids; short lists are padded with column 1 and cut after.
            let cols: Vec<i64> = cs
                .iter()
                .flat_map(|c| {
                    c.iter()
                        .map(|&i| i64::from(i) + 1)
                        .chain(std::iter::repeat(1))
                        .take(width)
                })
                .collect();
            let idx = Tensor::from_slice(&cols)
                .view([cs.len() as i64, width as i64])
                .to(device);
            let got: Vec<f32> = Vec::try_from(logp.gather(1, &idx, false).flatten(0, -1))
                .expect("f32 log-probabilities");
            out.extend(
                got.chunks(width)
                    .zip(cs)
                    .map(|(row, c)| row[..c.len()].to_vec()),
            );
        }
        out
    }
}

impl Judge for SequenceVerifier {
    fn log_p_yes_lists(&self, users: &[(&str, &[u32])], hits: &[Vec<Hit>]) -> Vec<Vec<f32>> {
        let histories: Vec<&[u32]> = users.iter().map(|&(_, h)| h).collect();
        let candidates: Vec<Vec<u32>> = hits
            .iter()
            .map(|hs| hs.iter().map(|x| x.item).collect())
            .collect();
        self.log_p(&histories, &candidates)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::sasrec::batch_of;

    #[test]
    fn candidates_get_the_log_softmax_of_the_full_ranking() {
        let _rng = crate::runtime::global_rng_lock();
        tch::manual_seed(5);
        let vs = nn::VarStore::new(Device::Cpu);
        let p = SasRecParams {
            max_len: 8,
            ..Default::default()
        };
        let model = SasRec::new(&vs.root(), 20, &p);
        let v = SequenceVerifier::new(model, vs);
        let hs: Vec<&[u32]> = vec![&[3, 4, 5], &[7], &[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]];
        let cands = vec![vec![0, 19, 4], vec![2], vec![]];
        let got = v.log_p(&hs, &cands);
        assert_eq!(got.iter().map(Vec::len).collect::<Vec<_>>(), [3, 1, 0]);
        let _g = tch::no_grad_guard();
        for (r, (h, c)) in hs.iter().zip(&cands).enumerate() {
            let (seq, lens) = batch_of(&[h], p.max_len, Device::Cpu);
            let s = v.model.scores(&v.model.forward_t(&seq, &lens, false));
            let all: Vec<f32> = Vec::try_from(s.log_softmax(-1, Kind::Float).get(0)).unwrap();
            // `next_item_scores` is that same pass.
            let alone = v.model.next_item_scores(&[h]);
            let real = |t: &Tensor| t.narrow(1, 1, 20);
            assert!((real(&alone) - real(&s)).abs().max().double_value(&[]) < 1e-5);
            // Probabilities over the real items sum to one (column 0 is padding).
            let total: f64 = all[1..].iter().map(|&x| f64::from(x).exp()).sum();
            assert!((total - 1.0).abs() < 1e-4, "row {r}: {total}");
            for (k, &i) in c.iter().enumerate() {
                assert!((got[r][k] - all[i as usize + 1]).abs() < 1e-5, "row {r}");
            }
        }
    }
}
