//! Issue 7's probes, small and fast: hostile bodies against the real binary.
//! Each asserts the status, the counter on `/metrics`, that health still
//! answers, and a memory ceiling read from `/proc/{pid}/status` — never a
//! timing. The full-size probes live in `tools/clew-torture` (docs/reliability.md).

use std::io::Write;

use flate2::Compression;
use flate2::write::GzEncoder;

use crate::harness::Clew;

/// Peak RSS allowed for the whole process through these probes. Without the
/// budget the first probe alone took 11.5 GB.
const RSS_CEILING: u64 = 600 << 20;

fn post(url: &str, content_type: &str, encoding: Option<&str>, body: Vec<u8>) -> (u16, String) {
    let client = reqwest::blocking::Client::new();
    let mut req = client
        .post(url)
        .header("Content-Type", content_type)
        .body(body);
    if let Some(e) = encoding {
        req = req.header("Content-Encoding", e);
    }
    let resp = req.send().expect("POST");
    let status = resp.status().as_u16();
    (status, resp.text().unwrap_or_default())
}

fn metric(clew: &Clew, prefix: &str) -> f64 {
    let text = reqwest::blocking::get(clew.url("admin_http", "/metrics"))
        .expect("GET /metrics")
        .text()
        .expect("metrics text");
    text.lines()
        .filter(|l| l.starts_with(prefix))
        .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

fn healthy(clew: &Clew) -> bool {
    reqwest::blocking::get(clew.url("admin_http", "/")).is_ok_and(|r| r.status().is_success())
}

/// Binary-protocol list header of `n` structs followed by `n` stop bytes.
fn empty_struct_list(n: u32) -> Vec<u8> {
    let mut b = vec![0x0c];
    b.extend_from_slice(&n.to_be_bytes());
    b.resize(b.len() + n as usize, 0);
    b
}

#[test]
fn amplifying_bodies_are_refused_and_memory_stays_bounded() {
    let clew = Clew::start(&["--store", "memory"]);

    // Zipkin v1 thrift: 8 M empty span structs in 8 MB.
    let (status, text) = post(
        &clew.url("zipkin_http", "/api/v1/spans"),
        "application/x-thrift",
        None,
        empty_struct_list(8_000_000),
    );
    assert_eq!(status, 413, "{text}");
    assert!(text.contains("\"error\""), "a JSON error body: {text}");

    // Jaeger collector: a Batch with 5 M empty spans.
    let mut batch = vec![0x0c, 0x00, 0x01, 0x0b, 0x00, 0x01, 0, 0, 0, 1, b's', 0x00];
    batch.extend_from_slice(&[0x0f, 0x00, 0x02]);
    batch.extend_from_slice(&empty_struct_list(5_000_000));
    batch.push(0);
    let (status, text) = post(
        &clew.url("collector_http", "/api/traces"),
        "application/x-thrift",
        None,
        batch,
    );
    assert_eq!(status, 413, "{text}");

    // OTLP protobuf: 300 k empty spans in 600 KB.
    let spans: Vec<u8> = [0x12, 0x00].repeat(300_000);
    let mut scope_spans = vec![0x12];
    prost::encoding::encode_varint(spans.len() as u64, &mut scope_spans);
    scope_spans.extend_from_slice(&spans);
    let mut req = vec![0x0a];
    prost::encoding::encode_varint(scope_spans.len() as u64, &mut req);
    req.extend_from_slice(&scope_spans);
    let (status, _) = post(
        &clew.url("otlp_http", "/v1/traces"),
        "application/x-protobuf",
        None,
        req,
    );
    assert_eq!(status, 413);

    // Zipkin v2 JSON: 200 k empty objects.
    let json = format!("[{}]", vec!["{}"; 200_000].join(","));
    let (status, _) = post(
        &clew.url("zipkin_http", "/api/v2/spans"),
        "application/json",
        None,
        json.into_bytes(),
    );
    assert_eq!(status, 413);

    // A gzip bomb: 64 MiB of zeros (4× the body limit) in about 64 KB.
    let mut enc = GzEncoder::new(Vec::new(), Compression::best());
    let zeros = vec![0u8; 1 << 20];
    for _ in 0..64 {
        enc.write_all(&zeros).expect("gzip");
    }
    let bomb = enc.finish().expect("gzip");
    assert!(bomb.len() < 1 << 20);
    let (status, text) = post(
        &clew.url("otlp_http", "/v1/traces"),
        "application/x-protobuf",
        Some("gzip"),
        bomb,
    );
    assert_eq!(status, 413, "{text}");

    // An absurd Content-Length is refused before a byte of the body is sent.
    let mut conn = std::net::TcpStream::connect(clew.addr("collector_http")).expect("connect");
    conn.write_all(
        b"POST /api/traces HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-thrift\r\n\
          Content-Length: 1000000000000000000\r\n\r\n",
    )
    .expect("send head");
    let mut head = [0u8; 12];
    std::io::Read::read_exact(&mut conn, &mut head).expect("an answer without the body");
    assert_eq!(&head, b"HTTP/1.1 413", "{}", String::from_utf8_lossy(&head));

    assert!(
        metric(
            &clew,
            "clew_ingest_memory_refused_total{reason=\"too_many_spans\"}"
        ) >= 4.0,
        "refusals are counted"
    );
    assert!(healthy(&clew), "health still answers");
    let (status, _) = clew.get_json("/api/services");
    assert_eq!(status, 200);
    let peak = clew.proc_status_bytes("VmHWM:");
    assert!(peak < RSS_CEILING, "peak RSS {} MB", peak >> 20);
}

#[test]
fn long_names_are_cut_and_evicted_services_leave_the_index() {
    let clew = Clew::start(&["--store", "memory", "--memory-max-spans", "10"]);
    let url = clew.url("zipkin_http", "/api/v2/spans");
    let long = "s".repeat(100_000);
    for i in 0..40u64 {
        let body = format!(
            r#"[{{"traceId":"{:016x}","id":"{:016x}","name":"{long}","localEndpoint":{{"serviceName":"{i}-{long}"}}}}]"#,
            i + 1,
            i + 1
        );
        let (status, text) = post(&url, "application/json", None, body.into_bytes());
        assert_eq!(status, 202, "{text}");
    }
    // Spans are written asynchronously; wait for the last one.
    clew.wait_for_trace(&format!("{:016x}", 40), 1);
    let (_, v) = clew.get_json("/api/services");
    let services = v["data"].as_array().expect("services");
    assert!(services.len() <= 11, "{} services listed", services.len());
    for s in services {
        let name = s.as_str().expect("name");
        assert!(name.len() <= 1024, "service name of {} bytes", name.len());
    }
    assert!(
        metric(
            &clew,
            "clew_span_fields_truncated_total{field=\"service_name\"}"
        ) >= 40.0,
        "truncation is counted"
    );
}
