//! Protocol-independent names for thrift types and the headers readers return.

/// A thrift wire type, independent of how a protocol numbers it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TType {
    /// End of a struct's fields.
    Stop,
    /// Boolean.
    Bool,
    /// Signed byte (`byte` / `i8` in IDL).
    I8,
    /// 64-bit IEEE float.
    Double,
    /// Signed 16-bit integer.
    I16,
    /// Signed 32-bit integer (also enums).
    I32,
    /// Signed 64-bit integer.
    I64,
    /// `string` or `binary`: a length-prefixed run of bytes.
    Binary,
    /// A struct (also unions and exceptions).
    Struct,
    /// `map<K, V>`.
    Map,
    /// `set<T>`.
    Set,
    /// `list<T>`.
    List,
    /// 16-byte UUID (Thrift 0.19+).
    Uuid,
}

impl TType {
    /// The binary protocol's type code.
    pub const fn binary_code(self) -> u8 {
        match self {
            TType::Stop => 0,
            TType::Bool => 2,
            TType::I8 => 3,
            TType::Double => 4,
            TType::I16 => 6,
            TType::I32 => 8,
            TType::I64 => 10,
            TType::Binary => 11,
            TType::Struct => 12,
            TType::Map => 13,
            TType::Set => 14,
            TType::List => 15,
            TType::Uuid => 16,
        }
    }

    /// Parses a binary protocol type code.
    pub const fn from_binary_code(code: u8) -> Option<TType> {
        Some(match code {
            0 => TType::Stop,
            2 => TType::Bool,
            3 => TType::I8,
            4 => TType::Double,
            6 => TType::I16,
            8 => TType::I32,
            10 => TType::I64,
            11 => TType::Binary,
            12 => TType::Struct,
            13 => TType::Map,
            14 => TType::Set,
            15 => TType::List,
            16 => TType::Uuid,
            _ => return None,
        })
    }

    /// The compact protocol's type code for collection elements and map
    /// keys/values. Booleans use 2 here, as the compact spec says; readers
    /// accept 1 as well because some implementations write it.
    pub const fn compact_code(self) -> u8 {
        match self {
            TType::Stop => 0,
            TType::Bool => 2,
            TType::I8 => 3,
            TType::I16 => 4,
            TType::I32 => 5,
            TType::I64 => 6,
            TType::Double => 7,
            TType::Binary => 8,
            TType::List => 9,
            TType::Set => 10,
            TType::Map => 11,
            TType::Struct => 12,
            TType::Uuid => 13,
        }
    }

    /// Parses a compact protocol type code (1 and 2 both mean bool).
    pub const fn from_compact_code(code: u8) -> Option<TType> {
        Some(match code {
            0 => TType::Stop,
            1 | 2 => TType::Bool,
            3 => TType::I8,
            4 => TType::I16,
            5 => TType::I32,
            6 => TType::I64,
            7 => TType::Double,
            8 => TType::Binary,
            9 => TType::List,
            10 => TType::Set,
            11 => TType::Map,
            12 => TType::Struct,
            13 => TType::Uuid,
            _ => return None,
        })
    }
}

/// The kind of a message in an envelope.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum MessageType {
    /// A request expecting a reply.
    Call,
    /// A reply.
    Reply,
    /// An application exception in place of a reply.
    Exception,
    /// A request without reply (Jaeger's `emitBatch`).
    Oneway,
}

impl MessageType {
    /// The 3-bit code shared by both protocols.
    pub const fn code(self) -> u8 {
        match self {
            MessageType::Call => 1,
            MessageType::Reply => 2,
            MessageType::Exception => 3,
            MessageType::Oneway => 4,
        }
    }

    /// Parses a message type code.
    pub const fn from_code(code: u8) -> Option<MessageType> {
        Some(match code {
            1 => MessageType::Call,
            2 => MessageType::Reply,
            3 => MessageType::Exception,
            4 => MessageType::Oneway,
            _ => return None,
        })
    }
}

/// A message envelope: method name (borrowed from the input), kind, sequence id.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MessageHeader<'a> {
    /// Method name bytes (not validated as UTF-8; callers decide).
    pub name: &'a [u8],
    /// Message kind.
    pub kind: MessageType,
    /// Sequence id chosen by the sender.
    pub seq_id: i32,
}

/// A field header, or the end of a struct when `ttype == TType::Stop`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct FieldHeader {
    /// Wire type of the field's value.
    pub ttype: TType,
    /// Field id from the IDL (0 for `Stop`).
    pub id: i16,
}

/// A list or set header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListHeader {
    /// Element type.
    pub elem: TType,
    /// Element count, already checked against the remaining input.
    pub size: usize,
}

/// A map header.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapHeader {
    /// Key type.
    pub key: TType,
    /// Value type.
    pub value: TType,
    /// Entry count, already checked against the remaining input.
    pub size: usize,
}
