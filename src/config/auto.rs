//! The configuration `genrec train -d <dataset>` uses without a config file:
//! model size, batch, learning rate, validation cadence and the step budget
//! from the dataset's statistics and the device (the rule the README
//! documents), so a first run on a new catalogue converges.
use super::{
    DataConfig, EvalConfig, ModelConfig, OptimConfig, RunConfig, TaskKind, TrainConfig,
    VerifyConfig, VerifyReader,
};
use std::path::Path;

impl TrainConfig {
    /// The configuration `genrec train -d <dataset>` uses when no config file
    /// is given, from the dataset's size and the device (the rule the README
    /// documents): the main job's model on a CPU (0.5 M parameters) and
    /// TIGER's on a GPU (5 M, bf16, batch 1024); 20 history items as tokens
    /// plus the history-match bias over the last 50; no user token; batches
    /// of like history lengths (pools of 50 batches);
    /// validation on 3,000 users about twice an epoch (every 300 to 2,000
    /// steps) and training until 5 validations bring no better NDCG@10 (or
    /// 100 epochs, or `run.max_minutes`).
    pub fn for_dataset(dataset: &Path, stats: &crate::data::dataset::Stats, gpu: bool) -> Self {
        // Each user's training sequence is all but the last two items (a
        // context user's, all of them); its prefixes of two or more items are
        // the examples.
        let examples = (stats.interactions.saturating_sub(3 * stats.users)
            + stats
                .context_interactions
                .saturating_sub(stats.context_users))
        .max(1);
        let batch_size = if gpu { 1024 } else { 256 };
        let steps_per_epoch = examples.div_ceil(batch_size);
        let every = ((steps_per_epoch / 2).div_ceil(100) * 100).clamp(300, 2000);
        let model = if gpu {
            ModelConfig {
                dropout: 0.1,
                ..ModelConfig::default()
            }
        } else {
            ModelConfig {
                d_model: 64,
                d_kv: 16,
                d_ff: 256,
                num_layers: 2,
                num_decoder_layers: 2,
                num_heads: 4,
                dropout: 0.1,
                attention_dropout: Some(0.0),
                ..ModelConfig::default()
            }
        };
        let name = dataset
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .filter(|n| !n.is_empty())
            .unwrap_or_else(|| "run".into());
        TrainConfig {
            run: RunConfig {
                name,
                bf16: gpu,
                log_every: 100,
                ..RunConfig::default()
            },
            data: DataConfig {
                dataset: dataset.to_path_buf(),
                user_token: false,
                match_history: 50,
                item_text: true,
                ..DataConfig::default()
            },
            model,
            optim: OptimConfig {
                lr: if gpu { 2e-3 } else { 3e-3 },
                warmup_steps: if gpu { 1000 } else { 300 },
                batch_size,
                max_steps: (100 * steps_per_epoch).clamp(every, 200_000),
                // Batches of like history lengths: on Amazon Beauty (CPU, the
                // same 12 minutes) +0.0024 [+0.0010, +0.0038] validation NDCG@10.
                length_pool: 50,
                ..OptimConfig::default()
            },
            eval: EvalConfig {
                every,
                beam: 20,
                patience: 5,
                max_users: 3000,
                batch_size: 256,
            },
            verify: VerifyConfig::default(),
        }
    }
}

impl TrainConfig {
    /// The verifier `genrec train -d <dataset> --task verify` trains over the
    /// generator that `genrec train -d <dataset>` trained (`<checkpoints>/<its
    /// name>`): the sequence reader (SASRec, the reader measured best), run
    /// name `<name>-verifier`, validation questions of 4 beams and 4 random
    /// items, λ chosen reranking the top 20.
    pub fn verifier(self) -> Self {
        let generator = self.run.checkpoints.join(&self.run.name);
        TrainConfig {
            run: RunConfig {
                name: format!("{}-verifier", self.run.name),
                task: TaskKind::Verify,
                ..self.run
            },
            verify: VerifyConfig {
                reader: VerifyReader::Sequence,
                generator,
                hard_negatives: 4,
                candidates: 20,
                rerank_top: 20,
                ..VerifyConfig::default()
            },
            ..self
        }
    }

    /// The verifier `genrec train -d` trains over the generator configured
    /// by `self` (its overrides applied): [`TrainConfig::verifier`], then the
    /// `verify.…` overrides. `train -d` and `train -d --task verify` with the
    /// same `--set`s give the same verifier over the same generator.
    pub fn verifier_with(self, overrides: &[String]) -> crate::error::Result<Self> {
        let verify: Vec<String> = overrides
            .iter()
            .filter(|s| s.starts_with("verify."))
            .cloned()
            .collect();
        self.verifier().with_overrides(&verify)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A dataset's statistics with these users and interactions.
    fn stats(users: usize, interactions: usize) -> crate::data::Stats {
        crate::data::Stats {
            users,
            items: 1682,
            interactions,
            sequence_length: crate::data::dataset::SeqLenStats {
                min: 3,
                median: 5.0,
                mean: 5.0,
                max: 9,
            },
            dropped_short_users: 0,
            context_users: 0,
            context_interactions: 0,
            dropped_by_rating: 0,
            dropped_by_k_core: 0,
            missing_items: 0,
            unused_items: 0,
            text: String::new(),
        }
    }

    #[test]
    fn a_verifier_without_config_reads_the_sequence_over_the_generator_of_the_same_rule() {
        let g = TrainConfig::for_dataset(
            Path::new("data/prepared/ml-100k"),
            &stats(943, 100_000),
            false,
        );
        let v = g.clone().verifier();
        assert_eq!(v.run.name, "ml-100k-verifier");
        assert_eq!(v.run.task, TaskKind::Verify);
        assert_eq!(v.verify.reader, VerifyReader::Sequence);
        assert_eq!(v.verify.generator, Path::new("checkpoints/ml-100k"));
        assert_eq!(v.data, g.data);
        v.check().unwrap();
        // Over the generator the overrides configured: its checkpoints, its
        // name; the verifier's own settings from `verify.…`.
        let sets = [
            "run.checkpoints=\"ck\"".to_string(),
            "run.name=\"mine\"".into(),
            "verify.rerank_top=30".into(),
        ];
        let v = g
            .with_overrides(&sets)
            .unwrap()
            .verifier_with(&sets)
            .unwrap();
        assert_eq!(v.verify.generator, Path::new("ck/mine"));
        assert_eq!(v.run.name, "mine-verifier");
        assert_eq!(v.run.checkpoints, Path::new("ck"));
        assert_eq!(v.verify.rerank_top, 30);
    }

    #[test]
    fn a_dataset_without_config_gets_the_documented_rule() {
        // ML-100K: 97,171 examples, 380 steps an epoch at 256 → validation every 300 (the floor).
        let c = TrainConfig::for_dataset(
            Path::new("data/prepared/ml-100k"),
            &stats(943, 100_000),
            false,
        );
        assert_eq!(
            (
                c.run.name.as_str(),
                c.model.d_model,
                c.optim.batch_size,
                c.eval.every
            ),
            ("ml-100k", 64, 256, 300)
        );
        assert_eq!(
            (
                c.data.user_token,
                c.data.match_history,
                c.data.item_text,
                c.optim.max_steps,
                c.optim.length_pool
            ),
            (false, 50, true, 38_000, 50)
        );
        c.check().unwrap();
        // A large catalogue on a GPU: TIGER's model, batch 1024, validation every 2,000 (the cap).
        let g = TrainConfig::for_dataset(Path::new("x/big"), &stats(1_000_000, 20_000_000), true);
        assert_eq!(
            (
                g.model.d_model,
                g.optim.batch_size,
                g.eval.every,
                g.run.bf16
            ),
            (128, 1024, 2000, true)
        );
        assert_eq!(g.optim.max_steps, 200_000);
        // Overrides apply on top, checked.
        let o = c.with_overrides(&["optim.lr=0.01".into()]).unwrap();
        assert_eq!(o.optim.lr, 0.01);
        assert!(c.with_overrides(&["optim.lr=-1".into()]).is_err());
    }
}
