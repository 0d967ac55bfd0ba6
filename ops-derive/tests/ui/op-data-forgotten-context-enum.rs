use ops_core::*;

/// Every variant's fields follow the rule.
#[derive(OpData)]
enum Route {
    Direct { network: NetworkId },
    Unrouted,
}

fn main() {}
