use ops_core::*;

/// Ids inside a nested type are context, and must say so.
#[derive(OpData)]
struct Hop {
    network: NetworkId,
    weight: u8,
}

fn main() {}
