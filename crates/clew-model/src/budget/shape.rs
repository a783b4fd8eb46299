//! Upper bounds on what a payload decodes into, computed before decoding.
//!
//! Decoders built on `serde_json` or `prost` allocate as they parse, so they
//! cannot charge a [`super::DecodeBudget`] element by element. For them the
//! codec first walks the bytes — without allocating — and counts what the
//! payload *could* turn into: every JSON object, array and scalar, or every
//! protobuf message of the types its schema names. The count times a cost
//! per element is an upper bound the codec charges before it decodes.
//!
//! Both walks are linear in the input and use constant memory: the JSON walk
//! is a byte scanner, the protobuf walk recurses only into fields the schema
//! marks as messages, to at most [`MAX_PROTO_DEPTH`] levels.

/// Counts of what a JSON document holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct JsonShape {
    /// `{` … `}` objects at any depth.
    pub objects: usize,
    /// `[` … `]` arrays at any depth.
    pub arrays: usize,
    /// Strings, numbers, `true`/`false`/`null` (object keys included).
    pub scalars: usize,
    /// Elements of the outermost array (0 when the document is not an array).
    pub top_level_elements: usize,
}

impl JsonShape {
    /// What a document of `body_len` bytes with this shape may decode into,
    /// given the most one object, array and scalar can cost (plus owned
    /// copies of all its text).
    pub fn cost(&self, body_len: usize, object: usize, array: usize, scalar: usize) -> usize {
        body_len
            .saturating_add(self.objects.saturating_mul(object))
            .saturating_add(self.arrays.saturating_mul(array))
            .saturating_add(self.scalars.saturating_mul(scalar))
    }
}

/// Scans `body` as JSON and counts its parts. Malformed JSON yields some
/// count (the decoder reports the syntax error); the counts bound what a
/// well-formed prefix can allocate either way.
pub fn json_shape(body: &[u8]) -> JsonShape {
    let mut shape = JsonShape::default();
    let mut depth = 0usize;
    let mut top_is_array = false;
    let mut top_has_element = false;
    let mut in_scalar = false;
    let mut i = 0;
    while i < body.len() {
        let b = body[i];
        match b {
            b'"' => {
                in_scalar = false;
                shape.scalars += 1;
                if depth == 1 && top_is_array {
                    top_has_element = true;
                }
                i += 1;
                // Skip the string, honouring backslash escapes.
                while i < body.len() {
                    match body[i] {
                        b'\\' => i += 2,
                        b'"' => break,
                        _ => i += 1,
                    }
                }
            }
            b'{' | b'[' => {
                in_scalar = false;
                if b == b'{' {
                    shape.objects += 1;
                } else {
                    shape.arrays += 1;
                }
                if depth == 0 && b == b'[' {
                    top_is_array = true;
                } else if depth == 1 && top_is_array {
                    top_has_element = true;
                }
                depth += 1;
            }
            b'}' | b']' => {
                in_scalar = false;
                depth = depth.saturating_sub(1);
            }
            b',' => {
                in_scalar = false;
                if depth == 1 && top_is_array && top_has_element {
                    shape.top_level_elements += 1;
                    top_has_element = false;
                }
            }
            b':' | b' ' | b'\t' | b'\n' | b'\r' => in_scalar = false,
            _ => {
                if !in_scalar {
                    shape.scalars += 1;
                    in_scalar = true;
                    if depth == 1 && top_is_array {
                        top_has_element = true;
                    }
                }
            }
        }
        i += 1;
    }
    if top_is_array && top_has_element {
        shape.top_level_elements += 1;
    }
    shape
}

/// Deepest protobuf nesting the walk follows (prost's own limit is 100;
/// no schema Clew reads nests deeper than this except through OTLP's
/// recursive `AnyValue`, which a hostile client may nest at will).
pub const MAX_PROTO_DEPTH: usize = 64;

/// One message type of a schema: what one instance may cost once decoded,
/// and which of its fields hold messages (field number, index of the child
/// type in the schema).
#[derive(Clone, Copy, Debug)]
pub struct MessageSchema {
    /// Bytes one instance may take in the decoded form (and any
    /// intermediate form the codec builds on the way).
    pub cost: usize,
    /// True for the message type that becomes a span.
    pub is_span: bool,
    /// Fields that hold messages: `(field number, schema index)`.
    pub children: &'static [(u32, usize)],
}

/// What a protobuf payload may decode into.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ProtoCost {
    /// Upper bound on decoded bytes (message costs; owned copies of strings
    /// are the caller's to add, at most the payload's length).
    pub bytes: usize,
    /// Messages of the span type.
    pub spans: usize,
}

/// Why the walk stopped: the payload is not well-formed protobuf, or nests
/// deeper than [`MAX_PROTO_DEPTH`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ProtoShapeError;

/// Walks `body` as an instance of `schema[root]` and adds up the costs of
/// every message the schema names.
pub fn proto_cost(
    body: &[u8],
    schema: &[MessageSchema],
    root: usize,
) -> Result<ProtoCost, ProtoShapeError> {
    let mut cost = ProtoCost::default();
    walk(body, schema, root, 0, &mut cost)?;
    Ok(cost)
}

fn walk(
    mut buf: &[u8],
    schema: &[MessageSchema],
    ty: usize,
    depth: usize,
    cost: &mut ProtoCost,
) -> Result<(), ProtoShapeError> {
    if depth > MAX_PROTO_DEPTH {
        return Err(ProtoShapeError);
    }
    let msg = schema.get(ty).ok_or(ProtoShapeError)?;
    cost.bytes = cost.bytes.saturating_add(msg.cost);
    if msg.is_span {
        cost.spans += 1;
    }
    while !buf.is_empty() {
        let key = varint(&mut buf)?;
        let field = u32::try_from(key >> 3).map_err(|_| ProtoShapeError)?;
        match key & 7 {
            0 => {
                varint(&mut buf)?;
            }
            1 => buf = buf.get(8..).ok_or(ProtoShapeError)?,
            5 => buf = buf.get(4..).ok_or(ProtoShapeError)?,
            2 => {
                let len = usize::try_from(varint(&mut buf)?).map_err(|_| ProtoShapeError)?;
                let (payload, rest) = buf.split_at_checked(len).ok_or(ProtoShapeError)?;
                if let Some(&(_, child)) = msg.children.iter().find(|(f, _)| *f == field) {
                    walk(payload, schema, child, depth + 1, cost)?;
                }
                buf = rest;
            }
            _ => return Err(ProtoShapeError),
        }
    }
    Ok(())
}

fn varint(buf: &mut &[u8]) -> Result<u64, ProtoShapeError> {
    let mut value = 0u64;
    for i in 0..10 {
        let (&b, rest) = buf.split_first().ok_or(ProtoShapeError)?;
        *buf = rest;
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(ProtoShapeError)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_shape_counts_parts_and_top_level_elements() {
        let s = json_shape(br#"[{"a":1,"b":[true,null,"x\"]"]},{},"s", 12]"#);
        assert_eq!(s.objects, 2);
        assert_eq!(s.arrays, 2);
        assert_eq!(s.top_level_elements, 4);
        // keys a, b; values 1, true, null, "x\"]", "s", 12
        assert_eq!(s.scalars, 8);
        assert_eq!(json_shape(b"[]").top_level_elements, 0);
        assert_eq!(json_shape(b"{}").top_level_elements, 0);
    }

    // A list (field 1) of items (cost 10, span) each holding tags (field 2, cost 3).
    const SCHEMA: &[MessageSchema] = &[
        MessageSchema {
            cost: 1,
            is_span: false,
            children: &[(1, 1)],
        },
        MessageSchema {
            cost: 10,
            is_span: true,
            children: &[(2, 2)],
        },
        MessageSchema {
            cost: 3,
            is_span: false,
            children: &[],
        },
    ];

    #[test]
    fn proto_cost_follows_message_fields_only() {
        // item { tag {}, tag {}, 3: "ab" }, item {}, 5: varint 7
        let body = [
            0x0a, 0x08, 0x12, 0x00, 0x12, 0x00, 0x1a, 0x02, b'a', b'b', 0x0a, 0x00, 0x28, 0x07,
        ];
        assert_eq!(
            proto_cost(&body, SCHEMA, 0),
            Ok(ProtoCost {
                bytes: 1 + 10 + 3 + 3 + 10,
                spans: 2
            })
        );
        assert_eq!(proto_cost(&[0x0a, 0x05], SCHEMA, 0), Err(ProtoShapeError));
    }
}
