//! Who may see and change what: each [`Role`]'s [`Scope`] in the administrative tree, the
//! layers it reads and writes, and how personal fields are masked on output.
//!
//! The rules are data here, in one place, so that every output path of the server (items,
//! lookups, OGC API, tiles, exports, statistics, events) and the database's row-level
//! security apply the same ones.
//!
//! | role | scope | reads | writes |
//! |---|---|---|---|
//! | `county_admin` | a county | every layer | every layer |
//! | `township_officer` | a township | every layer but supervision | its township's layers below the township |
//! | `village_officer` | a village | every layer but supervision | its village's layers below the village |
//! | `grid_worker` | a grid | every layer but supervision | households, persons, rental houses, tenancies, disputes |
//! | `judicial_officer` | a county or township | non-personal layers, persons, supervision | supervised persons, position reports |
//! | `command_screen` | any division | non-personal layers | nothing |
//!
//! "Supervision" is `supervised_persons` and `position_reports`; "personal" layers are the
//! ones that hold a person or a home ([`Layer::is_personal`]). ID-card and phone numbers are
//! masked for every role; names for the command screen; an unmasked value only through an
//! explicit, audited reveal ([`Role::may_reveal`]).

use std::fmt;
use std::str::FromStr;

use crate::code::{CodeError, DivisionCode, DivisionLevel, GridCode};
use crate::feature::{Feature, Value};
use crate::layer::Layer;
pub use crate::vocab::Role;

/// Where a user's rights apply: a division (and everything under it) or one grid.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Scope {
    /// A county, township or village, with every division under it.
    Division(DivisionCode),
    /// One grid (网格) of a village.
    Grid(GridCode),
}

impl Scope {
    /// The smallest division that holds the whole scope: the division itself, or the grid's
    /// village. Row-level security and division filters work on this code's prefix; a grid
    /// scope is narrowed further by the grid's polygon.
    pub fn division(&self) -> DivisionCode {
        match self {
            Scope::Division(d) => *d,
            Scope::Grid(g) => g.village(),
        }
    }

    /// Whether a feature owned by `owner` may lie inside the scope: its owner is the scope's
    /// division or under it. For a grid scope this is the grid's village (the feature must also
    /// lie in the grid's polygon, which only an index can tell).
    pub fn admits_owner(&self, owner: &DivisionCode) -> bool {
        self.division().contains(owner)
    }

    /// The grid, for a grid scope.
    pub fn grid(&self) -> Option<&GridCode> {
        match self {
            Scope::Division(_) => None,
            Scope::Grid(g) => Some(g),
        }
    }
}

impl FromStr for Scope {
    type Err = CodeError;
    /// A 12-digit division code, or a grid code (`520526101201-G02`).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s.contains('-') {
            s.parse().map(Scope::Grid)
        } else {
            s.parse().map(Scope::Division)
        }
    }
}

impl fmt::Display for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Scope::Division(d) => d.fmt(f),
            Scope::Grid(g) => g.fmt(f),
        }
    }
}

/// A user's login name: 1 to 64 characters, letters (any script), digits, `.`, `_` and `-`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct UserName(String);

impl UserName {
    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A login name that breaks [`UserName`]'s rules.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("'{0}' is not a user name: use 1 to 64 letters, digits, '.', '_' or '-'")]
pub struct BadUserName(pub String);

impl FromStr for UserName {
    type Err = BadUserName;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let n = s.chars().count();
        if (1..=64).contains(&n)
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
        {
            Ok(Self(s.to_owned()))
        } else {
            Err(BadUserName(s.chars().take(80).collect()))
        }
    }
}

impl fmt::Display for UserName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A role given a scope it cannot have.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a {role} must be scoped to {expected}, not '{scope}'")]
pub struct ScopeMismatch {
    /// The role.
    pub role: Role,
    /// The scope given.
    pub scope: String,
    /// What the role takes.
    pub expected: &'static str,
}

impl Layer {
    /// Whether the layer holds people or their homes: persons, households, rental houses,
    /// tenancies, cleaners, supervised persons and their position reports.
    pub fn is_personal(self) -> bool {
        matches!(
            self,
            Layer::Persons
                | Layer::Households
                | Layer::RentalHouses
                | Layer::Tenancies
                | Layer::Cleaners
                | Layer::SupervisedPersons
                | Layer::PositionReports
        )
    }

    /// Whether the layer is supervision data (特殊人群 and their positions).
    pub fn is_supervision(self) -> bool {
        matches!(self, Layer::SupervisedPersons | Layer::PositionReports)
    }
}

/// The kind of personal value a field holds, which decides how it is masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sensitive {
    /// A resident ID-card number: `520526********1234`.
    IdCard,
    /// A private phone number: `138****5678`.
    Phone,
    /// A person's name: the family name kept, `张**`.
    Name,
    /// Free text that may name people (a dispute's description): withheld.
    FreeText,
}

/// The personal fields of a layer with how each is masked. Officials' names and phones (grid
/// workers, supervising officers) are public contacts and not listed.
pub fn sensitive_fields(layer: Layer) -> &'static [(&'static str, Sensitive)] {
    match layer {
        Layer::Persons => &[
            ("name", Sensitive::Name),
            ("id_card", Sensitive::IdCard),
            ("phone", Sensitive::Phone),
        ],
        Layer::Disputes => &[
            ("description", Sensitive::FreeText),
            ("parties", Sensitive::FreeText),
        ],
        Layer::DisputeSteps => &[("note", Sensitive::FreeText)],
        _ => &[],
    }
}

impl Role {
    /// Whether `scope` is a scope this role can have.
    ///
    /// # Errors
    /// [`ScopeMismatch`] naming what the role takes.
    pub fn check_scope(self, scope: &Scope) -> Result<(), ScopeMismatch> {
        let level = match scope {
            Scope::Division(d) => Some(d.level()),
            Scope::Grid(_) => None,
        };
        let (ok, expected) = match self {
            Role::CountyAdmin => (level == Some(DivisionLevel::County), "a county code"),
            Role::TownshipOfficer => (level == Some(DivisionLevel::Township), "a township code"),
            Role::VillageOfficer => (level == Some(DivisionLevel::Village), "a village code"),
            Role::GridWorker => (level.is_none(), "a grid code (like 520526101201-G02)"),
            Role::JudicialOfficer => (
                matches!(level, Some(DivisionLevel::County | DivisionLevel::Township)),
                "a county or township code",
            ),
            Role::CommandScreen => (level.is_some(), "a division code"),
        };
        if ok {
            Ok(())
        } else {
            Err(ScopeMismatch {
                role: self,
                scope: scope.to_string(),
                expected,
            })
        }
    }

    /// Whether the role may read a layer's features (inside its scope).
    pub fn reads(self, layer: Layer) -> bool {
        match self {
            Role::CountyAdmin => true,
            Role::TownshipOfficer | Role::VillageOfficer | Role::GridWorker => {
                !layer.is_supervision()
            }
            Role::JudicialOfficer => {
                !layer.is_personal() || matches!(layer, Layer::Persons) || layer.is_supervision()
            }
            Role::CommandScreen => !layer.is_personal(),
        }
    }

    /// Whether the role may create, change and delete a layer's features (inside its scope).
    pub fn writes(self, layer: Layer) -> bool {
        if layer == Layer::DisputeSteps {
            // A case history is appended by the dispute workflow only, never edited.
            return false;
        }
        match self {
            Role::CountyAdmin => true,
            Role::TownshipOfficer => {
                !layer.is_supervision() && !matches!(layer, Layer::Counties | Layer::Townships)
            }
            Role::VillageOfficer => {
                !layer.is_supervision()
                    && !matches!(layer, Layer::Counties | Layer::Townships | Layer::Villages)
            }
            Role::GridWorker => matches!(
                layer,
                Layer::Households
                    | Layer::Persons
                    | Layer::RentalHouses
                    | Layer::Tenancies
                    | Layer::Disputes
            ),
            Role::JudicialOfficer => layer.is_supervision(),
            Role::CommandScreen => false,
        }
    }

    /// Whether the role manages user accounts (within its scope).
    pub fn manages_users(self) -> bool {
        self == Role::CountyAdmin
    }

    /// Whether the role may ask for a masked value in clear (with a reason, audited).
    pub fn may_reveal(self, layer: Layer) -> bool {
        self.reads(layer) && self != Role::CommandScreen
    }

    /// Masks the personal fields of a feature of `layer` as this role sees them.
    pub fn mask(self, layer: Layer, feature: &mut Feature) {
        for (name, kind) in sensitive_fields(layer) {
            let Some(value) = feature.properties.get(*name) else {
                continue;
            };
            let masked = match (kind, value) {
                (Sensitive::Name | Sensitive::FreeText, _) if self != Role::CommandScreen => {
                    continue
                }
                (Sensitive::IdCard, Value::Text(t)) => Some(mask_id_card(t)),
                (Sensitive::Phone, Value::Text(t)) => Some(mask_phone(t)),
                (Sensitive::Name, Value::Text(t)) => Some(mask_name(t)),
                _ => None,
            };
            match masked {
                Some(m) => {
                    feature
                        .properties
                        .insert((*name).to_owned(), Value::Text(m));
                }
                None => {
                    feature.properties.remove(*name);
                }
            }
        }
    }
}

/// `520526********1234`: the first six and the last four characters of an ID-card number
/// (the birth date and sequence hidden); anything not 18 characters long is all stars.
pub fn mask_id_card(id: &str) -> String {
    let chars: Vec<char> = id.trim().chars().collect();
    if chars.len() == 18 {
        let head: String = chars[..6].iter().collect();
        let tail: String = chars[14..].iter().collect();
        format!("{head}********{tail}")
    } else {
        "*".repeat(18)
    }
}

/// `138****5678`: the first three and the last four digits of a phone number (the last two of
/// a number shorter than nine digits), every other digit a star; separators dropped.
pub fn mask_phone(phone: &str) -> String {
    let digits: Vec<char> = phone.chars().filter(char::is_ascii_digit).collect();
    let n = digits.len();
    let (head, tail) = if n >= 9 { (3, 4) } else { (0, 2.min(n)) };
    digits
        .iter()
        .enumerate()
        .map(|(i, d)| if i < head || i >= n - tail { *d } else { '*' })
        .collect()
}

/// `张**`: a name's first character (the family name) and a star for every other character.
pub fn mask_name(name: &str) -> String {
    let mut chars = name.trim().chars();
    match chars.next() {
        Some(first) => std::iter::once(first).chain(chars.map(|_| '*')).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(s: &str) -> Scope {
        s.parse().unwrap()
    }

    #[test]
    fn scopes_parse_and_nest() {
        let t = scope("520526101000");
        let g = scope("520526101201-G02");
        assert_eq!(g.to_string(), "520526101201-G02");
        assert_eq!(g.division().as_str(), "520526101201");
        assert!(t.admits_owner(&"520526101201".parse().unwrap()));
        assert!(!t.admits_owner(&"520526102201".parse().unwrap()));
        // A township officer's scope does not reach up to the county feature.
        assert!(!t.admits_owner(&"520526000000".parse().unwrap()));
        assert!(g.admits_owner(&"520526101201".parse().unwrap()));
        assert!(!g.admits_owner(&"520526101202".parse().unwrap()));
        assert!("52052610120".parse::<Scope>().is_err());
    }

    #[test]
    fn user_names() {
        assert!("wang.li_2".parse::<UserName>().is_ok());
        assert!("王丽".parse::<UserName>().is_ok());
        assert!("".parse::<UserName>().is_err());
        assert!("a b".parse::<UserName>().is_err());
        assert!("x'; drop table users --".parse::<UserName>().is_err());
        assert!("a".repeat(65).parse::<UserName>().is_err());
    }

    #[test]
    fn each_role_takes_its_level_of_scope() {
        assert!(Role::CountyAdmin
            .check_scope(&scope("520526000000"))
            .is_ok());
        let err = Role::CountyAdmin
            .check_scope(&scope("520526101000"))
            .unwrap_err();
        assert!(err.to_string().contains("county code"), "{err}");
        assert!(Role::GridWorker
            .check_scope(&scope("520526101201-G01"))
            .is_ok());
        assert!(Role::GridWorker
            .check_scope(&scope("520526101201"))
            .is_err());
        assert!(Role::JudicialOfficer
            .check_scope(&scope("520526101000"))
            .is_ok());
        assert!(Role::JudicialOfficer
            .check_scope(&scope("520526101201"))
            .is_err());
        assert!(Role::CommandScreen
            .check_scope(&scope("520526000000"))
            .is_ok());
        assert!(Role::CommandScreen
            .check_scope(&scope("520526101201-G01"))
            .is_err());
    }

    #[test]
    fn sensitive_layers_only_for_roles_that_need_them() {
        for layer in Layer::ALL {
            assert!(Role::CountyAdmin.reads(*layer));
            assert_eq!(
                Role::CommandScreen.reads(*layer),
                !layer.is_personal(),
                "{layer}"
            );
            assert!(!Role::CommandScreen.writes(*layer));
            assert!(Role::JudicialOfficer.reads(*layer) || layer.is_personal());
        }
        assert!(!Role::GridWorker.reads(Layer::SupervisedPersons));
        assert!(!Role::TownshipOfficer.reads(Layer::PositionReports));
        assert!(Role::JudicialOfficer.reads(Layer::PositionReports));
        assert!(!Role::JudicialOfficer.reads(Layer::Tenancies));
        assert!(Role::GridWorker.writes(Layer::Tenancies));
        assert!(!Role::GridWorker.writes(Layer::Grids));
        assert!(!Role::VillageOfficer.writes(Layer::Villages));
        assert!(Role::TownshipOfficer.writes(Layer::Villages));
        assert!(!Role::TownshipOfficer.writes(Layer::Townships));
    }

    #[test]
    fn masks_look_as_people_expect() {
        assert_eq!(mask_id_card("520526198001011234"), "520526********1234");
        assert_eq!(mask_id_card("12345"), "******************");
        assert_eq!(mask_phone("13812345678"), "138****5678");
        assert_eq!(mask_phone("138-1234-5678"), "138****5678");
        assert_eq!(mask_phone("8123456"), "*****56");
        assert_eq!(mask_phone(""), "");
        assert_eq!(mask_name("张三丰"), "张**");
        assert_eq!(mask_name("欧阳娜娜"), "欧***");
        assert_eq!(mask_name(""), "");
    }

    #[test]
    fn masking_depends_on_the_role() {
        let mut person = Feature::new("520526101201".parse().unwrap(), None);
        for (k, v) in [
            ("name", "张三"),
            ("id_card", "520526198001011234"),
            ("phone", "13812345678"),
        ] {
            person.properties.insert(k.into(), Value::Text(v.into()));
        }
        let mut officer = person.clone();
        Role::VillageOfficer.mask(Layer::Persons, &mut officer);
        assert_eq!(officer.properties["name"], Value::Text("张三".into()));
        assert_eq!(
            officer.properties["id_card"],
            Value::Text("520526********1234".into())
        );
        assert_eq!(
            officer.properties["phone"],
            Value::Text("138****5678".into())
        );
        let mut screen = person;
        Role::CommandScreen.mask(Layer::Persons, &mut screen);
        assert_eq!(screen.properties["name"], Value::Text("张*".into()));
    }
}
