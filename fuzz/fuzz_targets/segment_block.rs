//! Block files and WAL batch records (`clew-segment`): the first byte picks
//! a whole block (decode every section, then search every page with a tag
//! filter and read its service-graph columns) or a WAL record's batch
//! (decoded, its service-graph columns read, then written into a block the
//! way the head's cut writes it, without building spans).
#![no_main]

use clew_segment::{
    Batch, BlockOptions, BlockWriter, Footer, SpanFilter, decode_block, read_index,
    read_page_dependency_spans, read_page_filtered, read_tables,
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    if pick % 2 == 1 {
        if let Ok(b) = Batch::parse(bytes::Bytes::copy_from_slice(rest)) {
            drop(b.decode(&|_| true));
            drop(b.dependency_spans());
            cut(b);
        }
        return;
    }
    drop(decode_block(rest));
    // The search path reads pages without decoding them whole.
    let Ok(range) = Footer::range(rest.len() as u64) else {
        return;
    };
    let Ok(footer) = Footer::decode(&rest[range.start as usize..]) else {
        return;
    };
    let slice = |r: std::ops::Range<u64>| rest.get(r.start as usize..r.end as usize);
    let Some(Ok(index)) = slice(footer.index.range()).map(|b| read_index(&footer, b)) else {
        return;
    };
    let Some(Ok(tables)) = slice(index.tables.range()).map(|b| read_tables(&index, b)) else {
        return;
    };
    let filter = SpanFilter {
        tags: vec![("span.kind", "server"), ("event", "retry")],
        start_max: u64::MAX,
        ..SpanFilter::default()
    };
    for p in &index.pages {
        if let Some(b) = slice(p.section.range()) {
            drop(read_page_filtered(p, b, &tables, &filter));
            drop(read_page_dependency_spans(p, b, &tables));
        }
    }
});

/// The cut's transcoding of one batch: every trace pushed raw, then the
/// block finished (small pages, so page boundaries are crossed).
fn cut(batch: Batch) {
    let mut w = BlockWriter::new(BlockOptions {
        page_spans: 3,
        ..BlockOptions::default()
    });
    let Ok(src) = w.add_source(std::sync::Arc::new(batch)) else {
        return;
    };
    let ids: Vec<_> = w.source_traces(src).collect();
    for (pos, id) in ids.into_iter().enumerate() {
        let Ok(t) = w.raw_trace(id, vec![(src, pos as u32)]) else {
            continue;
        };
        if w.push_raw(t).is_err() {
            return;
        }
    }
    drop(w.try_finish());
}
