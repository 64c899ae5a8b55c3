//! Persons (人员): names, ID-card numbers with a correct check character, phones.

use std::collections::BTreeSet;
use std::ops::RangeInclusive;

use chrono::NaiveDate;
use gridgov_model::{DivisionCode, Feature, IdCardNumber, Layer};
use rand::Rng;

use crate::names;
use crate::output::Out;

/// The region code of ID cards issued in the county. Tenants, too, are mostly people of the
/// county moving from the villages into the towns, so every card carries it.
const LOCAL: &str = "520526";

/// A registry of persons that never hands out the same ID-card number twice.
#[derive(Debug, Default)]
pub(crate) struct People {
    issued: BTreeSet<String>,
}

/// An ID-card number for the region, birth date and sex, with its check character.
pub(crate) fn id_card(region: &str, born: NaiveDate, male: bool, serial: u32) -> String {
    let serial = (serial % 500) * 2 + u32::from(male);
    let body = format!("{region}{}{serial:03}", born.format("%Y%m%d"));
    let mut first = [b'0'; 17];
    first.copy_from_slice(&body.as_bytes()[..17]);
    format!("{body}{}", IdCardNumber::check_char(&first))
}

impl People {
    /// Adds a person living in `village`, born in one of the `born` years, and returns the
    /// person's id.
    pub(crate) fn add(
        &mut self,
        out: &mut Out,
        village: DivisionCode,
        born: RangeInclusive<i32>,
        rng: &mut impl Rng,
    ) -> i64 {
        let female = rng.gen_bool(0.45);
        let name = names::person(rng, female);
        let card = loop {
            let year = rng.gen_range(born.clone());
            let day = rng.gen_range(1..=365);
            let Some(date) = NaiveDate::from_yo_opt(year, day) else {
                continue;
            };
            let card = id_card(LOCAL, date, !female, rng.gen_range(0..500));
            if self.issued.insert(card.clone()) {
                break card;
            }
        };
        let phone = names::phone(rng);
        out.push(
            Layer::Persons,
            Feature::new(village, None)
                .with("name", name)
                .with("id_card", card)
                .with("phone", phone),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_cards_carry_a_valid_check_character() {
        let born = NaiveDate::from_ymd_opt(1949, 12, 31).unwrap();
        // The worked example of GB 11643-1999 (serial 002, female).
        assert_eq!(id_card("110105", born, false, 1), "11010519491231002X");
        let n = id_card(LOCAL, born, true, 77);
        assert!(n.parse::<IdCardNumber>().is_ok(), "{n}");
        assert_eq!((n.as_bytes()[16] - b'0') % 2, 1);
    }
}
