//! `Tag` structs, the one place a vType picks the model's [`Value`].

use clew_model::{KeyValue, Str, Value};
use clew_thrift::{ProtocolReader, TType};

use super::Decoder;
use crate::DecodeError;

/// `TagType` enum values from jaeger.thrift.
const STRING: i32 = 0;
const DOUBLE: i32 = 1;
const BOOL: i32 = 2;
const LONG: i32 = 3;
const BINARY: i32 = 4;

/// The raw fields of one `Tag`, borrowed from the input.
#[derive(Default)]
struct RawTag<'a> {
    key: Option<&'a [u8]>,
    v_type: Option<i32>,
    v_str: Option<&'a [u8]>,
    v_double: Option<f64>,
    v_bool: Option<bool>,
    v_long: Option<i64>,
    v_binary: Option<&'a [u8]>,
}

impl<'a, R: ProtocolReader<'a>> Decoder<'a, '_, '_, R> {
    /// A `list<Tag>`; tags that carry no usable value are dropped with a warning.
    pub(super) fn tags(&mut self) -> Result<Vec<KeyValue>, DecodeError> {
        let Some(size) = self.struct_list_begin()? else {
            return Ok(Vec::new());
        };
        let mut out = self.reserve::<KeyValue>(size, super::MIN_STRUCT_BYTES)?;
        for _ in 0..size {
            self.budget.charge_for::<KeyValue>()?;
            if let Some(tag) = self.tag()? {
                out.push(tag);
            }
        }
        Ok(out)
    }

    fn tag(&mut self) -> Result<Option<KeyValue>, DecodeError> {
        self.r.read_struct_begin()?;
        let mut raw = RawTag::default();
        loop {
            let f = self.r.read_field_begin()?;
            match (f.id, f.ttype) {
                (_, TType::Stop) => break,
                (1, TType::Binary) => raw.key = Some(self.r.read_binary()?),
                (2, TType::I32) => raw.v_type = Some(self.r.read_i32()?),
                (3, TType::Binary) => raw.v_str = Some(self.r.read_binary()?),
                (4, TType::Double) => raw.v_double = Some(self.r.read_double()?),
                (5, TType::Bool) => raw.v_bool = Some(self.r.read_bool()?),
                (6, TType::I64) => raw.v_long = Some(self.r.read_i64()?),
                (7, TType::Binary) => raw.v_binary = Some(self.r.read_binary()?),
                (_, t) => self.r.skip(t)?,
            }
        }
        self.r.read_struct_end();
        Ok(self.tag_value(raw))
    }

    /// Picks the value the vType names. When vType is missing or unknown, the
    /// first value field present is kept with its own type (nothing is lost);
    /// with no value at all the tag is dropped. Both cases leave a warning.
    fn tag_value(&mut self, raw: RawTag<'a>) -> Option<KeyValue> {
        let key = match raw.key {
            Some(k) => self.str_from(k),
            None => Str::new(),
        };
        let value = match raw.v_type {
            Some(STRING) => Value::Str(raw.v_str.map(|s| self.str_from(s)).unwrap_or_default()),
            Some(DOUBLE) => Value::F64(raw.v_double.unwrap_or(0.0)),
            Some(BOOL) => Value::Bool(raw.v_bool.unwrap_or(false)),
            Some(LONG) => Value::I64(raw.v_long.unwrap_or(0)),
            Some(BINARY) => Value::Binary(
                raw.v_binary
                    .map(|b| self.buf.slice_ref(b))
                    .unwrap_or_default(),
            ),
            other => {
                let found = if let Some(s) = raw.v_str {
                    Some(Value::Str(self.str_from(s)))
                } else if let Some(v) = raw.v_double {
                    Some(Value::F64(v))
                } else if let Some(v) = raw.v_bool {
                    Some(Value::Bool(v))
                } else if let Some(v) = raw.v_long {
                    Some(Value::I64(v))
                } else {
                    raw.v_binary.map(|b| Value::Binary(self.buf.slice_ref(b)))
                };
                let what = match other {
                    Some(t) => format!("unknown vType {t}"),
                    None => "no vType".to_owned(),
                };
                match found {
                    Some(v) => {
                        self.warn(|| {
                            format!(
                                "tag {key:?} has {what}; kept its {} value",
                                v.value_type().jaeger_name()
                            )
                        });
                        v
                    }
                    None => {
                        self.warn(|| format!("tag {key:?} has {what} and no value; dropped"));
                        return None;
                    }
                }
            }
        };
        Some(KeyValue { key, value })
    }
}
