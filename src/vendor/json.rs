//! Lenient JSON values for vendor pages: a record of the wrong shape is a
//! reject, never a failed page.
//!
//! serde's derived structs fail the whole document when one value has the
//! wrong JSON type (`"id": "abc"` where a number is expected). The vendor
//! readers therefore declare every field with one of three types that accept
//! anything and say what they saw: [`Scalar`] (a leaf), [`Obj`] (an object
//! read into a struct) and [`Seq`] (an array). Only text that is not JSON at
//! all fails a page (an error naming the file). Strings are borrowed from the
//! page's bytes when they have no escapes, so reading allocates little.
//!
//! Also here: finding the numbered page files of an export
//! (`tickets-page-1.json`, `tickets-page-2.json`, …).

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::path::{Path, PathBuf};

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use super::VendorError;

/// A JSON leaf value, as found (or [`Scalar::Missing`] when the key is absent).
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum Scalar<'a> {
    /// The key is absent.
    #[default]
    Missing,
    /// `null`.
    Null,
    /// `true` / `false`.
    Bool(bool),
    /// An integer that fits an `i64`.
    Int(i64),
    /// A larger positive integer.
    UInt(u64),
    /// A number with a fraction or an exponent.
    Float(f64),
    /// A string.
    Str(Cow<'a, str>),
    /// An array (its content ignored).
    Array,
    /// An object (its content ignored).
    Object,
}

impl<'a> Scalar<'a> {
    /// The string, if this is one.
    pub(crate) fn as_str(&self) -> Option<&str> {
        match self {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A non-empty string, trimmed.
    pub(crate) fn text(&self) -> Option<&str> {
        self.as_str().map(str::trim).filter(|s| !s.is_empty())
    }

    /// `null` or absent.
    pub(crate) fn is_null(&self) -> bool {
        matches!(self, Scalar::Missing | Scalar::Null)
    }

    /// A positive integer id (Zendesk ids are JSON numbers).
    pub(crate) fn as_id(&self) -> Option<u64> {
        match self {
            Scalar::Int(v) if *v > 0 => u64::try_from(*v).ok(),
            Scalar::UInt(v) => Some(*v),
            _ => None,
        }
    }

    /// A boolean.
    pub(crate) fn as_bool(&self) -> Option<bool> {
        match self {
            Scalar::Bool(b) => Some(*b),
            _ => None,
        }
    }

    /// An integer (for counts such as `total`).
    pub(crate) fn as_int(&self) -> Option<i128> {
        match self {
            Scalar::Int(v) => Some(i128::from(*v)),
            Scalar::UInt(v) => Some(i128::from(*v)),
            _ => None,
        }
    }

    /// Text of an id that may be written as a JSON string or number
    /// (JSM organization ids, Zendesk `Create` event values).
    pub(crate) fn id_text(&self) -> Option<Cow<'_, str>> {
        match self {
            Scalar::Str(s) if !s.trim().is_empty() => Some(Cow::Borrowed(s.trim())),
            Scalar::Int(v) => Some(Cow::Owned(v.to_string())),
            Scalar::UInt(v) => Some(Cow::Owned(v.to_string())),
            _ => None,
        }
    }

    /// The value as shown in a reject: strings as they are, `null`, numbers
    /// as written, `[…]`/`{…}` for containers; `None` when absent.
    pub(crate) fn shown(&self) -> Option<String> {
        match self {
            Scalar::Missing => None,
            Scalar::Null => Some("null".into()),
            Scalar::Bool(b) => Some(b.to_string()),
            Scalar::Int(v) => Some(v.to_string()),
            Scalar::UInt(v) => Some(v.to_string()),
            Scalar::Float(v) => Some(v.to_string()),
            Scalar::Str(s) => Some(s.to_string()),
            Scalar::Array => Some("[…]".into()),
            Scalar::Object => Some("{…}".into()),
        }
    }
}

struct ScalarVisitor<'a>(PhantomData<&'a ()>);

impl<'de: 'a, 'a> Visitor<'de> for ScalarVisitor<'a> {
    type Value = Scalar<'a>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
        Ok(Scalar::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Scalar::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Scalar::UInt(v), Scalar::Int))
    }
    fn visit_i128<E>(self, v: i128) -> Result<Self::Value, E> {
        Ok(i64::try_from(v).map_or(Scalar::Float(v as f64), Scalar::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Self::Value, E> {
        Ok(Scalar::Float(v))
    }
    fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Borrowed(v)))
    }
    fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v.to_string())))
    }
    fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
        Ok(Scalar::Str(Cow::Owned(v)))
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Scalar::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Scalar::Array)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Scalar::Object)
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Scalar<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ScalarVisitor(PhantomData))
    }
}

/// A JSON object read into `T` (whose fields are all lenient), or what was
/// found instead.
#[derive(Debug, Clone, Default)]
pub(crate) enum Obj<T> {
    /// The key is absent.
    #[default]
    Missing,
    /// `null`.
    Null,
    /// Some other JSON type.
    Invalid,
    /// The object.
    Valid(T),
}

impl<T> Obj<T> {
    /// The object, if there is one.
    pub(crate) fn get(&self) -> Option<&T> {
        match self {
            Obj::Valid(t) => Some(t),
            _ => None,
        }
    }
}

struct ObjVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjVisitor<T> {
    type Value = Obj<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
        T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Obj::Valid)
    }
    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(Obj::Null)
    }
    fn visit_none<E>(self) -> Result<Self::Value, E> {
        Ok(Obj::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(Obj::Invalid)
    }
    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(Obj::Invalid)
    }
    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(Obj::Invalid)
    }
    fn visit_i128<E>(self, _: i128) -> Result<Self::Value, E> {
        Ok(Obj::Invalid)
    }
    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(Obj::Invalid)
    }
    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(Obj::Invalid)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Obj::Invalid)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Obj<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(ObjVisitor(PhantomData))
    }
}

/// A JSON array of `E` (itself lenient: [`Scalar`] or [`Obj`]), or what was
/// found instead.
#[derive(Debug, Clone, Default)]
pub(crate) enum Seq<E> {
    /// The key is absent.
    #[default]
    Missing,
    /// `null`.
    Null,
    /// Some other JSON type.
    Invalid,
    /// The array.
    Items(Vec<E>),
}

impl<E> Seq<E> {
    /// The elements; none unless this is an array.
    pub(crate) fn items(&self) -> &[E] {
        match self {
            Seq::Items(v) => v,
            _ => &[],
        }
    }

    /// Whether an array was found.
    pub(crate) fn is_array(&self) -> bool {
        matches!(self, Seq::Items(_))
    }
}

struct SeqVisitor<E>(PhantomData<E>);

impl<'de, E: Deserialize<'de>> Visitor<'de> for SeqVisitor<E> {
    type Value = Seq<E>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(4096));
        while let Some(e) = seq.next_element::<E>()? {
            items.push(e);
        }
        Ok(Seq::Items(items))
    }
    fn visit_unit<Er>(self) -> Result<Self::Value, Er> {
        Ok(Seq::Null)
    }
    fn visit_none<Er>(self) -> Result<Self::Value, Er> {
        Ok(Seq::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<Er>(self, _: bool) -> Result<Self::Value, Er> {
        Ok(Seq::Invalid)
    }
    fn visit_i64<Er>(self, _: i64) -> Result<Self::Value, Er> {
        Ok(Seq::Invalid)
    }
    fn visit_u64<Er>(self, _: u64) -> Result<Self::Value, Er> {
        Ok(Seq::Invalid)
    }
    fn visit_i128<Er>(self, _: i128) -> Result<Self::Value, Er> {
        Ok(Seq::Invalid)
    }
    fn visit_f64<Er>(self, _: f64) -> Result<Self::Value, Er> {
        Ok(Seq::Invalid)
    }
    fn visit_str<Er>(self, _: &str) -> Result<Self::Value, Er> {
        Ok(Seq::Invalid)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Seq::Invalid)
    }
}

impl<'de, E: Deserialize<'de>> Deserialize<'de> for Seq<E> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(SeqVisitor(PhantomData))
    }
}

/// A record that becomes a compact one as soon as it is read (see [`Each`]).
pub(crate) trait Compact {
    /// The compact record.
    type Out;
    /// Turns the record at `index` of its array into its compact form.
    fn compact(self, index: u32) -> Self::Out;
}

/// A JSON array whose elements (`T`, lenient) are turned into compact
/// records one by one while the page is read: the page's wide parsed
/// records never accumulate.
#[derive(Default)]
pub(crate) enum Each<T: Compact> {
    /// The key is absent.
    #[default]
    Missing,
    /// `null` or some other JSON type.
    Invalid,
    /// The array, compacted.
    Items(Vec<T::Out>),
}

impl<T: Compact> Each<T> {
    /// Whether an array was found.
    pub(crate) fn is_array(&self) -> bool {
        matches!(self, Each::Items(_))
    }

    /// The compact records; none unless this is an array.
    pub(crate) fn into_items(self) -> Vec<T::Out> {
        match self {
            Each::Items(v) => v,
            _ => Vec::new(),
        }
    }
}

struct EachVisitor<T>(PhantomData<T>);

impl<'de, T: Deserialize<'de> + Compact> Visitor<'de> for EachVisitor<T> {
    type Value = Each<T>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let mut items = Vec::new();
        let mut i = 0u32;
        while let Some(e) = seq.next_element::<T>()? {
            items.push(e.compact(i));
            i += 1;
        }
        Ok(Each::Items(items))
    }
    fn visit_unit<Er>(self) -> Result<Self::Value, Er> {
        Ok(Each::Invalid)
    }
    fn visit_none<Er>(self) -> Result<Self::Value, Er> {
        Ok(Each::Invalid)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(self)
    }
    fn visit_bool<Er>(self, _: bool) -> Result<Self::Value, Er> {
        Ok(Each::Invalid)
    }
    fn visit_i64<Er>(self, _: i64) -> Result<Self::Value, Er> {
        Ok(Each::Invalid)
    }
    fn visit_u64<Er>(self, _: u64) -> Result<Self::Value, Er> {
        Ok(Each::Invalid)
    }
    fn visit_f64<Er>(self, _: f64) -> Result<Self::Value, Er> {
        Ok(Each::Invalid)
    }
    fn visit_str<Er>(self, _: &str) -> Result<Self::Value, Er> {
        Ok(Each::Invalid)
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        while map.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
        Ok(Each::Invalid)
    }
}

impl<'de, T: Deserialize<'de> + Compact> Deserialize<'de> for Each<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(EachVisitor(PhantomData))
    }
}

/// Parses one JSON document; text that is not JSON is an error naming the
/// file, with serde's line and column.
pub(crate) fn parse<'a, T: Deserialize<'a>>(
    bytes: &'a [u8],
    path: &Path,
) -> Result<T, VendorError> {
    // UTF-8 is checked once for the page, so that strings are then
    // borrowed without a check each.
    let bytes = bytes.strip_prefix(b"\xef\xbb\xbf").unwrap_or(bytes);
    let text = std::str::from_utf8(bytes).map_err(|e| VendorError::Unreadable {
        path: path.to_path_buf(),
        reason: format!("not valid JSON: not UTF-8 at byte {}", e.valid_up_to()),
    })?;
    serde_json::from_str(text).map_err(|e| VendorError::Unreadable {
        path: path.to_path_buf(),
        reason: format!("not valid JSON: {e}"),
    })
}

/// The page files `<stem>-page-<N>.json` of `dir`, in page order. Numbering
/// starts at 1 and has no gaps (a missing page is an error: the export is
/// incomplete); at least one page is required.
pub(crate) fn page_files(dir: &Path, stem: &str) -> Result<Vec<PathBuf>, VendorError> {
    let prefix = format!("{stem}-page-");
    let entries = std::fs::read_dir(dir).map_err(|source| VendorError::Read {
        path: dir.to_path_buf(),
        source,
    })?;
    let mut pages: Vec<(u64, PathBuf)> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| VendorError::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        let Some(number) = name
            .strip_prefix(&prefix)
            .and_then(|rest| rest.strip_suffix(".json"))
        else {
            continue;
        };
        match number.parse::<u64>() {
            Ok(n) if n >= 1 && !number.starts_with('0') => pages.push((n, entry.path())),
            _ => {
                return Err(VendorError::Unreadable {
                    path: entry.path(),
                    reason: format!(
                        "not a page file name (expected `{prefix}N.json`, N = 1, 2, …)"
                    ),
                })
            }
        }
    }
    pages.sort();
    if pages.is_empty() {
        return Err(VendorError::MissingFile {
            dir: dir.to_path_buf(),
            file: format!("{prefix}1.json"),
        });
    }
    for (i, (n, _)) in pages.iter().enumerate() {
        if *n != i as u64 + 1 {
            return Err(VendorError::MissingFile {
                dir: dir.to_path_buf(),
                file: format!("{prefix}{}.json", i + 1),
            });
        }
    }
    Ok(pages.into_iter().map(|(_, p)| p).collect())
}

/// Reads a page into `buffer` (reused from page to page by one thread, so
/// that reading allocates, and faults in, fresh memory only for the
/// largest page).
pub(crate) fn read_into<'b>(path: &Path, buffer: &'b mut Vec<u8>) -> Result<&'b [u8], VendorError> {
    use std::io::Read;
    buffer.clear();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(buffer))
        .map_err(|source| VendorError::Read {
            path: path.to_path_buf(),
            source,
        })?;
    Ok(buffer)
}

/// The file name of `path`, as shown in rejects and counts.
pub(crate) fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug, Default, serde::Deserialize)]
    struct Rec<'a> {
        #[serde(default, borrow)]
        id: Scalar<'a>,
        #[serde(default, borrow)]
        via: Obj<Via<'a>>,
        #[serde(default, borrow)]
        tags: Seq<Scalar<'a>>,
    }

    #[derive(Debug, Default, serde::Deserialize)]
    struct Via<'a> {
        #[serde(default, borrow)]
        channel: Scalar<'a>,
    }

    #[test]
    fn wrong_types_are_seen_not_fatal() {
        let text = br#"[{"id": 12, "via": {"channel": "email"}, "tags": ["a", 1]},
                        {"id": "12", "via": "email", "tags": {"x": 1}},
                        {"via": null, "tags": null, "extra": [1, {"deep": true}]},
                        7]"#;
        let recs: Seq<Obj<Rec>> = parse(text, Path::new("t.json")).unwrap();
        let items = recs.items();
        assert_eq!(items.len(), 4);
        let a = items[0].get().unwrap();
        assert_eq!(a.id.as_id(), Some(12));
        assert_eq!(a.via.get().unwrap().channel.as_str(), Some("email"));
        assert_eq!(a.tags.items().len(), 2);
        let b = items[1].get().unwrap();
        assert_eq!(b.id.as_id(), None);
        assert_eq!(b.id.shown().as_deref(), Some("12"));
        assert!(matches!(b.via, Obj::Invalid));
        assert!(matches!(b.tags, Seq::Invalid));
        let c = items[2].get().unwrap();
        assert!(c.id.is_null() && matches!(c.id, Scalar::Missing));
        assert!(matches!(c.via, Obj::Null));
        assert!(matches!(items[3], Obj::Invalid));
    }

    #[test]
    fn text_that_is_not_json_names_the_file() {
        let err = parse::<Seq<Scalar>>(b"[1, 2", Path::new("p.json")).unwrap_err();
        assert!(
            err.to_string().starts_with("p.json: not valid JSON"),
            "{err}"
        );
    }

    #[test]
    fn escaped_strings_are_read() {
        let s: Scalar = parse(br#""a\"b""#, Path::new("x")).unwrap();
        assert_eq!(s.as_str(), Some("a\"b"));
    }
}
