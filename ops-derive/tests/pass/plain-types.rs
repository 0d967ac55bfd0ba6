//! Every type the deny-by-default rule accepts as plain data, so the allowlist cannot shrink unnoticed: each
//! is a field of an `OpData` type (checked by the derive's bound, as an operation's fields are) or, when
//! unsized, checked directly.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet, BinaryHeap, HashMap, HashSet, LinkedList, VecDeque};
use std::ffi::{OsStr, OsString};
use std::marker::PhantomData;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::num::{
    NonZeroI8, NonZeroI16, NonZeroI32, NonZeroI64, NonZeroI128, NonZeroIsize, NonZeroU8, NonZeroU16, NonZeroU32,
    NonZeroU64, NonZeroU128, NonZeroUsize,
};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use ops_core::{Dependency, Family, NetworkId, ObjectType, OpData, OpId, OpState, Priority};

#[derive(OpData)]
struct Scalars {
    a: bool,
    b: char,
    c: (),
    d: String,
    e: u8,
    f: u16,
    g: u32,
    h: u64,
    i: u128,
    j: usize,
    k: i8,
    l: i16,
    m: i32,
    n: i64,
    o: i128,
    p: isize,
    q: f32,
    r: f64,
}

#[derive(OpData)]
struct NonZeros {
    a: NonZeroU8,
    b: NonZeroU16,
    c: NonZeroU32,
    d: NonZeroU64,
    e: NonZeroU128,
    f: NonZeroUsize,
    g: NonZeroI8,
    h: NonZeroI16,
    i: NonZeroI32,
    j: NonZeroI64,
    k: NonZeroI128,
    l: NonZeroIsize,
}

#[derive(OpData)]
struct SystemTypes {
    a: Duration,
    b: Instant,
    c: SystemTime,
    d: IpAddr,
    e: Ipv4Addr,
    f: Ipv6Addr,
    g: SocketAddr,
    h: SocketAddrV4,
    i: SocketAddrV6,
    j: PathBuf,
    k: OsString,
}

/// An untyped uuid, raw JSON and URLs are plain: none of them carries an object's type.
#[derive(OpData)]
struct Foreign {
    a: uuid::Uuid,
    b: serde_json::Value,
    c: serde_json::Number,
    d: serde_json::Map<String, serde_json::Value>,
    e: url::Url,
}

/// ops-core's own plain types, and a task enum (derived, as ops-schemas' `op_tasks!` does).
#[derive(OpData)]
struct OwnTypes {
    a: OpId,
    b: Dependency,
    c: Priority,
    d: ObjectType,
    e: OpState,
    f: Family,
    g: Tasks,
}

#[derive(OpData)]
enum Tasks {
    Run,
}

/// Every container, pointer, map and tuple of plain data; a `PhantomData` whatever it is typed with.
#[derive(OpData)]
struct Containers<'a> {
    a: Option<u8>,
    b: Vec<u8>,
    c: VecDeque<u8>,
    d: LinkedList<u8>,
    e: BinaryHeap<u8>,
    f: BTreeSet<u8>,
    g: HashSet<u8>,
    h: [u8; 4],
    i: Box<str>,
    j: Arc<str>,
    k: Rc<[u8]>,
    l: Cow<'a, str>,
    m: &'a Path,
    n: &'a OsStr,
    o: BTreeMap<String, u8>,
    p: HashMap<String, Vec<u8>>,
    q: (u8,),
    r: (u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8, u8),
    s: PhantomData<NetworkId>,
    t: Option<Vec<BTreeMap<String, (u8, Option<Box<[String]>>)>>>,
}

fn assert_op_data<T: OpData + ?Sized>() {}

fn main() {
    assert_op_data::<str>();
    assert_op_data::<[u8]>();
    assert_op_data::<Path>();
    assert_op_data::<OsStr>();
    assert_op_data::<Scalars>();
    assert_op_data::<NonZeros>();
    assert_op_data::<SystemTypes>();
    assert_op_data::<Foreign>();
    assert_op_data::<OwnTypes>();
    assert_op_data::<Containers<'static>>();
}
