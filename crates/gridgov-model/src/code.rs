//! Administrative division codes (统计用区划代码) and the local codes beneath them.
//!
//! A [`DivisionCode`] is the national 12-digit code: 6 digits of county, 3 of township, 3 of
//! village; a county's code ends in `000000`, a township's in `000`. Villager groups and grids
//! are numbered locally under their village: `520526101201-03` ([`GroupCode`]) and
//! `520526101201-G02` ([`GridCode`]).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Province-level prefixes in use (GB/T 2260), the first two digits of every code.
const PROVINCES: &[u8] = &[
    11, 12, 13, 14, 15, 21, 22, 23, 31, 32, 33, 34, 35, 36, 37, 41, 42, 43, 44, 45, 46, 50, 51, 52,
    53, 54, 61, 62, 63, 64, 65, 71, 81, 82,
];

/// Why a code was rejected.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeError {
    /// Wrong number of characters.
    #[error("code '{code}' has {len} characters; a division code has exactly 12 digits")]
    Length {
        /// The rejected code.
        code: String,
        /// Its length.
        len: usize,
    },
    /// A character that is not an ASCII digit.
    #[error("code '{0}' contains a character that is not a digit")]
    NotDigits(String),
    /// The first two digits are no province.
    #[error("code '{0}' does not start with a province code (GB/T 2260)")]
    Province(String),
    /// County part is zero.
    #[error("code '{0}' has no county part (digits 3-6 are 0000)")]
    NoCounty(String),
    /// A township part of zero with a non-zero village part.
    #[error("code '{0}' has a village part but no township part")]
    Gap(String),
    /// A local code (villager group or grid) of the wrong form.
    #[error("code '{code}' is not a {what} code; expected {expected}")]
    Local {
        /// The rejected code.
        code: String,
        /// What kind of code was expected.
        what: &'static str,
        /// The expected form.
        expected: &'static str,
    },
}

/// The level of a division in the administrative tree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DivisionLevel {
    /// 县 / 区
    County,
    /// 乡 / 镇 / 街道
    Township,
    /// 行政村 / 社区
    Village,
    /// 村民小组 / 自然村
    VillagerGroup,
}

impl DivisionLevel {
    /// The level's Chinese name.
    pub fn zh(self) -> &'static str {
        match self {
            DivisionLevel::County => "县",
            DivisionLevel::Township => "乡镇",
            DivisionLevel::Village => "村",
            DivisionLevel::VillagerGroup => "村民小组",
        }
    }
}

impl fmt::Display for DivisionLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            DivisionLevel::County => "county",
            DivisionLevel::Township => "township",
            DivisionLevel::Village => "village",
            DivisionLevel::VillagerGroup => "villager group",
        })
    }
}

/// A validated national 12-digit division code of a county, township or village.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DivisionCode([u8; 12]);

impl DivisionCode {
    /// The 12 digits as text.
    pub fn as_str(&self) -> &str {
        // Only ASCII digits are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// The level this code denotes: a county ends in `000000`, a township in `000`.
    pub fn level(&self) -> DivisionLevel {
        if &self.0[6..] == b"000000" {
            DivisionLevel::County
        } else if &self.0[9..] == b"000" {
            DivisionLevel::Township
        } else {
            DivisionLevel::Village
        }
    }

    /// The significant prefix: 6 digits for a county, 9 for a township, 12 for a village.
    /// Every code under this division starts with it.
    pub fn prefix(&self) -> &str {
        let s = self.as_str();
        match self.level() {
            DivisionLevel::County => &s[..6],
            DivisionLevel::Township => &s[..9],
            _ => s,
        }
    }

    /// The parent division (none for a county).
    pub fn parent(&self) -> Option<DivisionCode> {
        let mut d = self.0;
        match self.level() {
            DivisionLevel::County | DivisionLevel::VillagerGroup => return None,
            DivisionLevel::Township => d[6..].copy_from_slice(b"000000"),
            DivisionLevel::Village => d[9..].copy_from_slice(b"000"),
        }
        Some(DivisionCode(d))
    }

    /// The county this code lies in.
    #[must_use]
    pub fn county(&self) -> DivisionCode {
        let mut d = self.0;
        d[6..].copy_from_slice(b"000000");
        DivisionCode(d)
    }

    /// The township this code lies in (itself for a township; none for a county).
    pub fn township(&self) -> Option<DivisionCode> {
        match self.level() {
            DivisionLevel::County | DivisionLevel::VillagerGroup => None,
            DivisionLevel::Township => Some(*self),
            DivisionLevel::Village => self.parent(),
        }
    }

    /// Whether `other` is this division or lies under it.
    pub fn contains(&self, other: &DivisionCode) -> bool {
        other.as_str().starts_with(self.prefix())
    }

    /// The key a distributed database (Citus) shards by: the 9-digit township part, or the
    /// county's 6 digits followed by `000` for county-level features.
    pub fn shard_key(&self) -> &str {
        &self.as_str()[..9]
    }
}

impl FromStr for DivisionCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim();
        if s.chars().count() != 12 {
            return Err(CodeError::Length {
                code: s.to_owned(),
                len: s.chars().count(),
            });
        }
        if !s.bytes().all(|b| b.is_ascii_digit()) {
            return Err(CodeError::NotDigits(s.to_owned()));
        }
        let b = s.as_bytes();
        let province = (b[0] - b'0') * 10 + (b[1] - b'0');
        if !PROVINCES.contains(&province) {
            return Err(CodeError::Province(s.to_owned()));
        }
        if &b[2..6] == b"0000" {
            return Err(CodeError::NoCounty(s.to_owned()));
        }
        if &b[6..9] == b"000" && &b[9..] != b"000" {
            return Err(CodeError::Gap(s.to_owned()));
        }
        let mut d = [0u8; 12];
        d.copy_from_slice(b);
        Ok(DivisionCode(d))
    }
}

impl TryFrom<&str> for DivisionCode {
    type Error = CodeError;
    fn try_from(s: &str) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl fmt::Display for DivisionCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for DivisionCode {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for DivisionCode {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Parses `VILLAGE-<marker>NN`: a village code, `-`, the marker (empty or `G`) and a 2-3
/// digit number greater than zero.
fn parse_local(
    s: &str,
    marker: &str,
    what: &'static str,
    expected: &'static str,
) -> Result<(DivisionCode, u16), CodeError> {
    let local = || CodeError::Local {
        code: s.to_owned(),
        what,
        expected,
    };
    let (village, suffix) = s.split_once('-').ok_or_else(local)?;
    let village: DivisionCode = village.parse()?;
    if village.level() != DivisionLevel::Village {
        return Err(local());
    }
    let n = suffix.strip_prefix(marker).ok_or_else(local)?;
    let digits = (2..=3).contains(&n.len()) && n.bytes().all(|b| b.is_ascii_digit());
    match n.parse::<u16>() {
        Ok(number) if digits && number > 0 => Ok((village, number)),
        _ => Err(local()),
    }
}

/// A villager group's code: its village's code, `-`, and a 2- or 3-digit local number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupCode {
    village: DivisionCode,
    number: u16,
}

impl GroupCode {
    /// Builds the code of group `number` (1-based) in `village`.
    pub fn new(village: DivisionCode, number: u16) -> Self {
        Self { village, number }
    }
    /// The village the group belongs to.
    pub fn village(&self) -> DivisionCode {
        self.village
    }
    /// The local number.
    pub fn number(&self) -> u16 {
        self.number
    }
}

impl FromStr for GroupCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const EXPECTED: &str = "a village code, '-' and a 2-3 digit number, like 520526101201-03";
        let (village, number) = parse_local(s.trim(), "", "villager group", EXPECTED)?;
        Ok(Self { village, number })
    }
}

impl fmt::Display for GroupCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{:02}", self.village, self.number)
    }
}

/// A grid's code: its village's (or community's) code, `-G`, and a local number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GridCode {
    village: DivisionCode,
    number: u16,
}

impl GridCode {
    /// Builds the code of grid `number` (1-based) in `village`.
    pub fn new(village: DivisionCode, number: u16) -> Self {
        Self { village, number }
    }
    /// The village the grid lies in.
    pub fn village(&self) -> DivisionCode {
        self.village
    }
    /// The local number.
    pub fn number(&self) -> u16 {
        self.number
    }
}

impl FromStr for GridCode {
    type Err = CodeError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        const EXPECTED: &str = "a village code, '-G' and a 2-3 digit number, like 520526101201-G02";
        let (village, number) = parse_local(s.trim(), "G", "grid", EXPECTED)?;
        Ok(Self { village, number })
    }
}

impl fmt::Display for GridCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-G{:02}", self.village, self.number)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_and_parents() {
        let v: DivisionCode = "520526101201".parse().unwrap();
        assert_eq!(v.level(), DivisionLevel::Village);
        let t = v.parent().unwrap();
        assert_eq!(t.as_str(), "520526101000");
        assert_eq!(t.level(), DivisionLevel::Township);
        let c = t.parent().unwrap();
        assert_eq!(c.as_str(), "520526000000");
        assert_eq!(c.parent(), None);
        assert!(c.contains(&v) && t.contains(&v) && !v.contains(&t));
        assert_eq!(v.shard_key(), "520526101");
    }

    #[test]
    fn malformed_codes_are_rejected_with_a_reason() {
        let e = |s: &str| s.parse::<DivisionCode>().unwrap_err().to_string();
        assert!(e("52052610120").contains("exactly 12 digits"));
        assert!(e("52052610120x").contains("not a digit"));
        assert!(e("990526101201").contains("province"));
        assert!(e("520000000000").contains("county"));
        assert!(e("520526000201").contains("no township part"));
    }

    #[test]
    fn local_codes_round_trip() {
        let g: GridCode = "520526101201-G02".parse().unwrap();
        assert_eq!(g.to_string(), "520526101201-G02");
        assert_eq!(g.village().as_str(), "520526101201");
        let vg: GroupCode = "520526101201-03".parse().unwrap();
        assert_eq!(vg.number(), 3);
        assert!("520526101000-G02".parse::<GridCode>().is_err());
        assert!("520526101201-02".parse::<GridCode>().is_err());
        assert!("520526101201-G0".parse::<GridCode>().is_err());
        assert!("520526101201-00".parse::<GroupCode>().is_err());
    }
}
