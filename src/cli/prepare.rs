//! `genrec prepare`: a raw dataset (RecBole atomic files, P5 sequences
//! with an item TSV, or JSONL as exported catalogues write it) into the
//! canonical dataset directory with the leave-one-out split (Kang &
//! McAuley 2018's protocol, which P5 and TIGER follow).
use anyhow::Context;
use genrec::data::prepare::{self, PrepareOptions};
use genrec::data::source::{self, FieldNames, Format};
use std::path::PathBuf;

/// Reads RecBole atomic files, a P5 `sequential_data.txt` + item TSV, or JSONL,
/// and writes the canonical dataset directory (items.jsonl, sequences.jsonl,
/// train/valid/test.jsonl, dataset.json). Any input file may be gzipped
/// (`reviews.jsonl.gz`, as catalogues are published). Re-running on the same
/// input gives byte-identical output.
#[derive(clap::Args, Debug)]
pub struct Args {
    /// Dataset directory (RecBole `*.inter` + `*.item`, or P5 `sequential_data.txt` +
    /// `items.tsv`) or an interactions file (`.inter`, `.txt`, `.jsonl`, or `.csv`
    /// with a header, read as the JSONL records its rows stand for; each may end
    /// in `.gz`, read through gzip).
    pub source: PathBuf,
    /// Item file (default: the `.item` beside the `.inter`, or `items.tsv` beside
    /// `sequential_data.txt`; required for JSONL and CSV, either of which it may
    /// be).
    #[arg(long)]
    pub items: Option<PathBuf>,
    /// Input format (default: detected from the file names).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// Output directory (default: data/prepared/<name of the source>).
    #[arg(long, short)]
    pub out: Option<PathBuf>,
    /// Item text template over the item file's columns, e.g.
    /// "{movie_title} ({release_year}) | {class}". Default: the non-empty
    /// columns joined with " | ", the item's name first (a column `title`,
    /// else `name`, else one whose last word is `title` or `name`:
    /// `movie_title`, `Book-Title`, `productName`), then the others from the
    /// shortest to the longest on average, so that the encoder's 256-token cut
    /// shortens the longest. Either way, values written as HTML (a shop
    /// export's descriptions) are read as plain text: tags out, entities such
    /// as `&amp;` decoded. An item whose template fields are all empty gets
    /// the fallback field's value instead.
    #[arg(long)]
    pub text_template: Option<String>,
    /// Column used as text when an item's text is empty (default: `asin` when
    /// the item file has one, else the original item id).
    #[arg(long)]
    pub fallback_field: Option<String>,
    /// Keep only interactions with rating ≥ this value (needs a rating column).
    #[arg(long)]
    pub rating_threshold: Option<f64>,
    /// k-core filtering: repeatedly drop users and items with fewer than k interactions.
    #[arg(long)]
    pub k_core: Option<usize>,
    /// Most recent history items kept as the input of each validation/test example.
    #[arg(long, default_value_t = 200)]
    pub max_history: usize,
    /// Keep sequence items that are missing from the item file, with the text
    /// "item <id>", however many they are. Without it, a few are kept so (and
    /// counted in a note), but when most of the items the interactions name
    /// are missing the two files cannot be meant together and prepare fails,
    /// naming the first ones.
    #[arg(long)]
    pub allow_missing_items: bool,
    /// Drop catalogue items that no user sequence uses (after filtering). By
    /// default every item of the item file stays: it gets a semantic ID and
    /// can be recommended (cold start), though it has no training example.
    #[arg(long)]
    pub drop_unused_items: bool,
    /// Drop users with fewer than 3 interactions (after filtering). By default
    /// they are context users: too short to hold out a validation and a test
    /// item, their interactions still train the models and count in
    /// popularity and transitions (in a raw export they can be most of the data).
    #[arg(long)]
    pub drop_short_users: bool,
    /// JSONL: the interactions' user field, where the export names it otherwise
    /// than genrec reads by default (user, user_id, userId, reviewerID,
    /// customer_id, customer, customerId, client_id, visitor_id, account_id).
    #[arg(long, value_name = "FIELD")]
    pub user_field: Option<String>,
    /// JSONL: the interactions' item field (default: the first of item_id,
    /// item, itemId, parent_asin, asin, product_id, … on the first line; the
    /// item file's id is read from a field of the same name where it has one).
    #[arg(long, value_name = "FIELD")]
    pub item_field: Option<String>,
    /// JSONL: the interactions' time field, a number or a date (default:
    /// timestamp, time, unixReviewTime, date, datetime, created_at, ts,
    /// event_time; none: each user's lines in file order).
    #[arg(long, value_name = "FIELD")]
    pub time_field: Option<String>,
    /// JSONL: the interactions' rating field, for --rating-threshold (default:
    /// rating, stars, overall, score).
    #[arg(long, value_name = "FIELD")]
    pub rating_field: Option<String>,
}

pub fn run(a: Args) -> anyhow::Result<()> {
    let (format, inter, items) = source::resolve(&a.source, a.items.as_deref(), a.format)?;
    let out = a.out.clone().unwrap_or_else(|| {
        let name = if a.source.is_dir() {
            a.source.as_path()
        } else {
            a.source.parent().unwrap_or(&a.source)
        };
        let name = std::fs::canonicalize(name).unwrap_or(name.to_path_buf());
        PathBuf::from("data/prepared").join(name.file_name().unwrap_or_default())
    });
    let opts = PrepareOptions {
        text_template: a.text_template,
        fallback_field: a.fallback_field,
        rating_threshold: a.rating_threshold,
        k_core: a.k_core,
        max_history: a.max_history,
        allow_missing_items: a.allow_missing_items,
        drop_unused_items: a.drop_unused_items,
        drop_short_users: a.drop_short_users,
    };
    genrec::tell!(
        "reading {} and {} ({})",
        inter.display(),
        items.display(),
        format
    );
    let named = FieldNames {
        user: a.user_field,
        item: a.item_field,
        time: a.time_field,
        rating: a.rating_field,
    };
    let raw = source::read(format, &inter, &items, &named)?;
    if let Some(keys) = &raw.interaction_keys {
        genrec::tell!("interactions: {keys}");
    }
    let prepared = prepare::build(&raw, &opts)?;
    prepare::write(&raw, &opts, &prepared, &out)
        .with_context(|| format!("writing {}", out.display()))?;
    genrec::say!("{}", prepared.stats);
    genrec::say!("wrote {}", out.display());
    Ok(())
}
