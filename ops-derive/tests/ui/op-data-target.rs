use ops_core::*;

/// An operation's targets are its own fields, never buried in a nested type.
#[derive(OpData)]
struct Hop {
    #[target]
    network: NetworkId,
}

fn main() {}
