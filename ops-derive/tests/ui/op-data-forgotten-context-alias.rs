use ops_core::*;

type Net = NetworkId;

/// An alias hides the id from the syntax, not from the bound.
#[derive(OpData)]
struct Hop {
    network: Net,
}

fn main() {}
