use ops_core::*;

struct Net(NetworkId);

/// Only the derive may implement `OpData`: a hand impl would assert without proof.
impl OpData for Net {
    fn add_context_ids(&self, _: &mut ContextSet) {}
}

fn main() {}
