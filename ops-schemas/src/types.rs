//! Field types with a typed wire form: bounded text, MAC addresses and URIs. (IP addresses are
//! `std::net::IpAddr`.)

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use ops_core::OpData;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

mod uri;

pub use uri::{InvalidUri, Uri};

/// A string of at most `MAX` characters, none of them NUL. Other input is refused while deserialising, so
/// an oversize value never reaches the database, nor a NUL that PostgreSQL could not keep in a text column
/// and that no reader of the others expects.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, OpData)]
#[serde(transparent)]
pub struct Text<const MAX: usize>(String);

impl<const MAX: usize> Text<MAX> {
    /// Checks the length and that there is no NUL.
    pub fn new(value: impl Into<String>) -> Result<Self, InvalidText> {
        let value = value.into();
        let length = value.chars().count();
        if length > MAX {
            return Err(InvalidText::TooLong { length, max: MAX });
        }
        if let Some(at) = value.chars().position(|c| c == '\0') {
            return Err(InvalidText::Nul { at });
        }
        Ok(Text(value))
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl<const MAX: usize> Deref for Text<MAX> {
    type Target = str;

    fn deref(&self) -> &str {
        &self.0
    }
}

impl<'de, const MAX: usize> Deserialize<'de> for Text<MAX> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Text::new(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

impl<const MAX: usize> schemars::JsonSchema for Text<MAX> {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        format!("Text{MAX}").into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "maxLength": MAX, "pattern": "^[^\\u0000]*$"})
    }
}

/// A string its [`Text`] field refuses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum InvalidText {
    /// Longer than the field allows.
    #[error("a string of {length} characters is longer than the maximum of {max}")]
    TooLong {
        /// The characters given.
        length: usize,
        /// The characters allowed.
        max: usize,
    },
    /// A NUL character in it.
    #[error("a string may not contain a NUL character (found at character {at})")]
    Nul {
        /// Where the first one is, counting characters from 0.
        at: usize,
    },
}

/// A MAC address, written `aa:bb:cc:dd:ee:ff` (`-` separators and upper case are read too).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, OpData)]
pub struct MacAddress(pub [u8; 6]);

impl fmt::Display for MacAddress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [a, b, c, d, e, g] = self.0;
        write!(f, "{a:02x}:{b:02x}:{c:02x}:{d:02x}:{e:02x}:{g:02x}")
    }
}

impl FromStr for MacAddress {
    type Err = InvalidMacAddress;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || InvalidMacAddress(s.to_owned());
        let mut bytes = [0u8; 6];
        let mut parts = s.split([':', '-']);
        for byte in &mut bytes {
            let part = parts
                .next()
                .filter(|part| part.len() == 2)
                .ok_or_else(invalid)?;
            *byte = u8::from_str_radix(part, 16).map_err(|_| invalid())?;
        }
        if parts.next().is_some() {
            return Err(invalid());
        }
        Ok(MacAddress(bytes))
    }
}

/// A string that is no MAC address.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid MAC address `{0}`; expected six hex bytes like `52:54:00:12:34:56`")]
pub struct InvalidMacAddress(pub String);

impl Serialize for MacAddress {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for MacAddress {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        String::deserialize(deserializer)?
            .parse()
            .map_err(serde::de::Error::custom)
    }
}

impl schemars::JsonSchema for MacAddress {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "MacAddress".into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::json_schema!({"type": "string", "pattern": "^[0-9a-fA-F]{2}([:-][0-9a-fA-F]{2}){5}$"})
    }
}

/// The schema of an `IpAddr` field: an IPv4 or IPv6 address, the forms serde reads. (schemars' own
/// `"format": "ip"` is no format a validator knows, so it would pass any string.)
pub(crate) fn ip_address(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]})
}

/// [`ip_address`], or `null`: the schema of an `Option<IpAddr>` field.
pub(crate) fn optional_ip_address(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
    schemars::json_schema!({
        "anyOf": [
            {"type": "string", "anyOf": [{"format": "ipv4"}, {"format": "ipv6"}]},
            {"type": "null"}
        ]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_refuses_more_than_its_maximum() {
        assert_eq!(
            serde_json::from_str::<Text<3>>("\"abc\"").unwrap().as_str(),
            "abc"
        );
        let err = serde_json::from_str::<Text<3>>("\"abcd\"").unwrap_err();
        assert!(
            err.to_string()
                .starts_with("a string of 4 characters is longer than the maximum of 3"),
            "{err}"
        );
        assert_eq!(
            serde_json::to_string(&Text::<3>::new("ab").unwrap()).unwrap(),
            "\"ab\""
        );
    }

    #[test]
    fn text_refuses_a_nul_and_keeps_sql_verbatim() {
        let err = serde_json::from_str::<Text<20>>(r#""ab\u0000c""#).unwrap_err();
        assert!(
            err.to_string()
                .starts_with("a string may not contain a NUL character (found at character 2)"),
            "{err}"
        );
        let sql = "x'); DROP TABLE t; --";
        assert_eq!(Text::<30>::new(sql).unwrap().as_str(), sql);
    }

    #[test]
    fn mac_addresses_round_trip_in_canonical_form() {
        let mac: MacAddress = serde_json::from_str("\"52-54-00-AB-cd-0f\"").unwrap();
        assert_eq!(
            serde_json::to_string(&mac).unwrap(),
            "\"52:54:00:ab:cd:0f\""
        );
        for bad in [
            "52:54:00:ab:cd",
            "52:54:00:ab:cd:0f:11",
            "5:54:00:ab:cd:0f",
            "zz:54:00:ab:cd:0f",
            "",
        ] {
            assert!(bad.parse::<MacAddress>().is_err(), "{bad}");
        }
    }
}
