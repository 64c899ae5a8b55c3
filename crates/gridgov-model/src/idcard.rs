//! Resident identity card numbers (GB 11643-1999): 17 digits and an ISO 7064 MOD 11-2 check.

use std::fmt;
use std::str::FromStr;

/// Why an ID-card number was rejected. The message never repeats the number itself.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdCardError {
    /// Not 18 characters.
    #[error("an ID-card number has 18 characters, this one has {0}")]
    Length(usize),
    /// Characters other than digits (and a final X).
    #[error("an ID-card number is 17 digits followed by a digit or X")]
    Characters,
    /// The birth date part (digits 7-14) is no date.
    #[error("the birth date in the ID-card number is not a valid date")]
    BirthDate,
    /// The check character does not match.
    #[error("the ID-card number's check character is wrong (checksum GB 11643)")]
    Checksum,
}

/// A validated 18-character resident ID-card number.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct IdCardNumber(String);

const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK: [u8; 11] = *b"10X98765432";

impl IdCardNumber {
    /// The check character for the first 17 digits.
    pub fn check_char(first17: &[u8; 17]) -> char {
        let sum: u32 = first17
            .iter()
            .zip(WEIGHTS)
            .map(|(d, w)| u32::from(d - b'0') * w)
            .sum();
        CHECK[(sum % 11) as usize] as char
    }

    /// The number as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The number masked for display: the region (six digits) and the last four characters
    /// kept, the birth date hidden (as [`crate::access::mask_id_card`]).
    pub fn masked(&self) -> String {
        crate::access::mask_id_card(&self.0)
    }
}

impl FromStr for IdCardNumber {
    type Err = IdCardError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let s = s.trim().to_ascii_uppercase();
        let n = s.chars().count();
        if n != 18 {
            return Err(IdCardError::Length(n));
        }
        let b = s.as_bytes();
        if !b[..17].iter().all(u8::is_ascii_digit) || !(b[17].is_ascii_digit() || b[17] == b'X') {
            return Err(IdCardError::Characters);
        }
        let birth = &s[6..14];
        if chrono::NaiveDate::parse_from_str(birth, "%Y%m%d").is_err() {
            return Err(IdCardError::BirthDate);
        }
        let mut first = [0u8; 17];
        first.copy_from_slice(&b[..17]);
        if Self::check_char(&first) != b[17] as char {
            return Err(IdCardError::Checksum);
        }
        Ok(Self(s))
    }
}

impl fmt::Debug for IdCardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "IdCardNumber({})", self.masked())
    }
}

impl fmt::Display for IdCardNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn published_example_validates() {
        // The worked example of GB 11643-1999.
        assert!("11010519491231002X".parse::<IdCardNumber>().is_ok());
        assert!("110105194912310021".parse::<IdCardNumber>().unwrap_err() == IdCardError::Checksum);
        assert_eq!(
            "11010519491331002X".parse::<IdCardNumber>().unwrap_err(),
            IdCardError::BirthDate
        );
        assert_eq!(
            "1101051949".parse::<IdCardNumber>().unwrap_err(),
            IdCardError::Length(10)
        );
    }

    #[test]
    fn masking_hides_the_birth_date() {
        let id: IdCardNumber = "11010519491231002X".parse().unwrap();
        assert_eq!(id.masked(), "110105********002X");
        assert!(!format!("{id:?}").contains("19491231"));
    }
}
