//! A JSON tree that borrows from the text it was read from.
//!
//! Policies and cases are read once and compiled at once, so the tree only lives between the
//! two. [`serde_json::Value`] (with `preserve_order`, as keyward builds it) copies every key and
//! string and hashes every object's keys; [`Json`] keeps a string without escapes as a slice of
//! the text and an object as its members in document order, searched linearly (policy objects
//! have a handful of members).
//!
//! It reads and writes as `Value` does: a repeated key keeps its first position and takes its last
//! value, serde_json's recursion limit (128) still applies, and [`Json`]'s compact text
//! ([`fmt::Display`], [`Serialize`]) is byte for byte that of `Value::to_string`.
//!
//! ```
//! use keyward_iam::json::Json;
//!
//! let text = r#"{"Action": "s3:GetObject", "Sid": "A", "Action": ["a:b", 1.0]}"#;
//! let doc: Json<'_> = serde_json::from_str(text)?;
//! assert_eq!(doc.to_string(), r#"{"Action":["a:b",1.0],"Sid":"A"}"#);
//! assert_eq!(doc.get("Sid").and_then(Json::as_str), Some("A"));
//! # Ok::<(), serde_json::Error>(())
//! ```

use std::borrow::Cow;
use std::fmt;

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Number, Value};

/// A JSON value whose strings and keys borrow from the text they were read from when they hold
/// no escape.
#[derive(Debug, Clone, PartialEq, Default)]
pub enum Json<'a> {
    /// `null`.
    #[default]
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A number, as serde_json reads it (an integer when it is one, else a float).
    Number(Number),
    /// A string: borrowed from the text unless it held an escape.
    Str(Cow<'a, str>),
    /// An array.
    Array(Vec<Json<'a>>),
    /// An object.
    Object(JsonObject<'a>),
}

/// An object's members in document order, each key once.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct JsonObject<'a> {
    members: Vec<(Cow<'a, str>, Json<'a>)>,
}

impl<'a> JsonObject<'a> {
    /// Members in document order; a key written twice is kept once, at its first position, with
    /// its last value (what serde_json's ordered map does).
    pub fn from_members(members: Vec<(Cow<'a, str>, Json<'a>)>) -> JsonObject<'a> {
        JsonObject {
            members: dedup(members),
        }
    }

    /// The value of a key.
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        self.members.iter().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Whether the object has the key.
    pub fn contains_key(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// The members in document order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &Json<'a>)> {
        self.members.iter().map(|(k, v)| (k.as_ref(), v))
    }

    /// The keys in document order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> {
        self.members.iter().map(|(k, _)| k.as_ref())
    }

    /// The number of members.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Whether the object has no member.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }
}

/// Small objects are checked pairwise without allocating; beyond this size, by sorting.
const PAIRWISE_MAX: usize = 16;

/// Keeps the first position and the last value of each key. Nearly every object has no repeated
/// key, which is found without moving anything.
fn dedup<'a>(members: Vec<(Cow<'a, str>, Json<'a>)>) -> Vec<(Cow<'a, str>, Json<'a>)> {
    let n = members.len();
    // first[i]: the index of the first member with member i's key.
    let first: Vec<usize> = if n <= PAIRWISE_MAX {
        let repeated = (1..n).any(|i| members[..i].iter().any(|(k, _)| *k == members[i].0));
        if !repeated {
            return members;
        }
        (0..n)
            .map(|i| (0..i).find(|&j| members[j].0 == members[i].0).unwrap_or(i))
            .collect()
    } else {
        let mut order: Vec<usize> = (0..n).collect();
        // Stable: among equal keys, document order.
        order.sort_by(|&a, &b| members[a].0.cmp(&members[b].0));
        let mut first: Vec<usize> = (0..n).collect();
        let mut repeated = false;
        for w in order.windows(2) {
            if members[w[0]].0 == members[w[1]].0 {
                first[w[1]] = first[w[0]];
                repeated = true;
            }
        }
        if !repeated {
            return members;
        }
        first
    };
    let mut slot = vec![0; n];
    let mut out: Vec<(Cow<'a, str>, Json<'a>)> = Vec::with_capacity(n);
    for (i, (k, v)) in members.into_iter().enumerate() {
        if first[i] == i {
            slot[i] = out.len();
            out.push((k, v));
        } else {
            // first[i] < i, so its slot is set.
            out[slot[first[i]]].1 = v;
        }
    }
    out
}

impl<'a> Json<'a> {
    /// A tree over a `Value`, borrowing its strings.
    pub fn from_value(v: &'a Value) -> Json<'a> {
        match v {
            Value::Null => Json::Null,
            Value::Bool(b) => Json::Bool(*b),
            Value::Number(n) => Json::Number(n.clone()),
            Value::String(s) => Json::Str(Cow::Borrowed(s)),
            Value::Array(a) => Json::Array(a.iter().map(Json::from_value).collect()),
            // A Map's keys are already unique.
            Value::Object(m) => Json::Object(JsonObject {
                members: m
                    .iter()
                    .map(|(k, x)| (Cow::Borrowed(k.as_str()), Json::from_value(x)))
                    .collect(),
            }),
        }
    }

    /// The same tree as a `Value` (everything copied).
    pub fn to_value(&self) -> Value {
        match self {
            Json::Null => Value::Null,
            Json::Bool(b) => Value::Bool(*b),
            Json::Number(n) => Value::Number(n.clone()),
            Json::Str(s) => Value::String(s.to_string()),
            Json::Array(a) => Value::Array(a.iter().map(Json::to_value).collect()),
            Json::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, x)| (k.to_string(), x.to_value()))
                    .collect(),
            ),
        }
    }

    /// The JSON type, as error messages name it: `null`, `a boolean`, `a number`, `a string`,
    /// `an array` or `an object`.
    pub fn kind(&self) -> &'static str {
        match self {
            Json::Null => "null",
            Json::Bool(_) => "a boolean",
            Json::Number(_) => "a number",
            Json::Str(_) => "a string",
            Json::Array(_) => "an array",
            Json::Object(_) => "an object",
        }
    }

    /// A member of an object; `None` for a missing key or a value that is not an object.
    pub fn get(&self, key: &str) -> Option<&Json<'a>> {
        self.as_object().and_then(|o| o.get(key))
    }

    /// The string, if this is one.
    pub fn as_str(&self) -> Option<&str> {
        match self {
            Json::Str(s) => Some(s),
            _ => None,
        }
    }

    /// The object, if this is one.
    pub fn as_object(&self) -> Option<&JsonObject<'a>> {
        match self {
            Json::Object(o) => Some(o),
            _ => None,
        }
    }

    /// The array, if this is one.
    pub fn as_array(&self) -> Option<&[Json<'a>]> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }

    /// Whether this is `null`.
    pub fn is_null(&self) -> bool {
        matches!(self, Json::Null)
    }
}

impl fmt::Display for Json<'_> {
    /// The compact text, as `Value`'s `Display` writes it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let text = serde_json::to_string(self).map_err(|_| fmt::Error)?;
        f.write_str(&text)
    }
}

impl Serialize for Json<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Json::Null => s.serialize_unit(),
            Json::Bool(b) => s.serialize_bool(*b),
            Json::Number(n) => n.serialize(s),
            Json::Str(x) => s.serialize_str(x),
            Json::Array(a) => {
                let mut seq = s.serialize_seq(Some(a.len()))?;
                for x in a {
                    seq.serialize_element(x)?;
                }
                seq.end()
            }
            Json::Object(o) => {
                let mut map = s.serialize_map(Some(o.len()))?;
                for (k, x) in o.iter() {
                    map.serialize_entry(k, x)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Json<'de> {
    /// Borrows every string and key the deserializer lends (serde_json lends those without an
    /// escape when reading from a `&str`).
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Json<'de>, D::Error> {
        d.deserialize_any(JsonVisitor)
    }
}

struct JsonVisitor;

impl<'de> Visitor<'de> for JsonVisitor {
    type Value = Json<'de>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("any valid JSON value")
    }

    fn visit_bool<E>(self, b: bool) -> Result<Json<'de>, E> {
        Ok(Json::Bool(b))
    }

    fn visit_i64<E>(self, n: i64) -> Result<Json<'de>, E> {
        Ok(Json::Number(n.into()))
    }

    fn visit_u64<E>(self, n: u64) -> Result<Json<'de>, E> {
        Ok(Json::Number(n.into()))
    }

    fn visit_f64<E>(self, n: f64) -> Result<Json<'de>, E> {
        // As `Value` reads it: a float JSON cannot write is null.
        Ok(Number::from_f64(n).map_or(Json::Null, Json::Number))
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Borrowed(s)))
    }

    fn visit_str<E>(self, s: &str) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(s.to_string())))
    }

    fn visit_string<E>(self, s: String) -> Result<Json<'de>, E> {
        Ok(Json::Str(Cow::Owned(s)))
    }

    fn visit_unit<E>(self) -> Result<Json<'de>, E> {
        Ok(Json::Null)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Json<'de>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(64));
        while let Some(x) = seq.next_element()? {
            out.push(x);
        }
        Ok(Json::Array(out))
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Json<'de>, A::Error> {
        let mut members = Vec::with_capacity(map.size_hint().unwrap_or(0).min(64));
        while let Some(k) = map.next_key_seed(KeySeed)? {
            members.push((k, map.next_value()?));
        }
        Ok(Json::Object(JsonObject::from_members(members)))
    }
}

/// Reads an object key, borrowed when the deserializer lends it.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = Cow<'de, str>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Cow<'de, str>, D::Error> {
        d.deserialize_str(KeyVisitor)
    }
}

struct KeyVisitor;

impl<'de> Visitor<'de> for KeyVisitor {
    type Value = Cow<'de, str>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string key")
    }

    fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Borrowed(s))
    }

    fn visit_str<E>(self, s: &str) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(s.to_string()))
    }

    fn visit_string<E: de::Error>(self, s: String) -> Result<Cow<'de, str>, E> {
        Ok(Cow::Owned(s))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn both(text: &str) -> (Result<Value, String>, Result<Json<'_>, String>) {
        (
            serde_json::from_str::<Value>(text).map_err(|e| e.to_string()),
            serde_json::from_str::<Json>(text).map_err(|e| e.to_string()),
        )
    }

    /// Reads `text` both ways and checks the trees and their compact texts agree.
    fn same(text: &str) {
        let (v, j) = both(text);
        let (v, j) = (v.unwrap(), j.unwrap());
        assert_eq!(j.to_string(), v.to_string(), "{text}");
        assert_eq!(j.to_value(), v, "{text}");
        assert_eq!(Json::from_value(&v), j, "{text}");
    }

    #[test]
    fn a_repeated_key_keeps_its_first_place_and_last_value() {
        same(r#"{"a": 1, "b": 2, "a": 3}"#);
        let j: Json = serde_json::from_str(r#"{"a": 1, "b": 2, "a": 3, "b": {"c": 4}}"#).unwrap();
        assert_eq!(j.to_string(), r#"{"a":3,"b":{"c":4}}"#);
        assert_eq!(j.as_object().unwrap().len(), 2);
        // Past the pairwise size, the sorting path.
        let many: Vec<String> = (0..40).map(|i| format!("\"k{}\": {i}", i % 25)).collect();
        same(&format!("{{{}}}", many.join(",")));
        let distinct: Vec<String> = (0..40).map(|i| format!("\"k{i}\": {i}")).collect();
        same(&format!("{{{}}}", distinct.join(",")));
    }

    #[test]
    fn dedup_keeps_document_order_of_first_occurrences() {
        let m = |k: &'static str, n: u64| (Cow::Borrowed(k), Json::Number(n.into()));
        let o = JsonObject::from_members(vec![m("z", 1), m("a", 2), m("z", 3), m("m", 4)]);
        assert_eq!(o.keys().collect::<Vec<_>>(), ["z", "a", "m"]);
        assert_eq!(o.get("z"), Some(&Json::Number(3.into())));
    }

    #[test]
    fn strings_without_escapes_are_borrowed_and_escapes_decoded() {
        let text = r#"{"plain": "abc", "esc\"aped": "a\nb\u00e9\ud83d\ude00"}"#;
        let j: Json = serde_json::from_str(text).unwrap();
        let o = j.as_object().unwrap();
        let (k0, v0) = (&o.members[0].0, &o.members[0].1);
        assert!(matches!(k0, Cow::Borrowed("plain")));
        assert!(matches!(v0, Json::Str(Cow::Borrowed("abc"))));
        assert!(matches!(&o.members[1].0, Cow::Owned(k) if k == "esc\"aped"));
        assert_eq!(o.get("esc\"aped").and_then(Json::as_str), Some("a\nbé😀"));
        same(text);
        same(r#"["\u0000\u001f\t\\\/", "é", "\u2028"]"#);
    }

    #[test]
    fn numbers_print_as_value_prints_them() {
        for t in [
            "0",
            "-0",
            "1.0",
            "-0.0",
            "1e3",
            "1E-7",
            "1.5e300",
            "0.1",
            "123456789012345678901234567890",
            "-9223372036854775808",
            "18446744073709551615",
            "18446744073709551616",
            "[1, -1, 2.50, 3e0]",
        ] {
            same(t);
        }
        assert_eq!(
            serde_json::from_str::<Json>(&u64::MAX.to_string())
                .unwrap()
                .to_string(),
            "18446744073709551615"
        );
        assert_eq!(
            serde_json::from_str::<Json>("1e3").unwrap().to_string(),
            "1000.0"
        );
    }

    #[test]
    fn scalars_and_nesting_agree_with_value() {
        same(r#"{"a": [true, false, null, {}, [], {"b": [{"c": ""}]}]}"#);
        same("  null ");
        same(r#""""#);
    }

    #[test]
    fn parse_errors_are_serde_jsons() {
        for t in [
            "",
            "{",
            "[1,]",
            r#"{"a" 1}"#,
            r#"{"a": 1} x"#,
            "{1: 2}",
            "1e400",
            r#""\ud800""#,
            "tru",
            "\"a\nb\"",
        ] {
            let (v, j) = both(t);
            assert_eq!(j.map(|j| j.to_value()), v, "{t:?}");
            assert!(serde_json::from_str::<Json>(t).is_err(), "{t:?}");
        }
    }

    #[test]
    fn the_recursion_limit_still_holds() {
        let nest = |n: usize, open: &str, close: &str, inner: &str| {
            format!("{}{inner}{}", open.repeat(n), close.repeat(n))
        };
        for n in [1, 127, 128, 129, 1000] {
            for (open, close, inner) in [("[", "]", "1"), ("{\"a\":", "}", "1")] {
                let t = nest(n, open, close, inner);
                let (v, j) = both(&t);
                assert_eq!(v.is_ok(), j.is_ok(), "depth {n}");
                if let (Err(v), Err(j)) = (&v, &j) {
                    assert_eq!(v, j);
                    assert!(j.contains("recursion limit exceeded"), "{j}");
                }
            }
        }
        assert!(serde_json::from_str::<Json>(&nest(1000, "[", "]", "")).is_err());
        assert!(serde_json::from_str::<Json>(&nest(100, "[", "]", "")).is_ok());
    }

    #[test]
    fn accessors() {
        let j: Json = serde_json::from_str(r#"{"a": [1, "x"], "n": null}"#).unwrap();
        assert_eq!(j.kind(), "an object");
        assert!(j.get("n").is_some_and(Json::is_null));
        assert!(j.get("missing").is_none());
        let a = j.get("a").and_then(Json::as_array).unwrap();
        assert_eq!(a[0].kind(), "a number");
        assert_eq!(a[1].as_str(), Some("x"));
        assert!(a[0].get("a").is_none());
        assert!(j.as_object().unwrap().contains_key("n"));
        assert!(!j.as_object().unwrap().contains_key("N"));
        assert!(!j.as_object().unwrap().is_empty());
        assert!(JsonObject::default().is_empty());
        assert!(!j.is_null() && !a[1].is_null());
        for (t, kind) in [
            ("null", "null"),
            ("true", "a boolean"),
            ("1", "a number"),
            ("\"s\"", "a string"),
            ("[]", "an array"),
        ] {
            assert_eq!(serde_json::from_str::<Json>(t).unwrap().kind(), kind);
        }
    }

    /// Read from an owned tree (a `Value`), every string and key arrives owned.
    #[test]
    fn an_owned_tree_reads_as_its_text_does() {
        let v = serde_json::json!({"a": ["x", null, true, 1.5], "b\"": {"c": "d"}});
        let j = Json::deserialize(v.clone()).unwrap();
        assert_eq!(j.to_value(), v);
        assert!(matches!(
            j.get("a").and_then(Json::as_array).unwrap()[0],
            Json::Str(Cow::Owned(_))
        ));
    }

    /// What is not JSON is refused with what was expected.
    #[test]
    fn other_shapes_are_refused_naming_what_was_expected() {
        use serde::de::value::{BytesDeserializer, Error, MapDeserializer};
        let e = Json::deserialize(BytesDeserializer::<Error>::new(b"x")).unwrap_err();
        assert!(
            e.to_string().contains("expected any valid JSON value"),
            "{e}"
        );
        let numbered = MapDeserializer::<_, Error>::new(vec![(1u8, 2u8)].into_iter());
        let e = Json::deserialize(numbered).unwrap_err();
        assert!(e.to_string().contains("expected a string key"), "{e}");
    }
}
