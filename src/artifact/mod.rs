//! Artifacts: what training leaves for inference to read. A checkpoint
//! directory (`checkpoint`) holds a Hugging Face–compatible T5 (config.json +
//! model.safetensors), the token layout (vocab.json) and the model card
//! (genrec.json: the task, the training configuration with the prompt it
//! implies, the hashes of the semantic IDs and dataset it was trained on, and
//! what was chosen on validation after training). Inference (`evaluate`,
//! `recommend`, the verifier's reranking) loads models only through this
//! layer; it depends on nothing in `trainer`.
pub mod checkpoint;
