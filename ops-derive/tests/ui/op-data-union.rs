use ops_core::*;

/// A union's active field is unknown, so its ids cannot be walked.
#[derive(OpData)]
union Bits {
    word: u32,
    bytes: [u8; 4],
}

fn main() {}
