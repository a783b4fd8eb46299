//! Two build steps:
//!
//! 1. Generates the gRPC service stubs of `jaeger.api_v2.QueryService` and
//!    `jaeger.api_v3.QueryService` (plus api_v3's own messages).
//!
//!    The .proto files live with the codec crate, which owns the api_v2
//!    messages; here every api_v2 type points back at those (`extern_path`)
//!    and OTLP's `TracesData` points at the opentelemetry-proto types
//!    re-exported by clew-codec-otlp, so one Rust type exists per protobuf
//!    type. protox compiles in pure Rust: no `protoc` needed.
//!
//! 2. Embeds the web UI (`ui/`, see `ui/README.md`): see [`ui`] below.

use std::io;

const PROTO_ROOT: &str = "../clew-codec-jaeger/proto";
const PROTOS: &[&str] = &[
    "../clew-codec-jaeger/proto/jaeger/api_v2/query.proto",
    "../clew-codec-jaeger/proto/jaeger/api_v3/query_service.proto",
];

fn main() -> io::Result<()> {
    println!("cargo:rerun-if-changed={PROTO_ROOT}");
    let fds = protox::compile(PROTOS, [PROTO_ROOT]).map_err(io::Error::other)?;
    tonic_prost_build::configure()
        .build_server(true)
        // Clients are generated too: the tests use them, and so can tools.
        .build_client(true)
        .extern_path(".jaeger.api_v2", "::clew_codec_jaeger::api_v2::pb")
        .extern_path(
            ".opentelemetry.proto.trace.v1",
            "::clew_codec_otlp::proto::trace::v1",
        )
        .compile_fds(fds)?;
    ui::embed()
}

/// The web UI, embedded at build time.
///
/// `ui/dist` is the build of `ui/` (never committed). It is used as is when
/// its stamp (`ui/dist/.clew-ui-hash`) matches a hash of the UI's sources;
/// otherwise this script runs `npm ci` (when `node_modules` is missing or
/// older than the lockfile) and `npm run build` itself. Several cargo
/// processes may build at once (separate target dirs), so the whole check
/// and build run under an exclusive file lock (`ui/.clew-build.lock`), Vite
/// writes into a fresh temporary directory, and that directory is renamed
/// into place only when complete. The chosen files are then copied into
/// `OUT_DIR` and embedded from there, with a gzip copy of each.
///
/// `CLEW_SKIP_UI_BUILD=1` (or no npm on the PATH) embeds a one-page
/// placeholder instead, so Rust-only work never waits on Node.
mod ui {
    use std::fmt::Write as _;
    use std::fs::{self, File};
    use std::io::{self, Write as _};
    use std::path::{Path, PathBuf};
    use std::process::Command;

    const UI_DIR: &str = "../../ui";
    /// Inputs of the UI build; a change to any of them rebuilds it.
    const SOURCES: &[&str] = &[
        "src",
        "public",
        "index.html",
        "package.json",
        "package-lock.json",
        "vite.config.ts",
        "tsconfig.json",
    ];
    const STAMP: &str = ".clew-ui-hash";

    const PLACEHOLDER: &str = "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<title>Clew</title></head><body style=\"font-family:system-ui;margin:3rem\"><h1>Clew</h1>\
<p>The web UI was not built into this binary (built with <code>CLEW_SKIP_UI_BUILD=1</code> \
or without npm). Install Node.js 20+ and npm and rebuild, or use the query API at \
<a href=\"api/services\">api/</a>.</p></body></html>\n";

    pub fn embed() -> io::Result<()> {
        let out = PathBuf::from(std::env::var("OUT_DIR").map_err(io::Error::other)?);
        let ui = Path::new(UI_DIR);
        println!("cargo:rerun-if-env-changed=CLEW_SKIP_UI_BUILD");
        for s in SOURCES {
            println!("cargo:rerun-if-changed={UI_DIR}/{s}");
        }
        let dest = out.join("ui");
        if dest.exists() {
            fs::remove_dir_all(&dest)?;
        }
        fs::create_dir_all(&dest)?;
        let skip = std::env::var("CLEW_SKIP_UI_BUILD").is_ok_and(|v| !v.is_empty() && v != "0");
        if !skip {
            // A deleted or rebuilt ui/dist also reruns this script.
            println!("cargo:rerun-if-changed={UI_DIR}/dist/{STAMP}");
        }
        let built = if skip {
            false
        } else if !ui.join("package.json").exists() {
            println!("cargo:warning=ui/ not found; embedding the placeholder page");
            false
        } else {
            build_locked(ui, &dest)?
        };
        if !built {
            fs::write(dest.join("index.html"), PLACEHOLDER)?;
        }
        write_assets(&dest, &out.join("ui_assets.rs"), built)
    }

    /// Returns false (after a warning) when npm is missing.
    fn build_locked(ui: &Path, dest: &Path) -> io::Result<bool> {
        let lock = File::create(ui.join(".clew-build.lock"))?;
        lock.lock()?;
        let hash = format!("{:016x}", source_hash(ui)?);
        let dist = ui.join("dist");
        let fresh = fs::read_to_string(dist.join(STAMP)).is_ok_and(|s| s.trim() == hash);
        if !fresh {
            if Command::new("npm").arg("--version").output().is_err() {
                println!(
                    "cargo:warning=npm not found: the web UI is not embedded (placeholder page). \
                     Install Node.js 20+ with npm and rebuild, or set CLEW_SKIP_UI_BUILD=1 to silence this."
                );
                return Ok(false);
            }
            let lock_hash = format!("{:016x}", fnv(&fs::read(ui.join("package-lock.json"))?));
            let modules_stamp = ui.join("node_modules/.clew-lock-hash");
            if fs::read_to_string(&modules_stamp).is_ok_and(|s| s.trim() == lock_hash) {
                // node_modules matches the lockfile.
            } else {
                run(ui, &["ci", "--no-audit", "--no-fund", "--loglevel=error"])?;
                fs::write(&modules_stamp, &lock_hash)?;
            }
            let tmp = ui.join(format!(".dist-tmp-{}", std::process::id()));
            if tmp.exists() {
                fs::remove_dir_all(&tmp)?;
            }
            let tmp_arg = tmp
                .file_name()
                .and_then(|n| n.to_str())
                .unwrap_or("dist-tmp");
            run(
                ui,
                &["run", "build", "--", "--outDir", tmp_arg, "--emptyOutDir"],
            )?;
            fs::write(tmp.join(STAMP), &hash)?;
            if dist.exists() {
                fs::remove_dir_all(&dist)?;
            }
            fs::rename(&tmp, &dist)?;
        }
        copy_dir(&dist, dest)?;
        drop(lock);
        Ok(true)
    }

    fn run(ui: &Path, args: &[&str]) -> io::Result<()> {
        println!("cargo:warning=building the web UI: npm {}", args.join(" "));
        let out = Command::new("npm").args(args).current_dir(ui).output()?;
        if out.status.success() {
            return Ok(());
        }
        Err(io::Error::other(format!(
            "`npm {}` in ui/ failed ({}).\n--- stdout\n{}\n--- stderr\n{}\n\
             Fix the UI build, or set CLEW_SKIP_UI_BUILD=1 to build Clew with a placeholder page.",
            args.join(" "),
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        )))
    }

    /// FNV-1a over every source file's relative path and bytes, in sorted order.
    fn source_hash(ui: &Path) -> io::Result<u64> {
        let mut files = Vec::new();
        for s in SOURCES {
            collect(&ui.join(s), &mut files)?;
        }
        files.sort();
        let mut all = Vec::new();
        for f in files {
            all.extend_from_slice(f.to_string_lossy().as_bytes());
            all.push(0);
            all.extend_from_slice(&fs::read(&f)?);
        }
        Ok(fnv(&all))
    }

    fn collect(p: &Path, out: &mut Vec<PathBuf>) -> io::Result<()> {
        if p.is_dir() {
            for e in fs::read_dir(p)? {
                collect(&e?.path(), out)?;
            }
        } else if p.is_file() {
            out.push(p.to_path_buf());
        }
        Ok(())
    }

    fn fnv(bytes: &[u8]) -> u64 {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
        })
    }

    fn copy_dir(from: &Path, to: &Path) -> io::Result<()> {
        fs::create_dir_all(to)?;
        for e in fs::read_dir(from)? {
            let e = e?;
            let target = to.join(e.file_name());
            if e.file_type()?.is_dir() {
                copy_dir(&e.path(), &target)?;
            } else {
                fs::copy(e.path(), target)?;
            }
        }
        Ok(())
    }

    fn mime(path: &str) -> &'static str {
        match path.rsplit('.').next().unwrap_or("") {
            "html" => "text/html; charset=utf-8",
            "js" | "mjs" => "text/javascript; charset=utf-8",
            "css" => "text/css; charset=utf-8",
            "svg" => "image/svg+xml",
            "png" => "image/png",
            "ico" => "image/x-icon",
            "json" | "map" => "application/json",
            "woff2" => "font/woff2",
            "txt" => "text/plain; charset=utf-8",
            _ => "application/octet-stream",
        }
    }

    /// Writes `ui_assets.rs`: `BUILT` and `ASSETS: &[(path, mime, bytes, gzip)]`.
    fn write_assets(dir: &Path, rs: &Path, built: bool) -> io::Result<()> {
        let mut files = Vec::new();
        collect(dir, &mut files)?;
        files.sort();
        let mut code = String::new();
        writeln!(
            code,
            "/// Whether the real UI (not the placeholder) is embedded."
        )
        .ok();
        writeln!(code, "pub const BUILT: bool = {built};").ok();
        writeln!(
            code,
            "/// Every UI file: path, content type, bytes, gzipped bytes."
        )
        .ok();
        writeln!(
            code,
            "pub static ASSETS: &[(&str, &str, &[u8], &[u8])] = &["
        )
        .ok();
        for f in files {
            let rel = f.strip_prefix(dir).map_err(io::Error::other)?;
            let rel = rel.to_string_lossy().replace('\\', "/");
            if rel.starts_with('.') {
                continue;
            }
            let gz = f.with_file_name(format!(
                "{}.clewgz",
                f.file_name().and_then(|n| n.to_str()).unwrap_or("f")
            ));
            let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
            enc.write_all(&fs::read(&f)?)?;
            fs::write(&gz, enc.finish()?)?;
            writeln!(
                code,
                "    ({rel:?}, {:?}, include_bytes!({:?}), include_bytes!({:?})),",
                mime(&rel),
                f.display().to_string(),
                gz.display().to_string()
            )
            .ok();
        }
        writeln!(code, "];").ok();
        fs::write(rs, code)
    }
}
