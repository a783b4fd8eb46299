//! `tracing` field values → Clew tags.

use std::borrow::Cow;
use std::fmt;

use clew_client::{Tag, TagValue};
use tracing_core::field::{Field, Visit};

/// Collects fields as tags. The `message` field of events becomes Jaeger's
/// `event` log field, as Jaeger's own integrations name it.
#[derive(Default)]
pub(crate) struct TagVisitor {
    pub(crate) tags: Vec<Tag>,
    pub(crate) is_event: bool,
}

impl TagVisitor {
    fn push(&mut self, field: &Field, value: TagValue) {
        let key: Cow<'static, str> = if self.is_event && field.name() == "message" {
            Cow::Borrowed(EVENT_KEY)
        } else {
            Cow::Borrowed(field.name())
        };
        self.tags.push(Tag { key, value });
    }
}

/// Jaeger's log field naming the event.
const EVENT_KEY: &str = "event";

impl Visit for TagVisitor {
    fn record_f64(&mut self, field: &Field, value: f64) {
        self.push(field, TagValue::F64(value));
    }
    fn record_i64(&mut self, field: &Field, value: i64) {
        self.push(field, TagValue::I64(value));
    }
    fn record_u64(&mut self, field: &Field, value: u64) {
        self.push(field, TagValue::from(value));
    }
    fn record_bool(&mut self, field: &Field, value: bool) {
        self.push(field, TagValue::Bool(value));
    }
    fn record_str(&mut self, field: &Field, value: &str) {
        self.push(field, TagValue::Str(Cow::Owned(value.to_owned())));
    }
    fn record_bytes(&mut self, field: &Field, value: &[u8]) {
        self.push(field, TagValue::Binary(value.to_vec()));
    }
    fn record_error(&mut self, field: &Field, value: &(dyn std::error::Error + 'static)) {
        self.push(field, TagValue::Str(Cow::Owned(value.to_string())));
    }
    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        self.push(field, TagValue::Str(Cow::Owned(format!("{value:?}"))));
    }
}
