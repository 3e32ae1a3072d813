//! The token layout shared by the generator and the verifier: one vocabulary,
//! typed so that no code computes a token id by hand.
//!
//! ```text
//! 0 <pad> (also T5's decoder start)   1 <eos>   2 <unk>   3 <sep>
//! 4 <gen> 5 <verify> (task tokens, P5-style multi-task prompts)   6 <yes>   7 <no>
//! 8 ..                     L × K code tokens, level l code c at 8 + l·K + c
//! 8 + L·K ..               D collision-digit tokens (TIGER's extra ID position)
//! 8 + L·K + D ..           U hashed user tokens (TIGER: U = 2,000)
//! ```
//! Saved as `vocab.json` next to the semantic IDs and inside every checkpoint,
//! so a model is always read with the vocabulary it was trained with.
use crate::error::{Error, IoContext, Result};
use serde::{Deserialize, Serialize};
use std::path::Path;

pub const PAD: u32 = 0;
pub const EOS: u32 = 1;
pub const UNK: u32 = 2;
pub const SEP: u32 = 3;
pub const TASK_GENERATE: u32 = 4;
pub const TASK_VERIFY: u32 = 5;
pub const YES: u32 = 6;
pub const NO: u32 = 7;
pub const N_SPECIAL: u32 = 8;
/// TIGER's number of hashed user tokens.
pub const DEFAULT_USER_TOKENS: u32 = 2000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Vocab {
    /// Code levels L (the ID has L codes plus one collision digit).
    pub levels: u32,
    /// Codes per level K.
    pub codebook_size: u32,
    /// Collision-digit tokens D.
    pub digits: u32,
    /// Hashed user tokens U.
    pub user_tokens: u32,
}

impl Vocab {
    pub fn new(levels: u32, codebook_size: u32, digits: u32, user_tokens: u32) -> Self {
        Self {
            levels,
            codebook_size,
            digits,
            user_tokens,
        }
    }

    /// Length of a full item ID in tokens (L codes + 1 digit).
    pub fn id_len(&self) -> usize {
        self.levels as usize + 1
    }
    fn digit_base(&self) -> u32 {
        N_SPECIAL + self.levels * self.codebook_size
    }
    fn user_base(&self) -> u32 {
        self.digit_base() + self.digits
    }
    pub fn size(&self) -> u32 {
        self.user_base() + self.user_tokens
    }

    pub fn code_token(&self, level: u32, code: u32) -> u32 {
        debug_assert!(level < self.levels && code < self.codebook_size);
        N_SPECIAL + level * self.codebook_size + code
    }
    pub fn digit_token(&self, digit: u32) -> u32 {
        debug_assert!(digit < self.digits);
        self.digit_base() + digit
    }

    /// Token of an ID position: `pos < L` is a code of that level, `pos == L` the digit.
    pub fn id_token(&self, pos: usize, value: u32) -> u32 {
        if pos < self.levels as usize {
            self.code_token(pos as u32, value)
        } else {
            self.digit_token(value)
        }
    }

    /// Tokens of a full ID `[c_1, …, c_L, digit]`.
    pub fn id_tokens(&self, id: &[u32]) -> Vec<u32> {
        id.iter()
            .enumerate()
            .map(|(p, &v)| self.id_token(p, v))
            .collect()
    }

    /// The user token for an original user id: FNV-1a 64 of its bytes, mod U.
    /// Stable across runs and machines.
    pub fn user_token(&self, user: &str) -> u32 {
        let mut h: u64 = 0xcbf2_9ce4_8422_2325;
        for b in user.as_bytes() {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        self.user_base() + (h % u64::from(self.user_tokens.max(1))) as u32
    }

    /// Human-readable name of a token (for debugging and tests).
    pub fn describe(&self, tok: u32) -> String {
        const NAMES: [&str; 8] = [
            "<pad>", "<eos>", "<unk>", "<sep>", "<gen>", "<verify>", "<yes>", "<no>",
        ];
        if tok < N_SPECIAL {
            NAMES[tok as usize].into()
        } else if tok < self.digit_base() {
            let t = tok - N_SPECIAL;
            format!("<c{}_{}>", t / self.codebook_size, t % self.codebook_size)
        } else if tok < self.user_base() {
            format!("<d{}>", tok - self.digit_base())
        } else if tok < self.size() {
            format!("<u{}>", tok - self.user_base())
        } else {
            format!("<invalid {tok}>")
        }
    }

    pub fn save(&self, path: &Path) -> Result<()> {
        crate::util::fsx::write_json(path, self)
    }

    pub fn load(path: &Path) -> Result<Self> {
        serde_json::from_slice(&std::fs::read(path).at(path)?)
            .map_err(|e| Error::input(path, None, format!("not a vocab.json: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    #[test]
    fn layout_is_disjoint_and_complete() {
        let v = Vocab::new(3, 4, 2, 5);
        assert_eq!(v.size(), 8 + 12 + 2 + 5);
        let mut seen = std::collections::HashSet::new();
        for l in 0..3 {
            for c in 0..4 {
                assert!(seen.insert(v.code_token(l, c)));
            }
        }
        for d in 0..2 {
            assert!(seen.insert(v.digit_token(d)));
        }
        assert!(seen.iter().all(|&t| t >= N_SPECIAL && t < v.size() - 5));
        let u = v.user_token("196");
        assert!(u >= v.size() - 5 && u < v.size());
        assert_eq!(u, v.user_token("196"));
        assert_eq!(v.describe(v.code_token(1, 2)), "<c1_2>");
        assert_eq!(v.id_tokens(&[0, 1, 2, 1]), vec![8, 13, 18, 21]);
    }
}
