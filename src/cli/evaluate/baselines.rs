//! The baselines `evaluate` can rank beside genrec, each the method a user
//! would otherwise run: most-popular, text-kNN (Hou et al. 2022's text-based
//! sequential recommenders in their simplest form), item transitions
//! (FPMC's Markov chain, Rendle et al. 2010) and SASRec (Kang & McAuley 2018,
//! as RecBole trains it).

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Baseline {
    Pop,
    Knn,
    KnnRecent,
    /// The items that most often followed the user's last three in training.
    Next,
    Sasrec,
}
