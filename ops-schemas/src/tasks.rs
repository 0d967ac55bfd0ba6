//! `op_tasks!`: declares an operation's task enum from Shaken Fist's table — numeric value and wire name.

/// The task enums' list of variants, which the registry uses to name the accepted tasks.
pub trait TaskList: ops_core::OpTask + schemars::JsonSchema {
    /// Every task, in value order.
    const ALL: &'static [Self];
}

/// Declares a task enum: `Variant = value => "wire_name"`. Serialised by wire name, with `value()` the
/// numeric value Shaken Fist's enum carries.
macro_rules! op_tasks {
    ($(#[$doc:meta])* pub enum $name:ident { $($(#[$vdoc:meta])* $variant:ident = $value:literal => $wire:literal,)+ }) => {
        $(#[$doc])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
            ops_core::OpData,
        )]
        #[repr(u32)]
        pub enum $name {
            $($(#[$vdoc])* #[serde(rename = $wire)] $variant = $value,)+
        }

        impl $name {
            /// Shaken Fist's numeric value of the task.
            pub const fn value(self) -> u32 {
                self as u32
            }
        }

        impl ops_core::OpTask for $name {
            fn name(self) -> &'static str {
                match self {
                    $($name::$variant => $wire,)+
                }
            }
        }

        impl $crate::tasks::TaskList for $name {
            const ALL: &'static [Self] = &[$($name::$variant),+];
        }
    };
}
pub(crate) use op_tasks;
