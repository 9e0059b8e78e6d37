//! The YAML shapes promptfoo allows: a value written as a string or a mapping, one or a list,
//! and variable values (text, numbers, booleans). Errors raised here carry the YAML line.

use std::marker::PhantomData;

use serde::de::{self, DeserializeOwned, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;

/// Values written either as a string or as a mapping.
pub(super) trait StrOrMap: Sized {
    type Map: DeserializeOwned;
    fn from_str(s: &str) -> std::result::Result<Self, String>;
    fn from_map(m: Self::Map) -> std::result::Result<Self, String>;
}

/// One value or a list of them (`prompts: "x"` or `prompts: [x, y]`).
pub(super) struct Many<T>(pub Vec<T>);

impl<'de, T: StrOrMap> Deserialize<'de> for Many<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        d.deserialize_any(ManyVisitor(PhantomData))
    }
}

struct ManyVisitor<T>(PhantomData<T>);

impl<'de, T: StrOrMap> Visitor<'de> for ManyVisitor<T> {
    type Value = Many<T>;
    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a string, a mapping, or a list of them")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<Many<T>, E> {
        T::from_str(v).map(|t| Many(vec![t])).map_err(E::custom)
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<Many<T>, A::Error> {
        let m = T::Map::deserialize(de::value::MapAccessDeserializer::new(map))?;
        T::from_map(m)
            .map(|t| Many(vec![t]))
            .map_err(de::Error::custom)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<Many<T>, A::Error> {
        let mut out = Vec::new();
        while let Some(One(t)) = seq.next_element::<One<T>>()? {
            out.push(t);
        }
        Ok(Many(out))
    }
}

/// Exactly one string-or-mapping value.
struct One<T>(T);

impl<'de, T: StrOrMap> Deserialize<'de> for One<T> {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: StrOrMap> Visitor<'de> for V<T> {
            type Value = One<T>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a string or a mapping")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<One<T>, E> {
                T::from_str(v).map(One).map_err(E::custom)
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> std::result::Result<One<T>, A::Error> {
                let m = T::Map::deserialize(de::value::MapAccessDeserializer::new(map))?;
                T::from_map(m).map(One).map_err(de::Error::custom)
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

/// A variable's value: text, a number or a boolean, as text.
pub(super) struct VarValue(pub String);

impl<'de> Deserialize<'de> for VarValue {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = VarValue;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str(
                    "text, a number or true/false (a list of values, which promptfoo expands \
                     into several tests, is not supported)",
                )
            }
            fn visit_str<E: de::Error>(self, v: &str) -> std::result::Result<VarValue, E> {
                Ok(VarValue(v.to_string()))
            }
            fn visit_i64<E: de::Error>(self, v: i64) -> std::result::Result<VarValue, E> {
                Ok(VarValue(v.to_string()))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> std::result::Result<VarValue, E> {
                Ok(VarValue(v.to_string()))
            }
            fn visit_f64<E: de::Error>(self, v: f64) -> std::result::Result<VarValue, E> {
                Ok(VarValue(v.to_string()))
            }
            fn visit_bool<E: de::Error>(self, v: bool) -> std::result::Result<VarValue, E> {
                Ok(VarValue(v.to_string()))
            }
        }
        d.deserialize_any(V)
    }
}
