//! Part `index` of `of`: what one worker of several takes — one rank's slice
//! of a training batch or of the validation users, one machine's share of the
//! embedding or recommendation batches (`--shard i/n`).
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub index: usize,
    pub of: usize,
}

impl Part {
    /// Everything (one worker).
    pub const WHOLE: Part = Part { index: 0, of: 1 };

    /// A contiguous, balanced slice of `items`: the parts of all workers, in
    /// order, are `items`.
    pub fn of<'a, T>(&self, items: &'a [T]) -> &'a [T] {
        let n = items.len();
        &items[n * self.index / self.of..n * (self.index + 1) / self.of]
    }

    /// Whether the `k`-th of a stream of batches is this part's (every
    /// `of`-th, from `index`), for streams whose length is not known ahead.
    pub fn takes(&self, k: usize) -> bool {
        k % self.of == self.index
    }

    /// `i/n` (as `--shard` reads it): 0 ≤ i < n.
    pub fn parse(s: &str) -> Result<Self, String> {
        let (i, n) = s.split_once('/').ok_or("expected i/n, e.g. 0/4")?;
        let (index, of): (usize, usize) = (
            i.trim().parse().map_err(|_| "i must be a number")?,
            n.trim().parse().map_err(|_| "n must be a number")?,
        );
        if of == 0 || index >= of {
            return Err(format!("shard {index}/{of}: need 0 ≤ i < n"));
        }
        Ok(Self { index, of })
    }
}

impl fmt::Display for Part {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.of)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_are_balanced_and_concatenate_to_the_whole() {
        let batch: Vec<u32> = (10..21).collect();
        for of in 1..=4 {
            let parts: Vec<&[u32]> = (0..of).map(|index| Part { index, of }.of(&batch)).collect();
            assert_eq!(parts.concat(), batch, "{of} parts");
            let (lo, hi) = (
                parts.iter().map(|p| p.len()).min(),
                parts.iter().map(|p| p.len()).max(),
            );
            assert!(hi.unwrap() - lo.unwrap() <= 1, "{of} parts: {parts:?}");
        }
        assert!(
            Part { index: 1, of: 2 }.of(&[5]).len() == 1
                && Part { index: 0, of: 2 }.of(&[5]).is_empty()
        );
        let p = Part::parse("2/3").unwrap();
        assert_eq!(
            (p, p.to_string()),
            (Part { index: 2, of: 3 }, "2/3".to_string())
        );
        assert_eq!(
            (0..9).filter(|&k| p.takes(k)).collect::<Vec<_>>(),
            [2, 5, 8]
        );
        assert!(
            Part::parse("3/3").is_err() && Part::parse("1/0").is_err() && Part::parse("x").is_err()
        );
    }
}
