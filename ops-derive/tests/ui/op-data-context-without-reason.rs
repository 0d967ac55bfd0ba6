use ops_core::*;

/// In a nested type too, a targetable id marked context says why.
#[derive(OpData)]
struct Hop {
    #[context]
    network: NetworkId,
}

fn main() {}
