//! The bounds of a scope and the world features it switches on.

/// The bounds of a scope.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Bounds {
    /// Seals the inclusion lane makes.
    pub batches: u32,
    /// Boots while the process is alive.
    pub crashes: u32,
    /// Faults: answers lost, failed or repeated, transactions dropped, the clock stepping
    /// back, writes failing.
    pub faults: u32,
    /// Blocks above the safe head at most; 0 makes each block safe as it is mined (no
    /// `Finalize` move, fewer interleavings, no unsafe landings).
    pub unsafe_blocks: u64,
    /// Which faults and outside actors the world has besides losses and failures.
    pub features: Features,
}

/// World features beyond lost and failed answers, each a switch so a scope stays small.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Features {
    /// A pending transaction is dropped from the mempool (a fault) and a dropped or
    /// replaced one may resurface later and be mined instead of its replacement (a zombie).
    pub zombies: bool,
    /// An answer is delivered and stays outstanding, so it can be delivered again (a fault).
    pub repeats: bool,
    /// Once, a second sequencer with our key lands a batch of its own at our next wallet nonce.
    pub foreign: bool,
    /// The clock steps back one block-time (a fault).
    pub clock_back: bool,
    /// The newest local write fails (a fault; the core exits to be restarted).
    pub db_failures: bool,
    /// Once, another sender posts a direct input to the inbox.
    pub direct: bool,
    /// The node answers a submit round as executors did before ARCHITECTURE.md choice 68
    /// (no `head_block`, no `safe_block`), so the core plans as it did then: a scope that
    /// shows the double send that choice closed. Not part of `all`.
    pub answers_before_one_view: bool,
}

impl Features {
    /// Every feature on.
    #[must_use]
    pub fn all() -> Self {
        Features {
            zombies: true,
            repeats: true,
            foreign: true,
            clock_back: true,
            db_failures: true,
            direct: true,
            answers_before_one_view: false,
        }
    }

    /// Reads `--features`: comma-separated names, or `all`, or `none`.
    ///
    /// # Errors
    /// An unknown name, with the list of known ones.
    pub fn parse(list: &str) -> Result<Self, String> {
        let mut features = Features::default();
        for name in list.split(',').map(str::trim).filter(|name| !name.is_empty()) {
            match name {
                "all" => features = Features::all(),
                "none" => features = Features::default(),
                "zombies" => features.zombies = true,
                "repeats" => features.repeats = true,
                "foreign" => features.foreign = true,
                "clock-back" => features.clock_back = true,
                "db-failures" => features.db_failures = true,
                "direct" => features.direct = true,
                "answers-before-one-view" => features.answers_before_one_view = true,
                _ => {
                    return Err(format!(
                        "{name}: no such world feature; known: zombies, repeats, foreign, clock-back, db-failures, direct, answers-before-one-view, all, none"
                    ));
                }
            }
        }
        Ok(features)
    }

    /// The names of the features that are on, for the figures.
    #[must_use]
    pub fn names(&self) -> Vec<&'static str> {
        let all = [
            (self.zombies, "zombies"),
            (self.repeats, "repeats"),
            (self.foreign, "foreign"),
            (self.clock_back, "clock-back"),
            (self.db_failures, "db-failures"),
            (self.direct, "direct"),
            (self.answers_before_one_view, "answers-before-one-view"),
        ];
        all.into_iter().filter_map(|(on, name)| on.then_some(name)).collect()
    }
}
