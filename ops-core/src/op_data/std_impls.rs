//! [`OpData`], [`ContextField`] and [`TargetPart`] for plain std types and, structurally, for every std
//! container, pointer, map, tuple and array.
//!
//! Every impl is `#[diagnostic::do_not_recommend]`: when `Vec<(u8, NetworkId)>` is refused, the error names
//! `Vec<(u8, NetworkId)>` with the rule, not the `NetworkId` deep inside with a chain of notes, and rustc
//! does not list the dozens of types that do qualify.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque};
use std::ffi::{OsStr, OsString};
use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::num::{
    NonZeroI8, NonZeroI16, NonZeroI32, NonZeroI64, NonZeroI128, NonZeroIsize, NonZeroU8,
    NonZeroU16, NonZeroU32, NonZeroU64, NonZeroU128, NonZeroUsize,
};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use super::{ContextField, Holds, No, OpData, TargetKinds, TargetPart};
use crate::{ContextSet, Dependency, Family, ObjectType, OpId, OpState, Priority, TargetSet};

/// Types that hold no object id at all: each is `OpData`, plain context, and a plain part of a target.
macro_rules! plain {
    ($($ty:ty),* $(,)?) => {
        $(
            #[diagnostic::do_not_recommend]
            impl OpData for $ty {
                fn add_context_ids(&self, _: &mut ContextSet) {}

                fn only_derive_is_allowed_to_implement_this_trait() {}
            }

            #[diagnostic::do_not_recommend]
            impl ContextField for $ty {
                type Targetable = No;

                fn add_context(&self, _: &mut ContextSet) {}
            }

            #[diagnostic::do_not_recommend]
            impl TargetPart for $ty {
                type HoldsTarget = No;
                const KINDS: TargetKinds = TargetKinds::Nothing;

                fn add_targets(&self, _: &mut TargetSet) {}
            }
        )*
    };
}

plain!(bool, char, (), str, String);
plain!(
    u8, u16, u32, u64, u128, usize, i8, i16, i32, i64, i128, isize, f32, f64
);
plain!(
    NonZeroU8,
    NonZeroU16,
    NonZeroU32,
    NonZeroU64,
    NonZeroU128,
    NonZeroUsize,
    NonZeroI8,
    NonZeroI16,
    NonZeroI32,
    NonZeroI64,
    NonZeroI128,
    NonZeroIsize,
);
plain!(Duration, Instant, SystemTime);
plain!(
    IpAddr,
    Ipv4Addr,
    Ipv6Addr,
    SocketAddr,
    SocketAddrV4,
    SocketAddrV6
);
plain!(Path, PathBuf, OsStr, OsString);
// An untyped uuid names no object: only the typed ids do. Raw JSON is plain for the same reason: an id
// written into a `Value` has lost its type, exactly as in a `String`.
plain!(uuid::Uuid, serde_json::Value, serde_json::Number, serde_json::Map<String, serde_json::Value>);
// ops-core's own plain types. `OpId` and `Dependency` name operations, which are not targets: an op's own
// state row tracks it, and its targets are declared on it.
plain!(OpId, Dependency, Priority, ObjectType, OpState, Family);
#[cfg(feature = "url")]
plain!(url::Url);

/// `PhantomData` holds no value at all, whatever it is typed with.
#[diagnostic::do_not_recommend]
impl<T: ?Sized> OpData for PhantomData<T> {
    fn add_context_ids(&self, _: &mut ContextSet) {}

    fn only_derive_is_allowed_to_implement_this_trait() {}
}

#[diagnostic::do_not_recommend]
impl<T: ?Sized> ContextField for PhantomData<T> {
    type Targetable = No;

    fn add_context(&self, _: &mut ContextSet) {}
}

#[diagnostic::do_not_recommend]
impl<T: ?Sized> TargetPart for PhantomData<T> {
    type HoldsTarget = No;
    const KINDS: TargetKinds = TargetKinds::Nothing;

    fn add_targets(&self, _: &mut TargetSet) {}
}

/// Containers of one element type `T`: each is what its elements are. `$walk` turns `this` (the container)
/// into an iterator of element references: the container itself for collections, `[&**this]` for pointers.
/// Other parameters (a set's hasher) are no data and stay unbounded.
macro_rules! containers {
    ($(impl[$($generics:tt)*] $ty:ty => |$this:ident| $walk:expr;)*) => {
        $(
            #[diagnostic::do_not_recommend]
            impl<$($generics)*> OpData for $ty where T: OpData {
                fn add_context_ids(&self, out: &mut ContextSet) {
                    let $this = self;
                    for item in $walk {
                        item.add_context_ids(out);
                    }
                }

                fn only_derive_is_allowed_to_implement_this_trait() {}
            }

            #[diagnostic::do_not_recommend]
            impl<$($generics)*> ContextField for $ty where T: ContextField {
                type Targetable = T::Targetable;

                fn add_context(&self, out: &mut ContextSet) {
                    let $this = self;
                    for item in $walk {
                        item.add_context(out);
                    }
                }
            }

            #[diagnostic::do_not_recommend]
            impl<$($generics)*> TargetPart for $ty where T: TargetPart {
                type HoldsTarget = T::HoldsTarget;
                const KINDS: TargetKinds = T::KINDS;

                fn add_targets(&self, out: &mut TargetSet) {
                    let $this = self;
                    for item in $walk {
                        item.add_targets(out);
                    }
                }
            }
        )*
    };
}

containers! {
    impl[T] Option<T> => |this| this.iter();
    impl[T] Vec<T> => |this| this;
    impl[T] VecDeque<T> => |this| this;
    impl[T] LinkedList<T> => |this| this;
    impl[T] BinaryHeap<T> => |this| this;
    impl[T] BTreeSet<T> => |this| this;
    impl[T, S] HashSet<T, S> => |this| this;
    impl[T, const N: usize] [T; N] => |this| this;
    impl[T] [T] => |this| this;
    impl[T: ?Sized] Box<T> => |this| [&**this];
    impl[T: ?Sized] Arc<T> => |this| [&**this];
    impl[T: ?Sized] Rc<T> => |this| [&**this];
    impl[T: ?Sized + ToOwned] Cow<'_, T> => |this| [&**this];
    impl[T: ?Sized] &T => |this| [&**this];
}

/// Maps: keys and values are both data, so both are checked, and a map holds targets when either side does.
macro_rules! maps {
    ($(impl[$($generics:tt)*] $ty:ty;)*) => {
        $(
            #[diagnostic::do_not_recommend]
            impl<$($generics)*> OpData for $ty where K: OpData, V: OpData {
                fn add_context_ids(&self, out: &mut ContextSet) {
                    for (key, value) in self {
                        key.add_context_ids(out);
                        value.add_context_ids(out);
                    }
                }

                fn only_derive_is_allowed_to_implement_this_trait() {}
            }

            #[diagnostic::do_not_recommend]
            impl<$($generics)*> ContextField for $ty where K: ContextField, V: ContextField {
                type Targetable = <K::Targetable as Holds>::Or<V::Targetable>;

                fn add_context(&self, out: &mut ContextSet) {
                    for (key, value) in self {
                        key.add_context(out);
                        value.add_context(out);
                    }
                }
            }

            #[diagnostic::do_not_recommend]
            impl<$($generics)*> TargetPart for $ty where K: TargetPart, V: TargetPart {
                type HoldsTarget = <K::HoldsTarget as Holds>::Or<V::HoldsTarget>;
                const KINDS: TargetKinds = K::KINDS.and(V::KINDS);

                fn add_targets(&self, out: &mut TargetSet) {
                    for (key, value) in self {
                        key.add_targets(out);
                        value.add_targets(out);
                    }
                }
            }
        )*
    };
}

maps! {
    impl[K, V] BTreeMap<K, V>;
    impl[K, V, S] HashMap<K, V, S>;
}

/// Tuples up to twelve, as std's own trait impls go: every element is checked.
macro_rules! tuples {
    ($(($($name:ident $index:tt),+);)*) => {
        $(
            #[diagnostic::do_not_recommend]
            impl<$($name: OpData),+> OpData for ($($name,)+) {
                fn add_context_ids(&self, out: &mut ContextSet) {
                    $(self.$index.add_context_ids(out);)+
                }

                fn only_derive_is_allowed_to_implement_this_trait() {}
            }

            #[diagnostic::do_not_recommend]
            impl<$($name: ContextField),+> ContextField for ($($name,)+) {
                type Targetable = tuples!(@or_targetable $($name)+);

                fn add_context(&self, out: &mut ContextSet) {
                    $(self.$index.add_context(out);)+
                }
            }

            #[diagnostic::do_not_recommend]
            impl<$($name: TargetPart),+> TargetPart for ($($name,)+) {
                type HoldsTarget = tuples!(@or $($name)+);
                const KINDS: TargetKinds = tuples!(@kinds $($name)+);

                fn add_targets(&self, out: &mut TargetSet) {
                    $(self.$index.add_targets(out);)+
                }
            }
        )*
    };
    (@or_targetable $last:ident) => { <$last as ContextField>::Targetable };
    (@or_targetable $first:ident $($rest:ident)+) => {
        <<$first as ContextField>::Targetable as Holds>::Or<tuples!(@or_targetable $($rest)+)>
    };
    (@or $last:ident) => { $last::HoldsTarget };
    (@or $first:ident $($rest:ident)+) => { <$first::HoldsTarget as Holds>::Or<tuples!(@or $($rest)+)> };
    (@kinds $last:ident) => { $last::KINDS };
    (@kinds $first:ident $($rest:ident)+) => { $first::KINDS.and(tuples!(@kinds $($rest)+)) };
}

tuples! {
    (A 0);
    (A 0, B 1);
    (A 0, B 1, C 2);
    (A 0, B 1, C 2, D 3);
    (A 0, B 1, C 2, D 3, E 4);
    (A 0, B 1, C 2, D 3, E 4, F 5);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10);
    (A 0, B 1, C 2, D 3, E 4, F 5, G 6, H 7, I 8, J 9, K 10, L 11);
}
