//! The fields of a JSONL interactions file named by the user
//! (`prepare --user-field`, `--item-field`, `--time-field`,
//! `--rating-field`) where an export calls them otherwise than the names
//! genrec reads by default (`keys::Keys`); only JSONL input takes them, as
//! RecBole's and P5's files name their columns themselves.
use super::Format;
use crate::error::{Error, Result};

/// The fields of a JSONL interactions file that its export names otherwise
/// than genrec knows (`prepare --user-field` and the like); `None`: the
/// first accepted name that the first line has.
#[derive(Debug, Clone, Default)]
pub struct FieldNames {
    pub user: Option<String>,
    pub item: Option<String>,
    pub time: Option<String>,
    pub rating: Option<String>,
}

impl FieldNames {
    /// The names given, with their flags.
    fn given(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("--user-field", &self.user),
            ("--item-field", &self.item),
            ("--time-field", &self.time),
            ("--rating-field", &self.rating),
        ]
        .into_iter()
        .filter_map(|(flag, v)| v.as_deref().map(|v| (flag, v)))
    }

    /// Names only JSONL reads, none empty.
    pub(super) fn check(&self, format: Format) -> Result<()> {
        if let Some((flag, _)) = self.given().find(|(_, v)| v.trim().is_empty()) {
            return Err(Error::Config(format!("{flag} needs a field name")));
        }
        match self.given().next() {
            Some((flag, _)) if format != Format::Jsonl => Err(Error::Config(format!(
                "{flag} names a field of JSONL input; {} input names its columns itself",
                match format {
                    Format::Recbole => "RecBole",
                    _ => "P5",
                }
            ))),
            _ => Ok(()),
        }
    }
}
