//! Keys given twice in a script line's JSON: `serde_json::Value` keeps the last one, so
//! `{"ev":"tick","ev":"seal"}` would read as a seal. A line is walked once for them
//! before it is read, and the first is refused with its path like any malformed field.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};

/// The path (`ev`, `inputs[0].direct.block`, as serde_path_to_error writes it) of the
/// first key given twice in one object of the JSON text, if any. Text that is not JSON
/// has none here: the parser reports it.
pub(super) fn first_duplicate(text: &str) -> Option<String> {
    let found = RefCell::new(None);
    let mut deserializer = serde_json::Deserializer::from_str(text);
    // An error is either the duplicate (recorded in `found`) or not JSON (reported by the parser).
    let _ = Walk { path: String::new(), found: &found }.deserialize(&mut deserializer);
    found.into_inner()
}

/// Walks one JSON value at `path`, recording the first duplicate key in `found`.
struct Walk<'f> {
    path: String,
    found: &'f RefCell<Option<String>>,
}

impl Walk<'_> {
    fn child(&self, step: &str) -> Walk<'_> {
        let path = if self.path.is_empty() || step.starts_with('[') {
            format!("{}{step}", self.path)
        } else {
            format!("{}.{step}", self.path)
        };
        Walk { path, found: self.found }
    }
}

impl<'de> DeserializeSeed<'de> for Walk<'_> {
    type Value = ();

    fn deserialize<D: de::Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Walk<'_> {
    type Value = ();

    fn expecting(&self, formatter: &mut fmt::Formatter) -> fmt::Result {
        formatter.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_i128<E>(self, _: i128) -> Result<(), E> {
        Ok(())
    }

    fn visit_u128<E>(self, _: u128) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0_usize;
        while seq.next_element_seed(self.child(&format!("[{index}]")))?.is_some() {
            index += 1;
        }
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let mut seen = BTreeSet::new();
        while let Some(key) = map.next_key::<String>()? {
            let child = self.child(&key);
            if !seen.insert(key) {
                *self.found.borrow_mut() = Some(child.path);
                return Err(de::Error::custom("duplicate key"));
            }
            map.next_value_seed(child)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::first_duplicate;

    #[test]
    fn the_first_key_given_twice_is_named_with_its_path() {
        let cases = [
            (r#"{"ev":"tick","ev":"seal","now_ms":1}"#, Some("ev")),
            (r#"{"ev":"tick","now_ms":1,"now_ms":2}"#, Some("now_ms")),
            (
                r#"{"ev":"l1","inputs":[{"direct":{"block":1,"data":"0x"}},{"direct":{"block":2,"block":3}}]}"#,
                Some("inputs[1].direct.block"),
            ),
            (r#"{"a":{"b":1},"c":{"b":2}}"#, None),
            (r#"{"ev":"tick","now_ms":1}"#, None),
            (r#"[{"x":1},{"x":1,"x":2}]"#, Some("[1].x")),
            ("{\"ev\":", None),
        ];
        for (text, expected) in cases {
            assert_eq!(first_duplicate(text).as_deref(), expected, "{text}");
        }
    }
}
