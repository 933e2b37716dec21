//! Test identities: synthetic cédula numbers that select an outcome, and a generator of
//! synthetic Colombian test people carrying them.
//!
//! Why numbers select outcomes: a front-end tester types a document number in the journey and
//! has no other way to choose what happens, as in the sandboxes of other identity vendors.
//!
//! Why these numbers cannot be a person's cédula: every number here has 10 digits and starts
//! with `99`. Cédulas issued before the NUIP had at most 8 digits (up to 99.999.999), and the
//! 10-digit NUIPs given since then start with `1` (1.000.000.000 upwards, about 1.1 billion
//! by now). A 10-digit number starting with `9` is far outside both series. The Registraduría
//! publishes no reserved test range, so this rests on the public numbering pattern, not on a
//! guarantee (the README says so too).
//!
//! Layout of a number: `99` `OO` `NNNNNN`: `OO` picks the outcome ([`TABLE`]), the six digits
//! are free, so a tester may use any of a million numbers per outcome.

use crate::rng;

/// The digits every test identity starts with.
pub const PREFIX: &str = "99";
/// How many digits a test identity has.
pub const DIGITS: usize = 10;
/// Most people `generate` makes in one call: each outcome has a million numbers.
pub const MAX_COUNT: u64 = 1_000_000;

/// One row of the table: the code in the number, the scenario it selects, and what that ends in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Row {
    /// The two digits after [`PREFIX`].
    pub code: &'static str,
    /// The built-in scenario selected (a scenario file may replace it under the same name).
    pub scenario: &'static str,
    /// The outcome in words, as `status` or `status: reason`.
    pub outcome: &'static str,
}

impl Row {
    /// The number the README shows for this row: the code followed by `000001`.
    pub fn example(&self) -> String {
        format!("{PREFIX}{}000001", self.code)
    }
}

/// Every outcome a document number can select.
pub const TABLE: &[Row] = &[
    Row {
        code: "00",
        scenario: "success",
        outcome: "success",
    },
    Row {
        code: "01",
        scenario: "slow-success",
        outcome: "success after 60 s",
    },
    Row {
        code: "10",
        scenario: "declined-face-mismatch",
        outcome: "declined: similarity_threshold_not_passed",
    },
    Row {
        code: "11",
        scenario: "declined-registry-mismatch",
        outcome: "declined: data_not_match_with_government_database",
    },
    Row {
        code: "12",
        scenario: "declined-deceased",
        outcome: "declined: identity_belongs_to_dead_person",
    },
    Row {
        code: "13",
        scenario: "declined-unregistered-document",
        outcome: "declined: document_unregistered",
    },
    Row {
        code: "14",
        scenario: "declined-registrar-inconsistency",
        outcome: "declined: national_registrar_inconsistency",
    },
    Row {
        code: "15",
        scenario: "declined-liveness",
        outcome: "declined: passive_liveness_verification_not_passed",
    },
    Row {
        code: "16",
        scenario: "declined-geolocation-denied",
        outcome: "declined: geolocation_denied",
    },
    Row {
        code: "17",
        scenario: "declined-data-authorization",
        outcome: "declined: data_authorization_not_provided",
    },
    Row {
        code: "20",
        scenario: "expired-not-finished",
        outcome: "expired: input_file_not_uploaded",
    },
    Row {
        code: "30",
        scenario: "system-error",
        outcome: "failure: system_error",
    },
];

/// The row a document number selects, if it is a test identity. `digits` is the number as
/// the document rule leaves it (digits only; dots and spaces already removed).
pub fn lookup(digits: &str) -> Option<&'static Row> {
    if digits.len() != DIGITS || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let code = digits.strip_prefix(PREFIX)?.get(..2)?;
    TABLE.iter().find(|r| r.code == code)
}

/// A synthetic Colombian test person.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Person {
    /// One or two given names, space separated.
    pub given_names: String,
    /// Colombians carry two surnames: the father's, then the mother's.
    pub first_surname: String,
    pub second_surname: String,
    /// A test identity ([`lookup`] finds its row).
    pub document_number: String,
    /// The scenario the number selects.
    pub scenario: String,
    /// The outcome it ends in, in words.
    pub outcome: String,
}

/// Common Colombian given names (women's, then men's). Written with their accents.
const GIVEN_WOMEN: &[&str] = &[
    "María",
    "Ana",
    "Laura",
    "Valentina",
    "Daniela",
    "Camila",
    "Paula",
    "Sofía",
    "Natalia",
    "Carolina",
    "Andrea",
    "Diana",
    "Juliana",
    "Catalina",
    "Marcela",
    "Sandra",
    "Luisa",
    "Gloria",
    "Isabella",
    "Mariana",
];
const GIVEN_MEN: &[&str] = &[
    "Juan",
    "Carlos",
    "Andrés",
    "Luis",
    "Jorge",
    "José",
    "Santiago",
    "Sebastián",
    "Alejandro",
    "Diego",
    "Camilo",
    "Felipe",
    "Daniel",
    "David",
    "Miguel",
    "Julián",
    "Óscar",
    "Fernando",
    "Samuel",
    "Nicolás",
];
/// Among the most frequent surnames in Colombia.
const SURNAMES: &[&str] = &[
    "Rodríguez",
    "Gómez",
    "González",
    "Martínez",
    "García",
    "López",
    "Hernández",
    "Sánchez",
    "Ramírez",
    "Pérez",
    "Díaz",
    "Muñoz",
    "Rojas",
    "Moreno",
    "Jiménez",
    "Vargas",
    "Castro",
    "Gutiérrez",
    "Álvarez",
    "Torres",
    "Ruiz",
    "Suárez",
    "Romero",
    "Ortiz",
    "Herrera",
    "Valencia",
    "Quintero",
    "Restrepo",
    "Cardona",
    "Ospina",
    "Giraldo",
    "Mejía",
    "Zapata",
    "Osorio",
    "Londoño",
    "Castaño",
    "Arias",
    "Guerrero",
    "Salazar",
    "Correa",
];

/// A multiplier prime to 10^6, so `i * MULT mod 10^6` visits every six-digit suffix once for
/// `i` below [`MAX_COUNT`]: numbers never repeat and do not look sequential.
const MULT: u64 = 741_457;

/// `count` people, the same for the same `seed`. Person `i` gets outcome `TABLE[i % 12]`, so
/// any 12 consecutive people cover every outcome. `count` is capped at [`MAX_COUNT`].
pub fn generate(count: u64, seed: u64) -> Vec<Person> {
    let offset = rng::derive(seed, &[0x4944]) % 1_000_000;
    (0..count.min(MAX_COUNT))
        .map(|i| {
            let row = &TABLE[(i % TABLE.len() as u64) as usize];
            let suffix = (i * MULT + offset) % 1_000_000;
            let r = |n: u64| rng::derive(seed, &[i, n]);
            let given = if r(0) % 2 == 0 {
                GIVEN_WOMEN
            } else {
                GIVEN_MEN
            };
            let pick = |list: &[&'static str], n| list[(r(n) % list.len() as u64) as usize];
            let mut given_names = pick(given, 1).to_string();
            let second = pick(given, 2);
            if r(3) % 3 == 0 && second != given_names {
                given_names = format!("{given_names} {second}");
            }
            Person {
                given_names,
                first_surname: pick(SURNAMES, 4).to_string(),
                second_surname: pick(SURNAMES, 5).to_string(),
                document_number: format!("{PREFIX}{}{suffix:06}", row.code),
                scenario: row.scenario.to_string(),
                outcome: row.outcome.to_string(),
            }
        })
        .collect()
}

/// The columns [`to_csv`] writes, in order.
pub const CSV_HEADER: &str =
    "given_names,first_surname,second_surname,document_number,scenario,outcome";

/// People as CSV with [`CSV_HEADER`]. No field needs quoting: names come from the lists above
/// and the outcomes from [`TABLE`] (a test holds them free of commas and quotes).
pub fn to_csv(people: &[Person]) -> String {
    let mut out = format!("{CSV_HEADER}\n");
    for p in people {
        out.push_str(&format!(
            "{},{},{},{},{},{}\n",
            p.given_names,
            p.first_surname,
            p.second_surname,
            p.document_number,
            p.scenario,
            p.outcome
        ));
    }
    out
}

/// People as a pretty-printed JSON array of objects with the [`CSV_HEADER`] fields.
pub fn to_json(people: &[Person]) -> String {
    // Serialising plain strings cannot fail.
    let mut out = serde_json::to_string_pretty(people).unwrap_or_default();
    out.push('\n');
    out
}

/// Why a file of test people could not be read; the message starts with `file:line:column`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct PeopleFileError {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

/// Reads what [`to_json`] or [`to_csv`] wrote (a JSON array, or CSV with [`CSV_HEADER`]),
/// telling them apart by the first non-blank character. `file` names the file in errors.
/// Every `document_number` must be a test identity: a load run or a test that sent an
/// ordinary number would silently get the default scenario.
pub fn parse_people(file: &str, text: &str) -> Result<Vec<Person>, PeopleFileError> {
    let err = |line: usize, column: usize, message: String| PeopleFileError {
        file: file.to_string(),
        line,
        column,
        message,
    };
    let people: Vec<(usize, Person)> = if text.trim_start().starts_with('[') {
        let people: Vec<Person> = serde_json::from_str(text).map_err(|e| {
            err(
                e.line(),
                e.column(),
                format!("not a JSON array of people: {e}"),
            )
        })?;
        people.into_iter().map(|p| (0, p)).collect()
    } else {
        parse_csv(text).map_err(|(line, column, message)| err(line, column, message))?
    };
    if people.is_empty() {
        return Err(err(1, 1, "no people in the file".into()));
    }
    for (line, p) in &people {
        if lookup(&p.document_number).is_none() {
            return Err(err(
                (*line).max(1),
                1,
                format!(
                    "document_number `{}` is not a test identity (99, a code from the README's table, six digits)",
                    p.document_number
                ),
            ));
        }
    }
    Ok(people.into_iter().map(|(_, p)| p).collect())
}

/// CSV as [`to_csv`] writes it: the header, then six plain fields a line.
fn parse_csv(text: &str) -> Result<Vec<(usize, Person)>, (usize, usize, String)> {
    let mut lines = text.lines().enumerate().map(|(i, l)| (i + 1, l));
    match lines.next() {
        Some((_, h)) if h.trim_end() == CSV_HEADER => {}
        _ => {
            return Err((
                1,
                1,
                format!("expected a JSON array or CSV starting with the header `{CSV_HEADER}`"),
            ));
        }
    }
    let mut out = Vec::new();
    for (n, line) in lines {
        if line.trim().is_empty() {
            continue;
        }
        let f: Vec<&str> = line.trim_end().split(',').collect();
        if f.len() != 6 {
            return Err((
                n,
                1,
                format!("expected 6 comma-separated fields, found {}", f.len()),
            ));
        }
        if let Some(i) = line.find('"') {
            return Err((n, i + 1, "quoted fields are not supported".into()));
        }
        out.push((
            n,
            Person {
                given_names: f[0].into(),
                first_surname: f[1].into(),
                second_surname: f[2].into(),
                document_number: f[3].into(),
                scenario: f[4].into(),
                outcome: f[5].into(),
            },
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn every_row_names_a_builtin_scenario_that_ends_as_it_says() {
        let catalogue = crate::Catalogue::builtin();
        for row in TABLE {
            let id = catalogue
                .id_of(row.scenario)
                .unwrap_or_else(|| panic!("{} is not built in", row.scenario));
            let s = catalogue.get(id);
            let words = match s.outcome {
                Some(crate::Outcome::Declined { reason }) => format!("declined: {reason}"),
                Some(crate::Outcome::SystemError) => "failure: system_error".into(),
                Some(crate::Outcome::Success) => "success".into(),
                Some(crate::Outcome::Expired { reason }) => format!("expired: {reason}"),
                None => format!("expired: {}", s.expired_reason),
            };
            assert!(row.outcome.starts_with(&words), "{row:?} vs {words}");
            assert_eq!(lookup(&row.example()), Some(row));
        }
    }

    #[test]
    fn codes_are_unique_and_other_numbers_select_nothing() {
        for (i, a) in TABLE.iter().enumerate() {
            assert!(TABLE[i + 1..].iter().all(|b| b.code != a.code));
        }
        for n in [
            "1020304050",
            "9999000001",
            "990000000",
            "99000000011",
            "8800000001",
            "99a0000001",
        ] {
            assert_eq!(lookup(n), None, "{n}");
        }
    }

    #[test]
    fn bad_files_are_reported_with_their_position() {
        let csv = format!(
            "{CSV_HEADER}\nAna,Gómez,Díaz,9900000001,success,success\nLuis,Ruiz,Rojas,1020304050,success,success\n"
        );
        insta::assert_snapshot!(parse_people("people.csv", &csv).unwrap_err().to_string(), @"people.csv:3:1: document_number `1020304050` is not a test identity (99, a code from the README's table, six digits)");
        insta::assert_snapshot!(parse_people("people.csv", "name\n").unwrap_err().to_string(), @"people.csv:1:1: expected a JSON array or CSV starting with the header `given_names,first_surname,second_surname,document_number,scenario,outcome`");
        insta::assert_snapshot!(parse_people("people.csv", &format!("{CSV_HEADER}\na,b\n")).unwrap_err().to_string(), @"people.csv:2:1: expected 6 comma-separated fields, found 2");
        insta::assert_snapshot!(parse_people("people.json", "[{\"given_names\": 1}]").unwrap_err().to_string(), @"people.json:1:18: not a JSON array of people: invalid type: integer `1`, expected a string at line 1 column 18");
        insta::assert_snapshot!(parse_people("people.json", "[]").unwrap_err().to_string(), @"people.json:1:1: no people in the file");
    }

    #[test]
    fn names_and_outcomes_need_no_csv_quoting() {
        let all = GIVEN_WOMEN
            .iter()
            .chain(GIVEN_MEN)
            .chain(SURNAMES)
            .chain(TABLE.iter().map(|r| &r.outcome));
        for s in all {
            assert!(!s.contains([',', '"', '\n']), "{s}");
        }
    }

    proptest! {
        /// Every person's number is a test identity for their outcome, obeys the document
        /// rule's bounds, and is unique; the same seed gives the same people.
        #[test]
        fn people_carry_their_outcome(seed: u64, count in 0u64..300) {
            let people = generate(count, seed);
            prop_assert_eq!(people.len() as u64, count);
            let mut seen = std::collections::HashSet::new();
            for p in &people {
                let row = lookup(&p.document_number);
                prop_assert!(row.is_some(), "{}", p.document_number);
                prop_assert_eq!(row.map(|r| r.scenario), Some(p.scenario.as_str()));
                prop_assert!(seen.insert(p.document_number.clone()));
            }
            prop_assert_eq!(generate(count, seed), people.clone());
            if count > 0 {
                prop_assert_eq!(parse_people("f", &to_csv(&people)), Ok(people.clone()));
                prop_assert_eq!(parse_people("f", &to_json(&people)), Ok(people));
            }
        }
    }
}
