//! The write-ahead log: every acknowledged batch is here, fsynced, before
//! `write_spans` returns.
//!
//! Files are `wal/<seq>.wal` (16 hex digits), each starting with
//! [`WAL_MAGIC`] and then records framed as `len: u32 LE | crc32(payload):
//! u32 LE | payload` (the payload is [`clew_segment::encode_batch`]).
//!
//! One thread owns the open segment. Writers hand it encoded records and
//! wait; it writes everything queued, fsyncs once and answers them all
//! (group commit), so one ≈ 3 ms fsync covers however many batches arrived
//! meanwhile. On a write error (disk full) the file is cut back to its last
//! good length and every waiting writer gets the error: nothing half-written
//! stays in front of later records.
//!
//! Replay reads segments in order and stops a segment at the first record
//! that is short or fails its CRC (a torn tail after `kill -9` or a crash
//! mid-write): the file is truncated there and the event reported.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::oneshot;

/// First bytes of every WAL segment this version writes (records hold
/// v2 pages).
pub const WAL_MAGIC: &[u8; 8] = b"CLEWWAL2";
/// Segments written before v2 pages; still replayed (a page says its own
/// layout in its flags).
const WAL_MAGIC_V1: &[u8; 8] = b"CLEWWAL1";
const FRAME_HEADER: usize = 8;
/// Largest record accepted on replay (a corrupt length beyond it ends the
/// segment rather than asking for gigabytes).
const MAX_RECORD: usize = 256 << 20;

/// When the WAL calls `fsync`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum WalSync {
    /// Before acknowledging every write (group commit): no acknowledged
    /// span is lost, even on power failure.
    Always,
    /// At most this long after a write; writes are acknowledged once in the
    /// OS page cache (survives `kill -9`, not power loss).
    Interval(Duration),
    /// Never (tests, benchmarks of the rest of the path).
    Never,
}

/// Counters shared with the store's stats.
#[derive(Default, Debug)]
pub(crate) struct WalCounters {
    pub(crate) bytes: AtomicU64,
    pub(crate) write_errors: AtomicU64,
}

enum Command {
    Append(Bytes, oneshot::Sender<io::Result<u64>>),
    /// Close the current segment and start the next; answers the new seq.
    Rotate(oneshot::Sender<io::Result<u64>>),
}

/// A record handed to the WAL thread, not yet known to be durable.
pub(crate) struct Pending(oneshot::Receiver<io::Result<u64>>);

impl Pending {
    /// Waits until the record is durable; answers its segment number.
    pub(crate) async fn durable(self) -> io::Result<u64> {
        self.0
            .await
            .map_err(|_| io::Error::other("WAL thread stopped"))?
    }
}

/// Handle to the WAL thread.
pub(crate) struct Wal {
    tx: parking_lot::Mutex<Option<mpsc::Sender<Command>>>,
    thread: parking_lot::Mutex<Option<std::thread::JoinHandle<()>>>,
    dir: PathBuf,
    pub(crate) counters: Arc<WalCounters>,
}

fn segment_path(dir: &Path, seq: u64) -> PathBuf {
    dir.join(format!("{seq:016x}.wal"))
}

/// Segments present, sorted by sequence number.
pub(crate) fn list_segments(dir: &Path) -> io::Result<Vec<(u64, PathBuf)>> {
    let mut out = Vec::new();
    for entry in fs::read_dir(dir)? {
        let path = entry?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if let Some(hex) = name.strip_suffix(".wal")
            && let Ok(seq) = u64::from_str_radix(hex, 16)
        {
            out.push((seq, path));
        }
    }
    out.sort();
    Ok(out)
}

/// One replayed record.
pub(crate) struct Replayed {
    pub(crate) seq: u64,
    pub(crate) payload: Bytes,
}

/// What replay found.
pub(crate) struct Replay {
    pub(crate) records: Vec<Replayed>,
    /// (segment, offset, bytes dropped) for every truncated tail.
    pub(crate) truncated: Vec<(u64, u64, u64)>,
}

/// What one segment holds: its whole records, and where (if anywhere) a
/// torn or corrupt tail starts.
pub(crate) struct SegmentScan {
    pub(crate) records: Vec<Bytes>,
    /// Length of the valid prefix (header + whole records).
    pub(crate) valid_len: u64,
    /// Total file length.
    pub(crate) file_len: u64,
    /// The file does not start with [`WAL_MAGIC`].
    pub(crate) bad_header: bool,
}

/// Reads a segment without changing it.
pub(crate) fn scan_segment(path: &Path) -> io::Result<SegmentScan> {
    let mut data = Vec::new();
    File::open(path)?.read_to_end(&mut data)?;
    let data = Bytes::from(data);
    let mut out = SegmentScan {
        records: Vec::new(),
        valid_len: 0,
        file_len: data.len() as u64,
        bad_header: true,
    };
    let magic = data.get(..WAL_MAGIC.len());
    if magic != Some(&WAL_MAGIC[..]) && magic != Some(&WAL_MAGIC_V1[..]) {
        return Ok(out);
    }
    out.bad_header = false;
    let mut pos = WAL_MAGIC.len();
    while data.len() - pos >= FRAME_HEADER {
        let len =
            u32::from_le_bytes([data[pos], data[pos + 1], data[pos + 2], data[pos + 3]]) as usize;
        let crc = u32::from_le_bytes([data[pos + 4], data[pos + 5], data[pos + 6], data[pos + 7]]);
        let body = pos + FRAME_HEADER;
        if len > MAX_RECORD || data.len() - body < len {
            break;
        }
        if crc32fast::hash(&data[body..body + len]) != crc {
            break;
        }
        out.records.push(data.slice(body..body + len));
        pos = body + len;
    }
    out.valid_len = pos as u64;
    Ok(out)
}

/// Reads every segment with `seq > skip_through`, truncating torn tails;
/// deletes segments at or below `skip_through` (their records are in blocks).
pub(crate) fn replay(dir: &Path, skip_through: u64) -> io::Result<Replay> {
    let mut out = Replay {
        records: Vec::new(),
        truncated: Vec::new(),
    };
    for (seq, path) in list_segments(dir)? {
        if seq <= skip_through {
            fs::remove_file(&path)?;
            continue;
        }
        let scan = scan_segment(&path)?;
        out.records.extend(
            scan.records
                .into_iter()
                .map(|payload| Replayed { seq, payload }),
        );
        if scan.bad_header || scan.valid_len < scan.file_len {
            out.truncated
                .push((seq, scan.valid_len, scan.file_len - scan.valid_len));
            let mut f = OpenOptions::new().write(true).open(&path)?;
            if scan.bad_header {
                // Not even a header: rewrite one so the segment is valid.
                f.set_len(0)?;
                f.write_all(WAL_MAGIC)?;
            } else {
                f.set_len(scan.valid_len)?;
            }
            f.sync_all()?;
        }
    }
    Ok(out)
}

/// The open segment, owned by the WAL thread.
struct Segment {
    file: File,
    seq: u64,
    /// Bytes known good (header + whole records).
    len: u64,
}

impl Segment {
    fn create(dir: &Path, seq: u64) -> io::Result<Segment> {
        let path = segment_path(dir, seq);
        let mut file = OpenOptions::new()
            .create(true)
            .truncate(true)
            .write(true)
            .open(&path)?;
        file.write_all(WAL_MAGIC)?;
        file.sync_all()?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(Segment {
            file,
            seq,
            len: WAL_MAGIC.len() as u64,
        })
    }
}

impl Wal {
    /// Starts the WAL thread writing a new segment `first_seq`.
    pub(crate) fn start(dir: &Path, first_seq: u64, sync: WalSync) -> io::Result<Wal> {
        fs::create_dir_all(dir)?;
        let counters = Arc::new(WalCounters::default());
        let mut bytes = 0;
        for (_, p) in list_segments(dir)? {
            bytes += fs::metadata(p).map(|m| m.len()).unwrap_or(0);
        }
        let segment = Segment::create(dir, first_seq)?;
        counters.bytes.store(bytes + segment.len, Ordering::Relaxed);
        let (tx, rx) = mpsc::channel();
        let thread_dir = dir.to_path_buf();
        let thread_counters = counters.clone();
        let thread = std::thread::Builder::new()
            .name("clew-wal".into())
            .spawn(move || run(rx, segment, thread_dir, sync, thread_counters))?;
        Ok(Wal {
            tx: parking_lot::Mutex::new(Some(tx)),
            thread: parking_lot::Mutex::new(Some(thread)),
            dir: dir.to_path_buf(),
            counters,
        })
    }

    fn send(&self, cmd: Command) -> io::Result<()> {
        let guard = self.tx.lock();
        let tx = guard
            .as_ref()
            .ok_or_else(|| io::Error::other("WAL closed"))?;
        tx.send(cmd)
            .map_err(|_| io::Error::other("WAL thread stopped"))
    }

    /// Hands one record to the WAL thread now; the returned [`Pending`]
    /// resolves once it is durable under the sync policy, so the caller
    /// can do other work while the write and fsync happen.
    pub(crate) fn submit(&self, payload: Bytes) -> io::Result<Pending> {
        let (ack, rx) = oneshot::channel();
        self.send(Command::Append(payload, ack))?;
        Ok(Pending(rx))
    }

    /// Starts a new segment; returns its sequence number. Every record
    /// acknowledged before this call is in a segment with a lower number.
    pub(crate) async fn rotate(&self) -> io::Result<u64> {
        let (ack, rx) = oneshot::channel();
        self.send(Command::Rotate(ack))?;
        rx.await
            .map_err(|_| io::Error::other("WAL thread stopped"))?
    }

    /// Deletes segments whose number is at most `seq`.
    pub(crate) fn delete_through(&self, seq: u64) -> io::Result<()> {
        for (s, path) in list_segments(&self.dir)? {
            if s <= seq {
                let len = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
                fs::remove_file(&path)?;
                let _ =
                    self.counters
                        .bytes
                        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| {
                            Some(b.saturating_sub(len))
                        });
            }
        }
        Ok(())
    }

    /// Stops the thread after it has written everything queued.
    pub(crate) fn close(&self) {
        self.tx.lock().take();
        if let Some(t) = self.thread.lock().take() {
            let _ = t.join();
        }
    }
}

impl Drop for Wal {
    fn drop(&mut self) {
        self.close();
    }
}

fn frame(payload: &[u8], out: &mut Vec<u8>) {
    out.extend_from_slice(&(payload.len() as u32).to_le_bytes());
    out.extend_from_slice(&crc32fast::hash(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

fn run(
    rx: mpsc::Receiver<Command>,
    mut seg: Segment,
    dir: PathBuf,
    sync: WalSync,
    counters: Arc<WalCounters>,
) {
    let mut last_sync = Instant::now();
    let mut dirty = false;
    let mut buf: Vec<u8> = Vec::with_capacity(1 << 20);
    let mut waiting: Vec<oneshot::Sender<io::Result<u64>>> = Vec::new();
    loop {
        let first = match sync {
            WalSync::Interval(d) if dirty => {
                match rx.recv_timeout(d.saturating_sub(last_sync.elapsed())) {
                    Ok(c) => Some(c),
                    Err(mpsc::RecvTimeoutError::Timeout) => None,
                    Err(mpsc::RecvTimeoutError::Disconnected) => break,
                }
            }
            _ => match rx.recv() {
                Ok(c) => Some(c),
                Err(_) => break,
            },
        };
        let mut rotate: Option<oneshot::Sender<io::Result<u64>>> = None;
        let mut next = first;
        // Take everything already queued: one write and one fsync for all.
        while let Some(cmd) = next {
            match cmd {
                Command::Append(payload, ack) => {
                    frame(&payload, &mut buf);
                    waiting.push(ack);
                }
                Command::Rotate(ack) => {
                    rotate = Some(ack);
                    break;
                }
            }
            if buf.len() >= 8 << 20 {
                break;
            }
            next = rx.try_recv().ok();
        }
        let result = write_out(&mut seg, &buf, sync, &mut dirty, &mut last_sync);
        match &result {
            Ok(()) => {
                counters
                    .bytes
                    .fetch_add(buf.len() as u64, Ordering::Relaxed);
            }
            Err(_) => {
                counters
                    .write_errors
                    .fetch_add(waiting.len() as u64, Ordering::Relaxed);
            }
        }
        for ack in waiting.drain(..) {
            let r = match &result {
                Ok(()) => Ok(seg.seq),
                Err(e) => Err(io::Error::new(e.kind(), e.to_string())),
            };
            let _ = ack.send(r);
        }
        buf.clear();
        if buf.capacity() > 16 << 20 {
            buf.shrink_to(1 << 20);
        }
        if let Some(ack) = rotate {
            let r = seal(&mut seg).and_then(|()| Segment::create(&dir, seg.seq + 1));
            let r = r.map(|s| {
                counters.bytes.fetch_add(s.len, Ordering::Relaxed);
                seg = s;
                dirty = false;
                seg.seq
            });
            let _ = ack.send(r);
        }
    }
    let _ = seal(&mut seg);
}

fn seal(seg: &mut Segment) -> io::Result<()> {
    seg.file.sync_all()
}

fn write_out(
    seg: &mut Segment,
    buf: &[u8],
    sync: WalSync,
    dirty: &mut bool,
    last_sync: &mut Instant,
) -> io::Result<()> {
    if !buf.is_empty() {
        if let Err(e) = seg.file.write_all(buf) {
            // Cut back to the last whole record so later records are not
            // hidden behind a torn one.
            let _ = seg.file.set_len(seg.len);
            let _ = seek_end(&mut seg.file);
            return Err(e);
        }
        seg.len += buf.len() as u64;
        *dirty = true;
    }
    let due = match sync {
        WalSync::Always => *dirty,
        WalSync::Interval(d) => *dirty && last_sync.elapsed() >= d,
        WalSync::Never => false,
    };
    if due {
        if let Err(e) = seg.file.sync_data() {
            seg.len -= buf.len() as u64;
            let _ = seg.file.set_len(seg.len);
            let _ = seek_end(&mut seg.file);
            return Err(e);
        }
        *dirty = false;
        *last_sync = Instant::now();
    }
    Ok(())
}

fn seek_end(f: &mut File) -> io::Result<u64> {
    use std::io::Seek;
    f.seek(io::SeekFrom::End(0))
}
