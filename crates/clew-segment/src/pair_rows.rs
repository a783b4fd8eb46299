//! A block builder's pair IDs by key: one dense row per attribute key,
//! indexed by the value's string index.
//!
//! Tracegen's shape (97 keys cycling against 1,000 values) gives ≈ 97,000
//! pairs per block, each value seen with every key, so neither the
//! value's own cache in [`crate::tables`] nor the block-wide pair map
//! (≈ 2 MB of buckets, a cache miss per probe) is cheap: the probes were
//! the largest single cost of the cut and of compaction. Rows hold the
//! same pairs in 4 bytes each, grouped by key, so the hot keys' rows stay
//! in cache and a lookup is two array reads.
//!
//! A row is used only while it is dense enough: at most
//! [`CELLS_PER_PAIR`] cells per pair of its key (plus [`SLACK`]). A key
//! whose few values are scattered over a large string table has no row
//! and is served by the map alone, so rows never hold more than about
//! twice the map's memory. Density is judged again from all the pairs
//! each time the block's pair count doubles: the first pairs of a key
//! can look sparse (tracegen's first cycle meets each key's values 97
//! strings apart) and fill in later.

const NONE: u32 = u32::MAX;
const NO_ROW: u32 = u32::MAX;

/// Cells a row may hold per pair of its key.
const CELLS_PER_PAIR: usize = 8;
/// Cells any row may hold whatever its pair count (the first strings of a
/// table are cheap to cover).
const SLACK: usize = 256;
/// Pair count of the first full re-judging.
const FIRST_REBUILD: usize = 1024;

#[derive(Default)]
struct Row {
    /// Pair ID by value string index, [`NONE`] where the key has no pair.
    /// Empty while the row is off.
    cells: Vec<u32>,
    /// Pairs of the key (whether the row is on or not).
    pairs: usize,
    /// Too sparse when last judged: the key's pairs are in the map only
    /// until the next rebuild.
    off: bool,
}

impl Row {
    fn cap(&self) -> usize {
        self.pairs * CELLS_PER_PAIR + SLACK
    }
}

/// Pair IDs by `(key, value)` string indexes, for the keys dense enough.
#[derive(Default)]
pub(crate) struct PairRows {
    /// Row index of each key string index, [`NO_ROW`] if it has none.
    by_key: Vec<u32>,
    rows: Vec<Row>,
    /// Pair count at which every row is judged again.
    next_rebuild: usize,
}

impl PairRows {
    /// The pair ID of `key = value`, if this key's row holds it. `None`
    /// means "ask the map": the pair is new, or the key's row is off.
    #[inline]
    pub(crate) fn get(&self, key: u32, value: u32) -> Option<u32> {
        let r = *self.by_key.get(key as usize)?;
        let row = self.rows.get(r as usize)?;
        match row.cells.get(value as usize) {
            Some(&id) if id != NONE => Some(id),
            _ => None,
        }
    }

    /// Records pair `id`, new to the block: `pairs` is every pair so far
    /// (`key << 32 | value`, by ID, `id` last). Every new pair must come
    /// through here, so a row that is on holds all of its key's pairs.
    pub(crate) fn put(&mut self, key: u32, value: u32, id: u32, pairs: &[u64]) {
        let row = self.row_of(key);
        row.pairs += 1;
        let v = value as usize;
        if !row.off {
            if v >= row.cells.len() {
                let cap = row.cap();
                if v < cap {
                    let len = (v + 1).max(row.cells.len() * 2).min(cap);
                    row.cells.resize(len, NONE);
                } else {
                    row.off = true;
                    row.cells = Vec::new();
                }
            }
            if !row.off {
                row.cells[v] = id;
            }
        }
        if pairs.len() >= self.next_rebuild.max(FIRST_REBUILD) {
            self.rebuild(pairs);
            self.next_rebuild = pairs.len() * 2;
        }
    }

    fn row_of(&mut self, key: u32) -> &mut Row {
        let k = key as usize;
        if self.by_key.len() <= k {
            self.by_key.resize(k + 1, NO_ROW);
        }
        if self.by_key[k] == NO_ROW {
            self.by_key[k] = self.rows.len() as u32;
            self.rows.push(Row::default());
        }
        &mut self.rows[self.by_key[k] as usize]
    }

    /// Judges every row from all the pairs and refills the dense ones.
    fn rebuild(&mut self, pairs: &[u64]) {
        let mut reach = vec![0usize; self.rows.len()];
        for &p in pairs {
            if let Some(&r) = self.by_key.get((p >> 32) as usize) {
                let end = &mut reach[r as usize];
                *end = (*end).max(p as u32 as usize + 1);
            }
        }
        for (row, &end) in self.rows.iter_mut().zip(&reach) {
            row.off = end > row.cap();
            row.cells.clear();
            if row.off {
                row.cells.shrink_to_fit();
            } else {
                row.cells.resize(end, NONE);
            }
        }
        for (id, &p) in pairs.iter().enumerate() {
            if let Some(&r) = self.by_key.get((p >> 32) as usize) {
                let row = &mut self.rows[r as usize];
                if !row.off {
                    row.cells[p as u32 as usize] = id as u32;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows and the pair list as a block builder keeps them.
    #[derive(Default)]
    struct Builder {
        rows: PairRows,
        pairs: Vec<u64>,
    }

    impl Builder {
        fn add(&mut self, key: u32, value: u32) -> u32 {
            let id = self.pairs.len() as u32;
            self.pairs.push(u64::from(key) << 32 | u64::from(value));
            self.rows.put(key, value, id, &self.pairs);
            id
        }
    }

    #[test]
    fn dense_keys_are_served_by_rows() {
        let mut b = Builder::default();
        for key in [3u32, 7] {
            for value in 0..500u32 {
                assert_eq!(b.rows.get(key, value), None);
                let id = b.add(key, value);
                assert_eq!(b.rows.get(key, value), Some(id));
            }
        }
        assert_eq!(b.rows.get(3, 10), Some(10));
        assert_eq!(b.rows.get(7, 10), Some(510));
        assert_eq!(b.rows.get(5, 10), None, "a key with no pairs");
        assert_eq!(b.rows.get(3, 500), None, "a value past the row");
    }

    #[test]
    fn a_sparse_key_has_no_row() {
        let mut b = Builder::default();
        b.add(1, 2);
        assert_eq!(b.rows.get(1, 2), Some(0));
        // One more pair far out in the string table: 2 pairs allow
        // 2 × 8 + 256 cells, not 100,001.
        b.add(1, 100_000);
        assert_eq!(b.rows.get(1, 100_000), None);
        assert_eq!(b.rows.get(1, 2), None, "the row is off, the map answers");
        b.add(1, 3);
        assert_eq!(b.rows.get(1, 3), None, "and stays off");
        // Rebuilds keep it off: its pairs never get dense.
        for v in 0..3000 {
            b.add(2, v);
        }
        assert_eq!(b.rows.get(1, 3), None);
        assert_eq!(b.rows.get(2, 2999), Some(3 + 2999));
        assert_eq!(b.rows.rows[0].cells.capacity(), 0);
    }

    #[test]
    fn a_key_that_fills_in_gets_its_row_back() {
        let mut b = Builder::default();
        // Values met 97 apart, as tracegen's first cycle meets them.
        let mut want = Vec::new();
        for round in 0..97u32 {
            for v in (round..2000).step_by(97) {
                want.push((v, b.add(4, v)));
            }
        }
        for (v, id) in want {
            assert_eq!(b.rows.get(4, v), Some(id), "value {v}");
        }
    }

    #[test]
    fn rows_stay_within_their_cap() {
        let mut b = Builder::default();
        for key in 0..50u32 {
            for value in (0..40_000u32).step_by(97 + key as usize) {
                b.add(key, value);
            }
        }
        for row in &b.rows.rows {
            assert!(row.cells.len() <= row.cap());
        }
    }
}
