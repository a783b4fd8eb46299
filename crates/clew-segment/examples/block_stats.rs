//! Where a block's bytes go: per stream, tables, index parts.
//!
//! ```text
//! cargo run --release -p clew-segment --example block_stats -- <file.blk>...
//! ```

use clew_segment::{Footer, page_stream_sizes, read_index};

const NAMES: [&str; 17] = [
    "trace ids",
    "span ids",
    "parents",
    "starts",
    "durations",
    "processes",
    "operations",
    "flags",
    "tag keys",
    "logs",
    "references",
    "warnings",
    "scopes",
    "tag values",
    "trace spans",
    "trace starts",
    "tag strings",
];

/// Rewrites a block page by page (as compaction does) with other options
/// and prints the size: `block_stats --rewrite <zstd level> <page spans> <file>`.
fn rewrite(level: i32, page_spans: usize, path: &str) -> Result<(), Box<dyn std::error::Error>> {
    let bytes = std::fs::read(path)?;
    let footer = Footer::decode(&bytes[Footer::range(bytes.len() as u64)?.start as usize..])?;
    let r = footer.index.range();
    let idx = read_index(&footer, &bytes[r.start as usize..r.end as usize])?;
    let r = idx.tables.range();
    let tables = clew_segment::read_tables(&idx, &bytes[r.start as usize..r.end as usize])?;
    let mut w = clew_segment::BlockWriter::new(clew_segment::BlockOptions {
        zstd_level: level,
        page_spans,
        ..clew_segment::BlockOptions::default()
    });
    for p in &idx.pages {
        let r = p.section.range();
        let page = clew_segment::read_page(
            p,
            &bytes[r.start as usize..r.end as usize],
            &tables,
            &|_| true,
        )?;
        for t in page {
            w.push(t);
        }
    }
    let out = w.finish();
    println!(
        "{path}: {} -> {} bytes ({:.3} -> {:.3} B/span) at level {level}, {page_spans} spans/page",
        bytes.len(),
        out.bytes.len(),
        bytes.len() as f64 / idx.span_count as f64,
        out.bytes.len() as f64 / idx.span_count as f64
    );
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().collect();
    if args.get(1).map(String::as_str) == Some("--rewrite") && args.len() == 5 {
        return rewrite(args[2].parse()?, args[3].parse()?, &args[4]);
    }
    let mut streams: Vec<u64> = Vec::new();
    let (mut spans, mut tables, mut index, mut total) = (0u64, 0u64, 0u64, 0u64);
    let mut tag_filter = 0u64;
    for path in std::env::args().skip(1) {
        let bytes = std::fs::read(&path)?;
        total += bytes.len() as u64;
        let footer = Footer::decode(&bytes[Footer::range(bytes.len() as u64)?.start as usize..])?;
        let r = footer.index.range();
        let idx = read_index(&footer, &bytes[r.start as usize..r.end as usize])?;
        spans += idx.span_count;
        tables += u64::from(idx.tables.len);
        index += u64::from(footer.index.len);
        tag_filter += idx.tag_filter.stored_len() as u64;
        for p in &idx.pages {
            let r = p.section.range();
            let sizes = page_stream_sizes(p, &bytes[r.start as usize..r.end as usize])?;
            if streams.len() < sizes.len() {
                streams.resize(sizes.len(), 0);
            }
            for (i, s) in sizes.iter().enumerate() {
                streams[i] += *s as u64;
            }
        }
    }
    let per = |b: u64| b as f64 / spans.max(1) as f64;
    println!("{spans} spans, {total} bytes = {:.3} B/span", per(total));
    for (i, s) in streams.iter().enumerate() {
        let name = NAMES.get(i).copied().unwrap_or("stream");
        println!("  {i:2} {name:<14} {:.3} B/span", per(*s));
    }
    println!("  tables         {:.3} B/span", per(tables));
    println!(
        "  index          {:.3} B/span (tag filter {:.3})",
        per(index),
        per(tag_filter)
    );
    Ok(())
}
